"""The seed lecture's benchmark table: finite differences vs s2sad vs a hand-written gradient.

f(x) = sum(M x) − 2 log(Σ exp(x_i)),  x ∈ R^p, M ∈ R^{n×p}.  Columns as in the lecture:
FD (forward differences, p + 1 evaluations of f), AD (s2sad.grad), manual (df only) and
manual (f + df, against s2sad.value_and_grad).  Median seconds per gradient.

    python examples/benchmark_table.py [--small]
"""
import time

import numpy as np

from _common import compare, finish, options, s2sad


def f(x, M):
    return np.sum(M @ x) - 2 * np.log(np.sum(np.exp(x)))


def manual_df(x, M):
    e = np.exp(x)
    return M.sum(axis=0) - 2 * e / e.sum()


def manual_f_df(x, M):
    e = np.exp(x)
    s = e.sum()
    return np.sum(M @ x) - 2 * np.log(s), M.sum(axis=0) - 2 * e / s


def fd_gradient(x, M, h=1e-6):
    fx = f(x, M)
    g = np.empty_like(x)
    for i in range(x.size):
        xh = x.copy()
        xh[i] += h
        g[i] = (f(xh, M) - fx) / h
    return g


def median_seconds(fn, *a, repeats):
    fn(*a)                                     # warm up (and write the derivative)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*a)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main():
    args = options(__doc__)
    configs = [(10, 100), (10, 1000), (100, 10), (1000, 10)] if args.small else \
              [(10, 100), (10, 10000), (100, 10), (10000, 10)]
    repeats = 5 if args.small else 50
    rng = np.random.default_rng(0)
    df, vdf = s2sad.grad(f), s2sad.value_and_grad(f)
    print(f"{'config':>16} | {'FD':>9} {'AD':>9} {'manual df':>10} {'AD f+df':>9} {'manual f+df':>11}")
    for n, p in configs:
        M, x = rng.normal(size=(n, p)), rng.normal(size=p)
        compare(f"n={n}, p={p}: s2sad vs manual gradient", df(x, M), manual_df(x, M), rtol=1e-12,
                atol=1e-12)
        value, _ = vdf(x, M)
        compare(f"n={n}, p={p}: value_and_grad value", value, f(x, M), rtol=1e-12)
        fd = "NA"
        if p <= 1000:                          # the lecture's NA: p + 1 evaluations is too many
            compare(f"n={n}, p={p}: finite differences vs manual", fd_gradient(x, M), manual_df(x, M),
                    rtol=1e-3, atol=1e-3 * max(1.0, n))
            fd = f"{median_seconds(fd_gradient, x, M, repeats=max(1, repeats // 10)):9.2e}"
        row = [median_seconds(fn, x, M, repeats=repeats) for fn in (df, manual_df, vdf, manual_f_df)]
        print(f"{f'n={n}, p={p}':>16} | {fd:>9} {row[0]:9.2e} {row[1]:10.2e} {row[2]:9.2e} {row[3]:11.2e}")
    print(s2sad.source(df))
    finish()


if __name__ == "__main__":
    main()
