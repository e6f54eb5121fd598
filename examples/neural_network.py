"""xy + e^{xy}, then a small neural-network classifier trained with s2sad, compared with
PyTorch when it is installed (seed lecture 004).

The network: 2 inputs → H tanh units → 1 logit, logistic loss, full-batch gradient descent
on two interleaved half-moons.  Every weight is its own argument (W1, b1, W2, b2) and
``s2sad.grad(loss, argnums=(0, 1, 2, 3))`` returns the four gradients.  With PyTorch
installed, the same network from the same initial weights is trained with torch.autograd in
float64: the loss curves must agree to rounding; time per epoch is printed for both.

    python examples/neural_network.py [--small]
"""
import math
import time

import numpy as np

from _common import compare, figure, finish, options, s2sad


def xy_exp(x, y):
    return x * y + np.exp(x * y)


def loss(W1, b1, W2, b2, X, y):
    hidden = np.tanh(X @ W1 + b1)
    logits = hidden @ W2 + b2
    return np.mean(np.logaddexp(0.0, -y * logits))


def predict(W1, b1, W2, b2, X):
    return np.where(np.tanh(X @ W1 + b1) @ W2 + b2 > 0, 1.0, -1.0)


def moons(n, rng):
    """Two interleaved half circles with noise; labels ±1."""
    t = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    X = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return X + 0.1 * rng.normal(size=X.shape), np.where(upper, 1.0, -1.0)


def directional_fd(f, params, direction, h=1e-6):
    plus = [p + h * d for p, d in zip(params, direction)]
    minus = [p - h * d for p, d in zip(params, direction)]
    return (f(*plus) - f(*minus)) / (2 * h)


def train_torch(params, X, y, lr, epochs):
    import torch
    W1, b1, W2, b2 = (torch.tensor(np.asarray(p, dtype=np.float64), requires_grad=True) for p in params)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    losses, t0 = [], time.perf_counter()
    for _ in range(epochs):
        logits = torch.tanh(Xt @ W1 + b1) @ W2 + b2
        value = torch.nn.functional.softplus(-yt * logits).mean()
        losses.append(value.item())
        for p in (W1, b1, W2, b2):
            p.grad = None
        value.backward()
        with torch.no_grad():
            for p in (W1, b1, W2, b2):
                p -= lr * p.grad
    return losses, (time.perf_counter() - t0) / epochs


def main():
    args = options(__doc__)
    gx, gy = s2sad.grad(xy_exp, argnums=(0, 1))(1.0, 2.0)
    compare("∇(xy + e^{xy}) at (1, 2) vs (2 + 2e², 1 + e²)", (gx, gy),
            (2 + 2 * math.exp(2), 1 + math.exp(2)), rtol=1e-14)

    rng = np.random.default_rng(0)
    n, hidden, epochs, lr = (200, 8, 300, 0.5) if args.small else (1000, 16, 3000, 0.5)
    X, y = moons(n, rng)
    params = [rng.normal(size=(2, hidden)), np.zeros(hidden), rng.normal(size=hidden) / np.sqrt(hidden), 0.0]
    dloss = s2sad.grad(loss, argnums=(0, 1, 2, 3))

    grads = dloss(*params, X, y)
    direction = [rng.normal(size=np.shape(p)) for p in params]
    direction[3] = float(direction[3])
    compare("⟨∇loss, d⟩ vs finite differences at the initial weights",
            sum(float(np.sum(g * d)) for g, d in zip(grads, direction)),
            directional_fd(lambda *p: loss(*p, X, y), params, direction), rtol=1e-6)
    print(s2sad.source(dloss))

    initial = [np.copy(p) for p in params]
    losses, t0 = [], time.perf_counter()
    for _ in range(epochs):
        losses.append(loss(*params, X, y))
        grads = dloss(*params, X, y)
        params = [p - lr * g for p, g in zip(params, grads)]
    per_epoch = (time.perf_counter() - t0) / epochs
    accuracy = float(np.mean(predict(*params, X) == y))
    print(f"       s2sad:   loss {losses[0]:.4f} -> {losses[-1]:.4f}, training accuracy {accuracy:.1%}, "
          f"{per_epoch * 1e6:.0f} µs per epoch (loss and gradient)")
    compare("training lowered the loss", float(losses[-1] < 0.5 * losses[0]), 1.0)

    torch_losses = None
    try:
        import torch  # noqa: F401
    except ImportError:
        print("       PyTorch is not installed: no comparison (pip install torch)")
    else:
        torch_losses, torch_epoch = train_torch(initial, X, y, lr, epochs)
        print(f"       PyTorch: loss {torch_losses[0]:.4f} -> {torch_losses[-1]:.4f}, "
              f"{torch_epoch * 1e6:.0f} µs per epoch")
        compare("loss curve vs PyTorch (same weights, float64)", losses, torch_losses, rtol=1e-8)

    with figure(args, "neural_network", ncols=2, figsize=(10, 4)) as (fig, ax):
        if fig:
            ax[0].plot(losses, label="s2sad")
            if torch_losses is not None:
                ax[0].plot(torch_losses, "--", label="PyTorch")
            ax[0].set_xlabel("epoch")
            ax[0].set_ylabel("mean logistic loss")
            ax[0].legend()
            g0, g1 = np.meshgrid(np.linspace(-1.5, 2.5, 200), np.linspace(-1, 1.5, 200))
            grid = np.c_[g0.ravel(), g1.ravel()]
            ax[1].contourf(g0, g1, predict(*params, grid).reshape(g0.shape), alpha=0.3, cmap="coolwarm")
            ax[1].scatter(X[:, 0], X[:, 1], c=y, s=8, cmap="coolwarm")
            ax[1].set_title(f"decision regions, accuracy {accuracy:.1%}")
    finish()


if __name__ == "__main__":
    main()
