"""Reverse mode through programs (issue 3, items 3-5): in-place writes into
arrays, lists, and calls into user code.

Every derivative is checked against central finite differences of the
original function (``check_grad``) or an exact closed form; s2sad is never
compared with itself.  Each test runs the optimized and the unoptimized
derivative.  Errors are asserted by class and by the location in this file.
"""
import inspect
import os
import re

import numpy as np
import pytest
import scipy.special

import programs_helpers
import s2sad
from programs_helpers import poly, softplus
from util import check_grad

THIS_FILE = os.path.basename(__file__)


@pytest.fixture(params=[True, False], ids=["optimized", "unoptimized"])
def optimize(request):
    return request.param


def grad(f, optimize, argnums=0):
    return s2sad.grad(f, argnums=argnums, optimize=optimize)


def line_of(f, offset):
    """The absolute line number of the line `offset` lines below f's `def`."""
    return inspect.getsourcelines(f)[1] + offset


def assert_located(message, f, offset):
    lineno = line_of(f, offset)
    assert THIS_FILE in message, message
    assert re.search(rf"(?<!\d){lineno}(?!\d)", message), (
        f"line {lineno} not in message:\n{message}")


X5 = np.array([0.5, -1.2, 2.0, 0.3, -0.7])


# ==========================================================================
# 3. in-place writes into arrays the function created or copied

def fill_loop(x):
    n = x.shape[0]
    out = np.zeros(n)
    for i in range(n):
        out[i] = x[i] ** 2
    return np.sum(out * np.arange(1.0, n + 1.0))


def test_fill_zeros_in_loop(optimize):
    g = check_grad(fill_loop, X5, optimize=optimize)
    np.testing.assert_allclose(g, 2 * X5 * np.arange(1.0, 6.0), rtol=1e-12)


def fill_loop_reads_previous(x):
    # a recurrence written into an array: out[i] depends on out[i - 1]
    out = np.zeros(len(x))
    out[0] = x[0]
    for i in range(1, len(x)):
        out[i] = np.sin(out[i - 1]) * x[i]
    return np.sum(out ** 2)


def test_fill_recurrence_in_array(optimize):
    check_grad(fill_loop_reads_previous, X5, optimize=optimize)


def fill_rows(x):
    m = x.shape[0]
    A = np.zeros((3, m))
    for i in range(3):
        A[i, :] = np.sin(x * (i + 1.0))
    return np.sum(A @ x)


def test_write_row_slice(optimize):
    check_grad(fill_rows, X5, optimize=optimize)


def fill_rows_short_index(x, W):
    A = np.zeros((W.shape[0], x.shape[0]))
    for i in range(W.shape[0]):
        A[i] = W[i, 0] * x + W[i, 1] * x * x
    return np.sum(np.tanh(A))


def test_write_row_single_index(optimize):
    W = np.array([[0.5, -0.2], [1.0, 0.3], [-0.7, 0.1]])
    check_grad(fill_rows_short_index, X5, W, argnums=(0, 1), optimize=optimize)


def accumulate_rows(x, W):
    acc = np.zeros((2, x.shape[0]))
    for k in range(W.shape[0]):
        acc[k % 2] += W[k] * x
    return np.sum(acc[0] * acc[1])


def test_augmented_write(optimize):
    W = np.array([[0.5, -0.2, 1.0, 0.3, 0.1], [1.0, 0.3, -0.7, 0.1, 2.0],
                  [-0.7, 0.1, 0.4, 0.9, -1.0]])
    check_grad(accumulate_rows, X5, W, argnums=(0, 1), optimize=optimize)


def augmented_element(x):
    out = np.ones(3)
    for i in range(len(x)):
        out[i % 3] *= x[i]
        out[(i + 1) % 3] += x[i] * x[i]
    return np.sum(np.sin(out))


def test_augmented_write_element_mul(optimize):
    check_grad(augmented_element, X5, optimize=optimize)


def copy_then_write(x):
    out = x.copy()
    out[0] = out[0] * out[1] + 3.0
    return np.sum(out * out)


def test_copy_then_write(optimize):
    x = np.array([0.5, -1.2, 2.0])
    g = check_grad(copy_then_write, x, optimize=optimize)
    y0 = x[0] * x[1] + 3.0
    np.testing.assert_allclose(g, [2 * y0 * x[1], 2 * y0 * x[0] + 2 * x[1], 2 * x[2]],
                               rtol=1e-12)


def overwrite_after_read(x):
    # the value at out[1] is read before it is overwritten: the reverse sweep
    # must restore it
    out = np.array(x)
    s = np.sum(out * out * out)
    out[1] = np.sin(out[1]) * out[2]
    out[2] = out[1] * out[0]
    return s + np.sum(np.exp(out))


def test_overwrite_after_read(optimize):
    check_grad(overwrite_after_read, np.array([0.5, -1.2, 0.8]), optimize=optimize)


def overwrite_same_slot_in_loop(x):
    out = np.zeros(2)
    out[0] = 1.0
    for i in range(len(x)):
        out[0] = out[0] * x[i] + 0.5
        out[1] = out[1] + out[0] ** 2
    return out[0] + out[1]


def test_overwrite_same_slot_in_loop(optimize):
    check_grad(overwrite_same_slot_in_loop, X5, optimize=optimize)


def write_slice(x):
    out = np.zeros(6)
    out[1:4] = x[:3] * 2.0
    out[4:] = np.exp(x[3:5])
    out[::2] = out[::2] * out[1::2]
    return np.sum(out ** 2)


def test_write_slices(optimize):
    check_grad(write_slice, X5, optimize=optimize)


def write_then_use_in_branch(x):
    out = x * 1.0
    for i in range(len(x)):
        if out[i] < 0.0:
            out[i] = -out[i] * x[0]
    return np.sum(out ** 3)


def test_conditional_write(optimize):
    check_grad(write_then_use_in_branch, X5, optimize=optimize)


def write_in_matrix_elementwise(A):
    n, m = A.shape
    B = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            B[i, j] = A[i, j] * A[j % n, i % m]
    return np.sum(B ** 2)


def test_write_matrix_elements_nested_loops(optimize):
    A = np.array([[0.5, -1.2, 2.0], [0.3, -0.7, 1.1]])
    check_grad(write_in_matrix_elementwise, A, optimize=optimize)


def write_into_argument(x):
    y = x * 2.0
    x[0] = y[1]
    return np.sum(x * y)


def augmented_write_into_argument(x):
    y = x * 2.0
    x[1] += y[0]
    return np.sum(x * y)


def write_into_argument_in_loop(x):
    s = 0.0
    for i in range(len(x)):
        x[i] = x[i] * x[i]
        s = s + x[i]
    return s


def write_into_alias_of_argument(x):
    y = x
    y[0] = 3.0
    return np.sum(y * x)


ARG_WRITES = [(write_into_argument, 2), (augmented_write_into_argument, 2),
              (write_into_argument_in_loop, 3), (write_into_alias_of_argument, 2)]


@pytest.mark.parametrize("f, offset", ARG_WRITES, ids=[f.__name__ for f, _ in ARG_WRITES])
def test_write_into_argument_raises(optimize, f, offset):
    x = np.array([0.5, -1.2, 2.0])
    before = x.copy()
    with pytest.raises(s2sad.S2SADError) as e:
        s2sad.grad(f, optimize=optimize)(x)
    assert_located(str(e.value), f, offset)
    np.testing.assert_array_equal(x, before)


# ==========================================================================
# 4. lists

def list_append_stack(x):
    xs = []
    for i in range(4):
        xs.append(np.sin(x * (i + 1.0)))
    S = np.stack(xs)
    return np.sum(S * S)


def test_list_append_then_stack(optimize):
    x = np.array([0.5, -1.2, 2.0])
    g = check_grad(list_append_stack, x, optimize=optimize)
    k = np.arange(1.0, 5.0)[:, None]
    expected = np.sum(2 * np.sin(k * x) * np.cos(k * x) * k, axis=0)
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def list_append_sum(x):
    xs = []
    y = x
    for i in range(5):
        y = y * x + 1.0
        xs.append(y)
    return sum(xs)


@pytest.mark.parametrize("x", [-0.8, 0.4, 1.3])
def test_list_append_then_builtin_sum(optimize, x):
    check_grad(list_append_sum, x, optimize=optimize)


def list_last(x):
    hs = [x]
    for i in range(3):
        hs.append(np.cos(hs[-1]) * x)
    return hs[-1]


@pytest.mark.parametrize("x", [-0.8, 0.4, 1.3])
def test_list_last_element(optimize, x):
    # hs[k+1] = cos(hs[k]) x; exact derivative by the chain rule
    h, d = x, 1.0
    for _ in range(3):
        h, d = np.cos(h) * x, -np.sin(h) * d * x + np.cos(h)
    assert grad(list_last, optimize)(x) == pytest.approx(d, rel=1e-12)


def list_of_arrays_indexing(x):
    xs = [x, x * x]
    xs.append(np.sin(xs[0]) * xs[1])
    return np.sum(xs[2] + xs[-2] * xs[0])


def test_list_indexing(optimize):
    check_grad(list_of_arrays_indexing, np.array([0.5, -1.2, 2.0]), optimize=optimize)


def list_comprehension_range(x):
    powers = [x ** i for i in range(1, 5)]
    return sum(powers)


@pytest.mark.parametrize("x", [-0.8, 0.4, 1.3])
def test_list_comprehension_over_range(optimize, x):
    expected = 1 + 2 * x + 3 * x ** 2 + 4 * x ** 3
    assert grad(list_comprehension_range, optimize)(x) == pytest.approx(expected, rel=1e-12)


def list_comprehension_stack(x):
    rows = [x[k] * x + np.sin(x) * k for k in range(len(x))]
    return np.sum(np.stack(rows) ** 2)


def test_list_comprehension_then_stack(optimize):
    check_grad(list_comprehension_stack, np.array([0.5, -1.2, 2.0]), optimize=optimize)


def generator_expression_in_loop(x):
    s = 0.0
    for i in range(1, 3):
        s = s + sum(v * v * i for v in [x, 2.0 * x])
    return s


@pytest.mark.parametrize("x", [-0.8, 1.3])
def test_generator_expression_in_sum(optimize, x):
    # s = 3 * (x^2 + 4 x^2) = 15 x^2
    assert grad(generator_expression_in_loop, optimize)(x) == pytest.approx(30 * x, rel=1e-12)


def list_to_array(x):
    ys = []
    for v in x:
        ys.append(v * v)
    return np.sum(np.array(ys) * x)


def test_list_to_np_array(optimize):
    g = check_grad(list_to_array, X5, optimize=optimize)
    np.testing.assert_allclose(g, 3 * X5 ** 2, rtol=1e-12)


def pair(v):
    return v * v, np.sin(v)


def triple_stats(x):
    return np.sum(x), np.sum(x * x), np.max(x)


def tuple_from_helper(x):
    a, b = pair(x)
    return a * b


def tuple_from_helper_arrays(x):
    s, ss, m = triple_stats(x)
    return ss / s - m


def tuple_from_helper_indexed(x):
    t = pair(x)
    return t[0] + t[1] * t[0]


@pytest.mark.parametrize("x", [-0.8, 0.4, 1.3])
def test_tuple_returned_from_helper_and_unpacked(optimize, x):
    expected = 2 * x * np.sin(x) + x * x * np.cos(x)
    assert grad(tuple_from_helper, optimize)(x) == pytest.approx(expected, rel=1e-12)


def test_tuple_returned_from_helper_arrays(optimize):
    check_grad(tuple_from_helper_arrays, np.array([0.5, 1.2, 2.0]), optimize=optimize)


@pytest.mark.parametrize("x", [-0.8, 1.3])
def test_tuple_returned_from_helper_indexed(optimize, x):
    check_grad(tuple_from_helper_indexed, x, optimize=optimize)


# ==========================================================================
# 5. calls into user code

def cube_plus(v):
    return v ** 3 + 2.0 * v


def calls_module_helper(x):
    return cube_plus(x) * x


@pytest.mark.parametrize("x", [-0.8, 0.4, 1.3])
def test_module_level_helper(optimize, x):
    # (x^3 + 2x) x = x^4 + 2x^2
    assert grad(calls_module_helper, optimize)(x) == pytest.approx(4 * x ** 3 + 4 * x, rel=1e-12)


def calls_helper_on_arrays(x):
    return np.sum(cube_plus(x) * np.sin(x))


def test_module_level_helper_on_arrays(optimize):
    check_grad(calls_helper_on_arrays, X5, optimize=optimize)


def helper_with_loop(v, n):
    y = v
    for i in range(n):
        y = np.sin(y) * v
    return y


def calls_helper_with_loop(x):
    return helper_with_loop(x, 3) + helper_with_loop(x * x, 2)


@pytest.mark.parametrize("x", [-0.8, 0.4, 1.3])
def test_helper_with_loop(optimize, x):
    check_grad(calls_helper_with_loop, x, optimize=optimize)


def helper_level2(v):
    return cube_plus(v) - v * v


def calls_two_levels(x):
    return helper_level2(np.sin(x)) * x


@pytest.mark.parametrize("x", [-0.8, 1.3])
def test_helper_calling_helper(optimize, x):
    check_grad(calls_two_levels, x, optimize=optimize)


def calls_other_module(x):
    return np.sum(softplus(x) * programs_helpers.poly(x, b=0.5))


def test_helper_from_other_module(optimize):
    g = check_grad(calls_other_module, X5, optimize=optimize)
    sp = np.log1p(np.exp(X5))
    p = X5 ** 2 + 0.5 * X5
    np.testing.assert_allclose(g, p / (1 + np.exp(-X5)) + sp * (2 * X5 + 0.5), rtol=1e-12)


def scaled_power(v, scale=2.0, power=3, shift=0.0):
    return scale * v ** power + shift


def calls_with_keywords(x, y):
    a = scaled_power(x)                        # defaults: 2 x^3
    b = scaled_power(x, power=2)               # 2 x^2
    c = scaled_power(y, shift=x, scale=0.5)    # 0.5 y^3 + x
    d = scaled_power(x, y, 1)                  # y x (positional)
    return a + b + c + d


@pytest.mark.parametrize("x, y", [(0.7, -1.1), (-1.3, 0.4)])
def test_helper_keywords_and_defaults(optimize, x, y):
    gx, gy = grad(calls_with_keywords, optimize, argnums=(0, 1))(x, y)
    assert gx == pytest.approx(6 * x * x + 4 * x + 1.0 + y, rel=1e-12)
    assert gy == pytest.approx(1.5 * y * y + x, rel=1e-12)


def calls_poly_keywords(x):
    return poly(x, a=3.0) + poly(x, 0.5, b=x)


@pytest.mark.parametrize("x", [-0.8, 1.3])
def test_helper_other_module_keywords(optimize, x):
    # 3x^2 + 0.5 x^2 + x*x
    assert grad(calls_poly_keywords, optimize)(x) == pytest.approx(9 * x, rel=1e-12)


def nested_def(x):
    def inner(v):
        return np.exp(v) * v

    return inner(x) + inner(2.0 * x)


@pytest.mark.parametrize("x", [-0.8, 0.4])
def test_nested_def(optimize, x):
    expected = np.exp(x) * (1 + x) + 2 * np.exp(2 * x) * (1 + 2 * x)
    assert grad(nested_def, optimize)(x) == pytest.approx(expected, rel=1e-12)


def closure_over_active(x):
    c = np.sin(x)

    def times_c(v):
        return v * c

    return times_c(x * x)


@pytest.mark.parametrize("x", [-0.8, 0.4, 1.3])
def test_closure_over_active_variable(optimize, x):
    # x^2 sin x: the closure's captured value depends on x too
    expected = 2 * x * np.sin(x) + x * x * np.cos(x)
    assert grad(closure_over_active, optimize)(x) == pytest.approx(expected, rel=1e-12)


def closure_over_argument(x, w):
    def model(v):
        return np.tanh(w @ v)

    return np.sum(model(x) ** 2)


def test_closure_over_argument(optimize):
    w = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6]])
    check_grad(closure_over_argument, np.array([0.3, -0.8, 1.1]), w, argnums=(0, 1),
               optimize=optimize)


def make_closure_factory(k):
    def scaled(x):
        return np.sin(k * x) * x
    return scaled


closure_from_factory = make_closure_factory(3.0)


@pytest.mark.parametrize("x", [-0.8, 0.4])
def test_differentiate_a_closure(optimize, x):
    # the differentiated function itself is a closure over a constant
    expected = 3.0 * np.cos(3.0 * x) * x + np.sin(3.0 * x)
    assert grad(closure_from_factory, optimize)(x) == pytest.approx(expected, rel=1e-12)


def lambda_bound(x):
    sq = lambda v: v * v  # noqa: E731
    return sq(x) * sq(np.sin(x))


@pytest.mark.parametrize("x", [-0.8, 0.4, 1.3])
def test_lambda_bound_to_name(optimize, x):
    # x^2 sin^2 x
    expected = 2 * x * np.sin(x) ** 2 + 2 * x * x * np.sin(x) * np.cos(x)
    assert grad(lambda_bound, optimize)(x) == pytest.approx(expected, rel=1e-12)


def lambda_in_loop(x):
    step = lambda v, a: v - a * np.sin(v)  # noqa: E731
    y = x
    for i in range(3):
        y = step(y, 0.3)
    return y * x


@pytest.mark.parametrize("x", [-0.8, 1.3])
def test_lambda_called_in_loop(optimize, x):
    check_grad(lambda_in_loop, x, optimize=optimize)


def p(x, n):
    return 1.0 if n == 0 else x * p(x, n - 1)


@pytest.mark.parametrize("n", [0, 1, 3, 6])
@pytest.mark.parametrize("x", [-0.8, 1.3])
def test_recursion_bounded_at_run_time(optimize, x, n):
    expected = n * x ** (n - 1) if n > 0 else 0.0
    assert grad(p, optimize)(x, n) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def fib_like(x, n):
    if n <= 1:
        return x
    return np.sin(fib_like(x, n - 1)) + fib_like(x, n - 2) * x


@pytest.mark.parametrize("n", [1, 2, 4])
def test_tree_recursion(optimize, n):
    check_grad(fib_like, 0.7, n, optimize=optimize)


def calls_recursive(x):
    return p(x, 4) + p(2.0 * x, 2)


@pytest.mark.parametrize("x", [-0.8, 1.3])
def test_call_into_recursive_helper(optimize, x):
    # x^4 + 4 x^2
    assert grad(calls_recursive, optimize)(x) == pytest.approx(4 * x ** 3 + 8 * x, rel=1e-12)


def test_helper_used_with_float_and_array(optimize):
    # the same helper differentiated for a float argument and an array argument
    def both(x):
        return np.sum(cube_plus(x)) + cube_plus(x[0]) * 2.0

    g = grad(both, optimize)(np.array([0.5, -1.2]))
    expected = 3 * np.array([0.5, -1.2]) ** 2 + 2.0
    expected[0] *= 3.0
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_source_shows_helper_derivative():
    df = s2sad.grad(calls_module_helper)
    df(0.5)
    text = s2sad.source(df)
    assert "cube_plus" in text, text


def test_source_shows_nested_helper_derivative():
    df = s2sad.grad(calls_two_levels)
    df(0.5)
    text = s2sad.source(df)
    assert "helper_level2" in text, text
    assert "cube_plus" in text, text


# --------------------------------------------------------------------------
# a callee with neither source nor rule

def calls_gamma_in_helper(x):
    return gamma_helper(x) * x


def gamma_helper(v):
    w = v * 2.0
    return scipy.special.gamma(w)


def calls_gamma_in_loop(x):
    y = x
    for i in range(3):
        y = scipy.special.gamma(y) + x
    return y


@pytest.mark.parametrize("f, where, offset", [
    (calls_gamma_in_helper, gamma_helper, 2),
    (calls_gamma_in_loop, calls_gamma_in_loop, 3),
], ids=["in-helper", "in-loop"])
def test_callee_without_source_or_rule(optimize, f, where, offset):
    with pytest.raises(s2sad.MissingRuleError) as e:
        s2sad.grad(f, optimize=optimize)(1.5)
    message = str(e.value)
    assert "gamma" in message, message
    assert_located(message, where, offset)


# --------------------------------------------------------------------------
# combinations

def write_negative_index(x):
    out = np.zeros(3)
    out[-1] = x[0] * x[1]
    out[-2] += np.sin(x[2])
    return np.sum(out * out)


def test_write_negative_index(optimize):
    check_grad(write_negative_index, np.array([0.5, -1.2, 2.0]), optimize=optimize)


def helper_fills_array(v):
    out = np.zeros(v.shape[0])
    for i in range(v.shape[0]):
        out[i] = v[i] * v[(i + 1) % v.shape[0]]
    return out


def calls_filling_helper_in_loop(x):
    y = x
    for k in range(3):
        y = helper_fills_array(y) + x
    return np.sum(y)


def test_helper_with_inplace_writes_called_in_loop(optimize):
    check_grad(calls_filling_helper_in_loop, np.array([0.5, -0.4, 0.8]), optimize=optimize)


def closure_over_loop_carried(x):
    y = x
    for i in range(3):
        def step(v):
            return v * y + 0.1
        y = step(np.sin(y))
    return y


@pytest.mark.parametrize("x", [-0.8, 0.6])
def test_closure_over_loop_carried_value(optimize, x):
    check_grad(closure_over_loop_carried, x, optimize=optimize)


def helper_with_early_return(v, t):
    for i in range(v.shape[0]):
        for j in range(i + 1):
            if v[i] * v[j] > t:
                return v[i] * v[j] * (i - j + 1.0)
    return np.sum(v)


def calls_helper_with_early_return(x):
    return helper_with_early_return(x, 1.0) + helper_with_early_return(x * 0.1, 1.0)


def test_helper_with_return_in_nested_loops(optimize):
    check_grad(calls_helper_with_early_return, np.array([0.5, -0.4, 1.8, 0.3]),
               optimize=optimize)


def list_in_while_with_break(x):
    hs = []
    h = x
    while True:
        h = np.tanh(h) * 1.5 + 0.2
        hs.append(h * h)
        if len(hs) >= 4:
            break
    return sum(hs)


@pytest.mark.parametrize("x", [-0.8, 0.6])
def test_list_appended_in_while_with_break(optimize, x):
    check_grad(list_in_while_with_break, x, optimize=optimize)


def pair_helper(a, b):
    return a * b + b


def helper_in_loop_reads_an_outer_value(x, y):
    # each iteration's helper call contributes to the adjoint of v (defined before the
    # loop): those contributions must add up, also when they come unpacked from a tuple
    v = y * 2.0
    s = 0.0
    for i in range(3):
        s = s + pair_helper(x * i, v)
    return s


@pytest.mark.parametrize("optimize", [True, False])
def test_helper_in_loop_contributes_to_an_outer_value(optimize):
    x, y = 0.7, -0.4
    gx, gy = s2sad.grad(helper_in_loop_reads_an_outer_value, argnums=(0, 1), optimize=optimize)(x, y)
    # f = sum_i (x i v + v) = 3 x v + 3 v, v = 2y
    assert gx == pytest.approx(3 * 2 * y)
    assert gy == pytest.approx(2 * (3 * x + 3))
    _, t = s2sad.jvp(helper_in_loop_reads_an_outer_value, (x, y), (0.0, 1.0), optimize=optimize)
    assert t == pytest.approx(2 * (3 * x + 3))
