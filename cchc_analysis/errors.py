"""One error type for everything a user can get wrong: it names the file and, where known, the line or cell."""

from __future__ import annotations

from pathlib import Path


class CchcError(Exception):
    """A problem with an input (report, manifest, parameter, template) that the user must fix.

    The CLI prints it as ``error: FILE:LINE: message`` with no traceback and exits non-zero.
    """

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None,
                 hint: str | None = None):
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.hint = hint
        super().__init__(str(self))

    def __reduce__(self):
        # picklable with its file, line and hint (reports are parsed in worker processes for large corpora)
        return (_restore, (type(self), self.args, self.__dict__.copy()))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        text = where + self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


def _restore(cls, args, state):
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error
