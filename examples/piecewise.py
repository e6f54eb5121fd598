"""A function symbolic differentiation cannot take: a branch on the value (seed lecture 001).

f(x) = x³ for x < 2, 3x for x ≥ 2 is differentiable everywhere except at 2; sympy raises
"cannot determine truth value of Relational" on it.  s2sad keeps the branch in the
derivative, so f'(x) = 3x² left of 2 and 3 right of it.

    python examples/piecewise.py [--small]
"""
import numpy as np

from _common import central_difference, compare, figure, finish, options, s2sad


def f(x):
    if x < 2:
        return x ** 3
    if x >= 2:
        return 3 * x


def main():
    args = options(__doc__)
    df = s2sad.grad(f)
    xs = np.linspace(0.0, 5.0, 21 if args.small else 201)
    xs = xs[np.abs(xs - 2.0) > 1e-3]                      # not at the kink
    ys = [f(float(x)) for x in xs]
    dys = [df(float(x)) for x in xs]
    compare("f'(x) vs 3x² / 3", dys, np.where(xs < 2, 3 * xs ** 2, 3.0), rtol=1e-14)
    compare("f'(x) vs finite differences", dys, [central_difference(f, float(x)) for x in xs],
            rtol=1e-6, atol=1e-8)
    print(s2sad.source(df))

    with figure(args, "piecewise", figsize=(6, 4)) as (fig, ax):
        if fig:
            ax.plot(xs, ys, "o-", markersize=3, lw=1, label="f(x)")
            ax.plot(xs, dys, "s-", markersize=3, lw=1, label="f'(x) by s2sad")
            ax.axvline(2.0, color="gray", ls=":", lw=1)
            ax.set_xlabel("x")
            ax.set_title("if x < 2: x³  else: 3x")
            ax.legend()
    finish()


if __name__ == "__main__":
    main()
