"""Stage 6: AST -> Python source text -> a live function.

This is the only module that imports astor.  Where astor is missing or fails,
``ast.unparse`` writes the source instead.  The source is compiled under a
file name that ``linecache`` knows, so tracebacks through a derivative and
``inspect.getsource`` show the generated code; that is also how the
derivative of a derivative is taken.
"""
from __future__ import annotations

import ast
import builtins
import itertools
import linecache
import math
import re

import numpy as np

from . import parse, runtime
from .analysis import pause_gc
from .errors import UnsupportedSyntaxError

try:                                   # pragma: no cover - exercised by the tests both ways
    import astor
except ImportError:                    # pragma: no cover
    astor = None

_COMMENT = re.compile(r"^(\s*)__comment__\((['\"])(.*)\2\)\s*$")
_counter = itertools.count(1)
USE_ASTOR = True


class _SignedConstants(ast.NodeTransformer):
    """``Constant(-2.0)`` -> ``-(2.0)``: a negative number written as a literal
    would bind looser than ``**`` (``-2.0 ** x`` is ``-(2.0 ** x)``)."""

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, (int, float, complex)) and not isinstance(value, bool) \
                and (value.real < 0 or (isinstance(value, float) and str(value).startswith("-"))):
            return ast.copy_location(ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-value)), node)
        return node


def _plain_copy(node):
    """A copy of an AST with its fields and locations only (no attached metadata)."""
    if isinstance(node, list):
        return [_plain_copy(n) for n in node]
    if not isinstance(node, ast.AST):
        return node
    new = type(node)(**{f: _plain_copy(getattr(node, f)) for f in node._fields if hasattr(node, f)})
    for attr in node._attributes:
        if hasattr(node, attr):
            setattr(new, attr, getattr(node, attr))
    return new


def to_source(tree: ast.AST, *, use_astor: bool | None = None) -> str:
    """Python source for ``tree``, comments restored, one statement per line."""
    tree = _SignedConstants().visit(_plain_copy(tree))
    tree = ast.fix_missing_locations(tree)
    if use_astor is None:
        use_astor = USE_ASTOR
    text = None
    if use_astor and astor is not None:
        try:
            text = astor.to_source(tree)
        except Exception:              # astor lags behind new node types: fall back
            text = None
    if text is None:
        text = ast.unparse(tree) + "\n"
    lines = []
    for line in text.splitlines():
        m = _COMMENT.match(line)
        if m and lines and lines[-1].lstrip().startswith("# ") \
                and len(lines[-1]) - len(lines[-1].lstrip()) == len(m.group(1)):
            lines.pop()                # a comment heading nothing (an empty sweep)
        lines.append(f"{m.group(1)}# {m.group(3)}" if m else line)
    return "\n".join(lines) + "\n"


def runtime_namespace() -> dict:
    """The names generated code may use besides the user's own."""
    from .normalize import GENERATED_BUILTINS
    ns = {name: getattr(runtime, name) for name in runtime.__all__}
    ns.update((name, getattr(builtins, name)) for name in GENERATED_BUILTINS)
    ns["np"] = np
    ns["math"] = math
    return ns


def compile_functions(trees: list, globals_: dict, closure: dict | None = None,
                      label: str = "derivative") -> dict:
    """Compile function definitions that may call each other; return name -> function.

    The functions see the user's globals live (they are defined with them as
    their globals); the runtime helpers, NumPy, the user's closure values and
    functions compiled earlier are bound as free variables of one small factory,
    so they never leak into, or get shadowed by, the user's module.
    """
    sources = [to_source(t) for t in trees]
    names = [t.name for t in trees]
    filename = f"<s2sad-{next(_counter)}:{label}>"
    bound = runtime_namespace()
    if closure:
        bound.update(closure)
    free = sorted(n for n in bound if n not in names)
    body = ""
    for source in sources:
        body += "".join("    " + line + "\n" if line else "\n" for line in source.splitlines())
    factory = (f"def __s2sad_factory__({', '.join(free)}):\n{body}"
               f"    return {{{', '.join(f'{n!r}: {n}' for n in names)}}}\n")
    linecache.cache[filename] = (len(factory), None, factory.splitlines(keepends=True), filename)
    _register_lines(filename, trees, sources)
    code = compile(factory, filename, "exec")
    scope: dict = {}
    exec(code, globals_, scope)
    functions = scope["__s2sad_factory__"](**{n: bound[n] for n in free})
    for n, source in zip(names, sources):
        functions[n].__s2sad_source__ = source
    return functions


def _register_lines(filename: str, trees: list, sources: list) -> None:
    """Record which user line each line of the factory ``filename`` comes from
    (``parse.GENERATED_LINES``): the statements of each tree carry the lines of the code they
    were made from (``_s2sad_file``, itself maybe generated: then followed back)."""
    lines, first = {}, 2                       # (line 1 is the factory's own def)
    for tree, source in zip(trees, sources):
        origin = getattr(tree, "_s2sad_file", None)
        made = [s for s in ast.walk(tree) if isinstance(s, ast.stmt) and not _is_comment(s)]
        try:
            written = [s for s in ast.walk(ast.parse(source).body[0]) if isinstance(s, ast.stmt)]
        except SyntaxError:
            written = []
        if origin is not None and len(made) == len(written) \
                and all(type(a) is type(b) for a, b in zip(made, written)):
            back = parse.GENERATED_LINES.get(origin)
            for a, b in zip(made, written):
                line = getattr(a, "lineno", None)
                if line is None or b is written[0]:
                    continue
                where = back.get(line) if back is not None else (origin, line)
                if where is not None:
                    lines.setdefault(first + b.lineno - 1, where)
        first += len(source.splitlines())
    if lines:
        parse.GENERATED_LINES[filename] = lines


def _is_comment(s) -> bool:
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) \
        and isinstance(s.value.func, ast.Name) and s.value.func.id == "__comment__"


def compile_function(fn: ast.FunctionDef, globals_: dict, closure: dict | None = None,
                     label: str = "derivative"):
    """Compile one function definition; return (function, source)."""
    function = compile_functions([fn], globals_, closure, label)[fn.name]
    return function, function.__s2sad_source__


def _take_defaults(derivative, original) -> None:
    """A callee's derivative is called with the arguments the call site gives; the
    others take the original's default values (which may be any expression)."""
    if original is None:
        return
    if getattr(original, "__defaults__", None):
        derivative.__defaults__ = original.__defaults__
    if getattr(original, "__kwdefaults__", None):
        derivative.__kwdefaults__ = {**(derivative.__kwdefaults__ or {}), **original.__kwdefaults__}


def _bind_closure(tree, closure: dict, bound: dict):
    """Add a callee's closure values to those its group of functions is compiled with.  Two
    callees may close over the same name with different values (two objects' methods both
    reading ``self``, two closures made by one factory): the callee's name is then renamed in
    its derivative (a copy), so each reads its own value.  Returns the tree to compile."""
    taken = None
    for name, value in closure.items():
        if name not in bound or bound[name] is value:
            bound[name] = value
            continue
        if taken is None:
            tree = _plain_copy(tree)
            taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | set(bound)
        k = 1
        while f"{name}_{k}" in taken:
            k += 1
        fresh = f"{name}_{k}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == name:
                node.id = fresh
        taken.add(fresh)
        bound[fresh] = value
    return tree


@pause_gc
def compile_derivative(tree: ast.FunctionDef, parsed, label: str = "derivative"):
    """Compile a derivative and the derivatives of the helpers it calls.

    Returns (function, source); the source shows the derivative, then each
    helper's derivative.
    """
    callees = [entry for entry in getattr(tree, "_s2sad_callees", {}).values() if entry[1] is not None]
    groups: dict = {}
    main_key = id(parsed.namespace)
    groups[main_key] = (parsed.namespace, dict(parsed.closure), [])
    for fname, ctree, norm in callees:
        ns = norm.parsed.namespace
        groups.setdefault(id(ns), (ns, {}, []))
        ctree = _bind_closure(ctree, norm.parsed.closure, groups[id(ns)][1])
        ctree._s2sad_file = norm.parsed.filename       # (its lines are that file's)
        groups[id(ns)][2].append(ctree)
    compiled: dict = {}
    for key, (ns, closure, trees) in groups.items():
        if key != main_key:
            compiled.update(compile_functions(trees, ns, {**closure, **compiled}, label))
    tree._s2sad_file = parsed.filename
    main_trees = list(groups.get(main_key, (None, None, []))[2]) + [tree]
    closure = dict(parsed.closure)
    closure.update(groups.get(main_key, (None, {}, None))[1])
    closure.update(compiled)
    try:
        functions = compile_functions(main_trees, parsed.namespace, closure, label)
    except (SyntaxError, MemoryError) as exc:      # e.g. more than 100 nested blocks
        detail = f"{type(exc).__name__}: {exc.args[0] if exc.args else exc}"
        if "nested" in detail or isinstance(exc, MemoryError):
            raise parsed.error(UnsupportedSyntaxError, parsed.node,
                               f"the derivative of {parsed.node.name!r} nests its blocks too deeply "
                               f"for Python to compile it ({detail})",
                               hint="each early `return` inside an `if` nests the rest of the function "
                                    "one level deeper: combine the conditions, or compute the result "
                                    "in a loop") from None
        raise parsed.error(UnsupportedSyntaxError, parsed.node,
                           f"Python cannot compile the derivative s2sad wrote for "
                           f"{parsed.node.name!r} ({detail})",
                           hint="this is a bug in s2sad; please report it with the function's "
                                "source") from None
    function = functions[tree.name]
    source = function.__s2sad_source__
    for fname, ctree, norm in callees:
        f = functions.get(fname) or compiled.get(fname)
        _take_defaults(f, norm.parsed.function)
        source += "\n\n" + f.__s2sad_source__
    function.__s2sad_source__ = source
    return function, source
