"""Forward mode through calls into user code: each callee gets its own tangent program."""
import numpy as np
import pytest

import s2sad

OPT = pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])


def step(x):
    return 3 * x ** 2 - x + 1


def f_recursive(x):
    for i in range(4):
        x = step(x)
    return x


def f_recursive_derivatives(x):
    """d/dx and d2/dx2 of step applied 4 times, by the chain rule in plain Python."""
    d, dd = 1.0, 0.0
    for _ in range(4):
        s1, s2 = 6 * x - 1, 6.0
        d, dd = s1 * d, s2 * d * d + s1 * dd
        x = step(x)
    return d, dd


def scale(v, factor=2.0, *, shift=0.0):
    return v * factor + np.sin(v) + shift


def uses_scale(x, y):
    return np.sum(scale(x, factor=y) * x) + np.sum(scale(x, shift=y))


def fd_jacobian(f, args, i, eps=1e-6):
    x = np.asarray(args[i], dtype=float)
    cols = []
    for k in range(x.size):
        d = np.zeros(x.size)
        d[k] = eps
        plus = list(args)
        minus = list(args)
        plus[i] = (x.ravel() + d).reshape(x.shape) if x.ndim else float(x + eps)
        minus[i] = (x.ravel() - d).reshape(x.shape) if x.ndim else float(x - eps)
        cols.append((np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(np.shape(f(*args)) + x.shape)


@OPT
@pytest.mark.parametrize("x", [-0.4, 0.1, 0.3, 0.9])
def test_jvp_through_a_helper_in_a_loop(x, optimize):
    value, tangent = s2sad.jvp(f_recursive, (x,), (1.0,), optimize=optimize)
    assert value == pytest.approx(f_recursive(x))
    assert tangent == pytest.approx(f_recursive_derivatives(x)[0], rel=1e-12)


@OPT
@pytest.mark.parametrize("x", [-0.4, 0.3])
def test_hessian_through_a_helper_matches_the_chain_rule(x, optimize):
    assert s2sad.hessian(f_recursive, optimize=optimize)(x) == \
        pytest.approx(f_recursive_derivatives(x)[1], rel=1e-9)


@OPT
def test_jacfwd_through_a_helper_with_keywords_and_defaults(optimize):
    x, y = np.array([0.3, -0.5, 1.1]), 1.5
    jx, jy = s2sad.jacfwd(uses_scale, argnums=(0, 1), optimize=optimize)(x, y)
    np.testing.assert_allclose(jx, fd_jacobian(uses_scale, (x, y), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jy, fd_jacobian(uses_scale, (x, y), 1), rtol=1e-6, atol=1e-8)


def test_source_shows_the_callee_tangent_program():
    J = s2sad.jacfwd(uses_scale)
    J(np.array([0.3, -0.5]), 1.5)
    src = s2sad.source(J)
    assert "def jacfwd_scale(" in src and "jacfwd_scale(v=x" in src


def sums_a_list(x):
    xs = []
    for i in range(3):
        xs.append(np.sin(x) * (i + 1.0))
    return np.sum(sum(xs)) + float(np.sum(sum(x * x)))


@OPT
def test_builtin_sum_in_forward_and_vector_mode(optimize):
    x = np.array([0.3, -0.7])
    exact = 6.0 * np.cos(x) + 2 * x            # d/dx of sum_i (i+1) sin(x) + x^2
    _, t = s2sad.jvp(sums_a_list, (x,), (np.array([1.0, 0.0]),), optimize=optimize)
    assert t == pytest.approx(exact[0])
    np.testing.assert_allclose(s2sad.jacfwd(sums_a_list, optimize=optimize)(x), exact, rtol=1e-12)
    np.testing.assert_allclose(fd_jacobian(sums_a_list, (x,), 0), exact, rtol=1e-6)
