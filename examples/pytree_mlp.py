"""A small MLP classifier whose parameters are a dict, trained with s2sad.grad.

    python examples/pytree_mlp.py

The gradient of a function of a dict is a dict with the same keys, shapes and dtypes (as in JAX);
s2sad specialises the derivative on the dict's structure, so the generated code reads the leaves
once at the top and builds the gradient dict once at the end, like hand-written backprop.
"""
import sys
from pathlib import Path

import numpy as np

try:
    import s2sad
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import s2sad


def loss(params, X, Y):
    """Softmax cross-entropy of a one-hidden-layer tanh network."""
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    z = logits - np.max(logits, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_p, axis=1))


# Three Gaussian blobs in 2-d, one class each.
rng = np.random.default_rng(0)
centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
labels = rng.integers(0, 3, 300)
X = centres[labels] + 0.7 * rng.standard_normal((300, 2))
Y = np.eye(3)[labels]

params = {"W1": 0.5 * rng.standard_normal((2, 16)), "b1": np.zeros(16),
          "W2": 0.5 * rng.standard_normal((16, 3)), "b2": np.zeros(3)}

value_and_grad = s2sad.value_and_grad(loss)
for step in range(201):
    value, g = value_and_grad(params, X, Y)          # g is a dict like params
    params = s2sad.tree.map(lambda p, d: p - 0.5 * d, params, g)
    if step % 25 == 0:
        print(f"step {step:3d}  loss {value:.4f}")

accuracy = np.mean(np.argmax(np.tanh(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"], axis=1)
                   == labels)
print(f"training accuracy {accuracy:.1%}\n")
print(s2sad.source(value_and_grad))                   # the code that computed g
