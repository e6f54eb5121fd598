"""f(x1, x2) = ln(x1) + x1·x2 − sin(x2) at (2, 5), and a logistic unit differentiated twice
(seed lecture 003), with the lecture's trace tables printed by s2sad.trace.

The lecture's traces: f(2, 5) = 11.652, forward tangent along x1 = 5.5, reverse adjoints
(x̄1, x̄2) = (5.5, 1.716).  Then the unit f_w(x) = 1 / (1 + exp(−(w0 + w1 x1 + w2 x2))): its
gradient in w is σ(1 − σ)(1, x1, x2), and "the gradient of the gradient" (its Hessian in w)
is σ(1 − σ)(1 − 2σ) x xᵀ with x = (1, x1, x2): s2sad transforms its own generated gradient.

    python examples/logistic_unit.py [--small]
"""
import math

import numpy as np

from _common import compare, figure, finish, options, s2sad


def f(x1, x2):
    return math.log(x1) + x1 * x2 - math.sin(x2)


def unit(w0, w1, w2, x1, x2):
    return 1.0 / (1.0 + math.exp(-(w0 + w1 * x1 + w2 * x2)))


def main():
    args = options(__doc__)
    value, tangent = s2sad.jvp(f, (2.0, 5.0), (1.0, 0.0))
    compare("f(2, 5) (forward primal trace)", round(value, 3), 11.652)
    compare("ẏ along x1 (forward tangent trace)", tangent, 5.5, rtol=1e-14)
    g = s2sad.grad(f, argnums=(0, 1))(2.0, 5.0)
    compare("(x̄1, x̄2) (reverse adjoint trace)", g, (5.5, 2.0 - math.cos(5.0)), rtol=1e-14)
    print(f"       rounded as in the lecture: x̄1 = {g[0]:.3f}, x̄2 = {g[1]:.3f}")
    # the lecture's tables: s2sad.trace records the derivative program as it runs
    forward_trace = s2sad.trace(f, mode="forward")(2.0, 5.0)
    reverse_trace = s2sad.trace(f)(2.0, 5.0)
    print(forward_trace, reverse_trace, sep="\n\n")
    compare("tangent trace's ẏ", forward_trace.section("tangent")[-1].value, 5.5, rtol=1e-14)
    compare("adjoint trace's (x̄1, x̄2)", [r.value for r in reverse_trace.section("adjoint")[-2:]], g,
            rtol=1e-15)

    w, x = (0.5, -1.0, 2.0), (1.5, 0.7)
    s = unit(*w, *x)
    xv = np.array([1.0, *x])
    dunit = s2sad.grad(unit, argnums=(0, 1, 2))
    compare("∇_w f_w(x) vs σ(1 − σ)(1, x1, x2)", dunit(*w, *x), s * (1 - s) * xv, rtol=1e-14)
    print(s2sad.source(dunit))
    # gradient of the gradient: differentiate ∂f/∂w1 (itself generated code) again
    d_w1 = s2sad.grad(unit, argnums=1)
    dd_w1 = s2sad.grad(d_w1, argnums=(0, 1, 2))
    compare("∇_w (∂f/∂w1), grad of grad", dd_w1(*w, *x), s * (1 - s) * (1 - 2 * s) * x[0] * xv,
            rtol=1e-13)
    print(s2sad.source(dd_w1))

    # the unit as a function of w0, with its first two derivatives
    w0s = np.linspace(-6, 6, 25 if args.small else 200)
    first = s2sad.grad(unit)
    second = s2sad.grad(first)
    d1 = [first(w0, 0.0, 0.0, *x) for w0 in w0s]
    d2 = [second(w0, 0.0, 0.0, *x) for w0 in w0s]
    sig = 1 / (1 + np.exp(-w0s))
    compare("σ'' on a grid, grad of grad", d2, sig * (1 - sig) * (1 - 2 * sig), rtol=1e-12, atol=1e-15)
    with figure(args, "logistic_unit", figsize=(6, 4)) as (fig, ax):
        if fig:
            ax.plot(w0s, sig, label="σ(w0)")
            ax.plot(w0s, d1, label="grad")
            ax.plot(w0s, d2, label="grad of grad")
            ax.set_xlabel("w0 (w1 = w2 = 0)")
            ax.set_title("Logistic unit and its derivatives")
            ax.legend()
    finish()


if __name__ == "__main__":
    main()
