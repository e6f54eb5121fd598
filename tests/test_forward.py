"""Forward mode: every jvp rule, in plain mode (``jvp``) and vector mode (``jacfwd``).

Each rule is exercised by a small module-level function; its tangent along a
random direction is compared with a central finite difference of the
function itself, and its vector-mode Jacobian with a finite-difference
Jacobian.  Both run optimized and unoptimized.  Control flow, in-place
writes, lists and the generated code's style are checked at the end.
"""
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sad
from s2sad.runtime import (matmul_vjp_a, matmul_vjp_b, norm_vjp, solve_vjp_a, transpose_dims,
                           unbroadcast, unreduce, untranspose)
from util import assert_close_tree, fd_jacobian, fd_jvp

OPT = pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])

_r = np.random.default_rng(4)
W34 = _r.standard_normal((3, 4))
W4 = _r.standard_normal(4)
SPD = _r.standard_normal((3, 3)) * 0.3 + 2.0 * np.eye(3)
del _r


def arr(shape, lo=-1.2, hi=1.2, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def pos(shape, seed=0):
    return arr(shape, 0.5, 2.0, seed)


def unit(shape, seed=0):
    return arr(shape, -0.9, 0.9, seed)


# --------------------------------------------------------------------------
# one function per rule: (function, arguments); float or float-array arguments
# are differentiated, the rest are constants

def op_add(a, b): return a + b
def op_sub(a, b): return a - b
def op_mul(a, b): return a * b
def op_div(a, b): return a / b
def op_pow(a, b): return a ** b
def op_pow_const(a): return a ** 3
def op_mod(a, b): return a % b
def op_neg(x): return -x
def op_pos(x): return +x * 2.0
def op_matmul(a, b): return a @ b
def op_scalar_array(s, x): return s * x - x / s


def m_sin(x): return math.sin(x)
def m_cos(x): return math.cos(x)
def m_tan(x): return math.tan(x)
def m_exp(x): return math.exp(x)
def m_log(x): return math.log(x)
def m_log1p(x): return math.log1p(x)
def m_expm1(x): return math.expm1(x)
def m_sqrt(x): return math.sqrt(x)
def m_tanh(x): return math.tanh(x)
def m_sinh(x): return math.sinh(x)
def m_cosh(x): return math.cosh(x)
def m_asin(x): return math.asin(x)
def m_acos(x): return math.acos(x)
def m_atan(x): return math.atan(x)
def m_atan2(a, b): return math.atan2(a, b)
def m_erf(x): return math.erf(x)
def m_pow(a, b): return math.pow(a, b)
def m_fabs(x): return math.fabs(x)
def m_hypot(a, b): return math.hypot(a, b)
def m_float(x): return float(x) * x
def m_abs(x): return abs(x) * x


def n_sin(x): return np.sin(x)
def n_cos(x): return np.cos(x)
def n_tan(x): return np.tan(x)
def n_exp(x): return np.exp(x)
def n_log(x): return np.log(x)
def n_log1p(x): return np.log1p(x)
def n_expm1(x): return np.expm1(x)
def n_sqrt(x): return np.sqrt(x)
def n_tanh(x): return np.tanh(x)
def n_sinh(x): return np.sinh(x)
def n_cosh(x): return np.cosh(x)
def n_arcsin(x): return np.arcsin(x)
def n_arccos(x): return np.arccos(x)
def n_arctan(x): return np.arctan(x)
def n_abs(x): return np.abs(x)
def n_square(x): return np.square(x)
def n_negative(x): return np.negative(x)
def n_add(a, b): return np.add(a, b)
def n_subtract(a, b): return np.subtract(a, b)
def n_multiply(a, b): return np.multiply(a, b)
def n_divide(a, b): return np.divide(a, b)
def n_power(a, b): return np.power(a, b)
def n_arctan2(a, b): return np.arctan2(a, b)
def n_hypot(a, b): return np.hypot(a, b)
def n_maximum(a, b): return np.maximum(a, b)
def n_minimum(a, b): return np.minimum(a, b)
def n_where(a, b): return np.where(a > 0.0, a, b)
def n_clip(x): return np.clip(x, -0.5, 0.5)
def n_clip_bounds(x, lo, hi): return np.clip(x, lo, hi)
def n_logaddexp(a, b): return np.logaddexp(a, b)


def r_sum(x): return np.sum(x)
def r_sum_axis(x): return np.sum(x, axis=0)
def r_sum_keepdims(x): return np.sum(x, axis=1, keepdims=True)
def r_method_sum(x): return x.sum(axis=1)
def r_method_sum_all(x): return x.sum()
def r_mean(x): return np.mean(x, axis=-1)
def r_mean_all(x): return np.mean(x)
def r_method_mean(x): return x.mean(axis=0)
def r_prod(x): return np.prod(x, axis=1)
def r_method_prod(x): return x.prod()
def r_max(x): return np.max(x, axis=0)
def r_amax(x): return np.amax(x)
def r_min(x): return np.min(x, axis=1)
def r_amin(x): return np.amin(x)
def r_method_max(x): return x.max(axis=1)
def r_method_min(x): return x.min()


def l_dot(a, b): return np.dot(a, b)
def l_matmul(a, b): return np.matmul(a, b)
def l_method_dot(a, b): return a.dot(b)
def l_outer(a, b): return np.outer(a, b)
def l_norm(x): return np.linalg.norm(x)
def l_norm_axis(x): return np.linalg.norm(x, axis=1)
def l_solve(a, b): return np.linalg.solve(a, b)
def l_inv(a): return np.linalg.inv(a)
def l_det(a): return np.linalg.det(a)


def s_reshape(x): return np.reshape(x, (4, 3))
def s_method_reshape(x): return x.reshape(2, 6)
def s_ravel(x): return np.ravel(x)
def s_method_ravel(x): return x.ravel()
def s_flatten(x): return x.flatten()
def s_squeeze(x): return np.squeeze(x)
def s_expand_dims(x): return np.expand_dims(x, 1)
def s_transpose(x): return np.transpose(x)
def s_transpose_axes(x): return np.transpose(x, (1, 0))
def s_method_transpose(x): return x.transpose(1, 0)
def s_T(x): return x.T
def s_concatenate(a, b): return np.concatenate([a, b])
def s_stack(a, b): return np.stack((a, b), axis=1)
def s_array(a, b): return np.array([a, b, a * b])
def s_asarray(x): return np.asarray(x) * 2.0
def s_copy(x): return x.copy() * x
def s_np_copy(x): return np.copy(x) + x
def s_astype(x): return x.astype(np.float64)
def s_subscript(x): return x[1] * x[0, 2] + x[:, 1:3].sum() + x[np.array([0, 2, 0])][:, 0].sum()


# the helpers generated code calls, and the NumPy calls adjoint templates write
def h_unbroadcast(g, x): return unbroadcast(g, x) * x
def h_unreduce(g, x): return unreduce(g, x, 1, False) * x
def h_full(v): return np.full((2, 3), v) * v
def h_broadcast_to(x): return np.broadcast_to(x, (3, 4)) * W34
def h_take(x): return np.take(x, 1, 0)
def h_swapaxes(x): return np.swapaxes(x, 0, 1)
def h_matmul_vjp_a(g, b): return matmul_vjp_a(g, SPD, b)
def h_matmul_vjp_b(g, a): return matmul_vjp_b(g, a, W4)
def h_norm_vjp(g, y, x): return norm_vjp(g, y, x)
def h_untranspose(g): return untranspose(g, (1, 0))
def h_transpose_dims(t): return transpose_dims(t, (1, 0))
def h_solve_vjp_a(g, a, y): return solve_vjp_a(g, a, y)


CASES = [
    (op_add, lambda: (arr((3, 4)), arr(4, seed=1))),
    (op_sub, lambda: (arr((3, 4)), arr((3, 1), seed=1))),
    (op_mul, lambda: (arr((3, 4)), arr(4, seed=1))),
    (op_div, lambda: (arr((3, 4)), pos(4, seed=1))),
    (op_pow, lambda: (pos((3, 4)), arr((3, 4), seed=1))),
    (op_pow_const, lambda: (arr(5),)),
    (op_mod, lambda: (pos(4) + 3.0, pos(4, seed=1))),
    (op_neg, lambda: (arr(4),)),
    (op_pos, lambda: (arr(4),)),
    (op_matmul, lambda: (arr((3, 4)), arr(4, seed=1))),
    (op_matmul, lambda: (arr(3), arr((3, 4), seed=1))),
    (op_matmul, lambda: (arr((2, 3)), arr((3, 4), seed=1))),
    (op_matmul, lambda: (arr(3), arr(3, seed=1))),
    (op_scalar_array, lambda: (1.7, arr(4))),
    (m_sin, lambda: (0.3,)), (m_cos, lambda: (0.3,)), (m_tan, lambda: (0.3,)),
    (m_exp, lambda: (0.3,)), (m_log, lambda: (1.3,)), (m_log1p, lambda: (0.3,)),
    (m_expm1, lambda: (0.3,)), (m_sqrt, lambda: (1.3,)), (m_tanh, lambda: (0.3,)),
    (m_sinh, lambda: (0.3,)), (m_cosh, lambda: (0.3,)), (m_asin, lambda: (0.3,)),
    (m_acos, lambda: (0.3,)), (m_atan, lambda: (0.3,)), (m_atan2, lambda: (0.3, -0.8)),
    (m_erf, lambda: (0.3,)), (m_pow, lambda: (1.3, 2.5)), (m_fabs, lambda: (-0.3,)),
    (m_hypot, lambda: (0.3, -0.8)), (m_float, lambda: (0.3,)), (m_abs, lambda: (-0.3,)),
    (n_sin, lambda: (arr((3, 4)),)), (n_cos, lambda: (arr((3, 4)),)), (n_tan, lambda: (arr((3, 4)),)),
    (n_exp, lambda: (arr((3, 4)),)), (n_log, lambda: (pos((3, 4)),)), (n_log1p, lambda: (pos((3, 4)),)),
    (n_expm1, lambda: (arr((3, 4)),)), (n_sqrt, lambda: (pos((3, 4)),)), (n_tanh, lambda: (arr((3, 4)),)),
    (n_sinh, lambda: (arr((3, 4)),)), (n_cosh, lambda: (arr((3, 4)),)), (n_arcsin, lambda: (unit((3, 4)),)),
    (n_arccos, lambda: (unit((3, 4)),)), (n_arctan, lambda: (arr((3, 4)),)), (n_abs, lambda: (pos(4),)),
    (n_square, lambda: (arr(4),)), (n_negative, lambda: (arr(4),)),
    (n_add, lambda: (arr((3, 4)), arr(4, seed=1))), (n_subtract, lambda: (arr(4), arr((3, 4), seed=1))),
    (n_multiply, lambda: (arr((3, 4)), 0.7)), (n_divide, lambda: (arr((3, 4)), pos(4, seed=1))),
    (n_power, lambda: (pos((3, 4)), arr(4, seed=1))), (n_arctan2, lambda: (arr(4), arr(4, seed=1))),
    (n_hypot, lambda: (arr(4), arr(4, seed=1))),
    (n_maximum, lambda: (arr(6), arr(6, seed=1))), (n_minimum, lambda: (arr(6), arr(6, seed=1))),
    (n_where, lambda: (arr(6), arr(6, seed=1))), (n_clip, lambda: (np.array([-0.9, -0.2, 0.3, 0.8]),)),
    (n_clip_bounds, lambda: (np.array([-0.9, -0.2, 0.3, 0.8]), -0.5, 0.5)),
    (n_logaddexp, lambda: (arr(4), arr(4, seed=1))),
    (r_sum, lambda: (arr((3, 4)),)), (r_sum_axis, lambda: (arr((3, 4)),)),
    (r_sum_keepdims, lambda: (arr((3, 4)),)), (r_method_sum, lambda: (arr((3, 4)),)),
    (r_method_sum_all, lambda: (arr((3, 4)),)), (r_mean, lambda: (arr((3, 4)),)),
    (r_mean_all, lambda: (arr(5),)), (r_method_mean, lambda: (arr((3, 4)),)),
    (r_prod, lambda: (pos((3, 4)),)), (r_method_prod, lambda: (pos(5),)),
    (r_max, lambda: (arr((3, 4)),)), (r_amax, lambda: (arr((3, 4)),)), (r_min, lambda: (arr((3, 4)),)),
    (r_amin, lambda: (arr(6),)), (r_method_max, lambda: (arr((3, 4)),)), (r_method_min, lambda: (arr(6),)),
    (l_dot, lambda: (arr((3, 4)), arr(4, seed=1))), (l_dot, lambda: (arr(4), arr(4, seed=1))),
    (l_matmul, lambda: (arr((2, 3)), arr((3, 4), seed=1))), (l_method_dot, lambda: (arr(3), arr((3, 2), seed=1))),
    (l_outer, lambda: (arr(3), arr(4, seed=1))), (l_norm, lambda: (arr(5),)), (l_norm, lambda: (arr((2, 3)),)),
    (l_norm_axis, lambda: (arr((3, 4)),)), (l_solve, lambda: (SPD.copy(), arr(3))),
    (l_solve, lambda: (SPD.copy(), arr((3, 2)))), (l_inv, lambda: (SPD.copy(),)), (l_det, lambda: (SPD.copy(),)),
    (s_reshape, lambda: (arr((3, 4)),)), (s_method_reshape, lambda: (arr((3, 4)),)),
    (s_ravel, lambda: (arr((3, 4)),)), (s_method_ravel, lambda: (arr((3, 4)),)),
    (s_flatten, lambda: (arr((3, 4)),)), (s_squeeze, lambda: (arr((3, 1, 4)),)),
    (s_expand_dims, lambda: (arr((3, 4)),)), (s_transpose, lambda: (arr((3, 4)),)),
    (s_transpose_axes, lambda: (arr((3, 4)),)), (s_method_transpose, lambda: (arr((3, 4)),)),
    (s_T, lambda: (arr((3, 4)),)), (s_concatenate, lambda: (arr(3), arr(4, seed=1))),
    (s_stack, lambda: (arr(3), arr(3, seed=1))), (s_array, lambda: (0.3, -1.1)),
    (s_asarray, lambda: (arr(4),)), (s_copy, lambda: (arr(4),)), (s_np_copy, lambda: (arr(4),)),
    (s_astype, lambda: (arr(4),)), (s_subscript, lambda: (arr((3, 4)),)),
    (h_unbroadcast, lambda: (arr((3, 4)), arr(4, seed=1))), (h_unreduce, lambda: (arr(3), arr((3, 4), seed=1))),
    (h_full, lambda: (0.7,)), (h_broadcast_to, lambda: (arr(4),)), (h_take, lambda: (arr((3, 4)),)),
    (h_swapaxes, lambda: (arr((2, 3)),)), (h_matmul_vjp_a, lambda: (arr(3), arr(3, seed=1))),
    (h_matmul_vjp_b, lambda: (arr(3), arr((3, 4), seed=1))),
    (h_norm_vjp, lambda: (0.8, 1.7, arr(4))), (h_untranspose, lambda: (arr((3, 4)),)),
    (h_transpose_dims, lambda: (arr((3, 4)),)), (h_solve_vjp_a, lambda: (arr(3), SPD.copy(), arr(3, seed=1))),
]

# vector mode needs batched rules; these helpers appear only where ndims are unknown
NO_VECTOR_MODE = {h_matmul_vjp_a, h_matmul_vjp_b, h_norm_vjp, h_untranspose, h_solve_vjp_a}


def _ids(case):
    return case[0].__name__


def _float_args(args):
    return [i for i, a in enumerate(args) if isinstance(a, (float, np.ndarray))]


@OPT
@pytest.mark.parametrize("case", CASES, ids=[c[0].__name__ for c in CASES])
def test_rule_jvp_matches_finite_differences(case, optimize):
    f, make = case
    args = make()
    rng = np.random.default_rng(7)
    tangents = [None] * len(args)
    for i in _float_args(args):
        tangents[i] = float(rng.standard_normal()) if isinstance(args[i], float) \
            else rng.standard_normal(np.shape(args[i]))
    before = [np.copy(a) for a in args]
    out, out_dot = s2sad.jvp(f, args, [0.0 if t is None else t for t in tangents], optimize=optimize)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b, err_msg="jvp mutated an argument")
    assert_close_tree(out, f(*args), rtol=1e-13, atol=1e-13, what="value")
    assert np.shape(out_dot) == np.shape(out)
    assert_close_tree(out_dot, fd_jvp(f, args, tangents), what=f.__name__)


@OPT
@pytest.mark.parametrize("case", [c for c in CASES if c[0] not in NO_VECTOR_MODE],
                         ids=[c[0].__name__ for c in CASES if c[0] not in NO_VECTOR_MODE])
def test_rule_jacfwd_matches_finite_differences(case, optimize):
    f, make = case
    args = make()
    nums = tuple(_float_args(args))
    jac = s2sad.jacfwd(f, argnums=nums, optimize=optimize)(*args)
    for k, i in enumerate(nums):
        want = fd_jacobian(f, args, i)
        assert_close_tree(jac[k], want, what=f"{f.__name__} d/d arg {i}")


# --------------------------------------------------------------------------
# seeds 003 and 000

def log_prod_sin(x1, x2):
    return math.log(x1) + x1 * x2 - math.sin(x2)


def log_prod_sin_np(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


@OPT
@pytest.mark.parametrize("f", [log_prod_sin, log_prod_sin_np], ids=["math", "numpy"])
def test_seed_003_forward_trace(f, optimize):
    value, tangent = s2sad.jvp(f, (2.0, 5.0), (1.0, 0.0), optimize=optimize)
    assert value == pytest.approx(math.log(2.0) + 10.0 - math.sin(5.0), rel=1e-14)
    assert tangent == pytest.approx(5.5, rel=1e-14)           # 1/x1 + x2
    _, tangent2 = s2sad.jvp(f, (2.0, 5.0), (0.0, 1.0), optimize=optimize)
    assert tangent2 == pytest.approx(2.0 - math.cos(5.0), rel=1e-14)


def circle(t, omega):
    return np.cos(omega * t), np.sin(omega * t)


def circle_array(t, omega):
    return np.array([np.cos(omega * t), np.sin(omega * t)])


@OPT
def test_seed_000_circle_tuple(optimize):
    t, omega = 0.4, 2.5
    value, tangent = s2sad.jvp(circle, (t, omega), (1.0, 0.0), optimize=optimize)
    assert isinstance(tangent, tuple) and len(tangent) == 2
    assert tangent[0] == pytest.approx(-omega * math.sin(omega * t), rel=1e-14)
    assert tangent[1] == pytest.approx(omega * math.cos(omega * t), rel=1e-14)


@OPT
def test_seed_000_circle_array(optimize):
    t, omega = 0.4, 2.5
    value, tangent = s2sad.jvp(circle_array, (t, omega), (1.0, 0.0), optimize=optimize)
    np.testing.assert_allclose(tangent, [-omega * math.sin(omega * t), omega * math.cos(omega * t)],
                               rtol=1e-14)
    jac = s2sad.jacfwd(circle_array)(t, omega)
    assert jac.shape == (2,)
    np.testing.assert_allclose(jac, tangent, rtol=1e-14)


# --------------------------------------------------------------------------
# control flow, in-place writes, lists

def branchy(x, y):
    if x > y:
        z = x * y
    else:
        z = np.sin(x) + 2.0
    return z * x


def looped(x, n):
    s = 0.0
    for i in range(n):
        if x[i] > 0.0:
            s = s + np.sin(x[i]) * x[i]
        else:
            continue
        if s > 5.0:
            break
    return s * x


def whiled(x):
    y = x
    k = 0
    while np.sum(y * y) < 10.0 and k < 20:
        y = y * 1.3 + np.tanh(y)
        k += 1
    return y


def in_place(x):
    out = np.zeros(3)
    for i in range(3):
        out[i] = x[i] * x[i + 1]
    out[1] = 2.0
    return out * x[0]


def in_place_argument_copy(x):
    a = x.copy()
    a[0] = a[1] * 3.0
    a[2] += a[0]
    return a


def list_building(x):
    xs = []
    for i in range(3):
        xs.append(np.sin(x[i]) * x[0])
    last = xs.pop()
    return np.stack(xs) * last


FLOW = [
    (branchy, lambda: (0.7, 0.2)), (branchy, lambda: (0.1, 0.9)),
    (looped, lambda: (arr(5), 5)), (looped, lambda: (pos(5) * 2.0, 5)),
    (whiled, lambda: (arr(3),)), (in_place, lambda: (arr(4),)),
    (in_place_argument_copy, lambda: (arr(3),)), (list_building, lambda: (arr(3),)),
]


@OPT
@pytest.mark.parametrize("case", FLOW, ids=[f"{c[0].__name__}{k}" for k, c in enumerate(FLOW)])
def test_control_flow_jvp_and_jacfwd(case, optimize):
    f, make = case
    args = make()
    nums = tuple(_float_args(args))
    rng = np.random.default_rng(3)
    tangents = [None] * len(args)
    for i in nums:
        tangents[i] = float(rng.standard_normal()) if isinstance(args[i], float) \
            else rng.standard_normal(np.shape(args[i]))
    _, out_dot = s2sad.jvp(f, args, [0 if t is None else t for t in tangents], optimize=optimize)
    assert_close_tree(out_dot, fd_jvp(f, args, tangents), what=f.__name__)
    jac = s2sad.jacfwd(f, argnums=nums, optimize=optimize)(*args)
    for k, i in enumerate(nums):
        assert_close_tree(jac[k], fd_jacobian(f, args, i), what=f"{f.__name__} d/d arg {i}")


def test_in_place_write_does_not_touch_the_callers_tangent():
    x = arr(3)
    v = np.ones(3)
    s2sad.jvp(in_place_argument_copy, (x,), (v,))
    np.testing.assert_array_equal(v, np.ones(3))


# --------------------------------------------------------------------------
# the generated code

def poly(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


def test_generated_source_reads_like_the_tangent_trace():
    s2sad.jvp(poly, (2.0, 5.0), (1.0, 0.0))
    jac = s2sad.jacfwd(poly, argnums=(0, 1))
    jac(2.0, 5.0)
    from s2sad.api import _transformed
    src = s2sad.source(_transformed(poly, "jvp", (0, 1), (2.0, 5.0), True))
    assert "def jvp_poly(x1, x2, x1_dot, x2_dot):" in src
    assert "t1_dot = x1_dot / x1" in src
    assert "return y, y_dot" in src
    assert "0.0 *" not in src and "* 0.0" not in src
    compile(src, "<jvp>", "exec")


def inactive_parts(x, c):
    a = c * 2.0
    b = np.sin(a)
    return b * x


def test_inactive_values_get_no_tangent():
    from s2sad.api import _transformed
    src = s2sad.source(_transformed(inactive_parts, "jvp", (0,), (0.3, 0.5), True))
    assert "a_dot" not in src and "b_dot" not in src and "c_dot" not in src
    _, t = s2sad.jvp(inactive_parts, (0.3, 0.5), (1.0, 0.0))
    assert t == pytest.approx(math.sin(1.0))


def unused_input(x, y):
    return y * 2.0


def test_zero_tangent_has_the_output_shape():
    out, t = s2sad.jvp(unused_input, (arr(3), arr(3)), (np.ones(3), np.zeros(3)))
    np.testing.assert_array_equal(t, np.zeros(3))
    assert t.shape == out.shape


def test_missing_forward_rule_is_an_s2sad_error():
    import scipy.special

    def f(x):
        return scipy.special.gamma(x)

    with pytest.raises(s2sad.MissingRuleError):
        s2sad.jvp(f, (1.5,), (1.0,))


def test_cli_mode_forward(tmp_path):
    src = tmp_path / "m.py"
    src.write_text(textwrap.dedent("""
        import numpy as np

        def f(x, y):
            return np.sin(x) * y
    """))
    out = subprocess.run([sys.executable, "-m", "s2sad", str(src), "f", "--mode", "forward",
                          "--argnums", "0"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "def jvp_f(x, y, x_dot):" in out.stdout
    assert "x_dot * np.cos(x)" in out.stdout
    assert "return y_1, y_1_dot" in out.stdout or "return" in out.stdout
