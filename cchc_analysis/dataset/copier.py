"""Files joined from texts and byte ranges of other files (cache entries), written by a process of its own:
``python -m cchc_analysis.dataset.copier``, given its plan on its standard input.

Why a process: a corpus' CSV files are thousands of ranges, a read or a kernel copy each. A thread of the writing
process would wait for the interpreter's lock after every one of them, while that process is busy assembling the
corpus tables (measured: several times slower, and the assembly slowed down too). A process copies them on the other
core. It imports nothing but the standard library and ``dataset.blobs``.

The plan is one line of JSON (the writer starts the process early, while it is small, and sends the plan when the
pieces are known; nothing to read: nothing to do): a list of [target path, parts], each part a text (written as
UTF-8) or [path, offset, length] (a range of that file, ``blobs.write_blob``; each file ranges are copied from
opened once: ``blobs.OpenFiles``).
"""

from __future__ import annotations

import json
import sys

from cchc_analysis.dataset.blobs import OpenFiles, Segment, write_blob


def plan_part(part) -> str | list:
    """A piece of a file as the plan holds it (a ``Segment`` or a text)."""
    if isinstance(part, Segment):
        return [part.path, part.offset, part.length]
    return part if isinstance(part, str) else bytes(part).decode("utf-8")


def write_files(plan: list) -> None:
    """Each target file of ``plan`` from its parts (texts, bytes, ``Segment``s or the plan's [path, offset, length])."""
    with OpenFiles() as sources:
        for target, parts in plan:
            with open(target, "wb", buffering=1 << 20) as out:
                for part in parts:
                    write_blob(out, Segment(*part) if isinstance(part, list) else part, sources)


def main() -> int:
    line = sys.stdin.buffer.readline()
    try:
        write_files(json.loads(line) if line.strip() else [])
    except (OSError, ValueError, TypeError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
