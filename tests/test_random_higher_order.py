"""Second order on random programs (branches, early returns, while loops, break and
continue, list-building loops, helpers, in-place writes): ``hessian``, ``grad(grad)``,
``jacfwd(grad)`` and ``jacrev(grad)`` either agree with central finite differences of
``grad(f)`` (itself checked against finite differences of ``f``) or refuse with an
S2SADError -- never a wrong value.  The offline sweep over a seed range, with counts by
outcome, is tests/sweeps/higher_order_sweep.py."""
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent / "sweeps"))
from higher_order_sweep import check_program  # noqa: E402


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10 ** 9))
def test_random_program_second_order(tmp_path, seed):
    outcomes, details, source, point = check_program(seed, tmp_path)
    wrong = {k: details[k] for k, v in outcomes.items() if v == "wrong"}
    assert not wrong, (source, point, wrong)
