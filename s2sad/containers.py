"""Stage 1b: scalar replacement of aggregates -- containers never reach the transformer.

Runs on the parsed function's AST before `normalize`, given the structure (`TreeDef`) of every
container argument of this call.  Its output is an ordinary function (the grammar `normalize`
accepts) in which

* each container parameter is replaced by one parameter per leaf, named after its key or field
  (``W1``), or after its path (``params_W1``, ``layers_0_W``) when that name is taken; ``None``
  leaves vanish; int and bool leaves are parameters like the others (the API holds them constant);
* every name bound to a container is bound, at transformation time, to a *static tree*
  (`SNode`): its structure is known, its leaves are names or constants.  ``p["W"]`` (constant
  keys, nested, negative indices, slices), ``p.W`` (namedtuple, dataclass, registered fields),
  ``W, b = layer``, ``len(p)``, ``p.get(k)``, ``dict(p)``, ``{**p, "W": x}``, dict / list / tuple
  displays holding containers, ``d["a"] = x`` on a dict built in the function, and dict / list
  comprehensions over static trees are resolved statically; ``for`` loops over a static tree
  (``for W, b in layers``, ``enumerate``, ``zip``, ``.items()``, ``.values()``, ``.keys()``,
  ``range(len(layers))``) are unrolled with the loop variable bound to each item;
* user helpers (and methods of a dataclass argument) that receive or return containers are
  inlined (their only ``return`` must be their last statement);
* a list or tuple of leaves used where a value is needed (``np.stack(xs)``, ``xs[i]`` with a
  run-time ``i``) becomes a list / tuple display of its leaves (what Python would pass);
* a function returning a container returns the tuple of its leaves (in `flatten`'s order); the
  output's TreeDef is known here and handed to the API.

Everything that cannot be proven structurally static is refused, before anything runs, with an
`UnsupportedSyntaxError` at file:line and a hint: a run-time key into a dict, a mutation of an
argument container, a dict or dataclass passed to a function that is not a user helper, an
``if`` / loop binding a name to containers of different structures, a container captured by a
nested function.  Names never bound to containers are left untouched.

`restructure` is the matching pass on the finished derivative (after optimize): it gives it the
user's signature back, with a prologue reading the leaves (``W1 = params['W1']``) and an epilogue
building each container's gradient once (``params_bar = {'W1': W1_bar, ...}``).
"""
from __future__ import annotations

import ast
import copy
import dataclasses
import keyword
import types
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import rules
from .errors import UnsupportedSyntaxError
from .parse import Parsed, parse_function
from .tree import TreeDef

_MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault",
             "popitem", "sort", "reverse", "__setitem__", "__delitem__"}
_DICT_KINDS = ("dict", "ordereddict", "defaultdict")
_SEQ_KINDS = ("list", "tuple", "namedtuple")


class SNode:
    """A container whose structure is known: kind, TreeDef data, children by access key.

    `keys` are how children are reached: dict keys, indices (list, tuple, namedtuple), or field
    names (dataclass, registered).  A child is an SNode or a leaf expression (ast.Name of a
    parameter or of a name this pass made, or ast.Constant).  `readonly`: part of an argument."""
    __slots__ = ("kind", "data", "keys", "children", "readonly", "depth", "fields")

    def __init__(self, kind, data, keys, children, readonly=False, depth=0, fields=None):
        self.kind, self.data = kind, data
        self.keys, self.children = list(keys), list(children)
        self.readonly, self.depth = readonly, depth
        self.fields = fields            # namedtuple / dataclass / registered: attribute names

    def child(self, key):
        return self.children[self.keys.index(key)]

    def order(self):
        """Children in `flatten`'s order (dict keys sorted)."""
        if self.kind == "dict" or self.kind == "defaultdict":
            return [self.child(k) for k in sorted(self.keys)]
        return list(self.children)

    def treedef(self) -> TreeDef:
        kids = tuple(c.treedef() if isinstance(c, SNode) else _LEAF for c in self.order())
        if self.kind == "dict":
            return TreeDef("dict", tuple(sorted(self.keys)), kids)
        if self.kind == "ordereddict":
            return TreeDef("ordereddict", tuple(self.keys), kids)
        if self.kind == "defaultdict":
            return TreeDef("defaultdict", (self.data[0], tuple(sorted(self.keys))), kids)
        return TreeDef(self.kind, self.data, kids)

    def leaves(self) -> list:
        out = []
        for c in self.order():
            out += c.leaves() if isinstance(c, SNode) else [c]
        return out

    def copy(self, readonly=False, depth=0):
        return SNode(self.kind, self.data, self.keys, self.children, readonly, depth, self.fields)


_LEAF = TreeDef("leaf")
_RETURNS_CONTAINER: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _describe(node: SNode) -> str:
    if node.kind in _DICT_KINDS:
        return f"a dict with keys {node.keys}"
    if node.kind in ("list", "tuple"):
        return f"a {node.kind} of {len(node.keys)}"
    if node.kind == "none":
        return "None"
    return f"a {node.data[0].__name__}"


def _same_structure(a, b) -> bool:
    if isinstance(a, SNode) and isinstance(b, SNode):
        return a.treedef() == b.treedef()
    return False


@dataclass
class Const:
    """A name bound to a constant by an unrolled loop (a key, an index)."""
    value: Any


@dataclass
class Flat:
    """What scalar replacement made of a function for one call's structures."""
    parsed: Parsed                  # the flat function
    params: list                    # the user's parameters
    flat_params: list               # the flat function's parameters
    leaves: dict                    # container parameter -> [(flat name or None, path, treedef leaf index)]
    treedefs: dict                  # container parameter -> TreeDef
    out: TreeDef | None             # the output's structure, when it is a container
    inlined: list = field(default_factory=list)    # (namespace, name, function) of inlined helpers
    classes: dict = field(default_factory=dict)    # name bound in the derivative -> class


class _Poisoned:
    """A name whose structure differs between the paths that reach it."""

    def __init__(self, node, why):
        self.node, self.why = node, why


def _is_identifier(k) -> bool:
    return isinstance(k, str) and k.isidentifier() and not keyword.iskeyword(k)


def _name(n):
    return ast.Name(id=n, ctx=ast.Load())


def _assign(target, value, like):
    stmt = ast.Assign(targets=[ast.Name(id=target, ctx=ast.Store())], value=value)
    return ast.copy_location(stmt, like) if like is not None else stmt


def _key_expr(k) -> ast.expr:
    return ast.Constant(value=k)


class _Scope:
    """One function being read: the original (rename identity) or an inlined helper."""

    def __init__(self, parsed: Parsed, rename: dict):
        self.p = parsed
        self.rename = rename


class _Scalarizer:
    def __init__(self, parsed: Parsed, treedefs: dict, orders: dict):
        self.root = parsed
        self.scope = _Scope(parsed, {})
        self.treedefs = treedefs
        fn = parsed.node
        self.used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} | \
            {a.arg for a in ast.walk(fn) if isinstance(a, ast.arg)} | set(parsed.closure)
        from .normalize import RESERVED
        self.used |= RESERVED
        self.mine: set = set()          # names this pass made (never rebound by the user)
        self.env: dict = {}             # name -> SNode | Const | _Poisoned
        self.out: list = []
        self.depth = 0
        self.conditional = 0            # inside an IfExp / BoolOp / lambda: no statements
        self.returns: list = []         # (node, SNode or None) of the original function
        self.inlined: list = []
        self.inline_stack: list = []
        self.orders = orders
        self.classes: dict = {}
        self.dead = False               # the rest of the block is unreachable (see s_If)

    # --- errors and names ---------------------------------------------------------------------
    def refuse(self, node, what, hint):
        return self.scope.p.error(UnsupportedSyntaxError, node, f"s2sad does not support {what}",
                                  hint=hint)

    def fresh(self, base: str) -> str:
        base = "".join(c if c.isalnum() or c == "_" else "_" for c in str(base)).strip("_") or "v"
        if not base[0].isalpha():
            base = "v_" + base
        name, k = base, 0
        while name in self.used or keyword.iskeyword(name):
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        self.mine.add(name)
        return name

    def emit(self, stmt, like=None):
        if self.conditional:
            raise self.refuse(like, "a container built or a helper inlined inside a conditional "
                              "expression (`a if c else b`, `and`, `or`) or a comprehension over "
                              "run-time values", "compute it in its own statement (a for loop)")
        if like is not None:
            ast.copy_location(stmt, like)
            for n in ast.walk(stmt):
                if "lineno" in n._attributes and not hasattr(n, "lineno"):
                    ast.copy_location(n, like)
        self.out.append(stmt)

    def local(self, name: str) -> str:
        return self.scope.rename.get(name, name)

    # --- parameters -----------------------------------------------------------------------------
    def parameters(self):
        """The flat parameters and, per container parameter, its leaves' names and paths."""
        fn = self.root.node
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
        flat, leaves = [], {}
        for p in params:
            td = self.treedefs.get(p)
            if td is None:
                flat.append(p)
                continue
            items = []
            self._order = iter(self.orders.get(p) or ())
            self.env[p] = self.from_treedef(td, p, (), items, p)
            leaves[p] = items
            flat += [n for n, _, _ in items if n is not None]
        return params, flat, leaves

    def from_treedef(self, td: TreeDef, param: str, path: tuple, items: list, where: str):
        if td.kind == "leaf":
            i = len(items)
            last = path[-1][1] if path else param
            base = last if _is_identifier(last) else "_".join([param] + [str(k) for _, k in path])
            # a leaf named after its key only when no other leaf of any argument has that key
            if base in self.used or self._key_count(last) > 1:
                base = "_".join([param] + [str(k) for _, k in path])
            name = self.fresh(base)
            items.append((name, path, i))
            return _name(name)
        kind, data = td.kind, td.data
        if kind == "none":
            return SNode("none", None, [], [], readonly=True)
        order = next(self._order, None) if kind in ("dict", "defaultdict") else None
        if kind in ("dict", "ordereddict"):
            keys, steps = list(data), [("item", k) for k in data]
        elif kind == "defaultdict":
            keys, steps = list(data[1]), [("item", k) for k in data[1]]
        elif kind in ("list", "tuple"):
            keys, steps = list(range(len(td.children))), [("item", i) for i in range(len(td.children))]
        elif kind == "namedtuple":
            keys, steps = list(range(len(td.children))), [("attr", f) for f in data[1]]
        elif kind == "dataclass":
            keys, steps = list(data[1]), [("attr", f) for f in data[1]]
        elif kind == "registered" and data[1].fields is not None:
            keys, steps = list(data[1].fields), [("attr", f) for f in data[1].fields]
        else:
            # its children are what its flatten returns, and unflatten may transform them: reading
            # `x.W` cannot be related to a child (not even on a dataclass), so it is refused
            cls = td.kind_name()
            if dataclasses.is_dataclass(td.data[0]):
                hint = (f"{cls} is a dataclass: register it without functions, so that its fields are "
                        f"its children: s2sad.register_pytree({cls}) (or with static=[...])")
            else:
                hint = (f"register it with fields, the attributes your code reads: "
                        f"s2sad.register_pytree({cls}, fields=[...], static=[...])")
            raise self.root.error(UnsupportedSyntaxError, self.root.node,
                                  f"s2sad does not support {where}, an instance of {cls} registered "
                                  f"with flatten/unflatten functions, as an argument of a differentiated "
                                  f"function (what its attributes are in terms of the children its "
                                  f"flatten returns is not known)", hint=hint)
        kids = []
        for step, c in zip(steps, td.children):
            label = step[1]
            kids.append(self.from_treedef(c, param, path + (step,), items,
                                          f"{where}[{label!r}]" if step[0] == "item" else f"{where}.{label}"))
        fields = [s[1] for s in steps] if kind in ("namedtuple", "dataclass", "registered") else None
        if order is not None:           # iterated in the caller's insertion order (leaves stay sorted)
            kids = [kids[keys.index(k)] for k in order]
            keys = list(order)
        return SNode(kind, data, keys, kids, readonly=True, fields=fields)

    def _key_count(self, key) -> int:
        count = 0

        def walk(td, k):
            nonlocal count
            if td.kind == "leaf":
                count += k == key
                return
            keys = _child_keys(td)
            for kk, c in zip(keys, td.children):
                walk(c, kk)
        for td in self.treedefs.values():
            walk(td, None)
        return count

    # --- values ---------------------------------------------------------------------------------
    def const_of(self, e):
        """The constant an index or key expression surely has, else _NO."""
        if isinstance(e, ast.Constant):
            return e.value
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub) and isinstance(e.operand, ast.Constant) \
                and isinstance(e.operand.value, (int, float)):
            return -e.operand.value
        if isinstance(e, ast.Name):
            b = self.env.get(self.local(e.id))
            if isinstance(b, Const):
                return b.value
        if isinstance(e, (ast.Subscript, ast.Attribute)) and self._maybe_static(e) and \
                not any(isinstance(n, (ast.Call, ast.IfExp, ast.BoolOp, ast.Lambda)) for n in ast.walk(e)):
            v = self.value(e)           # an item of a static tree that is a constant: keys[0]
            if isinstance(v, ast.Constant):
                return v.value
        return _NO

    def lookup(self, node: SNode, key, at):
        if node.kind in _DICT_KINDS:
            if key not in node.keys:
                raise self.refuse(at, f"the key {key!r}: {_describe(node)} has no such key",
                                  "use one of its keys (the structure is fixed when the derivative "
                                  "is specialised)")
            return node.child(key)
        if node.kind not in _SEQ_KINDS:
            raise self.refuse(at, f"indexing {_describe(node)} (it is not a sequence)", "read its fields: `m.W`")
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
            raise self.refuse(at, f"indexing {_describe(node)} with {key!r}", "use an int index")
        n = len(node.keys)
        if not -n <= key < n:
            raise self.refuse(at, f"index {key} of {_describe(node)} (out of range)",
                              "index within the container")
        return node.children[key % n]

    def value(self, e):
        """An SNode, or a rewritten expression (a plain value)."""
        method = getattr(self, "v_" + type(e).__name__, None)
        if method is not None:
            return method(e)
        return self.generic(e)

    def generic(self, e):
        new = copy.copy(e)
        for name, val in ast.iter_fields(e):
            if isinstance(val, ast.expr):
                setattr(new, name, self.rx(val))
            elif isinstance(val, list):
                setattr(new, name, [self.rx(v) if isinstance(v, ast.expr) else
                                    (self.keyword(v) if isinstance(v, ast.keyword) else copy.deepcopy(v))
                                    for v in val])
            elif isinstance(val, ast.AST):
                setattr(new, name, copy.deepcopy(val))
        return new

    def keyword(self, kw):
        return ast.keyword(arg=kw.arg, value=self.rx(kw.value))

    def rx(self, e):
        """A plain expression for ``e`` (a list or tuple of leaves becomes a display)."""
        v = self.value(e)
        if isinstance(v, SNode):
            return self.materialize(v, e)
        return v

    def materialize(self, node: SNode, at):
        if node.kind in ("list", "tuple", "namedtuple"):
            elts = [self.materialize(c, at) if isinstance(c, SNode) else copy.deepcopy(c)
                    for c in node.children]
            return ast.copy_location((ast.List if node.kind == "list" else ast.Tuple)(elts=elts, ctx=ast.Load()), at)  # a namedtuple as a tuple
        if node.kind == "none":
            return ast.copy_location(ast.Constant(value=None), at)
        raise self.refuse(at, f"{_describe(node)} used as a value here (passed to a function that is "
                          f"not a user helper, or combined with other values)",
                          "pass its leaves (`p['W']`) to library functions; containers may be passed "
                          "to your own helper functions, indexed with constant keys, iterated over")

    def leaf(self, e, base, like):
        """A leaf for expression ``e``: kept when it is a constant or a name this pass made,
        else bound to a fresh name first."""
        if isinstance(e, SNode):
            return e
        if isinstance(e, ast.Constant) or (isinstance(e, ast.Name) and e.id in self.mine):
            return e
        name = self.fresh(base)
        self.emit(_assign(name, e, like), like)
        return _name(name)

    def v_Name(self, e):
        n = self.local(e.id)
        b = self.env.get(n)
        if isinstance(b, SNode):
            return b
        if isinstance(b, Const):          # the key or index of an unrolled loop
            return ast.copy_location(ast.Constant(value=b.value), e)
        if isinstance(b, _Poisoned):
            raise self.refuse(e, f"reading {e.id!r} here: {b.why}",
                              "give the name the same structure (same keys, same kinds) on every path, "
                              "or use two names")
        return ast.copy_location(ast.Name(id=n, ctx=ast.Load()), e)

    def v_Subscript(self, e):
        base = self.value(e.value)
        if not isinstance(base, SNode):
            return ast.copy_location(ast.Subscript(value=base, slice=self.rx(e.slice), ctx=ast.Load()), e)
        if isinstance(e.slice, ast.Slice) and base.kind in ("list", "tuple"):
            parts = [None if p is None else self.const_of(p) for p in (e.slice.lower, e.slice.upper, e.slice.step)]
            if all(p is not _NO for p in parts):
                idx = list(range(len(base.keys)))[slice(*parts)]
                return SNode(base.kind, None, range(len(idx)), [base.children[i] for i in idx],
                             base.readonly, base.depth)
        key = self.const_of(e.slice)
        if key is _NO:
            if base.kind in ("list", "tuple") and all(not isinstance(c, SNode) for c in base.children):
                return ast.copy_location(ast.Subscript(value=self.materialize(base, e), slice=self.rx(e.slice),
                                                       ctx=ast.Load()), e)
            raise self.refuse(e, f"a key or index computed at run time into {_describe(base)}",
                              "index containers with constant keys or with the variable of a loop over "
                              "the container (`for k, v in p.items()`, `for i in range(len(layers))`); "
                              "s2sad specialises the derivative on the structure")
        c = self.lookup(base, key, e)
        return c if isinstance(c, SNode) else copy.deepcopy(c)

    def v_Attribute(self, e):
        base = self.value(e.value)
        if not isinstance(base, SNode):
            return ast.copy_location(ast.Attribute(value=base, attr=e.attr, ctx=ast.Load()), e)
        if base.fields is not None and e.attr in base.fields:
            c = base.children[base.fields.index(e.attr)]
            return c if isinstance(c, SNode) else copy.deepcopy(c)
        statics = dict(base.data[2]) if base.kind in ("dataclass", "registered") else {}
        if e.attr in statics:
            v = statics[e.attr]
            if v is None or isinstance(v, (bool, int, float, str)):
                return ast.copy_location(ast.Constant(value=v), e)
            raise self.refuse(e, f"the static field {e.attr!r} (a {type(v).__name__}) in a "
                              f"differentiated function", "make it a number or a str")
        raise self.refuse(e, f"the attribute {e.attr!r} of {_describe(base)}",
                          "read its fields (or keys) only; call its methods directly on the object")

    def v_Dict(self, e):
        keys, kids = [], []
        for k, v in zip(e.keys, e.values):
            if k is None:
                d = self.value(v)
                if not isinstance(d, SNode) or d.kind not in _DICT_KINDS:
                    raise self.refuse(v, "`**` of something that is not a dict argument or a dict "
                                      "built in the function", "write the keys out")
                for kk, c in zip(d.keys, d.children):
                    if kk in keys:
                        kids[keys.index(kk)] = c
                    else:
                        keys.append(kk)
                        kids.append(c)
                continue
            kv = self.const_of(k)
            if kv is _NO:
                raise self.refuse(k, "a dict key computed at run time", "use constant keys (str or int), "
                                  "or the variable of a loop over a container")
            val = self.value(v)
            if isinstance(val, ast.Constant) and val.value is None:
                val = SNode("none", None, [], [], readonly=True)    # a node without leaves, as in flatten
            val = self.leaf(val, f"{kv}", v)
            if kv in keys:
                kids[keys.index(kv)] = val
            else:
                keys.append(kv)
                kids.append(val)
        self._check_keys(keys, e)
        return SNode("dict", None, keys, kids, depth=self.depth)

    def _check_keys(self, keys, at):
        try:
            sorted(keys)
        except TypeError:
            raise self.refuse(at, "a dict whose keys cannot be sorted together",
                              "use keys of one type (all str, say)") from None

    def _display(self, e, kind):
        vals = [self.value(x) for x in e.elts]
        if any(isinstance(x, ast.Starred) for x in e.elts) or not any(isinstance(v, SNode) for v in vals):
            return ast.copy_location(type(e)(elts=[self.materialize(v, e) if isinstance(v, SNode) else v
                                                   for v in vals], ctx=ast.Load()), e)
        kids = [self.leaf(v, f"item{i}", e) for i, v in enumerate(vals)]
        return SNode(kind, None, range(len(kids)), kids, depth=self.depth)

    def v_List(self, e):
        return self._display(e, "list")

    def v_Tuple(self, e):
        return self._display(e, "tuple")

    def v_IfExp(self, e):
        test = self.test_value(e.test) if self._maybe_static(e.test) else None
        if isinstance(test, ast.Constant):      # decided by a structure: only one side is read
            return self.value(e.body if test.value else e.orelse)
        if test is not None:
            self.conditional += 1
            try:
                return ast.copy_location(ast.IfExp(test=test, body=self.rx(e.body), orelse=self.rx(e.orelse)), e)
            finally:
                self.conditional -= 1
        return self._conditional(e)

    def truth(self, node: SNode, at) -> bool:
        """``bool`` of a static tree: known from its structure (a dict, list or tuple is true when
        it has items, None is false, a dataclass instance is true unless its class says otherwise)."""
        if node.kind in _DICT_KINDS or node.kind in _SEQ_KINDS:
            return bool(node.keys)
        if node.kind == "none":
            return False
        cls = node.data[0]
        if any(hasattr(cls, m) for m in ("__bool__", "__len__")):
            raise self.refuse(at, f"the truth value of {_describe(node)} (its class defines __bool__ or __len__)",
                              "test one of its fields instead")
        return True

    def test_value(self, e):
        """A test's expression: a constant when it is decided by a container's structure (``if p:``,
        ``if "W" in p:``, ``not p``, ``bool(p)``)."""
        v = self.value(e)
        if isinstance(v, SNode):
            return ast.copy_location(ast.Constant(value=self.truth(v, e)), e)
        return v

    def v_UnaryOp(self, e):
        if not isinstance(e.op, ast.Not) or not self._maybe_static(e.operand):
            return self.generic(e)
        v = self.test_value(e.operand)
        if isinstance(v, ast.Constant) and isinstance(v.value, bool):
            return ast.copy_location(ast.Constant(value=not v.value), e)
        return ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=v), e)

    def v_Compare(self, e):
        """``"W" in p`` / ``"W" not in p`` with a constant key on a dict: a constant (its keys are
        part of its structure)."""
        if len(e.ops) != 1 or not isinstance(e.ops[0], (ast.In, ast.NotIn)) or \
                not self._maybe_static(e.comparators[0]):
            return self.generic(e)
        key = self.const_of(e.left)
        left = self.rx(e.left) if key is _NO else ast.copy_location(ast.Constant(value=key), e.left)
        base = self.value(e.comparators[0])
        if isinstance(base, SNode) and base.kind in _DICT_KINDS and key is not _NO:
            found = key in base.keys
            return ast.copy_location(ast.Constant(value=found if isinstance(e.ops[0], ast.In) else not found), e)
        right = self.materialize(base, e.comparators[0]) if isinstance(base, SNode) else base
        return ast.copy_location(ast.Compare(left=left, ops=[copy.deepcopy(e.ops[0])], comparators=[right]), e)

    def v_BoolOp(self, e):
        return self._conditional(e)

    def _conditional(self, e):
        self.conditional += 1
        try:
            return self.generic(e)
        finally:
            self.conditional -= 1

    def v_Lambda(self, e):
        if self.scope.rename:
            raise self.refuse(e, "a lambda inside a helper inlined because it takes a container",
                              "define the function at module level")
        self._no_capture(e)
        return copy.deepcopy(e)

    def _no_capture(self, node):
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(self.env.get(self.local(n.id)), SNode):
                raise self.refuse(n, f"the container {n.id!r} captured by a nested function or lambda",
                                  "pass the values the nested function needs as arguments, or define "
                                  "it at module level and pass the container")

    def v_ListComp(self, e):
        return self._comprehension(e, "list")

    def v_DictComp(self, e):
        return self._comprehension(e, "dict")

    def v_GeneratorExp(self, e):
        return self._comprehension(e, None)

    def _comprehension(self, e, kind):
        items = self.static_iter(e.generators[0].iter) if e.generators and not e.generators[0].is_async else None
        if items is None:
            for n in ast.walk(e):
                if isinstance(n, ast.Name) and isinstance(self.env.get(self.local(n.id)), SNode):
                    break
            else:
                return self._plain_comprehension(e) if kind != "dict" else self._plain_dictcomp(e)
            if kind == "dict" or isinstance(self.value(e.generators[0].iter), SNode):
                raise self.refuse(e, "a comprehension over something that is not a container argument "
                                  "(or a container built in the function) with a constant structure",
                                  "iterate over the container itself, `.items()`, `.values()`, "
                                  "`enumerate`, `zip` or `range(len(container))`")
            return self._plain_comprehension(e)
        # unrolled: one element per item (nested generators recursively); the comprehension's
        # variables are its own (fresh names: an outer variable of that name keeps its value)
        saved, saved_rename = dict(self.env), self.scope.rename
        self.scope.rename = dict(saved_rename)
        for gen in e.generators:
            for n in ast.walk(gen.target):
                if isinstance(n, ast.Name):
                    self.scope.rename[n.id] = self.fresh(n.id)
                    self.mine.discard(self.scope.rename[n.id])
        keys, kids = [], []

        def run(gens):
            gen = gens[0]
            its = self.static_iter(gen.iter)
            if its is None:
                raise self.refuse(gen.iter, "a nested comprehension over a value computed at run time "
                                  "inside a comprehension over a container", "use a for loop")
            for item in its:
                self.bind_target(gen.target, item, gen.target)
                ok = True
                for cond in gen.ifs:
                    c = self.const_of_test(cond)
                    if c is _NO:
                        raise self.refuse(cond, "a condition computed at run time in a comprehension "
                                          "that builds a container", "build the container, then use "
                                          "np.where or an if statement on its leaves")
                    ok = ok and bool(c)
                if not ok:
                    continue
                if len(gens) > 1:
                    run(gens[1:])
                elif kind == "dict":
                    k = self.const_of(e.key)
                    if k is _NO:
                        kv = self.value(e.key)
                        k = kv.value if isinstance(kv, ast.Constant) else _NO
                    if k is _NO:
                        raise self.refuse(e.key, "a dict comprehension whose key is computed at run time",
                                          "use the keys of the container you iterate over")
                    v = self.leaf(self.value(e.value), f"{k}", e)
                    if k in keys:
                        kids[keys.index(k)] = v
                    else:
                        keys.append(k)
                        kids.append(v)
                else:
                    kids.append(self.leaf(self.value(e.elt), f"item{len(kids)}", e))
        try:
            run(e.generators)
        finally:
            self.scope.rename = saved_rename
        self.env = saved
        if kind == "dict":
            self._check_keys(keys, e)
            return SNode("dict", None, keys, kids, depth=self.depth)
        if kind is None:
            return SNode("tuple", None, range(len(kids)), kids, depth=self.depth)
        return SNode("list", None, range(len(kids)), kids, depth=self.depth)

    def _plain_comprehension(self, e):
        """A comprehension over values known at run time only: kept, its variables shadowing the
        enclosing bindings (and renamed with them in a helper); nothing may be emitted inside
        it (a statement would run once, not per item)."""
        first = self.rx(e.generators[0].iter)
        saved_env, saved_rename = self.env, self.scope.rename
        self.env, self.scope.rename = dict(saved_env), dict(saved_rename)
        self.conditional += 1
        try:
            gens = []
            for k, gen in enumerate(e.generators):
                it = first if k == 0 else self.rx(gen.iter)
                target = self.target(gen.target)
                gens.append(ast.comprehension(target=target, iter=it, ifs=[self.rx(c) for c in gen.ifs],
                                              is_async=gen.is_async))
            elt = self.rx(e.elt)
        finally:
            self.conditional -= 1
            self.env, self.scope.rename = saved_env, saved_rename
        return ast.copy_location(type(e)(elt=elt, generators=gens), e)

    def _plain_dictcomp(self, e):
        raise self.refuse(e, "a dict comprehension over a value computed at run time",
                          "iterate over a container argument (`for k, v in p.items()`), or use a list")

    def const_of_test(self, e):
        c = self.const_of(e)
        if c is not _NO:
            return c
        if isinstance(e, ast.Compare) and len(e.ops) == 1:
            a, b = self.const_of(e.left), self.const_of(e.comparators[0])
            if a is not _NO and b is not _NO:
                op = {ast.Eq: lambda x, y: x == y, ast.NotEq: lambda x, y: x != y,
                      ast.In: lambda x, y: x in y, ast.NotIn: lambda x, y: x not in y}.get(type(e.ops[0]))
                if op is not None:
                    return op(a, b)
        return _NO

    # --- calls ----------------------------------------------------------------------------------
    def v_Call(self, e):
        f = e.func
        if isinstance(f, ast.Attribute):
            base = self.value(f.value)
            if isinstance(base, SNode):
                return self.method_call(base, f, e)
            func_expr = ast.copy_location(ast.Attribute(value=base, attr=f.attr, ctx=ast.Load()), f)
        else:
            func_expr = None
        resolved = self.resolve(f)
        if resolved is bool and len(e.args) == 1 and not e.keywords and self._maybe_static(e.args[0]):
            return ast.copy_location(self.test_value(e.args[0]), e)
        if resolved is len and len(e.args) == 1 and not e.keywords:
            a = self.value(e.args[0])
            if isinstance(a, SNode):
                return ast.copy_location(ast.Constant(value=len(a.keys)), e)
            return ast.copy_location(ast.Call(func=self.rx(f), args=[a], keywords=[]), e)
        if resolved in (dict, list, tuple) and isinstance(f, ast.Name):
            if resolved is dict and not e.args and e.keywords:
                return self.v_Dict(ast.copy_location(ast.Dict(keys=[ast.Constant(kw.arg) for kw in e.keywords],
                                                              values=[kw.value for kw in e.keywords]), e))
            if resolved is dict and not e.args and not e.keywords:
                return SNode("dict", None, [], [], depth=self.depth)
            if len(e.args) == 1 and not e.keywords:
                if resolved is dict and self._maybe_static(e.args[0]):
                    a = self.value(e.args[0])
                    if isinstance(a, SNode) and a.kind in _DICT_KINDS:
                        return SNode("dict", None, a.keys, a.children, depth=self.depth)
                items = self.static_iter(e.args[0])
                if items is not None and resolved is not dict:
                    kind = resolved.__name__
                    return SNode(kind, None, range(len(items)),
                                 [self.leaf(x, f"item{i}", e) if not isinstance(x, SNode) else x
                                  for i, x in enumerate(items)], depth=self.depth)
        built = self.constructor(resolved, e)
        if built is not None:
            return built
        user = self.user_helper(f, resolved)
        if user is not None:
            vals = [self.value(a) for a in e.args]
            kws = {kw.arg: self.value(kw.value) for kw in e.keywords if kw.arg is not None}
            if any(isinstance(v, SNode) for v in vals + list(kws.values())) or self.returns_container(user):
                if any(isinstance(a, ast.Starred) for a in e.args) or any(kw.arg is None for kw in e.keywords):
                    raise self.refuse(e, "`*` or `**` arguments in a call that passes a container",
                                      "pass the arguments one by one")
                return self.inline(user, vals, kws, e)
            return ast.copy_location(ast.Call(func=func_expr or self.rx(f),
                                              args=[self.materialize(v, e) if isinstance(v, SNode) else v
                                                    for v in vals],
                                              keywords=[ast.keyword(arg=k, value=v) for k, v in kws.items()]), e)
        args = []
        for a in e.args:
            v = self.value(a.value if isinstance(a, ast.Starred) else a)
            if isinstance(v, SNode):
                if v.kind not in ("list", "tuple", "none"):
                    raise self.refuse(a, f"{_describe(v)} passed to "
                                      f"{ast.unparse(f) if hasattr(ast, 'unparse') else 'a function'}, "
                                      f"which is not a user function s2sad can inline",
                                      "pass its leaves (`p['W']`), or write a helper function of your own "
                                      "that takes the container")
                v = self.materialize(v, a)
            args.append(ast.copy_location(ast.Starred(value=v, ctx=ast.Load()), a) if isinstance(a, ast.Starred) else v)
        keywords = []
        for kw in e.keywords:
            v = self.value(kw.value)
            if isinstance(v, SNode):
                if v.kind not in ("list", "tuple", "none"):
                    raise self.refuse(kw.value, f"{_describe(v)} passed to a function that is not a user "
                                      f"function s2sad can inline", "pass its leaves")
                v = self.materialize(v, kw.value)
            keywords.append(ast.keyword(arg=kw.arg, value=v))
        return ast.copy_location(ast.Call(func=func_expr or self.rx(f), args=args, keywords=keywords), e)

    def constructor(self, resolved, e):
        """A namedtuple built from its fields, or a gradient's dataclass built by `restructure`
        (``new_instance(Model, W=.., b=..)``, in a derivative read again for hessian): an SNode
        when any field is a container, or always for new_instance."""
        if isinstance(resolved, type) and issubclass(resolved, tuple) and \
                isinstance(getattr(resolved, "_fields", None), tuple) and not e.keywords and \
                len(e.args) == len(resolved._fields) and not any(isinstance(a, ast.Starred) for a in e.args):
            vals = [self.value(a) for a in e.args]
            kids = [self.leaf(v, f, e) for v, f in zip(vals, resolved._fields)]
            return SNode("namedtuple", (resolved, resolved._fields), range(len(kids)), kids,
                         depth=self.depth, fields=list(resolved._fields))
        if isinstance(resolved, type) and dataclasses.is_dataclass(resolved):
            return self.dataclass_call(resolved, e)
        if resolved is dataclasses.replace and e.args and not any(isinstance(a, ast.Starred) for a in e.args) \
                and all(kw.arg is not None for kw in e.keywords) and len(e.args) == 1:
            base = self.value(e.args[0])
            if isinstance(base, SNode) and base.kind == "dataclass":
                names = list(base.fields)
                unknown = [kw.arg for kw in e.keywords if kw.arg not in names]
                if unknown:
                    raise self.refuse(e, f"dataclasses.replace of the field {unknown[0]!r} (not a field that "
                                      f"is a leaf)", "replace array fields only")
                kids = list(base.children)
                for kw in e.keywords:
                    kids[names.index(kw.arg)] = self.leaf(self.value(kw.value), kw.arg, e)
                return SNode("dataclass", base.data, names, kids, depth=self.depth, fields=names)
            return None
        if resolved is _new_instance and len(e.args) == 1:
            cls = self.resolve(e.args[0]) if isinstance(e.args[0], ast.Name) else None
            if not isinstance(cls, type):
                return None
            from .tree import _registry
            reg = _registry.get(cls)
            given = {kw.arg: kw.value for kw in e.keywords}
            if reg is not None and reg.fields is not None:
                names, static_names, kind = list(reg.fields), list(reg.static), "registered"
            elif dataclasses.is_dataclass(cls) and reg is None:
                fields = dataclasses.fields(cls)
                names = [f.name for f in fields if not f.metadata.get("static", False)]
                static_names = [f.name for f in fields if f.metadata.get("static", False)]
                kind = "dataclass"
            else:
                return None
            statics = []
            for n in static_names:
                v = self.const_of(given[n]) if n in given else _NO
                if v is _NO and isinstance(given.get(n), ast.Name):
                    v = self.resolve(given[n])
                statics.append((n, v))
            kids = [self.leaf(self.value(given[n]), n, e) for n in names]
            data = (cls, tuple(names), tuple(statics)) if kind == "dataclass" else (cls, reg, tuple(statics))
            return SNode(kind, data, names, kids, depth=self.depth, fields=names)
        return None

    def dataclass_call(self, cls, e):
        """``Model(W=.., b=..)``: a static tree when the class's ``__init__`` is the one
        dataclass writes (no ``__post_init__``, every field an ``__init__`` argument, not a
        registered class) and its static fields get constants; else None (a plain call)."""
        from .tree import _registry
        fields = dataclasses.fields(cls)
        init_code = getattr(getattr(cls, "__init__", None), "__code__", None)
        if cls in _registry or hasattr(cls, "__post_init__") or not cls.__dataclass_params__.init \
                or any(not f.init for f in fields) or init_code is None or init_code.co_filename != "<string>":
            return None                 # an __init__ of the user's (dataclass writes its own from a string)
        if any(isinstance(a, ast.Starred) for a in e.args) or any(kw.arg is None for kw in e.keywords) \
                or len(e.args) > len(fields):
            return None
        given = dict(zip([f.name for f in fields], e.args))
        given.update({kw.arg: kw.value for kw in e.keywords})
        values, statics, names = {}, [], []
        for f in fields:
            if f.name in given:
                expr = given[f.name]
            elif f.default is not dataclasses.MISSING:
                expr = ast.Constant(value=f.default) if f.default is None or isinstance(f.default, (bool, int, float, str)) \
                    else None
                if expr is None:
                    return None
            else:
                return None            # a default_factory, or a missing argument: Python's own call decides
            if f.metadata.get("static", False):
                c = self.const_of(expr)
                if c is _NO:
                    raise self.refuse(expr, f"the static field {f.name!r} of {cls.__name__} given a value "
                                      f"computed at run time", "give it a constant")
                statics.append((f.name, c))
            else:
                values[f.name] = expr
                names.append(f.name)
        kids = [self.leaf(self.value(values[n]), n, e) for n in names]
        return SNode("dataclass", (cls, tuple(names), tuple(statics)), names, kids, depth=self.depth, fields=names)

    def method_call(self, base: SNode, f, e):
        m = f.attr
        if base.kind in _DICT_KINDS and m in ("items", "values", "keys") and not e.args:
            items = self._dict_view(base, m, e)
            return SNode("list", None, range(len(items)), items, depth=self.depth)
        if base.kind in _DICT_KINDS and m == "get" and 1 <= len(e.args) <= 2 and not e.keywords:
            k = self.const_of(e.args[0])
            if k is _NO:
                raise self.refuse(e.args[0], "a key computed at run time", "use a constant key")
            if k in base.keys:
                c = base.child(k)
                return c if isinstance(c, SNode) else copy.deepcopy(c)
            return self.value(e.args[1]) if len(e.args) == 2 else ast.Constant(value=None)
        if m == "copy" and not e.args and base.kind in _DICT_KINDS + ("list",):
            return SNode(base.kind, base.data, base.keys, base.children, depth=self.depth, fields=base.fields)
        if m in _MUTATORS:
            what = "mutating an argument container" if base.readonly else "this method of a container"
            raise self.refuse(e, f"{what} (`.{m}(...)`)",
                              "build a new container instead (`{**p, 'W': W}`, `p + [x]`, a dict "
                              "comprehension), and return it" if base.readonly else
                              "write `d[key] = value` with a constant key, or build a new container")
        if base.kind in ("dataclass", "registered"):
            cls = base.data[0]
            fn = getattr(cls, m, None)
            if isinstance(fn, types.FunctionType):
                vals = [base] + [self.value(a) for a in e.args]
                kws = {kw.arg: self.value(kw.value) for kw in e.keywords if kw.arg is not None}
                return self.inline(fn, vals, kws, e)
        raise self.refuse(e, f"the method `.{m}` of {_describe(base)}",
                          "use its keys, fields, `.items()`, `.values()`, `.keys()` or `.get(key)`")

    def _dict_view(self, base, m, e):
        if m == "keys":
            return [ast.Constant(value=k) for k in base.keys]
        if m == "values":
            return list(base.children)
        return [SNode("tuple", None, range(2), [ast.Constant(value=k), c], depth=self.depth)
                for k, c in zip(base.keys, base.children)]

    def resolve(self, f):
        """The object a called name refers to, or None."""
        root, chain = f, []
        while isinstance(root, ast.Attribute):
            chain.append(root.attr)
            root = root.value
        if not isinstance(root, ast.Name):
            return None
        n = self.local(root.id)
        if n in self.env or n in self.scope.rename.values() or self._is_local(root.id):
            return None
        value = self.scope.p.resolve(root.id)
        for a in reversed(chain):
            value = getattr(value, a, None)
        return value

    def _is_local(self, name):
        fn = self.scope.p.node
        return name in self._locals_of(fn)

    def _locals_of(self, fn):
        cache = getattr(self, "_locals_cache", None)
        if cache is None:
            cache = self._locals_cache = {}
        got = cache.get(id(fn))
        if got is None or got[0] is not fn:         # (the node is kept: its id is not reused)
            names = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            names |= {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}
            got = cache[id(fn)] = (fn, names)
        return got[1]

    def user_helper(self, f, value):
        """The plain Python function a call reaches (no derivative rule), or None."""
        if isinstance(value, types.MethodType) and isinstance(value.__func__, types.FunctionType):
            if rules.lookup(value) is None and not rules.is_nondifferentiable(value):
                return value
            return None
        if isinstance(value, types.FunctionType) and rules.lookup(value) is None \
                and not rules.is_nondifferentiable(value):
            return value
        return None

    def returns_container(self, fn) -> bool:
        """Whether a helper returns a dict display or comprehension (then it is inlined, even
        when no container is passed to it); cached per function and code."""
        fn = getattr(fn, "__func__", fn)
        hit = _RETURNS_CONTAINER.get(fn)
        if hit is not None and hit[0] is fn.__code__:
            return hit[1]
        try:
            node = parse_function(fn).node
            answer = any(isinstance(n, ast.Return) and isinstance(n.value, (ast.Dict, ast.DictComp))
                         for n in ast.walk(node))
        except Exception:           # no source (a builtin's wrapper): the normal machinery decides
            answer = False
        try:
            _RETURNS_CONTAINER[fn] = (fn.__code__, answer)
        except TypeError:
            pass
        return answer

    def inline(self, fn, vals, kws, call):
        """Inline a user helper: its parameters bound to the arguments' trees or values, its
        locals renamed, its body read by this pass; its value is its last statement's return."""
        bound_obj = None
        if isinstance(fn, types.MethodType):
            bound_obj, fn = fn.__self__, fn.__func__
        if fn in self.inline_stack:
            raise self.refuse(call, f"a recursive call of {fn.__name__} with a container",
                              "write the recursion as a loop")
        parsed = parse_function(fn)
        node = parsed.node
        if fn.__globals__ is not self.root.namespace:
            raise self.refuse(call, f"passing a container to {fn.__name__}, defined in another module "
                              f"or reading closure variables", "define the helper in the same module as "
                              "the differentiated function")
        if fn.__closure__:
            raise self.refuse(call, f"passing a container to {fn.__name__}, a closure",
                              "define the helper at module level")
        body = list(node.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]
        returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
        result_var = None
        if not body or not isinstance(body[-1], ast.Return) or len(returns) != 1:
            result_var = "__s2sad_result__"
            lowered = _tail_returns(body, result_var)
            if lowered is None:
                where = next((r for r in returns if not _in_tail(body, r)), returns[0] if returns else node)
                raise parsed.error(UnsupportedSyntaxError, where,
                                   f"s2sad does not support a helper that takes or returns a container "
                                   f"({fn.__name__}) with a `return` inside a loop (or no `return`)",
                                   hint="compute the result in a variable and `return` it once, at the end")
            body = lowered + [ast.copy_location(ast.Return(value=_name(result_var)), body[-1])]
        args = node.args
        if args.vararg or args.kwarg:
            raise parsed.error(UnsupportedSyntaxError, node, "s2sad does not support *args / **kwargs in "
                               "a helper that takes a container", hint="list the parameters")
        pnames = [a.arg for a in args.posonlyargs + args.args]
        if bound_obj is not None:
            pnames = pnames[1:]
        if len(vals) > len(pnames):
            raise self.refuse(call, f"a call of {fn.__name__} with too many arguments", "check the call")
        defaults = dict(zip(pnames[len(pnames) - len(fn.__defaults__ or ()):], fn.__defaults__ or ()))
        defaults.update(fn.__kwdefaults__ or {})
        binding = {}
        for n, v in zip(pnames, vals):
            binding[n] = v
        for k, v in kws.items():
            binding[k] = v
        allp = pnames + [a.arg for a in args.kwonlyargs]
        for n in allp:
            if n not in binding:
                if n not in defaults:
                    raise self.refuse(call, f"a call of {fn.__name__} without its argument {n!r}",
                                      "pass every argument")
                d = defaults[n]
                if not (d is None or isinstance(d, (bool, int, float, str))):
                    raise self.refuse(call, f"the default value of {n!r} (a {type(d).__name__}) of "
                                      f"{fn.__name__}, a helper inlined because it takes a container",
                                      "pass the argument explicitly")
                binding[n] = ast.Constant(value=d)
        # the helper's locals get fresh names; its globals must mean what they mean here
        locals_ = set(self._locals_of(node)) | ({result_var} if result_var else set())
        frees = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id not in locals_}
        clash = sorted(x for x in frees if x in self.mine or x in self._locals_of(self.root.node)
                       or x in set(self.scope.rename.values()))
        first = node.args.args[0].arg if bound_obj is not None and node.args.args else None
        if clash:
            raise self.refuse(call, f"inlining {fn.__name__}, which reads the global "
                              f"{clash[0]!r} that the calling function uses as a local name",
                              f"rename the local variable {clash[0]!r}")
        rename = {}
        for n in sorted(locals_):
            rename[n] = self.fresh(f"{n}")
            self.mine.discard(rename[n])        # the helper assigns it: not a name leaves can keep
        self.used |= frees
        saved_scope, saved_env, saved_depth = self.scope, self.env, self.depth
        env = dict(self.env)
        new_scope = _Scope(parsed, rename)
        if first is not None:
            if self.root.bound is not None and self.root.closure.get(self.root.bound) is bound_obj:
                rename[first] = self.root.bound
            else:
                raise self.refuse(call, f"a method of another object ({fn.__name__}) called with a container",
                                  "call a module-level function")
        for n in allp:
            v = binding[n]
            target = rename[n]
            if isinstance(v, SNode):
                env[target] = v
            else:
                env.pop(target, None)
                self.emit(_assign(target, v, call), call)
        self.inline_stack.append(fn)
        self.inlined.append((fn.__globals__, fn.__name__, fn))
        self.scope, self.env = new_scope, env
        try:
            for s in body[:-1]:
                self.stmt(s)
            ret = body[-1]
            result = self.value(ret.value) if ret.value is not None else ast.Constant(value=None)
            if not isinstance(result, SNode):
                result = self.leaf(result, f"{fn.__name__}_result", call)
        finally:
            self.inline_stack.pop()
            inner_env = self.env
            self.scope, self.depth = saved_scope, saved_depth
        # the caller's names keep their bindings (the helper's are renamed apart)
        self.env = saved_env
        del inner_env
        return result

    # --- iteration --------------------------------------------------------------------------------
    def static_iter(self, e):
        """The items of an iteration over a static structure, or None if it is not one."""
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and self.resolve(e.func) in (enumerate, zip, range):
            f = self.resolve(e.func)
            if f is enumerate and e.args and not e.keywords:
                inner = self.static_iter(e.args[0])
                if inner is None:
                    return None
                start = self.const_of(e.args[1]) if len(e.args) > 1 else 0
                if start is _NO:
                    return None
                return [SNode("tuple", None, range(2), [ast.Constant(value=start + i), x]) for i, x in enumerate(inner)]
            if f is zip and e.args and not e.keywords:
                parts = [self.static_iter(a) for a in e.args]
                if any(p is None for p in parts):
                    if any(p is not None for p in parts):
                        return None
                    return None
                n = min(len(p) for p in parts)
                return [SNode("tuple", None, range(len(parts)), [p[i] for p in parts]) for i in range(n)]
            if f is range and not e.keywords:
                bounds = [self._len_or_const(a) for a in e.args]
                if all(b is not _NO for b in bounds) and bounds:
                    return [ast.Constant(value=i) for i in range(*bounds)]
            return None
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr in ("items", "values", "keys") \
                and not e.args:
            base = self.value(e.func.value) if self._maybe_static(e.func.value) else None
            if isinstance(base, SNode) and base.kind in _DICT_KINDS:
                return self._dict_view(base, e.func.attr, e)
            return None
        if not self._maybe_static(e):
            return None
        v = self.value(e)
        if isinstance(v, SNode):
            if v.kind in _DICT_KINDS:
                return [ast.Constant(value=k) for k in v.keys]
            if v.kind in _SEQ_KINDS:
                return list(v.children)
            raise self.refuse(e, f"iterating over {_describe(v)}", "iterate over its fields one by one")
        return None

    def _maybe_static(self, e) -> bool:
        """Whether ``e`` may evaluate to an SNode without emitting anything (a name, an index or
        attribute chain on one, a display holding one)."""
        for n in ast.walk(e):
            if isinstance(n, ast.Name) and isinstance(self.env.get(self.local(n.id)), SNode):
                return True
        return False

    def _len_or_const(self, a):
        c = self.const_of(a)
        if c is not _NO:
            return c if isinstance(c, int) and not isinstance(c, bool) else _NO
        if isinstance(a, ast.Call) and isinstance(a.func, ast.Name) and self.resolve(a.func) is len \
                and len(a.args) == 1 and self._maybe_static(a.args[0]):
            v = self.value(a.args[0])
            if isinstance(v, SNode):
                return len(v.keys)
        return _NO

    # --- statements -------------------------------------------------------------------------------
    def block(self, stmts):
        for s in stmts:
            self.stmt(s)
            if self.dead:               # after a branch decided by a structure that returned
                self.dead = False
                break

    def stmt(self, s):
        method = getattr(self, "s_" + type(s).__name__, None)
        if method is None:
            for n in ast.walk(s):
                if isinstance(n, ast.Name) and isinstance(self.env.get(self.local(n.id)), SNode):
                    raise self.refuse(s, f"the container {n.id!r} in a {type(s).__name__} statement",
                                      "use its leaves")
            new = copy.deepcopy(s)
            if self.scope.rename:
                for n in ast.walk(new):
                    if isinstance(n, ast.Name):
                        n.id = self.local(n.id)
            self.out.append(new)
            return
        method(s)

    def s_Expr(self, s):
        v = self.value(s.value)
        if isinstance(v, SNode):
            return
        self.emit(ast.Expr(value=v), s)

    def s_Pass(self, s):
        self.out.append(copy.deepcopy(s))

    def s_Return(self, s):
        if self.inline_stack:
            raise self.refuse(s, "a `return` inside a helper that takes a container, other than its "
                              "last statement", "return once, at the end")
        v = self.value(s.value) if s.value is not None else ast.Constant(value=None)
        if isinstance(v, SNode):
            leaves = v.leaves()
            self.returns.append((s, v.treedef()))
            v = ast.Tuple(elts=[copy.deepcopy(x) for x in leaves], ctx=ast.Load())
        else:
            self.returns.append((s, None))
        self.emit(ast.Return(value=v), s)

    def s_Assign(self, s):
        v = self.value(s.value)
        if len(s.targets) > 1 and not isinstance(v, SNode):
            v = self.leaf(v, "value", s)
        for t in s.targets:
            self.assign(t, v, s)

    def s_AnnAssign(self, s):
        if s.value is None:
            return
        self.assign(s.target, self.value(s.value), s)

    def assign(self, t, v, s):
        if isinstance(t, ast.Name):
            n = self.local(t.id)
            if isinstance(v, SNode):
                self.env[n] = v
                return
            self.env.pop(n, None)
            self.emit(ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())], value=v), s)
            return
        if isinstance(t, (ast.Tuple, ast.List)):
            if isinstance(v, SNode):
                if v.kind not in _SEQ_KINDS + _DICT_KINDS or any(isinstance(x, ast.Starred) for x in t.elts):
                    raise self.refuse(t, f"unpacking {_describe(v)} into {len(t.elts)} names",
                                      "unpack a list or tuple into as many names as it has items")
                items = [ast.Constant(value=k) for k in v.keys] if v.kind in _DICT_KINDS else v.children
                if len(items) != len(t.elts):
                    raise self.refuse(t, f"unpacking {_describe(v)} into {len(t.elts)} names",
                                      "unpack into as many names as it has items")
                for sub, item in zip(t.elts, items):
                    self.assign(sub, item if isinstance(item, SNode) else copy.deepcopy(item), s)
                return
            for n in ast.walk(t):
                if isinstance(n, ast.Name):
                    self.env.pop(self.local(n.id), None)
            self.emit(ast.Assign(targets=[self.target(t)], value=v), s)
            return
        if isinstance(t, ast.Subscript):
            base = self.value(t.value)
            if isinstance(base, SNode):
                self.write_item(base, t, v, s)
                return
            self.emit(ast.Assign(targets=[ast.Subscript(value=base, slice=self.rx(t.slice), ctx=ast.Store())],
                                 value=self.rx_value(v, s)), s)
            return
        if isinstance(t, ast.Attribute):
            base = self.value(t.value)
            if isinstance(base, SNode):
                raise self.refuse(t, f"setting the attribute {t.attr!r} of {_describe(base)}"
                                  + (" (an argument)" if base.readonly else ""),
                                  "build a new object instead (dataclasses.replace outside, or return "
                                  "the new arrays)")
            self.emit(ast.Assign(targets=[ast.Attribute(value=base, attr=t.attr, ctx=ast.Store())],
                                 value=self.rx_value(v, s)), s)
            return
        self.emit(ast.Assign(targets=[self.target(t)], value=self.rx_value(v, s)), s)

    def rx_value(self, v, at):
        return self.materialize(v, at) if isinstance(v, SNode) else v

    def target(self, t):
        if isinstance(t, ast.Name):
            self.env.pop(self.local(t.id), None)
            return ast.copy_location(ast.Name(id=self.local(t.id), ctx=ast.Store()), t)
        if isinstance(t, (ast.Tuple, ast.List)):
            return ast.copy_location(type(t)(elts=[self.target(x) for x in t.elts], ctx=ast.Store()), t)
        if isinstance(t, ast.Starred):
            return ast.copy_location(ast.Starred(value=self.target(t.value), ctx=ast.Store()), t)
        if isinstance(t, ast.Subscript):
            base = self.value(t.value)
            if isinstance(base, SNode):
                raise self.refuse(t, f"writing into {_describe(base)} here", "assign `d[key] = value` in its "
                                  "own statement")
            return ast.copy_location(ast.Subscript(value=base, slice=self.rx(t.slice), ctx=ast.Store()), t)
        if isinstance(t, ast.Attribute):
            base = self.value(t.value)
            if isinstance(base, SNode):
                raise self.refuse(t, f"setting an attribute of {_describe(base)}", "build a new object")
            return ast.copy_location(ast.Attribute(value=base, attr=t.attr, ctx=ast.Store()), t)
        return copy.deepcopy(t)

    def write_item(self, base: SNode, t, v, s):
        if base.readonly:
            raise self.refuse(t, "mutating an argument container (a write into it would change the "
                              "caller's data)", "build a new container: `p = {**p, 'W': W}`")
        if base.depth != self.depth:
            raise self.refuse(t, "writing into a container inside an `if` or a loop that is not "
                              "unrolled, when it was built outside it",
                              "build the container after the branch, from values assigned in each branch")
        key = self.const_of(t.slice)
        if key is _NO:
            raise self.refuse(t, "a key or index computed at run time in a write into a container",
                              "use a constant key, or the variable of a loop over a container")
        val = self.leaf(v, f"{key}", s)
        if base.kind in _DICT_KINDS:
            if key in base.keys:
                base.children[base.keys.index(key)] = val
            else:
                self._check_keys(base.keys + [key], t)
                base.keys.append(key)
                base.children.append(val)
            return
        n = len(base.keys)
        if base.kind != "list" or isinstance(key, bool) or not isinstance(key, int) or not -n <= key < n:
            raise self.refuse(t, f"writing item {key!r} of {_describe(base)}", "write into a list with an "
                              "index in range, or into a dict")
        base.children[key % n] = val

    def s_AugAssign(self, s):
        t = s.target
        if isinstance(t, ast.Name) and isinstance(self.env.get(self.local(t.id)), SNode):
            raise self.refuse(s, f"an augmented assignment to the container {t.id!r}",
                              "build a new container (`xs = xs + [x]`)")
        if isinstance(t, ast.Subscript):
            base = self.value(t.value)
            if isinstance(base, SNode):
                key = self.const_of(t.slice)
                if key is _NO or base.readonly:
                    self.write_item(base, t, None, s)
                old = self.lookup(base, key, t)
                if isinstance(old, SNode):
                    raise self.refuse(s, "an augmented assignment to a container item that is a "
                                      "container", "assign a new container")
                new = ast.copy_location(ast.BinOp(left=copy.deepcopy(old), op=s.op, right=self.rx(s.value)), s)
                self.write_item(base, t, new, s)
                return
        if isinstance(t, ast.Attribute) and isinstance(self.value(t.value), SNode):
            raise self.refuse(s, "setting an attribute of a container", "build a new object")
        target = self.target(t)
        if isinstance(target, ast.Name):
            self.env.pop(target.id, None)
        self.emit(ast.AugAssign(target=target, op=s.op, value=self.rx(s.value)), s)

    def s_If(self, s):
        test = self.test_value(s.test) if self._maybe_static(s.test) else self.rx(s.test)
        if isinstance(test, ast.Constant) and self._maybe_static(s.test):
            # decided by a structure (`if "b" in p:`): only the branch taken is read (the other
            # may index keys this structure does not have); it stays under `if True:` when it returns
            saved_out, self.out = self.out, []
            self.depth += 1
            self.block(s.body if test.value else s.orelse)
            self.depth -= 1
            taken, self.out = self.out, saved_out
            from .normalize import terminates
            if terminates(taken):           # what follows the `if` is never reached
                self.dead = True
            elif any(_has_return(t) for t in taken):
                self.emit(ast.If(test=ast.Constant(value=True), body=taken, orelse=[]), s)
                return
            self.out += taken
            return
        saved_out, env0 = self.out, dict(self.env)
        self.depth += 1
        self.out = []
        self.block(s.body)
        body, env_b = self.out, self.env
        self.out, self.env = [], dict(env0)
        self.block(s.orelse)
        orelse, env_o = self.out, self.env
        self.depth -= 1
        self.out = saved_out
        from .normalize import terminates
        if terminates(body) and not terminates(orelse):
            self.env = env_o
        elif terminates(orelse) and not terminates(body):
            self.env = env_b
        else:
            self.env = self.merge(env_b, env_o, body, orelse, s)
        self.emit(ast.If(test=test, body=body or [ast.Pass()], orelse=orelse), s)

    def merge(self, a, b, body_a, body_b, s):
        env = {}
        for n in set(a) | set(b):
            x, y = a.get(n), b.get(n)
            if x is y:
                env[n] = x
            elif isinstance(x, Const) and isinstance(y, Const) and x.value == y.value:
                env[n] = x
            elif isinstance(x, Const) or isinstance(y, Const):
                if not isinstance(x, (SNode, _Poisoned)) and not isinstance(y, (SNode, _Poisoned)):
                    continue           # a plain variable (its assignment is in the code)
                env[n] = _Poisoned(s, f"the `if` at line {s.lineno} binds it to a container on one "
                                      f"path only")
            elif isinstance(x, SNode) and isinstance(y, SNode) and _same_structure(x, y):
                env[n] = self._merge_nodes(x, y, body_a, body_b, n, s)
            elif x is None and y is None:
                continue
            else:
                env[n] = _Poisoned(s, f"the `if` at line {s.lineno} binds it to containers of different "
                                      f"structures, or to a container on one path only")
        return env

    def _merge_nodes(self, x, y, body_a, body_b, name, s):
        kids = []
        for k, cx, cy in zip(x.keys, x.children, [y.child(k) if x.kind in _DICT_KINDS else c
                                                   for k, c in zip(x.keys, y.children)]):
            if isinstance(cx, SNode):
                kids.append(self._merge_nodes(cx, cy, body_a, body_b, f"{name}_{k}", s))
            elif ast.dump(cx) == ast.dump(cy):
                kids.append(cx)
            else:
                m = self.fresh(f"{name}_{k}")
                body_a.append(ast.copy_location(_assign(m, copy.deepcopy(cx), s), s))
                body_b.append(ast.copy_location(_assign(m, copy.deepcopy(cy), s), s))
                kids.append(_name(m))
        return SNode(x.kind, x.data, x.keys, kids, x.readonly and y.readonly, self.depth, x.fields)

    def s_For(self, s):
        items = self.static_iter(s.iter) if self._unroll(s) else None
        if items is not None:
            if any(isinstance(n, (ast.Break, ast.Continue, ast.Return)) for n in _loop_level(s.body)) or s.orelse:
                raise self.refuse(s, "`break`, `continue`, `return` or `else` in a loop over a container",
                                  "s2sad unrolls loops over containers: compute a flag and use `if`")
            for item in items:
                self.bind_target(s.target, item, s)
                self.block(s.body)
            return
        self.loop(s, lambda: ast.For(target=self.target(s.target), iter=self.rx(s.iter), body=[], orelse=[],
                                     type_comment=None))

    def s_While(self, s):
        self.loop(s, lambda: ast.While(test=self.rx(s.test), body=[], orelse=[]))

    def _unroll(self, s) -> bool:
        it = s.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and self.resolve(it.func) is range:
            # a range loop is unrolled only when its variable indexes a container
            names = {n.id for n in ast.walk(s.target) if isinstance(n, ast.Name)}
            for n in ast.walk(ast.Module(body=s.body, type_ignores=[])):
                if isinstance(n, ast.Subscript) and self._maybe_static(n.value) and \
                        any(isinstance(m, ast.Name) and m.id in names for m in ast.walk(n.slice)):
                    return all(self._len_or_const(a) is not _NO for a in it.args)
            return False
        return True

    def bind_target(self, t, item, like):
        if isinstance(t, ast.Name):
            n = self.local(t.id)
            if isinstance(item, SNode):
                self.env[n] = item
                return
            self.env.pop(n, None)
            if isinstance(item, ast.Constant):
                self.env[n] = Const(item.value)
            self.emit(_assign(n, copy.deepcopy(item), like), like)
            if isinstance(item, ast.Constant):
                self.env[n] = Const(item.value)
            return
        if isinstance(t, (ast.Tuple, ast.List)):
            if not isinstance(item, SNode) or item.kind not in _SEQ_KINDS or len(item.children) != len(t.elts):
                if not isinstance(item, SNode):
                    self.emit(ast.Assign(targets=[self.target(t)], value=copy.deepcopy(item)), like)
                    return
                raise self.refuse(t, f"unpacking {_describe(item)} into {len(t.elts)} names",
                                  "unpack into as many names as it has items")
            for sub, c in zip(t.elts, item.children):
                self.bind_target(sub, c, like)
            return
        raise self.refuse(t, "this loop target in a loop over a container", "use names")

    def loop(self, s, make):
        """A loop that is not unrolled: names bound to containers before it and rebound in it keep
        one name per leaf (assigned at the end of each iteration)."""
        stored = {self.local(n.id) for n in ast.walk(ast.Module(body=s.body + [ast.Expr(s.target)]
                                                                 if isinstance(s, ast.For) else s.body,
                                                                 type_ignores=[]))
                  if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        carried = {}
        for n in sorted(stored):
            b = self.env.get(n)
            if isinstance(b, SNode):
                carried[n] = self._canonical(b, n, s)
                self.env[n] = carried[n]
            elif isinstance(b, (Const, _Poisoned)):
                self.env.pop(n)
        if carried and any(isinstance(n, (ast.Break, ast.Continue)) for n in _loop_level(s.body)):
            raise self.refuse(s, "`break` or `continue` in a loop that rebinds a container",
                              "compute a flag and use `if`")
        node = make()
        before = dict(self.env)
        saved_out = self.out
        self.out = []
        self.depth += 1
        self.block(s.body)
        self.depth -= 1
        body = self.out
        for n, c in carried.items():
            new = self.env.get(n)
            if not (isinstance(new, SNode) and _same_structure(new, c)):
                raise self.refuse(s, f"a loop that rebinds the container {n!r} to a different structure",
                                  "keep its keys and kinds the same in every iteration")
            for old_leaf, new_leaf in zip(c.leaves(), new.leaves()):
                if ast.dump(old_leaf) != ast.dump(new_leaf):
                    body.append(ast.copy_location(_assign(old_leaf.id, copy.deepcopy(new_leaf), s), s))
        self.out = saved_out
        node.body = body or [ast.Pass()]
        if getattr(s, "orelse", None):
            self.out = []
            self.block(s.orelse)
            node.orelse = self.out
            self.out = saved_out
        env = {}
        for n, b in self.env.items():
            if n in carried:
                env[n] = carried[n]
            elif before.get(n) is b:
                env[n] = b
            elif isinstance(b, SNode):
                env[n] = _Poisoned(s, f"the loop at line {s.lineno} binds it to a container; s2sad cannot "
                                      f"know which one after the loop")
        self.env = env
        self.emit(node, s)

    def _canonical(self, node: SNode, name, s):
        """A copy of ``node`` whose leaves are fresh names (assigned here), for a loop to update."""
        kids = []
        for k, c in zip(node.keys, node.children):
            if isinstance(c, SNode):
                kids.append(self._canonical(c, f"{name}_{k}", s))
            else:
                m = self.fresh(f"{name}_{k}")
                self.emit(_assign(m, copy.deepcopy(c), s), s)
                kids.append(_name(m))
        return SNode(node.kind, node.data, node.keys, kids, False, self.depth + 1, node.fields)

    def s_FunctionDef(self, s):
        self._no_capture(s)
        if self.scope.rename:
            raise self.refuse(s, "a nested function inside a helper that takes a container",
                              "define it at module level")
        self.out.append(copy.deepcopy(s))

    def s_Delete(self, s):
        for t in s.targets:
            base = self.value(t.value) if isinstance(t, (ast.Subscript, ast.Attribute)) else \
                self.env.get(self.local(t.id)) if isinstance(t, ast.Name) else None
            if isinstance(base, SNode):
                raise self.refuse(s, "`del` on a container", "build a new container without the key")
        self.out.append(copy.deepcopy(s))

    def s_Global(self, s):
        self.out.append(copy.deepcopy(s))

    s_Nonlocal = s_Global


def _has_return(s) -> bool:
    return any(isinstance(n, ast.Return) for n in ast.walk(s))


def _tail_returns(stmts, var):
    """``stmts`` with every ``return e`` turned into ``var = e`` and the statements after an
    ``if`` that may return moved into its branches that fall through; None when a return sits
    in a loop (or a block never returns)."""
    out = []
    for i, s in enumerate(stmts):
        if isinstance(s, ast.Return):
            value = s.value if s.value is not None else ast.Constant(value=None)
            out.append(ast.copy_location(ast.Assign(targets=[ast.Name(id=var, ctx=ast.Store())], value=value), s))
            return out
        if isinstance(s, ast.If) and _has_return(s):
            from .normalize import terminates
            rest = stmts[i + 1:]
            body = _tail_returns(list(s.body) + ([] if terminates(s.body) else rest), var)
            orelse = _tail_returns(list(s.orelse) + ([] if terminates(s.orelse) else rest), var)
            if body is None or orelse is None:
                return None
            out.append(ast.copy_location(ast.If(test=s.test, body=body, orelse=orelse), s))
            return out
        if _has_return(s):
            return None
        out.append(s)
    return None


def _in_tail(body, r) -> bool:
    for s in body:
        if isinstance(s, (ast.For, ast.While)) and any(n is r for n in ast.walk(s)):
            return False
    return True


def _loop_level(body):
    """Statements of a loop body at its own level (not inside nested loops or functions)."""
    out = []
    for s in body:
        out.append(s)
        if isinstance(s, ast.If):
            out += _loop_level(s.body) + _loop_level(s.orelse)
        elif isinstance(s, (ast.With,)):
            out += _loop_level(s.body)
    return out


def _child_keys(td: TreeDef):
    if td.kind in ("dict", "ordereddict"):
        return list(td.data)
    if td.kind == "defaultdict":
        return list(td.data[1])
    if td.kind == "namedtuple":
        return list(td.data[1])
    if td.kind == "dataclass":
        return list(td.data[1])
    if td.kind == "registered" and td.data[1].fields is not None:
        return list(td.data[1].fields)
    return list(range(len(td.children)))


class _No:
    def __repr__(self):
        return "<not a constant>"


_NO = _No()


def scalarize(parsed: Parsed, treedefs: dict, orders: dict | None = None) -> Flat:
    """The flat function for arguments of these structures (parameter name -> TreeDef; `orders`:
    parameter name -> the insertion order of each of its dicts, in pre-order, or None when sorted)."""
    sc = _Scalarizer(parsed, treedefs, orders or {})
    params, flat, leaves = sc.parameters()
    fn = parsed.node
    body = list(fn.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    sc.block(body)
    outs = {td for _, td in sc.returns}
    if len(outs) > 1:
        node = next(r for r, td in sc.returns if td is None) if None in outs else sc.returns[-1][0]
        raise parsed.error(UnsupportedSyntaxError, node,
                           "s2sad does not support returning containers of different structures "
                           "(or a container on some paths only)",
                           hint="return the same structure (same keys, same kinds) from every `return`")
    out = next(iter(outs)) if outs else None
    new = ast.FunctionDef(name=fn.name, args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=p, annotation=None)
                                                                               for p in flat],
                                                           vararg=None, kwonlyargs=[], kw_defaults=[],
                                                           kwarg=None, defaults=[]),
                          body=sc.out or [ast.Pass()], decorator_list=[], returns=None, type_comment=None)
    if "type_params" in ast.FunctionDef._fields:
        new.type_params = []
    ast.copy_location(new, fn)
    ast.fix_missing_locations(new)
    flat_parsed = dataclasses.replace(parsed, node=new, closure=dict(parsed.closure))
    return Flat(parsed=flat_parsed, params=params, flat_params=flat, leaves=leaves, treedefs=dict(treedefs),
                out=out, inlined=sc.inlined)


# --- the derivative's prologue and epilogue --------------------------------------------------------

def _access(param: str, path) -> ast.expr:
    e = _name(param)
    for kind, k in path:
        if kind == "item":
            e = ast.Subscript(value=e, slice=ast.Constant(value=k), ctx=ast.Load())
        else:
            e = ast.Attribute(value=e, attr=k, ctx=ast.Load())
    return e


def restructure(fn: ast.FunctionDef, flat: Flat, wrt_args: list, leaf_grads, with_value: bool,
                multi: bool, zero_of, bind_class) -> ast.FunctionDef:
    """Give the finished derivative of the flat function the user's signature back.

    `leaf_grads(fn)` -> the returned gradient expressions, one per flat wrt name (a dict);
    `wrt_args`: the user's differentiated parameters, in order; `zero_of(param, path, name)`: the
    zero gradient expression of a constant leaf; `bind_class(cls)`: a name for a class in the
    derivative's closure.  Modifies and returns `fn`."""
    ret = fn.body[-1]
    assert isinstance(ret, ast.Return)
    value = ret.value.elts[0] if with_value else None
    grads = ret.value.elts[1] if with_value else ret.value
    flat_wrt = [n for n in getattr(fn, "_s2sad_flat_wrt")]
    elts = grads.elts if isinstance(grads, ast.Tuple) else [grads]
    by_name = dict(zip(flat_wrt, elts))
    used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} | set(flat.params) | set(flat.flat_params)
    prologue, epilogue, results = [], [], []
    for p in flat.params:
        for name, path, _ in flat.leaves.get(p, ()):
            prologue.append(_assign(name, _access(p, path), None))
    for p in wrt_args:
        if p not in flat.leaves:
            results.append(by_name[p])
            continue
        items = {tuple(path): (name, path) for name, path, _ in flat.leaves[p]}

        def build(td: TreeDef, path):
            if td.kind == "leaf":
                name, _ = items[tuple(path)]
                return copy.deepcopy(by_name[name]) if name in by_name else zero_of(p, path, name)
            if td.kind == "none":
                return ast.Constant(value=None)
            keys = _child_keys(td)
            if td.kind in ("dict", "ordereddict", "defaultdict"):
                kids = [build(c, path + [("item", k)]) for k, c in zip(keys, td.children)]
                d = ast.Dict(keys=[ast.Constant(value=k) for k in keys], values=kids)
                if td.kind == "dict":
                    return d
                if td.kind == "ordereddict":
                    return ast.Call(func=_name(bind_class(__import__("collections").OrderedDict)), args=[d], keywords=[])
                return ast.Call(func=_name(bind_class(__import__("collections").defaultdict)),
                                args=[_name(bind_class(td.data[0])), d], keywords=[])
            if td.kind in ("list", "tuple"):
                kids = [build(c, path + [("item", i)]) for i, c in enumerate(td.children)]
                return (ast.List if td.kind == "list" else ast.Tuple)(elts=kids, ctx=ast.Load())
            if td.kind == "namedtuple":
                kids = [build(c, path + [("attr", k)]) for k, c in zip(keys, td.children)]
                return ast.Call(func=_name(bind_class(td.data[0])), args=kids, keywords=[])
            kids = [build(c, path + [("attr", k)]) for k, c in zip(keys, td.children)]
            statics = list(td.data[2])
            kws = [ast.keyword(arg=k, value=v) for k, v in zip(keys, kids)]
            for k, v in statics:
                kws.append(ast.keyword(arg=k, value=ast.Constant(value=v) if v is None or isinstance(v, (bool, int, float, str))
                                       else _name(bind_class(v))))
            return ast.Call(func=_name(bind_class(_new_instance)),
                            args=[_name(bind_class(td.data[0]))], keywords=kws)
        expr = build(flat.treedefs[p], [])
        bar = p + "_bar"
        k = 0
        while bar in used:
            k += 1
            bar = f"{p}_bar_{k}"
        used.add(bar)
        epilogue.append(_assign(bar, expr, None))
        results.append(_name(bar))
    grads_out = ast.Tuple(elts=results, ctx=ast.Load()) if multi else results[0]
    out = ast.Tuple(elts=[value, grads_out], ctx=ast.Load()) if with_value else grads_out
    fn.args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=p, annotation=None) for p in flat.params],
                            vararg=None, kwonlyargs=list(fn.args.kwonlyargs), kw_defaults=list(fn.args.kw_defaults),
                            kwarg=None, defaults=[])
    fn.body = prologue + fn.body[:-1] + epilogue + [ast.Return(value=out)]
    ast.fix_missing_locations(fn)
    return fn


def display(td: TreeDef, leaf_text, path=()) -> str:
    """Python text building a tree of structure `td`, for a derivative's displayed wrapper (see
    api._tree_source): `leaf_text(path)` gives each leaf's text (``path``: its keys from the
    root).  Classes are shown by name (they are rebuilt without calling ``__init__``)."""
    if td.kind == "leaf":
        return leaf_text(path)
    if td.kind == "none":
        return "None"
    keys = _child_keys(td)
    kids = [display(c, leaf_text, path + (k,)) for k, c in zip(keys, td.children)]
    if td.kind in _DICT_KINDS:
        text = "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(keys, kids)) + "}"
        if td.kind == "ordereddict":
            return f"OrderedDict({text})"
        return text if td.kind == "dict" else f"defaultdict({td.data[0].__name__}, {text})"
    if td.kind == "list":
        return "[" + ", ".join(kids) + "]"
    if td.kind == "tuple":
        return "(" + ", ".join(kids) + ("," if len(kids) == 1 else "") + ")"
    if td.kind == "namedtuple":
        return f"{td.kind_name()}(" + ", ".join(kids) + ")"
    fields = [f"{k}={v}" for k, v in zip(keys, kids)]
    fields += [f"{k}={v!r}" for k, v in td.data[2]]        # static fields
    return f"{td.kind_name()}(" + ", ".join(fields) + ")"


def leaf_paths(td: TreeDef) -> list:
    """Each leaf's access path (``[("item", "W"), ("attr", "b")]``, as `_access` takes), in
    `flatten`'s order."""
    out = []

    def walk(t, path):
        if t.kind == "leaf":
            out.append(path)
            return
        step = "attr" if t.kind in ("namedtuple", "dataclass") or \
            (t.kind == "registered" and t.data[1].fields is not None) else "item"
        for k, c in zip(_child_keys(t), t.children):
            walk(c, path + [(step, k)])
    walk(td, [])
    return out


def leaf_names(td: TreeDef) -> list:
    """A readable identifier per leaf of `td`, in `flatten`'s order, from its keys (``out_W``,
    ``layers_0_b``)."""
    return ["_".join("".join(ch if ch.isalnum() or ch == "_" else "_" for ch in str(k)).strip("_") or "k"
                     for _, k in path) or "out" for path in leaf_paths(td)]


def _new_instance(cls, **fields):
    """An instance of a dataclass or a field-registered class with these fields, without calling
    its __init__ (as s2sad.tree.unflatten: a gradient need not pass the class's validation)."""
    obj = cls.__new__(cls)
    for k, v in fields.items():
        object.__setattr__(obj, k, v)
    return obj


_new_instance.__name__ = "new_instance"
