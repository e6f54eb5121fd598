"""The errors s2sad raises.  Every failure a user can cause is one of these.

Each error that points at user code carries the file, line and column, the
offending source line with a caret under the construct, and a hint saying what
to do instead.
"""
from __future__ import annotations


class S2SADError(Exception):
    """Base class of every error s2sad raises on purpose."""


class _LocatedError(S2SADError):
    """An error at a place in the user's source."""

    def __init__(self, message: str, *, filename: str | None = None,
                 lineno: int | None = None, col: int | None = None,
                 line: str | None = None, hint: str | None = None):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.line = line
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.filename is not None and self.lineno is not None:
            where = f"{self.filename}:{self.lineno}"
            if self.col is not None:
                where += f":{self.col + 1}"
            parts.append(f"{where}: {self.message}")
        else:
            parts.append(self.message)
        if self.line is not None:
            text = self.line.rstrip("\n")
            stripped = text.lstrip()
            indent = len(text) - len(stripped)
            parts.append("    " + stripped)
            if self.col is not None and self.col >= indent:
                parts.append("    " + " " * (self.col - indent) + "^")
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class UnsupportedSyntaxError(_LocatedError):
    """A Python construct s2sad cannot differentiate (yet)."""


class MissingRuleError(_LocatedError):
    """A call to a function that has no derivative rule and no readable source."""


class SourceUnavailableError(S2SADError):
    """The function's source cannot be read (lambda, REPL, builtin, C extension)."""


class NotDifferentiableError(_LocatedError):
    """A gradient was asked for something that has none (int/bool argument,
    non-scalar output of ``grad``)."""


class ArgumentError(S2SADError):
    """An argument s2sad cannot differentiate with respect to (a container, a complex number, an
    ndarray subclass, another library's array), or a bad ``argnums``: the message says what to
    pass instead."""


class GeneratedCodeError(S2SADError):
    """An exception raised inside the code s2sad generated for a derivative (not in the user's
    own code): a bug in s2sad or a rule; the message names the function and the generated line."""


class GradientCheckError(S2SADError):
    """``s2sad.check_grads`` found a derivative that disagrees with finite differences: the
    worst mismatch, with the argument, the mode (``"fwd"`` or ``"rev"``), the order, and the
    expected (finite-difference) and computed numbers as attributes."""

    def __init__(self, message: str, *, argnum=None, mode=None, order=None, expected=None, got=None):
        self.argnum = argnum
        self.mode = mode
        self.order = order
        self.expected = expected
        self.got = got
        super().__init__(message)
