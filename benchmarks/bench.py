"""Benchmark s2sad's gradients against hand-written NumPy gradients.

For each case it times, in one run and interleaved so that drift hits all
alike: the function alone, the hand-written gradient (df only), the
hand-written value and gradient (f + df), s2sad's gradient and s2sad's value
and gradient.  It reports median per-call times and the ratios
``s2sad df / hand df`` and ``s2sad df / f``.

    python benchmarks/bench.py            # full run (about a minute)
    python benchmarks/bench.py --quick    # fewer, shorter repeats

To add a case, append a ``Case`` to the list built by ``make_cases``.  Every
case's s2sad gradient is checked against its hand-written one before timing.
"""
from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import timeit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

try:
    import s2sad
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import s2sad


# --------------------------------------------------------------------------
# the functions and their hand-written gradients

def sum_logsumexp(x, M):
    """f(x) = sum(M x) - 2 log(sum(exp(x)))  (the lecture's benchmark function)."""
    return np.sum(M @ x) - 2 * np.log(np.sum(np.exp(x)))


def sum_logsumexp_df(x, M):
    """Hand-written gradient: column sums of M minus twice the softmax of x."""
    e = np.exp(x)
    return M.sum(axis=0) - 2 * e / np.sum(e)


def sum_logsumexp_fdf(x, M):
    """Hand-written value and gradient, sharing exp(x) and its sum."""
    e = np.exp(x)
    s = np.sum(e)
    value = np.sum(M @ x) - 2 * np.log(s)
    return value, M.sum(axis=0) - 2 * e / s


def scalar_loop(x, n):
    """Issue 3's scalar loop: a branch on the value in every iteration.

    The map ``3y^2 - y + 1 if y < 2 else sin(y) y`` alone overflows within a few
    dozen steps from any start, so each step is squashed back into (-2.5, 2.5);
    the orbit visits both branches.
    """
    y = x
    for i in range(n):
        y = 3 * y * y - y + 1 if y < 2 else math.sin(y) * y
        y = 5 * y / (1 + y * y)
    return y


def scalar_loop_df(x, n):
    """Hand-written reverse loop in plain Python: record the forward values, then
    multiply the step derivatives back to front."""
    ys = []
    y = x
    for i in range(n):
        ys.append(y)
        u = 3 * y * y - y + 1 if y < 2 else math.sin(y) * y
        y = 5 * u / (1 + u * u)
    g = 1.0
    for y in reversed(ys):
        if y < 2:
            u = 3 * y * y - y + 1
            du = 6 * y - 1
        else:
            s = math.sin(y)
            u = s * y
            du = math.cos(y) * y + s
        d = 1 + u * u
        g = g * du * 5 * (1 - u * u) / (d * d)
    return g


def scalar_loop_fdf(x, n):
    """Hand-written value and derivative in one forward pass (the derivative of a
    scalar map can be carried along)."""
    y, g = x, 1.0
    for i in range(n):
        if y < 2:
            u = 3 * y * y - y + 1
            du = 6 * y - 1
        else:
            s = math.sin(y)
            u = s * y
            du = math.cos(y) * y + s
        d = 1 + u * u
        y = 5 * u / d
        g = g * du * 5 * (1 - u * u) / (d * d)
    return y, g


def mlp_loss(params, X, Y):
    """Softmax cross-entropy of a tanh MLP whose parameters are a dict (issue 8)."""
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    z = logits - np.max(logits, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_p, axis=1))


def mlp_loss_fdf(params, X, Y):
    """Hand-written backprop: value and the gradient dict."""
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    z = logits - np.max(logits, axis=1, keepdims=True)
    e = np.exp(z)
    s = np.sum(e, axis=1, keepdims=True)
    value = -np.mean(np.sum(Y * (z - np.log(s)), axis=1))
    dlogits = (e / s - Y) / X.shape[0]
    da = (dlogits @ params["W2"].T) * (1.0 - h * h)
    return value, {"W1": X.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}


def mlp_loss_df(params, X, Y):
    """Hand-written backprop: the gradient dict only."""
    h = np.tanh(X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    dlogits = (e / np.sum(e, axis=1, keepdims=True) - Y) / X.shape[0]
    da = (dlogits @ params["W2"].T) * (1.0 - h * h)
    return {"W1": X.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}


@dataclass
class Case:
    """One benchmark case: a function, its hand-written derivatives and arguments."""
    name: str
    f: Callable
    hand_df: Callable           # same arguments as f, returns the gradient w.r.t. argnums
    hand_fdf: Callable          # same arguments as f, returns (value, gradient)
    args: tuple
    argnums: int | tuple = 0
    rtol: float = 1e-10
    atol: float = 1e-10
    timings: dict = field(default_factory=dict)


def make_cases(seed: int = 0) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for n, p in [(10, 100), (10, 10000), (100, 10), (10000, 10)]:
        M = rng.normal(size=(n, p))
        x = rng.normal(size=p)
        cases.append(Case(f"sum_logsumexp n={n} p={p}", sum_logsumexp,
                          sum_logsumexp_df, sum_logsumexp_fdf, (x, M)))
    for n in (100, 1000):
        cases.append(Case(f"scalar_loop N={n}", scalar_loop, scalar_loop_df, scalar_loop_fdf,
                          (0.9, n), rtol=1e-9, atol=1e-12))
    for batch, n_in, n_hidden, n_out in [(32, 10, 32, 3), (1024, 784, 256, 10)]:
        params = {"W1": rng.normal(size=(n_in, n_hidden)) / np.sqrt(n_in), "b1": np.zeros(n_hidden),
                  "W2": rng.normal(size=(n_hidden, n_out)) / np.sqrt(n_hidden), "b2": np.zeros(n_out)}
        X = rng.normal(size=(batch, n_in))
        Y = np.eye(n_out)[rng.integers(0, n_out, batch)]
        cases.append(Case(f"dict MLP {n_in}-{n_hidden}-{n_out} batch={batch}", mlp_loss, mlp_loss_df,
                          mlp_loss_fdf, (params, X, Y), rtol=1e-9, atol=1e-12))
    return cases


# --------------------------------------------------------------------------
# measuring

def calibrate(fn: Callable[[], object], target: float) -> int:
    """The smallest number of calls, from 1, 2, 5, 10, 20, 50, ..., taking >= target seconds."""
    timer = timeit.Timer(fn)
    i = 1
    while True:
        for k in (1, 2, 5):
            number = i * k
            if timer.timeit(number) >= target:
                return number
        i *= 10


def measure(fns: dict[str, Callable[[], object]], repeats: int, target: float) -> dict[str, float]:
    """Median seconds per call of each fn; repeats are interleaved across fns."""
    numbers = {name: calibrate(fn, target) for name, fn in fns.items()}
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            number = numbers[name]
            (t,) = timeit.Timer(fn).repeat(repeat=1, number=number)
            samples[name].append(t / number)
    return {name: statistics.median(ts) for name, ts in samples.items()}


def check(case: Case, s2sad_df: Callable, s2sad_fdf: Callable) -> None:
    """Raise if s2sad disagrees with the hand-written derivatives."""
    def same(got, want, what):          # gradients may be pytrees (dicts of arrays)
        assert s2sad.tree.structure(got) == s2sad.tree.structure(want), f"{case.name}: {what}"
        for g, w in zip(s2sad.tree.leaves(got), s2sad.tree.leaves(want)):
            np.testing.assert_allclose(g, w, rtol=case.rtol, atol=case.atol, err_msg=f"{case.name}: {what}")
    expected = case.hand_df(*case.args)
    same(s2sad_df(*case.args), expected, "s2sad df != hand df")
    value, gradient = s2sad_fdf(*case.args)
    np.testing.assert_allclose(value, case.f(*case.args), rtol=case.rtol, atol=case.atol,
                               err_msg=f"{case.name}: s2sad value != f")
    same(gradient, expected, "s2sad value_and_grad != hand df")
    hand_value, hand_gradient = case.hand_fdf(*case.args)
    np.testing.assert_allclose(hand_value, value, rtol=case.rtol, atol=case.atol)
    same(hand_gradient, expected, "hand f+df != hand df")


def run_case(case: Case, repeats: int, target: float) -> dict[str, float]:
    s2sad_df = s2sad.grad(case.f, argnums=case.argnums)
    s2sad_fdf = s2sad.value_and_grad(case.f, argnums=case.argnums)
    check(case, s2sad_df, s2sad_fdf)      # also transforms once, outside the timing
    args = case.args
    fns = {
        "f": lambda: case.f(*args),
        "hand df": lambda: case.hand_df(*args),
        "hand f+df": lambda: case.hand_fdf(*args),
        "s2sad df": lambda: s2sad_df(*args),
        "s2sad f+df": lambda: s2sad_fdf(*args),
    }
    return measure(fns, repeats, target)


# --------------------------------------------------------------------------
# reporting

def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:7.3g} {unit}"
    return f"{seconds / 1e-9:7.3g} ns"


def print_table(cases: list[Case]) -> None:
    time_cols = ["f", "hand df", "hand f+df", "s2sad df", "s2sad f+df"]
    header = (["case"] + time_cols
              + ["s2sad/hand df", "s2sad/f", "s2sad f+df/hand f+df"])
    rows = []
    for case in cases:
        t = case.timings
        rows.append([case.name] + [fmt_time(t[c]) for c in time_cols] + [
            f"{t['s2sad df'] / t['hand df']:.2f}",
            f"{t['s2sad df'] / t['f']:.2f}",
            f"{t['s2sad f+df'] / t['hand f+df']:.2f}",
        ])
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                     for i, (h, w) in enumerate(zip(header, widths)))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timing repeats per function (default 15, or 5 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args(argv)
    repeats = opts.repeat or (5 if opts.quick else 15)
    target = 0.02 if opts.quick else 0.1     # seconds per timed batch

    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{repeats} repeats, median per-call time")
    cases = make_cases(opts.seed)
    for case in cases:
        case.timings = run_case(case, repeats, target)
    print_table(cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
