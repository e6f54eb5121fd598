"""Stage 5: make a derivative smaller without changing what it computes.

Each pass is a function ``tree -> tree``; :func:`optimize` runs them to a
fixed point.  Output grammar: the input's (a derivative function as
``reverse`` or ``forward`` writes it), with fewer statements.

* :func:`propagate_copies` — ``a = b`` / ``a = 1.0`` with ``a`` and ``b``
  assigned once: uses of ``a`` read ``b`` (or the constant); the copy dies.
* :func:`simplify_derivatives` — constant folding and exact float identities
  (``y_bar * 1.0``, ``0.0 + g``) in derivative statements only: the primal
  code's integer and boolean arithmetic is never touched.
* :func:`eliminate_dead_code` — assignments nobody reads, loops and branches
  left empty; pushes and pops are kept (they come in pairs by construction).
"""
from __future__ import annotations

import ast
import copy
from collections import Counter

from .analysis import CHILD_FIELDS as _CHILD_FIELDS, child_fields as _child_fields, pause_gc, walk as _walk
from .templates import negate, simplify

_IMPURE_METHODS = {"append", "pop", "extend", "insert", "update", "add", "remove", "clear",
                   "fill", "sort", "setdefault"}


def _assign_counts(tree) -> Counter:
    counts = Counter()
    for node in _walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            counts[node.id] += 1
        elif isinstance(node, ast.arg):
            counts[node.arg] += 1
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            counts[node.target.id] += 1
    return counts


def _blocks(tree):
    """Every statement list of the function."""
    stack = [tree.body]
    while stack:
        block = stack.pop()
        yield block
        for s in block:
            for field in ("body", "orelse"):
                sub = getattr(s, field, None)
                if isinstance(sub, list):
                    stack.append(sub)


def _sites(tree, pick, skip=()) -> list:
    """``(parent, field, index in the field's list or None, node)`` of every node under
    ``tree`` that ``pick`` accepts; neither those nodes nor nodes of a class in ``skip``
    are looked into."""
    found = []
    stack = [tree]
    pop, push = stack.pop, stack.append
    AST = ast.AST
    table = _CHILD_FIELDS
    while stack:
        n = pop()
        fields = table.get(n.__class__)
        if fields is None:
            fields = _child_fields(n.__class__)
        for field in fields:
            v = getattr(n, field, None)
            if v is None:
                continue
            if v.__class__ is list:
                for i, x in enumerate(v):
                    if pick(x):
                        found.append((n, field, i, x))
                    elif isinstance(x, AST) and x.__class__ not in skip:
                        push(x)
            elif pick(v):
                found.append((n, field, None, v))
            elif isinstance(v, AST) and v.__class__ not in skip:
                push(v)
    return found


def _put(parent, field, i, new) -> None:
    if i is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[i] = new


def _replace(node, mapping):
    """In place: every name ``node`` reads that is in ``mapping`` reads (a copy of) its
    value instead; a ``return`` keeps the names a derivative returns.  What an
    ``ast.NodeTransformer`` would do, without its generic visit of every node."""
    if node.__class__ is ast.Return:
        return node
    Name, Load = ast.Name, ast.Load
    for parent, field, i, x in _sites(node, lambda x: x.__class__ is Name and x.ctx.__class__ is Load
                                      and x.id in mapping, skip=(ast.Return,)):
        _put(parent, field, i, ast.copy_location(copy.deepcopy(mapping[x.id]), x))
    return node


def propagate_copies(tree: ast.FunctionDef) -> ast.FunctionDef:
    counts = _assign_counts(tree)
    derivative = getattr(tree, "_s2sad_derivative_names", set())
    mapping = {}
    for block in _blocks(tree):
        for s in block:
            if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)):
                continue
            a = s.targets[0].id
            if counts[a] != 1:
                continue
            v = s.value
            if isinstance(v, ast.Name) and counts[v.id] == 1 and v.id not in mapping:
                mapping[a] = v
            elif isinstance(v, ast.Constant) and (a in derivative or not isinstance(v.value, (str, bytes))):
                mapping[a] = v
    if not mapping:
        return tree
    # resolve chains a -> b -> c
    for a in list(mapping):
        seen = {a}
        target = mapping[a]
        while isinstance(target, ast.Name) and target.id in mapping and target.id not in seen:
            seen.add(target.id)
            target = mapping[target.id]
        mapping[a] = target
    _replace(tree, mapping)
    return tree


def simplify_derivatives(tree: ast.FunctionDef) -> ast.FunctionDef:
    derivative = getattr(tree, "_s2sad_derivative_names", set())
    for block in _blocks(tree):
        for s in block:
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) \
                    and s.targets[0].id in derivative:
                s.value = simplify(s.value)
            elif isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Subscript) \
                    and isinstance(s.target.value, ast.Name) and s.target.value.id in derivative:
                s.value = simplify(s.value)
    return tree


def _pure(expr) -> bool:
    for node in _walk(expr):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in _IMPURE_METHODS:
                return False
            if isinstance(f, ast.Name) and f.id == "print":
                return False
    return True


def _loads(node) -> set:
    return {n.id for n in _walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _store_base(s):
    """The array an element store writes into (``A[i] = v``, ``A[i] += v``, ``accumulate_at(A, ...)``)."""
    t = s.targets[0] if isinstance(s, ast.Assign) and len(s.targets) == 1 else \
        s.target if isinstance(s, ast.AugAssign) else None
    if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
        return t.value.id
    if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Name) \
            and s.value.func.id == "accumulate_at" and isinstance(s.value.args[0], ast.Name):
        return s.value.args[0].id
    return None


_FRESH = {"zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
          "copy", "array", "zeros_list", "eye", "arange", "linspace"}


def _may_share(value) -> bool:
    """Whether the value an assignment binds may share memory with the names it reads (a
    view, an alias, a call that may return one); arithmetic and array makers never do."""
    if isinstance(value, (ast.BinOp, ast.UnaryOp, ast.Constant, ast.Compare, ast.BoolOp)):
        return False
    if isinstance(value, ast.Call):
        f = value.func
        attr = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        return attr not in _FRESH
    return True


class _Memo:
    """``_loads``, ``_pure`` and ``_may_share`` of a node, each computed once while one
    pass runs (the pass removes statements but changes none it keeps; the node is kept
    with its facts, so its id is not reused)."""

    def __init__(self):
        self._facts: dict = {}

    def _get(self, fn, node):
        key = (fn, id(node))
        hit = self._facts.get(key)
        if hit is None:
            hit = self._facts[key] = (node, fn(node))
        return hit[1]

    def loads(self, node) -> set:
        return self._get(_loads, node)

    def pure(self, node) -> bool:
        return self._get(_pure, node)

    def may_share(self, node) -> bool:
        return self._get(_may_share, node)


class _Closure(dict):
    """name -> every name whose memory it may share (transitively), computed on first
    ``get`` of that name from the direct relation."""

    def __init__(self, direct: dict):
        super().__init__()
        self.direct = direct

    def get(self, name, default=None):
        if name not in self.direct:
            return default
        seen = dict.get(self, name)
        if seen is None:
            direct = self.direct
            seen, work = set(), [name]
            while work:
                for m in direct.get(work.pop(), ()):
                    if m not in seen and m != name:
                        seen.add(m)
                        work.append(m)
            self[name] = seen
        return seen


def _sharing(stmts, memo: _Memo | None = None) -> dict:
    """name -> every name whose memory it may share (transitively), from its assignments."""
    loads, may_share = (memo.loads, memo.may_share) if memo else (_loads, _may_share)
    direct: dict = {}
    for s in stmts:
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) \
                and may_share(s.value):
            reads = loads(s.value)
            if reads:
                direct.setdefault(s.targets[0].id, set()).update(reads)
    return _Closure(direct)


def _store_triggers(base, sharing) -> set:
    """A write into ``base`` matters when ``base`` or any array it may be a view of is live."""
    return {base} | sharing.get(base, set())


def live_names(tree: ast.FunctionDef, memo: _Memo | None = None, sharing=None) -> set:
    """Names whose values can reach the result, a condition or an effect.  A write into an
    array (``v[0] = x``) is live when the array, or one it may be a view of, is."""
    loads, pure = (memo.loads, memo.pure) if memo else (_loads, _pure)
    stmts = [s for block in _blocks(tree) for s in block]
    if sharing is None:
        sharing = _sharing(stmts, memo)
    live = set()
    conditional = []                    # (names that make it live, names it reads)
    for s in stmts:
        if isinstance(s, ast.Return):
            live |= loads(s)
        elif isinstance(s, ast.If):
            live |= loads(s.test)
        elif isinstance(s, ast.While):
            live |= loads(s.test)
        elif isinstance(s, ast.For):
            live |= loads(s.iter)
        elif isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) \
                and pure(s.value):
            conditional.append(({s.targets[0].id}, loads(s.value)))
        elif _store_base(s) is not None and pure(s):
            base = _store_base(s)
            triggers = _store_triggers(base, sharing)
            conditional.append((triggers, loads(s) - {base} if triggers == {base} else loads(s)))
        elif isinstance(s, (ast.Assign, ast.AugAssign, ast.Expr, ast.Raise, ast.Assert)):
            live |= loads(s)
    # a worklist: each statement's reads become live once, when its target first does
    by_trigger: dict = {}
    for triggers, reads in conditional:
        for t in triggers:
            by_trigger.setdefault(t, []).append(reads)
    work = [n for n in live if n in by_trigger]
    while work:
        for reads in by_trigger.pop(work.pop(), ()):
            for n in reads:
                if n not in live:
                    live.add(n)
                    if n in by_trigger:
                        work.append(n)
    return live


def eliminate_dead_code(tree: ast.FunctionDef) -> ast.FunctionDef:
    memo = _Memo()                      # each statement's reads and purity, once per pass
    while True:
        sharing = _sharing([s for block in _blocks(tree) for s in block], memo)
        live = live_names(tree, memo, sharing)
        free = []                       # free_reads(tree), on first need
        removed = again = waiting = False
        for block in _blocks(tree):
            keep = []
            for s in block:
                if _dead(s, live, free, sharing, memo, tree):
                    # removing a simple statement removes only reads its target made live
                    # (by the worklist, nothing else needed them); a branch or loop made its
                    # test or iterable live: those may now be dead
                    removed = True
                    again = again or not isinstance(s, (ast.Assign, ast.AugAssign, ast.Expr))
                    continue
                keep.append(s)
                if isinstance(s, ast.For) and all(isinstance(x, ast.Pass) for x in s.body):
                    waiting = True      # an empty loop kept while its variable is read elsewhere
            if len(keep) != len(block):
                # a block left with no statement may leave its branch or loop dead
                again = again or all(isinstance(x, ast.Pass) for x in keep)
                block[:] = keep or [ast.Pass()]
        again = again or (removed and waiting)
        _tidy(tree.body)
        if not again:
            return tree


def _dead(s, live, free, sharing=None, memo: _Memo | None = None, tree=None) -> bool:
    """Whether ``s`` can go.  ``free`` is ``free_reads(tree)``, or an empty list to fill
    with it when first needed."""
    pure = memo.pure if memo else _pure
    if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
        t = s.targets[0].id
        return (t not in live and pure(s.value)) or \
            (isinstance(s.value, ast.Name) and s.value.id == t)          # x = x
    base = _store_base(s)
    if base is not None:
        return not (_store_triggers(base, sharing or {}) & live) and pure(s)
    if isinstance(s, ast.If):
        return all(isinstance(x, ast.Pass) for x in s.body + s.orelse) and pure(s.test)
    if isinstance(s, ast.For):
        body_empty = all(isinstance(x, ast.Pass) for x in s.body)
        if not (body_empty and isinstance(s.target, ast.Name)):
            return False
        if isinstance(free, list):
            if not free:
                free.append(free_reads(tree))
            free = free[0]
        return s.target.id not in free and pure(s.iter)
    return False


def free_reads(tree) -> set:
    """Names read somewhere outside a ``for`` loop that binds them (one walk)."""
    free = set()
    Name, Load, For, AST = ast.Name, ast.Load, ast.For, ast.AST
    table = _CHILD_FIELDS
    stack = [(s, frozenset()) for s in reversed(tree.body)]
    pop, push = stack.pop, stack.append
    while stack:
        node, bound = pop()
        cls = node.__class__
        if cls is For and isinstance(node.target, Name):
            inner = bound | {node.target.id}
            for s in node.body + node.orelse:
                push((s, inner))
            push((node.iter, bound))
            continue
        if cls is Name:
            if node.ctx.__class__ is Load and node.id not in bound:
                free.add(node.id)
            continue
        fields = table.get(cls)
        if fields is None:
            fields = _child_fields(cls)
        for field in fields:
            v = getattr(node, field, None)
            if v is None:
                continue
            if v.__class__ is list:
                for x in v:
                    if isinstance(x, AST):
                        push((x, bound))
            elif isinstance(v, AST):
                push((v, bound))
    return free


def remove_dead_stores(tree: ast.FunctionDef) -> ast.FunctionDef:
    """Within a straight run of statements, drop ``a = e`` when ``a`` is assigned
    again before anything reads it."""
    for block in _blocks(tree):
        overwritten: set = set()
        keep = []
        for s in reversed(block):
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) \
                    and _pure(s.value):
                target = s.targets[0].id
                if target in overwritten:
                    continue
                overwritten.add(target)          # in place: linear in the block
                overwritten -= _loads(s.value)
            else:
                overwritten -= _loads(s)
                if isinstance(s, (ast.If, ast.For, ast.While)):
                    overwritten -= {n.id for n in _walk(s) if isinstance(n, ast.Name)}
            keep.append(s)
        if len(keep) != len(block):
            block[:] = list(reversed(keep)) or [ast.Pass()]
    return tree


def propagate_local_copies(tree: ast.FunctionDef) -> ast.FunctionDef:
    """Within a straight run of statements, after ``a = b`` read ``b`` for ``a``
    until either is assigned again (adjoint copies in loops: ``s_1_bar = s_bar``)."""
    for block in _blocks(tree):
        mapping: dict = {}
        copies_of: dict = {}            # b -> the names a with mapping[a] == b (linear updates)
        for s in block:
            assigned = {n.id for n in _walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            if isinstance(s, (ast.If, ast.For, ast.While)):
                usable = {a: b for a, b in mapping.items() if a not in assigned
                          and not (isinstance(b, ast.Name) and b.id in assigned)} if mapping else {}
                if usable:
                    _replace(s, usable)
            elif mapping:
                _replace(s, mapping)
            for name_ in assigned:
                for a in copies_of.pop(name_, ()):
                    mapping.pop(a, None)
                old = mapping.pop(name_, None)
                if isinstance(old, ast.Name):
                    copies_of.get(old.id, set()).discard(name_)
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
                if isinstance(s.value, ast.Name) and s.value.id != s.targets[0].id:
                    mapping[s.targets[0].id] = ast.Name(s.value.id, ast.Load())
                    copies_of.setdefault(s.value.id, set()).add(s.targets[0].id)
                elif isinstance(s.value, ast.Constant) and isinstance(s.value.value, (int, float, bool)):
                    mapping[s.targets[0].id] = ast.Constant(value=s.value.value)
    return tree


def _reads_in(stmt, name) -> int:
    return sum(1 for n in ast.walk(stmt) if isinstance(n, ast.Name) and n.id == name
               and isinstance(n.ctx, ast.Load))


def _tidy(block):
    """Drop ``pass`` where a block has other statements; no ``if c: pass else: ...``."""
    for s in block:
        if isinstance(s, ast.If) and all(isinstance(x, ast.Pass) for x in s.body) and s.orelse \
                and not all(isinstance(x, ast.Pass) for x in s.orelse):
            s.test, s.body, s.orelse = negate(s.test), s.orelse, []
        for field in ("body", "orelse"):
            sub = getattr(s, field, None)
            if isinstance(sub, list):
                _tidy(sub)
                real = [x for x in sub if not isinstance(x, ast.Pass)]
                if field == "orelse":
                    sub[:] = real
                else:
                    sub[:] = real or [ast.Pass()]
    real = [x for x in block if not isinstance(x, ast.Pass)]
    block[:] = real or [ast.Pass()]


def _definitions(tree) -> dict:
    """name -> value for names assigned exactly once by a plain assignment."""
    counts = _assign_counts(tree)
    out = {}
    for block in _blocks(tree):
        for s in block:
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) \
                    and counts[s.targets[0].id] == 1:
                out[s.targets[0].id] = s.value
    return out


def _attr(value, attr):
    return ast.Attribute(value=value, attr=attr, ctx=ast.Load())


def _shape_expr(value, ndims, known_elementwise):
    """A cheaper expression for the shape of ``value``'s result, or None."""
    def nd(e):
        if isinstance(e, ast.Constant) and isinstance(e.value, (int, float)):
            return 0
        return ndims.get(e.id) if isinstance(e, ast.Name) else None

    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.MatMult):
        a, b = value.left, value.right
        if not (isinstance(a, ast.Name) and isinstance(b, ast.Name)):
            return None
        shape_a, shape_b = _attr(copy.deepcopy(a), "shape"), _attr(copy.deepcopy(b), "shape")
        if (nd(a), nd(b)) == (2, 1):
            return ast.Subscript(value=shape_a, slice=ast.Slice(upper=ast.Constant(1)), ctx=ast.Load())
        if (nd(a), nd(b)) == (1, 2):
            return ast.Subscript(value=shape_b, slice=ast.Slice(lower=ast.Constant(1)), ctx=ast.Load())
        if (nd(a), nd(b)) == (2, 2):
            return ast.Tuple(elts=[ast.Subscript(value=shape_a, slice=ast.Constant(0), ctx=ast.Load()),
                                   ast.Subscript(value=shape_b, slice=ast.Constant(1), ctx=ast.Load())],
                             ctx=ast.Load())
        return None
    if isinstance(value, ast.BinOp) and not isinstance(value.op, ast.MatMult):
        a, b = value.left, value.right
        if nd(b) == 0 and isinstance(a, ast.Name) and (nd(a) or 0) >= 1:
            return _attr(copy.deepcopy(a), "shape")
        if nd(a) == 0 and isinstance(b, ast.Name) and (nd(b) or 0) >= 1:
            return _attr(copy.deepcopy(b), "shape")
        return None
    if isinstance(value, ast.UnaryOp) and isinstance(value.operand, ast.Name) and (nd(value.operand) or 0) >= 1:
        return _attr(copy.deepcopy(value.operand), "shape")
    if isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords \
            and isinstance(value.args[0], ast.Name) and (nd(value.args[0]) or 0) >= 1 \
            and known_elementwise(value.func):
        return _attr(copy.deepcopy(value.args[0]), "shape")
    return None


def shapes_from_operands(tree: ast.FunctionDef) -> ast.FunctionDef:
    """``t.shape`` -> the shape from ``t``'s operands, so ``t`` need not be computed."""
    ndims = getattr(tree, "_s2sad_ndims", None)
    if not ndims:
        return tree
    found = _sites(tree, lambda x: x.__class__ is ast.Attribute and x.attr == "shape"
                   and x.value.__class__ is ast.Name)          # every ``name.shape``
    if not found:
        return tree
    defs = _definitions(tree)
    known = getattr(tree, "_s2sad_elementwise", lambda func: False)
    for parent, field, i, node in found:
        if node.value.id in defs:
            new = _shape_expr(defs[node.value.id], ndims, known)
            if new is not None:
                _put(parent, field, i, ast.copy_location(new, node))
    return tree


def fuse_full(tree: ast.FunctionDef) -> ast.FunctionDef:
    """``a = np.full(t.shape, g)`` used only as ``a * t`` (or + - /): write ``g * t``."""
    if not any(n.__class__ is ast.Call and _is_np(n.func, "full") for n in _walk(tree)):
        return tree                     # nothing to fuse (and no definitions to collect)
    defs = _definitions(tree)
    candidates = {}
    for name, value in defs.items():
        if isinstance(value, ast.Call) and _is_np(value.func, "full") and len(value.args) == 2 \
                and isinstance(value.args[0], ast.Attribute) and value.args[0].attr == "shape" \
                and isinstance(value.args[0].value, ast.Name):
            candidates[name] = (value.args[0].value.id, value.args[1])
    if not candidates:
        return tree
    uses = Counter()                    # how often each name is read
    fusable = Counter()
    for node in _walk(tree):
        if node.__class__ is ast.Name:
            if node.ctx.__class__ is ast.Load:
                uses[node.id] += 1
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add, ast.Sub, ast.Div)):
            for mine, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(mine, ast.Name) and mine.id in candidates and isinstance(other, ast.Name) \
                        and other.id == candidates[mine.id][0]:
                    fusable[mine.id] += 1
    chosen = {n for n in candidates if fusable[n] and fusable[n] == uses[n]}
    if not chosen:
        return tree

    class Rewrite(ast.NodeTransformer):
        def visit_BinOp(self, node):
            self.generic_visit(node)
            for side in ("left", "right"):
                mine = getattr(node, side)
                if isinstance(mine, ast.Name) and mine.id in chosen:
                    setattr(node, side, copy.deepcopy(candidates[mine.id][1]))
            return node

    Rewrite().visit(tree)
    return tree


def column_sums(tree: ast.FunctionDef) -> ast.FunctionDef:
    """``A.T @ u`` with ``u = np.full(A.shape[:1], c)``: that is ``c * A.sum(axis=0)``."""
    if not any(n.__class__ is ast.BinOp and n.op.__class__ is ast.MatMult and n.left.__class__ is ast.Attribute
               and n.left.attr == "T" for n in _walk(tree)):
        return tree                     # nothing to rewrite (and no definitions to collect)
    ndims = getattr(tree, "_s2sad_ndims", {})
    defs = _definitions(tree)

    def constant_column(node):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult)):
            return None
        a, u = node.left, node.right
        if not (isinstance(a, ast.Attribute) and a.attr == "T" and isinstance(a.value, ast.Name)
                and ndims.get(a.value.id) == 2 and isinstance(u, ast.Name)):
            return None
        full = defs.get(u.id)
        if not (isinstance(full, ast.Call) and _is_np(full.func, "full") and len(full.args) == 2):
            return None
        if ast.dump(full.args[0]) != ast.dump(ast.Subscript(
                value=ast.Attribute(value=ast.Name(a.value.id, ast.Load()), attr="shape", ctx=ast.Load()),
                slice=ast.Slice(upper=ast.Constant(1)), ctx=ast.Load())):
            return None
        sums = ast.Call(func=ast.Attribute(value=ast.Name(a.value.id, ast.Load()), attr="sum", ctx=ast.Load()),
                        args=[], keywords=[ast.keyword(arg="axis", value=ast.Constant(0))])
        return simplify(ast.BinOp(left=copy.deepcopy(full.args[1]), op=ast.Mult(), right=sums))

    class Rewrite(ast.NodeTransformer):
        def visit_BinOp(self, node):
            self.generic_visit(node)
            new = constant_column(node)
            return ast.copy_location(new, node) if new is not None else node

    Rewrite().visit(tree)
    return tree


def _is_np(func, attr) -> bool:
    return isinstance(func, ast.Attribute) and func.attr == attr and isinstance(func.value, ast.Name) \
        and func.value.id == "np"


PASSES = (propagate_copies, propagate_local_copies, simplify_derivatives, fuse_full,
          shapes_from_operands, column_sums, remove_dead_stores, eliminate_dead_code)


@pause_gc
def optimize(tree: ast.FunctionDef) -> ast.FunctionDef:
    """Run every pass until the source stops changing."""
    before = None
    for _ in range(10):
        for p in PASSES:
            tree = p(tree)
        now = _fingerprint(tree)
        if now == before:
            break
        before = now
    return tree


def _fingerprint(tree) -> list:
    """What ``ast.dump`` says of ``tree`` (every node's class and fields, positions aside),
    as a list to compare, made in one walk without formatting text."""
    out = []
    add = out.append
    AST = ast.AST
    stack = [tree]
    pop, push = stack.pop, stack.append
    while stack:
        n = pop()
        if not isinstance(n, AST):
            add(n if n.__class__ is str else (n.__class__, repr(n)))
            continue
        add(n.__class__)
        for field in reversed(n._fields):
            v = getattr(n, field, None)
            if v.__class__ is list:
                push(len(v))
                stack.extend(reversed(v))
            else:
                push(v)
    return out
