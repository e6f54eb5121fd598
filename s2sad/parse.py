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
import dis
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

from .errors import ArgumentError, SourceUnavailableError, UnsupportedSyntaxError

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


# A derivative's generated file -> {line in it: (the user's file, the user's line)}: where
# each statement s2sad compiled comes from (emit registers it), so that an error found while
# differentiating a derivative again (grad of grad, hessian) names the user's line.
GENERATED_LINES: dict = {}


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
    bound: str | None = None           # a bound method's `self` / `cls`, bound in `closure`

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

    def user_line(self, lineno):
        """``lineno`` in the user's file: a derivative's line is mapped back (GENERATED_LINES)."""
        return GENERATED_LINES.get(self.filename, {}).get(lineno, (None, lineno))[1]

    def error(self, cls, node, message, hint=None):
        """An error of class ``cls`` located at ``node`` in the user's file."""
        lineno = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        line = None
        if lineno is not None and 0 < lineno <= len(self.lines):
            line = self.lines[lineno - 1]
        if col is not None:
            col += self.col_shift
        origin = GENERATED_LINES.get(self.filename, {}).get(lineno)
        if origin is not None:
            # a derivative being differentiated again: the user's line, and the generated one
            user_file, user_line = origin
            user_lines = linecache.getlines(user_file)
            generated = f"`{line.strip()}` at {self.filename}:{lineno}" if line else f"{self.filename}:{lineno}"
            return cls(f"{message} (in the derivative s2sad wrote for this line: {generated})",
                       filename=user_file, lineno=user_line, col=None,
                       line=user_lines[user_line - 1] if 0 < user_line <= len(user_lines) else None,
                       hint=hint)
        return cls(message, filename=self.filename, lineno=lineno, col=col, line=line, hint=hint)


_NO_SOURCE_HINT = ("define it with `def` in a .py file (or a notebook cell) and pass that "
                   "function; s2sad reads and transforms the source text")


# Decorators that leave the function's mathematics alone: s2sad differentiates the function
# they wrap.  Users may add theirs with :func:`transparent`; keep this list short.
_TRANSPARENT_DECORATORS: list = []
_S2SAD_DECORATORS = ("grad", "value_and_grad", "jacfwd", "jacrev", "hessian")


def transparent(decorator):
    """Declare ``decorator`` transparent: a function it wraps computes the same values as the
    function it returns (a cache, a logger, a registry).  s2sad then differentiates the wrapped
    function's source.  Returns ``decorator``, so it can itself be used as a decorator."""
    if not callable(decorator):
        raise ArgumentError(f"s2sad.transparent needs a decorator (a callable), not {decorator!r}")
    if not any(d is decorator for d in _TRANSPARENT_DECORATORS):
        _TRANSPARENT_DECORATORS.append(decorator)
    return decorator


def _builtin_transparent(value) -> bool:
    import functools
    if value is functools.lru_cache or value is getattr(functools, "cache", None):
        return True
    return getattr(value, "__module__", None) == "s2sad.api" and \
        getattr(value, "__name__", None) in _S2SAD_DECORATORS


def _decorator_value(expr, resolve):
    """The object a decorator expression names (``deco``, ``mod.deco``, ``deco(args)``)."""
    if isinstance(expr, ast.Call):
        expr = expr.func
    if isinstance(expr, ast.Name):
        return resolve(expr.id)
    if isinstance(expr, ast.Attribute):
        base = _decorator_value(expr.value, resolve)
        return None if base is None or isinstance(base, Opaque) else getattr(base, expr.attr, None)
    return None


def _decorator_kinds(parsed: Parsed, node, in_class: bool, static: bool = False) -> list:
    """Check each decorator of ``node``: return, per decorator, "builtin" or "user" (a
    user-declared transparent one); refuse any other at its line.  ``static``: a file the CLI
    reads, whose names are resolved without running it (``s2sad.grad`` is known by name)."""
    kinds = []
    for expr in node.decorator_list:
        value = _decorator_value(expr, lambda n: parsed.resolve(n, None))
        target = expr.func if isinstance(expr, ast.Call) else expr
        if static and isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                and target.value.id == "s2sad" and target.attr in _S2SAD_DECORATORS:
            kinds.append("builtin")
        elif value is not None and not isinstance(value, Opaque) and (
                _builtin_transparent(value) or (in_class and value in (staticmethod, classmethod))):
            kinds.append("builtin")
        elif value is not None and any(d is value for d in _TRANSPARENT_DECORATORS):
            kinds.append("user")
        else:
            raise parsed.error(
                UnsupportedSyntaxError, expr,
                f"{node.name} is decorated with `{ast.unparse(expr)}`: the function that runs is "
                f"what that decorator returned, not the `def` s2sad can read",
                hint="differentiate the undecorated function (define it without the decorator "
                     "and decorate a second name), or, if the decorator does not change the "
                     "values the function computes, declare it with "
                     "`s2sad.transparent(decorator)`")
    return kinds


# Instructions whose kind and argument a function's text fixes, however it was compiled (how a
# global or a method is loaded differs between a file imported and one compiled from an AST).
_TEXT_OPS = frozenset({"BINARY_OP", "COMPARE_OP", "CONTAINS_OP", "IS_OP", "UNARY_NEGATIVE",
                       "UNARY_NOT", "UNARY_INVERT", "LOAD_FAST", "STORE_FAST", "LOAD_CONST",
                       "RETURN_VALUE", "RETURN_CONST", "BINARY_SUBSCR", "STORE_SUBSCR"})


def _local_qualname(value, root: str):
    """A nested class's qualified name (a constant of its body) from the function down: where
    the function itself was defined is not part of its text."""
    marker = root + ".<locals>."
    if isinstance(value, str) and marker in value:
        return value[value.index(marker):]
    return value


def _code_shape(code, root=None):
    """What of a code object its source determines, independent of where it was compiled:
    names (globals, attributes, free variables), constants, nested code, parameters, and the
    operators and local names in order."""
    root = root or code.co_name
    consts = tuple(_code_shape(c, root) if isinstance(c, types.CodeType)
                   else (type(c).__name__, repr(_local_qualname(c, root))) for c in code.co_consts)
    names = frozenset(code.co_names) | frozenset(code.co_freevars)
    nparams = code.co_argcount + code.co_kwonlyargcount + \
        bool(code.co_flags & inspect.CO_VARARGS) + bool(code.co_flags & inspect.CO_VARKEYWORDS)
    ops = tuple((i.opname, f"<code {i.argval.co_name}>" if isinstance(i.argval, types.CodeType)
                 else repr(_local_qualname(i.argval, root)))
                for i in dis.get_instructions(code) if i.opname in _TEXT_OPS)
    return code.co_name, names, consts, code.co_varnames[:nparams], code.co_posonlyargcount, ops


def _recompile(node, code, filename):
    """Compile the parsed ``def`` as the original was: inside a function binding its free
    variables (closures compile to other instructions than globals) and, for a method, inside
    a class of the same name (private names are mangled by class)."""
    bare = ast.FunctionDef(name=node.name, args=node.args, body=node.body, decorator_list=[],
                           returns=None, type_comment=None)
    if hasattr(node, "type_params"):                 # Python 3.12+
        bare.type_params = node.type_params
    ast.copy_location(bare, node)                    # the code object is found by its first line
    stmt = bare
    qualname = code.co_qualname.split(".") if hasattr(code, "co_qualname") else []
    if len(qualname) > 1 and qualname[-2] != "<locals>":
        stmt = ast.copy_location(ast.ClassDef(name=qualname[-2], bases=[], keywords=[], body=[bare],
                                              decorator_list=[]), node)
    free = [ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())], value=ast.Constant(value=None))
            for n in code.co_freevars if n != "__class__"]
    outer = ast.FunctionDef(name="__s2sad_outer__", args=ast.arguments(
        posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=free + [stmt], decorator_list=[], returns=None, type_comment=None)
    ast.copy_location(outer, node)
    module = ast.fix_missing_locations(ast.Module(body=[outer], type_ignores=[]))
    try:
        compiled = compile(module, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, TypeError):     # pragma: no cover
        return None
    todo = [compiled]
    while todo:
        c = todo.pop()
        if c.co_name == code.co_name and c is not compiled and c.co_firstlineno == node.lineno:
            return c
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return None                                      # pragma: no cover


def _check_source_matches(fn, node, filename) -> None:
    """The source read from ``filename`` must be the source ``fn`` was compiled from: a file
    edited since its module was imported would have s2sad differentiate other code."""
    code = fn.__code__
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    problem = None
    if node.name != code.co_name:
        problem = f"the `def` at line {node.lineno} is named {node.name!r}"
    elif first != code.co_firstlineno:
        problem = f"it now starts at line {first}, not {code.co_firstlineno}"
    elif not any(n.startswith("@py") for n in code.co_names):   # pytest rewrote its asserts
        try:
            fresh = _recompile(node, code, filename)
        except RecursionError:                       # a very deep expression: name and line checked
            fresh = None
        if fresh is not None and _code_shape(fresh) != _code_shape(code):
            problem = "its text differs from the code that runs"
    if problem is not None:
        raise SourceUnavailableError(
            f"the source of {fn.__qualname__!r} in {filename} does not match the function that "
            f"runs ({problem}): the file changed after the module was imported. Hint: reload the "
            f"module (importlib.reload, or restart the kernel) so the function and its file agree.")


def _unwrap(fn):
    """Follow ``__wrapped__`` to the function a ``def`` made; return it and the wrappers passed."""
    layers = []
    while hasattr(fn, "__wrapped__") and not hasattr(fn, "_s2sad_wrapped") and len(layers) < 100:
        layers.append(fn)
        fn = fn.__wrapped__
    return fn, layers


def parse_function(fn) -> Parsed:
    """Read and parse the source of the live function ``fn``.

    The function that runs must be the function parsed: a wrapper made by a decorator is
    followed (``__wrapped__``) only through decorators known to be transparent, and the source
    read must match the code object that runs.  A bound method is parsed with ``self`` (or
    ``cls``) bound to its object: see :attr:`Parsed.bound`."""
    bound = None
    if isinstance(fn, types.MethodType):
        bound, fn = fn.__self__, fn.__func__
    given = fn
    fn, layers = _unwrap(fn)
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
    _check_source_matches(fn, node, filename)
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
    qualname = fn.__qualname__.split(".")
    in_class = len(qualname) > 1 and qualname[-2] != "<locals>"
    if in_class:
        _mangle_private_names(node, qualname[-2])
    if layers:
        kinds = _decorator_kinds(parsed, node, in_class)
        import functools
        plain = [w for w in layers if not isinstance(w, functools._lru_cache_wrapper)]
        if not node.decorator_list or len(plain) > kinds.count("user"):
            outer = layers[0]
            raise parsed.error(
                UnsupportedSyntaxError, node,
                f"{getattr(outer, '__qualname__', outer)!r} wraps {fn.__qualname__}: s2sad would "
                f"differentiate the wrapped `def`, not the wrapper that runs",
                hint="pass the function itself, or declare the wrapping decorator with "
                     "`s2sad.transparent(decorator)` if it does not change the values computed")
    node.decorator_list = []
    if bound is not None:
        _bind_first_parameter(parsed, bound, given)
    return parsed


def _mangle_private_names(node, class_name: str) -> None:
    """Inside a class body Python renames ``__name`` to ``_Class__name``; the derivative is
    compiled outside the class, so its source must say what the method's code says."""
    prefix = "_" + class_name.lstrip("_")
    if prefix == "_":
        return

    def mangled(name):
        return prefix + name if name.startswith("__") and not name.endswith("__") else name
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute):
            sub.attr = mangled(sub.attr)
        elif isinstance(sub, ast.Name):
            sub.id = mangled(sub.id)
        elif isinstance(sub, ast.arg):
            sub.arg = mangled(sub.arg)


def _bind_first_parameter(parsed: Parsed, obj, fn) -> None:
    """A bound method: its first parameter (``self`` or ``cls``) becomes a constant bound to
    the object, so the derivative takes the arguments the caller passes."""
    args = parsed.node.args
    if args.posonlyargs:
        first = args.posonlyargs.pop(0)
    elif args.args:
        first = args.args.pop(0)
    else:
        raise parsed.error(UnsupportedSyntaxError, parsed.node,
                           f"the method {fn.__qualname__} takes no parameter for its object",
                           hint="give it a `self` parameter, or make it a staticmethod")
    defaults = args.defaults
    if len(defaults) > len(args.posonlyargs) + len(args.args):
        args.defaults = defaults[1:]
    parsed.closure[first.arg] = obj
    parsed.bound = first.arg


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
    _decorator_kinds(parsed, target, in_class=False, static=True)
    target.decorator_list = []
    return parsed


def parse_static(fn: StaticFunction, namespace: dict) -> Parsed:
    """A function of a file read by the CLI, with the file's namespace."""
    import copy
    node = copy.deepcopy(fn.node)
    parsed = Parsed(node=node, filename=fn.filename, lines=fn.lines, namespace=namespace)
    _decorator_kinds(parsed, node, in_class=False, static=True)
    node.decorator_list = []
    return parsed


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
