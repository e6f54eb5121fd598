"""Ridge regression as a MAP estimate, with s2sad (seed lecture 000).

y | β ~ N(Xβ, I) and β ~ N(0, λ⁻¹ I): the negative log-posterior is
½‖y − Xβ‖² + ½λ‖β‖², whose minimiser is (XᵀX + λI)⁻¹ Xᵀy.  Gradient descent (s2sad.grad)
approaches it; one Newton step with s2sad.hessian lands on it exactly (the objective is
quadratic).

    python examples/ridge_map.py [--small]
"""
import numpy as np

from _common import compare, figure, finish, options, s2sad


def neg_log_posterior(beta, X, y, lam):
    residual = y - X @ beta
    return 0.5 * np.sum(residual ** 2) + 0.5 * lam * np.sum(beta ** 2)


def main():
    args = options(__doc__)
    rng = np.random.default_rng(2)
    n, p, lam = (50, 5, 2.0) if args.small else (2000, 50, 2.0)
    X = rng.normal(size=(n, p))
    y = X @ rng.normal(size=p) + rng.normal(size=n)
    closed_form = np.linalg.solve(X.T @ X + lam * np.eye(p), X.T @ y)

    dpost = s2sad.grad(neg_log_posterior)
    beta = np.zeros(p)
    step = 1.0 / (np.linalg.norm(X, 2) ** 2 + lam)     # 1 / Lipschitz constant of the gradient
    errors = []
    for _ in range(500):
        errors.append(np.linalg.norm(beta - closed_form))
        beta = beta - step * dpost(beta, X, y, lam)
    print(s2sad.source(dpost))
    compare("gradient descent vs (XᵀX + λI)⁻¹Xᵀy", beta, closed_form, rtol=1e-6, atol=1e-8)

    # Newton: β1 = β0 − H⁻¹ ∇f(β0), from anywhere, in one step
    beta0 = rng.normal(size=p)
    H = s2sad.hessian(neg_log_posterior)(beta0, X, y, lam)
    compare("hessian vs XᵀX + λI", H, X.T @ X + lam * np.eye(p), rtol=1e-12, atol=1e-12)
    newton = beta0 - np.linalg.solve(H, dpost(beta0, X, y, lam))
    compare("one Newton step vs closed form", newton, closed_form, rtol=1e-10, atol=1e-12)

    with figure(args, "ridge_map", figsize=(6, 4)) as (fig, ax):
        if fig:
            ax.semilogy(errors, label="gradient descent")
            ax.axhline(max(np.linalg.norm(newton - closed_form), 1e-16), color="C1", ls="--",
                       label="one Newton step (s2sad.hessian)")
            ax.set_xlabel("step")
            ax.set_ylabel("‖β − β_MAP‖")
            ax.set_title("Ridge MAP")
            ax.legend()
    finish()


if __name__ == "__main__":
    main()
