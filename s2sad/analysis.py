"""Stage 3: what the transformers need to know about a normalized function.

* :func:`resolve_callee` — what a call in the body calls: a rule key, or a user function.
* :class:`Activity` — which names are *active*: they depend differentiably on
  the inputs we differentiate (varied) and the output depends on them (useful).
  Only active names get adjoints or tangents.
* :func:`infer_ndims` — the number of dimensions of each name when it is known
  (0 for a scalar), from the argument types a derivative is specialised for.
  The transformers use it to emit the cheapest correct code: no ``unbroadcast``
  between scalars, ``np.sum`` where a scalar meets an array.
"""
from __future__ import annotations

import ast
import collections
import functools
import gc
import numbers
import types

import numpy as np

from . import rules
from .errors import UnsupportedSyntaxError
from .parse import Opaque, Parsed, StaticFunction


class Callee:
    """What a call statement calls."""

    def __init__(self, key=None, rule=None, nondiff=False, user=None, name="?", receiver=None):
        self.key = key              # the rule key (function object, ("method", m), ...)
        self.rule = rule            # rules.Rule or None
        self.nondiff = nondiff      # output carries no derivative
        self.user = user            # a user function with source (transformed recursively)
        self.name = name            # for messages
        self.receiver = receiver    # the atom a method is called on


def dotted(node) -> str:
    if isinstance(node, ast.Attribute):
        return dotted(node.value) + "." + node.attr
    if isinstance(node, ast.Name):
        return node.id
    return "<expr>"


def resolve_value(parsed: Parsed, node):
    """The value of a global name or module attribute chain (``np.linalg.norm``)."""
    if isinstance(node, ast.Name):
        return parsed.resolve(node.id, Opaque(node.id))
    if isinstance(node, ast.Attribute):
        base = resolve_value(parsed, node.value)
        if isinstance(base, Opaque):
            return Opaque(dotted(node))
        return getattr(base, node.attr, Opaque(dotted(node)))
    return Opaque("<expr>")


def user_function_like(value) -> bool:
    """A user's function reached through a cache (``functools.lru_cache``) or bound to an
    object (a bound method): parsed like a function; parse_function checks its decorators."""
    if isinstance(value, types.MethodType):
        return isinstance(value.__func__, types.FunctionType) and rules.lookup(value) is None
    return isinstance(value, functools._lru_cache_wrapper) and rules.lookup(value) is None


def basic_index(index, nd, unknown=None, keys=False) -> bool:
    """True when ``index`` is basic indexing (ints, slices, None, Ellipsis, scalar names): its
    result is a view, and a write through it lands where it says.  A name of unknown ndim
    counts as basic only where ``unknown(name)`` says so; with ``keys``, any constant does
    (a key of a container: its item is shared)."""
    for p in (index.elts if isinstance(index, ast.Tuple) else [index]):
        if isinstance(p, ast.Slice):
            continue
        if isinstance(p, ast.Constant) and (p.value is None or p.value is Ellipsis
                                            or isinstance(p.value, int)):
            continue
        if isinstance(p, ast.Name) and nd.get(p) == 0:
            continue
        if isinstance(p, ast.Name) and unknown is not None and nd.get(p) is None and unknown(p):
            continue
        if keys and isinstance(p, ast.Constant):
            continue
        return False
    return True


def resolve_callee(parsed: Parsed, call: ast.Call, local_names) -> Callee:
    func = call.func
    name = dotted(func)
    if isinstance(func, ast.Attribute) and isinstance(func.value, (ast.Name, ast.Constant)) \
            and (not isinstance(func.value, ast.Name) or func.value.id in local_names):
        key = ("method", func.attr)
        return Callee(key=key, rule=rules.lookup(key), nondiff=rules.is_nondifferentiable(key),
                      name="." + func.attr + "()", receiver=func.value)
    value = resolve_value(parsed, func)
    if isinstance(value, (types.FunctionType, StaticFunction)) or user_function_like(value):
        rule = rules.lookup(value)
        if rule is not None:
            return Callee(key=value, rule=rule, name=name)
        if rules.is_nondifferentiable(value):      # a runtime helper such as zeros_like
            return Callee(key=value, nondiff=True, name=name)
        if _is_in(value, rules.INPLACE):           # accumulate_at: an effect with its own handling
            return Callee(key=value, name=name)
        return Callee(user=value, name=name)
    return Callee(key=value, rule=rules.lookup(value), nondiff=rules.is_nondifferentiable(value),
                  name=name)


def _is_in(value, collection) -> bool:
    """``value in collection``, False for an unhashable value (a CLI StaticFunction)."""
    try:
        return value in collection
    except TypeError:
        return False


def pause_gc(stage):
    """Run ``stage`` (a transformation: it makes tens of thousands of AST nodes, none of them
    garbage in a cycle) with the cyclic garbage collector paused: otherwise every few
    hundred new nodes trigger a collection that scans them all again, which makes the
    transformation of a large function superlinear.  Reference counting still frees
    what the stage drops; the collector resumes (if it was on) when the stage returns."""
    @functools.wraps(stage)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return stage(*args, **kwargs)
        gc.disable()
        try:
            return stage(*args, **kwargs)
        finally:
            gc.enable()
    return paused


# fields that never hold a node the analyses look at: contexts, operators, identifiers
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "name", "kind", "type_comment",
                          "level", "module", "is_async"})
CHILD_FIELDS: dict = {ast.Constant: ()}


def child_fields(cls) -> tuple:
    """The fields of a node class that may hold child nodes other than contexts and
    operators (memoized per class in ``CHILD_FIELDS``)."""
    fields = CHILD_FIELDS.get(cls)
    if fields is None:
        fields = CHILD_FIELDS[cls] = tuple(f for f in cls._fields if f not in _LEAF_FIELDS)
    return fields


def walk(node):
    """``ast.walk`` (breadth first, in the same order) without the leaves no analysis looks
    at: expression contexts and operators.  Every pass walks the program many times, so
    this is their inner loop."""
    queue = collections.deque((node,))
    popleft, append = queue.popleft, queue.append
    AST = ast.AST
    table = CHILD_FIELDS
    while queue:
        n = popleft()
        yield n
        fields = table.get(n.__class__)
        if fields is None:
            fields = child_fields(n.__class__)
        for name in fields:
            v = getattr(n, name, None)
            if v is None:
                continue
            if v.__class__ is list:
                for x in v:
                    if isinstance(x, AST):
                        append(x)
            elif isinstance(v, AST):
                append(v)


def names_in(node) -> list:
    return [n.id for n in walk(node) if n.__class__ is ast.Name]


def iter_stmts(body):
    """Every statement of a body, nested blocks included, in order."""
    for s in body:
        yield s
        for field in ("body", "orelse"):
            sub = getattr(s, field, None)
            if isinstance(sub, list):
                yield from iter_stmts(sub)


def assigned_names(body) -> set:
    out = set()
    for s in iter_stmts(body):
        if isinstance(s, ast.Assign):
            for t in s.targets:
                if isinstance(t, ast.Name):
                    out.add(t.id)
        elif isinstance(s, ast.For):
            out.add(s.target.id)
    return out


def _reachable(start: set, edges: dict) -> set:
    """``start`` and every name reachable from it along ``edges`` (name -> names)."""
    seen, work = set(start), list(start)
    while work:
        for nxt in edges.get(work.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                work.append(nxt)
    return seen


class Activity:
    """Varied, useful and active names of a normalized function."""

    def __init__(self, fn: ast.FunctionDef, parsed: Parsed, wrt: set, outputs: set):
        self.parsed = parsed
        self.locals = {a.arg for a in fn.args.args + fn.args.posonlyargs + fn.args.kwonlyargs} \
            | assigned_names(fn.body)
        # flow-insensitive, so both are reachability over the flow edges, each edge followed
        # once (a worklist): varied forward from ``wrt``, useful backward from ``outputs``
        users, sources = {}, {}
        for s in iter_stmts(fn.body):
            for target, inputs in self.flows(s):
                sources.setdefault(target, []).extend(inputs)
                for i in inputs:
                    users.setdefault(i, []).append(target)
        self.varied = _reachable(set(wrt), users)
        self.useful = _reachable(set(outputs), sources)
        self.active = self.varied & self.useful

    def flows(self, s):
        """(target, names it depends on differentiably) for one statement."""
        if isinstance(s, ast.Assign):
            target = s.targets[0]
            if isinstance(target, ast.Name):
                return [(target.id, self.diff_inputs(s.value))]
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                # A[i] = v: A now depends on v (and on its old self)
                return [(target.value.id, self.diff_inputs(s.value) + [target.value.id])]
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            call = s.value
            if isinstance(call.func, ast.Attribute) and call.func.attr == "append" \
                    and isinstance(call.func.value, ast.Name):
                return [(call.func.value.id, [n for a in call.args for n in names_in(a)])]
            key = resolve_callee(self.parsed, call, self.locals).key
            if key in rules.INPLACE and call.args and isinstance(call.args[0], ast.Name):
                # accumulate_at(x, index, g): x now depends on g (and on its old self)
                return [(call.args[0].id, [n for a in call.args for n in names_in(a)])]
        return []

    def diff_inputs(self, rhs) -> list:
        """Names ``rhs`` depends on differentiably."""
        if isinstance(rhs, ast.Name):
            return [rhs.id]
        if isinstance(rhs, (ast.Constant, ast.Compare, ast.BoolOp)):
            return []
        if isinstance(rhs, ast.UnaryOp):
            return [] if isinstance(rhs.op, (ast.Not, ast.Invert)) else names_in(rhs.operand)
        if isinstance(rhs, ast.BinOp):
            if isinstance(rhs.op, (ast.FloorDiv, ast.BitAnd, ast.BitOr, ast.BitXor,
                                   ast.LShift, ast.RShift)):
                return []
            return names_in(rhs.left) + names_in(rhs.right)
        if isinstance(rhs, ast.Subscript):
            return names_in(rhs.value)
        if isinstance(rhs, ast.Attribute):
            if isinstance(rhs.value, ast.Name) and rhs.value.id in self.locals:
                if rules.is_nondifferentiable(("attr", rhs.attr)):
                    return []
                return [rhs.value.id]
            return []
        if isinstance(rhs, (ast.Tuple, ast.List)):
            return [n for e in rhs.elts for n in names_in(e)]
        if isinstance(rhs, ast.Call):
            callee = resolve_callee(self.parsed, rhs, self.locals)
            if callee.nondiff and not rules.refused(callee.key):
                return []
            out = [n for a in rhs.args for n in names_in(a)]
            out += [n for kw in rhs.keywords for n in names_in(kw.value)]
            if callee.receiver is not None:
                out += names_in(callee.receiver)
            return out
        return names_in(rhs)


def ndim_of_value(value):
    """0 for a number, ``ndim`` for an array, None when unknown or not numeric."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, numbers.Number):
        return 0
    if isinstance(value, np.ndarray):
        return value.ndim
    return None


class _Bottom:
    """No information yet (optimistic start of the fixed point)."""

    def __repr__(self):
        return "BOTTOM"


BOTTOM = _Bottom()


def _join(a, b):
    if a is BOTTOM:
        return b
    if b is BOTTOM:
        return a
    if a is None or b is None:
        return None
    if isinstance(a, tuple) or isinstance(b, tuple):     # tuples: the ndims of their items
        return a if a == b else None
    return max(a, b)


class NDims:
    """Known ``ndim`` of names of a normalized function (flow-insensitive)."""

    def __init__(self, fn: ast.FunctionDef, parsed: Parsed, arg_ndims: dict):
        self.parsed = parsed
        self.locals = {a.arg for a in fn.args.args + fn.args.posonlyargs + fn.args.kwonlyargs} \
            | assigned_names(fn.body)
        self.ndim = dict(arg_ndims)
        assigns = {}
        self.appends = {}            # list name -> values appended to it
        self.shape_of = {}           # s -> t for `s = t.shape`
        for s in iter_stmts(fn.body):
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
                if getattr(s, "_s2sad_unbound", False):
                    continue           # None on a path where the name has no value: no ndim
                assigns.setdefault(s.targets[0].id, []).append(s.value)
                if isinstance(s.value, ast.Attribute) and s.value.attr == "shape" \
                        and isinstance(s.value.value, ast.Name):
                    self.shape_of[s.targets[0].id] = s.value.value.id
                if isinstance(s.value, (ast.List, ast.Tuple)):
                    self.appends.setdefault(s.targets[0].id, []).extend(s.value.elts)
            elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) \
                    and isinstance(s.value.func, ast.Attribute) and s.value.func.attr == "append" \
                    and isinstance(s.value.func.value, ast.Name) and s.value.args:
                self.appends.setdefault(s.value.func.value.id, []).append(s.value.args[0])
            elif isinstance(s, ast.Assign):
                # an element write may change nothing about ndim, but be safe with lists
                pass
            elif isinstance(s, ast.For):
                self.ndim[s.target.id] = 0         # a loop index: a Python int
        # iterate to a fixed point from BOTTOM: each name's ndim is the join of its definitions
        for name in assigns:
            if name not in arg_ndims:
                self.ndim[name] = BOTTOM
        for _ in range(2 * len(assigns) + 4):
            changed = False
            for name, values in assigns.items():
                if name in arg_ndims:
                    continue
                nd = BOTTOM
                for v in values:
                    if isinstance(v, ast.Constant) and v.value is None:
                        continue        # a name bound before its value (a flag's result, a
                                        # loop name): no arithmetic ever sees the None
                    d = self.of(v)
                    if nd is BOTTOM:
                        nd = d
                    elif d is not BOTTOM and d != nd:
                        nd = None
                if self.ndim.get(name) != nd:
                    self.ndim[name] = nd
                    changed = True
            if not changed:
                break
        for name, nd in self.ndim.items():
            if nd is BOTTOM:
                self.ndim[name] = None

    def get(self, atom):
        """ndim of an atom or None."""
        if isinstance(atom, ast.Constant):
            return ndim_of_value(atom.value)
        if isinstance(atom, ast.Name):
            if atom.id in self.locals:
                return self.ndim.get(atom.id, None)
            return ndim_of_value(resolve_value(self.parsed, atom))
        if isinstance(atom, ast.Attribute):
            return ndim_of_value(resolve_value(self.parsed, atom))
        return None

    def callee_result(self, fn, call):
        """ndim of a user function's result, from its arguments' ndims (BOTTOM inside recursion)."""
        from .normalize import normalized
        key = id(fn)
        if key in _IN_PROGRESS:
            return BOTTOM
        try:
            norm = normalized(fn, self.parsed.namespace)
        except Exception:
            return None
        params = norm.params
        arg_nd = {}
        for p, a in zip(params, call.args):
            arg_nd[p] = self.get(a)
        for kw in call.keywords:
            arg_nd[kw.arg] = self.get(kw.value)
        arg_nd = {p: d for p, d in arg_nd.items() if d is not None and d is not BOTTOM}
        _IN_PROGRESS.add(key)
        try:
            return NDims(norm.node, norm.parsed, arg_nd).get(ast.Name(norm.result, ast.Load()))
        finally:
            _IN_PROGRESS.discard(key)

    def created(self, key, call):
        return _created_ndim(self, key, call)

    def of(self, rhs):
        if isinstance(rhs, (ast.Name, ast.Constant)):
            return self.get(rhs)
        if isinstance(rhs, ast.Attribute):
            if isinstance(rhs.value, ast.Name) and rhs.value.id in self.locals:
                if rhs.attr == "T":
                    return self.get(rhs.value)
                return None
            return self.get(rhs)
        if isinstance(rhs, ast.UnaryOp):
            return self.get(rhs.operand) if isinstance(rhs.op, (ast.USub, ast.UAdd)) else None
        if isinstance(rhs, ast.BinOp):
            a, b = self.get(rhs.left), self.get(rhs.right)
            if isinstance(rhs.op, ast.MatMult):
                if a is BOTTOM or b is BOTTOM:
                    return BOTTOM
                if not isinstance(a, int) or not isinstance(b, int):
                    return None
                return max(a + b - 2, 0) if a and b else None
            return _join(a, b)
        if isinstance(rhs, ast.Tuple):
            return tuple(self.get(e) for e in rhs.elts)
        if isinstance(rhs, ast.Subscript) and isinstance(self.get(rhs.value), tuple):
            items = self.get(rhs.value)
            k = rhs.slice
            if isinstance(k, ast.Constant) and isinstance(k.value, int) and -len(items) <= k.value < len(items):
                return items[k.value]
            return None
        if isinstance(rhs, ast.Subscript) and isinstance(rhs.value, ast.Name) \
                and rhs.value.id in self.appends:
            # an element of a list: the join of what was put in it
            if isinstance(rhs.slice, ast.Slice) or self.get(rhs.slice) != 0 and not (
                    isinstance(rhs.slice, ast.Constant) and isinstance(rhs.slice.value, int)):
                return None
            nd = BOTTOM
            for v in self.appends[rhs.value.id]:
                nd = _join(nd, self.get(v)) if nd is not BOTTOM else self.get(v)
            return nd
        if isinstance(rhs, ast.Subscript):
            base = self.get(rhs.value)
            if base is None or base is BOTTOM:
                return base
            if not isinstance(base, int):
                return None
            return _index_ndim(base, rhs.slice, self)
        if isinstance(rhs, ast.Call):
            callee = resolve_callee(self.parsed, rhs, self.locals)
            rule = callee.rule
            created = self.created(callee.key, rhs)
            if created is not BOTTOM:
                return created
            if callee.user is not None:
                return self.callee_result(callee.user, rhs)
            if _is_in(callee.key, (np.array, np.asarray)) and rhs.args \
                    and isinstance(rhs.args[0], (ast.List, ast.Tuple)) and rhs.args[0].elts:
                # a display: one axis more than its elements (when they agree)
                nds = {self.get(e) for e in rhs.args[0].elts}
                if len(nds) == 1 and isinstance(next(iter(nds)), int):
                    return 1 + nds.pop()
            if rule is None:
                return None
            args = ([callee.receiver] if callee.receiver is not None else []) + list(rhs.args)
            if rule.out == rules.SCALAR:
                return 0
            if rule.out == rules.SAME:
                return self.get(args[0]) if args else None
            if rule.out == rules.ELEMENTWISE:
                nd = 0
                for a in args:
                    nd = _join(nd, self.get(a) if not isinstance(a, (ast.Tuple, ast.List)) else None)
                return nd
            if rule.out == "reduction":
                kws = {kw.arg: kw.value for kw in rhs.keywords}
                n_pos = len(args)
                axis = kws.get("axis", args[1] if n_pos > 1 else ast.Constant(None))
                keep = kws.get("keepdims", args[2] if n_pos > 2 else ast.Constant(False))
                if isinstance(axis, ast.Constant) and axis.value is None and \
                        isinstance(keep, ast.Constant) and not keep.value:
                    return 0
                return None
            key = callee.key
            if key in (np.dot, np.matmul, ("method", "dot")):
                a, b = self.get(args[0]), self.get(args[1]) if len(args) > 1 else None
                if a is BOTTOM or b is BOTTOM:
                    return BOTTOM
                if not isinstance(a, int) or not isinstance(b, int):
                    return None
                if a == 0 or b == 0:
                    return max(a, b)
                return max(a + b - 2, 0)
            return None
        return None


_IN_PROGRESS: set = set()
_SHAPED = {np.zeros, np.ones, np.empty, np.full}
_LIKE = {np.zeros_like, np.ones_like, np.empty_like, np.full_like}


def _created_ndim(nd: NDims, key, call: ast.Call):
    """ndim of an array-creating call (np.zeros(3), np.ones_like(x), ...), BOTTOM if not one."""
    try:
        if key in _SHAPED and call.args:
            shape = call.args[0]
            if isinstance(shape, (ast.Tuple, ast.List)):
                return len(shape.elts)
            if isinstance(shape, ast.Constant) and isinstance(shape.value, int):
                return 1
            if isinstance(shape, ast.Attribute) and shape.attr == "shape":
                return nd.get(shape.value)          # np.full(t.shape, 1.0)
            if isinstance(shape, ast.Name) and shape.id in nd.shape_of:
                return nd.get(ast.Name(nd.shape_of[shape.id], ast.Load()))   # s = t.shape
            return 1 if nd.get(shape) == 0 else None
        if key in _LIKE and call.args:
            return nd.get(call.args[0])
        if key in (np.arange, np.linspace):
            return 1
        if key in (np.eye, np.identity):
            return 2
        from . import runtime
        if key is runtime.unbroadcast and len(call.args) == 2:
            return nd.get(call.args[1])             # summed to the shape of its second argument
    except TypeError:
        return BOTTOM
    return BOTTOM


def _index_ndim(base, index, nd: NDims):
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    out = base
    for p in parts:
        if isinstance(p, ast.Slice):
            continue
        if isinstance(p, ast.Constant):
            if p.value is None:
                out += 1
            elif p.value is Ellipsis:
                continue
            elif isinstance(p.value, int):
                out -= 1
            else:
                return None
        else:
            if nd.get(p) == 0:
                out -= 1
            else:
                return None
    return out if out >= 0 else None


def list_valued_call(call: ast.Call, parsed: Parsed | None, local_names=()) -> bool:
    """Whether ``call`` calls a function whose result is a list (``rules.list_valued``): by
    name, or, with ``parsed``, by the function its name resolves to (``from numpy.linalg
    import eigh``; ``import numpy.linalg as la; la.eigh``)."""
    if dotted(call.func) in rules.LIST_VALUED:
        return True
    root = call.func
    while isinstance(root, ast.Attribute):
        root = root.value
    if parsed is None or not isinstance(root, ast.Name) or root.id in local_names:
        return False
    return rules.is_list_valued(resolve_value(parsed, call.func))


def sequences(fn, parsed: Parsed | None = None) -> tuple:
    """Names holding Python lists or tuples, and those whose elements are sequences.

    Their derivatives are lists too (an adjoint or tangent per element), which
    the transformers index, pop and add differently from arrays.  A value popped
    from a list that holds sequences and numbers alike (the tape of a derivative
    being differentiated again) is a sequence only where it is used as one.
    With ``parsed``, a call of a list-valued function is recognised under any spelling."""
    local_names = assigned_names(fn.body) | {a.arg for a in fn.args.args + fn.args.posonlyargs
                                             + fn.args.kwonlyargs}

    def list_valued(call):
        return list_valued_call(call, parsed, local_names)

    subscripted = {n.value.id for n in walk(fn) if isinstance(n, ast.Subscript)
                   and isinstance(n.value, ast.Name)}
    # names used as lists: indexed, popped or appended to, or passed where a list goes
    # (surely: popped, appended to or passed where a list goes; an array is indexed too)
    surely_list = {n.func.value.id for n in walk(fn) if isinstance(n, ast.Call)
                   and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)}
    surely_list |= {a.id for n in walk(fn) if isinstance(n, ast.Call)
                    and (dotted(n.func) in {"sum", "np.stack", "np.concatenate", "len"} or list_valued(n))
                    for a in n.args if isinstance(a, ast.Name)}
    list_used = subscripted | surely_list
    mixed = set()

    def fixed_point(pops=True):
        seqs, nested = set(), set()
        deep = set()              # lists holding sequences that hold sequences (a tape)
        positions = {}            # tuple (or list of tuples) -> the positions holding sequences
        others = {}               # ... and those holding something else (on another push)
        unknown = set()           # ... where those positions are not known

        def is_seq(e):
            return isinstance(e, (ast.Tuple, ast.List)) or (isinstance(e, ast.Name) and e.id in seqs)

        changed = True
        while changed:
            before = (len(seqs), len(nested), len(deep), len(unknown), sum(map(len, positions.values())),
                      sum(map(len, others.values())))
            for s in iter_stmts(fn.body):
                if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
                    t, v = s.targets[0].id, s.value
                    if isinstance(v, (ast.Tuple, ast.List)):
                        seqs.add(t)
                        if any(is_seq(e) for e in v.elts):
                            nested.add(t)
                            positions.setdefault(t, set()).update(
                                k for k, e in enumerate(v.elts) if is_seq(e))
                    elif isinstance(v, ast.Name) and v.id in seqs:
                        seqs.add(t)
                        if v.id in nested:
                            nested.add(t)
                    elif isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name) and v.value.id in seqs:
                        known = None if v.value.id in unknown else positions.get(v.value.id)
                        if isinstance(v.slice, ast.Slice):
                            seqs.add(t)
                        elif v.value.id in nested and known is not None and \
                                isinstance(v.slice, ast.Constant) and isinstance(v.slice.value, int) \
                                and v.slice.value >= 0:
                            # t = tape_item[k]: a sequence was pushed at position k; where
                            # something else was too (another push), only if surely a list
                            k = v.slice.value
                            if k in known and (t in surely_list or
                                               (t in list_used and k not in others.get(v.value.id, ()))):
                                seqs.add(t)
                        elif v.value.id in nested:
                            seqs.add(t)
                    elif isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) \
                            and v.func.attr == "pop" and isinstance(v.func.value, ast.Name) \
                            and v.func.value.id in nested and pops \
                            and (v.func.value.id not in mixed or t in list_used):
                        seqs.add(t)
                        if v.func.value.id in deep:
                            nested.add(t)
                            if v.func.value.id in unknown:
                                unknown.add(t)
                            positions.setdefault(t, set()).update(positions.get(v.func.value.id, ()))
                            others.setdefault(t, set()).update(others.get(v.func.value.id, ()))
                    elif isinstance(v, ast.Call) and list_valued(v):
                        # a list adjoint or tangent made by generated code (zeros_list, add_lists ...)
                        seqs.add(t)
                        if dotted(v.func) in ("zeros_list", "add_lists"):
                            # shaped like its list argument: nested where it is (m_bar = zeros_list(m))
                            for a in v.args:
                                if isinstance(a, ast.Name) and a.id in nested:
                                    nested.add(t)
                                    if a.id in unknown or a.id not in positions:
                                        unknown.add(t)
                                    positions.setdefault(t, set()).update(positions.get(a.id, ()))
                                    others.setdefault(t, set()).update(others.get(a.id, ()))
                elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) \
                        and isinstance(s.value.func, ast.Attribute) and s.value.func.attr == "append" \
                        and isinstance(s.value.func.value, ast.Name) and s.value.args \
                        and is_seq(s.value.args[0]):
                    nested.add(s.value.func.value.id)
                    item = s.value.args[0]
                    xs = s.value.func.value.id
                    if isinstance(item, (ast.Tuple, ast.List)) and any(is_seq(e) for e in item.elts):
                        deep.add(xs)
                        positions.setdefault(xs, set()).update(
                            k for k, e in enumerate(item.elts) if is_seq(e))
                    if isinstance(item, (ast.Tuple, ast.List)):
                        others.setdefault(xs, set()).update(
                            k for k, e in enumerate(item.elts) if not is_seq(e))
                    elif isinstance(item, ast.Name) and item.id in nested:
                        deep.add(xs)
                        if item.id in unknown or item.id not in positions:
                            unknown.add(xs)
                        positions.setdefault(xs, set()).update(positions.get(item.id, ()))
            changed = (len(seqs), len(nested), len(deep), len(unknown), sum(map(len, positions.values())),
                       sum(map(len, others.values()))) != before
        return seqs, nested, is_seq

    # which lists surely receive something that is not a sequence (judged without what
    # their own pops give back, which would make each pushed value look like a sequence)
    _, _, is_seq = fixed_point(pops=False)
    for s in iter_stmts(fn.body):
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) \
                and isinstance(s.value.func, ast.Attribute) and s.value.func.attr == "append" \
                and isinstance(s.value.func.value, ast.Name) and s.value.args \
                and not is_seq(s.value.args[0]):
            mixed.add(s.value.func.value.id)
    seqs, nested, _ = fixed_point()
    return seqs, nested


def refined_ndims(fn, parsed, arg_ndims: dict) -> NDims:
    """NDims, plus what generated code makes knowable: the values a list's pops and
    tuple reads give back (``t = stack.pop(); a = t[0]``) have the ndims of what was
    appended, and an element of a (reversed) ``range`` is an int."""
    facts = dict(arg_ndims)
    for _ in range(3):
        nd = NDims(fn, parsed, facts)
        appended, popped, ranges = {}, {}, set()
        for s in iter_stmts(fn.body):
            if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) \
                    and isinstance(s.value.func, ast.Attribute) and s.value.func.attr == "append" \
                    and isinstance(s.value.func.value, ast.Name) and s.value.args:
                appended.setdefault(s.value.func.value.id, []).append(s.value.args[0])
        new = {}
        for s in iter_stmts(fn.body):
            if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)):
                continue
            t, v = s.targets[0].id, s.value
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "range":
                ranges.add(t)
            elif isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name) and v.value.id in ranges:
                if isinstance(v.slice, ast.Slice):
                    ranges.add(t)
                else:
                    new[t] = 0
            elif isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "pop" \
                    and isinstance(v.func.value, ast.Name) and v.func.value.id in appended:
                items = appended[v.func.value.id]
                n = getattr(s, "_s2sad_unpacked", None)     # `a, b = stack.pop()`: a pair
                if n is not None:
                    items = [a for a in items if not isinstance(a, (ast.Tuple, ast.List)) or len(a.elts) == n]
                popped[t] = items
                # a popped value used whole is one of the plain items (tuples are read by index)
                nds = {nd.get(a) for a in items if not isinstance(a, (ast.Tuple, ast.List))}
                if len(nds) == 1 and None not in nds:
                    new[t] = nds.pop()
            elif isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name) and v.value.id in popped \
                    and isinstance(v.slice, ast.Constant) and isinstance(v.slice.value, int):
                k = v.slice.value
                nds = {nd.get(a.elts[k]) for a in popped[v.value.id]
                       if isinstance(a, (ast.Tuple, ast.List)) and k < len(a.elts)}
                if len(nds) == 1 and None not in nds:
                    new[t] = nds.pop()
        new = {k: v for k, v in new.items() if k not in facts and v is not BOTTOM}
        if not new:
            return nd
        facts.update(new)
    return NDims(fn, parsed, facts)


# --- effects and aliasing ----------------------------------------------------------------------

# methods and attributes whose result may share memory with the receiver
VIEW_METHODS = {"reshape", "ravel", "view", "transpose", "squeeze", "swapaxes", "diagonal",
                "__array__", "getfield"}
VIEW_ATTRS = {"T", "mT", "real", "imag", "flat", "base"}
# functions whose result may share memory with their first argument
VIEW_FUNCTIONS = {np.asarray, np.asanyarray, np.ascontiguousarray, np.asfortranarray, np.reshape,
                  np.ravel, np.transpose, np.squeeze, np.swapaxes, np.moveaxis, np.rollaxis,
                  np.expand_dims, np.atleast_1d, np.atleast_2d, np.atleast_3d, np.broadcast_to,
                  np.diagonal, np.real, np.imag, np.flip, np.fliplr, np.flipud, np.rot90, np.require}
# methods known to write into their receiver: (what, hint)
MUTATING_METHODS = {
    "fill": "assign a new array: `h = np.full_like(h, a)` (or write `h[...] = a`)",
    "sort": "use `np.sort(x)` (a new array) or `sorted(xs)`",
    "put": "write with an index: `h[idx] = v`",
    "itemset": "write with an index: `h[i] = v`",
    "resize": "build a new array with np.resize or np.concatenate",
    "partition": "use np.partition(x, k) (a new array)",
    "setfield": "build a new array", "setflags": "drop the call", "byteswap": "drop the call",
    "extend": "append the items one by one", "insert": "build a new list: `xs = xs[:i] + [v] + xs[i:]`",
    "remove": "build a new list without the item", "reverse": "use `xs[::-1]` (a new list)",
    "clear": "start a new list: `xs = []`", "__setitem__": "write `h[i] = v`",
    "__iadd__": "write `h = h + v`", "update": "build a new container",
}
# methods known not to write into their receiver (beyond those with rules or no derivative)
PURE_METHODS = {"copy", "astype", "tolist", "item", "index", "count", "flatten", "conj", "conjugate",
                "__len__", "keys", "values", "items", "get", "all", "any", "nonzero", "argsort",
                "argmax", "argmin", "clip", "round", "cumsum", "cumprod", "dot", "sum", "mean", "prod",
                "max", "min", "std", "var", "trace", "repeat", "take", "compress", "searchsorted"}
# functions known to write into an argument: function -> (position of that argument, hint)
_MUTATING_FUNCTIONS = {
    np.copyto: (0, "assign instead: `h[...] = x`, or `h = np.array(x)`"),
    np.put: (0, "write with an index: `h[idx] = v`"),
    np.place: (0, "use np.where (a new array)"),
    np.putmask: (0, "use np.where (a new array)"),
    np.fill_diagonal: (0, "add a diagonal: `h = h + np.diag(v)`"),
    np.random.shuffle: (0, "use a permutation: `h = h[np.random.permutation(len(h))]`"),
}
_ATTRIBUTE_WRITERS = {setattr, delattr}
# ndarray methods that take an output array by position: its position among the arguments
_METHOD_OUT_POSITION = {"sum": 2, "prod": 2, "mean": 2, "cumsum": 2, "cumprod": 2, "std": 2, "var": 2,
                        "max": 1, "min": 1, "ptp": 1, "all": 1, "any": 1, "argmax": 1, "argmin": 1,
                        "clip": 2, "round": 1, "dot": 1, "take": 2, "trace": 4, "compress": 2,
                        "choose": 1, "conj": 0, "conjugate": 0}
_RUNTIME_VIEWS = {"unbroadcast", "tangent_like", "batch_unbroadcast", "lift_tangents"}


def _shape_readers() -> tuple:
    """The runtime helpers that read their second argument's shape only."""
    from . import runtime
    return runtime.unbroadcast, runtime.batch_unbroadcast


def _global_random(value) -> bool:
    """True for a function of NumPy's or Python's global random state (``np.random.uniform``,
    ``np.random.seed``, ``random.random``): each call changes the state and draws new numbers."""
    import random
    owner = getattr(value, "__self__", None)
    return owner is not None and (owner is np.random.mtrand._rand or owner is getattr(random, "_inst", None))


def _mutated_argument(value):
    """(position, hint) when calling ``value`` writes into one of its arguments, else None."""
    try:
        if value in _MUTATING_FUNCTIONS:
            return _MUTATING_FUNCTIONS[value]
    except TypeError:
        return None
    owner = getattr(value, "__self__", None)
    if isinstance(owner, np.ufunc) and getattr(value, "__name__", "") == "at":
        return (0, "accumulate in a loop, `for k in range(len(idx)): h[idx[k]] += x[k]`, "
                   "or build the array with np.bincount")
    return None


def _element_index(index) -> bool:
    """True when ``A[index] = v`` needs ``A`` to have an axis (a 0-d array allows only
    ``A[()]`` and ``A[...]``; a number no write at all)."""
    return not ((isinstance(index, ast.Tuple) and not index.elts)
                or (isinstance(index, ast.Constant) and index.value is Ellipsis))


def _tapes(fn: ast.FunctionDef, params) -> set:
    """The local lists used only as a stack (a derivative's tape): bound once, to ``[]``,
    and otherwise only in ``T.append(item)`` statements and ``v = T.pop()``.  Nothing
    else can reach such a list, and each pop takes its item out of it."""
    seen, allowed, stores = collections.Counter(), collections.Counter(), collections.Counter()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            seen[node.id] += 1
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            v = node.value
            if isinstance(v, ast.List) and not v.elts:
                allowed[node.targets[0].id] += 1
                stores[node.targets[0].id] += 1
            elif isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "pop" \
                    and isinstance(v.func.value, ast.Name) and not v.args and not v.keywords:
                allowed[v.func.value.id] += 1
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            c = node.value
            if isinstance(c.func, ast.Attribute) and c.func.attr == "append" \
                    and isinstance(c.func.value, ast.Name) and len(c.args) == 1 and not c.keywords:
                allowed[c.func.value.id] += 1
    return {n for n, k in stores.items() if k == 1 and seen[n] == allowed[n] and n not in params}


class _Flow:
    """The abstract state at one program point: for each name the objects it may be
    (``top``: itself or the array it is a view of) and the objects it may contain
    (``contents``: a list's items); who may reach each object (``holders``, kept in
    step, so a write finds the names sharing its memory without scanning them all);
    and the names whose binding an in-place write through another name made stale
    (name -> (the writing statement, the name written through, the slot written)).

    For each *tape* (a local list only appended to and popped, see ``_tapes``): what
    was pushed at each position of its items (``tapes``: tape -> position -> (top,
    contents); position None for an item pushed whole), the pushed objects that may
    have been pushed more than once or inside another item (``unsafe``), and the
    names bound to an item popped from it (``popped``: name -> tape)."""

    def __init__(self, top=None, contents=None, stale=None, tapes=None, unsafe=None, popped=None):
        self.top = dict(top or {})
        self.contents = dict(contents or {})
        self.stale = dict(stale or {})
        self.tapes = {t: dict(pos) for t, pos in (tapes or {}).items()}
        self.unsafe = dict(unsafe or {})
        self.popped = dict(popped or {})
        self.holders = {}
        for n in set(self.top) | set(self.contents):
            for o in self.reach(n):
                self.holders.setdefault(o, set()).add(n)

    def copy(self):
        out = _Flow.__new__(_Flow)
        out.top, out.contents, out.stale = dict(self.top), dict(self.contents), dict(self.stale)
        out.tapes = {t: dict(pos) for t, pos in self.tapes.items()}
        out.unsafe, out.popped = dict(self.unsafe), dict(self.popped)
        out.holders = {o: set(ns) for o, ns in self.holders.items()}
        return out

    def bind(self, n, top=None, contents=None):
        """Set what ``n`` may be (``top``) and contain (``contents``); None keeps it."""
        for o in self.reach(n):
            self.holders.get(o, set()).discard(n)
        if top is not None:
            self.top[n] = frozenset(top)
        if contents is not None:
            self.contents[n] = frozenset(contents)
        for o in self.reach(n):
            self.holders.setdefault(o, set()).add(n)

    def renew(self, site):
        """Statement ``site`` makes a new object again (a list or array made in a loop): the
        one it made before becomes one of its older objects, ``site + ("old",)``, so a write
        into the new one does not touch what holds the older ones (a recency abstraction:
        ``site`` always stands for exactly one object, the last one made)."""
        names = self.holders.pop(site, None)
        if not names:
            return
        old = site + ("old",)
        for n in names:
            for objs in (self.top, self.contents):
                if site in objs.get(n, ()):
                    objs[n] = (objs[n] - {site}) | {old}
            self.holders.setdefault(old, set()).add(n)
        for t, positions in self.tapes.items():      # (a tape's pushed objects are its contents)
            for k, parts in positions.items():
                if any(site in objs for objs in parts):
                    positions[k] = tuple((objs - {site}) | {old} if site in objs else objs for objs in parts)
            if site in self.unsafe.get(t, ()):
                self.unsafe[t] = (self.unsafe[t] - {site}) | {old}

    def push(self, tape, positions):
        """``tape.append(item)``, with the item's (top, contents, is a number) at each position
        (None: the item pushed whole).  An object is safe to pop and write into while it is
        pushed once, as an item or a tuple's element, inside no other item, and made since
        it was pushed last (the last object of its statement: ``renew``).  Numbers (ndim 0:
        no list or array of ndim >= 1 is one) are kept apart, so a loop counter pushed
        again and again does not make the lists beside it unsafe."""
        held = self.tapes.setdefault(tape, {})
        before = frozenset().union(*(objs for parts in held.values() for objs in parts))
        pushed = frozenset().union(*(top | contents for top, contents, _ in positions.values()))
        inner = frozenset().union(*(contents for _, contents, _ in positions.values()))
        unsafe = set(self.unsafe.get(tape, ())) | (before & pushed)
        seen = set()
        for top, _, _ in positions.values():
            unsafe |= (top & seen) | (top & inner)
            unsafe |= {o for o in top if o[0] != "site" or o[-1] == "old"}
            seen |= top
        self.unsafe[tape] = frozenset(unsafe)
        for k, (top, contents, number) in positions.items():
            tops, contents_before, numbers = held.get(k, (frozenset(),) * 3)
            held[k] = (tops | (frozenset() if number else top), contents_before | contents,
                       numbers | (top if number else frozenset()))

    def popped_item(self, tape, k, number=True, length=None, tuple_ok=True):
        """(top, contents) of element ``k`` of an item popped from ``tape`` (None: the item),
        an item unpacked into ``length`` names if known; ``number``: the name bound to it may
        be a number (else only what was pushed as a list or an array can be it); ``tuple_ok``:
        it may be a tuple pushed as a display (else it is an item pushed whole)."""
        held = self.tapes.get(tape, {})
        empty = (frozenset(),) * 3
        whole = held.get(None, empty)
        if k is None:
            # an item pushed whole, or a tuple whose elements are those pushed at its length
            elements = [held[p] for p in held if p is not None and length in (None, p[0]) and tuple_ok]
            if not tuple_ok:
                return whole[0] | (whole[2] if number else frozenset()), whole[1]
            return (whole[0] | (whole[2] if number else frozenset()) | frozenset([("tape", tape)]),
                    frozenset().union(whole[1], *(objs for parts in elements for objs in parts)))
        parts = [held[p] for p in held if p is not None and p[1] == k and length in (None, p[0])]
        top, contents, numbers = (frozenset().union(*objs) for objs in zip(empty, *parts))
        return top | (numbers if number else frozenset()) | whole[1], contents | whole[1]

    def numbers_only(self, tape):
        """The objects ``tape`` received only as numbers (ndim 0)."""
        held = self.tapes.get(tape, {}).values()
        return frozenset().union(*(n for _, _, n in held)) - frozenset().union(*(t for t, _, _ in held))

    def safe_to_write(self, tape, objs) -> bool:
        """True when writing into ``objs`` through a name bound to an item popped from ``tape``
        leaves the tape unchanged: every object is a pushed item's element, pushed once and
        inside no other item, so the one written has left the tape."""
        held = self.tapes.get(tape, {})
        tops = frozenset().union(*(top for top, _, _ in held.values()))
        inner = frozenset().union(*(contents for _, contents, _ in held.values()))
        objs = objs - {("tape", tape)}          # (a popped tuple: nothing to write into)
        return bool(objs) and objs <= tops and not objs & (inner | self.unsafe.get(tape, frozenset()))

    def sharing(self, objs):
        """The names that may reach one of ``objs``."""
        out = set()
        for o in objs:
            out |= self.holders.get(o, set())
        return out

    def join(self, other):
        """The state after either ``self`` or ``other``.  A copy of ``self`` that grows only
        where ``other`` adds objects (a loop's join would otherwise rebuild every name's
        holders, once per loop: quadratic in the program)."""
        out = self.copy()
        holders = out.holders
        for mine, theirs in ((out.top, other.top), (out.contents, other.contents)):
            for n, objs in theirs.items():
                old = mine.get(n)
                if old is None:
                    mine[n] = objs
                elif objs <= old:
                    continue
                else:
                    mine[n] = old | objs
                for o in objs:
                    holders.setdefault(o, set()).add(n)
        for n, s in other.stale.items():
            out.stale.setdefault(n, s)
        for t, positions in other.tapes.items():
            mine = out.tapes.setdefault(t, {})
            for k, parts in positions.items():
                mine[k] = tuple(a | b for a, b in zip(mine.get(k, (frozenset(),) * 3), parts))
        for t, objs in other.unsafe.items():
            out.unsafe[t] = out.unsafe.get(t, frozenset()) | objs
        out.popped = {n: t for n, t in self.popped.items() if other.popped.get(n) == t}
        return out

    def same(self, other):
        return self.top == other.top and self.contents == other.contents \
            and set(self.stale) == set(other.stale) and self.tapes == other.tapes \
            and self.unsafe == other.unsafe and self.popped == other.popped

    def reach(self, n):
        return self.top.get(n, frozenset()) | self.contents.get(n, frozenset())


class Effects:
    """Effects of statements and aliasing of names, over a normalized body.

    A forward pass in program order (loops to a fixed point) over an abstract
    state: for every name, the *objects* (allocation sites; ``("arg", p)`` for a
    parameter's data, ``("global", g)`` for a module global's) it may be, or be
    a view of, and the objects it may contain.  Plain assignment, basic
    indexing and slicing, ``.T``/``.reshape``/``.ravel``/``np.asarray`` ...,
    tuple and list displays and appends, and calls of user functions make names
    share objects; arithmetic, fancy indexing, ``.copy()``/``np.array(x)`` and
    calls with derivative rules make new ones.

    Output, or an :class:`UnsupportedSyntaxError` at the statement:

    * ``writes``: ``id(stmt) -> set of names`` whose memory the statement writes
      in place (``A[i] = v``, ``xs.append(v)``, ``xs.pop()``, an augmented
      assignment ``h += v`` on an array or list, ``accumulate_at``).
    * Refused: a write into an argument's or a global's data (or a view of it);
      a write through one name of memory another name shares, when that other
      name is read later without being rebound (``g = h; g[0] = x; h.sum()``);
      calls that write into an argument or receiver (``np.add.at``,
      ``h.sort()``, ``xs.insert``, ``out=`` into a view, a helper function that
      writes into its parameter, ``setattr``) when what they write is
      differentiated (varied), or is the caller's data.

    * Refused too: a call with no rule (not a user function, not on the
      non-differentiable list) given varied arguments whose value is discarded
      or not useful -- it may write into them; concatenating a varied list.

    ``varied`` (the names that depend on the differentiated inputs) limits the
    refusals to writes that can change a derivative: a write that touches no
    varied name only changes values, which the derivative computes by running
    the same statements.  A write ``A[i] = A_old`` of a slot saved before
    (``A_old = np.copy(A[i])``, as the reverse sweep restores) undoes the
    staleness the writes at ``A[i]`` caused, so derivatives of derivatives pass.

    Cost: one pass per statement (loops: until their head state is stable),
    each write visiting only the names that may share its memory (``_Flow.holders``).
    """

    def __init__(self, fn: ast.FunctionDef, parsed: Parsed, nd, varied=None, params=None,
                 seqs=frozenset(), check_callees=True, callee=False, useful=None, user_names=None):
        self.fn = fn
        self.p = parsed
        self.nd = nd
        self.params = list(params if params is not None else
                           [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs])
        self.locals = set(self.params) | assigned_names(fn.body)
        self.varied = set(varied) if varied is not None else None
        self.seqs = set(seqs)
        self.check_callees = check_callees
        self.callee = callee          # checking a called helper: only writes outside it matter
        self.useful = set(useful) if useful is not None else None
        self.user_names = dict(user_names or {})     # for messages: h_1 -> h
        self.writes: dict = {}
        self.tapes = _tapes(fn, self.params)
        # ndim of what each assignment makes (its objects' kind: a number, an array, a list)
        self.site_ndim = {id(st): nd.get(st.targets[0]) for st in iter_stmts(fn.body)
                          if isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name)} \
            if self.tapes else {}
        # what comparisons make (bools, arrays of bools) and constants (numbers, None, text)
        self.compared = {id(st) for st in iter_stmts(fn.body) if isinstance(st, ast.Assign)
                         and isinstance(st.value, ast.Compare)} if self.tapes else set()
        self.immutable = {id(st) for st in iter_stmts(fn.body) if isinstance(st, ast.Assign)
                          and isinstance(st.value, ast.Constant)} if self.tapes else set()
        self.list_sites = {id(st) for st in iter_stmts(fn.body) if isinstance(st, ast.Assign)
                           and isinstance(st.targets[0], ast.Name)
                           and (isinstance(st.value, ast.List) or st.targets[0].id in self.seqs)} \
            if self.tapes else set()
        self.saved_slots = {}        # A_old -> (A, index) for `A_old = A[index]` / `np.copy(A[index])`
        for st in iter_stmts(fn.body):
            if isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name):
                v = st.value
                if isinstance(v, ast.Call) and dotted(v.func) == "np.copy" and len(v.args) == 1:
                    v = v.args[0]
                    if isinstance(v, ast.Name) and v.id in self.saved_slots:   # t = A[i]; np.copy(t)
                        self.saved_slots[st.targets[0].id] = self.saved_slots[v.id]
                if isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name):
                    self.saved_slots[st.targets[0].id] = (v.value.id, ast.dump(v.slice))
        flow = _Flow()
        for p in self.params:
            flow.bind(p, [("arg", p)], [("arg", p, "items")])
        self.returned = frozenset()      # objects the result may be or contain
        self.block(fn.body, flow, [])
        # the parameters whose data the result may share (a helper returning its argument)
        self.returned_params = [p for p in self.params
                                if {("arg", p), ("arg", p, "items")} & self.returned]

    # --- helpers -----------------------------------------------------------------------------
    def is_varied(self, names) -> bool:
        if self.varied is None:
            return True
        return any(n in self.varied for n in names)

    def error(self, node, message, hint):
        return self.p.error(UnsupportedSyntaxError, node, message, hint=hint)

    def number(self, atom) -> bool:
        """True when ``atom`` is known to be a number or a 0-d array (never a list, nor an
        array that has elements to write into by index)."""
        return isinstance(atom, ast.Constant) or (isinstance(atom, ast.Name) and self.nd.get(atom) == 0)

    def of_kind(self, objs, n):
        """Those of ``objs`` (a tape's elements) that can be what name ``n`` is: a list is
        no array, number, bool or constant; an array or a number is no list."""
        d = self.nd.get(ast.Name(n, ast.Load()))
        if type(d) is int:
            return frozenset(o for o in objs if not (o[0] == "site" and o[1] in self.list_sites))
        if n in self.seqs:
            return frozenset(o for o in objs if not (o[0] == "site" and (
                type(self.site_ndim.get(o[1])) is int or o[1] in self.compared or o[1] in self.immutable)))
        return objs

    def indexable(self, atom) -> bool:
        """True when ``atom`` is known to be a list or an array of ndim >= 1."""
        d = self.nd.get(atom)
        return isinstance(d, tuple) or (type(d) is int and d >= 1)

    def scalar(self, expr) -> bool:
        try:
            return self.nd.of(expr) == 0 if not isinstance(expr, (ast.Name, ast.Constant)) \
                else self.nd.get(expr) == 0
        except Exception:
            return False

    def objects_of_atom(self, atom, flow):
        if isinstance(atom, ast.Name):
            if atom.id in self.locals:
                return flow.top.get(atom.id, frozenset()), flow.contents.get(atom.id, frozenset())
            if isinstance(resolve_value(self.p, atom), (np.ndarray, list, dict)):
                return frozenset([("global", atom.id)]), frozenset([("global", atom.id, "items")])
        return frozenset(), frozenset()

    def reach_of_args(self, atoms, flow):
        out = frozenset()
        for a in atoms:
            for e in (a.elts if isinstance(a, (ast.Tuple, ast.List)) else [a]):
                top, contents = self.objects_of_atom(e, flow)
                out |= top | contents
        return out

    def check_reads(self, node, flow):
        """Refuse reading a name whose binding an earlier write through another name made stale
        (its shape alone, ``x.shape`` or ``unbroadcast(g, x)``, no write in place changes)."""
        shape_only = {id(m.value) for m in walk(node) if isinstance(m, ast.Attribute) and m.attr == "shape"}
        shape_only |= {id(m.args[1]) for m in walk(node) if isinstance(m, ast.Call)
                       and isinstance(m.func, ast.Name) and m.func.id in ("unbroadcast", "batch_unbroadcast")
                       and len(m.args) == 2 and resolve_value(self.p, m.func) in _shape_readers()}
        for n in [m.id for m in walk(node) if isinstance(m, ast.Name) and not isinstance(m.ctx, ast.Store)
                  and id(m) not in shape_only]:
            s = flow.stale.get(n)
            if s is None:
                continue
            written, via = s[0], self.user_names.get(s[1], s[1])
            n = self.user_names.get(n, n)
            raise self.error(written, f"s2sad does not support writing into {n!r} through {via!r} "
                             f"here: they share memory, and {n!r} is read again at line "
                             f"{self.p.user_line(getattr(node, 'lineno', '?'))}",
                             hint=f"make one of them a copy (e.g. `{via} = {n}.copy()`), or read "
                                  f"{n!r} before the write")

    # --- writes ------------------------------------------------------------------------------
    def write(self, s, target: str, flow, values=(), what=None, rebinds=(), key=None, not_number=False):
        """``s`` writes in place into the memory of ``target`` (``not_number``: a write
        that only a list or an array of ndim >= 1 allows, ``xs.pop()``, ``A[i] = v``)."""
        self.writes.setdefault(id(s), set()).add(target)
        objs = flow.top.get(target, frozenset()) if target in self.locals \
            else self.objects_of_atom(ast.Name(target, ast.Load()), flow)[0]
        if not_number and target in flow.popped:
            # what the write needs rules out the objects made as numbers (or, for a list's
            # own method, as arrays): the tape's other elements
            objs = frozenset(o for o in objs - flow.numbers_only(flow.popped[target][0])
                             if not (o[0] == "site" and (
                                 (type(self.site_ndim.get(o[1])) is int
                                  and (self.site_ndim[o[1]] == 0 or not_number == "list"))
                                 or o[1] in self.immutable
                                 or (not_number == "list" and o[1] in self.compared))))
        protected = sorted(o[1] for o in objs if o[0] in ("arg", "global"))
        if protected:
            kind = "an argument" if any(o[0] == "arg" for o in objs) else "a global array"
            raise self.error(s, f"s2sad does not support {what or 'writing'} into {kind} "
                             f"({protected[0]!r}, or a view of it) in place",
                             hint=f"it would change the caller's data: copy it first, e.g. "
                                  f"`{self.user_names.get(target, target)} = {protected[0]}.copy()`, "
                                  "and write into the copy")
        sharing = sorted(n for n in flow.sharing(objs) if n != target and n not in rebinds)
        tape = flow.popped.get(target, (None,))[0]
        if tape in sharing and flow.safe_to_write(tape, objs):
            sharing.remove(tape)            # the item written has left the tape
        involved = [target] + sharing + [n for v in values for n in names_in(v)]
        if not self.is_varied(involved):
            return
        for n in sharing:
            flow.stale.setdefault(n, (s, target, key))

    def refuse_call(self, s, what, hint, receiver_names, arg_names, flow):
        names = list(receiver_names) + list(arg_names)
        objs = frozenset()
        for n in receiver_names:
            objs |= flow.top.get(n, frozenset()) if n in self.locals else \
                self.objects_of_atom(ast.Name(n, ast.Load()), flow)[0]
        protected = any(o[0] in ("arg", "global") for o in objs)
        sharing = sorted(flow.sharing(objs))
        if protected or self.is_varied(names + sharing):
            raise self.error(s, f"s2sad does not support {what} here: it writes in place "
                             "into what is differentiated (or into the caller's data)", hint=hint)

    # --- statements --------------------------------------------------------------------------
    def block(self, stmts, flow, loops):
        for s in stmts:
            flow = self.stmt(s, flow, loops)
            if flow is None:
                return None
        return flow

    def stmt(self, s, flow, loops):
        if isinstance(s, ast.Assign):
            self.check_reads(s, flow)
            target = s.targets[0]
            if isinstance(target, ast.Name):
                self.assign(s, target.id, s.value, flow)
            elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                a = target.value.id
                key = (a, ast.dump(target.slice))
                if isinstance(s.value, ast.Name) and self.saved_slots.get(s.value.id) == key:
                    # `A[idx] = A_old` with `A_old = np.copy(A[idx])` saved before: it undoes the
                    # writes at A[idx], so the names they made stale see their values again
                    undone = [n for n, st in flow.stale.items() if st[2] == key]
                    self.write(s, a, flow, values=[s.value], what="writing", key=key,
                               not_number=_element_index(target.slice))
                    for n in undone:
                        flow.stale.pop(n, None)
                    return flow
                self.write(s, a, flow, values=[s.value], what="writing", key=key,
                           not_number=_element_index(target.slice))
                if a in self.seqs and not self.scalar(s.value):
                    _, add = self.objects_of_atom(s.value, flow)
                    flow.bind(a, contents=flow.contents.get(a, frozenset()) | add
                              | self.objects_of_atom(s.value, flow)[0])
            else:
                for t in s.targets:
                    for n in names_in(t):
                        flow.renew(("site", id(s), n))
                        flow.bind(n, [("site", id(s), n)], ())
                        flow.popped.pop(n, None)
                        flow.stale.pop(n, None)
            return flow
        if isinstance(s, ast.Expr):
            self.check_reads(s, flow)
            if isinstance(s.value, ast.Call):
                self.call(s, s.value, flow)
            return flow
        if isinstance(s, ast.If):
            self.check_reads(s.test, flow)
            a = self.block(s.body, flow.copy(), loops)
            b = self.block(s.orelse, flow.copy(), loops)
            if a is None:
                return b
            if b is None:
                return a
            return a.join(b)
        if isinstance(s, (ast.For, ast.While)):
            self.check_reads(s.iter if isinstance(s, ast.For) else s.test, flow)
            head = flow
            for _ in range(100):
                exits = {"break": [], "continue": []}
                body_flow = head.copy()
                if isinstance(s, ast.For):
                    body_flow.bind(s.target.id, (), ())
                    body_flow.popped.pop(s.target.id, None)
                    body_flow.stale.pop(s.target.id, None)
                end = self.block(s.body, body_flow, loops + [exits])
                new_head = head
                for f in ([end] if end is not None else []) + exits["continue"]:
                    new_head = new_head.join(f)
                if new_head.same(head):
                    break
                head = new_head
            after = head
            for f in exits["break"]:
                after = after.join(f)
            return after
        if isinstance(s, (ast.Break, ast.Continue)):
            if loops:
                loops[-1]["break" if isinstance(s, ast.Break) else "continue"].append(flow.copy())
            return None
        if isinstance(s, (ast.Return, ast.Raise)):
            self.check_reads(s, flow)
            if isinstance(s, ast.Return) and isinstance(s.value, ast.Name):
                self.returned |= flow.reach(s.value.id)
            return None if isinstance(s, ast.Raise) else flow
        self.check_reads(s, flow)
        return flow

    def assign(self, s, t, rhs, flow):
        flow.renew(("site", id(s)))
        flow.popped.pop(t, None)
        inplace = getattr(s, "_s2sad_inplace_on", None)
        if inplace is not None and not self.scalar(ast.Name(inplace, ast.Load())):
            # `h += v` (or `out=h`): Python writes into h's memory; the normalized code
            # makes a new array, which is right only when no other name sees the old one
            self.objects(s, rhs, flow)          # (its own checks)
            self.write(s, inplace, flow, values=[rhs], what="an augmented assignment",
                       rebinds=(t,))
            if t != inplace and self.is_varied([inplace, t] + names_in(rhs)):
                flow.stale.setdefault(inplace, (s, inplace, None))   # the old name holds old values
            top, contents = flow.top.get(inplace, frozenset()), flow.contents.get(inplace, frozenset())
            flow.bind(t, top | frozenset([("site", id(s))]), contents)
            flow.stale.pop(t, None)
            return
        top, contents = self.objects(s, rhs, flow)
        flow.bind(t, top, contents)
        flow.stale.pop(t, None)
        popped = self.popped_from(s, rhs, flow)
        if popped is not None:
            flow.popped[t] = popped

    def popped_from(self, s, rhs, flow):
        """(tape, position) when ``rhs`` takes an item from a tape (``T.pop()``, position
        None) or an element of such an item (``v[k]``, position k), else None."""
        if isinstance(rhs, ast.Call) and isinstance(rhs.func, ast.Attribute) and rhs.func.attr == "pop" \
                and isinstance(rhs.func.value, ast.Name) and rhs.func.value.id in self.tapes:
            return rhs.func.value.id, None, getattr(s, "_s2sad_unpacked", None)
        if isinstance(rhs, ast.Subscript) and isinstance(rhs.value, ast.Name) \
                and isinstance(rhs.slice, ast.Constant) and type(rhs.slice.value) is int \
                and rhs.slice.value >= 0 and flow.popped.get(rhs.value.id, (None, 0))[1] is None:
            tape, _, length = flow.popped[rhs.value.id]
            return tape, rhs.slice.value, length
        return None

    def objects(self, s, rhs, flow):
        """(top, contents) of the value of ``rhs``."""
        new = frozenset([("site", id(s))])
        if isinstance(rhs, (ast.Name, ast.Constant)):
            if isinstance(rhs, ast.Name) and (rhs.id in self.locals or not self.scalar(rhs)):
                return self.objects_of_atom(rhs, flow)
            return new, frozenset()
        if isinstance(rhs, (ast.Tuple, ast.List)):
            return new, self.reach_of_args(rhs.elts, flow)
        popped = self.popped_from(s, rhs, flow)
        if popped is not None and popped[1] is not None:
            target = s.targets[0] if isinstance(s, ast.Assign) else None
            top, contents = flow.popped_item(popped[0], popped[1], not isinstance(target, ast.Name)
                                             or not self.indexable(target), popped[2])
            return (self.of_kind(top, target.id) if isinstance(target, ast.Name) else top), contents
        if isinstance(rhs, ast.Subscript) and isinstance(rhs.value, ast.Name):
            top, contents = self.objects_of_atom(rhs.value, flow)
            if self.scalar(rhs):
                return new, frozenset()         # a number: a copy
            if rhs.value.id in self.seqs:
                if isinstance(rhs.slice, ast.Slice):
                    return new, contents
                return contents, contents
            if self.scalar(rhs):
                return new, frozenset()
            if not self.basic_index(rhs.slice):
                return new, contents
            if any(isinstance(p, ast.Constant) and isinstance(p.value, str)
                   for p in (rhs.slice.elts if isinstance(rhs.slice, ast.Tuple) else [rhs.slice])):
                return top | contents, contents     # d["a"]: an item of a dict (or a record array)
            return top, contents
        if isinstance(rhs, ast.Attribute) and isinstance(rhs.value, ast.Name) and rhs.value.id in self.locals:
            if rhs.attr in VIEW_ATTRS:
                return self.objects_of_atom(rhs.value, flow)
            if rules.is_nondifferentiable(("attr", rhs.attr)):
                return new, frozenset()             # .shape, .ndim, ...: new values
            top, contents = self.objects_of_atom(rhs.value, flow)
            return top | contents, contents         # p.w: a field of a record (or namedtuple)
        if isinstance(rhs, ast.BinOp):
            seq = [a.id for a in (rhs.left, rhs.right) if isinstance(a, ast.Name) and a.id in self.seqs]
            if seq and isinstance(rhs.op, (ast.Add, ast.Mult)) and self.is_varied(names_in(rhs)):
                raise self.error(s, "s2sad does not support concatenating or repeating a "
                                 "differentiated list here",
                                 hint=f"append the items one by one: `{seq[0]}.append(v)`")
            # arrays: a new array; lists (xs * 2 of a list nothing differentiated reaches): a new
            # list holding the same items
            return new, frozenset().union(*(self.objects_of_atom(a, flow)[1] for a in (rhs.left, rhs.right)
                                            if isinstance(a, ast.Name) and a.id in self.seqs))
        if isinstance(rhs, ast.Call):
            return self.call(s, rhs, flow, new)
        return new, frozenset()

    def basic_index(self, index) -> bool:
        # a name of unknown ndim may be an int: conservatively a view (but not a list);
        # a constant key ("a") gives an item of a container: conservatively shared
        return basic_index(index, self.nd, unknown=lambda p: p.id not in self.seqs, keys=True)

    def call(self, s, c, flow, new=None):
        """Effects of call ``c`` at ``s``; with ``new``, also (top, contents) of its value."""
        new = new if new is not None else frozenset([("site", id(s))])
        kws = {kw.arg: kw.value for kw in c.keywords}
        f_value = resolve_value(self.p, c.func) if not (isinstance(c.func, ast.Attribute) and isinstance(
            c.func.value, ast.Name) and c.func.value.id in self.locals) else None
        user = isinstance(f_value, (types.FunctionType, StaticFunction)) and rules.lookup(f_value) is None
        if "out" in kws and not user:       # (a user function's `out` is an ordinary parameter)
            raise self.error(s, "s2sad does not support `out=` here",
                             hint="assign the result instead, e.g. `h = np.multiply(x, x)`")
        f = c.func
        atoms = list(c.args) + list(kws.values())
        arg_names = [n for a in atoms for n in names_in(a)]
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in self.locals:
            r, m = f.value.id, f.attr
            if m == "append" and len(c.args) == 1:
                self.write(s, r, flow, values=c.args, what="appending", not_number="list")
                if r in self.tapes:
                    item = c.args[0]
                    flow.push(r, {(len(item.elts), k): self.objects_of_atom(e, flow) + (self.number(e),)
                                  for k, e in enumerate(item.elts)} if isinstance(item, ast.Tuple)
                              else {None: self.objects_of_atom(item, flow) + (self.number(item),)})
                flow.bind(r, contents=flow.contents.get(r, frozenset()) | self.reach_of_args(c.args, flow))
                return new, frozenset()
            if m == "pop":
                self.write(s, r, flow, what="popping", not_number="list")
                if r in self.tapes:
                    target = s.targets[0] if isinstance(s, ast.Assign) else None
                    known = isinstance(target, ast.Name) and type(self.nd.get(target)) is int
                    return flow.popped_item(r, None, not known or self.nd.get(target) == 0,
                                            getattr(s, "_s2sad_unpacked", None), tuple_ok=not known)
                items = flow.contents.get(r, frozenset())
                return items, items
            if m in MUTATING_METHODS or not (m in PURE_METHODS or m in VIEW_METHODS
                                             or rules.lookup(("method", m)) is not None
                                             or rules.is_nondifferentiable(("method", m))):
                self.writes.setdefault(id(s), set()).add(r)
                hint = MUTATING_METHODS.get(m, "use a NumPy function that returns a new array")
                what = f"`.{m}()`" + ("" if m in MUTATING_METHODS else " (a method that may write "
                                                                         "into its receiver)")
                self.refuse_call(s, what, hint, [r], arg_names, flow)
                return new, self.reach_of_args([f.value] + atoms, flow)
            if len(c.args) > _METHOD_OUT_POSITION.get(m, len(c.args)):
                raise self.error(s, f"s2sad does not support `.{m}()` with its output array given by "
                                 "position here", hint=f"assign the result: `h = {r}.{m}(...)`")
            if m in VIEW_METHODS or (m == "astype" and isinstance(kws.get("copy"), ast.Constant)
                                     and kws["copy"].value is False):
                return self.objects_of_atom(f.value, flow)
            return new, frozenset()
        value = resolve_value(self.p, f)
        if isinstance(f, ast.Name) and f.id in _RUNTIME_VIEWS and c.args:
            top, contents = self.objects_of_atom(c.args[0], flow)
            return top | new, contents
        try:
            is_view = value in VIEW_FUNCTIONS
        except TypeError:
            is_view = False
        if value is np.array and isinstance(kws.get("copy"), ast.Constant) and kws["copy"].value is False:
            is_view = True
        if is_view and c.args:
            top, contents = self.objects_of_atom(c.args[0], flow)
            return top | new, contents
        owner = getattr(value, "__self__", None)
        if isinstance(owner, (np.ndarray, list)) and isinstance(f, ast.Attribute):
            # a method of a module-level array or list (`G.fill(v)`, `G.append(v)`)
            m = f.attr
            if m in MUTATING_METHODS or m == "append" or not (
                    m in PURE_METHODS or m in VIEW_METHODS or rules.lookup(("method", m)) is not None
                    or rules.is_nondifferentiable(("method", m))):
                if self.callee or self.is_varied(arg_names):
                    raise self.error(s, f"s2sad does not support `{dotted(f)}()` here: it writes "
                                     "into a module-level array or list",
                                     hint="keep the values in a local variable and return them")
        if _global_random(value):
            raise self.error(s, f"s2sad does not support calling {dotted(f)}() inside a differentiated "
                             "function: it draws from the global random state, so the derivative (and "
                             "every later call) sees other numbers than the call it differentiates",
                             hint="draw the numbers outside and pass them in as an argument (a constant "
                                  "for the derivative), or draw them from a seeded "
                                  "np.random.default_rng(seed) made inside the function")
        mutated = _mutated_argument(value)
        if mutated is not None:
            pos, hint = mutated
            target = c.args[pos] if len(c.args) > pos else None
            receiver = names_in(target) if target is not None else []
            self.refuse_call(s, f"{dotted(f)}()", hint, receiver, arg_names, flow)
            return new, frozenset()
        if _is_in(value, _ATTRIBUTE_WRITERS):
            raise self.error(s, f"s2sad does not support {dotted(f)}() here: the derivative does not "
                             "follow values through attributes",
                             hint="return the value, or keep it in a local variable")
        key = None
        try:
            if value in rules.INPLACE:
                key = value
        except TypeError:
            pass
        if key is not None and c.args and isinstance(c.args[0], ast.Name):
            self.write(s, c.args[0].id, flow, values=c.args[1:], what="accumulating")
            return self.objects_of_atom(c.args[0], flow)
        if (isinstance(value, (types.FunctionType, StaticFunction)) or user_function_like(value)) \
                and rules.lookup(value) is None and not rules.is_nondifferentiable(value) \
                and not _is_runtime(value):
            shared = self.user_call(s, c, value, arg_names, flow)
            # a helper's result may be (a view of) those of its arguments it returns
            reach = self.reach_of_args(atoms if shared is None else shared, flow)
            return new | reach, reach
        if rules.lookup(value) is not None or rules.is_nondifferentiable(value) or _is_runtime(value):
            return new, frozenset()
        try:
            pure = value in _PURE_FUNCTIONS
        except TypeError:
            pure = False
        if not pure and self.is_varied(arg_names):
            # a callable with no rule, kept for its effect (or whose value nothing differentiated
            # reads): it may write into its differentiated arguments, and nothing would follow it
            target = s.targets[0] if isinstance(s, ast.Assign) else None
            if target is None or (self.useful is not None and isinstance(target, ast.Name)
                                  and target.id not in self.useful):
                raise self.error(s, f"s2sad does not support calling {dotted(f)}() here: it has no "
                                 "derivative rule, and it may write into its differentiated arguments",
                                 hint="use its value in the result, register a rule with "
                                      "s2sad.rules.vjp/jvp(...), or mark it "
                                      "s2sad.rules.nondifferentiable(...)")
        # an unknown callable: its result may share memory with its arguments
        reach = self.reach_of_args(atoms, flow)
        return new | reach, reach

    def user_call(self, s, c, fn, arg_names, flow):
        """A call of a user function: refused when it writes into a differentiated argument.
        Returns the call's argument atoms whose data its result may share (None: unknown)."""
        varied = self.check_callees and self.is_varied(arg_names)
        key = id(fn)
        if key in _EFFECTS_IN_PROGRESS:
            return None
        from .errors import S2SADError
        from .normalize import normalized
        try:
            norm = normalized(fn, self.p.namespace)
        except UnsupportedSyntaxError as exc:
            if not varied:
                return None
            if "into an argument" not in str(exc).splitlines()[0]:
                raise           # (a call kept only for its effect is never transformed)
            raise self.error(s, f"s2sad does not support calling {dotted(c.func)}() here: it writes "
                             f"into an argument ({str(exc).splitlines()[0]})",
                             hint=f"make {dotted(c.func)}() return a new array instead of writing "
                                  "into its parameter")
        except S2SADError:
            return None         # reported where the transformer needs the callee
        import inspect
        sig = inspect.Signature([inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                 for p in norm.params])
        try:
            bound = sig.bind_partial(*c.args, **{kw.arg: kw.value for kw in c.keywords}).arguments
        except TypeError:
            return None
        ndims = {p: self.nd.get(a) for p, a in bound.items()
                 if not isinstance(a, (ast.Tuple, ast.List)) and isinstance(self.nd.get(a), int)}
        _EFFECTS_IN_PROGRESS.add(key)
        try:
            # only writes into its parameters (the caller's arrays) matter here
            callee = Effects(norm.node, norm.parsed, refined_ndims(norm.node, norm.parsed, ndims),
                             varied=set(), params=norm.params, seqs=set().union(*sequences(norm.node, norm.parsed)),
                             callee=True)
        except UnsupportedSyntaxError as exc:
            if not varied:
                return None     # (it writes into data nothing differentiated reaches)
            inner = str(exc).splitlines()[0]
            raise self.error(s, f"s2sad does not support calling {dotted(c.func)}() here: it writes "
                             f"into an argument ({inner})",
                             hint=f"make {dotted(c.func)}() return a new array instead of writing "
                                  "into its parameter")
        finally:
            _EFFECTS_IN_PROGRESS.discard(key)
        return [bound[p] for p in callee.returned_params if p in bound]


_EFFECTS_IN_PROGRESS: set = set()
# builtins without rules that write into no argument
_PURE_FUNCTIONS = {sorted, list, tuple, min, max, enumerate, zip, reversed, map, filter, iter, str, repr,
                   format, bool, type, id, hash, any, all, dict, set, frozenset, callable, divmod, round}


def _is_runtime(value) -> bool:
    """A helper of s2sad.runtime that makes a new value (generated code calls them)."""
    from . import runtime
    return any(value is getattr(runtime, n) for n in runtime.__all__ if n not in _RUNTIME_VIEWS)
