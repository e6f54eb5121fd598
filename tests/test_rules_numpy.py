"""Derivative rules for NumPy: ufuncs, reductions, linear algebra, shape
manipulation, operators, subscripts, broadcasting, dtypes and
non-differentiable helpers.

Every gradient is checked against central finite differences (``check_grad``)
or against a closed form computed with numpy -- never against s2sad itself.
Every check runs with ``optimize=True`` and ``optimize=False``.

Functions are mostly defined at module level; a few are defined inside the
test function (both must work).  Outputs are made scalar with ``np.sum`` and
weighted by fixed random arrays (``W..``) so that every element of the
argument influences the output differently.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import s2sad
from util import check_grad

OPT = pytest.mark.parametrize("optimize", [True, False])


def _ids(fn):
    return getattr(fn, "__name__", str(fn))


# --------------------------------------------------------------------------
# fixed random weights (constants inside the differentiated functions)
# --------------------------------------------------------------------------

_wr = np.random.default_rng(20240601)
W2 = _wr.standard_normal(2)
W3 = _wr.standard_normal(3)
W4 = _wr.standard_normal(4)
W5 = _wr.standard_normal(5)
W12 = _wr.standard_normal(12)
W23 = _wr.standard_normal((2, 3))
W24 = _wr.standard_normal((2, 4))
W26 = _wr.standard_normal((2, 6))
W32 = _wr.standard_normal((3, 2))
W33 = _wr.standard_normal((3, 3))
W34 = _wr.standard_normal((3, 4))
W36 = _wr.standard_normal((3, 6))
W43 = _wr.standard_normal((4, 3))
W52 = _wr.standard_normal((5, 2))
W54 = _wr.standard_normal((5, 4))
W134 = _wr.standard_normal((1, 3, 4))
W234 = _wr.standard_normal((2, 3, 4))
W314 = _wr.standard_normal((3, 1, 4))
W324 = _wr.standard_normal((3, 2, 4))
W341 = _wr.standard_normal((3, 4, 1))
W342 = _wr.standard_normal((3, 4, 2))
del _wr


def _rng(seed=0):
    return np.random.default_rng(seed)


def sample(kind, shape=(3, 4), seed=0):
    """float64 test points inside the domain of each function."""
    rng = _rng(seed)
    if kind == "any":
        return rng.uniform(-1.5, 1.5, shape)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "unit":          # arcsin / arccos
        return rng.uniform(-0.9, 0.9, shape)
    if kind == "tan":
        return rng.uniform(-1.2, 1.2, shape)
    if kind == "log1p":
        return rng.uniform(-0.5, 2.0, shape)
    if kind == "nonzero":       # abs, sign: |x| >= 0.2
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 1.5, shape)
    if kind == "clip":          # away from the clip bounds +-0.5 and from 0
        u = rng.uniform(0.05, 0.45, shape)
        mag = np.where(rng.random(shape) < 0.5, u, u + 0.55)
        return rng.choice([-1.0, 1.0], shape) * mag
    if kind == "prodsafe":      # no zeros, moderate magnitude
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)
    if kind == "frac":          # fractional part in [0.1, 0.4] u [0.6, 0.9]
        base = rng.integers(-3, 3, shape).astype(np.float64)
        f = rng.uniform(0.1, 0.4, shape)
        f = np.where(rng.random(shape) < 0.5, f, f + 0.5)
        return base + f
    if kind == "spd":           # well-conditioned square matrix
        n = shape[0]
        return rng.standard_normal((n, n)) * 0.3 + 2.0 * np.eye(n)
    raise ValueError(kind)


# ==========================================================================
# elementwise ufuncs, one argument
# ==========================================================================

def u_sin(x):
    return np.sum(np.sin(x) * W34)


def u_cos(x):
    return np.sum(np.cos(x) * W34)


def u_tan(x):
    return np.sum(np.tan(x) * W34)


def u_exp(x):
    return np.sum(np.exp(x) * W34)


def u_log(x):
    return np.sum(np.log(x) * W34)


def u_log1p(x):
    return np.sum(np.log1p(x) * W34)


def u_expm1(x):
    return np.sum(np.expm1(x) * W34)


def u_sqrt(x):
    return np.sum(np.sqrt(x) * W34)


def u_tanh(x):
    return np.sum(np.tanh(x) * W34)


def u_sinh(x):
    return np.sum(np.sinh(x) * W34)


def u_cosh(x):
    return np.sum(np.cosh(x) * W34)


def u_arcsin(x):
    return np.sum(np.arcsin(x) * W34)


def u_arccos(x):
    return np.sum(np.arccos(x) * W34)


def u_arctan(x):
    return np.sum(np.arctan(x) * W34)


def u_abs(x):
    return np.sum(np.abs(x) * W34)


def u_absolute(x):
    return np.sum(np.absolute(x) * W34)


def u_builtin_abs(x):
    return np.sum(abs(x) * W34)


def u_clip(x):
    return np.sum(np.clip(x, -0.5, 0.5) * W34)


def u_maximum_const(x):
    return np.sum(np.maximum(x, 0.0) * W34)


def u_minimum_const(x):
    return np.sum(np.minimum(x, 0.0) * W34)


def u_where_relu(x):
    return np.sum(np.where(x > 0.0, x, 0.0) * W34)


def u_power_const(x):
    return np.sum(np.power(x, 3.0) * W34)


def u_power_const_base(x):
    return np.sum(np.power(2.0, x) * W34)


def u_chain(x):
    return np.sum(np.exp(np.sin(x)) * np.tanh(x) * W34)


UNARY = [
    (u_sin, "any"), (u_cos, "any"), (u_tan, "tan"), (u_exp, "any"),
    (u_log, "pos"), (u_log1p, "log1p"), (u_expm1, "any"), (u_sqrt, "pos"),
    (u_tanh, "any"), (u_sinh, "any"), (u_cosh, "any"),
    (u_arcsin, "unit"), (u_arccos, "unit"), (u_arctan, "any"),
    (u_abs, "nonzero"), (u_absolute, "nonzero"), (u_builtin_abs, "nonzero"),
    (u_clip, "clip"), (u_maximum_const, "nonzero"), (u_minimum_const, "nonzero"),
    (u_where_relu, "nonzero"), (u_power_const, "any"), (u_power_const_base, "any"),
    (u_chain, "any"),
]


@OPT
@pytest.mark.parametrize("fn, kind", UNARY, ids=[f.__name__ for f, _ in UNARY])
def test_unary_ufunc(fn, kind, optimize):
    x = sample(kind)
    check_grad(fn, x, optimize=optimize)


# closed forms for a few, to pin the rules down independently of FD
CLOSED_UNARY = [
    (u_sin, "any", lambda x: np.cos(x)),
    (u_log, "pos", lambda x: 1.0 / x),
    (u_sqrt, "pos", lambda x: 0.5 / np.sqrt(x)),
    (u_tanh, "any", lambda x: 1.0 - np.tanh(x) ** 2),
    (u_arccos, "unit", lambda x: -1.0 / np.sqrt(1.0 - x * x)),
    (u_abs, "nonzero", lambda x: np.sign(x)),
    (u_clip, "clip", lambda x: (np.abs(x) < 0.5).astype(np.float64)),
    (u_maximum_const, "nonzero", lambda x: (x > 0).astype(np.float64)),
    (u_power_const, "any", lambda x: 3.0 * x * x),
]


@OPT
@pytest.mark.parametrize("fn, kind, dfn", CLOSED_UNARY,
                         ids=[f.__name__ for f, _, _ in CLOSED_UNARY])
def test_unary_ufunc_closed_form(fn, kind, dfn, optimize):
    x = sample(kind, seed=3)
    g = s2sad.grad(fn, optimize=optimize)(x)
    np.testing.assert_allclose(g, dfn(x) * W34, rtol=1e-10, atol=1e-12)


# ufuncs applied to Python floats: the gradient is a float
def uf_scalar(x):
    return np.sin(x) * np.exp(x) + np.sqrt(x * x + 1.0)


@OPT
@pytest.mark.parametrize("x", [0.3, -1.1])
def test_numpy_ufunc_on_python_float(x, optimize):
    g = check_grad(uf_scalar, x, optimize=optimize)
    want = np.cos(x) * np.exp(x) + np.sin(x) * np.exp(x) + x / np.sqrt(x * x + 1.0)
    assert np.isclose(g, want, rtol=1e-10)


# ==========================================================================
# elementwise ufuncs, two differentiated arguments
# ==========================================================================

def b_arctan2(y, x):
    return np.sum(np.arctan2(y, x) * W34)


def b_maximum(x, y):
    return np.sum(np.maximum(x, y) * W34)


def b_minimum(x, y):
    return np.sum(np.minimum(x, y) * W34)


def b_power(x, y):
    return np.sum(np.power(x, y) * W34)


def b_logaddexp(x, y):
    return np.sum(np.logaddexp(x, y) * W34)


def b_where(x, y):
    return np.sum(np.where(x > y, x * x, 3.0 * y) * W34)


BINARY = [
    (b_arctan2, "any", "any"), (b_maximum, "any", "any"), (b_minimum, "any", "any"),
    (b_power, "pos", "any"), (b_logaddexp, "any", "any"), (b_where, "any", "any"),
]


@OPT
@pytest.mark.parametrize("fn, kx, ky", BINARY, ids=[f.__name__ for f, _, _ in BINARY])
def test_binary_ufunc(fn, kx, ky, optimize):
    x = sample(kx, seed=1)
    y = sample(ky, seed=2)
    assert np.min(np.abs(x - y)) > 1e-3  # away from ties for maximum/minimum/where
    check_grad(fn, x, y, argnums=(0, 1), optimize=optimize)


@OPT
def test_binary_ufunc_closed_forms(optimize):
    x = sample("pos", seed=4)
    y = sample("any", seed=5)
    gx, gy = s2sad.grad(b_power, argnums=(0, 1), optimize=optimize)(x, y)
    np.testing.assert_allclose(gx, y * x ** (y - 1.0) * W34, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gy, x ** y * np.log(x) * W34, rtol=1e-10, atol=1e-12)

    gx, gy = s2sad.grad(b_maximum, argnums=(0, 1), optimize=optimize)(x, y)
    np.testing.assert_allclose(gx, (x > y) * W34, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gy, (y > x) * W34, rtol=1e-12, atol=1e-12)

    gy2, gx2 = s2sad.grad(b_arctan2, argnums=(0, 1), optimize=optimize)(y, x)
    r2 = x * x + y * y
    np.testing.assert_allclose(gy2, x / r2 * W34, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx2, -y / r2 * W34, rtol=1e-10, atol=1e-12)

    gx, gy = s2sad.grad(b_logaddexp, argnums=(0, 1), optimize=optimize)(x, y)
    s = np.exp(x) + np.exp(y)
    np.testing.assert_allclose(gx, np.exp(x) / s * W34, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gy, np.exp(y) / s * W34, rtol=1e-10, atol=1e-12)


@OPT
@pytest.mark.parametrize("argnums", [0, 1])
def test_power_single_argnum(argnums, optimize):
    x = sample("pos", seed=6)
    y = sample("any", seed=7)
    check_grad(b_power, x, y, argnums=argnums, optimize=optimize)


# ==========================================================================
# reductions: sum / mean / prod / max / min, function and method form
# ==========================================================================

def red_np_sum_none(x):
    r = np.sum(x, axis=None)
    return np.sum(r * r + r)

def red_meth_sum_none(x):
    r = x.sum(axis=None)
    return np.sum(r * r + r)

def red_np_sum_ax0(x):
    r = np.sum(x, axis=0)
    return np.sum(r * r + r)

def red_meth_sum_ax0(x):
    r = x.sum(axis=0)
    return np.sum(r * r + r)

def red_np_sum_ax1(x):
    r = np.sum(x, axis=1)
    return np.sum(r * r + r)

def red_meth_sum_ax1(x):
    r = x.sum(axis=1)
    return np.sum(r * r + r)

def red_np_sum_axm1(x):
    r = np.sum(x, axis=-1)
    return np.sum(r * r + r)

def red_meth_sum_axm1(x):
    r = x.sum(axis=-1)
    return np.sum(r * r + r)

def red_np_sum_ax0k(x):
    r = np.sum(x, axis=0, keepdims=True)
    return np.sum(r * r + r)

def red_meth_sum_ax0k(x):
    r = x.sum(axis=0, keepdims=True)
    return np.sum(r * r + r)

def red_np_sum_ax1k(x):
    r = np.sum(x, axis=1, keepdims=True)
    return np.sum(r * r + r)

def red_meth_sum_ax1k(x):
    r = x.sum(axis=1, keepdims=True)
    return np.sum(r * r + r)

def red_np_sum_axm1k(x):
    r = np.sum(x, axis=-1, keepdims=True)
    return np.sum(r * r + r)

def red_meth_sum_axm1k(x):
    r = x.sum(axis=-1, keepdims=True)
    return np.sum(r * r + r)

def red_np_sum_nonek(x):
    r = np.sum(x, keepdims=True)
    return np.sum(r * r + r)

def red_meth_sum_nonek(x):
    r = x.sum(keepdims=True)
    return np.sum(r * r + r)

def red_np_sum_bare(x):
    r = np.sum(x)
    return np.sum(r * r + r)

def red_meth_sum_bare(x):
    r = x.sum()
    return np.sum(r * r + r)

def red_np_mean_none(x):
    r = np.mean(x, axis=None)
    return np.sum(r * r + r)

def red_meth_mean_none(x):
    r = x.mean(axis=None)
    return np.sum(r * r + r)

def red_np_mean_ax0(x):
    r = np.mean(x, axis=0)
    return np.sum(r * r + r)

def red_meth_mean_ax0(x):
    r = x.mean(axis=0)
    return np.sum(r * r + r)

def red_np_mean_ax1(x):
    r = np.mean(x, axis=1)
    return np.sum(r * r + r)

def red_meth_mean_ax1(x):
    r = x.mean(axis=1)
    return np.sum(r * r + r)

def red_np_mean_axm1(x):
    r = np.mean(x, axis=-1)
    return np.sum(r * r + r)

def red_meth_mean_axm1(x):
    r = x.mean(axis=-1)
    return np.sum(r * r + r)

def red_np_mean_ax0k(x):
    r = np.mean(x, axis=0, keepdims=True)
    return np.sum(r * r + r)

def red_meth_mean_ax0k(x):
    r = x.mean(axis=0, keepdims=True)
    return np.sum(r * r + r)

def red_np_mean_ax1k(x):
    r = np.mean(x, axis=1, keepdims=True)
    return np.sum(r * r + r)

def red_meth_mean_ax1k(x):
    r = x.mean(axis=1, keepdims=True)
    return np.sum(r * r + r)

def red_np_mean_axm1k(x):
    r = np.mean(x, axis=-1, keepdims=True)
    return np.sum(r * r + r)

def red_meth_mean_axm1k(x):
    r = x.mean(axis=-1, keepdims=True)
    return np.sum(r * r + r)

def red_np_mean_nonek(x):
    r = np.mean(x, keepdims=True)
    return np.sum(r * r + r)

def red_meth_mean_nonek(x):
    r = x.mean(keepdims=True)
    return np.sum(r * r + r)

def red_np_mean_bare(x):
    r = np.mean(x)
    return np.sum(r * r + r)

def red_meth_mean_bare(x):
    r = x.mean()
    return np.sum(r * r + r)

def red_np_prod_none(x):
    r = np.prod(x, axis=None)
    return np.sum(r * r + r)

def red_meth_prod_none(x):
    r = x.prod(axis=None)
    return np.sum(r * r + r)

def red_np_prod_ax0(x):
    r = np.prod(x, axis=0)
    return np.sum(r * r + r)

def red_meth_prod_ax0(x):
    r = x.prod(axis=0)
    return np.sum(r * r + r)

def red_np_prod_ax1(x):
    r = np.prod(x, axis=1)
    return np.sum(r * r + r)

def red_meth_prod_ax1(x):
    r = x.prod(axis=1)
    return np.sum(r * r + r)

def red_np_prod_axm1(x):
    r = np.prod(x, axis=-1)
    return np.sum(r * r + r)

def red_meth_prod_axm1(x):
    r = x.prod(axis=-1)
    return np.sum(r * r + r)

def red_np_prod_ax0k(x):
    r = np.prod(x, axis=0, keepdims=True)
    return np.sum(r * r + r)

def red_meth_prod_ax0k(x):
    r = x.prod(axis=0, keepdims=True)
    return np.sum(r * r + r)

def red_np_prod_ax1k(x):
    r = np.prod(x, axis=1, keepdims=True)
    return np.sum(r * r + r)

def red_meth_prod_ax1k(x):
    r = x.prod(axis=1, keepdims=True)
    return np.sum(r * r + r)

def red_np_prod_axm1k(x):
    r = np.prod(x, axis=-1, keepdims=True)
    return np.sum(r * r + r)

def red_meth_prod_axm1k(x):
    r = x.prod(axis=-1, keepdims=True)
    return np.sum(r * r + r)

def red_np_prod_nonek(x):
    r = np.prod(x, keepdims=True)
    return np.sum(r * r + r)

def red_meth_prod_nonek(x):
    r = x.prod(keepdims=True)
    return np.sum(r * r + r)

def red_np_prod_bare(x):
    r = np.prod(x)
    return np.sum(r * r + r)

def red_meth_prod_bare(x):
    r = x.prod()
    return np.sum(r * r + r)

def red_np_max_none(x):
    r = np.max(x, axis=None)
    return np.sum(r * r + r)

def red_meth_max_none(x):
    r = x.max(axis=None)
    return np.sum(r * r + r)

def red_np_max_ax0(x):
    r = np.max(x, axis=0)
    return np.sum(r * r + r)

def red_meth_max_ax0(x):
    r = x.max(axis=0)
    return np.sum(r * r + r)

def red_np_max_ax1(x):
    r = np.max(x, axis=1)
    return np.sum(r * r + r)

def red_meth_max_ax1(x):
    r = x.max(axis=1)
    return np.sum(r * r + r)

def red_np_max_axm1(x):
    r = np.max(x, axis=-1)
    return np.sum(r * r + r)

def red_meth_max_axm1(x):
    r = x.max(axis=-1)
    return np.sum(r * r + r)

def red_np_max_ax0k(x):
    r = np.max(x, axis=0, keepdims=True)
    return np.sum(r * r + r)

def red_meth_max_ax0k(x):
    r = x.max(axis=0, keepdims=True)
    return np.sum(r * r + r)

def red_np_max_ax1k(x):
    r = np.max(x, axis=1, keepdims=True)
    return np.sum(r * r + r)

def red_meth_max_ax1k(x):
    r = x.max(axis=1, keepdims=True)
    return np.sum(r * r + r)

def red_np_max_axm1k(x):
    r = np.max(x, axis=-1, keepdims=True)
    return np.sum(r * r + r)

def red_meth_max_axm1k(x):
    r = x.max(axis=-1, keepdims=True)
    return np.sum(r * r + r)

def red_np_max_nonek(x):
    r = np.max(x, keepdims=True)
    return np.sum(r * r + r)

def red_meth_max_nonek(x):
    r = x.max(keepdims=True)
    return np.sum(r * r + r)

def red_np_max_bare(x):
    r = np.max(x)
    return np.sum(r * r + r)

def red_meth_max_bare(x):
    r = x.max()
    return np.sum(r * r + r)

def red_np_min_none(x):
    r = np.min(x, axis=None)
    return np.sum(r * r + r)

def red_meth_min_none(x):
    r = x.min(axis=None)
    return np.sum(r * r + r)

def red_np_min_ax0(x):
    r = np.min(x, axis=0)
    return np.sum(r * r + r)

def red_meth_min_ax0(x):
    r = x.min(axis=0)
    return np.sum(r * r + r)

def red_np_min_ax1(x):
    r = np.min(x, axis=1)
    return np.sum(r * r + r)

def red_meth_min_ax1(x):
    r = x.min(axis=1)
    return np.sum(r * r + r)

def red_np_min_axm1(x):
    r = np.min(x, axis=-1)
    return np.sum(r * r + r)

def red_meth_min_axm1(x):
    r = x.min(axis=-1)
    return np.sum(r * r + r)

def red_np_min_ax0k(x):
    r = np.min(x, axis=0, keepdims=True)
    return np.sum(r * r + r)

def red_meth_min_ax0k(x):
    r = x.min(axis=0, keepdims=True)
    return np.sum(r * r + r)

def red_np_min_ax1k(x):
    r = np.min(x, axis=1, keepdims=True)
    return np.sum(r * r + r)

def red_meth_min_ax1k(x):
    r = x.min(axis=1, keepdims=True)
    return np.sum(r * r + r)

def red_np_min_axm1k(x):
    r = np.min(x, axis=-1, keepdims=True)
    return np.sum(r * r + r)

def red_meth_min_axm1k(x):
    r = x.min(axis=-1, keepdims=True)
    return np.sum(r * r + r)

def red_np_min_nonek(x):
    r = np.min(x, keepdims=True)
    return np.sum(r * r + r)

def red_meth_min_nonek(x):
    r = x.min(keepdims=True)
    return np.sum(r * r + r)

def red_np_min_bare(x):
    r = np.min(x)
    return np.sum(r * r + r)

def red_meth_min_bare(x):
    r = x.min()
    return np.sum(r * r + r)

REDUCTIONS = [
    red_np_sum_none,
    red_meth_sum_none,
    red_np_sum_ax0,
    red_meth_sum_ax0,
    red_np_sum_ax1,
    red_meth_sum_ax1,
    red_np_sum_axm1,
    red_meth_sum_axm1,
    red_np_sum_ax0k,
    red_meth_sum_ax0k,
    red_np_sum_ax1k,
    red_meth_sum_ax1k,
    red_np_sum_axm1k,
    red_meth_sum_axm1k,
    red_np_sum_nonek,
    red_meth_sum_nonek,
    red_np_sum_bare,
    red_meth_sum_bare,
    red_np_mean_none,
    red_meth_mean_none,
    red_np_mean_ax0,
    red_meth_mean_ax0,
    red_np_mean_ax1,
    red_meth_mean_ax1,
    red_np_mean_axm1,
    red_meth_mean_axm1,
    red_np_mean_ax0k,
    red_meth_mean_ax0k,
    red_np_mean_ax1k,
    red_meth_mean_ax1k,
    red_np_mean_axm1k,
    red_meth_mean_axm1k,
    red_np_mean_nonek,
    red_meth_mean_nonek,
    red_np_mean_bare,
    red_meth_mean_bare,
    red_np_prod_none,
    red_meth_prod_none,
    red_np_prod_ax0,
    red_meth_prod_ax0,
    red_np_prod_ax1,
    red_meth_prod_ax1,
    red_np_prod_axm1,
    red_meth_prod_axm1,
    red_np_prod_ax0k,
    red_meth_prod_ax0k,
    red_np_prod_ax1k,
    red_meth_prod_ax1k,
    red_np_prod_axm1k,
    red_meth_prod_axm1k,
    red_np_prod_nonek,
    red_meth_prod_nonek,
    red_np_prod_bare,
    red_meth_prod_bare,
    red_np_max_none,
    red_meth_max_none,
    red_np_max_ax0,
    red_meth_max_ax0,
    red_np_max_ax1,
    red_meth_max_ax1,
    red_np_max_axm1,
    red_meth_max_axm1,
    red_np_max_ax0k,
    red_meth_max_ax0k,
    red_np_max_ax1k,
    red_meth_max_ax1k,
    red_np_max_axm1k,
    red_meth_max_axm1k,
    red_np_max_nonek,
    red_meth_max_nonek,
    red_np_max_bare,
    red_meth_max_bare,
    red_np_min_none,
    red_meth_min_none,
    red_np_min_ax0,
    red_meth_min_ax0,
    red_np_min_ax1,
    red_meth_min_ax1,
    red_np_min_axm1,
    red_meth_min_axm1,
    red_np_min_ax0k,
    red_meth_min_ax0k,
    red_np_min_ax1k,
    red_meth_min_ax1k,
    red_np_min_axm1k,
    red_meth_min_axm1k,
    red_np_min_nonek,
    red_meth_min_nonek,
    red_np_min_bare,
    red_meth_min_bare,
]


def _red_kind(fn):
    return "prodsafe" if "_prod_" in fn.__name__ else "any"


@OPT
@pytest.mark.parametrize("fn", REDUCTIONS, ids=_ids)
def test_reduction(fn, optimize):
    x = sample(_red_kind(fn), seed=11)
    check_grad(fn, x, optimize=optimize)


def red3_sum_ax1(x):
    r = np.sum(x, axis=1)
    return np.sum(r * W24)


def red3_mean_ax1_keep(x):
    r = x.mean(axis=1, keepdims=True)
    return np.sum(r * r * W4) + np.sum(r)


def red3_max_ax1(x):
    return np.sum(np.max(x, axis=1) * W24)


def red3_min_axm1(x):
    return np.sum(x.min(axis=-1) * W23)


def red3_prod_ax2_keep(x):
    r = np.prod(x, axis=2, keepdims=True)
    return np.sum(r * r)


@OPT
@pytest.mark.parametrize("fn", [red3_sum_ax1, red3_mean_ax1_keep, red3_max_ax1,
                                red3_min_axm1, red3_prod_ax2_keep], ids=_ids)
def test_reduction_3d(fn, optimize):
    x = sample("prodsafe", shape=(2, 3, 4), seed=12)
    check_grad(fn, x, optimize=optimize)


@OPT
def test_reduction_closed_forms(optimize):
    x = sample("prodsafe", seed=13)

    g = s2sad.grad(red_np_sum_ax0, optimize=optimize)(x)
    r = x.sum(axis=0)
    np.testing.assert_allclose(g, np.broadcast_to(2 * r + 1, x.shape), rtol=1e-12)

    g = s2sad.grad(red_meth_mean_ax1, optimize=optimize)(x)
    r = x.mean(axis=1)
    np.testing.assert_allclose(g, np.broadcast_to(((2 * r + 1) / 4)[:, None], x.shape),
                               rtol=1e-12)

    g = s2sad.grad(red_np_prod_none, optimize=optimize)(x)
    p = np.prod(x)
    np.testing.assert_allclose(g, (2 * p + 1) * p / x, rtol=1e-10)

    g = s2sad.grad(red_np_max_ax1, optimize=optimize)(x)
    m = x.max(axis=1)
    want = np.zeros_like(x)
    want[np.arange(3), np.argmax(x, axis=1)] = 2 * m + 1
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-15)

    g = s2sad.grad(red_meth_min_none, optimize=optimize)(x)
    want = np.zeros_like(x)
    want[np.unravel_index(np.argmin(x), x.shape)] = 2 * x.min() + 1
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-15)


# sum along an axis given as a (non-differentiated) argument
def red_sum_axis_arg(x, axis):
    r = np.sum(x, axis=axis)
    return np.sum(r * r)


@OPT
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_reduction_axis_as_argument(axis, optimize):
    x = sample("any", seed=14)
    check_grad(red_sum_axis_arg, x, axis, argnums=0, optimize=optimize)


# ==========================================================================
# dot / matmul / @ / outer
# ==========================================================================

def dot_vv(x, y):
    return np.dot(x, y)


def dot_mv(a, v):
    return np.sum(np.dot(a, v) * W3)


def dot_vm(v, a):
    return np.sum(np.dot(v, a) * W4)


def dot_mm(a, b):
    return np.sum(np.dot(a, b) * W32)


def matmul_vv(x, y):
    return np.matmul(x, y)


def matmul_mv(a, v):
    return np.sum(np.matmul(a, v) * W3)


def matmul_vm(v, a):
    return np.sum(np.matmul(v, a) * W4)


def matmul_mm(a, b):
    return np.sum(np.matmul(a, b) * W32)


def at_vv(x, y):
    return x @ y


def at_mv(a, v):
    return np.sum((a @ v) * W3)


def at_vm(v, a):
    return np.sum((v @ a) * W4)


def at_mm(a, b):
    return np.sum((a @ b) * W32)


def meth_dot_mv(a, v):
    return np.sum(a.dot(v) * W3)


def meth_dot_mm(a, b):
    return np.sum(a.dot(b) * W32)


def outer_fn(x, y):
    return np.sum(np.outer(x, y) * W34)


_V3 = (3,)
_V4 = (4,)
_M34 = (3, 4)
_M42 = (4, 2)

PRODUCTS = [
    (dot_vv, _V4, _V4), (dot_mv, _M34, _V4), (dot_vm, _V3, _M34), (dot_mm, _M34, _M42),
    (matmul_vv, _V4, _V4), (matmul_mv, _M34, _V4), (matmul_vm, _V3, _M34),
    (matmul_mm, _M34, _M42),
    (at_vv, _V4, _V4), (at_mv, _M34, _V4), (at_vm, _V3, _M34), (at_mm, _M34, _M42),
    (meth_dot_mv, _M34, _V4), (meth_dot_mm, _M34, _M42),
    (outer_fn, _V3, _V4),
]


@OPT
@pytest.mark.parametrize("fn, sa, sb", PRODUCTS, ids=[f.__name__ for f, _, _ in PRODUCTS])
def test_products(fn, sa, sb, optimize):
    a = sample("any", sa, seed=21)
    b = sample("any", sb, seed=22)
    check_grad(fn, a, b, argnums=(0, 1), optimize=optimize)


@OPT
def test_matmul_closed_form(optimize):
    a = sample("any", _M34, seed=23)
    b = sample("any", _M42, seed=24)
    ga, gb = s2sad.grad(at_mm, argnums=(0, 1), optimize=optimize)(a, b)
    np.testing.assert_allclose(ga, W32 @ b.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb, a.T @ W32, rtol=1e-10, atol=1e-12)

    v = sample("any", _V4, seed=25)
    ga, gv = s2sad.grad(at_mv, argnums=(0, 1), optimize=optimize)(a, v)
    np.testing.assert_allclose(ga, np.outer(W3, v), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gv, a.T @ W3, rtol=1e-10, atol=1e-12)


# ==========================================================================
# shape manipulation
# ==========================================================================

def tr_np(x):
    return np.sum(np.transpose(x) * W43)


def tr_T(x):
    return np.sum(x.T * W43)


def tr_axes(x):   # x: (2, 3, 4) -> (3, 4, 2)
    return np.sum(np.transpose(x, (1, 2, 0)) * W342)


def rs_np(x):
    return np.sum(np.reshape(x, (4, 3)) * W43)


def rs_np_minus1(x):
    return np.sum(np.reshape(x, (2, -1)) * W26)


def rs_meth_args(x):
    return np.sum(x.reshape(2, 6) * W26)


def rs_meth_tuple(x):
    return np.sum(x.reshape((12,)) * W12)


def rs_meth_minus1(x):
    return np.sum(x.reshape(-1) * W12)


def sq_np(x):     # x: (3, 1, 4)
    return np.sum(np.squeeze(x) * W34)


def sq_np_axis(x):
    return np.sum(np.squeeze(x, axis=1) * W34)


def ed_0(x):
    return np.sum(np.expand_dims(x, 0) * W134)


def ed_1(x):
    return np.sum(np.expand_dims(x, 1) * W314)


def ed_m1(x):
    return np.sum(np.expand_dims(x, axis=-1) * W341)


SHAPE_OPS = [
    (tr_np, (3, 4)), (tr_T, (3, 4)), (tr_axes, (2, 3, 4)),
    (rs_np, (3, 4)), (rs_np_minus1, (3, 4)), (rs_meth_args, (3, 4)),
    (rs_meth_tuple, (3, 4)), (rs_meth_minus1, (3, 4)),
    (sq_np, (3, 1, 4)), (sq_np_axis, (3, 1, 4)),
    (ed_0, (3, 4)), (ed_1, (3, 4)), (ed_m1, (3, 4)),
]


@OPT
@pytest.mark.parametrize("fn, shape", SHAPE_OPS, ids=[f.__name__ for f, _ in SHAPE_OPS])
def test_shape_ops(fn, shape, optimize):
    x = sample("any", shape, seed=31)
    check_grad(fn, x, optimize=optimize)


@OPT
def test_transpose_closed_form(optimize):
    x = sample("any", (3, 4), seed=32)
    np.testing.assert_allclose(s2sad.grad(tr_T, optimize=optimize)(x), W43.T, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(rs_meth_args, optimize=optimize)(x),
                               W26.reshape(3, 4), rtol=1e-12)


def cat_0(x, y):      # (3, 4) + (2, 4)
    return np.sum(np.concatenate((x, y), axis=0) * W54)


def cat_default(x, y):
    return np.sum(np.concatenate([x, y]) * W54)


def cat_1(x, y):      # (3, 4) + (3, 2)
    return np.sum(np.concatenate([x, y], axis=1) * W36)


def stk_0(x, y):
    return np.sum(np.stack((x, y)) * W234)


def stk_1(x, y):
    return np.sum(np.stack([x, y], axis=1) * W324)


def stk_m1(x, y):
    return np.sum(np.stack([x, y], axis=-1) * W342)


JOINS = [
    (cat_0, (3, 4), (2, 4)), (cat_default, (3, 4), (2, 4)), (cat_1, (3, 4), (3, 2)),
    (stk_0, (3, 4), (3, 4)), (stk_1, (3, 4), (3, 4)), (stk_m1, (3, 4), (3, 4)),
]


@OPT
@pytest.mark.parametrize("fn, sx, sy", JOINS, ids=[f.__name__ for f, _, _ in JOINS])
def test_concatenate_stack(fn, sx, sy, optimize):
    x = sample("any", sx, seed=33)
    y = sample("any", sy, seed=34)
    check_grad(fn, x, y, argnums=(0, 1), optimize=optimize)


@OPT
def test_concatenate_closed_form(optimize):
    x = sample("any", (3, 4), seed=35)
    y = sample("any", (3, 2), seed=36)
    gx, gy = s2sad.grad(cat_1, argnums=(0, 1), optimize=optimize)(x, y)
    np.testing.assert_allclose(gx, W36[:, :4], rtol=1e-12)
    np.testing.assert_allclose(gy, W36[:, 4:], rtol=1e-12)


# ==========================================================================
# linear algebra
# ==========================================================================

def norm_vec(v):
    return np.linalg.norm(v)


def norm_mat(m):
    return np.linalg.norm(m)


def norm_scaled(v):
    return np.linalg.norm(v * W5) * 2.0 + np.sum(v)


@OPT
@pytest.mark.parametrize("fn, shape", [(norm_vec, (5,)), (norm_mat, (3, 4)),
                                       (norm_scaled, (5,))],
                         ids=["vector", "frobenius", "scaled"])
def test_norm(fn, shape, optimize):
    x = sample("any", shape, seed=41)
    check_grad(fn, x, optimize=optimize)


@OPT
def test_norm_closed_form(optimize):
    v = sample("any", (5,), seed=42)
    np.testing.assert_allclose(s2sad.grad(norm_vec, optimize=optimize)(v),
                               v / np.sqrt(np.sum(v * v)), rtol=1e-10)
    m = sample("any", (3, 4), seed=43)
    np.testing.assert_allclose(s2sad.grad(norm_mat, optimize=optimize)(m),
                               m / np.sqrt(np.sum(m * m)), rtol=1e-10)


def solve_vec(a, b):
    return np.sum(np.linalg.solve(a, b) * W3)


def solve_mat(a, b):
    return np.sum(np.linalg.solve(a, b) * W32)


def inv_fn(a):
    return np.sum(np.linalg.inv(a) * W33)


def det_fn(a):
    return np.linalg.det(a)


def det_inv_chain(a):
    return np.linalg.det(a) * np.sum(np.linalg.inv(a) @ W3)


@OPT
@pytest.mark.parametrize("fn, sb", [(solve_vec, (3,)), (solve_mat, (3, 2))],
                         ids=["vector_rhs", "matrix_rhs"])
def test_solve(fn, sb, optimize):
    a = sample("spd", (3, 3), seed=44)
    b = sample("any", sb, seed=45)
    check_grad(fn, a, b, argnums=(0, 1), optimize=optimize)


@OPT
@pytest.mark.parametrize("fn", [inv_fn, det_fn, det_inv_chain], ids=_ids)
def test_inv_det(fn, optimize):
    a = sample("spd", (3, 3), seed=46)
    check_grad(fn, a, optimize=optimize)


@OPT
def test_linalg_closed_forms(optimize):
    a = sample("spd", (3, 3), seed=47)
    ainv = np.linalg.inv(a)
    # d det(A) / dA = det(A) * A^{-T}
    np.testing.assert_allclose(s2sad.grad(det_fn, optimize=optimize)(a),
                               np.linalg.det(a) * ainv.T, rtol=1e-9)
    # d <W, A^{-1}> / dA = -A^{-T} W A^{-T}
    np.testing.assert_allclose(s2sad.grad(inv_fn, optimize=optimize)(a),
                               -ainv.T @ W33 @ ainv.T, rtol=1e-9, atol=1e-12)
    # x = A^{-1} b;  d <W, x>/db = A^{-T} W;  d/dA = -(A^{-T} W) x^T
    b = sample("any", (3,), seed=48)
    ga, gb = s2sad.grad(solve_vec, argnums=(0, 1), optimize=optimize)(a, b)
    lam = np.linalg.solve(a.T, W3)
    np.testing.assert_allclose(gb, lam, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ga, -np.outer(lam, ainv @ b), rtol=1e-9, atol=1e-12)


# ==========================================================================
# arithmetic operators on arrays
# ==========================================================================

def op_add(x, y):
    return np.sum((x + y) * W34)


def op_sub(x, y):
    return np.sum((x - y) * W34)


def op_mul(x, y):
    return np.sum((x * y) * W34)


def op_div(x, y):
    return np.sum((x / y) * W34)


def op_pow(x, y):
    return np.sum((x ** y) * W34)


def op_neg_prod(x, y):
    return np.sum(-(x * y) * W34)


def op_mixed(x, y):
    z = x * y - x / (y + 1.0) + (x - y) ** 2
    return np.sum(z * W34)


OPS2 = [op_add, op_sub, op_mul, op_div, op_pow, op_neg_prod, op_mixed]


@OPT
@pytest.mark.parametrize("fn", OPS2, ids=_ids)
def test_binary_operators(fn, optimize):
    x = sample("pos", seed=51)
    y = sample("pos", seed=52)
    check_grad(fn, x, y, argnums=(0, 1), optimize=optimize)


def opc_neg(x):
    return np.sum(-x * W34)


def opc_radd(x):
    return np.sum((1.0 + x) * W34)


def opc_rsub(x):
    return np.sum((1.0 - x) * W34)


def opc_scale(x):
    return np.sum((x * 2.5 + 1.0) * W34)


def opc_rmul(x):
    return np.sum((2.5 * x) * W34)


def opc_rdiv(x):
    return np.sum((3.0 / x) * W34)


def opc_div(x):
    return np.sum((x / 4.0) * W34)


def opc_pow_int(x):
    return np.sum((x ** 3) * W34)


def opc_pow_half(x):
    return np.sum((x ** 0.5) * W34)


def opc_rpow(x):
    return np.sum((2.0 ** x) * W34)


OPS1 = [opc_neg, opc_radd, opc_rsub, opc_scale, opc_rmul, opc_rdiv, opc_div,
        opc_pow_int, opc_pow_half, opc_rpow]


@OPT
@pytest.mark.parametrize("fn", OPS1, ids=_ids)
def test_operators_with_constants(fn, optimize):
    x = sample("pos", seed=53)
    check_grad(fn, x, optimize=optimize)


@OPT
def test_operators_closed_form(optimize):
    x = sample("pos", seed=54)
    y = sample("pos", seed=55)
    gx, gy = s2sad.grad(op_div, argnums=(0, 1), optimize=optimize)(x, y)
    np.testing.assert_allclose(gx, W34 / y, rtol=1e-12)
    np.testing.assert_allclose(gy, -W34 * x / (y * y), rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(opc_neg, optimize=optimize)(x), -W34, rtol=1e-12)


# ==========================================================================
# broadcasting, both operands differentiated
# ==========================================================================

def bc_add(x, y):
    return np.sum((x + y) * W34)


def bc_sub(x, y):
    return np.sum((x - y) * W34)


def bc_mul(x, y):
    return np.sum((x * y) * W34)


def bc_div(x, y):
    return np.sum((x / y) * W34)


def bc_pow(x, y):
    return np.sum((x ** y) * W34)


def bc_maximum(x, y):
    return np.sum(np.maximum(x, y) * W34)


def bc_minimum(x, y):
    return np.sum(np.minimum(x, y) * W34)


BC_OPS = [bc_add, bc_sub, bc_mul, bc_div, bc_pow, bc_maximum, bc_minimum]

# "float" = a Python float argument; () = a 0-d float64 array
BC_SHAPES = [
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((3, 1), (4,)),
    ((3, 4), ()),
    ((), (3, 4)),
    ((3, 4), "float"),
    ("float", (3, 4)),
]


def _fmt(spec):
    if spec == "float":
        return "float"
    return "x".join(map(str, spec)) if spec else "0d"


def _bc_arg(spec, rng):
    if spec == "float":
        return float(rng.uniform(0.5, 2.0))
    return np.asarray(rng.uniform(0.5, 2.0, spec), dtype=np.float64)


def _bc_args(sx, sy, seed):
    rng = _rng(seed)
    for _ in range(1000):
        x = _bc_arg(sx, rng)
        y = _bc_arg(sy, rng)
        if np.min(np.abs(np.asarray(x) - np.asarray(y))) > 1e-3:   # no ties
            return x, y
    raise AssertionError("could not draw tie-free broadcast arguments")


@OPT
@pytest.mark.parametrize("sx, sy", BC_SHAPES, ids=[f"{_fmt(a)}+{_fmt(b)}" for a, b in BC_SHAPES])
@pytest.mark.parametrize("fn", BC_OPS, ids=_ids)
def test_broadcasting(fn, sx, sy, optimize):
    x, y = _bc_args(sx, sy, seed=61)
    check_grad(fn, x, y, argnums=(0, 1), optimize=optimize)


@OPT
def test_broadcasting_closed_form(optimize):
    x = sample("pos", (3, 4), seed=62)
    y = sample("pos", (4,), seed=63)
    gx, gy = s2sad.grad(bc_mul, argnums=(0, 1), optimize=optimize)(x, y)
    np.testing.assert_allclose(gx, W34 * y, rtol=1e-12)
    np.testing.assert_allclose(gy, np.sum(W34 * x, axis=0), rtol=1e-12)

    c = 1.7
    gx, gc = s2sad.grad(bc_add, argnums=(0, 1), optimize=optimize)(x, c)
    assert isinstance(gc, float)
    np.testing.assert_allclose(gx, W34, rtol=1e-12)
    assert np.isclose(gc, np.sum(W34), rtol=1e-12)

    a = sample("pos", (3, 1), seed=64)
    b = sample("pos", (1, 4), seed=65)
    ga, gb = s2sad.grad(bc_sub, argnums=(0, 1), optimize=optimize)(a, b)
    assert ga.shape == (3, 1) and gb.shape == (1, 4)
    np.testing.assert_allclose(ga, np.sum(W34, axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(gb, -np.sum(W34, axis=0, keepdims=True), rtol=1e-12)


# ==========================================================================
# subscripts and slices
# ==========================================================================

def sub_row(x):            # x: (5, 4)
    return np.sum(x[1] * W4)


def sub_neg_row(x):
    return np.sum(x[-1] * W4)


def sub_slice(x):
    return np.sum(x[1:3] * W24)


def sub_col(x):
    return np.sum(x[:, 0] * W5)


def sub_ellipsis(x):
    return np.sum(x[..., 1] * W5)


def sub_step(x):
    return np.sum(x[::2] * W34)


def sub_2d_slice(x):
    return np.sum(x[1:4, ::2] * W32)


def sub_cols(x):
    return np.sum(x[:, 1:3] * W52)


def sub_element(x):
    return x[1, 2] * 3.0 + np.sum(x * x)


def sub_overlap(x):
    return np.sum(x[1:3] * x[2:4] * W24) + np.sum(x[0] * x[0])


SUBSCRIPTS = [sub_row, sub_neg_row, sub_slice, sub_col, sub_ellipsis, sub_step,
              sub_2d_slice, sub_cols, sub_element, sub_overlap]


@OPT
@pytest.mark.parametrize("fn", SUBSCRIPTS, ids=_ids)
def test_subscripts(fn, optimize):
    x = sample("any", (5, 4), seed=71)
    check_grad(fn, x, optimize=optimize)


def sub_index_arg(x, i):
    return np.sum(x[i] * W4)


def sub_index_arg2(x, i):
    return x[i, 1] * 2.0 + np.sum(x[i] * x[i])


@OPT
@pytest.mark.parametrize("i", [0, 2, 4, -2])
def test_subscript_int_argument(i, optimize):
    x = sample("any", (5, 4), seed=72)
    g = check_grad(sub_index_arg, x, i, argnums=0, optimize=optimize)
    want = np.zeros((5, 4))
    want[i] = W4
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=0)
    check_grad(sub_index_arg2, x, i, argnums=0, optimize=optimize)


@OPT
def test_subscript_closed_forms(optimize):
    x = sample("any", (5, 4), seed=73)
    g = s2sad.grad(sub_step, optimize=optimize)(x)
    want = np.zeros((5, 4))
    want[::2] = W34
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=0)

    g = s2sad.grad(sub_ellipsis, optimize=optimize)(x)
    want = np.zeros((5, 4))
    want[:, 1] = W5
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=0)


# ==========================================================================
# attribute reads used as constants, and array methods
# ==========================================================================

def attr_size(x):
    return np.sum(x * W34) / x.size


def attr_ndim(x):
    return np.sum(x * x) * x.ndim


def attr_shape(x):
    return np.sum(x * W34) * x.shape[0] + x.shape[1]


def attr_shape_neg(x):
    n = x.shape[-1]
    return np.sum(x * x) / n


@OPT
def test_attribute_reads(optimize):
    x = sample("any", (3, 4), seed=81)
    g = check_grad(attr_size, x, optimize=optimize)
    np.testing.assert_allclose(g, W34 / 12.0, rtol=1e-12)
    g = check_grad(attr_ndim, x, optimize=optimize)
    np.testing.assert_allclose(g, 4.0 * x, rtol=1e-12)
    g = check_grad(attr_shape, x, optimize=optimize)
    np.testing.assert_allclose(g, 3.0 * W34, rtol=1e-12)
    g = check_grad(attr_shape_neg, x, optimize=optimize)
    np.testing.assert_allclose(g, 2.0 * x / 4.0, rtol=1e-12)


def meth_sum(x):
    return x.sum() * x.sum() + np.sum(x * W34)


def meth_mean(x):
    return (x * W34).mean()


def meth_dot(x, y):
    return np.sum(x.dot(y) * W3)


def meth_reshape(x):
    return np.sum(x.reshape(4, 3) * W43)


def meth_max(x):
    return (x * W34).max() + x.max()


def meth_chain(x):
    return x.T.reshape(12).dot(W12) + x.mean(axis=0).sum()


@OPT
@pytest.mark.parametrize("fn", [meth_sum, meth_mean, meth_reshape, meth_max, meth_chain],
                         ids=_ids)
def test_array_methods(fn, optimize):
    x = sample("any", (3, 4), seed=82)
    check_grad(fn, x, optimize=optimize)


@OPT
def test_array_method_dot(optimize):
    x = sample("any", (3, 4), seed=83)
    y = sample("any", (4,), seed=84)
    gx, gy = check_grad(meth_dot, x, y, argnums=(0, 1), optimize=optimize)
    np.testing.assert_allclose(gx, np.outer(W3, y), rtol=1e-12)
    np.testing.assert_allclose(gy, x.T @ W3, rtol=1e-12)


# ==========================================================================
# functions defined inside the test function
# ==========================================================================

@OPT
def test_locally_defined_functions(optimize):
    def f(x, y):
        z = np.tanh(x @ y) + np.sum(x, axis=1)
        return np.sum(z * W3) + np.mean(y ** 2)

    x = sample("any", (3, 4), seed=91)
    y = sample("any", (4,), seed=92)
    check_grad(f, x, y, argnums=(0, 1), optimize=optimize)

    def g(x):
        m = np.max(x, axis=0, keepdims=True)
        e = np.exp(x - m)
        return np.sum(np.log(np.sum(e, axis=0)) + m[0])   # logsumexp over axis 0

    check_grad(g, x, optimize=optimize)


# ==========================================================================
# dtypes
# ==========================================================================

def f32_sinx(x):
    return np.sum(np.sin(x) * x)


def f32_weighted(x):         # float64 weights promote the output to float64
    return np.sum(x * W34)


def f32_reduce(x):
    r = np.mean(x, axis=0)
    return np.sum(r * r)


@OPT
def test_float32_gradient_dtype(optimize):
    x = sample("any", (3, 4), seed=101).astype(np.float32)
    x64 = x.astype(np.float64)

    g = s2sad.grad(f32_sinx, optimize=optimize)(x)
    assert isinstance(g, np.ndarray) and g.dtype == np.float32 and g.shape == (3, 4)
    np.testing.assert_allclose(g, np.cos(x64) * x64 + np.sin(x64), rtol=1e-4, atol=1e-5)

    g = s2sad.grad(f32_weighted, optimize=optimize)(x)
    assert isinstance(g, np.ndarray) and g.dtype == np.float32 and g.shape == (3, 4)
    np.testing.assert_allclose(g, W34, rtol=1e-5, atol=1e-6)

    g = s2sad.grad(f32_reduce, optimize=optimize)(x)
    assert isinstance(g, np.ndarray) and g.dtype == np.float32 and g.shape == (3, 4)
    np.testing.assert_allclose(g, np.broadcast_to(2.0 * x64.mean(axis=0) / 3.0, (3, 4)),
                               rtol=1e-4, atol=1e-5)


@OPT
def test_mixed_float32_float64_arguments(optimize):
    x = sample("pos", (3, 4), seed=102).astype(np.float32)
    y = sample("pos", (4,), seed=103)
    gx, gy = s2sad.grad(bc_mul, argnums=(0, 1), optimize=optimize)(x, y)
    assert gx.dtype == np.float32 and gx.shape == (3, 4)
    assert gy.dtype == np.float64 and gy.shape == (4,)
    np.testing.assert_allclose(gx, W34 * y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gy, np.sum(W34 * x.astype(np.float64), axis=0),
                               rtol=1e-5, atol=1e-6)


# ==========================================================================
# non-differentiable functions inside a differentiated function
# ==========================================================================

def nd_sign(x):
    return np.sum(x * np.sign(x))


def nd_floor(x):
    return np.sum(x * np.floor(x))


def nd_round(x):
    return np.sum(x * np.round(x))


def nd_len(x):
    return np.sum(x * W34) * len(x)


def nd_shape(x):
    return np.sum(x * W34) / x.shape[1]


def nd_zeros_like(x):
    return np.sum(x * x + np.zeros_like(x))


def nd_ones_like(x):
    return np.sum(x * np.ones_like(x) * W34)


def nd_compare(x):
    return np.sum(x * x * (x > 0.0))


def nd_where_compare(x):
    return np.sum(np.where(x > 0.0, x * x, 3.0 * x))


NONDIFF = [
    (nd_sign, "nonzero", lambda x: np.sign(x)),
    (nd_floor, "frac", lambda x: np.floor(x)),
    (nd_round, "frac", lambda x: np.round(x)),
    (nd_len, "any", lambda x: 3.0 * W34),
    (nd_shape, "any", lambda x: W34 / 4.0),
    (nd_zeros_like, "any", lambda x: 2.0 * x),
    (nd_ones_like, "any", lambda x: W34),
    (nd_compare, "nonzero", lambda x: 2.0 * x * (x > 0)),
    (nd_where_compare, "nonzero", lambda x: np.where(x > 0, 2.0 * x, 3.0)),
]


@OPT
@pytest.mark.parametrize("fn, kind, dfn", NONDIFF, ids=[f.__name__ for f, _, _ in NONDIFF])
def test_non_differentiable_helpers(fn, kind, dfn, optimize):
    x = sample(kind, (3, 4), seed=111)
    g = check_grad(fn, x, optimize=optimize)
    np.testing.assert_allclose(g, dfn(x), rtol=1e-12, atol=1e-12)


def nd_argmax(v):
    return v[np.argmax(v)] * 2.0 + np.sum(v * W5)


def nd_argmax_row(x):
    k = np.argmax(np.sum(x, axis=1))
    return np.sum(x[k] * W4)


@OPT
def test_argmax_as_index(optimize):
    v = sample("any", (5,), seed=112)
    g = check_grad(nd_argmax, v, optimize=optimize)
    want = W5.copy()
    want[np.argmax(v)] += 2.0
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-12)

    x = sample("any", (5, 4), seed=113)
    g = check_grad(nd_argmax_row, x, optimize=optimize)
    want = np.zeros((5, 4))
    want[np.argmax(x.sum(axis=1))] = W4
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-12)


# ==========================================================================
# property tests (hypothesis)
# ==========================================================================

def h_sin(x):
    return np.sum(np.sin(x) * x)


def h_exp(x):
    return np.sum(np.exp(x) * np.cos(x))


def h_tanh(x):
    return np.sum(np.tanh(x * 1.5) + x * x)


def h_square(x):
    return np.sum(x * x * x - 2.0 * x)


def h_sum(x):
    s = np.sum(x)
    return s * s + np.sum(x * np.arange(x.size).reshape(x.shape))


def h_mean(x):
    return np.mean(np.sqrt(x * x + 1.0))


H_UNARY = [h_sin, h_exp, h_tanh, h_square, h_sum, h_mean]

_floats = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, width=64)
_H = settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])


@_H
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=_floats),
       fn=st.sampled_from(H_UNARY),
       optimize=st.booleans())
def test_property_elementwise_and_sum(x, fn, optimize):
    check_grad(fn, x, optimize=optimize)


def hb_add(x, y):
    return np.sum(np.sin(x + y) * (x + y))


def hb_mul(x, y):
    return np.sum(np.tanh(x * y) + x * x * y)


def hb_sub(x, y):
    z = x - y
    return np.sum(z * z * z)


@_H
@given(data=st.data(),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                max_side=3),
       fn=st.sampled_from([hb_add, hb_mul, hb_sub]),
       optimize=st.booleans())
def test_property_broadcasting(data, shapes, fn, optimize):
    sx, sy = shapes.input_shapes
    x = data.draw(hnp.arrays(np.float64, sx, elements=_floats), label="x")
    y = data.draw(hnp.arrays(np.float64, sy, elements=_floats), label="y")
    check_grad(fn, x, y, argnums=(0, 1), optimize=optimize)


def h_sum_axis(x, axis):
    r = np.sum(x, axis=axis)
    return np.sum(r * r * r)


@_H
@given(data=st.data(), optimize=st.booleans())
def test_property_sum_axis(data, optimize):
    x = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                             elements=_floats), label="x")
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    check_grad(h_sum_axis, x, axis, argnums=0, optimize=optimize)
