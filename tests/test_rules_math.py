"""Derivative rules for the functions of the ``math`` module.

Each test differentiates a small scalar function of Python floats, checks the
gradient against central finite differences (via ``check_grad``) and against
the closed-form derivative computed with numpy/math.  Functions are defined
either inside the test (most tests) or at module level (the ``from math import
...`` style tests) -- both must work.
"""
import math
from math import sin, exp, hypot, atan2 as m_atan2

import numpy as np
import pytest

import s2sad
from util import check_grad

OPT = pytest.mark.parametrize("optimize", [True, False])

CLOSE = dict(rtol=1e-9, atol=1e-12)


def assert_close(got, want):
    assert np.isclose(float(got), float(want), **CLOSE), f"got {got!r}, want {want!r}"


# --------------------------------------------------------------------------
# one-argument functions, `math.xxx` style, functions defined in the test
# --------------------------------------------------------------------------

@OPT
@pytest.mark.parametrize("x", [0.3, -1.2, 2.5])
def test_sin(optimize, x):
    def f(x):
        return math.sin(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 * np.cos(x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -1.2, 2.5])
def test_cos(optimize, x):
    def f(x):
        return math.cos(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, -2.0 * np.sin(x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -0.9, 1.1])
def test_tan(optimize, x):
    def f(x):
        return math.tan(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 / np.cos(x) ** 2 + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -1.2, 2.0])
def test_exp(optimize, x):
    def f(x):
        return math.exp(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 * np.exp(x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, 1.0, 4.5])
def test_log(optimize, x):
    def f(x):
        return math.log(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 / x + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -0.6, 4.5])
def test_log1p(optimize, x):
    def f(x):
        return math.log1p(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 / (1.0 + x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -1.2, 1e-3])
def test_expm1(optimize, x):
    def f(x):
        return math.expm1(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 * np.exp(x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, 1.0, 7.0])
def test_sqrt(optimize, x):
    def f(x):
        return math.sqrt(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 1.0 / np.sqrt(x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -1.2, 2.0])
def test_tanh(optimize, x):
    def f(x):
        return math.tanh(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 * (1.0 - np.tanh(x) ** 2) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -1.2, 2.0])
def test_sinh(optimize, x):
    def f(x):
        return math.sinh(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 * np.cosh(x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -1.2, 2.0])
def test_cosh(optimize, x):
    def f(x):
        return math.cosh(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 * np.sinh(x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -0.7, 0.9])
def test_asin(optimize, x):
    def f(x):
        return math.asin(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 / np.sqrt(1.0 - x * x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -0.7, 0.9])
def test_acos(optimize, x):
    def f(x):
        return math.acos(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, -2.0 / np.sqrt(1.0 - x * x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -1.2, 5.0])
def test_atan(optimize, x):
    def f(x):
        return math.atan(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 / (1.0 + x * x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -1.2, 1.5])
def test_erf(optimize, x):
    def f(x):
        return math.erf(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 * 2.0 / np.sqrt(np.pi) * np.exp(-x * x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -1.2, 2.5])
def test_fabs(optimize, x):
    def f(x):
        return math.fabs(x) * 2.0 + x

    g = check_grad(f, x, optimize=optimize)
    assert_close(g, 2.0 * np.sign(x) + 1.0)


# --------------------------------------------------------------------------
# two-argument functions, both arguments differentiated
# --------------------------------------------------------------------------

@OPT
@pytest.mark.parametrize("y, x", [(0.7, 1.3), (-0.4, 2.0), (1.1, -0.8), (-0.5, -1.5)])
def test_atan2(optimize, y, x):
    def f(y, x):
        return math.atan2(y, x) * 2.0 + x * y

    gy, gx = check_grad(f, y, x, argnums=(0, 1), optimize=optimize)
    r2 = x * x + y * y
    assert_close(gy, 2.0 * x / r2 + x)
    assert_close(gx, -2.0 * y / r2 + y)


@OPT
@pytest.mark.parametrize("x, y", [(1.3, 2.5), (0.6, -1.5), (2.0, 0.5)])
def test_pow(optimize, x, y):
    def f(x, y):
        return math.pow(x, y) * 2.0 + x

    gx, gy = check_grad(f, x, y, argnums=(0, 1), optimize=optimize)
    assert_close(gx, 2.0 * y * x ** (y - 1.0) + 1.0)
    assert_close(gy, 2.0 * x ** y * np.log(x))


@OPT
def test_pow_argnums_reversed_order(optimize):
    def f(x, y):
        return math.pow(x, y) * 2.0 + x

    x, y = 1.3, 2.5
    gy, gx = check_grad(f, x, y, argnums=(1, 0), optimize=optimize)
    assert_close(gx, 2.0 * y * x ** (y - 1.0) + 1.0)
    assert_close(gy, 2.0 * x ** y * np.log(x))


@OPT
def test_pow_exponent_only(optimize):
    def f(x, y):
        return math.pow(x, y) * 2.0 + x

    x, y = 1.7, -0.3
    gy = check_grad(f, x, y, argnums=1, optimize=optimize)
    assert_close(gy, 2.0 * x ** y * np.log(x))


@OPT
@pytest.mark.parametrize("x, y", [(1.3, 2.5), (-0.6, 1.5), (2.0, -0.5)])
def test_hypot(optimize, x, y):
    def f(x, y):
        return math.hypot(x, y) * 2.0 + x

    gx, gy = check_grad(f, x, y, argnums=(0, 1), optimize=optimize)
    h = np.hypot(x, y)
    assert_close(gx, 2.0 * x / h + 1.0)
    assert_close(gy, 2.0 * y / h)


# --------------------------------------------------------------------------
# `from math import sin` style, functions defined at module level
# --------------------------------------------------------------------------

def f_bare_sin(x):
    return sin(x) * 2.0 + x


def f_bare_exp_sin(x):
    return exp(sin(x)) * 3.0 - x * x


def f_bare_hypot(x, y):
    return hypot(x, y) * 2.0 + x


def f_bare_atan2(y, x):
    return m_atan2(y, x) + 0.5 * x


@OPT
@pytest.mark.parametrize("x", [0.3, -1.2])
def test_from_math_import_sin(optimize, x):
    g = check_grad(f_bare_sin, x, optimize=optimize)
    assert_close(g, 2.0 * np.cos(x) + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -1.2])
def test_from_math_import_composed(optimize, x):
    g = check_grad(f_bare_exp_sin, x, optimize=optimize)
    assert_close(g, 3.0 * np.exp(np.sin(x)) * np.cos(x) - 2.0 * x)


@OPT
def test_from_math_import_hypot(optimize):
    x, y = 1.3, -2.1
    gx, gy = check_grad(f_bare_hypot, x, y, argnums=(0, 1), optimize=optimize)
    h = np.hypot(x, y)
    assert_close(gx, 2.0 * x / h + 1.0)
    assert_close(gy, 2.0 * y / h)


@OPT
def test_from_math_import_as_alias(optimize):
    y, x = 0.7, -1.3
    gy, gx = check_grad(f_bare_atan2, y, x, argnums=(0, 1), optimize=optimize)
    r2 = x * x + y * y
    assert_close(gy, x / r2)
    assert_close(gx, -y / r2 + 0.5)


# --------------------------------------------------------------------------
# compositions, to make sure the chain rule threads through math calls
# --------------------------------------------------------------------------

def f_chain(x):
    return math.log(1.0 + math.exp(math.sin(x))) * math.sqrt(x * x + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.4, -1.7])
def test_math_chain(optimize, x):
    g = check_grad(f_chain, x, optimize=optimize)
    s = np.sin(x)
    a = np.log1p(np.exp(s))
    da = np.exp(s) / (1.0 + np.exp(s)) * np.cos(x)
    b = np.sqrt(x * x + 1.0)
    db = x / b
    assert_close(g, da * b + a * db)


@OPT
def test_math_result_is_python_float(optimize):
    def f(x):
        return math.sin(x) * math.cos(x)

    g = s2sad.grad(f, optimize=optimize)(0.8)
    assert isinstance(g, float)
    assert_close(g, np.cos(1.6))
