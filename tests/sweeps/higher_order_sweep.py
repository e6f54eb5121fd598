"""Offline sweep: second-order derivatives of random programs against finite differences.

For each seed, a random scalar program ``f(x, y)`` (tests/test_random_programs.py's
generator, extended with returns inside loops and ``np.stack`` of list-building loops)
is differentiated twice with respect to ``x`` in four ways -- ``hessian(f)``,
``grad(grad(f))``, ``jacfwd(grad(f))`` and ``jacrev(grad(f))`` -- optimized and not.
Each result is compared with central finite differences of ``grad(f)``, which is
itself checked against finite differences of ``f`` first.  Outcomes per check:

    ok        agrees with finite differences
    wrong     a value that disagrees (the hard failure)
    refused   an S2SADError (a clear refusal)
    bare      any other exception (a bug: should be fixed or refused)
    skipped   f, its gradient or the finite differences are not usable here

Usage:  PYTHONPATH=$PWD python3 tests/sweeps/higher_order_sweep.py [FIRST [LAST]] [-v]
"""
from __future__ import annotations

import collections
import math
import os
import random
import re
import sys
import tempfile
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import s2sad  # noqa: E402
from test_random_programs import ProgramWriter  # noqa: E402
from util import load_function  # noqa: E402

METHODS = ("hessian", "grad_grad", "jacfwd_grad", "jacrev_grad")


class HigherOrderProgramWriter(ProgramWriter):
    """The scalar-program generator, plus what higher order found hard: a return
    inside a loop, and a list-building loop read by ``np.stack`` and ``xs[-1]``."""

    def block(self, indent, depth, size):
        pad = "    " * indent
        r = self.rng.random()
        if depth < 2 and r < 0.12:
            k = self.rng.randint(1, 3)
            self.lines.append(f"{pad}for i in range({k}):")
            saved = list(self.names)
            self.names.append("i")
            self.block(indent + 1, depth + 1, self.rng.randint(1, 2))
            self.lines.append(f"{pad}    if {self.expr()} > 1.2:")
            self.lines.append(f"{pad}        return {self.expr()} * y")
            self.names = saved
            size -= 1
        elif r < 0.22:
            xs = self.fresh()
            self.lines.append(f"{pad}{xs} = []")
            self.lines.append(f"{pad}for i in range({self.rng.randint(1, 3)}):")
            self.lines.append(f"{pad}    {xs}.append({self.expr()} + 0.5 * i)")
            name = self.fresh()
            self.lines.append(f"{pad}{name} = float(np.sum(np.stack({xs}) ** 2)) - {xs}[-1]")
            if indent > 1:
                self.lines.insert(1, f"    {name} = 0.25")
            self.names.append(name)
            size -= 1
        super().block(indent, depth, max(size, 0))


def central(fun, x, y, eps):
    return (fun(x + eps, y) - fun(x - eps, y)) / (2 * eps)


def stable_derivative(fun, x, y, eps):
    """The central difference of ``fun`` in ``x``, or None where it is not trustworthy
    (a branch flips within the step, or the function is not smooth there)."""
    d1 = central(fun, x, y, eps)
    d2 = central(fun, x, y, eps / 10)
    base = fun(x, y)
    forward = (fun(x + eps, y) - base) / eps
    backward = (base - fun(x - eps, y)) / eps
    scale = max(1.0, abs(d1))
    if not all(map(math.isfinite, (d1, d2, forward, backward))):
        return None
    if abs(d1 - d2) > 1e-4 * scale or abs(forward - backward) > 1e-2 * scale:
        return None
    return d1


def second_order(method, f, optimize):
    if method == "hessian":
        return s2sad.hessian(f, optimize=optimize)
    if method == "grad_grad":
        return s2sad.grad(s2sad.grad(f, optimize=optimize), optimize=optimize)
    if method == "jacfwd_grad":
        return s2sad.jacfwd(s2sad.grad(f, optimize=optimize), optimize=optimize)
    return s2sad.jacrev(s2sad.grad(f, optimize=optimize), optimize=optimize)


def check_program(seed, directory, verbose=False):
    """{(method, optimize): outcome} for one seed, plus the source and details."""
    rng = random.Random(seed)
    source = HigherOrderProgramWriter(rng).program()
    x, y = rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5)
    f = load_function(source, directory, f"higher_sweep_{seed}")
    outcomes, details = {}, {}

    def skip_all():
        return {(m, o): "skipped" for m in METHODS for o in (True, False)}, details, source, (x, y)

    try:
        value = f(x, y)
    except Exception:
        return skip_all()
    if not isinstance(value, float) or not math.isfinite(value) or abs(value) > 1e6:
        return skip_all()
    g = s2sad.grad(f)
    try:
        fd_g = stable_derivative(f, x, y, 1e-6)
        gx = g(x, y)
    except Exception:
        return skip_all()
    if fd_g is None or abs(gx - fd_g) > 1e-5 * max(1.0, abs(fd_g)):
        return skip_all()       # first order is another sweep's business
    try:
        fd_h = stable_derivative(g, x, y, 1e-5)
    except Exception:
        fd_h = None
    if fd_h is None:
        return skip_all()
    for method in METHODS:
        for optimize in (True, False):
            key = (method, optimize)
            try:
                h = float(second_order(method, f, optimize)(x, y))
            except s2sad.S2SADError as err:
                outcomes[key] = "refused"
                details[key] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
                continue
            except Exception as err:   # noqa: BLE001 -- classifying is the point
                outcomes[key] = "bare"
                details[key] = f"{type(err).__name__}: {err}"
                if verbose:
                    details[key] += "\n" + traceback.format_exc()
                continue
            if abs(h - fd_h) <= 1e-4 * max(1.0, abs(fd_h)):
                outcomes[key] = "ok"
            else:
                outcomes[key] = "wrong"
                details[key] = f"got {h!r}, finite differences {fd_h!r}"
    return outcomes, details, source, (x, y)


def summary(text):
    """The first line of an error, without the names and positions that vary."""
    line = text.splitlines()[0]
    line = re.sub(r"<s2sad-\d+:", "<s2sad:", line)
    line = re.sub(r"'[A-Za-z_][A-Za-z0-9_]*'", "'NAME'", line)
    line = re.sub(r":\d+:\d+:", ":L:C:", line)
    line = re.sub(r"-?\d+\.\d+(e-?\d+)?", "N", line)
    return line[:100]


def main(argv):
    verbose = "-v" in argv
    argv = [a for a in argv if a != "-v"]
    first = int(argv[0]) if argv else 0
    last = int(argv[1]) if len(argv) > 1 else first + 199
    totals = collections.Counter()
    programs = collections.Counter()
    kinds = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        sys.path.insert(0, tmp)
        for seed in range(first, last + 1):
            outcomes, details, source, point = check_program(seed, directory, verbose)
            totals.update(outcomes.values())
            worst = next((k for k in ("wrong", "bare", "refused", "ok", "skipped")
                          if k in outcomes.values()), "skipped")
            programs[worst] += 1
            for key, text in details.items():
                kinds[(outcomes[key], key[0], summary(text))] += 1
            if verbose and worst in ("wrong", "bare"):
                print(f"===== seed {seed} at x, y = {point}")
                print(source)
                for key, text in details.items():
                    print(f"  {key}: {outcomes[key]}: {text}")
    n = last - first + 1
    print(f"seeds {first}..{last}: {n} programs")
    print("programs by worst outcome:", dict(programs))
    print("checks:", dict(totals))
    for (outcome, method, text), count in kinds.most_common(30):
        print(f"  {count:4d} {outcome:8s} {method:12s} {text}")
    return 1 if totals["wrong"] or totals["bare"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
