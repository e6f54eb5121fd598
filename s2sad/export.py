"""Standalone derivatives: ``s2sad.export(df, path)`` and ``s2sad FILE FUNC -o grad_FUNC.py``.

The module written holds the generated derivative (and the derivatives of the helpers it
calls), the few runtime helpers they use copied from :mod:`s2sad.runtime`, and the imports
of what else they read (NumPy, math, the user's own module for its functions and globals).
It runs where s2sad is not installed.  A header names the source function and s2sad's
version.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import sys
import types

import numpy as np

from . import runtime
from .errors import ArgumentError

__all__ = ["export", "module_text"]

_LITERALS = (int, float, complex, bool, str, bytes, type(None))


def _free_names(source: str) -> tuple[list, list]:
    """The top-level function names of ``source`` and, in order, the names they read but never
    bind (their free names)."""
    tree = ast.parse(source)
    defs = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    free = []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        bound = {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}
        bound |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        for n in ast.walk(fn):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound \
                    and n.id not in defs and n.id not in free:
                free.append(n.id)
    return defs, free


def _runtime_sources(names) -> list:
    """The source of each runtime helper in ``names`` and of the runtime helpers they call."""
    wanted, order = list(names), []
    while wanted:
        name = wanted.pop(0)
        if name in order:
            continue
        order.append(name)
        src = inspect.getsource(getattr(runtime, name))
        _, free = _free_names(src)
        wanted += [n for n in free if isinstance(getattr(runtime, n, None), types.FunctionType)]
    blocks = []
    for name in order:
        obj = getattr(runtime, name)
        if not isinstance(obj, types.FunctionType):
            raise ArgumentError(f"export: the runtime name {name!r} is not a function")
        blocks.append(inspect.getsource(obj).rstrip() + "\n")
    return blocks


def module_text(source: str, resolve, header: str) -> str:
    """The text of a module holding ``source`` (the generated functions).  ``resolve(name)``
    says how a free name is provided: ``("import", line)``, ``("runtime", None)``,
    ``("literal", value)`` or ``("builtin", None)``; it raises ArgumentError for a name that
    cannot be provided."""
    defs, free = _free_names(source)
    imports, runtime_names, literals = [], [], []
    for name in free:
        kind, what = resolve(name)
        if kind == "import" and what not in imports:
            imports.append(what)
        elif kind == "runtime":
            runtime_names.append(name)
        elif kind == "literal":
            literals.append(f"{name} = {what!r}")
    helper_blocks = _runtime_sources(runtime_names) if runtime_names else []
    if helper_blocks and "import numpy as np" not in imports:
        imports.insert(0, "import numpy as np")
    imports.sort(key=lambda line: (line.startswith("from "), line))
    parts = [f'"""{header}\n"""', "\n".join(imports)]
    if literals:
        parts.append("\n".join(literals))
    parts.append(f"__all__ = {[defs[0]]!r}" if defs else "")
    if helper_blocks:
        parts.append("# --- runtime helpers copied from s2sad.runtime ---\n\n\n" + "\n\n".join(helper_blocks))
    parts.append("# --- the derivative ---\n\n\n" + source.strip() + "\n")
    return "\n\n\n".join(p for p in parts if p).replace("\n\n\n\n", "\n\n\n")


def _module_import(name: str, value: types.ModuleType) -> str:
    return f"import {value.__name__}" if name == value.__name__ else f"import {value.__name__} as {name}"


def _resolver(functions, where: str):
    """How each free name of the compiled ``functions`` is provided, from their closures and
    globals."""
    seen, values, module_of = set(), {}, {}
    todo = list(functions)
    while todo:
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        code = fn.__code__
        cells = dict(zip(code.co_freevars, fn.__closure__ or ()))
        for name, cell in cells.items():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            values.setdefault(name, value)
            if isinstance(value, types.FunctionType) and value.__code__.co_filename.startswith("<s2sad-"):
                todo.append(value)
        for name in code.co_names:
            if name in fn.__globals__ and name not in values:
                values[name] = fn.__globals__[name]
                module_of[name] = fn.__globals__.get("__name__")

    def resolve(name):
        if name not in values:
            if hasattr(builtins, name):
                return "builtin", None
            raise ArgumentError(f"export of {where}: the derivative reads {name!r}, which s2sad cannot "
                                f"find")
        value = values[name]
        if getattr(builtins, name, object()) is value:
            return "builtin", None
        if isinstance(value, types.ModuleType):
            return "import", _module_import(name, value)
        if isinstance(value, types.FunctionType) and getattr(runtime, name, None) is value:
            return "runtime", None
        module = module_of.get(name) or getattr(value, "__module__", None)
        if module and module != "__main__" and module in sys.modules and \
                getattr(sys.modules[module], name, None) is value:
            return "import", f"from {module} import {name}"      # a global of its module
        if isinstance(value, _LITERALS) and not isinstance(value, np.generic):
            return "literal", value                             # a closure's number
        owner = getattr(value, "__module__", None)
        qual = getattr(value, "__qualname__", "")
        if owner and owner != "__main__" and "<locals>" not in qual and \
                getattr(sys.modules.get(owner), qual, None) is value:
            return "import", (f"from {owner} import {qual}" if qual == name else
                              f"from {owner} import {qual} as {name}")
        raise ArgumentError(
            f"export of {where}: the derivative reads {name!r} ({type(value).__name__}), which a "
            f"module cannot import" + (" (it lives in __main__)" if module == "__main__" else ""))
    return resolve


def export(derivative, path) -> str:
    """Write ``derivative`` (made by ``s2sad.grad`` or ``value_and_grad``) as a Python module
    at ``path`` that runs without s2sad; returns the module's text.

    The module holds the generated source of the most recent call's specialisation (or the
    general one before any call), as ``s2sad.source`` shows it, with the runtime helpers it
    calls copied in and imports for the rest (NumPy, math, the user's module for its helper
    functions and globals).  The functions return what the generated code returns (a float
    gradient may be a NumPy scalar)."""
    from . import __version__, api
    if not isinstance(derivative, api.Derivative):
        raise ArgumentError(f"export needs a derivative made by s2sad.grad or s2sad.value_and_grad, got "
                            f"{derivative!r}")
    source = derivative.source()
    fn = derivative._last[0]
    fn = getattr(fn, "__s2sad_generated__", fn)
    root = derivative
    while root.inner is not None:
        root = root.inner
    fun = root.fun
    where = f"{getattr(fun, '__module__', '?')}.{getattr(fun, '__qualname__', fun)}"
    if getattr(fun, "__module__", None) == "__main__":
        raise ArgumentError(f"export of {where}: the derivative's module would have to import from "
                            f"__main__; define the function in a module (a file you import)")
    try:
        filename = inspect.getsourcefile(fun)
        line = inspect.getsourcelines(fun)[1]
    except (OSError, TypeError):
        filename, line = "?", "?"
    header = (f"{derivative.kind} of {where} (argnums={derivative.argnums}, "
              f"{'optimized' if derivative.optimize else 'unoptimized'}), from {filename}:{line}.\n\n"
              f"Written by s2sad {__version__} (s2sad.export); it runs without s2sad installed.")
    text = module_text(source, _resolver([fn], where), header)
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)
    return text


def static_resolver(namespace: dict, module: str):
    """For the CLI (nothing runs): a free name is a runtime helper, a module the file imports,
    a builtin, or one of the file's own top-level names, imported from ``module``."""
    def resolve(name):
        value = namespace.get(name)
        if isinstance(value, types.ModuleType):
            return "import", _module_import(name, value)
        if name in namespace:
            return "import", f"from {module} import {name}"
        if isinstance(getattr(runtime, name, None), types.FunctionType):
            return "runtime", None
        if name == "np":
            return "import", "import numpy as np"
        if name == "math":
            return "import", "import math"
        if hasattr(builtins, name):
            return "builtin", None
        raise ArgumentError(f"the derivative reads {name!r}, which is not defined in {module}")
    return resolve
