"""Finite differences fail as ε shrinks; s2sad's derivative has no ε (seed lectures 001, 002).

Three functions from the lectures: x³ + 4x² − 10, sin(1000x) (FD with ε = 10⁻² is wrong
everywhere), and ∂/∂x1 of 3(x1² + x2·x3) at (2, 3, 4) with the bump given in % of x1.  The
error of the forward difference (f(x+ε) − f(x))/ε first falls with ε (truncation, O(ε)) and
then rises again (round-off, O(1/ε)); s2sad's error stays at rounding level.

    python examples/fd_error.py [--small]
"""
import numpy as np

from _common import compare, figure, finish, options, s2sad


def cubic(x):
    return x ** 3 + 4 * x ** 2 - 10


def fast_sine(x):
    return np.sin(1000 * x)


def poly3(x1, x2, x3):
    return 3 * (x1 ** 2 + x2 * x3)


def forward_difference(f, x, eps):
    return (f(x + eps) - f(x)) / eps


def main():
    args = options(__doc__)
    xs = np.linspace(-5, 5, 10)
    compare("cubic' by s2sad vs 3x² + 8x", derivative_on_grid(cubic, xs), 3 * xs ** 2 + 8 * xs, rtol=1e-14)

    x = np.linspace(-0.5, 0.5, 50 if args.small else 500)
    exact = 1000 * np.cos(1000 * x)
    d_sine = derivative_on_grid(fast_sine, x)
    compare("sin(1000x)' by s2sad vs 1000 cos(1000x)", d_sine, exact, rtol=1e-12, atol=1e-9)
    for eps in (1e-2, 1e-5):
        err = np.max(np.abs(forward_difference(fast_sine, x, eps) - exact))
        print(f"       forward difference of sin(1000x), ε = {eps:.0e}: max error {err:.3g}")

    epsilons = np.logspace(-15, -1, 29 if args.small else 57)
    x0 = 1.3
    fd_err = [abs(forward_difference(cubic, x0, e) - (3 * x0 ** 2 + 8 * x0)) for e in epsilons]
    ad_err = abs(s2sad.grad(cubic)(x0) - (3 * x0 ** 2 + 8 * x0))
    best = epsilons[int(np.argmin(fd_err))]
    print(f"       cubic at x = {x0}: best forward-difference ε = {best:.1e}, "
          f"error {min(fd_err):.2e}; s2sad error {ad_err:.2e}")
    compare("s2sad beats the best ε", float(ad_err <= min(fd_err)), 1.0)

    # seed 002: ∂f/∂x1 at (2, 3, 4) = 12, bump in % of x1
    bumps = np.logspace(-14, 0, 29 if args.small else 57)
    d1 = s2sad.grad(poly3)(2.0, 3.0, 4.0)
    compare("∂/∂x1 3(x1² + x2·x3) at (2, 3, 4)", d1, 12.0, rtol=1e-15)
    bump_err = [abs((poly3(2.0 * (1 + b / 100), 3.0, 4.0) - poly3(2.0, 3.0, 4.0)) / (2.0 * b / 100) - 12.0)
                for b in bumps]

    with figure(args, "fd_error", ncols=2, figsize=(10, 4)) as (fig, ax):
        if fig:
            ax[0].loglog(epsilons, fd_err, "o-", markersize=3, label="forward difference")
            ax[0].axhline(max(ad_err, 1e-17), color="C1", ls="--", label="s2sad (no ε)")
            ax[0].set_xlabel("ε")
            ax[0].set_ylabel(f"|error| of f'({x0}), f = x³ + 4x² − 10")
            ax[0].legend()
            ax[1].loglog(bumps, np.maximum(bump_err, 1e-17), "o-", markersize=3, label="forward difference")
            ax[1].axhline(max(abs(d1 - 12.0), 1e-17), color="C1", ls="--", label="s2sad")
            ax[1].set_xlabel("bump, % of x1")
            ax[1].set_ylabel("|error| of ∂f/∂x1, f = 3(x1² + x2·x3)")
            ax[1].legend()
    with figure(args, "fd_sine", figsize=(6, 4)) as (fig, ax):
        if fig:
            ax.plot(x, exact, "o-", markersize=3, label="s2sad = 1000 cos(1000x)")
            ax.plot(x, forward_difference(fast_sine, x, 1e-2), "o-", markersize=3, alpha=0.6,
                    label="FD, ε = 1e-2")
            ax.plot(x, forward_difference(fast_sine, x, 1e-5), "o-", markersize=3, alpha=0.6,
                    label="FD, ε = 1e-5")
            ax.set_title("d/dx sin(1000x)")
            ax.legend()
    finish()


def derivative_on_grid(f, xs):
    """f'(x) at every point of ``xs`` for an elementwise f: one forward-mode sweep with
    tangent 1 everywhere (``grad`` needs a scalar output)."""
    return s2sad.jvp(f, (xs,), (np.ones_like(xs),))[1]


if __name__ == "__main__":
    main()
