"""Pytrees in grad / value_and_grad: containers as arguments (dict, list, tuple, namedtuple,
dataclass, nested, None and int leaves), the constructs that read them inside the function
(s2sad/containers.py), the generated source, and the refusals (file:line, before anything runs).

Every gradient is checked leaf by leaf against central finite differences of the user's function,
optimized and unoptimized."""
from __future__ import annotations

import collections
import dataclasses
import inspect
import typing

import numpy as np
import pytest

import s2sad
from s2sad.errors import UnsupportedSyntaxError

OPT = [True, False]


# --- finite differences on every leaf ------------------------------------------------------------

def fd_tree(f, args, argnum, eps=1e-6, seed=0):
    """For each float leaf of args[argnum]: (direction, central difference along it)."""
    rng = np.random.default_rng(seed)
    leaves, td = s2sad.tree.flatten(args[argnum])
    out = []
    for j, leaf in enumerate(leaves):
        if isinstance(leaf, (bool, int, np.integer)) or (isinstance(leaf, np.ndarray) and leaf.dtype.kind != "f"):
            out.append(None)
            continue
        d = rng.standard_normal(np.shape(leaf))

        def at(step):
            new = list(leaves)
            if isinstance(leaf, float) and not isinstance(leaf, np.generic):
                new[j] = leaf + step * float(d)
            else:
                new[j] = (np.asarray(leaf, dtype=np.float64) + step * d).astype(np.asarray(leaf).dtype)
            a = list(args)
            a[argnum] = td.unflatten(new)
            return float(f(*a))
        out.append((d, (at(eps) - at(-eps)) / (2 * eps)))
    return out


def check_tree_grad(f, args, argnums=0, optimize=True, rtol=1e-5, atol=1e-7):
    """grad and value_and_grad of f against finite differences on every float leaf; the
    gradient has the argument's structure and each leaf's type, shape and dtype."""
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    g = s2sad.grad(f, argnums=argnums, optimize=optimize)(*args)
    value, g2 = s2sad.value_and_grad(f, argnums=argnums, optimize=optimize)(*args)
    assert np.isclose(value, f(*args))
    gs = g if isinstance(argnums, tuple) else (g,)
    g2s = g2 if isinstance(argnums, tuple) else (g2,)
    for i, gi, gi2 in zip(nums, gs, g2s):
        arg = args[i]
        assert s2sad.tree.structure(gi) == s2sad.tree.structure(arg), (gi, arg)
        assert s2sad.tree.structure(gi2) == s2sad.tree.structure(arg)
        gl, al = s2sad.tree.leaves(gi), s2sad.tree.leaves(arg)
        for x, y in zip(s2sad.tree.leaves(gi2), gl):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)
        for x, a, fd in zip(gl, al, fd_tree(f, args, i)):
            if fd is None:              # an int or bool leaf: a zero of its type, shape and dtype
                assert np.shape(x) == np.shape(a) and np.all(np.asarray(x) == 0)
                assert type(x) is type(a) and np.asarray(x).dtype == np.asarray(a).dtype
                continue
            if isinstance(a, float) and not isinstance(a, np.generic):
                assert type(x) is float, (type(x), a)
            else:
                assert np.asarray(x).dtype == np.asarray(a).dtype and np.shape(x) == np.shape(a)
                assert type(x) is type(a) or (isinstance(a, np.ndarray) and isinstance(x, np.ndarray))
            d, want = fd
            got = float(np.sum(np.asarray(x, dtype=np.float64) * d))
            tol = 1e-3 if np.asarray(a).dtype == np.float32 else rtol
            assert np.isclose(got, want, rtol=tol, atol=max(atol, tol * 1e-2)), (got, want)
    return g


def rng_array(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --- the models ------------------------------------------------------------------------------------

def softmax_xent(logits, y):
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(y * (z - lse), axis=1))


def mlp_loss(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    return softmax_xent(logits, y)


def mlp_params(n_in=5, n_hidden=7, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": 0.5 * rng.standard_normal((n_in, n_hidden)), "b1": 0.1 * rng.standard_normal(n_hidden),
            "W2": 0.5 * rng.standard_normal((n_hidden, n_out)), "b2": 0.1 * rng.standard_normal(n_out)}


def data(n=8, n_in=5, n_out=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n_in)), np.eye(n_out)[rng.integers(0, n_out, n)]


@pytest.mark.parametrize("optimize", OPT)
def test_dict_mlp(optimize):
    X, y = data()
    check_tree_grad(mlp_loss, (mlp_params(), X, y), optimize=optimize)


def test_dict_mlp_source_reads_like_backprop():
    X, y = data()
    g = s2sad.grad(mlp_loss)
    g(mlp_params(), X, y)
    src = s2sad.source(g)
    assert src.startswith("def grad_mlp_loss(params, X, y):\n")
    for line in ("    W1 = params['W1']\n", "    b2 = params['b2']\n", "    W1_bar = X.T @ t1_bar\n",
                 "    params_bar = {'W1': W1_bar, 'W2': W2_bar, 'b1': b1_bar, 'b2': b2_bar}\n",
                 "    return params_bar\n"):
        assert line in src, src
    assert "tree" not in src and "flatten" not in src


def layers_loss(layers, x):
    h = x
    for W, b in layers:
        h = np.tanh(h @ W + b)
    return np.sum(h ** 2)


@pytest.mark.parametrize("optimize", OPT)
@pytest.mark.parametrize("kind", [list, tuple])
def test_list_of_layers(optimize, kind):
    layers = kind([(rng_array(4, 5, seed=1), rng_array(5, seed=2)), (rng_array(5, 3, seed=3), rng_array(3, seed=4))])
    check_tree_grad(layers_loss, (layers, rng_array(6, 4)), optimize=optimize)


class Gauss(typing.NamedTuple):
    mu: np.ndarray
    log_sigma: float


@dataclasses.dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray
    activation: str = s2sad.tree.static(default="tanh")


@dataclasses.dataclass(frozen=True)
class Frozen:
    a: np.ndarray
    c: float


Pair = collections.namedtuple("Pair", "left right")


def nll(g, x):
    s = np.exp(g.log_sigma)
    return np.sum((x - g.mu) ** 2) / (2 * s * s) + x.size * g.log_sigma


def layer_apply(layer, x):
    if layer.activation == "tanh":
        return np.tanh(x @ layer.W + layer.b)
    return x @ layer.W + layer.b


def dc_loss(layer, x):
    return np.sum(layer_apply(layer, x) ** 2)


def frozen_loss(p, x):
    return np.sum(np.sin(p.a * x)) * p.c


def pair_loss(p):
    return np.sum(p.left * p[1])


@pytest.mark.parametrize("optimize", OPT)
def test_namedtuple_dataclass_frozen(optimize):
    x = rng_array(6, seed=5)
    g = check_tree_grad(nll, (Gauss(rng_array(6, seed=1), 0.3), x), optimize=optimize)
    assert type(g) is Gauss and type(g.log_sigma) is float
    layer = Layer(rng_array(3, 2, seed=1), rng_array(2, seed=2), "tanh")
    g = check_tree_grad(dc_loss, (layer, rng_array(4, 3)), optimize=optimize)
    assert type(g) is Layer and g.activation == "tanh"
    g = check_tree_grad(dc_loss, (Layer(layer.W, layer.b, "linear"), rng_array(4, 3)), optimize=optimize)
    assert g.activation == "linear"
    g = check_tree_grad(frozen_loss, (Frozen(rng_array(4), 1.5), rng_array(4, seed=3)), optimize=optimize)
    assert type(g) is Frozen and type(g.c) is float
    g = check_tree_grad(pair_loss, (Pair(rng_array(3), rng_array(3, seed=1)),), optimize=optimize)
    assert type(g) is Pair


def nested_loss(p, x, scale):
    enc = p["enc"]
    s = 0.0
    for i, layer in enumerate(enc["layers"]):
        s = s + (i + 1) * np.sum(np.tanh(x @ layer["W"]))
    s = s + np.sum(p["head"][0] * p["head"][1]) * p["n"] * scale
    if p["extra"] is None:
        s = s + p["bias"]
    return s + p["enc"]["layers"][-1]["W"][0, 0] * len(p["enc"]["layers"])


@pytest.mark.parametrize("optimize", OPT)
def test_nested_none_int_and_float_leaves_mixed_with_float_args(optimize):
    p = {"enc": {"layers": [{"W": rng_array(3, 4, seed=1)}, {"W": rng_array(3, 2, seed=2)}]},
         "head": (rng_array(2, seed=3), rng_array(2, seed=4)), "n": 3, "extra": None, "bias": 0.7,
         "mask": np.array([1, 0, 1])}
    args = (p, rng_array(5, 3, seed=6), 1.3)
    g = check_tree_grad(nested_loss, args, optimize=optimize)
    assert g["extra"] is None and g["n"] == 0 and type(g["n"]) is int and type(g["bias"]) is float
    assert g["mask"].dtype == p["mask"].dtype and g["mask"].shape == (3,)
    g = check_tree_grad(nested_loss, args, argnums=(0, 2), optimize=optimize)
    assert type(g[1]) is float
    x_only = s2sad.grad(nested_loss, argnums=1, optimize=optimize)(*args)
    assert x_only.shape == (5, 3)


def f32_loss(p):
    return np.sum(p["a"] ** 2) + p["b"] * np.sum(p["a"])


def test_float32_leaves_give_float32_gradients():
    p = {"a": np.arange(3, dtype=np.float32), "b": np.float32(2.0)}
    g = s2sad.grad(f32_loss)(p)
    assert g["a"].dtype == np.float32 and type(g["b"]) is np.float32
    np.testing.assert_allclose(g["a"], 2 * p["a"] + 2.0, rtol=1e-6)


# --- constructs inside the function ------------------------------------------------------------------

def items_loss(p, x):
    s = 0.0
    for k, v in p.items():
        s = s + np.sum(v * x[: v.shape[0]])
    for v in p.values():
        s = s + np.sum(v ** 2)
    for k in p:
        s = s + np.sum(np.cos(p[k]))
    return s


def range_len_loss(layers, x):
    h = x
    for i in range(len(layers)):
        h = np.tanh(h @ layers[i][0] + layers[i][1])
    return np.sum(h)


def sgd_inside(p, x, lr):
    g = {k: 2 * v * x[: v.shape[0]] for k, v in p.items()}
    new = {k: v - lr * g[k] for k, v in p.items()}
    new2 = {**new, "a": new["a"] * 2.0}
    d = {}
    d["a"] = new2["a"]
    d["b"] = new2["b"] + 1.0
    d["b"] = d["b"] * 3.0
    d["a"] += 1.0
    return np.sum(d["a"] ** 2) + np.sum(np.sin(d["b"]))


def helper_norm(p):
    return np.sum(p["a"] ** 2) + np.sum(p["b"] ** 2)


def helper_scale(p, c=2.0):
    out = {k: c * v for k, v in p.items()}
    return out


def helpers_loss(p, x):
    q = helper_scale(p)
    r = helper_scale(q, c=x)
    return helper_norm(r) + helper_norm(p)


def zip_loss(ws, bs, x):
    s = 0.0
    for w, b in zip(ws, bs):
        s = s + np.sum(np.tanh(w * x + b))
    return s + np.sum(np.stack(ws)) + np.sum(ws[1] * bs[-1])


def branch_loss(p, x):
    if x > 0:
        q = {"a": p["a"] * x, "b": p["b"]}
    else:
        q = {"a": p["a"], "b": p["b"] - x}
    return np.sum(q["a"] * q["b"])


def while_loss(p, n):
    i = 0
    while i < n:
        p = {"a": np.sin(p["a"]), "b": p["b"] * p["a"]}
        i += 1
    return np.sum(p["a"] + p["b"])


def runtime_index_list(xs, n):
    s = 0.0
    for i in range(n):
        s = s + xs[i] * (i + 1)
    return s


@pytest.mark.parametrize("optimize", OPT)
def test_constructs(optimize):
    p = {"a": rng_array(3, seed=1), "b": rng_array(2, seed=2)}
    x = rng_array(3, seed=3)
    check_tree_grad(items_loss, (p, x), optimize=optimize)
    layers = [(rng_array(3, 3, seed=i), rng_array(3, seed=i + 5)) for i in range(3)]
    check_tree_grad(range_len_loss, (layers, x), optimize=optimize)
    q = {"a": rng_array(3, seed=1), "b": rng_array(3, seed=2)}
    check_tree_grad(sgd_inside, (q, x, 0.1), argnums=(0, 2), optimize=optimize)
    check_tree_grad(helpers_loss, (q, 0.7), argnums=(0, 1), optimize=optimize)
    ws = [rng_array(3, seed=1), rng_array(3, seed=2)]
    check_tree_grad(zip_loss, (ws, (rng_array(3, seed=4), rng_array(3, seed=5)), x), argnums=(0, 1),
                    optimize=optimize)
    check_tree_grad(branch_loss, (q, 0.5), argnums=(0, 1), optimize=optimize)
    check_tree_grad(branch_loss, (q, -0.5), argnums=(0, 1), optimize=optimize)
    check_tree_grad(while_loss, (q, 3), optimize=optimize)
    check_tree_grad(while_loss, (q, 0), optimize=optimize)
    check_tree_grad(runtime_index_list, ([1.5, 2.5, -0.5], 3), optimize=optimize)


@dataclasses.dataclass
class Model:
    W: np.ndarray
    b: np.ndarray
    alpha: float = 0.1

    def predict(self, X):
        return X @ self.W + self.b

    def loss(self, X, y):
        r = self.predict(X) - y
        return np.mean(r ** 2) + self.alpha * np.sum(self.W ** 2)


class Trainer:
    def __init__(self, reg):
        self.reg = reg

    def forward(self, params, X):
        return np.tanh(X @ params["W"] + params["b"])

    def loss(self, params, X, y):
        return np.mean((self.forward(params, X) - y) ** 2) + self.reg * np.sum(params["W"] ** 2)


@pytest.mark.parametrize("optimize", OPT)
def test_models_as_objects(optimize):
    X, y = rng_array(6, 3, seed=1), rng_array(6, 2, seed=2)
    model = Model(rng_array(3, 2, seed=3), rng_array(2, seed=4), 0.05)
    g = check_tree_grad(Model.loss, (model, X, y), optimize=optimize)
    assert type(g) is Model and type(g.alpha) is float
    t = Trainer(0.01)
    params = {"W": rng_array(3, 2, seed=5), "b": rng_array(2, seed=6)}
    check_tree_grad(t.loss, (params, X, y), optimize=optimize)


# --- second order ----------------------------------------------------------------------------------

def poly(p, x):
    return np.sum(p["a"] * x ** 3) + p["c"] * x ** 2


def test_second_order_through_a_container_argument():
    p = {"a": np.array([1.0, 2.0]), "c": 0.5}
    x = 1.5
    gx = s2sad.grad(poly, argnums=1)
    assert np.isclose(gx(p, x), 3 * 3.0 * x ** 2 + 2 * 0.5 * x)
    for optimize in OPT:
        ggx = s2sad.grad(s2sad.grad(poly, argnums=1, optimize=optimize), argnums=1, optimize=optimize)
        assert np.isclose(ggx(p, x), 6 * 3.0 * x + 2 * 0.5)
    assert np.isclose(s2sad.hessian(poly, argnums=1)(p, x), 6 * 3.0 * x + 1.0)


# --- refusals ----------------------------------------------------------------------------------------

RAN = []


def _line(fn, text):
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, l in enumerate(lines) if text in l)


def bad_runtime_key(p, x):
    RAN.append(1)
    k = "a" if x > 0 else "b"
    return np.sum(p[k])


def bad_mutation(p, x):
    RAN.append(1)
    p["a"] = p["a"] * x
    return np.sum(p["a"])


def bad_append(layers, x):
    RAN.append(1)
    layers.append(x)
    return np.sum(layers[0])


def bad_library_call(p):
    RAN.append(1)
    return np.sum(p)


def bad_structures(p, x):
    RAN.append(1)
    if x > 0:
        q = {"a": p["a"]}
    else:
        q = {"b": p["a"]}
    return np.sum(q["a"])


def bad_closure(p, x):
    RAN.append(1)
    f = lambda t: t * p["a"]
    return np.sum(f(x))


def _early(p):
    if p["a"][0] > 0:
        return np.sum(p["a"] ** 2)
    return np.sum(p["a"])


def early_helper(p):
    return _early(p) * 2.0


def _in_loop(p):
    for i in range(3):
        if p["a"][i] > 0:
            return np.sum(p["a"])
    return 0.0


def bad_helper(p):
    RAN.append(1)
    return _in_loop(p)


@pytest.mark.parametrize("optimize", OPT)
def test_helper_with_early_returns_is_inlined(optimize):
    check_tree_grad(early_helper, ({"a": np.array([1.0, -2.0])},), optimize=optimize)
    check_tree_grad(early_helper, ({"a": np.array([-1.0, -2.0])},), optimize=optimize)


def bad_setattr(m, x):
    RAN.append(1)
    m.W = m.W * x
    return np.sum(m.W)


@pytest.mark.parametrize("fn, text, args", [
    (bad_runtime_key, "p[k]", lambda: ({"a": np.ones(2), "b": np.ones(2)}, 1.0)),
    (bad_mutation, 'p["a"] = p', lambda: ({"a": np.ones(2)}, 1.0)),
    (bad_append, "layers.append", lambda: ([np.ones(2), None], np.ones(2))),
    (bad_library_call, "np.sum(p)", lambda: ({"a": np.ones(2)},)),
    (bad_structures, "return np.sum(q", lambda: ({"a": np.ones(2)}, 1.0)),
    (bad_closure, "lambda", lambda: ({"a": np.ones(2)}, 1.0)),
    (bad_setattr, "m.W = ", lambda: (Model(np.ones((2, 2)), np.ones(2)), 1.0)),
])
def test_refusals_name_the_line_before_running(fn, text, args):
    RAN.clear()
    with pytest.raises(UnsupportedSyntaxError) as err:
        s2sad.grad(fn)(*args())
    assert f":{_line(fn, text)}" in str(err.value), str(err.value)
    assert "hint" in str(err.value).lower()
    assert not RAN


def test_helper_returning_from_a_loop_is_refused_at_the_helper():
    RAN.clear()
    with pytest.raises(UnsupportedSyntaxError) as err:
        s2sad.grad(bad_helper)({"a": np.ones(3)})
    assert f":{_line(_in_loop, 'return np.sum')}" in str(err.value)
    assert not RAN


def returns_dict(p):
    return {"s": np.sum(p["a"])}


def test_grad_of_a_container_output_is_refused():
    with pytest.raises(s2sad.NotDifferentiableError):
        s2sad.grad(returns_dict)({"a": np.ones(2)})


def str_leaf(p):
    return np.sum(p["a"])


def test_a_string_leaf_of_a_differentiated_container_is_refused():
    with pytest.raises(s2sad.ArgumentError) as err:
        s2sad.grad(str_leaf)({"a": np.ones(2), "name": "x"})
    assert "['name']" in str(err.value)
    assert np.allclose(s2sad.grad(str_leaf, argnums=0)({"a": np.ones(2)})["a"], 1.0)


def test_structures_are_specialised_and_cached():
    g = s2sad.grad(str_leaf)
    a = g({"a": np.ones(2)})
    b = g({"a": np.ones((2, 2))})
    c = g({"a": np.ones(2), "z": 1.0})
    assert a["a"].shape == (2,) and b["a"].shape == (2, 2) and c["z"] == 0.0
    assert len(g._compiled) == 3


def layer_out(layer, x):
    return np.tanh(x @ layer[0] + layer[1])


def more_constructs(p, layers, x):
    a, b = p.values()
    vals = list(p.values())
    q = dict(W=p.get("a"), c=p.copy()["b"])
    outs = [layer_out(l, x) for l in layers[1:]]
    s = np.sum(a * b) + np.sum(vals[0]) + np.sum(q["W"] * q["c"]) + len(p)
    for o in outs:
        s = s + np.sum(o)
    if p.get("missing") is None:
        s = s + np.sum(np.stack([p["a"], p["b"]]) ** 2)
    return s + np.sum(layers[-1][0][0])


@pytest.mark.parametrize("optimize", OPT)
def test_more_constructs(optimize):
    p = {"a": rng_array(3, seed=1), "b": rng_array(3, seed=2)}
    layers = [(rng_array(3, 3, seed=i), rng_array(3, seed=i + 5)) for i in range(3)]
    args = (p, layers, rng_array(2, 3, seed=9))
    check_tree_grad(more_constructs, args, optimize=optimize)
    check_tree_grad(more_constructs, args, argnums=1, optimize=optimize)


def test_hessian_with_respect_to_a_float_next_to_a_container():
    p = {"a": np.array([1.0, 2.0]), "c": 0.5}
    x = np.array([1.5, -0.5])
    h = s2sad.hessian(lambda_free_poly, argnums=1)(p, x)
    np.testing.assert_allclose(h, np.diag(6 * p["a"] * x + 2 * p["c"]))


def lambda_free_poly(p, x):
    return np.sum(p["a"] * x ** 3) + p["c"] * np.sum(x ** 2)


def test_body_not_run_and_argument_not_changed_by_a_refused_mutation():
    p = {"a": np.ones(2)}
    RAN.clear()
    with pytest.raises(UnsupportedSyntaxError):
        s2sad.grad(bad_mutation)(p, 2.0)
    assert not RAN and np.all(p["a"] == 1.0)


def ordered_concat(p, w):
    flat = np.concatenate([v for v in p.values()])
    keys = [k for k in p]
    return np.sum(flat * w) + len(keys[0]) * np.sum(p[keys[0]])


@pytest.mark.parametrize("optimize", OPT)
def test_a_dict_is_iterated_in_its_insertion_order(optimize):
    """The TreeDef sorts keys, but Python iterates in insertion order: both orders give their own
    (correct) derivatives."""
    w = np.arange(1.0, 6.0)
    p1 = {"b": np.ones(2), "aa": np.ones(3)}
    p2 = {"aa": np.ones(3), "b": np.ones(2)}
    check_tree_grad(ordered_concat, (p2, w), optimize=optimize)     # (fd_tree rebuilds dicts sorted)
    g1 = s2sad.grad(ordered_concat, optimize=optimize)(p1, w)
    g2 = s2sad.grad(ordered_concat, optimize=optimize)(p2, w)
    np.testing.assert_allclose(g1["b"], [1.0 + 1.0, 1.0 + 2.0])      # len('b') + w[:2]
    np.testing.assert_allclose(g1["aa"], [3.0, 4.0, 5.0])
    np.testing.assert_allclose(g2["b"], [4.0, 5.0])
    np.testing.assert_allclose(g2["aa"], [2.0 + 1.0, 2.0 + 2.0, 2.0 + 3.0])   # len('aa') + w[:3]
    nested = {"z": {"b": np.ones(2), "aa": np.ones(3)}}
    g3 = s2sad.grad(nested_ordered, optimize=optimize)(nested, w)
    np.testing.assert_allclose(g3["z"]["b"], [2.0, 3.0])
    assert list(g1) == ["aa", "b"]          # gradients are built in sorted-key order, as unflatten


def nested_ordered(q, w):
    return ordered_concat(q["z"], w)


def comprehension_scope(p, x):
    v = x * 2.0
    vals = [v * 1.0 for v in p.values()]
    pairs = {k: v + 0.0 for k, v in p.items()}
    return np.sum(vals[0] * vals[1]) + np.sum(pairs["a"]) + np.sum(v)


@pytest.mark.parametrize("optimize", OPT)
def test_comprehension_variables_do_not_clobber_outer_names(optimize):
    p = {"a": rng_array(3, seed=1), "b": rng_array(3, seed=2)}
    check_tree_grad(comprehension_scope, (p, rng_array(3, seed=3)), argnums=(0, 1), optimize=optimize)


def shadowing(p, xs):
    s = 0.0
    for k in p:
        s = s + np.sum(p[k])
    ks = [k * 2.0 for k in xs]                # a run-time comprehension: its own k
    return s + sum(ks) + np.sum(p["a"]) * sum(k for k in xs)


def _helper_with_comprehension(p, xs):
    out = [x * p["a"] for x in xs]
    return out[0] + out[-1]


def helper_comprehension(p, xs):
    return np.sum(_helper_with_comprehension(p, xs))


@pytest.mark.parametrize("optimize", OPT)
def test_run_time_comprehensions_next_to_unrolled_loops(optimize):
    p = {"a": rng_array(3, seed=1), "b": rng_array(2, seed=2)}
    check_tree_grad(shadowing, (p, [0.5, 1.5]), argnums=(0, 1), optimize=optimize)
    check_tree_grad(helper_comprehension, (p, [0.5, 1.5, -2.0]), argnums=(0, 1), optimize=optimize)


class Affine:
    def __init__(self, A, c, name):
        self.A, self.c, self.name = A, c, name


s2sad.register_pytree(Affine, fields=["A", "c"], static=["name"])


class Interval:
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi


s2sad.register_pytree(Interval, lambda iv: ((iv.lo, iv.hi), None), lambda aux, kids: Interval(*kids))


def affine_loss(m, x):
    if m.name == "double":
        return 2.0 * np.sum((m.A @ x + m.c) ** 2)
    return np.sum((m.A @ x + m.c) ** 2)


def od_loss(p):
    s = 0.0
    for v in p.values():
        s = s * 2.0 + np.sum(v ** 2)
    return s


@pytest.mark.parametrize("optimize", OPT)
def test_registered_classes_and_ordered_dicts(optimize):
    m = Affine(rng_array(2, 3, seed=1), rng_array(2, seed=2), "double")
    g = check_tree_grad(affine_loss, (m, rng_array(3, seed=3)), optimize=optimize)
    assert type(g) is Affine and g.name == "double"
    od = collections.OrderedDict([("z", rng_array(2, seed=4)), ("a", rng_array(3, seed=5))])
    g = check_tree_grad(od_loss, (od,), optimize=optimize)
    assert type(g) is collections.OrderedDict and list(g) == ["z", "a"]
    np.testing.assert_allclose(g["z"], 2 * 2 * od["z"])


def interval_width(iv):
    RAN.append(1)
    return iv.hi - iv.lo


def test_a_class_registered_with_functions_is_refused_with_a_hint():
    RAN.clear()
    with pytest.raises(UnsupportedSyntaxError) as err:
        s2sad.grad(interval_width)(Interval(1.0, 3.0))
    assert "fields=" in str(err.value) and not RAN


def test_scipy_minimize_with_ravel_and_an_s2sad_gradient():
    """A pytree with an int leaf: its gradient's int leaf is an int zero, so ravel gives the
    gradient vector the parameters' length (docs/pytrees.md, ravel)."""
    import scipy.optimize
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    w_true, b_true = np.array([1.0, -2.0, 0.5]), 0.3
    y = X @ w_true + b_true
    params = {"w": np.zeros(3), "b": 0.0, "n_features": 3}
    grad_loss = s2sad.grad(regression_loss)
    x0, unravel = s2sad.tree.ravel(params)
    res = scipy.optimize.minimize(lambda v: regression_loss(unravel(v), X, y), x0,
                                  jac=lambda v: s2sad.tree.ravel(grad_loss(unravel(v), X, y))[0], method="BFGS")
    assert res.success
    fitted = unravel(res.x)
    assert np.allclose(fitted["w"], w_true, atol=1e-5) and fitted["n_features"] == 3


def regression_loss(p, X, y):
    r = X @ p["w"][: p["n_features"]] + p["b"] - y
    return 0.5 * np.mean(r ** 2)


def lookup_table(x, table, key):
    return table[key] * x * x


def test_a_constant_container_indexed_at_run_time_is_read_as_before():
    """A dict that is not differentiated and that scalar replacement refuses (a run-time key)
    is passed as a value, as before pytrees; differentiated, the same is refused."""
    for optimize in OPT:
        assert s2sad.grad(lookup_table, optimize=optimize)(2.0, {"a": 3.0, "b": 1.0}, "a") == 12.0
        assert s2sad.grad(lookup_table, optimize=optimize)(2.0, {"a": 3.0, "b": 1.0}, "b") == 4.0
    with pytest.raises(UnsupportedSyntaxError):
        s2sad.grad(lookup_table, argnums=1)(2.0, {"a": 3.0, "b": 1.0}, "a")
    assert s2sad.jacfwd(lookup_table)(2.0, {"a": 3.0, "b": 1.0}, "a") == 12.0
    assert s2sad.hessian(lookup_table)(2.0, {"a": 3.0, "b": 1.0}, "b") == 2.0


# --- tests decided by a container's structure: `"k" in p`, `if p:`, `bool(p)`, `not p`, len(p) ---

def optional_keys(p, x):
    y = x * p["a"]
    if "b" in p:                        # a key this structure may not have: only the branch taken is read
        y = y + np.sin(p["b"]) * x
    if "c" not in p:
        y = y * 2.0
    return np.sum(y ** 2) + ("a" in p) * np.sum(x)


def truthiness(p, extra, x):
    if not extra:
        return np.sum(x * p["a"])
    y = x * p["a"] if bool(extra) else x
    for _ in range(len(p)):
        y = np.tanh(y)
    return np.sum(y * extra[0]) if extra else 0.0


def dc_truth(m, x):
    return np.sum(m.W @ x) if m else 0.0


@pytest.mark.parametrize("optimize", OPT)
def test_structure_decided_tests_fold_to_constants(optimize):
    x = rng_array(3, seed=1)
    for p in ({"a": rng_array(3, seed=2)}, {"a": rng_array(3, seed=2), "b": rng_array(3, seed=3)},
              {"a": 1.5, "b": 0.5, "c": 2}):
        check_tree_grad(optional_keys, (p, x), argnums=(0, 1), optimize=optimize)
    p = {"a": rng_array(3, seed=2), "b": 0.5}
    for extra in ([], [rng_array(3, seed=4)], (rng_array(3, seed=4), 1.0)):
        check_tree_grad(truthiness, (p, extra, x), argnums=(0, 2), optimize=optimize)
    check_tree_grad(dc_truth, (Layer(rng_array(2, 3, seed=5), rng_array(2, seed=6)), x), optimize=optimize)


def test_structure_decided_tests_leave_no_dead_code_and_work_in_forward_mode():
    p, x = {"a": rng_array(3, seed=2)}, rng_array(3, seed=1)
    g = s2sad.grad(optional_keys)
    g(p, x)
    src = s2sad.source(g)
    assert "if " not in src and "'b'" not in src and "True" not in src, src
    tp, tx = {"a": rng_array(3, seed=7)}, rng_array(3, seed=8)
    _, dot = s2sad.jvp(optional_keys, (p, x), (tp, tx))
    eps = 1e-6
    fd = (optional_keys({"a": p["a"] + eps * tp["a"]}, x + eps * tx)
          - optional_keys({"a": p["a"] - eps * tp["a"]}, x - eps * tx)) / (2 * eps)
    assert np.isclose(dot, fd, rtol=1e-6)
    H = s2sad.hessian(optional_keys)(p, x)
    assert H["a"]["a"].shape == (3, 3)
    h = s2sad.hessian(truthiness, argnums=2)
    np.testing.assert_allclose(h({"a": rng_array(3, seed=2)}, [], x), np.zeros((3, 3)))


@dataclasses.dataclass
class Sized:
    W: np.ndarray

    def __len__(self):
        return 0


def bad_truth_of_a_sized_class(m, x):
    RAN.append(1)
    if m:
        return np.sum(m.W @ x)
    return 0.0


def test_truth_of_a_class_with_len_or_bool_is_refused():
    RAN.clear()
    with pytest.raises(UnsupportedSyntaxError) as err:
        s2sad.grad(bad_truth_of_a_sized_class)(Sized(np.ones((2, 3))), np.ones(3))
    assert f":{_line(bad_truth_of_a_sized_class, 'if m:')}:" in str(err.value) and "Sized" in str(err.value)
    assert "__len__" in str(err.value) and not RAN


# --- classes registered with flatten / unflatten functions: refused when differentiated (their
# attributes cannot be related to flatten's children), with a hint naming the class; read as
# values when constant -------------------------------------------------------------------------

@dataclasses.dataclass
class Scaled:
    w: np.ndarray
    scale: float


s2sad.register_pytree(Scaled, lambda s: ((s.w,), s.scale), lambda scale, kids: Scaled(kids[0], scale))


def scaled_loss(m, x):
    RAN.append(1)
    return np.sum(m.w * x) * m.scale


def interval_loss(x, iv):
    return (iv.hi - iv.lo) * x * x


def test_function_registered_classes_refused_with_the_class_named_and_read_as_constants():
    for fn, arg, cls, hint in ((interval_width, Interval(1.0, 3.0), "Interval", "fields=[...]"),
                               (scaled_loss, Scaled(np.ones(3), 2.0), "Scaled", "s2sad.register_pytree(Scaled)")):
        for run in (lambda: s2sad.grad(fn)(arg) if fn is interval_width else s2sad.grad(fn)(arg, np.ones(3)),
                    lambda: s2sad.jacfwd(fn)(arg) if fn is interval_width else s2sad.jacrev(fn)(arg, np.ones(3)),
                    lambda: s2sad.vjp(fn, arg) if fn is interval_width else s2sad.vjp(fn, arg, np.ones(3))):
            RAN.clear()
            with pytest.raises(UnsupportedSyntaxError) as err:
                run()
            msg = str(err.value)
            assert f":{_line(fn, 'def ')}:" in msg and cls in msg and "flatten/unflatten" in msg, msg
            assert hint in msg and not RAN, msg
    for optimize in OPT:                # not differentiated: a value, as before pytrees
        assert s2sad.grad(interval_loss, optimize=optimize)(1.5, Interval(1.0, 3.0)) == 2 * 2.0 * 1.5
    assert s2sad.hessian(interval_loss)(1.5, Interval(1.0, 3.0)) == 4.0
