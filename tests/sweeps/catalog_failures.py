"""List the soundness catalog's failures afresh, and optionally rewrite
tests/catalog_expected_failures.py (the strict xfails of tests/test_catalog.py).

    PYTHONPATH=$PWD python3 tests/sweeps/catalog_failures.py [--write] [--markdown]

Runs tests/test_catalog.py with its expected failures switched off
(S2SAD_CATALOG_NO_XFAIL=1), turns each failure into a one-line reason
("<class>: <what happens>") and prints the table (or, with --markdown, the list by
class used in the findings notes).  After a fix, the strict xfails that now pass fail
the suite: rerun this with --write.
"""
import argparse
import collections
import os
import re
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))
MODES = ("reverse", "forward", "hessian")


class Collector:
    def __init__(self):
        self.failures = []

    def pytest_runtest_logreport(self, report):
        if report.when == "call" and report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            self.failures.append((report.nodeid, crash.message if crash else str(report.longrepr)))


def _num(text):
    try:
        return f"{float(text):.4g}"
    except ValueError:
        return text


def reason(message):
    """A failure message as a short reason."""
    first = message.split("\n")[0]
    first = re.sub(r"(/\S*/)?(tests/)?catalog_programs\.py:\d+:\d+: ", "", first)
    first = re.sub(r"<s2sad-\d+:(\w+)>:\d+:\d+: ", r"in \1: ", first)
    first = first.replace(str(TESTS.parent) + "/", "")
    m = re.match(r"AssertionError: (<grad, d>|jvp's tangent|jvp's value|value_and_grad's value|"
                 r"value_and_grad's gradient)[^:]*: got array\((.*?)\), expected array\((.*?)\) \(", first)
    if m:
        what = {"<grad, d>": "wrong gradient", "jvp's tangent": "wrong jvp tangent",
                "jvp's value": "wrong jvp value", "value_and_grad's value": "wrong value_and_grad value",
                "value_and_grad's gradient": "value_and_grad's gradient differs from grad's"}[m.group(1)]
        return f"{what}: {_num(m.group(2))} instead of {_num(m.group(3))}"
    m = re.match(r"AssertionError: d'He = (.*?), mixed difference (.*?) \(", first)
    if m:
        return f"wrong hessian: d'He {_num(m.group(1))} instead of {_num(m.group(2))}"
    if "DID NOT RAISE" in first:
        return "not refused: the derivative runs"
    if "refusal names none" in first:
        where = message.split("\n")[1].strip() if "\n" in message else ""
        return f"refused at the wrong place ({where.replace(str(TESTS.parent) + '/', '')[:120]})"
    if "catalog code ran" in first:
        return "refused only after the user's code ran"
    if first.startswith("AssertionError: in "):
        return "refused in generated code, not at the user's line: " + first[len("AssertionError: "):][:140]
    if "is not shaped like" in first or first.startswith("AssertionError: gradient w.r.t."):
        return "gradient has the wrong structure (" + first[len("AssertionError: "):][:100] + ")"
    if "hessian shape" in first:
        return "hessian has the wrong shape: " + first.split("hessian shape")[1].strip()
    m = re.match(r"s2sad\.errors\.(\w+): (.*)", first)
    if m:
        return f"refused ({m.group(1)}) although supported: {m.group(2)[:150]}"
    m = re.match(r"(\w+): (.*)", first)
    if m:
        return f"bare {m.group(1)}: {m.group(2)[:150]}"
    return first[:160]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite tests/catalog_expected_failures.py")
    parser.add_argument("--markdown", action="store_true", help="print the failures by class")
    opts = parser.parse_args(argv)
    import pytest
    os.environ["S2SAD_CATALOG_NO_XFAIL"] = "1"
    collector = Collector()
    pytest.main(["-p", "no:cacheprovider", "-q", "--tb=no", "-p", "no:warnings",
                 str(TESTS / "test_catalog.py"), "-k", "test_catalog"], plugins=[collector])
    import test_catalog
    cases = {f"{c.cls}-{c.id}": c for c in test_catalog.CASES}
    table = collections.OrderedDict((c.id, {}) for c in test_catalog.CASES)
    for nodeid, message in collector.failures:
        m = re.search(r"\[(.*)-(reverse|forward|hessian)-(optimized|unoptimized)\]", nodeid)
        if m:
            case = cases[m.group(1)]
            table[case.id][f"{m.group(2)}-{m.group(3)}"] = f"{case.cls}: {reason(message)}"
    merged = collections.OrderedDict()
    for cid, flavours in table.items():
        entry = {}
        for mode in MODES:
            o, u = flavours.get(f"{mode}-optimized"), flavours.get(f"{mode}-unoptimized")
            if o and u and o == u:
                entry[mode] = o
            else:
                entry.update({k: v for k, v in ((f"{mode}-optimized", o), (f"{mode}-unoptimized", u)) if v})
        if entry:
            merged[cid] = entry
    text = ['"""Catalog entries that fail today (tests/test_catalog.py marks them xfail(strict=True)):',
            'entry id -> {mode, or mode-optimized / mode-unoptimized: "<class>: <what happens>"}.',
            "",
            "Generated by tests/sweeps/catalog_failures.py --write.  When a fix makes an entry pass,",
            "its strict xfail turns into a failure: regenerate (or delete the line).",
            '"""', "", "EXPECTED_FAILURES = {"]
    for cid, entry in merged.items():
        text.append(f"    {cid!r}: {{")
        for k, v in entry.items():
            text.append(f"        {k!r}:\n            {v!r},")
        text.append("    },")
    text.append("}")
    if opts.write:
        (TESTS / "catalog_expected_failures.py").write_text("\n".join(text) + "\n")
    if opts.markdown:
        by_class = collections.OrderedDict()
        for case in test_catalog.CASES:
            if case.id not in merged:
                continue
            parts = collections.OrderedDict()
            for k, v in merged[case.id].items():
                parts.setdefault(v.split(": ", 1)[1], []).append(k)
            line = "; ".join(f"{'/'.join(ks)}: {r}" for r, ks in parts.items())
            by_class.setdefault(case.cls, []).append(f"- `{case.id}` ({case.expect}): {line}")
        print(f"{len(merged)} of {len(test_catalog.CASES)} catalog entries fail in some mode.\n")
        for cls, lines in by_class.items():
            print(f"### {cls} ({len(lines)})\n" + "\n".join(lines) + "\n")
    elif not opts.write:
        print("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
