"""Pytrees: nested containers of arrays, and the utilities to take them apart and rebuild them.

A *pytree* is a nest of the containers below with anything else at the leaves::

    kind            node data (part of the TreeDef)          children, in order        key path
    None            -                                        none (an empty node)      -
    tuple, list     -                                        the items                 [0]
    dict            the keys, sorted                         values in sorted-key order ['W1']
    OrderedDict     the keys, in insertion order             values in that order      ['W1']
    defaultdict     default_factory and the sorted keys      values in sorted-key order ['W1']
    namedtuple      the class                                the fields                .mu
    @dataclass      the class, field names, static fields    the non-static fields     .mu
    registered      the class and what its flatten returned  what its flatten returned .mu or [0]
    leaf            -                                        -                         -

Only the exact types are containers: a subclass of dict, list or tuple (other than a namedtuple)
is refused unless registered with `register_pytree`, so that it is never rebuilt as its base
class.  Sets, generators, iterators, dict views, ranges and deques are refused (their order is
not part of their value, or reading them consumes them); so is a container inside itself.
A float, an int, a bool, a NumPy array or scalar, a string or any other object is a leaf.

Dict keys are sorted (as in JAX) so that two dicts with the same keys have the same structure
whatever order they were built in; `unflatten` builds the dict in sorted-key order.  Keys of
different types that cannot be compared are refused.

`unflatten` rebuilds a dataclass or a field-registered class without calling its ``__init__``
or ``__post_init__`` (it sets the fields with ``object.__setattr__``, which works for frozen
dataclasses too): a gradient must be rebuilt even when it would fail the class's validation
(a negative gradient of a positive ``sigma``).  For the same reason an instance attribute that
is not a field would be lost, so flattening such an instance is refused.

`ravel` turns a pytree into one flat float vector and back, for `scipy.optimize.minimize`.

Every error is a `TreeError` (an `ArgumentError`, so an `S2SADError`) naming the path of the
offending part, e.g. ``params['W1'][0]``.
"""
from __future__ import annotations

import collections
import dataclasses
import types
import weakref
from collections.abc import Iterator
from typing import Any, Callable, Iterable

import numpy as np

from .errors import ArgumentError

__all__ = ["TreeDef", "TreeError", "flatten", "unflatten", "leaves", "structure", "map", "paths", "ravel", "check_structure",
           "register_pytree", "static"]


class TreeError(ArgumentError):
    """A value that is not a pytree s2sad accepts, or two pytrees whose structures differ."""


# ---------------------------------------------------------------------------------------------
# The structure
# ---------------------------------------------------------------------------------------------

class TreeDef:
    """The structure of a pytree: a node kind, its data and its children's TreeDefs.

    Hashable and comparable (two trees have equal TreeDefs exactly when `map` can combine them),
    so a TreeDef can be part of a cache key.  The leaves themselves are not part of it.
    """
    __slots__ = ("kind", "data", "children", "num_leaves", "_hash")

    def __init__(self, kind: str, data: Any = None, children: tuple[TreeDef, ...] = ()):
        children = tuple(children)
        init = object.__setattr__
        init(self, "kind", kind)
        init(self, "data", data)
        init(self, "children", children)
        init(self, "num_leaves", 1 if kind == "leaf" else sum(c.num_leaves for c in children))
        init(self, "_hash", hash((kind, data, children)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a TreeDef is immutable (it may be part of a cache key)")

    def __reduce__(self):
        return TreeDef, (self.kind, self.data, self.children)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TreeDef):
            return NotImplemented
        return (self is other or self._hash == other._hash and self.kind == other.kind
                and self.data == other.data and self.children == other.children)

    def __hash__(self) -> int:
        return self._hash

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        return unflatten(self, leaves)

    def __repr__(self) -> str:
        return f"TreeDef({self._show()})"

    def _show(self) -> str:
        kids = [c._show() for c in self.children]
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        if self.kind == "list":
            return "[" + ", ".join(kids) + "]"
        if self.kind == "tuple":
            return "(" + ", ".join(kids) + ("," if len(kids) == 1 else "") + ")"
        if self.kind in ("dict", "ordereddict", "defaultdict"):
            keys = self.data[1] if self.kind == "defaultdict" else self.data
            body = "{" + ", ".join(f"{k!r}: {s}" for k, s in zip(keys, kids)) + "}"
            return body if self.kind == "dict" else f"{self.kind_name()}({body})"
        if self.kind == "registered" and self.data[1].fields is None:
            return f"{self.kind_name()}(" + ", ".join(kids) + f"; aux={self.data[2]!r})"
        parts = [f"{n}={s}" for n, s in zip(_child_names(self), kids)]
        if self.kind != "namedtuple":       # static fields, with their values
            parts += [f"{n}={v!r}" for n, v in self.data[2]]
        return f"{self.kind_name()}(" + ", ".join(parts) + ")"

    def kind_name(self) -> str:
        """What this node is, for messages: 'dict', 'list', 'Point' (a namedtuple), ..."""
        if self.kind in ("namedtuple", "dataclass", "registered"):
            return self.data[0].__name__
        return {"ordereddict": "OrderedDict", "none": "None"}.get(self.kind, self.kind)


def _child_names(td: TreeDef) -> list[str]:
    if td.kind == "namedtuple" or td.kind == "dataclass":
        return list(td.data[1])
    if td.kind == "registered" and td.data[1].fields is not None:
        return list(td.data[1].fields)
    return [str(i) for i in range(len(td.children))]


_LEAF = TreeDef("leaf")
_NONE = TreeDef("none")


# ---------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------

class _Registration:
    """How a registered class is flattened; compared by identity (re-registering makes new ones)."""
    __slots__ = ("cls", "flatten", "unflatten", "fields", "static")

    def __init__(self, cls, flatten=None, unflatten=None, fields=None, static=()):
        self.cls, self.flatten, self.unflatten = cls, flatten, unflatten
        self.fields, self.static = fields, static

    def __repr__(self) -> str:
        return f"<pytree registration of {self.cls.__qualname__}>"


_registry: dict[type, _Registration] = {}

_BUILTIN_NODES = (dict, list, tuple, type(None), collections.OrderedDict, collections.defaultdict)


def static(**field_kwargs) -> Any:
    """A dataclass field that is part of the structure, not a leaf::

        @dataclass
        class Layer:
            W: np.ndarray
            activation: str = s2sad.tree.static(default="tanh")

    Same as ``dataclasses.field(metadata={"static": True}, ...)``.  Its value must be hashable.
    """
    metadata = dict(field_kwargs.pop("metadata", None) or {})
    metadata["static"] = True
    return dataclasses.field(metadata=metadata, **field_kwargs)


def register_pytree(cls: type, flatten: Callable | None = None, unflatten: Callable | None = None, *,
                    fields: Iterable[str] | None = None, static: Iterable[str] = ()) -> type:
    """Make instances of `cls` pytree nodes; returns `cls`.

    - ``register_pytree(cls, flatten, unflatten)``: ``flatten(obj) -> (children, aux)`` with
      `aux` hashable (it is part of the structure), ``unflatten(aux, children) -> obj``.
    - ``register_pytree(cls, fields=["mu", "sigma"], static=["name"])``: the attributes named
      in `fields` are the children, those in `static` part of the structure.
    - ``register_pytree(cls, static=["name"])`` on a dataclass: its fields, with these extra
      static ones (fields marked ``static`` in their metadata are static anyway).

    Only `cls` itself is registered, not its subclasses.
    """
    if not isinstance(cls, type):
        raise TreeError(f"register_pytree needs a class, got {cls!r}")
    if cls in _BUILTIN_NODES or issubclass(cls, tuple) and hasattr(cls, "_fields"):
        raise TreeError(f"register_pytree: {cls.__name__} is already a pytree node")
    if cls in _COMMON_LEAVES or issubclass(cls, np.ndarray):
        raise TreeError(f"register_pytree: {cls.__name__} is a leaf (a number, an array or a str)")
    if isinstance(static, str) or isinstance(fields, str):
        raise TreeError(f"register_pytree({cls.__name__}): fields and static are lists of names, "
                        f"got a str\nhint: static=[{static if isinstance(static, str) else fields!r}]")
    static = tuple(static)
    if flatten is not None or unflatten is not None:
        if flatten is None or unflatten is None or not callable(flatten) or not callable(unflatten):
            raise TreeError(f"register_pytree({cls.__name__}, ...) needs both flatten and unflatten, "
                            f"or neither (and fields=...)")
        if fields is not None or static:
            raise TreeError(f"register_pytree({cls.__name__}, ...): give flatten/unflatten or "
                            f"fields/static, not both")
        _registry[cls] = _Registration(cls, flatten=flatten, unflatten=unflatten)
        return cls
    if fields is None:
        if not dataclasses.is_dataclass(cls):
            raise TreeError(f"register_pytree({cls.__name__}) needs flatten and unflatten functions or "
                            f"fields=[...] (only a dataclass's fields are known without them)")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = [s for s in static if s not in names]
        if unknown:
            raise TreeError(f"register_pytree({cls.__name__}): {unknown} are not fields of it")
        static = tuple(n for n in names if n in static or _is_static_field(cls, n))
        fields = tuple(n for n in names if n not in static)
    else:
        fields = tuple(fields)
        clash = set(fields) & set(static)
        if clash:
            raise TreeError(f"register_pytree({cls.__name__}): {sorted(clash)} are both fields and static")
    for n in fields + static:
        if not isinstance(n, str) or not n.isidentifier():
            raise TreeError(f"register_pytree({cls.__name__}): field names must be identifiers, got {n!r}")
    _registry[cls] = _Registration(cls, fields=fields, static=static)
    return cls


def _is_static_field(cls, name: str) -> bool:
    return any(f.name == name and f.metadata.get("static", False) for f in dataclasses.fields(cls))


# ---------------------------------------------------------------------------------------------
# Taking one node apart
# ---------------------------------------------------------------------------------------------

_COMMON_LEAVES = frozenset([np.ndarray, float, int, bool, np.float64, np.float32, str])
_REFUSED = (set, frozenset, range, collections.deque, types.GeneratorType, types.MappingProxyType,
            type({}.keys()), type({}.values()), type({}.items()))


def _node(x: Any, where: str) -> tuple[str, Any, list, list[str]] | None:
    """(kind, data, children, child key paths) for a container, None for a leaf; refuses what
    is neither.  `where` is the path of x, for messages."""
    t = type(x)
    reg = _registry.get(t)
    if reg is not None:
        return _registered_node(x, reg, where)
    if t in _COMMON_LEAVES:
        return None
    if x is None:
        return "none", None, [], []
    if t is tuple or t is list:
        return t.__name__, None, list(x), [f"[{i}]" for i in range(len(x))]
    if t is dict or t is collections.defaultdict:
        keys = _sorted_keys(x, where)
        data = keys if t is dict else (x.default_factory, keys)
        _check_hashable(data, where, "the dict's keys and default_factory")
        return ("dict" if t is dict else "defaultdict"), data, [x[k] for k in keys], [f"[{k!r}]" for k in keys]
    if t is collections.OrderedDict:
        keys = tuple(x)
        return "ordereddict", keys, [x[k] for k in keys], [f"[{k!r}]" for k in keys]
    if isinstance(x, tuple) and isinstance(getattr(t, "_fields", None), tuple):
        return "namedtuple", (t, t._fields), list(x), [f".{n}" for n in t._fields]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return _dataclass_node(x, where)
    if isinstance(x, (dict, list, tuple)):
        base = next(b for b in (dict, list, tuple) if isinstance(x, b))
        raise TreeError(f"{where} is a {t.__name__}, a subclass of {base.__name__}: s2sad will not rebuild it "
                        f"as a plain {base.__name__}\nhint: pass a plain {base.__name__}, or call "
                        f"s2sad.register_pytree({t.__name__}, flatten, unflatten)")
    if isinstance(x, _REFUSED) or isinstance(x, Iterator):
        raise TreeError(f"{where} is a {t.__name__}, which cannot be part of a pytree (its order is not part "
                        f"of its value, or reading it consumes it)\nhint: pass a list or a tuple instead")
    return None


def _sorted_keys(d: dict, where: str) -> tuple:
    try:
        return tuple(sorted(d))
    except TypeError:
        types_ = sorted({type(k).__name__ for k in d})
        raise TreeError(f"{where} is a dict whose keys cannot be sorted ({', '.join(types_)}): a pytree's "
                        f"dict keys are sorted so that the order they were inserted in does not matter"
                        f"\nhint: use keys of one type (all str, say)") from None


def _check_hashable(data: Any, where: str, what: str) -> None:
    try:
        hash(data)
    except TypeError:
        raise TreeError(f"{where}: {what} must be hashable, as they are part of the tree's structure"
                        f"\nhint: make it a tuple, a str or a number (or a leaf)") from None


_dataclass_info: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _dataclass_node(x: Any, where: str):
    cls = type(x)
    info = _dataclass_info.get(cls)
    if info is None:
        fields = dataclasses.fields(x)
        names = frozenset(f.name for f in fields)
        kids = tuple(f.name for f in fields if not f.metadata.get("static", False))
        static_names = tuple(f.name for f in fields if f.metadata.get("static", False))
        info = _dataclass_info[cls] = (names, kids, static_names, tuple(f".{n}" for n in kids))
    names, kids, static_names, keys = info
    if getattr(x, "__dict__", None) and not names.issuperset(x.__dict__):
        _check_no_extra_attributes(x, names, where)
    try:
        statics = tuple((n, getattr(x, n)) for n in static_names)
        children = [getattr(x, n) for n in kids]
    except AttributeError:
        unset = [n for n in kids + static_names if not hasattr(x, n)]
        raise TreeError(f"{where}: the {cls.__name__}'s field {', '.join(unset)} is not set") from None
    if statics:
        _check_hashable(statics, where, "its static fields " + ", ".join(static_names))
    return "dataclass", (cls, kids, statics), children, list(keys)


def _check_no_extra_attributes(x: Any, names: Iterable[str], where: str) -> None:
    extra = [a for a in getattr(x, "__dict__", {}) if a not in names]
    if extra:
        raise TreeError(f"{where}: the {type(x).__name__} has attributes that are not fields ({', '.join(extra)}): "
                        f"they would be lost when it is rebuilt\nhint: declare them as fields (with "
                        f"s2sad.tree.static() if they are not arrays), or register the class with "
                        f"s2sad.register_pytree({type(x).__name__}, flatten, unflatten)")


def _registered_node(x: Any, reg: _Registration, where: str):
    if reg.fields is None:
        out = reg.flatten(x)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TreeError(f"{where}: the flatten function registered for {reg.cls.__name__} must return "
                            f"(children, aux), it returned {type(out).__name__}")
        children, aux = list(out[0]), out[1]
        _check_hashable(aux, where, f"the aux data returned by {reg.cls.__name__}'s flatten")
        return "registered", (reg.cls, reg, aux), children, [f"[{i}]" for i in range(len(children))]
    missing = [n for n in reg.fields + reg.static if not hasattr(x, n)]
    if missing:
        raise TreeError(f"{where}: the {reg.cls.__name__} has no attribute {', '.join(missing)}, which "
                        f"register_pytree was told are its fields")
    if not dataclasses.is_dataclass(x):
        _check_no_extra_attributes(x, list(reg.fields + reg.static), where)
    else:
        _check_no_extra_attributes(x, [f.name for f in dataclasses.fields(x)], where)
    statics = tuple((n, getattr(x, n)) for n in reg.static)
    _check_hashable(statics, where, "its static fields " + ", ".join(reg.static))
    return ("registered", (reg.cls, reg, statics), [getattr(x, n) for n in reg.fields],
            [f".{n}" for n in reg.fields])


def _rebuild(td: TreeDef, children: list) -> Any:
    kind, data = td.kind, td.data
    if kind == "none":
        return None
    if kind == "tuple":
        return tuple(children)
    if kind == "list":
        return list(children)
    if kind == "dict":
        return dict(zip(data, children))
    if kind == "ordereddict":
        return collections.OrderedDict(zip(data, children))
    if kind == "defaultdict":
        return collections.defaultdict(data[0], zip(data[1], children))
    if kind == "namedtuple":
        return data[0](*children)
    if kind == "dataclass":
        cls, names, statics = data
        return _new_with(cls, list(zip(names, children)) + list(statics))
    if kind == "registered":
        cls, reg, aux = data
        if reg.fields is None:
            return reg.unflatten(aux, children)
        return _new_with(cls, list(zip(reg.fields, children)) + list(aux))
    raise AssertionError(kind)


def _new_with(cls: type, items: list[tuple[str, Any]]) -> Any:
    obj = cls.__new__(cls)
    for name, value in items:
        object.__setattr__(obj, name, value)
    return obj


# ---------------------------------------------------------------------------------------------
# Whole trees
# ---------------------------------------------------------------------------------------------

def _walk(x: Any, is_leaf, where: str, out_leaves: list, out_paths: list | None, on_path: set) -> TreeDef:
    if is_leaf is not None and is_leaf(x):
        out_leaves.append(x)
        if out_paths is not None:
            out_paths.append(where)
        return _LEAF
    node = _node(x, where)
    if node is None:
        out_leaves.append(x)
        if out_paths is not None:
            out_paths.append(where)
        return _LEAF
    kind, data, children, keys = node
    if kind == "none":
        return _NONE
    if id(x) in on_path:
        raise TreeError(f"{where} contains itself: a pytree cannot be cyclic\nhint: pass a copy without the cycle")
    on_path.add(id(x))
    try:
        kids = tuple(_walk(c, is_leaf, where + k, out_leaves, out_paths, on_path) for c, k in zip(children, keys))
    finally:
        on_path.discard(id(x))
    return TreeDef(kind, data, kids)


def _flatten(tree: Any, is_leaf, name: str, want_paths: bool):
    leaves_: list = []
    paths_: list | None = [] if want_paths else None
    try:
        td = _walk(tree, is_leaf, name, leaves_, paths_, set())
    except RecursionError:
        raise TreeError(f"{name} is nested too deeply to be a pytree") from None
    return leaves_, td, paths_


def flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None, *, name: str = "tree") -> tuple[list, TreeDef]:
    """``(leaves, treedef)``: the leaves in order (dict values in sorted-key order) and the structure.

    ``is_leaf(x)`` true makes x a leaf even if it is a container.  None is an empty node: no leaf.
    `name` is what errors call the tree: ``params['W1'][0] is a set ...``.
    """
    leaves_, td, _ = _flatten(tree, is_leaf, name, False)
    return leaves_, td


def unflatten(treedef: TreeDef, leaves: Iterable[Any]) -> Any:
    """The tree with `treedef`'s structure and these leaves (in `flatten`'s order)."""
    if not isinstance(treedef, TreeDef):
        raise TreeError(f"unflatten needs a TreeDef (from s2sad.tree.flatten) first, got {type(treedef).__name__}")
    items = list(leaves)
    if len(items) != treedef.num_leaves:
        raise TreeError(f"unflatten: the structure {treedef} has {treedef.num_leaves} leaves, "
                        f"{len(items)} were given")
    it = iter(items)

    def build(td: TreeDef) -> Any:
        if td.kind == "leaf":
            return next(it)
        return _rebuild(td, [build(c) for c in td.children])
    return build(treedef)


def leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None, *, name: str = "tree") -> list:
    """The leaves of `tree`, in `flatten`'s order."""
    return flatten(tree, is_leaf, name=name)[0]


def structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None, *, name: str = "tree") -> TreeDef:
    """The TreeDef of `tree`."""
    return flatten(tree, is_leaf, name=name)[1]


def paths(tree: Any, is_leaf: Callable[[Any], bool] | None = None, *, name: str = "tree") -> list[str]:
    """A readable key path for each leaf, in `flatten`'s order: ``"['W1']"``, ``"[0].mu"``, ``""``
    for a tree that is a single leaf."""
    return [p[len(name):] for p in _flatten(tree, is_leaf, name, True)[2]]


def _describe(td_or_node: Any) -> str:
    if isinstance(td_or_node, TreeDef):
        td = td_or_node
        if td.kind == "leaf":
            return "a leaf"
        if td.kind == "none":
            return "None"
        n = len(td.children)
        if td.kind in ("dict", "ordereddict", "defaultdict"):
            keys = td.data[1] if td.kind == "defaultdict" else td.data
            return f"a {td.kind_name()} with keys {list(keys)}"
        if td.kind in ("list", "tuple"):
            return f"a {td.kind} of {n} item{'s' * (n != 1)}"
        extra = {"namedtuple": "namedtuple", "dataclass": "dataclass"}.get(td.kind, "registered class")
        return f"a {td.kind_name()} ({extra}) {td._show()}"
    return repr(td_or_node)


def _match(td: TreeDef, x: Any, is_leaf, where: str, names: tuple[str, str], out: list) -> None:
    """Append to `out` the parts of `x` at `td`'s leaves, or raise a TreeError naming the first
    path where x's structure differs from td's."""
    if td.kind == "leaf":
        if (is_leaf is None or not is_leaf(x)) and _node(x, names[1] + where) is not None:
            _differ(td, x, is_leaf, where, names)
        out.append(x)
        return
    node = None if is_leaf is not None and is_leaf(x) else _node(x, names[1] + where)
    if node is None:
        _differ(td, x, is_leaf, where, names)
    kind, data, children, keys = node
    if kind != td.kind or data != td.data or len(children) != len(td.children):
        _differ(td, x, is_leaf, where, names)
    for c_td, c, k in zip(td.children, children, keys):
        _match(c_td, c, is_leaf, where + k, names, out)


def _differ(td: TreeDef, x: Any, is_leaf, where: str, names: tuple[str, str]):
    try:
        other = _describe(_flatten(x, is_leaf, names[1] + where, False)[1])
    except TreeError:
        other = f"a {type(x).__name__}"
    raise TreeError(f"the trees' structures differ at {names[0]}{where}: {names[0]}{where} is {_describe(td)}, "
                    f"{names[1]}{where} is {other}\nhint: compare s2sad.tree.structure() of both")


def map(f: Callable, tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """The tree of ``f(leaf, *leaves of rest at the same place)``, with `tree`'s structure.

    Every tree in `rest` must have the same structure as `tree` (the same TreeDef): otherwise a
    TreeError names the first path where they differ.  `is_leaf` applies to every tree.
    """
    leaves_, td = flatten(tree, is_leaf)
    columns = [leaves_]
    for i, other in enumerate(rest):
        out: list = []
        _match(td, other, is_leaf, "", ("tree", f"rest[{i}]"), out)
        columns.append(out)
    return unflatten(td, [f(*xs) for xs in zip(*columns)])


def check_structure(treedef: TreeDef, tree: Any, *, expected: str = "expected", name: str = "tree",
                    is_leaf: Callable[[Any], bool] | None = None) -> list:
    """The leaves of `tree` if its structure is `treedef`, else a TreeError naming the first path
    where they differ, as ``{expected}['W1'][0] is a list of 2 items, {name}['W1'][0] is ...``."""
    out: list = []
    _match(treedef, tree, is_leaf, "", (expected, name), out)
    return out


# ---------------------------------------------------------------------------------------------
# ravel
# ---------------------------------------------------------------------------------------------

def _leaf_class(x: Any) -> str:
    """'float' (differentiable: float, NumPy floating scalar or array), 'constant' (int, bool,
    integer or bool arrays), or 'other'."""
    if isinstance(x, (bool, int, np.bool_, np.integer)):
        return "constant"
    if isinstance(x, (float, np.floating)):
        return "float"
    if type(x) is np.ndarray:
        if x.dtype.kind == "f":
            return "float"
        if x.dtype.kind in "biu":
            return "constant"
    return "other"


def ravel(tree: Any, *, name: str = "tree") -> tuple[np.ndarray, Callable[[Any], Any]]:
    """``(flat, unravel)``: every float leaf of `tree` in one 1-d vector, and the inverse.

    `flat` has the common dtype of the float leaves (float64 for Python floats; float64 if there
    are none).  Int and bool leaves are constants: not in `flat`, and `unravel` puts copies of
    them back.  ``unravel(flat)`` rebuilds the structure with each float leaf's shape and dtype
    (a Python float comes back as a Python float); its arrays never share memory with `flat`.
    Complex leaves and leaves that are not numbers (strings, objects) are refused; `name` is what
    errors call the tree.

    With SciPy::

        x0, unravel = s2sad.tree.ravel(params)
        minimize(lambda x: loss(unravel(x)), x0, jac=lambda x: s2sad.tree.ravel(grad_loss(unravel(x)))[0])
    """
    leaves_, td, where = _flatten(tree, None, name, True)
    specs = []          # per leaf: ("float", start, stop, shape, dtype, is_python_float, is_scalar) or ("constant", value)
    dtypes = []
    size = 0
    for x, p in zip(leaves_, where):
        kind = _leaf_class(x)
        if kind == "other":
            what = "a complex number" if isinstance(x, (complex, np.ndarray, np.generic)) and np.iscomplexobj(x) \
                else f"a {type(x).__name__}" + (f" array of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
            raise TreeError(f"ravel: the leaf {p} is {what}, not a float or an int"
                            f"\nhint: ravel takes floats and float arrays (ints and bools are kept as "
                            f"constants); make other values static fields, or leave them out of the tree")
        if kind == "constant":
            specs.append(("constant", np.array(x) if isinstance(x, np.ndarray) else x))
            continue
        a = np.asarray(x)
        specs.append(("float", size, size + a.size, a.shape, a.dtype, type(x) is float, not isinstance(x, np.ndarray)))
        dtypes.append(a.dtype)
        size += a.size
    dtype = np.result_type(*dtypes) if dtypes else np.dtype(np.float64)
    flat = np.empty(size, dtype)
    for s, x in zip(specs, leaves_):
        if s[0] == "float":
            flat[s[1]:s[2]] = np.ravel(x)

    def unravel(flat_: Any) -> Any:
        v = np.asarray(flat_)
        if v.ndim != 1 or v.size != size:
            raise TreeError(f"unravel needs a 1-d vector of {size} numbers (the float leaves of {td}), "
                            f"got shape {v.shape}")
        if np.iscomplexobj(v) or v.dtype.kind not in "fiub":
            raise TreeError(f"unravel needs a real vector, got dtype {v.dtype}: its values would be "
                            f"cast to the leaves' float dtypes")
        out = []
        for s in specs:
            if s[0] == "constant":
                c = s[1]
                out.append(c.copy() if isinstance(c, np.ndarray) else c)
                continue
            _, start, stop, shape, dt, py_float, scalar = s
            piece = v[start:stop]
            if py_float:
                out.append(float(piece[0]))
            elif scalar:
                out.append(dt.type(piece[0]))
            else:
                out.append(piece.reshape(shape).astype(dt, copy=True))
        return unflatten(td, out)

    return flat, unravel
