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
import numbers
import types

import numpy as np

from . import rules
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


def resolve_callee(parsed: Parsed, call: ast.Call, local_names) -> Callee:
    func = call.func
    name = dotted(func)
    if isinstance(func, ast.Attribute) and isinstance(func.value, (ast.Name, ast.Constant)) \
            and (not isinstance(func.value, ast.Name) or func.value.id in local_names):
        key = ("method", func.attr)
        return Callee(key=key, rule=rules.lookup(key), nondiff=rules.is_nondifferentiable(key),
                      name="." + func.attr + "()", receiver=func.value)
    value = resolve_value(parsed, func)
    if isinstance(value, (types.FunctionType, StaticFunction)):
        rule = rules.lookup(value)
        if rule is not None:
            return Callee(key=value, rule=rule, name=name)
        if rules.is_nondifferentiable(value):      # a runtime helper such as zeros_like
            return Callee(key=value, nondiff=True, name=name)
        if value in rules.INPLACE:                  # a runtime helper such as accumulate_at
            return Callee(key=value, name=name)
        return Callee(user=value, name=name)
    return Callee(key=value, rule=rules.lookup(value), nondiff=rules.is_nondifferentiable(value),
                  name=name)


def names_in(node) -> list:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


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


class Activity:
    """Varied, useful and active names of a normalized function."""

    def __init__(self, fn: ast.FunctionDef, parsed: Parsed, wrt: set, outputs: set):
        self.parsed = parsed
        self.locals = {a.arg for a in fn.args.args + fn.args.posonlyargs + fn.args.kwonlyargs} \
            | assigned_names(fn.body)
        self.varied = set(wrt)
        self.useful = set(outputs)
        stmts = [s for s in iter_stmts(fn.body)]
        changed = True
        while changed:
            changed = False
            for s in stmts:
                for target, inputs in self.flows(s):
                    if target not in self.varied and any(i in self.varied for i in inputs):
                        self.varied.add(target)
                        changed = True
                    if target in self.useful:
                        for i in inputs:
                            if i not in self.useful:
                                self.useful.add(i)
                                changed = True
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
            if callee.nondiff:
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
        for s in iter_stmts(fn.body):
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
                if getattr(s, "_s2sad_unbound", False):
                    continue           # None on a path where the name has no value: no ndim
                assigns.setdefault(s.targets[0].id, []).append(s.value)
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
            return 1 if nd.get(shape) == 0 else None
        if key in _LIKE and call.args:
            return nd.get(call.args[0])
        if key in (np.arange, np.linspace):
            return 1
        if key in (np.eye, np.identity):
            return 2
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


def sequences(fn) -> tuple:
    """Names holding Python lists or tuples, and those whose elements are sequences.

    Their derivatives are lists too (an adjoint or tangent per element), which
    the transformers index, pop and add differently from arrays.  A value popped
    from a list that holds sequences and numbers alike (the tape of a derivative
    being differentiated again) is a sequence only where it is used as one."""
    subscripted = {n.value.id for n in ast.walk(fn) if isinstance(n, ast.Subscript)
                   and isinstance(n.value, ast.Name)}
    # names used as lists: indexed, popped or appended to, or passed where a list goes
    # (surely: popped, appended to or passed where a list goes; an array is indexed too)
    surely_list = {n.func.value.id for n in ast.walk(fn) if isinstance(n, ast.Call)
                   and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)}
    surely_list |= {a.id for n in ast.walk(fn) if isinstance(n, ast.Call)
                    and dotted(n.func) in rules.LIST_VALUED | {"sum", "np.stack", "np.concatenate", "len"}
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
                    elif isinstance(v, ast.Call) and dotted(v.func) in rules.LIST_VALUED:
                        # a list adjoint or tangent made by generated code (zeros_list, add_lists ...)
                        seqs.add(t)
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
