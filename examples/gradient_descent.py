"""f(x1, x2, x3) = 3(x1² + x2·x3) at (2, 3, 4): the reverse-mode walk-through and a few
gradient-descent steps (seed lecture 002).

By hand: f = 48 and ∇f = (6 x1, 3 x3, 3 x2) = (12, 12, 9).  Each gradient-descent step
moves the three "weights" against the gradient and lowers the "cost" by about
lr·‖∇f‖² − ½lr²·∇fᵀH∇f exactly (f is quadratic; H is constant).  f has no minimum
(x2·x3 is a saddle), so we take only a few baby steps.

    python examples/gradient_descent.py [--small]
"""
import numpy as np

from _common import compare, figure, finish, options, s2sad


def f(x1, x2, x3):
    return 3 * (x1 ** 2 + x2 * x3)


def main():
    args = options(__doc__)
    vg = s2sad.value_and_grad(f, argnums=(0, 1, 2))
    value, g = vg(2.0, 3.0, 4.0)
    compare("f(2, 3, 4)", value, 48.0)
    compare("∇f(2, 3, 4) vs (6 x1, 3 x3, 3 x2)", g, (12.0, 12.0, 9.0))
    print(s2sad.source(vg))

    H = np.array([[6.0, 0.0, 0.0], [0.0, 0.0, 3.0], [0.0, 3.0, 0.0]])   # by hand
    w, lr, costs = np.array([2.0, 3.0, 4.0]), 0.01, []
    for step in range(5 if args.small else 20):
        value, g = vg(*w)
        costs.append(value)
        new = w - lr * np.array(g)
        g = np.array(g)
        predicted = value - lr * g @ g + 0.5 * lr ** 2 * g @ H @ g
        print(f"       step {step}: weights {np.round(w, 4)}, cost {value:.4f}")
        compare(f"step {step}: new cost vs Taylor (exact for a quadratic)", f(*new), predicted,
                rtol=1e-12)
        w = new

    with figure(args, "gradient_descent", figsize=(6, 4)) as (fig, ax):
        if fig:
            ax.plot(costs, "o-")
            ax.set_xlabel("gradient-descent step (lr = 0.01)")
            ax.set_ylabel("cost f(x1, x2, x3)")
            ax.set_title("3(x1² + x2·x3) from (2, 3, 4)")
    finish()


if __name__ == "__main__":
    main()
