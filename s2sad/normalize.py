"""Stage 2: lower a function body to three-address form (ANF), with SSA names.

Output grammar (every statement of the normalized body is one of these)::

    stmt   := NAME = rhs
            | NAME[index] = atom                       (in-place write)
            | atom_call                                (a call kept for its effect)
            | if test: stmt* else: stmt*
            | for NAME in range(atom, ...): stmt*
            | while test: stmt*        |  while True: stmt*
            | break | continue | raise call | return NAME     (return: last statement only)
    rhs    := atom | atom OP atom | UOP atom | test
            | func(arg*, KEY=arg*) | atom.METHOD(arg*, KEY=arg*)
            | atom.ATTR | atom[index] | (atom, ...) | [atom, ...]
    arg    := atom | (atom, ...) | [atom, ...]
    test   := atom | atom CMP atom (CMP atom)* | not atom
    index  := atom | slice | (atom | slice, ...)       slice := atom? : atom? : atom?
    atom   := NAME | CONSTANT | MODULE.ATTR...          (a module attribute, e.g. np.pi)
    func   := NAME | MODULE.ATTR...                     (a global function)

Names are in SSA form within straight-line code: a variable assigned again
gets a new version (``x``, ``x_1``, ...).  Where paths join after ``if``,
both branches assign the same merged version.  A variable a loop assigns and
that lives across iterations keeps one *loop name*; each iteration assigns it
once, at every exit of the body (copy-back).  So every name is assigned at
most once per execution of the block that assigns it, except loop names.

``elif`` is a nested ``if``; ``a += b`` is ``a = a + b``; ``x if c else y``,
``a and b`` are ``if`` statements; ``for x in xs`` iterates over indices;
statements after an ``if`` whose branch always jumps (return, break,
continue, raise) move into the other branch, so a jump always ends its block;
they are moved, never copied: where they would have to go to several paths
(a jump nested in ifs whose branches both fall through), the jump sets a flag
(``returned``, ``broke``, ``continued``; ``return e`` also assigns ``e`` to a
``result`` bound to None first) and ``if flag: jump`` follows, with the
statements in its ``else``; so the output is linear in the input.
``return e`` anywhere assigns the result name, returned once at the end.
A name bound on some paths through an ``if`` only keeps its one version
after it (no copy ever reads it where it is unbound).
"""
from __future__ import annotations

import ast
import copy
import types
from dataclasses import dataclass, field

import numpy as np

from . import rules, runtime
from .analysis import child_fields, pause_gc, user_function_like, walk
from .errors import UnsupportedSyntaxError
from .parse import Opaque, Parsed, StaticFunction

# Builtins the generated code calls itself (loops over sequences, reversed loops, rule templates):
# bound to the builtins in the derivative, so a user's global of that name never stands in.
GENERATED_BUILTINS = ("abs", "float", "len", "list", "min", "range", "reversed", "slice", "sum")

# Names the generated code reserves for itself.
RESERVED = {"np", "math", "s2sad"} | set(runtime.__all__) | set(GENERATED_BUILTINS)

_HINTS = {
    ast.Try: "move the try/except outside the differentiated function",
    ast.With: "move the `with` block outside the differentiated function",
    ast.AsyncWith: "move the `with` block outside the differentiated function",
    ast.AsyncFor: "use a plain `for` loop",
    ast.ClassDef: "define the class at module level",
    ast.Global: "pass the value as an argument instead of assigning a global",
    ast.Nonlocal: "return the value instead of assigning an outer variable",
    ast.Delete: "drop the `del`; let the name go out of scope",
    ast.Yield: "return a list or an array instead of yielding",
    ast.YieldFrom: "return a list or an array instead of yielding",
    ast.Await: "differentiate a synchronous function",
    ast.NamedExpr: "assign the value in its own statement",
    ast.Starred: "pass the arguments one by one",
    ast.Lambda: "define the function with `def` at module level",
    ast.SetComp: "use a for loop",
    ast.DictComp: "use a for loop",
    ast.FunctionDef: "define the helper function at module level",
    ast.AsyncFunctionDef: "define a plain helper function at module level",
    ast.JoinedStr: "build strings outside the differentiated function",
    ast.Set: "use a list or a tuple",
    ast.Dict: "pass the values as separate arguments",
    ast.Import: "import at module level",
    ast.ImportFrom: "import at module level",
}
if hasattr(ast, "TryStar"):
    _HINTS[ast.TryStar] = _HINTS[ast.Try]
if hasattr(ast, "Match"):
    _HINTS[ast.Match] = "use if/elif/else"

_CONSTRUCT_NAMES = {
    ast.Try: "try/except", ast.With: "with statement", ast.AsyncWith: "async with",
    ast.AsyncFor: "async for", ast.ClassDef: "class definition", ast.Global: "global statement",
    ast.Nonlocal: "nonlocal statement", ast.Delete: "del statement", ast.Yield: "yield",
    ast.YieldFrom: "yield from", ast.Await: "await", ast.NamedExpr: "assignment expression (:=)",
    ast.Starred: "starred argument", ast.Lambda: "lambda", ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension", ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression", ast.FunctionDef: "nested function definition",
    ast.AsyncFunctionDef: "nested async function", ast.JoinedStr: "f-string",
    ast.Set: "set display", ast.Dict: "dict display", ast.Import: "import statement",
    ast.ImportFrom: "import statement",
}

JUMPS = (ast.Return, ast.Break, ast.Continue, ast.Raise)


def unsupported(parsed: Parsed, node: ast.AST, what: str | None = None, hint: str | None = None):
    """An UnsupportedSyntaxError at ``node``."""
    name = what or _CONSTRUCT_NAMES.get(type(node), type(node).__name__)
    return parsed.error(UnsupportedSyntaxError, node, f"s2sad does not support {name} here",
                        hint=hint or _HINTS.get(type(node), "rewrite it with supported constructs "
                                                "(see docs/supported-python.md)"))


def terminates(block: list) -> bool:
    """True when every path through ``block`` ends in a jump."""
    if not block:
        return False
    last = block[-1]
    if isinstance(last, JUMPS):
        return True
    if isinstance(last, ast.If):
        return terminates(last.body) and terminates(last.orelse)
    return False


def may_jump(block: list) -> bool:
    """True when some path through ``block`` jumps (break, continue, return, raise)
    at this loop level."""
    for s in block:
        if isinstance(s, JUMPS):
            return True
        if isinstance(s, ast.If) and (may_jump(s.body) or may_jump(s.orelse)):
            return True
    return False


def append_fallthrough(block: list, stmts: list) -> None:
    """Append ``stmts`` where the paths through ``block`` that do not jump end."""
    last = block[-1] if block else None
    if isinstance(last, ast.If) and (may_jump(last.body) or may_jump(last.orelse)):
        first = True
        for branch in (last.body, last.orelse):
            if not terminates(branch):
                append_fallthrough(branch, stmts if first else copy.deepcopy(stmts))
                first = False
        return
    if not terminates(block):
        block.extend(stmts)


def _loads_of(node) -> set:
    return {n.id for n in walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _stores_of(target) -> set:
    return {n.id for n in walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def annotate_liveness(block: list, live_out: set, result: str) -> set:
    """Backward liveness over the structured body (before lowering).

    Marks each ``if`` with the variables live after it (``_s2sad_live_out``) and
    each loop with those live at the top of an iteration (``_s2sad_live_head``),
    so that only live variables are merged at joins and carried around loops.
    ``return`` assigns ``result``.  Returns the variables live before ``block``.
    """
    return _live_block(block, set(live_out), result, None)


def _live_block(block, live, result, loop):
    for s in reversed(block):
        live = _live_stmt(s, live, result, loop)
    return live


def _live_stmt(s, live, result, loop):
    if isinstance(s, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = s.targets if isinstance(s, ast.Assign) else [s.target]
        defs, uses = set(), _loads_of(s.value) if s.value is not None else set()
        for t in targets:
            if isinstance(t, (ast.Name, ast.Tuple, ast.List)):
                defs |= _stores_of(t)
            else:
                uses |= _loads_of(t) | {n.id for n in walk(t) if isinstance(n, ast.Name)}
        if isinstance(s, ast.AugAssign):
            uses |= {n.id for n in walk(s.target) if isinstance(n, ast.Name)}
        return (live - defs) | uses
    if isinstance(s, ast.Return):
        return _loads_of(s.value) if s.value is not None else set()
    if isinstance(s, ast.Raise):
        return _loads_of(s)
    if isinstance(s, ast.Break):
        return set(loop[0]) if loop else set(live)
    if isinstance(s, ast.Continue):
        return set(loop[1]) if loop else set(live)
    if isinstance(s, ast.If):
        s._s2sad_live_out = set(live)
        return _loads_of(s.test) | _live_block(s.body, set(live), result, loop) \
            | _live_block(s.orelse, set(live), result, loop)
    if isinstance(s, (ast.For, ast.While)):
        target = _stores_of(s.target) if isinstance(s, ast.For) else set()
        header = _loads_of(s.iter) if isinstance(s, ast.For) else _loads_of(s.test)
        head = set(live) | (header if isinstance(s, ast.While) else set())
        for _ in range(50):
            body_in = _live_block(s.body, set(head), result, (live, head))
            new = set(live) | (body_in - target) | (header if isinstance(s, ast.While) else set())
            if new == head:
                break
            head = new
        s._s2sad_live_head = head | (_live_block(s.body, set(head), result, (live, head)) - target)
        return header | head
    if isinstance(s, ast.FunctionDef):
        return (live - {s.name}) | _loads_of(s)
    return live | _loads_of(s)


def _fallthrough_points(block: list) -> int:
    """How many places ``append_fallthrough`` would append to (0 when ``block`` always jumps)."""
    if terminates(block):
        return 0
    last = block[-1] if block else None
    if isinstance(last, ast.If) and (may_jump(last.body) or may_jump(last.orelse)):
        return _fallthrough_points(last.body) + _fallthrough_points(last.orelse)
    return 1


def _jump_kinds(block: list) -> set:
    """The kinds of jump (Return, Break, Continue) that leave ``block`` at this loop level."""
    kinds = set()
    for s in block:
        if isinstance(s, (ast.Return, ast.Break, ast.Continue)):
            kinds.add(type(s))
        elif isinstance(s, ast.If):
            kinds |= _jump_kinds(s.body) | _jump_kinds(s.orelse)
    return kinds


def _jumps_to_flags(block: list, flags: dict, result: str | None) -> None:
    """Replace each jump of ``block`` at this loop level (last in its block, after
    ``_restructure``) by setting its kind's flag (and ``result`` for ``return``)."""
    if not block:
        return
    last = block[-1]
    if isinstance(last, ast.If):
        _jumps_to_flags(last.body, flags, result)
        _jumps_to_flags(last.orelse, flags, result)
    elif isinstance(last, tuple(flags)):
        block.pop()
        if isinstance(last, ast.Return):
            block.append(ast.copy_location(ast.Assign(
                targets=[ast.Name(result, ast.Store())],
                value=last.value if last.value is not None else ast.Constant(None)), last))
        block.append(ast.copy_location(ast.Assign(targets=[ast.Name(flags[type(last)], ast.Store())],
                                                  value=ast.Constant(True)), last))


def _restructure(block: list, fresh) -> list:
    """Move the statements after an ``if`` with a jumping path into its paths that
    do not jump (so a jump always ends its block); drop dead code.

    The statements are moved, never copied, so the output is linear in the input:
    when they would have to go to several paths (a jump nested in an ``if`` whose
    branches both fall through), each jump sets a flag instead (``fresh(base)``
    names it; ``return e`` also assigns ``e`` to a result variable) and one
    ``if flag: jump`` after the ``if`` dispatches, with the statements in its
    ``else``.  Only ``raise`` jumping: the statements stay after the ``if``.
    """
    out = []
    for i, stmt in enumerate(block):
        if isinstance(stmt, ast.If):
            stmt.body = _restructure(stmt.body, fresh)
            stmt.orelse = _restructure(stmt.orelse, fresh)
            if i + 1 < len(block) and (may_jump(stmt.body) or may_jump(stmt.orelse)):
                rest = block[i + 1:]
                points = _fallthrough_points([stmt])
                if points == 1:
                    append_fallthrough([stmt], rest)
                    stmt.body = _restructure(stmt.body, fresh)
                    stmt.orelse = _restructure(stmt.orelse, fresh)
                    out.append(stmt)
                    return out
                kinds = _jump_kinds([stmt])
                if points == 0 or not kinds:        # dead code, or only `raise` jumps
                    out.append(stmt)
                    if points == 0:
                        return out
                    continue
                order = [k for k in (ast.Return, ast.Break, ast.Continue) if k in kinds]
                base = {ast.Return: "returned", ast.Break: "broke", ast.Continue: "continued"}
                flags = {k: fresh(base[k]) for k in order}
                result = fresh("result") if ast.Return in kinds else None
                _jumps_to_flags([stmt], flags, result)
                for k in order:
                    out.append(ast.copy_location(ast.Assign(targets=[ast.Name(flags[k], ast.Store())],
                                                            value=ast.Constant(False)), stmt))
                if result is not None:              # bound on every path, like a loop's names
                    out.append(ast.copy_location(ast.Assign(targets=[ast.Name(result, ast.Store())],
                                                            value=ast.Constant(None)), stmt))
                out.append(stmt)
                tail = _restructure(rest, fresh)
                for k in reversed(order):
                    jump = ast.Return(value=ast.Name(result, ast.Load())) if k is ast.Return else k()
                    tail = [ast.copy_location(ast.If(test=ast.Name(flags[k], ast.Load()),
                                                     body=[ast.copy_location(jump, stmt)],
                                                     orelse=tail), stmt)]
                out.extend(tail)
                return out
            out.append(stmt)
            if terminates(stmt.body) and terminates(stmt.orelse):
                return out
            continue
        if isinstance(stmt, (ast.For, ast.While)):
            stmt.body = _restructure(stmt.body, fresh)
        out.append(stmt)
        if isinstance(stmt, JUMPS):
            return out
    return out


@dataclass
class _Loop:
    carried: dict                      # user name -> loop name
    node: ast.AST


@dataclass
class Normalized:
    """What normalization produced: the function and facts later stages use."""
    node: ast.FunctionDef
    result: str                        # the name the function returns
    params: list
    parsed: Parsed
    loop_names: set = field(default_factory=set)   # names assigned once per loop iteration
    user_names: dict = field(default_factory=dict)  # SSA version -> the user's name (h_1 -> h)
    renamed: dict = field(default_factory=dict)     # new name -> the user's name it stands for


class _Normalizer:
    def __init__(self, parsed: Parsed):
        self.p = parsed
        self.partial: dict = {}      # versions bound on some paths only -> where (see merge)
        fn = parsed.node
        self.params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
        if fn.args.vararg or fn.args.kwarg:
            raise unsupported(parsed, fn, "*args / **kwargs parameters",
                              hint="list the parameters explicitly")
        self.used = set(self.params) | RESERVED
        self._next_suffix: dict = {}
        self.locals = set(self.params)
        for node in walk(fn):
            if isinstance(node, ast.Name):
                self.used.add(node.id)
                if isinstance(node.ctx, ast.Store):
                    self.locals.add(node.id)
        self.env = {p: p for p in self.params}
        self.aliases = set(self.params)         # names that may share memory with an argument
        self.local_functions = {}               # nested def / named lambda -> its node
        self.inlining = {}                      # inlining depth per local function
        self.claimed = set(self.params)
        self.counter = 0
        self.block: list = []
        self.loops: list[_Loop] = []
        self.loop_names: set = set()
        self.user_names: dict = {}
        self.result_base = "<result>"
        self.loads_outside = {}

    # --- names -----------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        if base not in self.used:
            self.used.add(base)
            return base
        # names are never freed: the search goes on from the last suffix given for ``base``
        # (so a variable assigned n times costs O(n), not O(n**2))
        i = self._next_suffix.get(base, 1)
        while f"{base}_{i}" in self.used:
            i += 1
        self._next_suffix[base] = i + 1
        self.used.add(f"{base}_{i}")
        return f"{base}_{i}"

    def temp(self) -> str:
        while True:
            self.counter += 1
            name = f"t{self.counter}"
            if name not in self.used:
                self.used.add(name)
                return name

    def version(self, var: str) -> str:
        """A new SSA version of ``var``: its own name on first definition, then ``var_1`` ..."""
        if var == self.result_base:
            return self.fresh("y")
        if var not in self.claimed:
            self.claimed.add(var)
            return var
        name = self.fresh(var)
        self.user_names[name] = var
        return name

    def emit(self, stmt: ast.stmt, like: ast.AST | None = None) -> None:
        if like is not None:
            ast.copy_location(stmt, like)
            for node in walk(stmt):
                if not hasattr(node, "lineno") and "lineno" in node._attributes:
                    ast.copy_location(node, like)
        self.block.append(stmt)

    def sub_block(self, stmts, env):
        """Normalize ``stmts`` into a new block starting from ``env``."""
        saved_block, saved_env = self.block, self.env
        self.block, self.env = [], dict(env)
        for s in stmts:
            self.stmt(s)
        out, out_env = self.block, self.env
        self.block, self.env = saved_block, saved_env
        return out, out_env

    # --- entry point -------------------------------------------------------------------------
    def run(self) -> Normalized:
        fn = self.p.node
        allowed = _local_function_nodes(fn)
        for node in walk(fn):
            if node is not fn and type(node) in _HINTS and node not in allowed:
                raise unsupported(self.p, node)
        body = list(fn.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]                         # the docstring
        body = [copy_tree(st) for st in body]
        body = self._lower_loop_else(body)
        body = self._lower_loop_returns(body)
        body = _restructure(body, self._flag)
        annotate_liveness(body, {self.result_base}, self.result_base)
        self._count_loads(body)
        for s in body:
            self.stmt(s)
        result = self.env.get(self.result_base)
        if result is None:
            raise self.p.error(UnsupportedSyntaxError, fn,
                               f"function {fn.name!r} never returns a value",
                               hint="end it with `return <expression>`")
        self.emit(ast.Return(value=ast.Name(result, ast.Load())), like=fn.body[-1])
        # a version bound on some paths only is None until bound (one statement each: linear)
        self.block[:0] = [self.unbound(v, like) for v, like in self.partial.items()]
        new = ast.FunctionDef(name=fn.name, args=copy.deepcopy(fn.args), body=self.block,
                              decorator_list=[], returns=None, type_comment=None)
        if hasattr(ast.FunctionDef, "type_params") or "type_params" in ast.FunctionDef._fields:
            new.type_params = []
        ast.copy_location(new, fn)
        for a in walk(new.args):
            if isinstance(a, ast.arg):
                a.annotation = None
        new.args.defaults = [ast.Constant(value=None) if not isinstance(d, ast.Constant) else d
                             for d in new.args.defaults]
        new.args.kw_defaults = [None if d is None else (d if isinstance(d, ast.Constant)
                                                        else ast.Constant(value=None))
                                for d in new.args.kw_defaults]
        fix_locations(new)
        return Normalized(node=new, result=result, params=self.params, parsed=self.p,
                          loop_names=self.loop_names, user_names=self.user_names)

    # --- source-level lowering of loop exits ---------------------------------------------------
    def _flag(self, base):
        name = self.fresh(base)
        self.locals.add(name)
        return name

    def _lower_loop_else(self, block):
        """``for/while ... else: E``  ->  a flag set before each ``break``, then ``if not flag: E``."""
        out = []
        for s in block:
            for field in ("body", "orelse"):
                if isinstance(getattr(s, field, None), list) and not isinstance(s, (ast.For, ast.While)):
                    setattr(s, field, self._lower_loop_else(getattr(s, field)))
            if isinstance(s, (ast.For, ast.While)):
                s.body = self._lower_loop_else(s.body)
                if s.orelse:
                    flag = self._flag("broke")
                    s.body = _mark_breaks(s.body, flag)
                    orelse = self._lower_loop_else(s.orelse)
                    s.orelse = []
                    out.append(ast.copy_location(ast.Assign(targets=[ast.Name(flag, ast.Store())],
                                                            value=ast.Constant(False)), s))
                    out.append(s)
                    out.append(ast.copy_location(ast.If(
                        test=ast.UnaryOp(op=ast.Not(), operand=ast.Name(flag, ast.Load())),
                        body=orelse, orelse=[]), s))
                    continue
            out.append(s)
        return out

    def _lower_loop_returns(self, block):
        """``return`` inside loops -> result and flag variables, ``break``, and one
        ``if flag: return result`` after the outermost loop."""
        out = []
        for s in block:
            if isinstance(s, (ast.For, ast.While)) and _has_return(s.body):
                flag, value = self._flag("returned"), self._flag("result")
                s.body = _returns_to_breaks(s.body, flag, value)
                out.append(ast.copy_location(ast.Assign(targets=[ast.Name(flag, ast.Store())],
                                                        value=ast.Constant(False)), s))
                out.append(s)
                out.append(ast.copy_location(ast.If(
                    test=ast.Name(flag, ast.Load()),
                    body=[ast.copy_location(ast.Return(value=ast.Name(value, ast.Load())), s)],
                    orelse=[]), s))
                continue
            if isinstance(s, ast.If):
                s.body = self._lower_loop_returns(s.body)
                s.orelse = self._lower_loop_returns(s.orelse)
            out.append(s)
        return out

    def _count_loads(self, body):
        counts = {}
        for s in body:
            for node in walk(s):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    counts[node.id] = counts.get(node.id, 0) + 1
        self.total_loads = counts

    # --- statements --------------------------------------------------------------------------
    def stmt(self, s: ast.stmt) -> None:
        method = getattr(self, "s_" + type(s).__name__, None)
        if method is None:
            raise unsupported(self.p, s)
        method(s)

    def s_Pass(self, s):
        pass

    def s_Expr(self, s):
        if isinstance(s.value, ast.Constant):
            return                                   # a stray string or number
        if not isinstance(s.value, ast.Call):
            self.atom(s.value)                       # evaluate for errors, keep nothing
            return
        if self.lower_effect(s, s.value):
            return
        call = self.rhs(s.value)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                and call.func.attr == "pop" and isinstance(call.func.value, ast.Name):
            # xs.pop() whose value is dropped: named, so a reverse sweep can push it back
            self.emit(ast.Assign(targets=[ast.Name(self.temp(), ast.Store())], value=call), like=s)
            return
        if isinstance(call, ast.Call):               # (not a call lowered to a write: out=)
            self.emit(ast.Expr(value=call), like=s)

    def lower_effect(self, s, c) -> bool:
        """Calls kept for an effect the transformers follow as other statements:
        ``np.copyto(h, x)`` and ``h.fill(a)`` are ``h[...] = x``; ``xs.extend(ys)`` is a loop
        of appends.  True when ``c`` was lowered."""
        f = c.func
        if c.keywords or any(isinstance(a, ast.Starred) for a in c.args):
            return False
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in self.env:
            if f.attr == "fill" and len(c.args) == 1:
                self.write_whole(f.value.id, self.atom(c.args[0]), like=s)
                return True
            if f.attr == "extend" and len(c.args) == 1:
                item = self.fresh("item")
                self.locals.add(item)
                loop = ast.copy_location(ast.For(
                    target=ast.Name(item, ast.Store()), iter=c.args[0],
                    body=[ast.copy_location(ast.Expr(value=ast.Call(
                        func=ast.Attribute(value=ast.Name(f.value.id, ast.Load()), attr="append",
                                           ctx=ast.Load()),
                        args=[ast.Name(item, ast.Load())], keywords=[])), s)],
                    orelse=[], type_comment=None), s)
                self.stmt(loop)
                return True
        if isinstance(f, (ast.Name, ast.Attribute)) and len(c.args) == 2 \
                and isinstance(c.args[0], ast.Name) and c.args[0].id in self.env:
            if (isinstance(f, ast.Name) and f.id not in self.locals or self.is_global_chain(f)) \
                    and _resolve_chain(self.p, f) is getattr(np, "copyto", None):
                self.write_whole(c.args[0].id, self.atom(c.args[1]), like=s)
                return True
        return False

    def write_whole(self, var, value_atom, like):
        """``var[...] = value_atom``: a write of every element of a local array."""
        if self.env[var] in self.aliases:
            raise unsupported(self.p, like, "writing into an argument (or a view of one) in place",
                              hint=f"it would change the caller's data: copy it first, e.g. "
                                   f"`{var} = {var}.copy()`")
        self.emit(ast.Assign(targets=[ast.Subscript(value=ast.Name(self.env[var], ast.Load()),
                                                    slice=ast.Constant(value=Ellipsis), ctx=ast.Store())],
                             value=value_atom), like=like)

    def s_Assert(self, s):
        test = self.test(s.test)
        self.emit(ast.Assert(test=test, msg=None), like=s)

    def s_Raise(self, s):
        exc = self.rhs(s.exc) if s.exc is not None else None
        self.emit(ast.Raise(exc=exc, cause=None), like=s)

    def s_Return(self, s):
        value = s.value if s.value is not None else ast.Constant(value=None)
        self.assign_name(self.result_base, value, like=s)

    def s_AnnAssign(self, s):
        if s.value is None:
            return
        self.s_Assign(ast.copy_location(ast.Assign(targets=[s.target], value=s.value), s))

    def s_AugAssign(self, s):
        target = s.target
        if isinstance(target, ast.Name):
            value = ast.BinOp(left=ast.Name(target.id, ast.Load()), op=s.op, right=s.value)
            self.assign_name(target.id, ast.copy_location(value, s), like=s)
            if self.block and isinstance(self.block[-1], ast.Assign) \
                    and isinstance(self.block[-1].value, ast.BinOp) \
                    and isinstance(self.block[-1].value.left, ast.Name):
                # on an array or a list, `h += v` writes into h's memory, where the normalized
                # `h_1 = h + v` makes a new one: the effects analysis checks no other name sees it
                self.block[-1]._s2sad_inplace_on = self.block[-1].value.left.id
        elif isinstance(target, ast.Subscript):
            read = ast.copy_location(ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load()), s)
            value = ast.copy_location(ast.BinOp(left=read, op=s.op, right=s.value), s)
            write = ast.copy_location(ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Store()), s)
            self.s_Assign(ast.copy_location(ast.Assign(targets=[write], value=value), s))
        else:
            raise unsupported(self.p, target, "augmented assignment to an attribute",
                              hint="compute the new value into a local variable")

    def s_Assign(self, s):
        if isinstance(s.value, ast.Lambda) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
            lam = s.value
            node = ast.FunctionDef(name=s.targets[0].id, args=lam.args, body=lam.body, decorator_list=[],
                                   returns=None, type_comment=None)
            ast.copy_location(node, s)
            self.s_FunctionDef(node)
            return
        if len(s.targets) == 1:
            self.assign(s.targets[0], s.value, like=s)
            return
        value = self.atom(s.value)
        for target in s.targets:
            self.assign(target, value, like=s)

    def assign(self, target, value, like):
        if isinstance(target, ast.Name):
            self.assign_name(target.id, value, like)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in target.elts):
                raise unsupported(self.p, target, "starred assignment",
                                  hint="unpack the elements one by one")
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                # every element is read before any target is written (a, b = b, a)
                values = [self.rhs(v) if isinstance(t, ast.Name) else self.atom(v)
                          for t, v in zip(target.elts, value.elts)]
                pending = []
                for t, v in zip(target.elts, values):
                    if isinstance(t, ast.Name):
                        name = self.version(t.id)
                        self.emit(ast.Assign(targets=[ast.Name(name, ast.Store())], value=v), like=like)
                        pending.append((t.id, name))
                    else:
                        self.assign(t, v, like)
                self.env.update(pending)
            else:
                whole = self.atom(value)
                last = self.block[-1] if self.block else None
                if isinstance(whole, ast.Name) and isinstance(last, ast.Assign) \
                        and isinstance(last.targets[0], ast.Name) and last.targets[0].id == whole.id:
                    # how many items the value has (Python checks it): analysis.Effects tells a
                    # derivative's tape items apart by their length
                    last._s2sad_unpacked = len(target.elts)
                for i, t in enumerate(target.elts):
                    item = ast.Subscript(value=whole, slice=ast.Constant(value=i), ctx=ast.Load())
                    self.assign(t, item, like)
        elif isinstance(target, ast.Subscript):
            base = target.value
            if not isinstance(base, ast.Name) or base.id not in self.env:
                raise unsupported(self.p, target, "assignment into this subscript",
                                  hint="write into a local array variable, e.g. `out[i] = v`")
            if self.env[base.id] in self.aliases:
                raise unsupported(self.p, target, "writing into an argument (or a view of one) in place",
                                  hint=f"it would change the caller's data: copy it first, e.g. "
                                       f"`{base.id} = {base.id}.copy()`")
            index = self.index(target.slice)
            rhs = self.atom(value)
            self.emit(ast.Assign(targets=[ast.Subscript(value=ast.Name(self.env[base.id], ast.Load()),
                                                        slice=index, ctx=ast.Store())],
                                 value=rhs), like=like)
        else:
            raise unsupported(self.p, target, "assignment to an attribute",
                              hint="assign to a local variable")

    def assign_name(self, var: str, value: ast.expr, like) -> None:
        if isinstance(value, ast.IfExp) and not getattr(value, "_s2sad_done", False):
            # y = a if c else b: each branch assigns the new version of y
            name = self.version(var) if var != self.result_base or self.loops else None
            if name is not None:
                self.ifexp_into(value, name)
                self.env[var] = name
                return
        rhs = self.rhs(value)
        if var == self.result_base and isinstance(rhs, ast.Name) and not self.loops:
            self.env[var] = rhs.id                  # `return x` returns x itself
            return
        name = self.version(var)
        self.emit(ast.Assign(targets=[ast.Name(name, ast.Store())], value=rhs), like=like)
        self.env[var] = name
        if _is_view_of(rhs, self.aliases):
            self.aliases.add(name)

    def s_If(self, s):
        test = self.test(s.test)
        env0 = dict(self.env)
        then_block, then_env = self.sub_block(s.body, env0)
        else_block, else_env = self.sub_block(s.orelse, env0)
        then_falls, else_falls = not terminates(then_block), not terminates(else_block)
        if then_falls and not else_falls:
            self.env = then_env
        elif else_falls and not then_falls:
            self.env = else_env
        elif then_falls and else_falls:
            self.env = self.merge([(then_block, then_env), (else_block, else_env)], like=s,
                                  live=getattr(s, "_s2sad_live_out", None))
        if not then_block:
            then_block = [ast.Pass()]
        test = self.snapshot(test, then_block + else_block, like=s)
        node = ast.If(test=test, body=then_block, orelse=else_block)
        self.emit(node, like=s)

    def snapshot(self, expr, block, like):
        """``expr`` as it is before ``block`` runs: when ``block`` assigns a name ``expr``
        reads (a loop name), its value is kept in a temporary first.  (The reverse
        sweep re-reads an if's test and a loop's range where they stand.)"""
        stored = {n.id for st in block for n in walk(st) if isinstance(n, ast.Name)
                  and isinstance(n.ctx, ast.Store)}
        if not ({n.id for n in walk(expr) if isinstance(n, ast.Name)} & stored):
            return expr
        name = self.temp()
        self.emit(ast.Assign(targets=[ast.Name(name, ast.Store())], value=expr), like=like)
        done = ast.Name(name, ast.Load())
        done._s2sad_done = True
        return done

    @staticmethod
    def unbound(var, like):
        """``var = None`` on a path where ``var`` has no value (marked: no ndim, no derivative)."""
        stmt = ast.copy_location(ast.Assign(targets=[ast.Name(var, ast.Store())],
                                            value=ast.Constant(value=None)), like)
        stmt._s2sad_unbound = True
        return stmt

    def merge(self, branches, like, live=None):
        """Give each live variable that differs between the branches one merged version."""
        env = dict(branches[0][1])
        names = set()
        for _, benv in branches:
            names |= set(benv)
        for var in sorted(names):
            versions = [benv.get(var) for _, benv in branches]
            if all(v == versions[0] for v in versions):
                env[var] = versions[0]
                continue
            if live is not None and var not in live:
                env.pop(var, None)          # dead after the join: nothing to merge
                continue
            bound = {v for v in versions if v is not None}
            if len(bound) == 1:
                # bound on some paths only (as in the source): it keeps its one version, and
                # nothing copies it where it may be unbound (nor at every enclosing join); it is
                # bound to None once at the top of the function (see run), so that code after
                # the join (a derivative's zero fill) may name it on every path
                only = bound.pop()
                self.partial.setdefault(only, like)
                env[var] = only
                continue
            merged = self.version(var)
            for (block, benv), v in zip(branches, versions):
                if v is None:
                    # no value on this path: bind the merged name to None, so that code
                    # after the join (a derivative's zero fill) may name it on every path
                    append_fallthrough(block, [self.unbound(merged, like)])
                    continue
                if not _rename_last_definition(block, v, merged):
                    append_fallthrough(block, [ast.copy_location(
                        ast.Assign(targets=[ast.Name(merged, ast.Store())], value=ast.Name(v, ast.Load())), like)])
            env[var] = merged
        return env

    # --- loops -------------------------------------------------------------------------------
    def _assigned_in(self, stmts) -> set:
        out = set()
        for s in stmts:
            for node in walk(s):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    out.add(node.id)
                elif isinstance(node, ast.Return):
                    out.add(self.result_base)
        return out

    def _loads_in(self, stmts) -> dict:
        counts = {}
        for s in stmts:
            for node in walk(s):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    counts[node.id] = counts.get(node.id, 0) + 1
        return counts

    def _carried(self, loop_node, body_stmts, extra_assigned=()):
        assigned = self._assigned_in(body_stmts) | set(extra_assigned)
        inside = self._loads_in([loop_node])
        carried = {}
        head = getattr(loop_node, "_s2sad_live_head", None)
        if head is not None:
            # pruned: only what is live at the top of an iteration crosses iterations
            assigned = {v for v in assigned if v in head or v in extra_assigned}
        for var in sorted(assigned):
            outside = self.total_loads.get(var, 0) - inside.get(var, 0)
            if var in self.env:
                carried[var] = self.env[var]
            elif outside > 0 or self.loops:
                # no value before the loop: start it at None, so that the loop name is
                # bound on every iteration (the reverse sweep saves and restores it)
                carried[var] = self.version(var)
                if var not in extra_assigned:           # (a for loop binds its own target)
                    self.emit(ast.Assign(targets=[ast.Name(carried[var], ast.Store())],
                                         value=ast.Constant(value=None)), like=loop_node)
        for name in carried.values():
            self.loop_names.add(name)
        return carried

    def copy_back(self, loop: _Loop, like, at_end=False) -> None:
        """Assign each loop name its current version (at an exit of the body)."""
        copies = []
        for var, name in loop.carried.items():
            current = self.env.get(var)
            if current is not None and current != name:
                copies.append(ast.copy_location(ast.Assign(targets=[ast.Name(name, ast.Store())],
                                                           value=ast.Name(current, ast.Load())), like))
        if at_end:
            append_fallthrough(self.block, copies)
        else:
            self.block.extend(copies)

    def s_Break(self, s):
        if not self.loops:
            raise unsupported(self.p, s, "`break` outside a loop")
        self.copy_back(self.loops[-1], like=s)
        self.emit(ast.Break(), like=s)

    def s_Continue(self, s):
        if not self.loops:
            raise unsupported(self.p, s, "`continue` outside a loop")
        self.copy_back(self.loops[-1], like=s)
        self.emit(ast.Continue(), like=s)

    def run_loop_body(self, loop: _Loop, prologue, stmts, like):
        """Normalize a loop body: loop names at entry, copied back at every exit."""
        env = dict(self.env)
        env.update(loop.carried)
        saved_block, saved_env = self.block, self.env
        self.block, self.env = [], env
        self.loops.append(loop)
        for s in prologue:
            self.emit(s, like=like)
        for s in stmts:
            self.stmt(s)
        self.copy_back(loop, like=like, at_end=True)
        self.loops.pop()
        body = self.block or [ast.Pass()]
        self.block, self.env = saved_block, saved_env
        for var, name in loop.carried.items():
            self.env[var] = name
        return body

    def s_While(self, s):
        loop = _Loop(carried=self._carried(s, s.body), node=s)
        saved_block = self.block
        self.block = []
        # the condition reads the loop names: evaluate it with them in scope
        env_before = dict(self.env)
        self.env = dict(self.env)
        self.env.update(loop.carried)
        test = self.test(s.test)
        cond_stmts = self.block
        self.block, self.env = saved_block, env_before
        if not cond_stmts:
            body = self.run_loop_body(loop, [], s.body, like=s)
            self.emit(_with_carried(ast.While(test=test, body=body, orelse=[]), loop), like=s)
            return
        # `while True:` computing the condition at the top of each iteration; the body
        # goes in the guard's else branch, so a jump still ends its block
        exit_test = ast.UnaryOp(op=ast.Not(), operand=test) if not isinstance(test, ast.UnaryOp) \
            else test.operand
        exit_test._s2sad_done = True
        guard = ast.copy_location(ast.If(test=exit_test, body=[ast.copy_location(ast.Break(), s)],
                                         orelse=list(s.body)), s)
        loop_body = self.run_loop_body(loop, cond_stmts, [guard], like=s)
        self.emit(_with_carried(ast.While(test=ast.Constant(value=True), body=loop_body, orelse=[]), loop),
                  like=s)

    def s_For(self, s):
        it = s.iter
        target = s.target
        if isinstance(it, ast.Call) and self.is_builtin(it.func, reversed) and len(it.args) == 1 \
                and not it.keywords:
            # (forward mode, issue 4) `for i in reversed(xs)` == `for i in xs[::-1]`: a reversed
            # object has no len() and no indexing, a reversed range or list has both
            it = ast.copy_location(ast.Subscript(value=it.args[0], slice=ast.Slice(
                lower=None, upper=None, step=ast.Constant(value=-1)), ctx=ast.Load()), it)
        prologue_items = []           # (user target, value expression built from the index)
        if isinstance(it, ast.Call) and self.is_builtin(it.func, range) and not it.keywords:
            if not isinstance(target, ast.Name):
                raise unsupported(self.p, target, "this loop target", hint="use a single name")
            args = [self.atom(a) for a in it.args]
            iterable = ast.Call(func=ast.Name("range", ast.Load()), args=args, keywords=[])
            index_var = target.id
        else:
            if isinstance(it, ast.Call) and self.is_builtin(it.func, enumerate):
                start = it.args[1] if len(it.args) > 1 else next(
                    (k.value for k in it.keywords if k.arg == "start"), None)
                if not isinstance(target, ast.Tuple) or len(target.elts) != 2 or not it.args \
                        or len(it.args) > 2 or any(k.arg != "start" for k in it.keywords):
                    raise unsupported(self.p, s, "this form of enumerate",
                                      hint="use `for i, x in enumerate(xs)` or `enumerate(xs, start)`")
                index_target, value_targets = target.elts[0], [target.elts[1]]
                inner = it.args[0]
                if isinstance(inner, ast.Call) and self.is_builtin(inner.func, zip):
                    # for i, (a, b) in enumerate(zip(xs, ys)): one index into every sequence
                    if start is not None or inner.keywords or not isinstance(target.elts[1], ast.Tuple) \
                            or len(target.elts[1].elts) != len(inner.args):
                        raise unsupported(self.p, s, "this form of enumerate(zip(...))",
                                          hint="use `for i, (a, b) in enumerate(zip(xs, ys))`, one name per "
                                               "zipped sequence and no start")
                    seqs = [self.atom(a) for a in inner.args]
                    value_targets = list(target.elts[1].elts)
                else:
                    seqs = [self.atom(inner)]
                if start is not None:
                    # count from `start`: the position is the counter minus start
                    start_atom = self.atom(start)
                    if not isinstance(index_target, ast.Name):
                        raise unsupported(self.p, index_target, "this loop target", hint="use a single name")
                    n = self.temp()
                    self.emit(ast.Assign(targets=[ast.Name(n, ast.Store())],
                                         value=ast.Call(func=ast.Name("len", ast.Load()), args=[seqs[0]],
                                                        keywords=[])), like=s)
                    stop = self.temp()
                    self.emit(ast.Assign(targets=[ast.Name(stop, ast.Store())],
                                         value=ast.BinOp(left=ast.Name(n, ast.Load()), op=ast.Add(),
                                                         right=start_atom)), like=s)
                    body = [ast.copy_location(ast.Assign(
                        targets=[value_targets[0]],
                        value=ast.Subscript(value=_done(seqs[0]), slice=ast.BinOp(
                            left=ast.Name(index_target.id, ast.Load()), op=ast.Sub(), right=_done(start_atom)),
                            ctx=ast.Load())), s)] + list(s.body)
                    loop = ast.copy_location(ast.For(
                        target=ast.Name(index_target.id, ast.Store()),
                        iter=ast.Call(func=ast.Name("range", ast.Load()),
                                      args=[_done(start_atom), _done(ast.Name(stop, ast.Load()))], keywords=[]),
                        body=body, orelse=[], type_comment=None), s)
                    self.s_For(loop)
                    return
            elif isinstance(it, ast.Call) and self.is_builtin(it.func, zip):
                if not isinstance(target, ast.Tuple) or len(target.elts) != len(it.args) or it.keywords:
                    raise unsupported(self.p, s, "this form of zip",
                                      hint="unpack one name per zipped sequence")
                seqs = [self.atom(a) for a in it.args]
                index_target, value_targets = None, list(target.elts)
            else:
                seqs = [self.atom(it)]
                index_target, value_targets = None, [target]
            lengths = []
            for seq in seqs:
                n = self.temp()
                self.emit(ast.Assign(targets=[ast.Name(n, ast.Store())],
                                     value=ast.Call(func=ast.Name("len", ast.Load()), args=[seq],
                                                    keywords=[])), like=s)
                lengths.append(ast.Name(n, ast.Load()))
            if len(lengths) > 1:
                n = self.temp()
                self.emit(ast.Assign(targets=[ast.Name(n, ast.Store())],
                                     value=ast.Call(func=ast.Name("min", ast.Load()), args=lengths,
                                                    keywords=[])), like=s)
                lengths = [ast.Name(n, ast.Load())]
            iterable = ast.Call(func=ast.Name("range", ast.Load()), args=lengths, keywords=[])
            if isinstance(index_target, ast.Name):
                index_var = index_target.id
            elif index_target is None:
                index_var = self.fresh("i")
            else:
                raise unsupported(self.p, index_target, "this loop target", hint="use a single name")
            for seq, t in zip(seqs, value_targets):
                prologue_items.append((t, seq))
        # the loop: its target is assigned by the loop itself
        # each loop binds a target of its own (an inner loop reusing the name gets another
        # version: the reverse sweep regenerates both); the variable itself is carried
        # (copied back at every exit) only when it is read after the loop
        # the value targets (`for x in xs`) are assigned in the body too: when read after the
        # loop, they are carried like any name the body assigns (the last item survives)
        targets = [ast.Assign(targets=[t], value=ast.Constant(value=None)) for t, _ in prologue_items]
        loop = _Loop(carried=self._carried(s, targets + list(s.body), {index_var}), node=s)
        loop_target = self.version(index_var)
        env = dict(self.env)
        env.update(loop.carried)
        env[index_var] = loop_target
        saved_block, saved_env = self.block, self.env
        self.block, self.env = [], env
        self.loops.append(loop)
        for t, seq in prologue_items:
            item = ast.Subscript(value=seq, slice=ast.Name(loop_target, ast.Load()), ctx=ast.Load())
            self.assign(t, item, like=s)
        for st in s.body:
            self.stmt(st)
        self.copy_back(loop, like=s, at_end=True)
        self.loops.pop()
        body = self.block or [ast.Pass()]
        self.block, self.env = saved_block, saved_env
        self.env[index_var] = loop_target
        for var, name in loop.carried.items():
            self.env[var] = name
        self.loop_names.add(loop_target)
        iterable.args = [self.snapshot(a, body, like=s) for a in iterable.args]
        self.emit(_with_carried(ast.For(target=ast.Name(loop_target, ast.Store()), iter=iterable, body=body,
                                        orelse=[], type_comment=None), loop), like=s)

    def is_builtin(self, func, obj) -> bool:
        return isinstance(func, ast.Name) and func.id not in self.locals \
            and self.p.resolve(func.id) is obj

    # --- expressions -------------------------------------------------------------------------
    def atom(self, e: ast.expr) -> ast.expr:
        """``e`` as an atom: a name, a constant or a module attribute."""
        rhs = self.rhs(e)
        if not self.is_atom(rhs):
            name = self.temp()
            self.emit(ast.Assign(targets=[ast.Name(name, ast.Store())], value=rhs), like=e)
            rhs = ast.Name(name, ast.Load())
        rhs._s2sad_done = True                      # already renamed: never rename twice
        return rhs

    def is_atom(self, e) -> bool:
        if isinstance(e, (ast.Name, ast.Constant)):
            return True
        return isinstance(e, ast.Attribute) and self.is_global_chain(e)

    def is_global_chain(self, e) -> bool:
        """``np.linalg.norm``, ``math.pi``: an attribute path from a module or global name."""
        while isinstance(e, ast.Attribute):
            e = e.value
        if not isinstance(e, ast.Name) or e.id in self.locals:
            return False
        value = self.p.resolve(e.id)
        return isinstance(value, (types.ModuleType, Opaque))

    def test(self, e: ast.expr) -> ast.expr:
        """A condition: an atom, a comparison of atoms, ``not atom``, or and/or of those."""
        if getattr(e, "_s2sad_done", False):
            return e
        if isinstance(e, ast.BoolOp):
            saved = self.block
            self.block = []
            values = [self.test(v) for v in e.values]
            emitted, self.block = self.block, saved
            if not emitted:
                return ast.BoolOp(op=e.op, values=values)
            self.block.extend(emitted[:0])
            return self.atom(e)
        if isinstance(e, ast.Compare):
            return self.rhs(e)
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            return ast.UnaryOp(op=ast.Not(), operand=self.atom(e.operand))
        return self.atom(e)

    def rhs(self, e: ast.expr) -> ast.expr:
        """``e`` as one operation over atoms (emitting what its operands need)."""
        if getattr(e, "_s2sad_done", False):
            return e
        method = getattr(self, "e_" + type(e).__name__, None)
        if method is None:
            raise unsupported(self.p, e)
        return ast.copy_location(method(e), e)

    def e_Constant(self, e):
        return ast.Constant(value=e.value)

    def e_Name(self, e):
        if e.id in self.local_functions and e.id not in self.env:
            raise unsupported(self.p, e, "a local function used as a value",
                              hint="call it directly, or define it at module level to pass it around")
        if e.id in self.env:
            return ast.Name(self.env[e.id], ast.Load())
        if e.id in self.locals and e.id not in RESERVED:
            # assigned somewhere in the function but not on this path
            return ast.Name(e.id, ast.Load())
        return ast.Name(e.id, ast.Load())

    def e_BinOp(self, e):
        # a left-deep chain (x*1 + x*2 + ... , thousands of terms) is lowered in a loop, not
        # by recursion: one temporary per inner operation, evaluated in Python's order
        chain = [e]
        while isinstance(chain[-1].left, ast.BinOp) and not getattr(chain[-1].left, "_s2sad_done", False):
            chain.append(chain[-1].left)
        left = self.atom(chain[-1].left)
        for inner in reversed(chain[1:]):
            value = ast.copy_location(ast.BinOp(left=left, op=inner.op, right=self.atom(inner.right)), inner)
            name = self.temp()
            self.emit(ast.Assign(targets=[ast.Name(name, ast.Store())], value=value), like=inner)
            left = ast.Name(name, ast.Load())
            left._s2sad_done = True
        right = self.atom(e.right)
        return ast.BinOp(left=left, op=e.op, right=right)

    def e_UnaryOp(self, e):
        if isinstance(e.op, (ast.USub, ast.UAdd)) and isinstance(e.operand, ast.Constant) \
                and isinstance(e.operand.value, (int, float, complex)) \
                and not isinstance(e.operand.value, bool):
            return ast.Constant(value=-e.operand.value if isinstance(e.op, ast.USub) else e.operand.value)
        return ast.UnaryOp(op=e.op, operand=self.atom(e.operand))

    def e_Compare(self, e):
        left = self.atom(e.left)
        comparators = [self.atom(c) for c in e.comparators]
        return ast.Compare(left=left, ops=e.ops, comparators=comparators)

    def e_BoolOp(self, e):
        # a and b  ==  (b if a else a);   a or b  ==  (a if a else b)
        result = self.temp()
        first = self.atom(e.values[0])
        rest = e.values[1:]
        rest_expr = rest[0] if len(rest) == 1 else ast.copy_location(ast.BoolOp(op=e.op, values=rest), e)
        env0 = dict(self.env)
        saved = self.block
        self.block = []
        value = self.atom(rest_expr)
        other = self.block + [ast.copy_location(ast.Assign(targets=[ast.Name(result, ast.Store())], value=value), e)]
        self.block = saved
        self.env = env0
        short = [ast.copy_location(ast.Assign(targets=[ast.Name(result, ast.Store())], value=first), e)]
        if isinstance(e.op, ast.And):
            node = ast.If(test=first, body=other, orelse=short)
        else:
            node = ast.If(test=first, body=short, orelse=other)
        self.emit(node, like=e)
        return ast.Name(result, ast.Load())

    def e_IfExp(self, e):
        result = self.temp()
        self.ifexp_into(e, result)
        return ast.Name(result, ast.Load())

    def ifexp_into(self, e, result):
        """``result = body if test else orelse`` as an if statement."""
        test = self.test(e.test)
        env0 = dict(self.env)
        branches = []
        for branch in (e.body, e.orelse):
            saved = self.block
            self.block = []
            self.env = dict(env0)
            value = self.rhs(branch)
            self.emit(ast.Assign(targets=[ast.Name(result, ast.Store())], value=value), like=branch)
            branches.append(self.block)
            self.block = saved
        self.env = env0
        self.emit(ast.If(test=test, body=branches[0], orelse=branches[1]), like=e)

    def e_ListComp(self, e):
        """``[elt for v in it if c]`` -> ``t = []`` and a loop that appends."""
        result = self.temp()
        self.locals.add(result)
        self.emit(ast.Assign(targets=[ast.Name(result, ast.Store())], value=ast.List(elts=[], ctx=ast.Load())),
                  like=e)
        # comprehension variables do not leak: give them fresh names
        renames = {}
        for gen in e.generators:
            if gen.is_async:
                raise unsupported(self.p, e, "async comprehension")
            for n in walk(gen.target):
                if isinstance(n, ast.Name):
                    renames[n.id] = self.fresh(n.id)
                    self.locals.add(renames[n.id])
        e = _RenameLoads(renames).visit(copy.deepcopy(e))
        inner = [ast.copy_location(ast.Expr(value=ast.Call(
            func=ast.Attribute(value=ast.Name(result, ast.Load()), attr="append", ctx=ast.Load()),
            args=[e.elt], keywords=[])), e)]
        for gen in reversed(e.generators):
            for cond in reversed(gen.ifs):
                inner = [ast.copy_location(ast.If(test=cond, body=inner, orelse=[]), e)]
            inner = [ast.copy_location(ast.For(target=gen.target, iter=gen.iter, body=inner, orelse=[],
                                               type_comment=None), e)]
        loads = self._loads_in(inner)
        for k, v in loads.items():
            self.total_loads[k] = self.total_loads.get(k, 0) + v
        self.env[result] = result
        self.claimed.add(result)
        for s in inner:
            self.stmt(s)
        return ast.Name(self.env[result], ast.Load())

    e_GeneratorExp = e_ListComp

    def e_Attribute(self, e):
        if self.is_global_chain(e):
            return _strip(e)
        return ast.Attribute(value=self.atom(e.value), attr=e.attr, ctx=ast.Load())

    def e_Subscript(self, e):
        value = self.atom(e.value)
        return ast.Subscript(value=value, slice=self.index(e.slice), ctx=ast.Load())

    def index(self, s):
        if isinstance(s, ast.Slice):
            return ast.Slice(lower=self.atom(s.lower) if s.lower is not None else None,
                             upper=self.atom(s.upper) if s.upper is not None else None,
                             step=self.atom(s.step) if s.step is not None else None)
        if isinstance(s, ast.Tuple):
            return ast.Tuple(elts=[self.index(x) for x in s.elts], ctx=ast.Load())
        if hasattr(ast, "Index") and isinstance(s, getattr(ast, "Index")):   # Python < 3.9
            return self.index(s.value)
        return self.atom(s)

    def e_Tuple(self, e):
        return ast.Tuple(elts=[self.atom(x) for x in e.elts], ctx=ast.Load())

    def e_List(self, e):
        return ast.List(elts=[self.atom(x) for x in e.elts], ctx=ast.Load())

    def arg(self, a):
        if isinstance(a, ast.Starred):
            raise unsupported(self.p, a)
        if isinstance(a, (ast.Tuple, ast.List)):
            return type(a)(elts=[self.atom(x) for x in a.elts], ctx=ast.Load())
        return self.atom(a)

    # --- local functions: nested def and lambdas bound to names, inlined where called ----------
    def s_FunctionDef(self, s):
        if s.decorator_list:
            raise unsupported(self.p, s, "a decorated nested function",
                              hint="define it at module level")
        self.local_functions[s.name] = s
        self.env.pop(s.name, None)

    def inline(self, fn_node, call):
        """The value of ``call`` to a local function, its body inlined here."""
        depth = self.inlining.get(id(fn_node), 0)
        if depth >= 16:
            raise unsupported(self.p, call, "a recursive nested function",
                              hint="define the recursive function at module level")
        args = fn_node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            raise unsupported(self.p, call, "a local function with *args, **kwargs or keyword-only "
                              "parameters", hint="define it at module level")
        params = [a.arg for a in args.args]
        defaults = dict(zip(params[len(params) - len(args.defaults):], args.defaults))
        given = {}
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            raise unsupported(self.p, call, "starred arguments", hint="pass the arguments one by one")
        if len(call.args) > len(params):
            raise unsupported(self.p, call, f"too many arguments for {fn_node.name}()")
        for p, a in zip(params, call.args):
            given[p] = a
        for kw in call.keywords:
            if kw.arg not in params or kw.arg in given:
                raise unsupported(self.p, call, f"argument {kw.arg!r} of {fn_node.name}()")
            given[kw.arg] = kw.value
        atoms = {}
        for p in params:
            if p in given:
                atoms[p] = self.atom(given[p])
            elif p in defaults:
                atoms[p] = self.atom(defaults[p])
            else:
                raise unsupported(self.p, call, f"a call of {fn_node.name}() without {p!r}")
        # the callee's own names get fresh names; free names are the caller's (late binding)
        body = copy.deepcopy(fn_node.body)
        if isinstance(body, ast.expr):
            body = [ast.copy_location(ast.Return(value=body), body)]
        local = set(params)
        for st in body:
            for n in walk(st):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                    local.add(n.id)
                elif isinstance(n, ast.FunctionDef):
                    local.add(n.name)
        renames = {v: self.fresh(v) for v in sorted(local)}
        body = [_RenameLoads(renames).visit(st) for st in body]
        for st in body:
            for n in walk(st):
                if isinstance(n, ast.FunctionDef) and n.name in renames:
                    n.name = renames[n.name]
        for v in renames.values():
            self.locals.add(v)
        for p in params:
            self.env[renames[p]] = atoms[p].id if isinstance(atoms[p], ast.Name) else None
            if isinstance(atoms[p], ast.Name):
                self.claimed.add(renames[p])
            else:
                self.assign_name(renames[p], atoms[p], like=call)
        for p in params:
            if self.env.get(renames[p]) is None:
                self.env.pop(renames[p], None)
        body = self._lower_loop_else(body)
        body = self._lower_loop_returns(body)
        body = _restructure(body, self._flag)
        for k, n in self._loads_in(body).items():
            self.total_loads[k] = self.total_loads.get(k, 0) + n
        saved_result = self.result_base
        self.result_base = f"<inline {id(call)}>"
        annotate_liveness(body, {self.result_base}, self.result_base)
        self.inlining[id(fn_node)] = depth + 1
        try:
            for st in body:
                self.stmt(st)
            result = self.env.get(self.result_base)
        finally:
            self.inlining[id(fn_node)] = depth
            self.env.pop(self.result_base, None)
            self.result_base = saved_result
        if result is None:
            return ast.Constant(value=None)
        return ast.Name(result, ast.Load())

    def e_Lambda(self, e):
        raise unsupported(self.p, e, "a lambda here",
                          hint="bind it to a name first (`sq = lambda v: v * v`) and call it, or use def")

    def e_Call(self, e):
        func = e.func
        if isinstance(func, ast.Name) and func.id in self.local_functions and func.id not in self.env:
            return self.inline(self.local_functions[func.id], e)
        if isinstance(func, ast.Name):
            if func.id in self.env:
                raise unsupported(self.p, e, "a call of a local variable",
                                  hint="call a function defined at module level")
            func = ast.Name(func.id, ast.Load())
        elif isinstance(func, ast.Attribute) and self.is_global_chain(func):
            func = _strip(func)
        elif isinstance(func, ast.Attribute):
            func = ast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=ast.Load())
        else:
            raise unsupported(self.p, e, "a call of a computed function",
                              hint="call a named function")
        resolved = _resolve_chain(self.p, func) if isinstance(func, ast.Name) or self.is_global_chain(func) \
            else None
        # out= of NumPy functions and of methods of local arrays (a user function's `out`
        # parameter is an ordinary parameter)
        numpy_call = _is_numpy(resolved) or (isinstance(func, ast.Attribute) and resolved is None)
        out = next((kw.value for kw in e.keywords if kw.arg == "out"), None) if numpy_call else None
        if isinstance(resolved, np.ufunc) and resolved.nout > 1 and len(e.args) > resolved.nin:
            raise unsupported(self.p, e, f"outputs of {resolved.__name__} given by position",
                              hint="assign the results instead: `a, b = np.modf(x)`")
        position = positional_out(resolved, len(e.args)) if _is_numpy(resolved) else None
        if position is not None and out is None:
            # np.exp(x, h): the argument in out's place is out
            out = e.args[position]
            e = ast.copy_location(ast.Call(func=e.func, args=e.args[:position] + e.args[position + 1:],
                                           keywords=list(e.keywords) + [ast.keyword(arg="out", value=out)]), e)
        if isinstance(out, ast.Tuple) and len(out.elts) == 1:
            out = out.elts[0]
        out = out.id if isinstance(out, ast.Name) and out.id in self.env else None
        if any(kw.arg == "where" for kw in e.keywords):
            out = None          # where= keeps h's other elements: left to the effects analysis
        # a user function receives a list as one value: a display passed to it is named first
        # (its adjoint is then a list, spread over the elements where the display is built)
        arg = self.atom if self.is_user_function(func) else self.arg
        args = [arg(a) for a in e.args]
        keywords = []
        for kw in e.keywords:
            if kw.arg is None:
                raise unsupported(self.p, kw.value, "`**` arguments", hint="pass keywords one by one")
            if kw.arg == "out" and out is not None and numpy_call:
                continue
            keywords.append(ast.keyword(arg=kw.arg, value=arg(kw.value)))
        call = ast.Call(func=func, args=args, keywords=keywords)
        if out is not None:
            # f(x, out=h) is h[...] = f(x) (the result broadcast into h), and its value is h
            value = self.temp()
            self.emit(ast.Assign(targets=[ast.Name(value, ast.Store())], value=call), like=e)
            self.write_whole(out, ast.Name(value, ast.Load()), like=e)
            return ast.Name(self.env[out], ast.Load())
        return call

    def is_user_function(self, func) -> bool:
        """True when ``func`` names a Python function without a derivative rule (s2sad
        transforms its source): a module-level def, a cached one or a bound method."""
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or root.id in self.locals:
            return False
        value = _resolve_chain(self.p, func)
        return (isinstance(value, (types.FunctionType, StaticFunction)) or user_function_like(value)) \
            and rules.lookup(value) is None and not rules.is_nondifferentiable(value)

def positional_out(func, n_args):
    """The position of ``out`` among ``n_args`` positional arguments of a call of ``func``
    (a ufunc takes it after its inputs: ``np.exp(x, h)``), or None."""
    if func is None:
        return None
    if isinstance(func, np.ufunc):
        return func.nin if n_args > func.nin else None
    try:
        import inspect
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    for k, p in enumerate(params):
        if p.kind in (p.VAR_POSITIONAL, p.KEYWORD_ONLY, p.VAR_KEYWORD):
            return None
        if p.name == "out":
            return k if k < n_args else None
    return None


def _is_numpy(value) -> bool:
    return isinstance(value, np.ufunc) or (callable(value) and
                                           str(getattr(value, "__module__", "") or "").startswith("numpy"))


def _resolve_chain(parsed, node):
    """The value of a global name or module attribute chain, or None."""
    if isinstance(node, ast.Name):
        return parsed.resolve(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve_chain(parsed, node.value)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def _local_function_nodes(fn) -> set:
    """Nested defs and lambdas bound to names: allowed, they are inlined where called."""
    allowed = set()
    for node in walk(fn):
        if node is fn:
            continue
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                for s in block:
                    if isinstance(s, ast.FunctionDef):
                        allowed.add(s)
                    elif isinstance(s, ast.Assign) and isinstance(s.value, ast.Lambda) \
                            and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
                        allowed.add(s.value)
    for s in fn.body:
        if isinstance(s, ast.FunctionDef):
            allowed.add(s)
        elif isinstance(s, ast.Assign) and isinstance(s.value, ast.Lambda) \
                and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
            allowed.add(s.value)
    return allowed


_VIEW_METHODS = {"reshape", "ravel", "view", "transpose", "squeeze", "swapaxes"}


def _is_view_of(rhs, aliases) -> bool:
    """True when ``rhs`` may share memory with one of ``aliases``."""
    if isinstance(rhs, ast.Name):
        return rhs.id in aliases
    if isinstance(rhs, ast.Subscript) or (isinstance(rhs, ast.Attribute) and rhs.attr == "T"):
        return isinstance(rhs.value, ast.Name) and rhs.value.id in aliases
    if isinstance(rhs, ast.Call) and isinstance(rhs.func, ast.Attribute) and rhs.func.attr in _VIEW_METHODS:
        return isinstance(rhs.func.value, ast.Name) and rhs.func.value.id in aliases
    return False


def _has_return(block) -> bool:
    for s in block:
        if isinstance(s, ast.Return):
            return True
        for field in ("body", "orelse"):
            sub = getattr(s, field, None)
            if isinstance(sub, list) and _has_return(sub):
                return True
    return False


def _mark_breaks(block, flag):
    """Set ``flag`` before every ``break`` of this loop (not of inner loops)."""
    out = []
    for s in block:
        if isinstance(s, ast.Break):
            out.append(ast.copy_location(ast.Assign(targets=[ast.Name(flag, ast.Store())],
                                                    value=ast.Constant(True)), s))
        elif isinstance(s, ast.If):
            s.body = _mark_breaks(s.body, flag)
            s.orelse = _mark_breaks(s.orelse, flag)
        out.append(s)
    return out


def _returns_to_breaks(block, flag, value):
    """Inside a loop: ``return e`` -> ``value = e; flag = True; break``; inner loops
    that returned break on."""
    out = []
    for s in block:
        if isinstance(s, ast.Return):
            out.append(ast.copy_location(ast.Assign(targets=[ast.Name(value, ast.Store())],
                                                    value=s.value or ast.Constant(None)), s))
            out.append(ast.copy_location(ast.Assign(targets=[ast.Name(flag, ast.Store())],
                                                    value=ast.Constant(True)), s))
            out.append(ast.copy_location(ast.Break(), s))
            continue
        if isinstance(s, ast.If):
            s.body = _returns_to_breaks(s.body, flag, value)
            s.orelse = _returns_to_breaks(s.orelse, flag, value)
        elif isinstance(s, (ast.For, ast.While)) and _has_return(s.body):
            s.body = _returns_to_breaks(s.body, flag, value)
            out.append(s)
            out.append(ast.copy_location(ast.If(test=ast.Name(flag, ast.Load()),
                                                body=[ast.copy_location(ast.Break(), s)], orelse=[]), s))
            continue
        out.append(s)
    return out


class _RenameLoads(ast.NodeTransformer):
    """Rename comprehension variables (loads and stores) inside one comprehension."""

    def __init__(self, renames):
        self.renames = renames

    def visit_Name(self, node):
        if node.id in self.renames:
            return ast.copy_location(ast.Name(self.renames[node.id], node.ctx), node)
        return node


def _with_carried(node, loop):
    """Record on a loop the names it carries across iterations (assigned at its exits)."""
    node._s2sad_carried = set(loop.carried.values())
    return node


def _done(atom):
    """Mark an already normalized atom so it is not renamed again."""
    atom = copy.copy(atom)
    atom._s2sad_done = True
    return atom


def _strip(e):
    """A fresh copy of a global attribute chain (no stale contexts)."""
    if isinstance(e, ast.Attribute):
        return ast.Attribute(value=_strip(e.value), attr=e.attr, ctx=ast.Load())
    return ast.Name(e.id, ast.Load())


def _rename_last_definition(block, old, new) -> bool:
    """Rename the definition ``old = ...`` at the top of ``block`` to ``new`` when
    nothing after it reads ``old`` (saves a copy at a join point)."""
    for i in range(len(block) - 1, -1, -1):
        stmt = block[i]
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == old:
            for later in block[i + 1:]:
                for node in walk(later):
                    if isinstance(node, ast.Name) and node.id == old:
                        return False
            stmt.targets[0].id = new
            return True
        for node in walk(stmt):
            if isinstance(node, ast.Name) and node.id == old and isinstance(node.ctx, ast.Store):
                return False
    return False


def copy_tree(node):
    """``copy.deepcopy`` of an AST without recursion (an expression may be thousands deep)."""
    def shallow(n):
        new = n.__class__.__new__(n.__class__)
        new.__dict__.update(n.__dict__)
        return new
    root = shallow(node)
    stack = [root]
    while stack:
        new = stack.pop()
        for key, value in list(new.__dict__.items()):
            if isinstance(value, ast.AST):
                value = shallow(value)
                stack.append(value)
                setattr(new, key, value)
            elif isinstance(value, list):
                items = [shallow(v) if isinstance(v, ast.AST) else v for v in value]
                stack.extend(v for v in items if isinstance(v, ast.AST))
                setattr(new, key, items)
    return root


_POSITIONS = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def fix_locations(node):
    """``ast.fix_missing_locations`` without recursion, and without visiting contexts and
    operators (they have no location): a node missing a position takes its parent's (a
    missing start is an unset one, a missing end an unset or None one)."""
    AST = ast.AST
    stack = [(node, (1, 0, 1, 0))]
    pop, push = stack.pop, stack.append
    while stack:
        n, parent = pop()
        attributes = n._attributes
        if attributes:
            d = n.__dict__
            position = list(parent)
            for k, attr in enumerate(_POSITIONS):
                if attr in attributes:
                    if (attr not in d) if k < 2 else (d.get(attr) is None):
                        d[attr] = position[k]
                    else:
                        position[k] = d[attr]
            parent = tuple(position)
        children = []
        for field in child_fields(n.__class__):
            v = getattr(n, field, None)
            if v is None:
                continue
            if v.__class__ is list:
                children.extend(x for x in v if isinstance(x, AST))
            elif isinstance(v, AST):
                children.append(v)
        for child in reversed(children):
            push((child, parent))
    return node


def expression_depth(node) -> int:
    """How deeply the expressions under ``node`` nest (computed without recursion)."""
    deepest, stack = 0, [(node, 0)]
    while stack:
        n, d = stack.pop()
        if isinstance(n, ast.expr):
            d += 1
            deepest = max(deepest, d)
        stack.extend((c, d) for c in ast.iter_child_nodes(n))
    return deepest


def too_deep(parsed: Parsed, exc: RecursionError) -> UnsupportedSyntaxError:
    """The error for a program s2sad cannot transform within Python's recursion limit: at the
    statement whose expression nests most deeply."""
    worst, depth = parsed.node, 0
    stack = list(parsed.node.body)
    while stack:
        st = stack.pop()
        own = [c for c in ast.iter_child_nodes(st) if isinstance(c, ast.expr)]
        d = max((expression_depth(c) for c in own), default=0)
        if d > depth:
            worst, depth = st, d
        for key in ("body", "orelse"):
            stack.extend(getattr(st, key, None) or [])
    return parsed.error(UnsupportedSyntaxError, worst,
                        f"s2sad does not support an expression nested {depth} levels deep here "
                        f"(Python's recursion limit: {exc})",
                        hint="split the expression into several statements with intermediate "
                             "variables (sums and products of many terms are fine; deeply nested "
                             "calls or parentheses are not)")


@pause_gc
def normalize(parsed: Parsed) -> Normalized:
    """Lower ``parsed`` to three-address SSA form (see the module docstring).

    Long left-deep operator chains are lowered iteratively, so the output (flat three-address
    code) has bounded nesting whatever the input's; an expression nested too deeply for the
    rest raises :class:`UnsupportedSyntaxError` at its statement, never ``RecursionError``.
    """
    renamed = _rename_reserved(parsed)
    try:
        norm = _Normalizer(parsed).run()
    except RecursionError as exc:
        raise too_deep(parsed, exc) from None
    norm.renamed = renamed
    return norm


def _runtime_value(name: str):
    """What generated code means by a reserved name (``np``, ``unreduce``, ``len`` ...)."""
    import builtins
    import math
    import numpy
    if name in GENERATED_BUILTINS:
        return getattr(builtins, name)
    return {"np": numpy, "math": math}.get(name, getattr(runtime, name, None))


def _rename_reserved(parsed: Parsed) -> dict:
    """Generated code calls runtime helpers (``unreduce``, ``zeros_like``, ``stack`` ...), NumPy
    and a few builtins (``len``, ``range`` ...) by their RESERVED names.  Before lowering (so the
    names the normalizer itself writes, ``range(len(xs))``, keep meaning the builtins), every
    occurrence in the user's function of a reserved name that is a parameter, or that resolves
    (global, closure, builtin) to something else than the runtime's object (the user's own
    ``def unreduce``), is renamed (``unreduce_1``); a resolved one is bound as a closure value
    under its new name, and the derivative is guarded on the user's binding (s2sad/api.py), so
    rebinding it re-transforms.  Locals that clash are left to the normalizer's versions.
    Returns new name -> the user's name."""
    fn = parsed.node
    names = {n.id for n in walk(fn) if isinstance(n, ast.Name)}
    args = {a.arg for a in walk(fn) if isinstance(a, ast.arg)}
    params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    clash, bind = {}, {}
    for name in sorted((names | params) & RESERVED):
        if name not in params:
            value = parsed.resolve(name, Opaque(name))
            if isinstance(value, Opaque) or value is _runtime_value(name) or \
                    (name == "s2sad" and getattr(value, "__name__", None) == "s2sad"):
                continue
            bind[name] = value
        taken = names | args | RESERVED | set(parsed.closure) | set(clash.values())
        k = 1
        while f"{name}_{k}" in taken:
            k += 1
        clash[name] = f"{name}_{k}"
    if not clash:
        return {}
    fn = parsed.node = copy_tree(fn)
    for node in walk(fn):
        if isinstance(node, ast.Name) and node.id in clash:
            node.id = clash[node.id]
        elif isinstance(node, ast.arg) and node.arg in clash:
            node.arg = clash[node.arg]
    for name, value in bind.items():
        parsed.closure[clash[name]] = value
        parsed.closure.pop(name, None)
    return {new: name for name, new in clash.items()}


_CACHE: dict = {}


def normalized(fn, namespace: dict | None = None) -> Normalized:
    """Parse and normalize a function (live, or a CLI StaticFunction) once."""
    from .parse import parse_any
    key = id(fn)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is fn:
        return hit[1]
    norm = normalize(parse_any(fn, namespace))
    _CACHE[key] = (fn, norm)
    return norm
