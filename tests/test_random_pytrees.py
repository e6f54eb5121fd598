"""Random programs that pass containers through helpers (issue 8): each seed writes a module with
a few helpers taking and returning dicts / lists / tuples of arrays (items read with constant keys,
loops over the containers, dict comprehensions, updates with `{**p, k: v}`) and a loss of a
nested pytree; grad (optimized and not) must match central finite differences on every leaf, and
vjp / jvp must agree with grad."""
from __future__ import annotations

import random

import numpy as np
import pytest

import s2sad
from util import load_function
from test_pytrees import check_tree_grad

UNARY = ["np.tanh({})", "np.sin({})", "({}) * 0.5", "({}) ** 2", "np.exp(-({}) ** 2)"]


def _program(seed: int) -> str:
    r = random.Random(seed)
    keys = r.sample(["w", "b", "u", "v", "z"], 3)
    lines = ["import numpy as np", ""]
    # helper 1: a dict to a dict, by a comprehension or by item updates
    if r.random() < 0.5:
        lines += ["def h1(p, c):", f"    return {{k: {r.choice(UNARY).format('v')} * c for k, v in p.items()}}", ""]
    else:
        k = r.choice(keys)
        lines += ["def h1(p, c):", "    q = dict(p)", f"    q[{k!r}] = {r.choice(UNARY).format(f'p[{k!r}]')} + c",
                  f"    return {{**q, {k!r}: q[{k!r}] * 2.0}}", ""]
    # helper 2: a dict and a list of layers to a scalar
    lines += ["def h2(p, layers, x):", "    s = 0.0", "    h = x"]
    if r.random() < 0.5:
        lines += ["    for W, b in layers:", "        h = np.tanh(h @ W + b)"]
    else:
        lines += ["    for i in range(len(layers)):", "        h = np.tanh(h @ layers[i][0] + layers[i][1])"]
    lines += ["    for k in p:", f"        s = s + np.sum({r.choice(UNARY).format('p[k]')})",
              "    return s + np.sum(h ** 2)", ""]
    # the loss
    lines += ["def f(tree, x):", "    p = h1(tree['p'], tree['c'])"]
    if r.random() < 0.5:
        lines += ["    if x[0] > 0:", "        p = h1(p, 0.5)", "    else:",
                  f"        p = {{**p, {keys[0]!r}: p[{keys[0]!r}] - 1.0}}"]
    lines += ["    layers = tree['layers']", "    return h2(p, layers, x) + tree['c'] * len(layers)", ""]
    return "\n".join(lines)


def _tree(seed: int):
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    keys = r.sample(["w", "b", "u", "v", "z"], 3)
    sizes = [3] + [rng.integers(2, 4) for _ in range(rng.integers(1, 3))]
    layers = [(0.5 * rng.standard_normal((a, b)), 0.1 * rng.standard_normal(b)) for a, b in zip(sizes[:-1], sizes[1:])]
    return {"p": {k: rng.standard_normal(rng.integers(1, 4)) for k in keys}, "c": float(rng.uniform(0.5, 1.5)),
            "layers": layers, "n": 2}


@pytest.mark.parametrize("seed", range(12))
def test_random_container_programs(seed, tmp_path):
    f = load_function(_program(seed), tmp_path, f"pytree_random_{seed}")
    tree = _tree(seed)
    x = np.random.default_rng(seed + 100).standard_normal(3)
    for optimize in (True, False):
        g = check_tree_grad(f, (tree, x), optimize=optimize, rtol=1e-4, atol=1e-6)
    out, f_vjp = s2sad.vjp(f, tree, x)
    gt, gx = f_vjp(1.0)
    for a, b in zip(s2sad.tree.leaves(gt), s2sad.tree.leaves(g)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    t = s2sad.tree.map(lambda v: np.ones_like(v) if isinstance(v, np.ndarray) else (0 if isinstance(v, int) else 1.0), tree)
    _, dot = s2sad.jvp(f, (tree, x), (t, np.zeros(3)))
    want = sum(np.sum(a * b) for a, b in zip(s2sad.tree.leaves(g), s2sad.tree.leaves(t)))
    assert np.isclose(dot, want, rtol=1e-8, atol=1e-10)
