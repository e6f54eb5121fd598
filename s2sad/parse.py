"""Stage 1: from a function object (or a file and a name) to its AST and what its names mean.

The result, :class:`Parsed`, holds the ``ast.FunctionDef`` with line numbers
of the real file, the file's lines (for error messages) and a *namespace*: the
values the function's free names refer to.  For a live function the namespace
is its globals, closure cells and builtins.  For the CLI it is built from the
file's own ``import`` statements and top-level definitions, without executing
the file: only NumPy, math and a few standard numeric modules are imported.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import inspect
import linecache
import os
import sys
import textwrap
import tokenize
import types
from dataclasses import dataclass, field

from .errors import SourceUnavailableError, UnsupportedSyntaxError

# Modules the CLI may import to resolve names: numeric libraries, never user code.
SAFE_MODULES = ("numpy", "math", "cmath", "scipy", "operator", "functools")


@dataclass
class StaticFunction:
    """A function defined at the top level of a file read by the CLI (never executed)."""
    name: str
    node: ast.FunctionDef
    filename: str
    lines: list


@dataclass
class Opaque:
    """A name the CLI could not resolve without running code (e.g. ``from mymod import f``)."""
    name: str


@dataclass
class Parsed:
    """A parsed function: its AST, where it came from, and what its free names mean."""
    node: ast.FunctionDef
    filename: str
    lines: list
    namespace: dict
    function: object = None            # the live function, when there is one
    col_shift: int = 0                 # indentation removed by dedent
    closure: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.node.name

    def resolve(self, name: str, default=None):
        """What a free name refers to (a module, a function, a constant ...)."""
        if name in self.closure:
            return self.closure[name]
        if name in self.namespace:
            return self.namespace[name]
        return getattr(builtins, name, default)

    def error(self, cls, node, message, hint=None):
        """An error of class ``cls`` located at ``node`` in the user's file."""
        lineno = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        line = None
        if lineno is not None and 0 < lineno <= len(self.lines):
            line = self.lines[lineno - 1]
        if col is not None:
            col += self.col_shift
        return cls(message, filename=self.filename, lineno=lineno, col=col, line=line, hint=hint)


_NO_SOURCE_HINT = ("define it with `def` in a .py file (or a notebook cell) and pass that "
                   "function; s2sad reads and transforms the source text")


def parse_function(fn) -> Parsed:
    """Read and parse the source of the live function ``fn``."""
    fn = inspect.unwrap(fn, stop=lambda f: hasattr(f, "_s2sad_wrapped"))
    if isinstance(fn, (types.BuiltinFunctionType, types.BuiltinMethodType)) or not hasattr(fn, "__code__"):
        raise SourceUnavailableError(
            f"s2sad cannot read the source of {getattr(fn, '__name__', fn)!r}: it is a builtin or "
            f"not a Python function. Hint: {_NO_SOURCE_HINT}.")
    if fn.__name__ == "<lambda>":
        raise SourceUnavailableError(
            "s2sad cannot differentiate a lambda passed directly: its source is one line of a "
            "larger expression. Hint: write it as a `def` function.")
    try:
        lines, start = inspect.getsourcelines(fn)
        filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            f"s2sad cannot read the source of {fn.__qualname__!r} ({exc}); functions typed into "
            f"the interactive prompt or made by exec() have no source file. Hint: {_NO_SOURCE_HINT}.")
    file_lines = linecache.getlines(filename) or lines
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    col_shift = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    try:
        module = ast.parse(dedented)
    except SyntaxError as exc:
        raise SourceUnavailableError(
            f"s2sad could not parse the source of {fn.__qualname__!r} ({exc.msg}). "
            f"Hint: {_NO_SOURCE_HINT}.")
    node = module.body[0] if module.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise SourceUnavailableError(
            f"the source of {fn.__qualname__!r} is not a `def` statement. Hint: {_NO_SOURCE_HINT}.")
    ast.increment_lineno(module, start - 1)
    closure = {}
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:      # an empty cell: not yet assigned
                pass
    parsed = Parsed(node=node, filename=filename, lines=file_lines, namespace=fn.__globals__,
                    function=fn, col_shift=col_shift, closure=closure)
    if isinstance(node, ast.AsyncFunctionDef):
        raise parsed.error(UnsupportedSyntaxError, node, "async functions cannot be differentiated",
                           hint="make it a plain `def` function")
    node.decorator_list = []
    return parsed


def parse_file(filename: str, name: str) -> Parsed:
    """Parse function ``name`` of ``filename`` without executing the file.

    Names are resolved from the file's own imports (numeric modules only) and
    top-level ``def`` statements; anything else is :class:`Opaque`.
    """
    with tokenize.open(filename) as f:    # a BOM or a PEP 263 coding line, as Python reads it
        text = f.read()
    module = ast.parse(text, filename=filename)
    lines = text.splitlines(keepends=True)
    namespace: dict = {}
    target = None
    for stmt in module.body:
        _bind_top_level(stmt, namespace, filename, lines)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
            target = stmt
    if target is None:
        raise LookupError(f"no function named {name!r} at the top level of {filename}")
    parsed = Parsed(node=target, filename=filename, lines=lines, namespace=namespace)
    if isinstance(target, ast.AsyncFunctionDef):
        raise parsed.error(UnsupportedSyntaxError, target, "async functions cannot be differentiated",
                           hint="make it a plain `def` function")
    target.decorator_list = []
    return parsed


def parse_static(fn: StaticFunction, namespace: dict) -> Parsed:
    """A function of a file read by the CLI, with the file's namespace."""
    import copy
    node = copy.deepcopy(fn.node)
    node.decorator_list = []
    return Parsed(node=node, filename=fn.filename, lines=fn.lines, namespace=namespace)


def parse_any(fn, namespace: dict | None = None) -> Parsed:
    """Parse a live function or a :class:`StaticFunction`."""
    if isinstance(fn, StaticFunction):
        return parse_static(fn, namespace or {})
    return parse_function(fn)


def _user_dirs(filename: str) -> list:
    """Directories a module must not come from: the file's own and the current one."""
    dirs = [os.path.realpath(os.getcwd())]
    if filename:
        dirs.append(os.path.realpath(os.path.dirname(os.path.abspath(filename))))
    return dirs


def _under(path, dirs) -> bool:
    if not path:
        return False
    path = os.path.realpath(path)
    return any(path == d or path.startswith(d.rstrip(os.sep) + os.sep) for d in dirs)


def _safe_import(modname: str, filename: str = ""):
    """Import a numeric library to resolve a name, never a module of the user's: a module
    found in the file's directory or the current one (a local ``numpy.py``) is not run."""
    top = modname.split(".")[0]
    if top not in SAFE_MODULES:
        return None
    dirs = _user_dirs(filename)
    loaded = sys.modules.get(top)
    try:
        if loaded is None:
            spec = importlib.util.find_spec(top)    # locates, does not run
            if spec is None or _under(spec.origin, dirs) or \
                    any(_under(p, dirs) for p in (spec.submodule_search_locations or ())):
                return None
        elif _under(getattr(loaded, "__file__", None), dirs):
            return None
        module = importlib.import_module(modname)
    except (ImportError, ValueError):
        return None
    if _under(getattr(module, "__file__", None), dirs):
        return None
    return module


def _bind_top_level(stmt, namespace, filename, lines):
    """Record what one top-level statement binds, without running it."""
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.asname:
                module = _safe_import(alias.name, filename)
                namespace[alias.asname] = module if module is not None else Opaque(alias.asname)
            else:
                top = alias.name.split(".")[0]
                module = _safe_import(top, filename)
                namespace[top] = module if module is not None else Opaque(top)
    elif isinstance(stmt, ast.ImportFrom):
        module = _safe_import(stmt.module or "", filename) if not stmt.level else None
        for alias in stmt.names:
            bound = alias.asname or alias.name
            value = getattr(module, alias.name, None) if module is not None else None
            if value is None and module is not None:
                value = _safe_import(f"{stmt.module}.{alias.name}", filename)
            namespace[bound] = value if value is not None else Opaque(bound)
    elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        namespace[stmt.name] = StaticFunction(stmt.name, stmt, filename, lines)
    elif isinstance(stmt, ast.ClassDef):
        namespace[stmt.name] = Opaque(stmt.name)
    elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        try:
            value = ast.literal_eval(stmt.value) if stmt.value is not None else None
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            value = None
        for t in targets:
            if isinstance(t, ast.Name):
                namespace[t.id] = value if value is not None else Opaque(t.id)
