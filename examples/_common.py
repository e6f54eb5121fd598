"""Shared by the example scripts: ``--small``, where figures go, and how a number is compared.

Every example prints each number next to an independent one (a closed form, finite
differences, a textbook algorithm) as a line starting with ``[ok]`` or ``[MISMATCH]``, and
exits with status 1 if any line is a mismatch (tests/test_examples.py runs each with
``--small`` and reads those lines).
"""
from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
try:
    import s2sad  # noqa: F401  (the examples import it from here)
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, str(ROOT))
    import s2sad  # noqa: F401

_mismatches = []


def options(doc: str) -> argparse.Namespace:
    """The options every example takes."""
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--small", action="store_true", help="small sizes: runs in seconds (what CI runs)")
    p.add_argument("--figures", default=str(ROOT / "docs" / "figures"),
                   help="directory the PNG figures are written to (default: docs/figures)")
    p.add_argument("--no-figures", action="store_true", help="draw no figure")
    return p.parse_args()


def compare(label: str, got, expected, rtol: float = 1e-10, atol: float = 0.0) -> bool:
    """Print ``got`` next to ``expected`` and whether they agree to ``rtol``/``atol``."""
    got_a = np.asarray(got, dtype=float)
    exp_a = np.asarray(expected, dtype=float)
    ok = got_a.shape == exp_a.shape and bool(np.allclose(got_a, exp_a, rtol=rtol, atol=atol))
    err = float(np.max(np.abs(got_a - exp_a))) if got_a.shape == exp_a.shape and got_a.size else float("nan")
    if got_a.size <= 4:
        shown = (f"{np.array2string(got_a, precision=6)}  vs  {np.array2string(exp_a, precision=6)}")
    else:
        shown = f"{got_a.shape} arrays"
    print(f"[{'ok' if ok else 'MISMATCH'}] {label}: {shown}  (max |diff| {err:.2e})")
    if not ok:
        _mismatches.append(label)
    return ok


@contextmanager
def figure(args, name: str, **subplots):
    """``with figure(args, "name") as (fig, ax):`` draws and writes ``<figures>/name.png``;
    yields ``(None, None)`` (and draws nothing) without matplotlib or with ``--no-figures``."""
    if args.no_figures:
        yield None, None
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: figure {name}.png skipped (pip install 's2sad[examples]')")
        yield None, None
        return
    fig, ax = plt.subplots(**subplots)
    yield fig, ax
    out = Path(args.figures)
    out.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=100)
    plt.close(fig)
    print(f"wrote {out / (name + '.png')}")


def central_difference(f, x: float, h: float = 1e-6) -> float:
    """``(f(x + h) - f(x - h)) / 2h``, the independent check of a scalar derivative."""
    return (f(x + h) - f(x - h)) / (2 * h)


def finish() -> None:
    """Exit with status 1 when any comparison failed."""
    if _mismatches:
        print(f"{len(_mismatches)} mismatch(es): {', '.join(_mismatches)}")
        sys.exit(1)
    print("all numbers agree")
