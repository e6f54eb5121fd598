"""docs/rules.md is generated from the rule registry (python3 -m s2sad.rules.table); it must be
current, and every rule of rules/numpy_elementwise.py, rules/numpy_reductions.py and the math
functions must have an entry in the finite-difference table of tests/test_rules_table.py."""
import os
import subprocess
import sys
from pathlib import Path

import s2sad
from s2sad.rules import table
from test_rules_table import REFUSALS, TABLE

ROOT = Path(__file__).resolve().parents[1]


def test_docs_rules_md_is_current():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "s2sad.rules.table", "--check"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + "\nregenerate it: python3 -m s2sad.rules.table"


def _called(pattern):
    """``np.var`` of ``"np.var(x, ...)"``, ``.var`` of ``"x.var(...)"``."""
    head = pattern.split("(")[0]
    return head if head.startswith(("np.", "math.")) else "." + head.split(".")[-1]


def test_every_rule_of_batch_1_has_finite_difference_checks():
    sources = "".join((ROOT / "s2sad" / "rules" / f).read_text()
                      for f in ("numpy_elementwise.py", "numpy_reductions.py", "math_.py"))
    helpers = (ROOT / "s2sad" / "rules" / "runtime_.py").read_text()     # what templates write
    tested = " ".join(entry[0] for entry in TABLE) + " " + " ".join(r[0] for r in REFUSALS)
    missing = []
    for pattern, *_ in table.rows():
        if "(" not in pattern:
            continue
        name = _called(pattern)
        if name.startswith(("np.", "math.")) and name + "(" in sources and name + "(" not in tested \
                and name + "(" not in helpers:
            missing.append(name)
        if name.startswith(".") and f"x{name}(" in sources and f"a{name}(" not in tested:
            missing.append(name)
    assert not missing, f"rules without an entry in tests/test_rules_table.py: {missing}"


def test_the_table_lists_second_order_for_smooth_rules():
    flags = {r[0]: r for r in table.rows()}
    assert flags["np.var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False)"][4]
    assert flags["np.log2(x)"][1:5] == (True, True, True, True)
    assert not flags["np.cumprod(x, axis=None, dtype=None, out=None)"][4]
    assert s2sad.custom_vjp and s2sad.custom_jvp
