"""Offline sweep of generated programs against the soundness oracle.

    PYTHONPATH=$PWD nice -n 10 python3 tests/sweeps/sweep.py --start 0 --count 500 [--kind array|scalar|both] [--plain]

For each seed, the program generators of tests/test_random_array_programs.py and
tests/test_random_programs.py (with aliases, views, displays, mutating calls, decorated
helpers and methods, unless --plain) write a program; tests/random_oracle.py checks it
in every mode.  Prints the counts (programs, skipped, agreeing, refused, wrong, bare
exceptions), the failures grouped by signature, and the first failing program's source
for each class.
"""
import argparse
import collections
import os
import random
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))

import numpy as np  # noqa: E402

from random_oracle import AGREE, REFUSED, SKIPPED, Failure, check_program, smooth_source  # noqa: E402
from test_random_array_programs import effect_program  # noqa: E402
from test_random_programs import scalar_effect_program  # noqa: E402
from util import load_function  # noqa: E402


def signature(failure):
    """A failure's class: its kind, its mode without the optimize flag, and the message
    with numbers and generated names blanked."""
    detail = re.sub(r"<s2sad-\d+:\w+>(:\d+)*", "<generated>", failure.detail)
    detail = re.sub(r"(?<![\w.])-?\d+(\.\d+)?(e-?\d+)?", "#", detail)
    mode = failure.mode.split(" ")[0]
    return f"{failure.kind:5s} {mode:15s} {detail[:110]}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--kind", choices=["array", "scalar", "both"], default="both")
    parser.add_argument("--plain", action="store_true", help="the generators without effects")
    parser.add_argument("--show", type=int, default=1, help="programs to print per class")
    opts = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    kinds = ["array", "scalar"] if opts.kind == "both" else [opts.kind]
    counts = collections.Counter()
    classes = collections.OrderedDict()
    firsts = {}
    per_label = collections.defaultdict(lambda: [0, 0, 0])   # label -> programs, failing, failing alone
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(opts.start, opts.start + opts.count):
            for kind in kinds:
                make = effect_program if kind == "array" else scalar_effect_program
                source, args, rng, used = make(seed, effects=not opts.plain, labels=True)
                name = f"sweep_{kind}_{seed}"
                counts["programs"] += 1
                for label in set(used) or {"(no effect statement)"}:
                    per_label[f"{kind}: {label}"][0] += 1
                try:
                    f = load_function(source, Path(tmp), name)
                    result = check_program(f, args, os.path.join(tmp, f"{name}.py"), rng,
                                           smooth=smooth_source(source))
                except Failure as failure:
                    counts[failure.kind] += 1
                    for label in set(used) or {"(no effect statement)"}:
                        per_label[f"{kind}: {label}"][1] += 1
                        if len(set(used)) <= 1:
                            per_label[f"{kind}: {label}"][2] += 1
                    sig = signature(failure)
                    classes.setdefault(sig, []).append(f"{kind}:{seed}")
                    if len(firsts.setdefault(failure.kind, [])) < opts.show:
                        firsts[failure.kind].append((kind, seed, str(failure), source))
                    continue
                except Exception as err:                 # noqa: BLE001 - a harness bug
                    counts["harness error"] += 1
                    print(f"harness error on {kind}:{seed}: {type(err).__name__}: {err}")
                    continue
                counts[{AGREE: "agreeing", REFUSED: "refused", SKIPPED: "skipped"}[result]] += 1
    elapsed = time.time() - started
    print(f"seeds {opts.start}..{opts.start + opts.count - 1}, kinds {kinds}, "
          f"{'plain' if opts.plain else 'with effects'}, {elapsed:.0f} s")
    for key in ("programs", "skipped", "agreeing", "refused", "wrong", "bare", "harness error"):
        print(f"  {key:14s} {counts[key]}")
    print("\nfailures by class (count, first programs):")
    for sig, where in sorted(classes.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(where):4d}  {sig}   e.g. {', '.join(where[:3])}")
    print("\nprograms by the effect statements they contain: failing / containing "
          "(failing with no other effect statement)")
    for label, (n, bad, alone) in sorted(per_label.items(), key=lambda kv: -kv[1][1] / max(1, kv[1][0])):
        print(f"  {bad:4d} / {n:4d}  ({alone:3d})  {label}")
    for kind, items in firsts.items():
        for k, seed, message, source in items:
            print(f"\n===== first {kind} program ({k}:{seed}): {message}\n{source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
