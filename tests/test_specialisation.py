"""A derivative is specialised on the kinds of its arguments (and of the global arrays
it reads): each kind gets correct code, and the lean code where kinds are known."""
import numpy as np
import pytest

import s2sad

G = np.ones((2, 3))


def reads_global(x):
    return np.sum(G @ x)


def test_rebinding_a_global_to_another_ndim_retransforms():
    global G
    saved = G
    try:
        G = np.arange(6.0).reshape(2, 3)
        df = s2sad.grad(reads_global)
        np.testing.assert_allclose(df(np.ones(3)), G.sum(axis=0))
        G = np.array([1.0, -2.0, 3.0])              # now G @ x is a dot product
        np.testing.assert_allclose(df(np.ones(3)), G)
    finally:
        G = saved


def mixed(x, y):
    return np.sum(x * y + np.sin(x))


def test_float_and_array_arguments_get_their_own_code():
    df = s2sad.grad(mixed, argnums=(0, 1))
    gx, gy = df(0.5, 2.0)
    assert type(gx) is float and gx == pytest.approx(2.0 + np.cos(0.5))
    scalar_source = s2sad.source(df)
    assert "unbroadcast" not in scalar_source
    x, y = np.array([0.1, 0.2, 0.3]), np.array([[1.0], [2.0]])   # broadcasting (2, 3)
    gx, gy = df(x, y)
    np.testing.assert_allclose(gx, y.sum() + 2 * np.cos(x))
    np.testing.assert_allclose(gy, np.full((2, 1), x.sum()))
    assert gy.shape == (2, 1)
    assert "unbroadcast" in s2sad.source(df)


def test_scalar_code_has_no_array_helpers():
    def poly(x):
        return 3 * x ** 2 - x + 1
    df = s2sad.grad(poly)
    assert df(2.0) == pytest.approx(11.0)
    src = s2sad.source(df)
    for helper in ("unbroadcast", "unreduce", "zeros_like", "np."):
        assert helper not in src, src
