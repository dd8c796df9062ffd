"""Execute the notebooks: papermill's Python API in worker processes, each page rendered by the worker that ran it.

Kernel ``python3`` is resolved to this Python by a kernelspec written under the build cache; every kernel gets a
private IPC socket (no TCP port collisions), start and execution timeouts, ``shutdown_kernel="immediate"`` and no
cell timings. Every notebook is tried; failures come back as results naming the cell, never as exceptions.
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


def _init_worker(env: dict[str, str]) -> None:
    os.environ.update(env)
    # jsonschema (under nbformat) imports rfc3987_syntax when installed, which compiles a grammar at import time:
    # 0.7 s per worker for IRI format checks that notebook validation never uses. Make that optional import fail.
    sys.modules.setdefault("rfc3987_syntax", None)
    import logging

    logging.getLogger("papermill").setLevel(logging.WARNING)
    logging.getLogger("traitlets").setLevel(logging.ERROR)


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


def execute_job(job: Job, out_path: str, failed_dir: str, start_timeout: int, execution_timeout: int,
                render_spec: dict | None = None) -> Result:
    """Run one notebook in this (worker) process, then render its page (in parallel with the other workers).

    Never raises: a failure comes back as a Result.
    """
    import nbformat
    import papermill as pm
    from jupyter_client.manager import KernelManager
    from papermill.exceptions import PapermillExecutionError

    t0 = time.perf_counter()
    runtime = os.environ.get("JUPYTER_RUNTIME_DIR") or tempfile.gettempdir()
    last_error = ""
    for attempt in range(2):  # a second try only for a kernel that did not start
        sock_dir = tempfile.mkdtemp(prefix="k", dir=runtime)  # short path: unix sockets are limited to 107 bytes
        km = KernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=os.path.join(sock_dir, "s"))
        try:
            nb = pm.execute_notebook(
                job.notebook, None, parameters=job.parameters, kernel_name=KERNEL_NAME, language="python",
                progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                start_timeout=start_timeout, execution_timeout=execution_timeout,
                cwd=str(Path(job.notebook).parent), km=km, shutdown_kernel="immediate", record_timing=False,
                extra_arguments=["--HistoryManager.enabled=False"])
        except PapermillExecutionError as exc:
            last_error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
            _save_failed(job, failed_dir, exc)
            break
        except Exception as exc:  # kernel start, timeout, a missing notebook...
            last_error = f"{type(exc).__name__}: {exc}".strip()
            if "didn't respond" in last_error or "Address already in use" in last_error or "Kernel died" in last_error:
                continue
            break
        else:
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
            return Result(job.name, True, time.perf_counter() - t0, path=out_path)
        finally:
            # nbclient does not shut down a kernel manager it was given: do it here, at once
            try:
                if km.has_kernel:
                    km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - the kernel may already be gone
                pass
            km.cleanup_resources()
            shutil.rmtree(sock_dir, ignore_errors=True)
    return Result(job.name, False, time.perf_counter() - t0, error=last_error)


def _save_failed(job: Job, failed_dir: str, exc) -> None:
    """Keep the failed notebook for debugging (never published)."""
    Path(failed_dir).mkdir(parents=True, exist_ok=True)
    (Path(failed_dir) / f"{job.name}.txt").write_text(str(exc), encoding="utf-8")


def execute_jobs(jobs: list[Job], cache_dir: Path, env: dict[str, str], n_jobs: int, start_timeout: int,
                 execution_timeout: int, progress, render_spec: dict | None = None,
                 while_waiting=None) -> list[Result]:
    """Execute the jobs whose cached notebook is missing; progress(result, done, total) after each one.

    ``while_waiting()`` runs in this process while the workers execute (work that needs no notebook).
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    import multiprocessing

    results: list[Result] = []
    todo = []
    for job in jobs:
        target = cached_notebook(cache_dir, job)
        if target.exists():
            results.append(Result(job.name, True, 0.0, cached=True, path=str(target)))
        else:
            todo.append((job, target))
    total = len(jobs)
    for r in results:
        progress(r, len(results), total)
    if not todo:
        if while_waiting:
            while_waiting()
        return results
    failed_dir = str(cache_dir.parent / "failed")
    if n_jobs <= 1 or len(todo) == 1:
        _init_worker(env)
        for job, target in todo:
            r = execute_job(job, str(target), failed_dir, start_timeout, execution_timeout, render_spec)
            results.append(r)
            progress(r, len(results), total)
        if while_waiting:
            while_waiting()
    else:
        ctx = multiprocessing.get_context("forkserver" if sys.platform != "win32" else "spawn")
        with ProcessPoolExecutor(max_workers=min(n_jobs, len(todo)), mp_context=ctx, initializer=_init_worker,
                                 initargs=(env,)) as pool:
            futures = {pool.submit(execute_job, job, str(target), failed_dir, start_timeout, execution_timeout,
                                   render_spec): job
                       for job, target in todo}
            if while_waiting:
                while_waiting()
            for fut in as_completed(futures):
                try:
                    r = fut.result()
                except Exception as exc:  # the worker died
                    r = Result(futures[fut].name, False, error=f"{type(exc).__name__}: {exc}")
                results.append(r)
                progress(r, len(results), total)
    # drop stale cache entries of these jobs
    keep = {Path(r.path).name for r in results if r.ok}
    names = {j.name for j in jobs}
    for p in cache_dir.glob("*.ipynb"):
        stem = p.name.rsplit("-", 1)[0]
        if stem in names and p.name not in keep:
            p.unlink(missing_ok=True)
            for h in cache_dir.glob(p.name[:-6] + ".*.html"):
                h.unlink(missing_ok=True)
    order = {j.name: i for i, j in enumerate(jobs)}
    return sorted(results, key=lambda r: order[r.name])


