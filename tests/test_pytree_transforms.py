"""Pytrees in jvp, vjp, jacfwd, jacrev and hessian (issue 8, steps 3 and 4): pytree primals,
tangents, cotangents and outputs; Jacobians nested as in JAX (the output's structure of the
input's structure, leaf shapes out.shape + in.shape), checked against finite differences."""
from __future__ import annotations

import dataclasses
import typing

import numpy as np
import pytest

import s2sad

OPT = [True, False]


def rng_array(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def model(p, x):
    h = np.tanh(x @ p["W"] + p["b"])
    return {"out": h, "norm": np.sum(h ** 2) * p["n"]}


def params():
    return {"W": rng_array(3, 2, seed=1), "b": rng_array(2, seed=2), "n": 2, "none": None}


def numeric_jvp(f, args, tangents, eps=1e-6):
    def at(s):
        moved = [s2sad.tree.map(lambda a, t: a + s * t if not isinstance(a, (int, np.integer)) or isinstance(a, bool)
                                else a, a, t) for a, t in zip(args, tangents)]
        return f(*moved)
    return s2sad.tree.map(lambda a, b: (np.asarray(a) - np.asarray(b)) / (2 * eps), at(eps), at(-eps))


def tangent_of(p, seed):
    rng = np.random.default_rng(seed)
    return s2sad.tree.map(lambda v: 0 if isinstance(v, int) else rng.standard_normal(np.shape(v)), p)


def close(a, b, tol=1e-6):
    assert s2sad.tree.structure(a) == s2sad.tree.structure(b), (a, b)
    for x, y in zip(s2sad.tree.leaves(a), s2sad.tree.leaves(b)):
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


@pytest.mark.parametrize("optimize", OPT)
def test_jvp_with_pytree_primals_tangents_and_outputs(optimize):
    p, x = params(), rng_array(4, 3, seed=3)
    tp, tx = tangent_of(p, 5), rng_array(4, 3, seed=6)
    out, dot = s2sad.jvp(model, (p, x), (tp, tx), optimize=optimize)
    close(out, model(p, x))
    close(dot, numeric_jvp(model, (p, x), (tp, tx)))


@pytest.mark.parametrize("optimize", OPT)
def test_vjp_with_pytree_cotangents(optimize):
    p, x = params(), rng_array(4, 3, seed=3)
    out, f_vjp = s2sad.vjp(model, p, x, optimize=optimize)
    close(out, model(p, x))
    ct = {"out": rng_array(4, 2, seed=7), "norm": 0.7}
    gp, gx = f_vjp(ct)
    assert gp["none"] is None and gp["n"] == 0.0
    # <ct, J t> == <J^T ct, t> for a random tangent
    tp, tx = tangent_of(p, 8), rng_array(4, 3, seed=9)
    jt = numeric_jvp(model, (p, x), (tp, tx))
    lhs = np.sum(ct["out"] * jt["out"]) + ct["norm"] * jt["norm"]
    rhs = np.sum(gp["W"] * tp["W"]) + np.sum(gp["b"] * tp["b"]) + np.sum(gx * tx)
    assert np.isclose(lhs, rhs, rtol=1e-6)
    with pytest.raises(s2sad.tree.TreeError):
        f_vjp({"out": ct["out"]})


def loss(p, x):
    return np.sum(np.tanh(x @ p["W"] + p["b"]) ** 2) * p["n"]


@pytest.mark.parametrize("jac", [s2sad.jacfwd, s2sad.jacrev])
def test_jacobians_of_pytree_inputs_and_outputs(jac):
    p, x = params(), rng_array(4, 3, seed=3)
    J = jac(model)(p, x)
    assert set(J) == {"out", "norm"} and set(J["out"]) == {"W", "b", "n", "none"}
    assert J["out"]["W"].shape == (4, 2, 3, 2) and J["norm"]["b"].shape == (2,)
    assert J["out"]["none"] is None and J["norm"]["n"] == 0.0
    for leaf in ("W", "b"):
        t = s2sad.tree.map(lambda v: np.zeros(np.shape(v)) if not isinstance(v, int) else 0, p)
        d = rng_array(*np.shape(p[leaf]), seed=11)
        t[leaf] = d
        num = numeric_jvp(model, (p, x), (t, np.zeros_like(x)))
        np.testing.assert_allclose(np.tensordot(J["out"][leaf], d, axes=d.ndim), num["out"], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(np.sum(J["norm"][leaf] * d), num["norm"], rtol=1e-6, atol=1e-8)
    Jx = jac(model, argnums=(0, 1))(p, x)
    assert Jx["out"][1].shape == (4, 2, 4, 3) and Jx["out"][0]["W"].shape == (4, 2, 3, 2)


def test_hessian_of_a_function_of_a_dict_nests_like_jax():
    p, x = params(), rng_array(4, 3, seed=3)
    H = s2sad.hessian(loss)(p, x)
    assert H["W"]["b"].shape == (3, 2, 2) and H["b"]["W"].shape == (2, 3, 2)
    g = s2sad.grad(loss)
    eps = 1e-6
    for k in ("W", "b"):
        d = rng_array(*np.shape(p[k]), seed=12)
        plus, minus = dict(p), dict(p)
        plus[k], minus[k] = p[k] + eps * d, p[k] - eps * d
        for k2 in ("W", "b"):
            num = (g(plus, x)[k2] - g(minus, x)[k2]) / (2 * eps)
            np.testing.assert_allclose(np.tensordot(H[k2][k], d, axes=d.ndim), num, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(H["W"]["b"], np.moveaxis(H["b"]["W"], 0, -1), rtol=1e-10, atol=1e-12)


@dataclasses.dataclass
class Lin:
    W: np.ndarray
    b: np.ndarray

    def loss(self, x):
        return np.sum((x @ self.W + self.b) ** 2)


class G(typing.NamedTuple):
    mu: np.ndarray
    s: float


def g_loss(g, x):
    return np.sum((x - g.mu) ** 2) * g.s


def test_hessian_of_dataclass_and_namedtuple_arguments():
    m = Lin(rng_array(3, 2, seed=1), rng_array(2, seed=2))
    x = rng_array(4, 3, seed=3)
    H = s2sad.hessian(Lin.loss)(m, x)
    assert type(H) is Lin and type(H.W) is Lin and H.W.b.shape == (3, 2, 2)
    np.testing.assert_allclose(H.b.b, 2 * 4 * np.eye(2))
    gg = G(rng_array(3, seed=4), 1.5)
    H = s2sad.hessian(g_loss)(gg, rng_array(3, seed=5))
    np.testing.assert_allclose(H.mu.mu, 2 * 1.5 * np.eye(3))
    assert np.isclose(H.s.s, 0.0)


@dataclasses.dataclass
class State:
    pos: np.ndarray
    vel: np.ndarray
    label: str = s2sad.tree.static(default="s")


def step(s, dt):
    acc = -np.sin(s.pos)
    s2 = State(s.pos + dt * s.vel, s.vel + dt * acc, label=s.label)
    return dataclasses.replace(s2, vel=s2.vel * 0.9)


def test_dataclasses_built_in_the_function_are_pytree_outputs():
    s0 = State(np.array([0.1, 0.2]), np.array([1.0, -1.0]), "s")
    out, dot = s2sad.jvp(step, (s0, 0.1), (State(np.ones(2), np.zeros(2), "s"), 0.0))
    assert type(out) is State and type(dot) is State and out.label == "s"
    want = step(s0, 0.1)
    np.testing.assert_allclose(out.pos, want.pos) and np.testing.assert_allclose(out.vel, want.vel)
    np.testing.assert_allclose(dot.pos, np.ones(2))
    np.testing.assert_allclose(dot.vel, -0.1 * np.cos(s0.pos) * 0.9)
    J = s2sad.jacrev(step)(s0, 0.1)
    assert type(J) is State and type(J.vel) is State and J.vel.pos.shape == (2, 2)
    np.testing.assert_allclose(J.vel.pos, np.diag(-0.1 * np.cos(s0.pos) * 0.9))


def rollout_loss(s, dt, n):
    for i in range(n):
        s = step(s, dt)
    return np.sum(s.pos ** 2) + np.sum(s.vel)


@pytest.mark.parametrize("optimize", OPT)
def test_grad_through_a_loop_rebuilding_a_dataclass(optimize):
    from test_pytrees import check_tree_grad
    s0 = State(np.array([0.1, 0.2]), np.array([1.0, -1.0]), "s")
    g = check_tree_grad(rollout_loss, (s0, 0.1, 4), optimize=optimize)
    assert type(g) is State
    check_tree_grad(rollout_loss, (s0, 0.1, 4), argnums=(0, 1), optimize=optimize)


# --- s2sad.source of pytree Jacobians, hessian and vjp: the user's signature, a prologue reading
# the leaves, the flat function's derivative, an epilogue building the result's structure -------

def test_source_of_a_pytree_jacfwd_shows_the_users_signature():
    p, x = params(), rng_array(4, 3, seed=3)
    J = s2sad.jacfwd(loss)
    J(p, x)
    src = s2sad.source(J)
    assert src.startswith("def jacfwd_loss(p, x):\n"), src
    for line in ("    W = p['W']\n", "    b = p['b']\n",
                 "    W_jac, b_jac = s2sad.jacfwd(loss_flat, argnums=(0, 1))(W, b, n, x)\n",
                 "    p_jac = {'W': W_jac, 'b': b_jac, 'n': np.zeros((), 'int64'), 'none': None}\n",
                 "    return p_jac\n", "def jacfwd_loss_flat(W, b, n, x, W_dot, b_dot):\n"):
        assert line in src, src


def test_source_of_a_pytree_jacrev_builds_the_outputs_structure():
    p, x = params(), rng_array(4, 3, seed=3)
    J = s2sad.jacrev(model)
    J(p, x)
    src = s2sad.source(J)
    assert src.startswith("def jacrev_model(p, x):\n"), src
    assert "    (norm_W_jac, norm_b_jac), (out_W_jac, out_b_jac) = s2sad.jacrev(model_flat, " \
           "argnums=(0, 1))(W, b, n, x)\n" in src, src
    assert "    jac = {\n        'norm': {'W': norm_W_jac, 'b': norm_b_jac, 'n': np.zeros((), 'int64'), " \
           "'none': None},\n        'out': {'W': out_W_jac, 'b': out_b_jac, 'n': np.zeros((4, 2), 'int64'), " \
           "'none': None},\n    }\n    return jac\n" in src, src
    assert max(len(line) for line in src.split("\n")[:12] if "= s2sad.jacrev" not in line) <= 100
    assert "def vjp_model_flat(W, b, n, x, *, y_bar):\n" in src


def test_source_of_a_pytree_hessian_and_a_plain_call_after_it():
    p, x = params(), rng_array(4, 3, seed=3)
    H = s2sad.hessian(loss)
    H(p, x)
    src = s2sad.source(H)
    assert src.startswith("def hessian_loss(p, x):\n"), src
    assert "    p_W = p['W']\n" in src and "s2sad.jacfwd(grad_loss_flat, argnums=(0, 1))(p_W, p_b, p_n, x)" in src
    assert "    return hess\n" in src and "def jacfwd_grad_loss_flat(" in src
    H({"W": p["W"], "b": p["b"], "n": 3}, x)        # another structure: its own source
    assert "'none'" not in s2sad.source(H)
    J = s2sad.jacfwd(lambda_free_sum)
    J(rng_array(3, seed=1))
    assert s2sad.source(J).startswith("def jacfwd_lambda_free_sum(x")


def lambda_free_sum(x):
    return np.sum(np.sin(x))


def test_source_of_a_pytree_vjp():
    p, x = params(), rng_array(4, 3, seed=3)
    out, f_vjp = s2sad.vjp(model, p, x)
    src = s2sad.source(f_vjp)
    assert src.startswith("def vjp_model(p, x, *, y_bar):\n"), src
    for line in ("    W = p['W']\n",
                 "    W_bar, b_bar, x_bar = vjp_model_flat(W, b, n, x, y_bar=(y_bar['norm'], y_bar['out']))\n",
                 "    p_bar = {'W': W_bar, 'b': b_bar, 'n': 0, 'none': None}\n", "    return p_bar, x_bar\n",
                 "def vjp_model_flat(W, b, n, x, *, y_bar):\n"):
        assert line in src, src
    _, f_plain = s2sad.vjp(lambda_free_sum, rng_array(3, seed=1))
    assert s2sad.source(f_plain).startswith("def vjp_lambda_free_sum(x, *, ")


def dict_with_none(p, x):
    h = np.tanh(x @ p["W"] + p["b"])
    return {"h": h, "nothing": None}


def test_none_in_a_built_dict_is_a_node_without_leaves():
    """As in flatten: `{"h": h, "nothing": None}` has one leaf, so H["none"] of a hessian (the
    gradient's dict holds None for a None argument leaf) is None, and a cotangent holds None."""
    p, x = params(), rng_array(4, 3, seed=3)
    H = s2sad.hessian(loss)(p, x)
    assert H["none"] is None and H["W"]["none"] is None and H["W"]["W"].shape == (3, 2, 3, 2)
    out, f_vjp = s2sad.vjp(dict_with_none, p, x)
    assert out["nothing"] is None
    assert s2sad.tree.structure(out) == s2sad.tree.structure({"h": 0.0, "nothing": None})
    ct = {"h": rng_array(4, 2, seed=9), "nothing": None}
    gp, gx = f_vjp(ct)
    want = s2sad.vjp(lambda_free_h, p, x)[1](ct["h"])
    close(gp, want[0])
    close(gx, want[1])
    J = s2sad.jacrev(dict_with_none)(p, x)
    assert J["nothing"] is None and J["h"]["W"].shape == (4, 2, 3, 2)


def lambda_free_h(p, x):
    return np.tanh(x @ p["W"] + p["b"])
