"""Maximum likelihood for X_i ~ N(μ, 1) by gradient descent with s2sad (seed lecture 000).

The negative log-likelihood is ½ Σ (X_i − μ)²; its minimiser is the sample mean, which the
gradient descent below must reach.

    python examples/mle_gaussian.py [--small]
"""
import numpy as np

from _common import compare, figure, finish, options, s2sad


def neg_log_likelihood(mu, X):
    return 0.5 * np.sum((X - mu) ** 2)


def main():
    args = options(__doc__)
    rng = np.random.default_rng(0)
    X = rng.normal(loc=3.0, scale=1.0, size=100 if args.small else 10_000)
    dnll = s2sad.grad(neg_log_likelihood)
    dnll(0.0, X)                      # the first call writes the derivative
    print(s2sad.source(dnll))

    mu, step, path = 0.0, 0.5 / len(X), []
    for _ in range(60):
        path.append(mu)
        mu = mu - step * dnll(mu, X)
    compare("gradient at μ=0 vs closed form −Σ X_i", dnll(0.0, X), -np.sum(X))
    compare("MLE by gradient descent vs sample mean", mu, np.mean(X), rtol=1e-12)

    with figure(args, "mle_gaussian", figsize=(6, 4)) as (fig, ax):
        if fig:
            ax.semilogy(np.abs(np.array(path) - np.mean(X)), "o-", markersize=3)
            ax.set_xlabel("gradient descent step")
            ax.set_ylabel("|μ − mean(X)|")
            ax.set_title("Gaussian MLE: ½ Σ (X_i − μ)²")
    finish()


if __name__ == "__main__":
    main()
