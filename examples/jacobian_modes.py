"""Forward or reverse: f1 (one input, three outputs) and f2 (three inputs, one output), and
the lecture's timing of Jacobians as inputs or outputs grow (seed lecture 001).

Forward mode costs one sweep per input, reverse mode one per output: jacfwd suits f1,
jacrev suits f2.  The timing part is benchmarks/jacobian_crossover.py at a small size;
its figure is docs/figures/jacobian_modes.png.

    python examples/jacobian_modes.py [--small]
"""
import sys
from pathlib import Path

import numpy as np

from _common import ROOT, compare, finish, options, s2sad

sys.path.insert(0, str(ROOT / "benchmarks"))
import jacobian_crossover  # noqa: E402  (the benchmark: its timing loop and its plot)


def f1(x1):
    x1 = x1 * x1
    x1 = x1 * x1
    return x1, x1, x1


def f2(x1, x2, x3):
    x1 = x1 * x2 * x3
    x1 = x1 * x1
    return x1


def main():
    args = options(__doc__)
    x = 1.5
    # f1 = (x⁴, x⁴, x⁴): one forward sweep gives all three derivatives 4x³
    _, tangents = s2sad.jvp(f1, (x,), (1.0,))
    compare("f1: one jvp (forward sweep)", tangents, (4 * x ** 3,) * 3)
    compare("f1: jacfwd", s2sad.jacfwd(f1)(x), (4 * x ** 3,) * 3)
    compare("f1: jacrev (three reverse sweeps)", s2sad.jacrev(f1)(x), (4 * x ** 3,) * 3)
    # f2 = (x1 x2 x3)²: one reverse sweep gives the whole gradient
    a, b, c = 1.0, 2.0, 3.0
    expected = (2 * a * (b * c) ** 2, 2 * b * (a * c) ** 2, 2 * c * (a * b) ** 2)
    compare("f2: one grad (reverse sweep)", s2sad.grad(f2, argnums=(0, 1, 2))(a, b, c), expected)
    compare("f2: jacfwd (three forward sweeps)", s2sad.jacfwd(f2, argnums=(0, 1, 2))(a, b, c), expected)

    # the lecture's timing: f(x) = sum(x) * ones(n_out), vary inputs or outputs
    sizes = [200, 1000, 2000] if args.small else list(range(1000, 10000, 1000))
    print("median times in ms; 'outputs': 10 inputs, n outputs; 'inputs': n inputs, 10 outputs")
    rows = jacobian_crossover.run(sizes, repeats=3 if args.small else 7)
    out_fwd, out_rev, in_fwd, in_rev = (np.array([r[k] for r in rows]) for k in range(1, 5))
    print(f"       many outputs: forward {out_fwd[-1] * 1e3:.2f} ms, reverse {out_rev[-1] * 1e3:.2f} ms; "
          f"many inputs: forward {in_fwd[-1] * 1e3:.2f} ms, reverse {in_rev[-1] * 1e3:.2f} ms")
    compare("forward wins with many outputs", float(out_fwd[-1] < out_rev[-1]), 1.0)
    compare("reverse wins with many inputs", float(in_rev[-1] < in_fwd[-1]), 1.0)
    if not args.no_figures:
        jacobian_crossover.plot(rows, Path(args.figures) / "jacobian_modes.png")
    finish()


if __name__ == "__main__":
    main()
