"""s2sad.tree: flatten / unflatten round trips for every kind of node, map, paths, ravel (with
scipy.optimize.minimize), and the refusals, each naming the path of the offending part."""
import collections
import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pytest
import scipy.optimize

import s2sad
from s2sad import tree
from s2sad.tree import TreeDef, TreeError


class Point(NamedTuple):
    x: float
    y: float


Pair = collections.namedtuple("Pair", "first second")


@dataclass
class Gaussian:
    mu: np.ndarray
    sigma: float


@dataclass(frozen=True)
class Layer:
    W: np.ndarray
    b: np.ndarray
    activation: str = tree.static(default="tanh")
    width: int = field(default=3, metadata={"static": True})


@dataclass(frozen=True, slots=True)
class Slotted:
    a: float
    b: np.ndarray


@dataclass
class Validated:
    sigma: float

    def __post_init__(self):
        if self.sigma <= 0:
            raise ValueError("sigma must be positive")


class Affine:                       # registered by field names
    def __init__(self, A, c, name):
        self.A, self.c, self.name = A, c, name


class Interval:                     # registered by functions
    def __init__(self, lo, hi, closed=True):
        self.lo, self.hi, self.closed = lo, hi, closed


s2sad.register_pytree(Affine, fields=["A", "c"], static=["name"])
s2sad.register_pytree(Interval, lambda iv: ((iv.lo, iv.hi), iv.closed),
                      lambda closed, kids: Interval(kids[0], kids[1], closed))


def same(a, b):
    """Equal trees: the same structure, leaves of the same type, shape, dtype and value."""
    la, ta = tree.flatten(a)
    lb, tb = tree.flatten(b)
    assert ta == tb, (ta, tb)
    for x, y in zip(la, lb):
        assert type(x) is type(y), (x, y)
        if isinstance(x, np.ndarray):
            assert x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y)
        else:
            assert x == y or (x != x and y != y)
    return True


def rng_array(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


EXAMPLES = {
    "float": 1.5,
    "array": rng_array(2, 3),
    "none": None,
    "int": 7,
    "tuple": (1.0, rng_array(2), 3),
    "empty tuple": (),
    "list": [1.0, [2.0, [3.0]]],
    "dict": {"W1": rng_array(3, 2), "b1": rng_array(3), "n": 4},
    "empty dict": {},
    "ordered dict": collections.OrderedDict([("z", 1.0), ("a", rng_array(2))]),
    "defaultdict": collections.defaultdict(list, {"b": 1.0, "a": 2.0}),
    "namedtuple": Point(1.0, rng_array(2)),
    "collections namedtuple": Pair([1.0, None], {"k": 2.0}),
    "dataclass": Gaussian(rng_array(3), 0.5),
    "frozen dataclass with static fields": Layer(rng_array(3, 2), rng_array(3), "relu", 5),
    "slots dataclass": Slotted(2.0, rng_array(1)),
    "registered by fields": Affine(rng_array(2, 2), rng_array(2), "A1"),
    "registered by functions": Interval(0.0, np.ones(2), closed=False),
    "nested and mixed": {"layers": [Layer(rng_array(2, 2), rng_array(2)), Layer(rng_array(1, 2), rng_array(1))],
                         "prior": (Gaussian(rng_array(2), 1.0), None),
                         "opt": {"lr": 0.1, "step": 3, "flags": [True, False]},
                         "points": [Point(1.0, 2.0), Point(np.float32(3.0), np.zeros((0, 2)))]},
}


def obj_equal(a, b):
    """Round-trip comparison that also sees classes and static fields."""
    if isinstance(a, (Affine, Interval)):
        return type(a) is type(b) and obj_equal(vars(a), vars(b))
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(obj_equal(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    if isinstance(a, dict):
        return (type(a) is type(b) and sorted(a) == sorted(b) and all(obj_equal(a[k], b[k]) for k in a)
                and getattr(a, "default_factory", None) is getattr(b, "default_factory", None))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(obj_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return type(b) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_flatten_unflatten_round_trip(name):
    t = EXAMPLES[name]
    leaves, td = tree.flatten(t)
    assert isinstance(td, TreeDef) and td.num_leaves == len(leaves)
    back = tree.unflatten(td, leaves)
    assert obj_equal(t, back)
    assert tree.structure(back) == td and hash(tree.structure(back)) == hash(td)
    assert tree.leaves(t) == leaves or all(x is y for x, y in zip(tree.leaves(t), leaves))
    assert len(tree.paths(t)) == len(leaves)
    assert obj_equal(t, td.unflatten(leaves))


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_map_identity_and_ravel_round_trip(name):
    t = EXAMPLES[name]
    assert obj_equal(t, tree.map(lambda x: x, t))
    flat, unravel = tree.ravel(t)
    assert flat.ndim == 1 and flat.dtype.kind == "f"
    assert obj_equal(t, unravel(flat))


def test_leaf_order_and_paths():
    t = {"b": [1.0, Point(2.0, 3.0)], "a": Gaussian(4.0, 5.0), "c": None, "d": Layer(6.0, 7.0)}
    assert tree.leaves(t) == [4.0, 5.0, 1.0, 2.0, 3.0, 6.0, 7.0]
    assert tree.paths(t) == ["['a'].mu", "['a'].sigma", "['b'][0]", "['b'][1].x", "['b'][1].y",
                             "['d'].W", "['d'].b"]
    assert tree.paths(1.0) == [""]
    assert tree.paths(None) == [] and tree.leaves(None) == []
    assert tree.paths({1: Interval(1.0, 2.0)}) == ["[1][0]", "[1][1]"]
    assert tree.paths(Affine(1.0, 2.0, "n")) == [".A", ".c"]


def test_dict_keys_are_sorted_so_insertion_order_does_not_matter():
    a = {"x": 1.0, "a": 2.0}
    b = {"a": 3.0, "x": 4.0}
    assert tree.structure(a) == tree.structure(b)
    assert tree.leaves(a) == [2.0, 1.0]
    assert list(tree.map(lambda u, v: u + v, a, b)) == ["a", "x"]
    assert tree.map(lambda u, v: u + v, a, b) == {"a": 5.0, "x": 5.0}
    # an OrderedDict's order is part of its value
    oa = collections.OrderedDict(a)
    ob = collections.OrderedDict(b)
    assert tree.structure(oa) != tree.structure(ob)
    assert tree.leaves(oa) == [1.0, 2.0]
    assert list(tree.unflatten(tree.structure(oa), [0, 0])) == ["x", "a"]


def test_none_is_an_empty_node_and_int_bool_are_leaves():
    leaves, td = tree.flatten([None, 1, True, 2.0])
    assert leaves == [1, True, 2.0]
    assert tree.structure([None, 1]) != tree.structure([1, None])
    assert tree.structure(None) != tree.structure(())
    assert tree.structure([]) != tree.structure(())
    assert tree.unflatten(tree.structure(None), []) is None


def test_treedef_equality_hash_and_repr():
    t1 = {"W": np.zeros(2), "layer": Layer(1.0, 2.0, "relu")}
    t2 = {"W": 5.0, "layer": Layer(np.ones(3), 0.0, "relu")}
    t3 = {"W": 5.0, "layer": Layer(np.ones(3), 0.0, "tanh")}
    assert tree.structure(t1) == tree.structure(t2)
    assert tree.structure(t1) != tree.structure(t3)           # static fields are structure
    assert len({tree.structure(t1), tree.structure(t2), tree.structure(t3)}) == 2
    assert tree.structure(Point(1, 2)) != tree.structure(Pair(1, 2)) != tree.structure((1, 2))
    assert tree.structure(Interval(1.0, 2.0, True)) != tree.structure(Interval(1.0, 2.0, False))
    assert tree.structure(Affine(1, 2, "a")) != tree.structure(Affine(1, 2, "b"))
    assert repr(tree.structure({"a": [1.0, None, (2.0,)], "p": Point(1, 2)})) == \
        "TreeDef({'a': [*, None, (*,)], 'p': Point(x=*, y=*)})"
    assert repr(tree.structure(Layer(1.0, 2.0))) == "TreeDef(Layer(W=*, b=*, activation='tanh', width=3))"
    assert repr(tree.structure(Interval(1.0, [2.0]))) == "TreeDef(Interval(*, [*]; aux=True))"
    assert repr(tree.structure(Affine(1.0, 2.0, "n"))) == "TreeDef(Affine(A=*, c=*, name='n'))"
    assert tree.structure(t1) != "not a treedef"
    with pytest.raises(AttributeError):
        tree.structure(t1).kind = "list"
    import pickle
    td = tree.structure({"a": [1.0, Point(1, 2)], "l": Layer(1.0, 2.0)})
    assert pickle.loads(pickle.dumps(td)) == td


def test_static_fields_come_back_and_frozen_dataclasses_are_rebuilt():
    layer = Layer(np.ones((2, 2)), np.zeros(2), "relu", 7)
    doubled = tree.map(lambda v: 2 * v, layer)
    assert type(doubled) is Layer and doubled.activation == "relu" and doubled.width == 7
    assert np.array_equal(doubled.W, 2 * np.ones((2, 2)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        doubled.W = None
    assert tree.leaves(layer)[0] is layer.W


def test_unflatten_does_not_run_init_or_post_init():
    # a gradient of a positive parameter may be negative: rebuilding must not validate it
    g = tree.map(lambda s: -s, Validated(2.0))
    assert type(g) is Validated and g.sigma == -2.0


def test_init_false_fields_are_leaves_too():
    @dataclass
    class WithDerived:
        a: float
        twice: float = field(init=False)

        def __post_init__(self):
            self.twice = 2 * self.a

    w = WithDerived(1.5)
    assert tree.leaves(w) == [1.5, 3.0]
    back = tree.map(lambda v: v + 1, w)
    assert back.a == 2.5 and back.twice == 4.0


def test_registered_dataclass_with_extra_static_fields():
    @dataclass
    class Model:
        w: np.ndarray
        n_iter: int

    s2sad.register_pytree(Model, static=["n_iter"])
    m = Model(np.ones(2), 10)
    leaves, td = tree.flatten(m)
    assert len(leaves) == 1 and leaves[0] is m.w
    back = tree.unflatten(td, [np.zeros(2)])
    assert type(back) is Model and back.n_iter == 10
    assert tree.structure(Model(np.ones(2), 11)) != td


def test_registered_class_by_functions_rebuilds_with_its_unflatten():
    iv = Interval(np.array([0.0, 1.0]), 2.0, closed=False)
    back = tree.map(lambda v: v * 3, iv)
    assert type(back) is Interval and back.closed is False and back.hi == 6.0
    assert np.array_equal(back.lo, [0.0, 3.0])


def test_is_leaf():
    t = {"a": (1.0, 2.0), "b": [(3.0, 4.0)]}
    leaves, td = tree.flatten(t, is_leaf=lambda x: isinstance(x, tuple))
    assert leaves == [(1.0, 2.0), (3.0, 4.0)]
    assert tree.unflatten(td, ["A", "B"]) == {"a": "A", "b": ["B"]}
    swapped = tree.map(lambda p, q: (p[1], q[0]), t, t, is_leaf=lambda x: isinstance(x, tuple))
    assert swapped == {"a": (2.0, 1.0), "b": [(4.0, 3.0)]}
    assert tree.paths(t, is_leaf=lambda x: isinstance(x, tuple)) == ["['a']", "['b'][0]"]
    # is_leaf also keeps a refused container from being looked into
    assert tree.leaves([{1, 2}], is_leaf=lambda x: isinstance(x, set)) == [{1, 2}]


def test_map_several_trees():
    params = {"W1": np.ones((2, 2)), "b1": np.zeros(2), "nested": [1.0, Point(2.0, 3.0)]}
    grads = {"W1": np.full((2, 2), 0.5), "b1": np.ones(2), "nested": [10.0, Point(20.0, 30.0)]}
    new = tree.map(lambda p, g: p - 0.1 * g, params, grads)
    assert np.allclose(new["W1"], 0.95) and np.allclose(new["b1"], -0.1)
    assert new["nested"][0] == pytest.approx(0.0) and new["nested"][1] == Point(0.0, 0.0)
    assert tree.map(lambda a, b, c: a + b + c, [1.0], [2.0], [3.0]) == [6.0]


def test_shared_subtrees_are_not_cycles():
    w = [1.0, 2.0]
    assert tree.leaves({"a": w, "b": w}) == [1.0, 2.0, 1.0, 2.0]


# ---------------------------------------------------------------------------------------------
# refusals, each naming where
# ---------------------------------------------------------------------------------------------

def mismatch(f, *trees, **kw):
    with pytest.raises(TreeError) as info:
        tree.map(f, *trees, **kw)
    assert isinstance(info.value, s2sad.S2SADError) and isinstance(info.value, s2sad.ArgumentError)
    return str(info.value)


@pytest.mark.parametrize("other, where, there", [
    ({"W1": (np.ones(2), 1.0), "b": 0.0}, "['W1']", "a tuple of 2 items"),
    ({"W1": [np.ones(2)], "b": 0.0}, "['W1']", "a list of 1 item"),
    ({"W1": [np.ones(2), 1.0]}, "", "a dict with keys ['W1']"),
    ({"W1": [np.ones(2), 1.0], "c": 0.0}, "", "a dict with keys ['W1', 'c']"),
    ({"W1": [[1.0], 1.0], "b": 0.0}, "['W1'][0]", "a list of 1 item"),
    ({"W1": [None, 1.0], "b": 0.0}, "['W1'][0]", "None"),
    ({"W1": [np.ones(2), 1.0], "b": Point(1.0, 2.0)}, "['b']", "a Point (namedtuple)"),
    ({"W1": [np.ones(2), 1.0], "b": {1, 2}}, "['b']", "set"),
])
def test_map_names_the_path_where_structures_differ(other, where, there):
    params = {"W1": [np.zeros(2), 0.0], "b": 0.0}
    msg = mismatch(lambda a, b: a, params, other)
    assert f"rest[0]{where}" in msg and there in msg, msg
    if "set" not in there:
        assert f"tree{where} is " in msg and "structure" in msg


def test_map_mismatch_of_dataclass_static_field_and_classes():
    msg = mismatch(lambda a, b: a, {"l": Layer(1.0, 2.0, "relu")}, {"l": Layer(1.0, 2.0, "tanh")})
    assert "tree['l'] is a Layer" in msg and "'relu'" in msg and "'tanh'" in msg
    msg = mismatch(lambda a, b: a, [Point(1.0, 2.0)], [Pair(1.0, 2.0)])
    assert "[0]" in msg and "Point" in msg and "Pair" in msg
    msg = mismatch(lambda a, b: a, [Gaussian(1.0, [2.0])], [Gaussian(1.0, [2.0, 3.0])])
    assert "tree[0].sigma is a list of 1 item" in msg and "rest[0][0].sigma is a list of 2 items" in msg
    msg = mismatch(lambda a, b, c: a, [1.0], [1.0], (1.0,))
    assert "rest[1] is a tuple of 1 item" in msg


def test_check_structure_names_the_argument():
    td = tree.structure({"W1": [np.zeros(2), 0.0]})
    with pytest.raises(TreeError, match=r"gradient\['W1'\]\[1\] is a list of 0 items"):
        tree.check_structure(td, {"W1": [np.zeros(2), []]}, expected="params", name="gradient")
    assert tree.check_structure(td, {"W1": [1, 2]}) == [1, 2]


@pytest.mark.parametrize("bad, kind", [
    ({1, 2}, "set"), (frozenset([1]), "frozenset"), ((i for i in range(2)), "generator"),
    (iter([1.0]), "list_iterator"), (range(3), "range"), ({"a": 1}.values(), "dict_values"),
    (collections.deque([1.0]), "deque"), (zip([1], [2]), "zip"),
])
def test_unsupported_containers_are_refused_with_a_hint(bad, kind):
    for fn in (tree.flatten, tree.leaves, tree.structure, tree.paths, tree.ravel):
        with pytest.raises(TreeError) as info:
            fn({"params": [1.0, bad]})
        msg = str(info.value)
        assert f"tree['params'][1] is a {kind}" in msg and "hint:" in msg, msg
    with pytest.raises(TreeError, match=r"params\['W'\] is a set"):
        tree.flatten({"W": {1}}, name="params")


def test_subclasses_of_containers_are_refused_unless_registered():
    class MyList(list):
        pass

    class MyDict(dict):
        pass

    class MyTuple(tuple):
        pass

    for bad in (MyList([1.0]), MyDict(a=1.0), MyTuple((1.0,))):
        with pytest.raises(TreeError, match=r"(?s)tree\[0\] is a My.*register_pytree"):
            tree.flatten([bad])
    s2sad.register_pytree(MyList, lambda v: (list(v), None), lambda aux, kids: MyList(kids))
    back = tree.map(lambda v: v + 1, MyList([1.0, 2.0]))
    assert type(back) is MyList and back == [2.0, 3.0]


def test_cycles_are_refused():
    a = [1.0]
    a.append(a)
    with pytest.raises(TreeError, match=r"tree\[1\] contains itself"):
        tree.flatten(a)
    d = {"x": {}}
    d["x"]["back"] = d
    with pytest.raises(TreeError, match=r"tree\['x'\]\['back'\] contains itself.*\nhint:"):
        tree.leaves(d)


def test_too_deep_is_a_clean_error():
    t = 1.0
    for _ in range(100000):
        t = [t]
    with pytest.raises(TreeError, match="nested too deeply"):
        tree.flatten(t)


def test_unsortable_dict_keys_are_refused():
    with pytest.raises(TreeError, match=r"tree\['w'\] is a dict whose keys cannot be sorted \(int, str\)"):
        tree.flatten({"w": {1: 1.0, "a": 2.0}})


def test_unhashable_static_parts_are_refused():
    with pytest.raises(TreeError, match=r"tree\[0\]: its static fields activation, width must be hashable"):
        tree.flatten([Layer(1.0, 2.0, activation=["relu"])])
    s2sad.register_pytree(Interval, lambda iv: ((iv.lo, iv.hi), [iv.closed]), lambda aux, kids: None)
    try:
        with pytest.raises(TreeError, match=r"tree: the aux data returned by Interval's flatten must be hashable"):
            tree.flatten(Interval(1.0, 2.0))
    finally:
        s2sad.register_pytree(Interval, lambda iv: ((iv.lo, iv.hi), iv.closed),
                              lambda closed, kids: Interval(kids[0], kids[1], closed))


def test_attributes_that_are_not_fields_are_refused():
    g = Gaussian(1.0, 2.0)
    g.cache = np.ones(3)
    with pytest.raises(TreeError, match=r"tree\['g'\]: the Gaussian has attributes that are not fields \(cache\)"):
        tree.flatten({"g": g})
    a = Affine(1.0, 2.0, "x")
    a.extra = 3
    with pytest.raises(TreeError, match="not fields \\(extra\\)"):
        tree.flatten(a)
    s = Slotted(1.0, np.ones(2))
    object.__delattr__(s, "b")
    with pytest.raises(TreeError, match=r"tree\[0\]: the Slotted's field b is not set"):
        tree.flatten([s])
    del a.extra
    del a.c
    with pytest.raises(TreeError, match="has no attribute c"):
        tree.flatten(a)


def test_register_pytree_refusals():
    class Plain:
        pass
    with pytest.raises(TreeError, match="needs flatten and unflatten functions or fields"):
        s2sad.register_pytree(Plain)
    with pytest.raises(TreeError, match="both flatten and unflatten"):
        s2sad.register_pytree(Plain, lambda p: ((), None))
    with pytest.raises(TreeError, match="already a pytree node"):
        s2sad.register_pytree(dict, fields=["a"])
    with pytest.raises(TreeError, match="already a pytree node"):
        s2sad.register_pytree(Point, fields=["x"])
    with pytest.raises(TreeError, match="not fields of it"):
        s2sad.register_pytree(Gaussian, static=["nope"])
    with pytest.raises(TreeError, match="both fields and static"):
        s2sad.register_pytree(Plain, fields=["a"], static=["a"])
    with pytest.raises(TreeError, match=r"lists of names, got a str\nhint: static=\['name'\]"):
        s2sad.register_pytree(Affine, fields=["A", "c"], static="name")
    with pytest.raises(TreeError, match="float is a leaf"):
        s2sad.register_pytree(float, fields=["real"])
    with pytest.raises(TreeError, match="ndarray is a leaf"):
        s2sad.register_pytree(np.ndarray, fields=["real"])
    with pytest.raises(TreeError, match="needs a class"):
        s2sad.register_pytree(Plain(), fields=["a"])
    with pytest.raises(TreeError, match="must return \\(children, aux\\)"):
        s2sad.register_pytree(Plain, lambda p: [1.0], lambda aux, kids: Plain())
        tree.flatten(Plain())


def test_unflatten_refusals():
    td = tree.structure({"a": [1.0, 2.0]})
    with pytest.raises(TreeError, match="has 2 leaves, 3 were given"):
        tree.unflatten(td, [1, 2, 3])
    with pytest.raises(TreeError, match="needs a TreeDef"):
        tree.unflatten([1, 2], td)


# ---------------------------------------------------------------------------------------------
# ravel
# ---------------------------------------------------------------------------------------------

def test_ravel_layout_dtypes_and_constants():
    t = {"b": np.arange(6.0).reshape(2, 3), "a": 1.5, "n": 3, "mask": np.array([True, False]),
         "idx": np.array([0, 2]), "f32": np.float32(2.5), "zero_d": np.array(4.0), "none": None}
    flat, unravel = tree.ravel(t)
    assert flat.dtype == np.float64 and flat.ndim == 1
    assert np.array_equal(flat, [1.5, 0, 1, 2, 3, 4, 5, 2.5, 4.0])     # sorted keys: a, b, f32, ..., zero_d
    back = unravel(flat + 1)
    assert type(back["a"]) is float and back["a"] == 2.5
    assert back["b"].shape == (2, 3) and back["b"].dtype == np.float64 and back["b"][1, 2] == 6.0
    assert type(back["f32"]) is np.float32 and back["f32"] == 3.5
    assert type(back["zero_d"]) is np.ndarray and back["zero_d"].shape == () and back["zero_d"] == 5.0
    assert back["n"] == 3 and back["none"] is None
    assert back["mask"].dtype == bool and back["idx"].dtype == t["idx"].dtype
    assert back["idx"] is not t["idx"] and back["mask"] is not t["mask"]        # constants are copies
    # unravelled arrays never share memory with the flat vector
    v = flat.copy()
    out = unravel(v)
    v[:] = -1
    assert out["b"][0, 0] == 0.0


def test_ravel_common_float_dtype():
    flat, unravel = tree.ravel([np.ones(2, np.float32), np.ones(1, np.float16)])
    assert flat.dtype == np.float32
    back = unravel(np.arange(3.0))
    assert back[0].dtype == np.float32 and back[1].dtype == np.float16 and back[1][0] == 2.0
    flat, _ = tree.ravel([np.ones(2, np.float32), 1.0])
    assert flat.dtype == np.float64
    flat, unravel = tree.ravel({"n": 1, "z": None})
    assert flat.dtype == np.float64 and flat.shape == (0,)
    assert unravel(flat) == {"n": 1, "z": None}


def test_name_of_the_tree_in_messages():
    with pytest.raises(TreeError, match=r"^params\['W1'\]\[0\] is a set"):
        tree.structure({"W1": [{1.0}]}, name="params")
    with pytest.raises(TreeError, match=r"^ravel: the leaf theta\.W is a str"):
        tree.ravel(Layer(W="w", b=1.0), name="theta")
    assert tree.paths({"a": [1.0]}, name="params") == ["['a'][0]"]


def test_ravel_refusals():
    for bad, what in [(1j, "a complex number"), (np.ones(2, complex), "a complex number"),
                      ("tanh", "a str"), (np.array(["a"]), "dtype <U1"), (object(), "a object"),
                      (np.ma.masked_array([1.0]), "a MaskedArray")]:
        with pytest.raises(TreeError) as info:
            tree.ravel({"p": [1.0, bad]})
        assert "ravel: the leaf tree['p'][1] is " in str(info.value) and what in str(info.value)
    _, unravel = tree.ravel({"a": np.ones(3)})
    with pytest.raises(TreeError, match=r"1-d vector of 3 numbers.*got shape \(2,\)"):
        unravel(np.ones(2))
    with pytest.raises(TreeError, match=r"got shape \(3, 1\)"):
        unravel(np.ones((3, 1)))
    with pytest.raises(TreeError, match="real vector"):
        unravel(np.ones(3, complex))


def test_ravel_with_scipy_minimize_on_a_dict_of_parameters():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    w_true, b_true = np.array([1.0, -2.0, 0.5]), 0.3
    y = X @ w_true + b_true
    params = {"w": np.zeros(3), "b": 0.0, "n_features": 3}

    def loss(p):
        assert p["n_features"] == 3
        r = X @ p["w"] + p["b"] - y
        return 0.5 * np.mean(r ** 2)

    def grad_loss(p):                   # by hand; s2sad.grad comes later
        r = X @ p["w"] + p["b"] - y
        return {"w": X.T @ r / len(y), "b": float(np.mean(r)), "n_features": 0}

    x0, unravel = tree.ravel(params)
    assert x0.shape == (4,)
    res = scipy.optimize.minimize(lambda x: loss(unravel(x)), x0,
                                  jac=lambda x: tree.ravel(grad_loss(unravel(x)))[0], method="BFGS")
    assert res.success
    fitted = unravel(res.x)
    assert np.allclose(fitted["w"], w_true, atol=1e-5) and fitted["b"] == pytest.approx(b_true, abs=1e-5)
    assert type(fitted["b"]) is float and fitted["n_features"] == 3
    assert scipy.optimize.check_grad(lambda x: loss(unravel(x)),
                                     lambda x: tree.ravel(grad_loss(unravel(x)))[0], x0 + 0.1) < 1e-5


def test_public_names():
    assert s2sad.register_pytree is tree.register_pytree
    assert "tree" in s2sad.__all__ and "register_pytree" in s2sad.__all__
    for name in ("map", "flatten", "unflatten", "leaves", "structure", "paths", "ravel", "static", "TreeDef",
                 "TreeError", "check_structure"):
        assert callable(getattr(tree, name)), name
    assert issubclass(TreeError, s2sad.ArgumentError) and issubclass(TreeError, s2sad.S2SADError)
