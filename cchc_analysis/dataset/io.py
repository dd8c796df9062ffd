"""Reading the processed dataset back (notebooks, the site builder, researchers) with the registry's dtypes, and
writing it (atomically). Imports neither the parser nor pandera: a notebook kernel loads it in a blink."""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import orjson
import pandas as pd

from cchc_analysis.dataset.copier import plan_part, write_files
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.dataset.package import WORKBOOK, WORKBOOK_TABLES, formatted_as, write_datapackage, write_workbook
from cchc_analysis.dataset.schema import CSV_TABLES, REQUIRED_TABLES, TABLES, Field, Table, check_columns, csv_header
from cchc_analysis.errors import CchcError


def load_dataset(directory: str | Path = "data/processed", tables: tuple[str, ...] | None = None,
                 columns: dict[str, list[str]] | None = None) -> Dataset:
    """Load what ``cchc parse`` wrote, with the dtypes of the schema registry whoever asks.

    ``tables``: the tables wanted (names of ``schema.TABLES``; default every one present, the four of
    ``REQUIRED_TABLES`` at least); ``columns``: for some of them, only these columns. Observations are read from
    Parquet when it is there (several times faster than the CSV, same content). A clear error if a file is missing.
    """
    directory = Path(directory)
    wanted = tables or tuple(TABLES)
    needed = tables or REQUIRED_TABLES
    missing = [TABLES[name].file for name in needed if not (directory / TABLES[name].file).exists()]
    if missing:
        raise CchcError(f"no processed dataset here (missing {', '.join(missing)}); run `cchc parse` first",
                        file=directory)
    loaded = {TABLES[name].dataset_attribute: _read(TABLES[name], directory, (columns or {}).get(name))
              for name in wanted if (directory / TABLES[name].file).exists()}
    return Dataset(**loaded, directory=directory)


def _read(table: Table, directory: Path, columns: list[str] | None):
    path = directory / table.file
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    parquet = path.with_suffix(".parquet")
    if table.parquet and parquet.exists():
        return _typed(pd.read_parquet(parquet, columns=columns), table, path)
    return table_from_csv(path, table, path, columns)


def table_from_csv(source, table: Table, where, columns: list[str] | None = None,
                   as_written: bool = False) -> pd.DataFrame:
    """A table's CSV text (a path, or a file object of its bytes) in the registry's dtypes; ``where`` names it in
    an error. ``as_written``: the bytes this package wrote, whose rows end in "\n" only (a carriage return inside a
    text is not quoted by the writer, csv or pandas); else any line ends (a file saved again by a spreadsheet)."""
    # keep_default_na=False: an empty text cell stays "" (not NaN); the other columns are typed below
    frame = pd.read_csv(source, encoding="utf-8", keep_default_na=False, dtype=str, usecols=columns,
                        lineterminator="\n" if as_written else None)
    return _typed(frame, table, where)


def _typed(frame: pd.DataFrame, table: Table, path: Path) -> pd.DataFrame:
    for column in frame.columns:
        try:
            field = table.field(column)
            frame[column] = _cast(frame[column], field)
        except (KeyError, ValueError, TypeError) as exc:
            raise CchcError(f"column {column!r}: {exc}", file=path) from None
    return frame


def _cast(column: pd.Series, field: Field) -> pd.Series:
    if field.type == "boolean":
        unknown = set(column.astype(str)) - {"True", "False", ""}
        if unknown:
            raise ValueError(f"not True or False: {sorted(unknown)[:3]}")
        column = column.map({"True": True, "False": False, "": None, True: True, False: False})
    elif field.type in ("integer", "number"):
        column = pd.to_numeric(column.replace("", None))
    return column.astype(field.dtype)


OUTPUT_FILES = ("datapackage.json", WORKBOOK, *(TABLES[name].file for name in TABLES),
                *(Path(t.file).with_suffix(".parquet").name for t in TABLES.values() if t.parquet))


# -- writing ----------------------------------------------------------------------------------------------------
# A corpus' CSV files are written in pieces of this many rows, side by side in worker processes, then joined: the
# text of a row does not depend on the others, so the bytes are those of one ``to_csv``.
CSV_PIECE_ROWS = 40_000
# Below this many rows in all, worker processes cost more than they save.
PARALLEL_WRITE_ROWS = 30_000
# Threads writing files side by side once the large tables' rows are formatted (mostly waiting on the kernel)
WRITE_THREADS = 4
_JOBS: list = []  # the write jobs of the current write_dataset, inherited by its forked workers


def write_dataset(dataset: Dataset, out_dir: Path, workers: int | None = None,
                  pieces: dict[str, list[tuple]] | None = None,
                  sheets: dict[str, list[tuple]] | None = None) -> list[Path]:
    """Write every table into ``out_dir`` atomically (all files or none). For a corpus, the files are written side
    by side in ``workers`` processes (default: one per core); the bytes do not depend on it. ``pieces``: a table's
    rows already formatted as CSV per report (``dataset.parts.Part.piece``, in the table's row order), used when
    their dtypes and row counts match the table's; the dict is emptied once they are written. ``sheets``: likewise,
    tables' rows as workbook XML (``dataset.package.write_workbook``). A table the dataset does not hold (None) is
    written from its pieces when given. (``DatasetWriter``: the same in steps.)"""
    with DatasetWriter(out_dir, workers, copier=bool(pieces)) as writer:
        writer.use_pieces(pieces or {}, sheets)
        return writer.write(dataset)


class DatasetWriter:
    """``write_dataset`` in steps, so that files are written while the caller still builds the dataset.

    Made first, it starts a process that will copy the pieces' bytes into files (``dataset.copier``: started while
    this process is small, it waits for its plan). ``use_pieces`` hands it the CSV files of the tables whose pieces
    all hold rows of the registry's dtypes, and the JSON of the sections: the kernel copies the cache entries'
    ranges on the other core. ``begin(name, frame)`` begins a table's Parquet file in a thread as soon as its frame
    is built. ``write(dataset)`` checks the files begun against the dataset's tables (their rows, their dtypes: a
    file that does not match is formatted anew; should the copier have failed, its files are written here), writes
    the rest and puts every file in place. Leaving the block removes the staging folder: nothing is left
    half-written, and ``out_dir`` is untouched unless ``write`` finished."""

    def __init__(self, out_dir: Path, workers: int | None = None, copier: bool = True):
        self.out_dir = Path(out_dir)
        self._made_out_dir = not self.out_dir.exists()  # (removed again if nothing is written)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.workers = workers
        self.staging = Path(tempfile.mkdtemp(prefix=".cchc-", dir=self.out_dir))
        self.pieces: dict[str, list[tuple]] = {}
        self.sheets: dict[str, list[tuple]] | None = None
        self._copier = _start_copier() if copier else None
        self._early: list[str] = []
        self._begun: dict[str, tuple] = {}  # table -> (its frame, its Parquet file being written: a future)
        self._threads = None

    def use_pieces(self, pieces: dict[str, list[tuple]], sheets: dict[str, list[tuple]] | None = None) -> None:
        """The tables' rows formatted per district (see ``write_dataset``); the files made of them begun at once."""
        self.pieces, self.sheets = pieces, sheets
        early = [name for name in pieces if name == "sections" and _json_usable(None, pieces[name])
                 or name in CSV_TABLES and _registry_pieces(name, pieces[name])]
        if self._copier is not None and _send_plan(self._copier, [self._plan(name) for name in early]):
            self._early = early

    def _target(self, name: str) -> Path:
        return self.staging / TABLES[name].file

    def _parts(self, name: str) -> list:
        """What the file of ``name`` is made of (``dataset.copier.write_files``)."""
        if name == "sections":
            return _json_parts(self.pieces[name])
        return [csv_header(name)] + [text for _, _, text in self.pieces[name]]

    def _plan(self, name: str) -> list:
        return [str(self._target(name)), list(map(plan_part, self._parts(name)))]

    def _piece_job(self, name: str):
        return lambda: write_files([(self._target(name), self._parts(name))])

    def begin(self, name: str, frame: pd.DataFrame) -> None:
        """Begin the Parquet file of the table ``name`` from ``frame`` while the caller builds the rest; used if
        the dataset given to ``write`` holds this very frame (else written anew)."""
        from concurrent.futures import ThreadPoolExecutor

        if not TABLES[name].parquet:
            return
        self._threads = self._threads or ThreadPoolExecutor(max_workers=WRITE_THREADS)
        parquet = self._target(name).with_suffix(".parquet")
        self._begun[name] = (frame, self._threads.submit(_parquet_job(frame, parquet)))

    def _wait_begun(self) -> None:
        """Wait for the files begun (``begin``): each written, or its error raised here."""
        for _, written in self._begun.values():
            written.result()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc) -> None:
        if self._copier is not None and (self._copier.stdin or (exc[0] and self._copier.poll() is None)):
            self._copier.kill()  # never given its plan, or the dataset could not be written
        self._copied()
        if self._threads is not None:
            self._threads.shutdown(wait=True)
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._made_out_dir and not any(self.out_dir.iterdir()):
            self.out_dir.rmdir()

    def _copied(self) -> set[str]:
        """The tables whose files the copier wrote (none if it failed: they are then written here)."""
        if self._copier is None:
            return set()
        if self._copier.stdin:  # (never given a plan: it ends)
            self._copier.stdin.close()
            self._copier.stdin = None
        self._copier.communicate()  # (its pipes closed once it has ended)
        self._copier, ok = None, self._copier.returncode == 0
        if not ok:
            self._early = []
        return set(self._early)

    def write(self, dataset: Dataset) -> list[Path]:
        """Write ``dataset`` (the pieces' files begun early where they match it) and put every file in place. A
        table the dataset does not hold (None) is written from its pieces when there are some: the caller left its
        frame unbuilt (``dataset.build.assemble``'s ``unframed``)."""
        staging, pieces = self.staging, self.pieces
        frames = {name: getattr(dataset, TABLES[name].dataset_attribute) for name in CSV_TABLES
                  if getattr(dataset, TABLES[name].dataset_attribute) is not None}
        for name, frame in frames.items():
            check_columns(name, frame)
        ready = {name for name in frames if name in pieces and _usable(frames[name], pieces[name])}
        unframed = {name: sum(n for _, n, _ in pieces[name]) for name in CSV_TABLES
                    if name not in frames and name in pieces}
        for name in unframed:
            if not _registry_pieces(name, pieces[name]):
                raise ValueError(f"{name}: no frame, and its pieces are not all of the registry's dtypes")
        ready.update(unframed)
        if _json_usable(dataset.sections, pieces.get("sections")):
            ready.add("sections")
        parquet = {name for name, (frame, _) in self._begun.items() if frame is frames.get(name)}
        for name in self._begun.keys() - parquet:  # (begun from another frame: finished before it is written anew)
            self._begun[name][1].result()
        jobs, parts = _write_jobs(frames, dataset.sections, staging, done=ready, sheets=self.sheets, parquet=parquet,
                                  unframed=unframed)

        def rest_of_ready() -> None:
            """The pieces' files the copier did not write. (A file it wrote that the dataset does not match is not
            in ``ready``: ``jobs`` format it anew and join it after this has waited for the copier.)"""
            for name in ready - self._copied():
                self._piece_job(name)()

        to_format = sum(len(frame) for name, frame in frames.items() if name not in ready)
        if to_format >= PARALLEL_WRITE_ROWS:
            self._copied()  # (no other process writing, no thread of Arrow's, while this one forks its writers)
            self._wait_begun()
            _run_jobs(jobs, self.workers, rest_of_ready)
        else:  # Parquet, the workbook, a few small tables, and waiting for the copier: threads, beside the files begun
            _run_threads(jobs + [rest_of_ready])  # the longest (workbook) first
            self._wait_begun()
        pieces.clear()  # consumed: a corpus' text held no longer than needed
        _join_pieces(parts)
        write_datapackage([name for name in CSV_TABLES if name in frames or name in unframed], staging)
        written = []
        for name in OUTPUT_FILES:
            target = self.out_dir / name
            if (staging / name).exists():
                swap_into_place(staging / name, target)
                written.append(target)
            elif target.exists():
                target.unlink()  # a stale output of an earlier run would no longer match the data
        return written


def _start_copier():
    """``dataset.copier`` started, importing this very package, waiting for its plan; None where no process can be
    started (the files are then written by ``write``)."""
    import subprocess

    import cchc_analysis

    if not sys.executable:  # (an embedding program: no interpreter to start)
        return None
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(cchc_analysis.__file__).resolve().parents[1])]
                                        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    try:
        # (-S: no site-packages, nothing but the standard library and this package, found by PYTHONPATH: a faster
        # start)
        return subprocess.Popen([sys.executable, "-S", "-m", "cchc_analysis.dataset.copier"], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError:
        return None


def _send_plan(copier, plan: list) -> bool:
    """Give the copier its plan (one line of JSON); False if it is gone."""
    try:
        copier.stdin.write(orjson.dumps(plan) + b"\n")
        copier.stdin.close()
    except OSError:
        return False
    finally:
        copier.stdin = None
    return True


def _json_parts(pieces: list[tuple]) -> list:
    """sections.json from its pieces: the bytes of ``json_text(items)``."""
    parts: list = ["[\n"]
    for i, (_, text) in enumerate(piece for piece in pieces if piece[0]):
        parts += ([",\n"] if i else []) + [text]
    return parts + ["\n]\n"]


def _registry_pieces(name: str, pieces: list[tuple]) -> bool:
    """Every piece holding rows was formatted from columns of the registry's dtypes (what a table assembled from
    them has: ``write`` checks it)."""
    return _formatted_from(tuple(TABLES[name].dtypes().values()), pieces)


def _usable(frame: pd.DataFrame, pieces: list[tuple]) -> bool:
    """The pieces hold the table's rows formatted from columns of its dtypes (else the table is formatted anew)."""
    return sum(n for _, n, _ in pieces) == len(frame) and _formatted_from(tuple(map(str, frame.dtypes)), pieces)


def _formatted_from(dtypes: tuple[str, ...], pieces: list[tuple]) -> bool:
    """Every piece holding rows was formatted from columns of ``dtypes`` (``package.formatted_as``), none of them a
    datetime column (such a table's CSV is always formatted whole)."""
    return not any("datetime" in d for d in dtypes) and formatted_as(dtypes, pieces)


def swap_into_place(new: Path, target: Path) -> None:
    """Put ``new`` at ``target`` atomically (a reader sees the old file or the new one, never neither): where the
    old file exists and Linux allows, by exchanging the two (``renameat2(RENAME_EXCHANGE)``; the old one is left at
    ``new``'s name, for its folder's removal), else by ``os.replace``. Why: replacing a file by rename makes ext4
    allocate and start writing the new file's blocks there and then (its guard for programs that never fsync), one
    file after another: a quarter of a 700-district rebuild."""
    if not (target.exists() and _exchange(new, target)):
        os.replace(new, target)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where that cannot be done (another system, filesystem or C library)."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


@functools.cache
def _renameat2():
    if sys.platform != "linux":
        return None
    import ctypes

    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library without it (glibc before 2.28, musl)
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return function


def json_piece(items: list[dict]) -> tuple[int, bytes]:
    """Items of a JSON list, one a line (compact, UTF-8), with their count; joined by ``_json_parts`` into
    ``json_text``'s bytes. One item a line: readable and diffable. Printed by orjson: json's C encoder took about
    0.9 ms a district for its prose sections' 120 KB (a thirtieth of that here), the same text but for the spaces
    after separators."""
    return len(items), b",\n".join([orjson.dumps(item, option=orjson.OPT_NON_STR_KEYS) for item in items])


def json_text(items: list[dict]) -> str:
    """sections.json: a JSON list of the items, one a line."""
    return "[\n" + json_piece(items)[1].decode("utf-8") + "\n]\n"


def _json_usable(items: list[dict] | None, pieces: list[tuple] | None) -> bool:
    """The pieces hold every item (``_json_parts`` then gives the bytes of ``json_text(items)``);
    ``items`` None: the pieces are the items (a dataset built for writing does not decode them)."""
    count = sum(n for n, _ in pieces or ())
    return count > 0 and (items is None or count == len(items))


def _write_jobs(frames: dict[str, pd.DataFrame], sections: list[dict] | None, staging: Path,
                done: set[str] = frozenset(), sheets: dict | None = None, parquet: set[str] = frozenset(),
                unframed: dict[str, int] | None = None) -> tuple[list, dict[Path, list[Path]]]:
    """The files to write as (cost, function) jobs, largest first, and each CSV file's pieces in order (the CSV
    files of ``done`` and the Parquet files of ``parquet`` are written already; the tables of ``unframed`` have no
    frame: their rows (counted) are their pieces, in the workbook ``sheets``)."""
    unframed = unframed or {}
    jobs = []
    pieces: dict[Path, list[Path]] = {}
    for name, frame in frames.items():
        table = TABLES[name]
        target = staging / table.file
        if table.parquet and name not in parquet:
            jobs.append((len(frame) * len(frame.columns) // 4, _parquet_job(frame, target.with_suffix(".parquet"))))
        if name in done:
            continue
        starts = range(0, max(len(frame), 1), CSV_PIECE_ROWS)
        pieces[target] = [target.with_name(f"{target.name}.{i}") for i in range(len(starts))]
        for start, piece in zip(starts, pieces[target]):
            rows = frame.iloc[start:start + CSV_PIECE_ROWS]
            jobs.append((len(rows) * len(frame.columns), _csv_job(rows, piece, start == 0)))
    if sections and "sections" not in done:
        jobs.append((len(sections) * 10, _json_job(sections, staging / TABLES["sections"].file)))
    shown = {name: frames.get(name) for name in CSV_TABLES
             if name in WORKBOOK_TABLES and (name in frames or name in unframed)}
    jobs.append((sum(len(f) * len(f.columns) for f in shown.values() if f is not None) * 4,
                 lambda: write_workbook(shown, staging / WORKBOOK, sheets=sheets, rows=unframed)))
    return [job for _, job in sorted(jobs, key=lambda j: -j[0])], pieces


def _csv_job(frame: pd.DataFrame, path: Path, header: bool):
    return lambda: frame.to_csv(path, index=False, header=header, encoding="utf-8", lineterminator="\n")


def _parquet_job(frame: pd.DataFrame, path: Path):
    return lambda: frame.to_parquet(path, index=False, engine="pyarrow")


def _json_job(sections: list[dict], path: Path):
    return lambda: path.write_text(json_text(sections), encoding="utf-8")


def _run_job(index: int) -> None:
    _JOBS[index]()


def _run_jobs(jobs: list, workers: int | None, meanwhile=lambda: None) -> None:
    """Every job, here or in forked worker processes (which inherit the frames: nothing is pickled), and
    ``meanwhile()`` in this process while they run (the pieces' files: mostly time spent writing, not computing)."""
    import sys

    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if workers == 1 or sys.platform != "linux":
        for job in jobs:
            job()
        meanwhile()
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _JOBS[:] = jobs
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            done = [pool.submit(_run_job, i) for i in range(len(jobs))]
            meanwhile()
            for future in done:
                future.result()
    finally:
        _JOBS.clear()


def _run_threads(jobs: list) -> None:
    """Every job in threads. Why not processes: what is left once the large tables' CSV pieces are ready is Parquet
    (Arrow's threads), compression (zlib releases the GIL) and copying the pieces (the kernel), while forking a
    process holding a corpus' frames slows every system call of this one several times."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), WRITE_THREADS))) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()


def _join_pieces(pieces: dict[Path, list[Path]]) -> None:
    for target, parts in pieces.items():
        if len(parts) == 1:
            parts[0].replace(target)
            continue
        with open(target, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
                part.unlink()
