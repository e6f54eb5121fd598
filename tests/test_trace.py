"""s2sad.trace: the evaluation traces of seed lecture 003, reproduced from the three-address form.

The lecture's f(x1, x2) = ln(x1) + x1·x2 − sin(x2) at (2, 5), written in the lecture's order
of evaluation (v3 = sin v0 before v4 = v1 + v2; Python evaluates ln(x1) + x1·x2 first).
"""
import inspect
import math

import numpy as np
import pytest

import s2sad


def f(x1, x2):
    v1 = math.log(x1)
    v2 = x1 * x2
    v3 = math.sin(x2)
    v4 = v1 + v2
    v5 = v4 - v3
    return v5


def g(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


def h(x, n):
    y = x
    for i in range(n):
        if y < 2:
            y = 3 * y * y - y + 1
        else:
            y = math.sin(y) * y
    return y


def two_outputs(x):
    return x * 2.0, x


ran = []


def unsupported(x):
    ran.append(1)
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return y


def triples(trace, section):
    return [(r.name, r.expression, r.shown) for r in trace.section(section)]


# the lecture's tables (x1 = 2, x2 = 5), its × written *, its v̇ / v̄ written _dot / _bar
PRIMAL = [("v-1", "x1", "2"), ("v0", "x2", "5"), ("v1", "ln(v-1)", "0.693"), ("v2", "v-1 * v0", "10"),
          ("v3", "sin(v0)", "-0.959"), ("v4", "v1 + v2", "10.693"), ("v5", "v4 - v3", "11.652"),
          ("y", "v5", "11.652")]
TANGENT = [("v-1_dot", "x1_dot", "1"), ("v0_dot", "x2_dot", "0"), ("v1_dot", "v-1_dot / v-1", "0.5"),
           ("v2_dot", "v-1_dot * v0 + v-1 * v0_dot", "5"), ("v3_dot", "v0_dot * cos(v0)", "0"),
           ("v4_dot", "v1_dot + v2_dot", "5.5"), ("v5_dot", "v4_dot - v3_dot", "5.5"),
           ("y_dot", "v5_dot", "5.5")]
# the reverse table of the lecture, from its last line up: (name, value)
ADJOINT = [("v5_bar", "1"), ("v4_bar", "1"), ("v3_bar", "-1"), ("v1_bar", "1"), ("v2_bar", "1"),
           ("v0_bar", "-0.284"), ("v-1_bar", "5"), ("v0_bar", "1.716"), ("v-1_bar", "5.5"),
           ("x1_bar", "5.5"), ("x2_bar", "1.716")]


def test_seed_003_forward_primal_and_tangent_traces():
    t = s2sad.trace(f, mode="forward")(2.0, 5.0)
    assert triples(t, "primal") == PRIMAL
    assert triples(t, "tangent") == TANGENT
    assert t.section("tangent")[-1].value == pytest.approx(5.5, rel=1e-15)


def test_seed_003_reverse_adjoint_trace():
    t = s2sad.trace(f)(2.0, 5.0)
    assert triples(t, "primal") == PRIMAL
    rows = t.section("adjoint")
    # the lecture's rows and values, in the lecture's order
    assert [(r.name, r.shown) for r in rows] == ADJOINT
    expressions = {(r.name, r.expression) for r in rows}
    assert {("v5_bar", "y_bar"), ("v0_bar", "v3_bar * cos(v0)"), ("v-1_bar", "v2_bar * v0"),
            ("v0_bar", "v0_bar + v2_bar * v-1"), ("v-1_bar", "v-1_bar + v1_bar / v-1")} <= expressions
    # the numbers are the derivative's, not rounded
    assert rows[-2].value == 5.5 and rows[-1].value == pytest.approx(2 - math.cos(5.0), rel=1e-15)


def test_table_text():
    text = str(s2sad.trace(f)(2.0, 5.0))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "Forward primal trace of f" in lines and "Reverse adjoint trace of f" in lines
    assert "v1 = ln(v-1) = 0.693" in lines
    assert "v0_bar = v3_bar * cos(v0) = -0.284" in lines
    assert "x2_bar = v0_bar = 1.716" in lines


def test_names_style_keeps_the_three_address_names():
    t = s2sad.trace(g, style="names")(2.0, 5.0)
    assert ("t1", "np.log(x1)", "0.693") in triples(t, "primal")
    assert triples(t, "adjoint")[-1][0] == "x1_bar"
    assert t.section("adjoint")[-1].value == pytest.approx(5.5)


def test_loops_and_branches_as_they_ran():
    t = s2sad.trace(h)(0.5, 3)
    primal = triples(t, "primal")
    assert sum(1 for r in primal if r[0] == "t1") == 2          # the `if` side ran twice
    assert sum(1 for r in primal if r[0] == "t4") == 1          # the `else` side once
    last = t.section("adjoint")[-1]
    assert last.name == "x_bar" and last.value == pytest.approx(s2sad.grad(h)(0.5, 3), rel=1e-15)
    tf = s2sad.trace(h, mode="forward")(0.5, 3)
    assert tf.section("tangent")[-1].value == pytest.approx(s2sad.grad(h)(0.5, 3), rel=1e-15)


def test_arrays_and_explicit_tangents():
    def loss(w, X):
        return np.sum(np.tanh(X @ w))
    w, X = np.array([0.1, 0.2]), np.arange(6.0).reshape(3, 2) / 10
    t = s2sad.trace(loss, argnums=0)(w, X)
    np.testing.assert_allclose(t.section("adjoint")[-1].value, s2sad.grad(loss)(w, X), rtol=1e-15)
    d = np.array([1.0, -2.0])
    tf = s2sad.trace(loss, mode="forward", argnums=0, tangents=[d])(w, X)
    assert tf.section("tangent")[-1].value == pytest.approx(float(s2sad.grad(loss)(w, X) @ d), rel=1e-14)
    assert repr(tf).startswith("<s2sad.Trace of loss")


def test_reverse_trace_of_a_tuple_output_is_refused():
    with pytest.raises(s2sad.NotDifferentiableError, match="scalar output"):
        s2sad.trace(two_outputs)(1.0)
    s2sad.trace(two_outputs, mode="forward")(1.0)


def test_unsupported_code_is_refused_before_running():
    ran.clear()
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.trace(unsupported)(1.0)
    lineno = inspect.getsourcelines(unsupported)[1] + 2
    assert f":{lineno}:" in str(info.value)
    assert not ran


@pytest.mark.parametrize("kwargs", [dict(mode="sideways"), dict(style="greek")])
def test_bad_options(kwargs):
    with pytest.raises(s2sad.ArgumentError):
        s2sad.trace(f, **kwargs)
