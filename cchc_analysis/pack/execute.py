"""Execute the notebooks: papermill's Python API in worker processes, each page rendered by the worker that ran it.

Kernel ``python3`` is resolved to this Python by a kernelspec written under the build cache. Each worker keeps one
kernel for all its notebooks (``Kernel``: a fresh namespace for each), on a private IPC socket (no TCP port
collisions), with start and execution timeouts and no cell timings. Every notebook is tried; failures come back as
results naming the cell, never as exceptions.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cchc_analysis.concurrency import exit_with
from cchc_analysis.pack.cache import KERNEL_NAME, cached_notebook
from cchc_analysis.pack.plan import Job

SOURCE_DATE_EPOCH = "1577836800"  # 2020-01-01: fixed dates inside the Excel file and any PDF metadata


@dataclass
class Result:
    name: str
    ok: bool
    seconds: float = 0.0
    cached: bool = False
    path: str = ""
    error: str = ""
    where: str = ""           # the district and the page, as an error names them


def build_environment(cache: Path) -> dict[str, str]:
    """Environment for workers and kernels: every HOME-ish directory inside the build cache, fixed seeds/dates."""
    cache = cache.resolve()
    env = {
        "IPYTHONDIR": str(cache / "ipython"),
        "MPLCONFIGDIR": str(cache / "matplotlib"),
        "JUPYTER_CONFIG_DIR": str(cache / "jupyter" / "config"),
        "JUPYTER_DATA_DIR": str(cache / "jupyter" / "data"),
        "JUPYTER_RUNTIME_DIR": str(cache / "jupyter" / "runtime"),
        "JUPYTER_PATH": str(cache / "jupyter" / "data"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "XDG_CACHE_HOME": str(cache / "xdg-cache"),
        "PYTHONHASHSEED": "0",
        "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
        "MPLBACKEND": "Agg",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "TZ": "UTC",
    }
    for key in ("IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
                "XDG_CACHE_HOME"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


def ensure_kernelspec(env: dict[str, str]) -> Path:
    """Write the ``python3`` kernelspec pointing at this interpreter, first on JUPYTER_PATH.

    Without it ``python3`` could resolve to a user's or the system's kernelspec and run another Python.
    """
    spec_dir = Path(env["JUPYTER_DATA_DIR"]) / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (cchc build)", "language": "python",
            "metadata": {"debugger": False}}
    text = json.dumps(spec, indent=1)
    target = spec_dir / "kernel.json"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return target


def _init_worker(env: dict[str, str], parent_pid: int | None = None) -> None:
    if parent_pid:
        exit_with(parent_pid)
    os.environ.update(env)
    # jsonschema (under nbformat) imports rfc3987_syntax when installed, which compiles a grammar at import time:
    # 0.7 s per worker for IRI format checks that notebook validation never uses. Make that optional import fail.
    sys.modules.setdefault("rfc3987_syntax", None)
    import logging

    logging.getLogger("papermill").setLevel(logging.WARNING)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    # a worker's kernel lives as long as the worker; multiprocessing runs its finalizers (not atexit) at the end
    from multiprocessing.util import Finalize

    Finalize(KERNEL, KERNEL.stop, exitpriority=10)


def normalise_notebook(nb) -> None:
    """Remove what differs between two executions of the same notebook: timings, paths, random ids."""
    params = nb.metadata.get("papermill", {}).get("parameters", {})
    nb.metadata["papermill"] = {"parameters": {k: v for k, v in params.items() if k != "data_dir"}}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            out.get("metadata", {}).pop("execution", None)
            if "transient" in out:
                del out["transient"]


class Kernel:
    """This process's kernel, kept from one notebook to the next: a kernel start and the imports of pandas,
    matplotlib and the package are paid once per worker instead of once per notebook (they are most of a
    notebook's time). Before each notebook the user namespace is cleared, the execution counter set back to 1 and
    the working folder set, so a notebook runs as in a fresh kernel; after a failure the kernel is replaced."""

    def __init__(self) -> None:
        self.km = None
        self.sock_dir = ""

    def for_notebook(self, cwd: str, timeout: int):
        """A kernel manager for the next notebook: the running kernel made fresh, or a new one (not started yet:
        papermill starts it)."""
        if self.km is not None and self.km.has_kernel and self._reset(cwd, timeout):
            return self.km
        self.stop()
        from jupyter_client.manager import KernelManager

        runtime = os.environ.get("JUPYTER_RUNTIME_DIR") or tempfile.gettempdir()
        self.sock_dir = tempfile.mkdtemp(prefix="k", dir=runtime)  # short path: unix sockets hold 107 bytes at most
        self.km = KernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=os.path.join(self.sock_dir, "s"))
        return self.km

    def _reset(self, cwd: str, timeout: int) -> bool:
        code = ("get_ipython().reset(new_session=False)\nget_ipython().execution_count = 1\n"
                f"__import__('os').chdir({cwd!r})")
        kc = self.km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=timeout)
            reply = kc.execute_interactive(code, store_history=False, timeout=timeout, output_hook=lambda msg: None)
            return reply["content"]["status"] == "ok"
        except (RuntimeError, TimeoutError):  # the kernel died or hangs: the caller starts a new one
            return False
        finally:
            kc.stop_channels()

    def stop(self) -> None:
        """Shut the kernel down at once (nbclient does not shut down a kernel manager it was given)."""
        if self.km is not None:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
            self.km.cleanup_resources()
            self.km = None
        if self.sock_dir:
            shutil.rmtree(self.sock_dir, ignore_errors=True)
            self.sock_dir = ""


KERNEL = Kernel()


def execute_job(job: Job, out_path: str, failed_dir: str, start_timeout: int, execution_timeout: int,
                render_spec: dict | None = None) -> Result:
    """Run one notebook in this (worker) process's kernel, then render its page (in parallel with the other
    workers). Never raises: a failure comes back as a Result."""
    t0 = time.perf_counter()
    error = ""
    for _attempt in range(2):  # a second try only for a kernel that did not start
        nb, error, retry = _run(job, start_timeout, execution_timeout, failed_dir)
        if nb is not None:
            _write(nb, job, out_path, render_spec)
            return Result(job.id, True, time.perf_counter() - t0, path=out_path, where=job.where)
        KERNEL.stop()
        if not retry:
            break
    return Result(job.id, False, time.perf_counter() - t0, error=error, where=job.where)


def _run(job: Job, start_timeout: int, execution_timeout: int, failed_dir: str):
    """(executed notebook, "", False), or (None, the error, whether to try again with a new kernel)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    cwd = str(Path(job.notebook).parent)
    try:
        nb = pm.execute_notebook(
            job.notebook, None, parameters=job.parameters, kernel_name=KERNEL_NAME, language="python",
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            start_timeout=start_timeout, execution_timeout=execution_timeout, cwd=cwd,
            km=KERNEL.for_notebook(cwd, start_timeout), shutdown_kernel="immediate", record_timing=False,
            extra_arguments=["--HistoryManager.enabled=False"])
    except PapermillExecutionError as exc:
        _save_failed(job, failed_dir, exc)
        return None, f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}", False
    except Exception as exc:  # kernel start, timeout, a missing notebook...
        error = f"{type(exc).__name__}: {exc}".strip()
        return None, error, any(s in error for s in ("didn't respond", "Address already in use", "Kernel died"))
    return nb, "", False


def _write(nb, job: Job, out_path: str, render_spec: dict | None) -> None:
    import nbformat

    normalise_notebook(nb)
    tmp = out_path + ".tmp"
    nbformat.write(nb, tmp)
    os.replace(tmp, out_path)
    if render_spec is not None:
        from cchc_analysis.pack.render import render_one

        try:
            render_one(nb, job.name, out_path, render_spec)
        except Exception:  # noqa: BLE001 - the main process renders it again and reports the error
            pass


def _save_failed(job: Job, failed_dir: str, exc) -> None:
    """Keep the failed notebook for debugging (never published)."""
    Path(failed_dir).mkdir(parents=True, exist_ok=True)
    (Path(failed_dir) / f"{job.id.replace('/', '--')}.txt").write_text(str(exc), encoding="utf-8")


@dataclass
class Finisher:
    """Work on a pack once its pages ran (its PDF, its index page): ``fn(payload, {page name: executed notebook})``
    in a worker, a module-level function so that it can be sent there. ``needs``: the ids of its jobs."""
    name: str
    needs: list[str]
    fn: object
    payload: dict


def execute_jobs(planned: list[tuple[Job, dict | None]], cache_dir: Path, env: dict[str, str], n_jobs: int,
                 start_timeout: int, execution_timeout: int, progress, finishers: list[Finisher] = (),
                 while_waiting=lambda: None) -> tuple[list[Result], list[Result]]:
    """Execute the jobs whose cached notebook is missing (each with its render spec), then each finisher whose jobs
    all succeeded, as soon as they did; progress(result, done, total) after each job. Returns (job results in plan
    order, finisher results).

    ``while_waiting()`` runs in this process while the workers execute (work that needs no notebook).
    """
    jobs = [job for job, _ in planned]
    results = [Result(job.id, True, 0.0, cached=True, path=str(cached_notebook(cache_dir, job)), where=job.where)
               for job in jobs if cached_notebook(cache_dir, job).exists()]
    todo = [(job, str(cached_notebook(cache_dir, job)), spec) for job, spec in planned
            if not cached_notebook(cache_dir, job).exists()]
    for r in results:
        progress(r, len(results), len(jobs))
    for _, target, _ in todo:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    run = _Run(results, list(finishers), (str(cache_dir.parent / "failed"), start_timeout, execution_timeout),
               lambda r: progress(r, len(results), len(jobs)))
    if len(todo) + len(finishers) > 1 and n_jobs > 1:
        run.in_workers(todo, env, n_jobs, while_waiting)
    else:
        run.here(todo, env, while_waiting)
    _drop_stale(cache_dir, jobs, results)
    order = {j.id: i for i, j in enumerate(jobs)}
    return sorted(results, key=lambda r: order[r.name]), run.finished


class _Run:
    """The jobs of one build and the finishers waiting on them."""

    def __init__(self, results: list[Result], finishers: list[Finisher], args: tuple, progress):
        self.results, self.waiting, self.args, self.progress = results, finishers, args, progress
        self.finished: list[Result] = []

    def ready(self) -> list[Finisher]:
        """The finishers whose jobs have all succeeded (taken off the waiting list)."""
        ok = {r.name: r.path for r in self.results if r.ok}
        go = [f for f in self.waiting if all(n in ok for n in f.needs)]
        self.waiting = [f for f in self.waiting if f not in go]
        for f in go:
            f.payload = dict(f.payload, notebooks={n.rsplit("/", 1)[-1]: ok[n] for n in f.needs})
        return go

    def here(self, todo: list, env: dict[str, str], while_waiting) -> None:
        _init_worker(env)
        try:
            for job, target, spec in todo:
                self.results.append(execute_job(job, target, *self.args, spec))
                self.progress(self.results[-1])
        finally:
            KERNEL.stop()
        while_waiting()
        for f in self.ready():
            self.finished.append(run_finisher(f.name, f.fn, f.payload))

    def in_workers(self, todo: list, env: dict[str, str], n_jobs: int, while_waiting) -> None:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        ctx = multiprocessing.get_context("forkserver" if sys.platform != "win32" else "spawn")
        workers = max(1, min(n_jobs, len(todo) + len(self.waiting)))
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(env, os.getpid())) as pool:
            futures = {pool.submit(execute_job, job, target, *self.args, spec): job for job, target, spec in todo}
            futures.update({pool.submit(run_finisher, f.name, f.fn, f.payload): f for f in self.ready()})
            while_waiting()
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for fut in done:
                    self._collect(fut, futures.pop(fut))
                futures.update({pool.submit(run_finisher, f.name, f.fn, f.payload): f for f in self.ready()})

    def _collect(self, fut, item) -> None:
        try:
            r = fut.result()
        except Exception as exc:  # the worker died
            r = Result(item.id if isinstance(item, Job) else item.name, False, error=f"{type(exc).__name__}: {exc}",
                       where=item.where if isinstance(item, Job) else item.name)
        if isinstance(item, Job):
            self.results.append(r)
            self.progress(r)
        else:
            self.finished.append(r)


def run_finisher(name: str, fn, payload: dict) -> Result:
    """Run a finisher; never raises: a failure comes back as a Result naming the pack and the error."""
    t0 = time.perf_counter()
    try:
        fn(payload)
    except Exception as exc:  # noqa: BLE001 - reported, nothing published
        return Result(name, False, time.perf_counter() - t0, error=f"{type(exc).__name__}: {exc}", where=name)
    return Result(name, True, time.perf_counter() - t0, where=name)


def _drop_stale(cache_dir: Path, jobs: list[Job], results: list[Result]) -> None:
    """Remove the cached runs (and their pages) of these jobs that this build did not use."""
    keep = {r.path for r in results if r.ok}
    for job in jobs:
        folder = cached_notebook(cache_dir, job).parent
        for p in folder.glob(f"{job.name}-*.ipynb"):
            if str(p) not in keep and p.name.rsplit("-", 1)[0] == job.name:
                p.unlink(missing_ok=True)
                for h in folder.glob(p.name[:-6] + ".*.html"):
                    h.unlink(missing_ok=True)
