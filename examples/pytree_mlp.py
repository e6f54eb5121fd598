"""A small MLP classifier whose parameters are a dict, trained with s2sad.value_and_grad.

The gradient of a function of a dict is a dict with the same keys, shapes and dtypes (as in
JAX). s2sad specialises the derivative on the dict's structure, so the generated code reads the
leaves once at the top and builds the gradient dict once at the end, like hand-written
backprop -- which this example also writes, and checks s2sad against, step by step.

    python examples/pytree_mlp.py [--small]
"""
import numpy as np

from _common import compare, figure, finish, options, s2sad


def loss(params, X, Y):
    """Softmax cross-entropy of a one-hidden-layer tanh network."""
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    z = logits - np.max(logits, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_p, axis=1))


def backprop(params, X, Y):
    """The same loss and its gradient, by hand."""
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    z = logits - np.max(logits, axis=1, keepdims=True)
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    value = -np.mean(np.sum(Y * np.log(p), axis=1))
    d_logits = (p - Y) / len(X)
    d_h = d_logits @ params["W2"].T * (1.0 - h * h)
    return value, {"W1": X.T @ d_h, "b1": d_h.sum(axis=0), "W2": h.T @ d_logits, "b2": d_logits.sum(axis=0)}


def main():
    args = options(__doc__)
    # three Gaussian blobs in 2-d, one class each
    rng = np.random.default_rng(0)
    n = 60 if args.small else 300
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    labels = rng.integers(0, 3, n)
    X = centres[labels] + 0.7 * rng.standard_normal((n, 2))
    Y = np.eye(3)[labels]
    params = {"W1": 0.5 * rng.standard_normal((2, 16)), "b1": np.zeros(16),
              "W2": 0.5 * rng.standard_normal((16, 3)), "b2": np.zeros(3)}

    value_and_grad = s2sad.value_and_grad(loss)
    value, g = value_and_grad(params, X, Y)            # g is a dict like params
    hand_value, hand_g = backprop(params, X, Y)
    compare("loss at the start", value, hand_value)
    for key in params:
        compare(f"gradient['{key}'] vs hand-written backprop", g[key], hand_g[key])
    print(s2sad.source(value_and_grad))                 # the code that computed g

    steps = 30 if args.small else 200
    ours, theirs, losses = params, params, []
    for _ in range(steps):
        value, g = value_and_grad(ours, X, Y)
        ours = s2sad.tree.map(lambda p, d: p - 0.5 * d, ours, g)
        theirs = s2sad.tree.map(lambda p, d: p - 0.5 * d, theirs, backprop(theirs, X, Y)[1])
        losses.append(value)
    for key in params:
        compare(f"after {steps} SGD steps: params['{key}'] vs hand-trained", ours[key], theirs[key],
                rtol=1e-8, atol=1e-12)
    hidden = np.tanh(X @ ours["W1"] + ours["b1"])
    accuracy = np.mean(np.argmax(hidden @ ours["W2"] + ours["b2"], axis=1) == labels)
    print(f"       loss {losses[0]:.4f} -> {losses[-1]:.4f}, training accuracy {accuracy:.1%}")

    with figure(args, "pytree_mlp") as (fig, ax):
        if ax is not None:
            ax.plot(losses)
            ax.set_xlabel("SGD step")
            ax.set_ylabel("cross-entropy")
            ax.set_title("MLP with dict parameters, trained with s2sad.value_and_grad")
    finish()


if __name__ == "__main__":
    main()
