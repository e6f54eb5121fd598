"""Jacobians: jacfwd (one vector-mode sweep) and jacrev (one reverse sweep per output)
against finite-difference Jacobians, for vector functions with control flow, several
arguments, tuple outputs and matrix shapes; and the vjp API."""
import math

import numpy as np
import pytest

import s2sad
from util import assert_close_tree, fd_jacobian

OPT = pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])

_r = np.random.default_rng(11)
A = _r.standard_normal((4, 3))
del _r


def affine_tanh(x):
    return np.tanh(A @ x + 0.5)


def with_if(x):
    if np.sum(x) > 0.0:
        y = x * np.exp(x[0])
    else:
        y = np.sin(x) * x[1]
    return y


def with_for(x):
    y = x
    for i in range(3):
        y = np.sin(y) * x + y[i]
    return y


def with_while(x):
    y = x
    n = 0
    while np.max(np.abs(y)) < 4.0:
        y = y * 1.5 + x * x
        n += 1
    return y[:2] * n


def matrix_in_matrix_out(M):
    return M.T @ M + np.sum(M ** 2) * 0.1


def two_args(x, s):
    return np.concatenate([x * s, np.exp(x) / s])


def scalar_out(x):
    return np.sum(np.log1p(x * x))


def polar(r, theta):
    return r * math.cos(theta), r * math.sin(theta)


CASES = [
    (affine_tanh, (np.array([0.3, -0.7, 1.1]),)),
    (with_if, (np.array([0.3, -0.2, 0.5]),)),
    (with_if, (np.array([-0.9, -0.2, 0.5]),)),
    (with_for, (np.array([0.3, -0.2, 0.5, 0.8]),)),
    (with_while, (np.array([0.3, -0.2, 0.5]),)),
    (matrix_in_matrix_out, (np.array([[0.3, -0.2, 0.5], [1.0, 0.4, -0.6]]),)),
    (scalar_out, (np.array([0.3, -0.2, 0.5]),)),
]


@OPT
@pytest.mark.parametrize("mode", ["jacfwd", "jacrev"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0].__name__}{k}" for k, c in enumerate(CASES)])
def test_jacobian_matches_finite_differences(case, mode, optimize):
    f, args = case
    jac = getattr(s2sad, mode)(f, optimize=optimize)(*args)
    want = fd_jacobian(f, args, 0)
    assert jac.shape == np.shape(f(*args)) + np.shape(args[0])
    assert_close_tree(jac, want, what=f"{mode} {f.__name__}")


@OPT
def test_jacfwd_equals_jacrev_with_tuple_argnums(optimize):
    x, s = np.array([0.3, -0.2, 0.5]), 1.7
    fwd = s2sad.jacfwd(two_args, argnums=(0, 1), optimize=optimize)(x, s)
    rev = s2sad.jacrev(two_args, argnums=(0, 1), optimize=optimize)(x, s)
    assert isinstance(fwd, tuple) and len(fwd) == 2
    assert fwd[0].shape == (6, 3) and fwd[1].shape == (6,)
    assert_close_tree(fwd, (fd_jacobian(two_args, (x, s), 0), fd_jacobian(two_args, (x, s), 1)))
    assert_close_tree(rev, fwd, rtol=1e-12, atol=1e-12)


@OPT
@pytest.mark.parametrize("mode", ["jacfwd", "jacrev"])
def test_tuple_output_gives_a_tuple_of_jacobians(mode, optimize):
    r, theta = 2.0, 0.6
    jac = getattr(s2sad, mode)(polar, argnums=(0, 1), optimize=optimize)(r, theta)
    expected = ((math.cos(theta), -r * math.sin(theta)), (math.sin(theta), r * math.cos(theta)))
    assert_close_tree(jac, expected, rtol=1e-13, atol=1e-13)


def test_jacfwd_is_one_sweep():
    """Vector mode: the tangent program runs once, with one row per input element."""
    calls = []
    jac = s2sad.jacfwd(affine_tanh)
    x = np.array([0.3, -0.7, 1.1])
    jac(x)
    fn = jac._last
    jac._last = None

    def counting(*a):
        calls.append(np.shape(a[-1]))
        return fn(*a)

    from s2sad import api
    key = next(k for k in api._TRANSFORMED[affine_tanh] if k[0] == "jvp" and k[4])
    api._TRANSFORMED[affine_tanh][key] = counting
    try:
        jac(x)
    finally:
        api._TRANSFORMED[affine_tanh][key] = fn
    assert calls == [(3, 3)]


def test_vjp_returns_value_and_a_tuple():
    x, s = np.array([0.3, -0.2, 0.5]), 1.7
    out, vjp_fn = s2sad.vjp(two_args, x, s)
    np.testing.assert_allclose(out, two_args(x, s))
    ct = np.arange(6.0)
    gx, gs = vjp_fn(ct)
    J0, J1 = fd_jacobian(two_args, (x, s), 0), fd_jacobian(two_args, (x, s), 1)
    np.testing.assert_allclose(gx, ct @ J0, rtol=1e-6)
    assert isinstance(gs, float)
    assert gs == pytest.approx(ct @ J1, rel=1e-6)


def test_vjp_of_tuple_output():
    out, vjp_fn = s2sad.vjp(polar, 2.0, 0.6)
    assert out == pytest.approx(polar(2.0, 0.6))
    gr, gt = vjp_fn((1.0, 0.0))
    assert gr == pytest.approx(math.cos(0.6), rel=1e-14)
    assert gt == pytest.approx(-2.0 * math.sin(0.6), rel=1e-14)


def test_vjp_integer_argument_gets_none():
    def f(x, n):
        return x * n

    _, vjp_fn = s2sad.vjp(f, np.array([1.0, 2.0]), 3)
    gx, gn = vjp_fn(np.ones(2))
    np.testing.assert_allclose(gx, [3.0, 3.0])
    assert gn is None


def test_jacobian_of_int_argument_is_an_error():
    with pytest.raises(s2sad.NotDifferentiableError):
        s2sad.jacfwd(affine_tanh)(np.array([1, 2, 3]))


def _scaled_cube(x, scale=2.0):
    return scale * x ** 3


def _power(x, *, power=3.0):
    return x ** power


def test_jacobians_and_hessian_take_keyword_arguments():
    # hessian(f)(x, scale=...) was a bare TypeError; a keyword-only parameter was refused
    for optimize in (True, False):
        assert s2sad.hessian(_scaled_cube, optimize=optimize)(0.7, scale=3.0) == pytest.approx(18 * 0.7)
        assert s2sad.hessian(_power, optimize=optimize)(0.7) == pytest.approx(6 * 0.7)
        assert s2sad.hessian(_power, optimize=optimize)(0.7, power=4.0) == pytest.approx(12 * 0.49)
        assert s2sad.jacfwd(_power, optimize=optimize)(0.7, power=4.0) == pytest.approx(4 * 0.343)
        assert s2sad.jacrev(_scaled_cube, optimize=optimize)(0.7, scale=1.0) == pytest.approx(3 * 0.49)
