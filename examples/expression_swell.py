"""Expression swell: symbolic derivatives grow, s2sad's generated derivative does not
(seed lectures 001, 003).

f applied n times (f(x) = 3x² − x + 1) and the logistic map l_{n+1} = 4 l_n (1 − l_n): the
symbolic derivative (sympy, if installed) has a number of operations that grows
geometrically with n; the derivative s2sad writes is a loop whose size does not depend on n
at all, and its value agrees with the symbolic one.

    python examples/expression_swell.py [--small]
"""
import numpy as np

from _common import central_difference, compare, figure, finish, options, s2sad


def f(x):
    return 3 * x ** 2 - x + 1


def f_recursive(x, n):
    for i in range(n):
        x = f(x)
    return x


def logistic_map(x, n):
    for i in range(n):
        x = 4 * x * (1 - x)
    return x


def statements(derivative) -> int:
    """Lines of code in the generated derivative (its helpers included), blank lines and
    comments excluded."""
    return sum(1 for line in s2sad.source(derivative).splitlines()
               if line.strip() and not line.strip().startswith("#"))


def main():
    args = options(__doc__)
    try:
        import sympy
    except ImportError:
        sympy = None
        print("sympy is not installed: only s2sad's side is shown (pip install sympy)")
    ns = range(1, 5 if args.small else 7)
    sizes = {"f_recursive": [], "logistic_map": []}
    print(f"{'function':>13} {'n':>2} | {'sympy ops of d/dx':>18} | {'s2sad lines':>11}")
    for name, fun, x0 in (("f_recursive", f_recursive, 0.1), ("logistic_map", logistic_map, 0.3)):
        d = s2sad.grad(fun)
        for n in ns:
            value = d(x0, n)
            compare(f"{name}'({x0}), n={n} vs finite differences", value,
                    central_difference(lambda v: fun(v, n), x0, h=1e-7), rtol=1e-5)
            ops = "-"
            if sympy is not None:
                x = sympy.Symbol("x")
                expr = sympy.diff(fun(x, n), x)
                ops = sympy.count_ops(expr)
                compare(f"{name}'({x0}), n={n} vs sympy", value, float(expr.subs(x, x0)), rtol=1e-10)
            sizes[name].append((n, ops, statements(d)))
            print(f"{name:>13} {n:>2} | {ops!s:>18} | {statements(d):>11}")
    print(s2sad.source(s2sad.grad(f_recursive)))

    with figure(args, "expression_swell", figsize=(6, 4)) as (fig, ax):
        if fig:
            for k, (name, rows) in enumerate(sizes.items()):
                n = [r[0] for r in rows]
                if sympy is not None:
                    ax.semilogy(n, [r[1] for r in rows], "o-", color=f"C{k}", label=f"{name}: sympy ops")
                ax.semilogy(n, [r[2] for r in rows], "s--", color=f"C{k}", label=f"{name}: s2sad lines")
            ax.set_xlabel("n (iterations)")
            ax.set_ylabel("size of the derivative")
            ax.set_title("Expression swell")
            ax.legend()
    finish()


if __name__ == "__main__":
    main()
