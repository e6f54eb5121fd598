"""Gaussian-mixture maximum likelihood with s2sad, checked against EM (seed lecture 000).

X_i ~ π N(μ1, σ1²) + (1 − π) N(μ2, σ2²) with all five parameters unknown.  The parameters
are unconstrained in θ = (logit π, μ1, μ2, log σ1, log σ2); we minimise the mean negative
log-likelihood with gradient descent (s2sad.grad) and finish with Newton steps
(s2sad.hessian), then compare with the expectation-maximisation fixed point.

    python examples/mixture_mle.py [--small]
"""
import numpy as np

from _common import compare, figure, finish, options, s2sad


def normal_pdf(x, mu, sigma):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def neg_log_likelihood(theta, X):
    pi = 1.0 / (1.0 + np.exp(-theta[0]))
    p1 = normal_pdf(X, theta[1], np.exp(theta[3]))
    p2 = normal_pdf(X, theta[2], np.exp(theta[4]))
    return -np.mean(np.log(pi * p1 + (1.0 - pi) * p2))


def em(X, pi, mu1, mu2, s1, s2, iterations):
    """The textbook EM iteration, the independent answer."""
    for _ in range(iterations):
        a = pi * normal_pdf(X, mu1, s1)
        b = (1 - pi) * normal_pdf(X, mu2, s2)
        r = a / (a + b)                                  # responsibilities of component 1
        pi = np.mean(r)
        mu1, mu2 = np.sum(r * X) / np.sum(r), np.sum((1 - r) * X) / np.sum(1 - r)
        s1 = np.sqrt(np.sum(r * (X - mu1) ** 2) / np.sum(r))
        s2 = np.sqrt(np.sum((1 - r) * (X - mu2) ** 2) / np.sum(1 - r))
    return pi, mu1, mu2, s1, s2


def main():
    args = options(__doc__)
    rng = np.random.default_rng(1)
    n = 400 if args.small else 5000
    first = rng.random(n) < 0.3
    X = np.where(first, rng.normal(-2.0, 0.7, n), rng.normal(2.0, 1.0, n))

    theta = np.array([0.0, -1.0, 1.0, 0.0, 0.0])     # π = ½, μ = ∓1, σ = 1
    dnll = s2sad.grad(neg_log_likelihood)
    hnll = s2sad.hessian(neg_log_likelihood)
    losses = []
    for _ in range(300):                              # gradient descent ...
        losses.append(neg_log_likelihood(theta, X))
        theta = theta - 0.5 * dnll(theta, X)
    for _ in range(8):                                # ... then Newton steps
        losses.append(neg_log_likelihood(theta, X))
        theta = theta - np.linalg.solve(hnll(theta, X), dnll(theta, X))
    print(s2sad.source(dnll))

    pi, mu1, mu2, s1, s2 = em(X, 0.5, -1.0, 1.0, 1.0, 1.0, iterations=2000)
    fitted = (1 / (1 + np.exp(-theta[0])), theta[1], theta[2], np.exp(theta[3]), np.exp(theta[4]))
    compare("(π, μ1, μ2, σ1, σ2): gradient descent + Newton vs EM", fitted, (pi, mu1, mu2, s1, s2),
            rtol=1e-6)
    compare("gradient at the optimum", dnll(theta, X), np.zeros(5), atol=1e-10)

    with figure(args, "mixture_mle", ncols=2, figsize=(10, 4)) as (fig, ax):
        if fig:
            grid = np.linspace(X.min(), X.max(), 300)
            ax[0].hist(X, bins=50, density=True, alpha=0.4, label="data")
            ax[0].plot(grid, fitted[0] * normal_pdf(grid, fitted[1], fitted[3])
                       + (1 - fitted[0]) * normal_pdf(grid, fitted[2], fitted[4]), label="s2sad MLE")
            ax[0].plot(grid, pi * normal_pdf(grid, mu1, s1) + (1 - pi) * normal_pdf(grid, mu2, s2),
                       "--", label="EM")
            ax[0].legend()
            ax[0].set_title("Gaussian mixture fit")
            ax[1].semilogy(np.array(losses) - min(losses) + 1e-16)
            ax[1].set_xlabel("iteration (gradient descent, then Newton)")
            ax[1].set_ylabel("mean NLL − final")
    finish()


if __name__ == "__main__":
    main()
