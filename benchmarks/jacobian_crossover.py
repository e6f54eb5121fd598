"""Seed 001's experiment: Jacobians of f(x) = sum(x) * ones(n_out) by forward and reverse mode.

Forward mode (``jacfwd``, vector mode: one sweep whose tangents carry one row per
input) costs grow with the number of inputs; reverse mode (``jacrev``: one
adjoint sweep per output) costs grow with the number of outputs.  Two series:

* 10 inputs, 1000 ... 9000 outputs   (forward should win)
* 1000 ... 9000 inputs, 10 outputs   (reverse should win)

It prints a table of median times and, when matplotlib is installed
(``pip install matplotlib``, the ``plot`` extra), draws docs/jacobian_crossover.png.

    python benchmarks/jacobian_crossover.py           # full run (about a minute)
    python benchmarks/jacobian_crossover.py --quick   # fewer sizes and repeats
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    import s2sad
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import s2sad

ROOT = Path(__file__).resolve().parent.parent


def make_f(n_out):
    """The seed's ``f(x) = sum(x) * ones(n_out)``."""
    def f(x):
        return np.sum(x) * np.ones(n_out)
    return f


def median_time(fn, x, repeats):
    fn(x)                                   # transform, compile and warm up once
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(sizes, repeats):
    rows = []
    for n in sizes:
        # varying outputs: 10 inputs, n outputs
        f = make_f(n)
        x = np.ones(10)
        jf, jr = s2sad.jacfwd(f), s2sad.jacrev(f)
        expected = np.ones((n, 10))
        assert np.allclose(jf(x), expected) and np.allclose(jr(x), expected)
        out_fwd, out_rev = median_time(jf, x, repeats), median_time(jr, x, repeats)
        # varying inputs: n inputs, 10 outputs
        f10 = make_f(10)
        x = np.ones(n)
        jf, jr = s2sad.jacfwd(f10), s2sad.jacrev(f10)
        expected = np.ones((10, n))
        assert np.allclose(jf(x), expected) and np.allclose(jr(x), expected)
        in_fwd, in_rev = median_time(jf, x, repeats), median_time(jr, x, repeats)
        rows.append((n, out_fwd, out_rev, in_fwd, in_rev))
        print(f"{n:6d} | {out_fwd * 1e3:10.2f} {out_rev * 1e3:10.2f} | "
              f"{in_fwd * 1e3:10.2f} {in_rev * 1e3:10.2f}", flush=True)
    return rows


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return
    n = [r[0] for r in rows]
    fig, ax = plt.subplots(1, 2, figsize=(9, 4))
    ax[0].set_title("Varying number of outputs (10 inputs)")
    ax[0].plot(n, [r[1] * 1e3 for r in rows], "o-", label="forward (jacfwd)")
    ax[0].plot(n, [r[2] * 1e3 for r in rows], "o-", label="reverse (jacrev)")
    ax[0].set_xlabel("# of outputs")
    ax[0].set_ylabel("median time [ms]")
    ax[0].legend()
    ax[1].set_title("Varying number of inputs (10 outputs)")
    ax[1].plot(n, [r[3] * 1e3 for r in rows], "o-", label="forward (jacfwd)")
    ax[1].plot(n, [r[4] * 1e3 for r in rows], "o-", label="reverse (jacrev)")
    ax[1].set_xlabel("# of inputs")
    ax[1].set_ylabel("median time [ms]")
    ax[1].legend()
    fig.suptitle("s2sad Jacobians of f(x) = sum(x) * ones(n_out)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="three sizes, three repeats")
    p.add_argument("--out", default=str(ROOT / "docs" / "jacobian_crossover.png"))
    args = p.parse_args(argv)
    sizes = [1000, 5000, 9000] if args.quick else list(range(1000, 10000, 1000))
    repeats = 3 if args.quick else 7
    print("median times in ms; 'outputs': 10 inputs, n outputs; 'inputs': n inputs, 10 outputs")
    print(f"{'n':>6} | {'outputs: fwd':>10} {'rev':>10} | {'inputs: fwd':>10} {'rev':>10}")
    rows = run(sizes, repeats)
    plot(rows, Path(args.out))


if __name__ == "__main__":
    main()
