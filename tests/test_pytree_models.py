"""Issue 8's done-when models: a dict MLP classifier, a list-of-layers network and a dataclass
model, each trained a few SGD steps with s2sad.grad and with hand-written backprop; the
parameters must agree to 1e-10 (optimized and unoptimized derivatives)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import s2sad

OPT = [True, False]
STEPS, LR = 5, 0.1


def close_trees(a, b, tol=1e-10):
    assert s2sad.tree.structure(a) == s2sad.tree.structure(b)
    for x, y in zip(s2sad.tree.leaves(a), s2sad.tree.leaves(b)):
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


def sgd(grad_fn, params, *args):
    for _ in range(STEPS):
        g = grad_fn(params, *args)
        params = s2sad.tree.map(lambda p, d: p - LR * d, params, g)
    return params


# --- 1. an MLP classifier with params = {"W1", "b1", "W2", "b2"} ------------------------------------

def mlp_loss(params, X, Y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * (z - lse), axis=1))


def mlp_backprop(params, X, Y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    dlogits = (e / e.sum(axis=1, keepdims=True) - Y) / X.shape[0]
    dh = dlogits @ params["W2"].T
    da = dh * (1 - h * h)
    return {"W1": X.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}


def classification_data(n=32, n_in=10, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in))
    return X, np.eye(n_out)[rng.integers(0, n_out, n)]


def init_mlp(n_in=10, n_hidden=32, n_out=3, seed=1):
    rng = np.random.default_rng(seed)
    return {"W1": rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in), "b1": np.zeros(n_hidden),
            "W2": rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden), "b2": np.zeros(n_out)}


@pytest.mark.parametrize("optimize", OPT)
def test_dict_mlp_trains_like_backprop(optimize):
    X, Y = classification_data()
    params = init_mlp()
    ours = sgd(s2sad.grad(mlp_loss, optimize=optimize), params, X, Y)
    hand = sgd(mlp_backprop, params, X, Y)
    close_trees(ours, hand)
    assert mlp_loss(ours, X, Y) < mlp_loss(params, X, Y)


# --- 2. a list-of-layers network ---------------------------------------------------------------------

def layers_loss(layers, X, Y):
    h = X
    for W, b in layers:
        h = np.tanh(h @ W + b)
    return np.mean((h - Y) ** 2)


def layers_backprop(layers, X, Y):
    hs = [X]
    for W, b in layers:
        hs.append(np.tanh(hs[-1] @ W + b))
    dh = 2 * (hs[-1] - Y) / Y.size
    grads = []
    for (W, b), h_in, h_out in zip(reversed(layers), reversed(hs[:-1]), reversed(hs[1:])):
        da = dh * (1 - h_out * h_out)
        grads.append((h_in.T @ da, da.sum(axis=0)))
        dh = da @ W.T
    return list(reversed(grads))


@pytest.mark.parametrize("optimize", OPT)
def test_list_of_layers_trains_like_backprop(optimize):
    rng = np.random.default_rng(2)
    sizes = [6, 8, 8, 2]
    layers = [(rng.standard_normal((a, b)) / np.sqrt(a), 0.1 * rng.standard_normal(b))
              for a, b in zip(sizes[:-1], sizes[1:])]
    X, Y = rng.standard_normal((16, 6)), rng.standard_normal((16, 2))
    ours = sgd(s2sad.grad(layers_loss, optimize=optimize), layers, X, Y)
    hand = sgd(layers_backprop, layers, X, Y)
    close_trees(ours, hand)
    assert isinstance(ours, list) and all(isinstance(l, tuple) for l in ours)


# --- 3. a dataclass model: grad with respect to self, and a bound method -------------------------------

@dataclasses.dataclass
class Linear:
    W: np.ndarray
    b: np.ndarray
    alpha: float = s2sad.tree.static(default=0.01)

    def predict(self, X):
        return X @ self.W + self.b

    def loss(self, X, Y):
        r = self.predict(X) - Y
        return np.mean(r ** 2) + self.alpha * np.sum(self.W ** 2)


def linear_backprop(model, X, Y):
    r = X @ model.W + model.b - Y
    dr = 2 * r / r.size
    return Linear(X.T @ dr + 2 * model.alpha * model.W, dr.sum(axis=0), model.alpha)


class Regressor:
    """A model object holding hyperparameters; its parameters are passed explicitly."""

    def __init__(self, reg):
        self.reg = reg

    def forward(self, params, X):
        return np.tanh(X @ params["W"] + params["b"])

    def loss(self, params, X, Y):
        return np.mean((self.forward(params, X) - Y) ** 2) + self.reg * np.sum(params["W"] ** 2)

    def backprop(self, params, X, Y):
        h = self.forward(params, X)
        da = 2 * (h - Y) / Y.size * (1 - h * h)
        return {"W": X.T @ da + 2 * self.reg * params["W"], "b": da.sum(axis=0)}


@pytest.mark.parametrize("optimize", OPT)
def test_dataclass_model_and_bound_method_train_like_backprop(optimize):
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((20, 4)), rng.standard_normal((20, 2))
    model = Linear(rng.standard_normal((4, 2)), np.zeros(2), 0.05)
    g = s2sad.grad(Linear.loss, optimize=optimize)(model, X, Y)
    assert type(g) is Linear and g.alpha == 0.05
    ours = sgd(s2sad.grad(Linear.loss, optimize=optimize), model, X, Y)
    hand = sgd(linear_backprop, model, X, Y)
    assert type(ours) is Linear
    close_trees(ours, hand)

    reg = Regressor(0.01)
    params = {"W": rng.standard_normal((4, 2)), "b": np.zeros(2)}
    g = s2sad.grad(reg.loss, optimize=optimize)
    close_trees(sgd(g, params, X, Y), sgd(reg.backprop, params, X, Y))
