"""s2sad in two minutes: derivatives of Python functions, as readable Python source.

    python examples/quickstart.py
"""
import sys
from pathlib import Path

import numpy as np

try:
    import s2sad
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import s2sad


# 1. A polynomial of three variables -----------------------------------------

def f(x1, x2, x3):
    return 3 * (x1 ** 2 + x2 * x3)


df = s2sad.grad(f, argnums=(0, 1, 2))
gradient = df(2.0, 3.0, 4.0)
print(s2sad.source(df))                         # the code that just ran
by_hand = (6 * 2.0, 3 * 4.0, 3 * 3.0)          # (6 x1, 3 x3, 3 x2)
print("grad f(2, 3, 4) =", gradient, " by hand:", by_hand)
np.testing.assert_allclose(gradient, by_hand)


# 2. sum(M x) - 2 log(sum(exp(x))) -----------------------------------------------

rng = np.random.default_rng(0)
M = rng.normal(size=(10, 100))


def loss(x):
    return np.sum(M @ x) - 2 * np.log(np.sum(np.exp(x)))


def loss_grad_by_hand(x):
    e = np.exp(x)
    return M.sum(axis=0) - 2 * e / e.sum()     # column sums minus twice the softmax


x = rng.normal(size=100)
dloss = s2sad.grad(loss)
dloss(x)
print(s2sad.source(dloss))
value, gradient = s2sad.value_and_grad(loss)(x)
print(f"loss(x) = {value:.6f}, first gradient entries: {gradient[:3]}")
np.testing.assert_allclose(value, loss(x))
np.testing.assert_allclose(dloss(x), loss_grad_by_hand(x), rtol=1e-12, atol=1e-12)
np.testing.assert_allclose(gradient, loss_grad_by_hand(x), rtol=1e-12, atol=1e-12)

print("ok")
