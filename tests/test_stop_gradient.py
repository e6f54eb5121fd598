"""s2sad.stop_gradient(x): the value of x, a constant for every derivative, in both modes,
at second order, optimized and not.  Expected values are closed forms written by hand (finite
differences see through stop_gradient, so they cannot be the reference here)."""
import numpy as np
import pytest

import s2sad
from s2sad import stop_gradient


@pytest.fixture(params=[True, False], ids=["optimized", "unoptimized"])
def optimize(request):
    return request.param


def scaled(x, y):
    return x * s2sad.stop_gradient(x * y) + y        # d/dx = x·y (the constant), d/dy = 1


def normalised(x):
    c = stop_gradient(np.sum(x))
    return np.sum(x * x) / c                          # gradient 2x / sum(x)


def copy_written(x):
    z = s2sad.stop_gradient(x)
    z[0] = 10.0                                       # writes into the copy, never into x
    return np.sum(x * z)                              # gradient z


def helper(v):
    return stop_gradient(v) * v


def through_helper(x):
    return np.sum(helper(x))                           # gradient x (not 2x)


def in_a_loop(x, n):
    y = x
    for i in range(n):
        y = y * stop_gradient(y)                       # y_{k+1} = c_k y_k: dy/dx = Π c_k
    return y


def test_reverse(optimize):
    g = s2sad.grad(scaled, argnums=(0, 1), optimize=optimize)(2.0, 3.0)
    assert g == pytest.approx((6.0, 1.0), rel=1e-15)
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(s2sad.grad(normalised, optimize=optimize)(x), 2 * x / 6.0, rtol=1e-15)
    np.testing.assert_allclose(s2sad.grad(through_helper, optimize=optimize)(x), x, rtol=1e-15)


def test_forward(optimize):
    value, tangent = s2sad.jvp(scaled, (2.0, 3.0), (1.0, 0.0), optimize=optimize)
    assert value == pytest.approx(15.0) and tangent == pytest.approx(6.0, rel=1e-15)
    x = np.array([1.0, 2.0, 3.0])
    d = np.array([0.5, -1.0, 2.0])
    _, t = s2sad.jvp(normalised, (x,), (d,), optimize=optimize)
    assert t == pytest.approx(float(2 * x @ d / 6.0), rel=1e-14)
    np.testing.assert_allclose(s2sad.jacfwd(through_helper, optimize=optimize)(x), x, rtol=1e-15)
    np.testing.assert_allclose(s2sad.jacrev(through_helper, optimize=optimize)(x), x, rtol=1e-15)


def test_second_order(optimize):
    # d/dx (x·c) = c is constant: the second derivative is zero, not 2y
    assert s2sad.grad(s2sad.grad(scaled, optimize=optimize), optimize=optimize)(2.0, 3.0) == 0.0
    assert s2sad.hessian(scaled, optimize=optimize)(2.0, 3.0) == 0.0
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(s2sad.hessian(normalised, optimize=optimize)(x), 2 * np.eye(3) / 6.0,
                               rtol=1e-14)


def test_loop(optimize):
    # y1 = c0 x with c0 = x; y2 = c1 y1 with c1 = x²: dy2/dx = c0 c1 = x³
    assert s2sad.grad(in_a_loop, optimize=optimize)(1.5, 2) == pytest.approx(1.5 ** 3, rel=1e-15)
    _, t = s2sad.jvp(in_a_loop, (1.5, 2), (1.0, 0), optimize=optimize)
    assert t == pytest.approx(1.5 ** 3, rel=1e-15)


def test_result_is_a_copy(optimize):
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(s2sad.grad(copy_written, optimize=optimize)(x), [10.0, 2.0, 3.0])
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    assert copy_written(x) == pytest.approx(10.0 + 4.0 + 9.0)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_value_is_unchanged():
    assert stop_gradient(2.5) == 2.5
    x = np.arange(3.0)
    y = stop_gradient(x)
    np.testing.assert_array_equal(x, y)
    assert y is not x


def test_the_generated_code_shows_the_constant():
    df = s2sad.grad(scaled)
    df(2.0, 3.0)
    src = s2sad.source(df)
    assert "stop_gradient(" in src and "y_bar" not in src      # no adjoint flows into y
