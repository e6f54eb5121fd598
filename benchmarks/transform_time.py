"""How long s2sad takes to *transform* (not run) large functions, stage by stage.

Programs: straight-line functions of n statements mixing scalar and array
operations, a function of many consecutive small loops, and one long expression.  For each it
times parse, normalize, analysis (activity and ndims), reverse (the
transformer; it runs its own analyses again), optimize and emit (source +
compile), and prints a markdown table of the medians, in CPU seconds of this
process (time.process_time: the machine may be shared).

    python benchmarks/transform_time.py            # n = 100, 300, 1000, 3000; 300 loops; 2000 terms
    python benchmarks/transform_time.py --quick    # n = 100, 300; 100 loops; 500 terms; one repeat

Targets (issue 9): 1000 statements <= 1 s in total, 3000 <= 3 s, 300 loops <= 3 s.
Import: ``python -X importtime -c "import s2sad"``, the self times of the s2sad modules.
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

# the checkout this script is in (not an installed s2sad)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import s2sad  # noqa: E402

from s2sad import emit  # noqa: E402
from s2sad.analysis import Activity, NDims
from s2sad.normalize import normalize
from s2sad.optimize import optimize
from s2sad.parse import parse_function
from s2sad.reverse import reverse


def straight_line(n: int) -> str:
    """n statements over an array ``x`` and a float ``s``: elementwise, reductions, scalars."""
    lines = ["import numpy as np", "", "", "def f(x, s):", "    a = x * s", "    b = s + 1.0"]
    for i in range(n - 3):
        k = i % 6
        if k == 0:
            lines.append(f"    a = np.sin(a) + {0.1 * (i % 7):.1f} * x")
        elif k == 1:
            lines.append(f"    b = b * 0.9 + np.sum(a) * {0.01 * (i % 5 + 1):.2f}")
        elif k == 2:
            lines.append(f"    c{i} = a * b - x")
        elif k == 3:
            lines.append(f"    a = np.tanh(c{i - 1}) + a")
        elif k == 4:
            lines.append(f"    b = np.exp(-b * b) + s")
        else:
            lines.append(f"    a = a / (1.0 + b * b)")
    lines.append("    return np.sum(a) + b")
    return "\n".join(lines) + "\n"


def many_loops(n: int) -> str:
    """n consecutive small loops carrying a float and reading an array."""
    lines = ["import numpy as np", "", "", "def f(x, s):", "    t = s"]
    for i in range(n):
        lines.append("    for i in range(3):")
        lines.append(f"        t = t * 0.5 + np.sin(x[i] * t) * {0.1 * (i % 9 + 1):.1f}")
    lines.append("    return t")
    return "\n".join(lines) + "\n"


def long_expression(n: int) -> str:
    """One expression of n terms (an AST n deep: lowered iteratively, tests/test_bounded.py)."""
    terms = " + ".join(f"x * {i}" if i % 2 else f"s * {i}" for i in range(1, n + 1))
    return f"import numpy as np\n\n\ndef f(x, s):\n    return np.sum({terms})\n"


def load(source: str, directory: Path, name: str):
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


STAGES = ("parse", "normalize", "analysis", "reverse", "optimize", "emit")


def time_stages(f) -> dict:
    out = {}
    t = time.process_time()
    parsed = parse_function(f)
    out["parse"] = time.process_time() - t
    t = time.process_time()
    norm = normalize(parsed)
    out["normalize"] = time.process_time() - t
    arg_ndims = {"x": 1, "s": 0}
    t = time.process_time()
    Activity(norm.node, parsed, {"x", "s"}, {norm.result})
    NDims(norm.node, parsed, arg_ndims)
    out["analysis"] = time.process_time() - t
    t = time.process_time()
    tree = reverse(norm, ["x", "s"], arg_ndims, multi=True, name="grad_f")
    out["reverse"] = time.process_time() - t
    t = time.process_time()
    tree = optimize(tree)
    out["optimize"] = time.process_time() - t
    t = time.process_time()
    emit.compile_derivative(tree, parsed, label="grad_f")
    out["emit"] = time.process_time() - t
    out["total"] = sum(out[s] for s in STAGES)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args(argv)
    sizes = (100, 300) if args.quick else (100, 300, 1000, 3000)
    loops = 100 if args.quick else 300
    cases = [(f"straight-line, {n} statements", straight_line(n)) for n in sizes]
    cases.append((f"{loops} consecutive loops", many_loops(loops)))
    terms = 500 if args.quick else 2000
    cases.append((f"{terms}-term expression", long_expression(terms)))
    print("| program | " + " | ".join(STAGES) + " | total |")
    print("|---|" + "---:|" * (len(STAGES) + 1))
    with tempfile.TemporaryDirectory() as tmp:
        for k, (label, source) in enumerate(cases):
            f = load(source, Path(tmp), f"transform_time_{k}")
            repeats = args.repeats or (1 if args.quick or "3000" in label else 3)
            runs = [time_stages(f) for _ in range(repeats)]
            med = {s: statistics.median(r[s] for r in runs) for s in STAGES + ("total",)}
            print(f"| {label} | " + " | ".join(f"{med[s]:.3f}" for s in STAGES)
                  + f" | **{med['total']:.2f} s** |", flush=True)


if __name__ == "__main__":
    main()
