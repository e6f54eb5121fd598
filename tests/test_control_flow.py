"""Reverse mode through control flow (issue 3, items 1-2): branches and loops.

Every derivative is checked against central finite differences of the
original function (``check_grad``) or against an exact closed form written
by hand; s2sad is never compared with itself.  Each test runs the optimized
and the unoptimized derivative.  Input points lie on both sides of every
branch and far enough (>> the FD step) from each branch boundary.
"""
import math

import numpy as np
import pytest

import s2sad
from util import check_grad


@pytest.fixture(params=[True, False], ids=["optimized", "unoptimized"])
def optimize(request):
    return request.param


def grad(f, optimize, argnums=0):
    return s2sad.grad(f, argnums=argnums, optimize=optimize)


# ==========================================================================
# Seed 001: f_recursive, x -> 3x^2 - x + 1 applied 4 times

def f(x):
    return 3 * x ** 2 - x + 1


def f_recursive(x):
    for i in range(4):
        x = f(x)
    return x


def f_recursive_inlined(x):
    for i in range(4):
        x = 3 * x ** 2 - x + 1
    return x


def f_recursive_exact_derivative(x):
    """Chain rule in plain Python: d/dx f(f(f(f(x)))) = prod f'(x_k)."""
    d = 1.0
    for _ in range(4):
        d *= 6.0 * x - 1.0
        x = 3.0 * x * x - x + 1.0
    return d


RECURSIVE_POINTS = [-0.7, -0.2, 0.0, 1.0 / 6.0 + 0.05, 0.3, 0.9]


@pytest.mark.parametrize("x", RECURSIVE_POINTS)
def test_f_recursive_inlined_exact(optimize, x):
    g = grad(f_recursive_inlined, optimize)(x)
    assert isinstance(g, float)
    assert g == pytest.approx(f_recursive_exact_derivative(x), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("x", RECURSIVE_POINTS)
def test_f_recursive_helper_exact(optimize, x):
    g = grad(f_recursive, optimize)(x)
    assert isinstance(g, float)
    assert g == pytest.approx(f_recursive_exact_derivative(x), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("x", [-0.2, 0.3])
def test_f_recursive_inlined_fd(optimize, x):
    check_grad(f_recursive_inlined, x, optimize=optimize)


def test_f_recursive_array(optimize):
    def f_recursive_array(x):
        for i in range(4):
            x = 3 * x ** 2 - x + 1
        return np.sum(x)

    x = np.array([-0.7, -0.2, 0.0, 0.3, 0.9])
    g = grad(f_recursive_array, optimize)(x)
    expected = np.array([f_recursive_exact_derivative(v) for v in x])
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-12)


# ==========================================================================
# Seed 001: the piecewise function x**3 if x < 2 else 3x

def piecewise_seed(x):
    # verbatim from the seed: two ifs, each returning
    if x < 2:
        return x ** 3
    if x >= 2:
        return 3 * x


def piecewise_if(x):
    if x < 2:
        return x ** 3
    else:
        return 3 * x


def piecewise_ifexp(x):
    return x ** 3 if x < 2 else 3 * x


def piecewise_ifexp_assigned(x):
    y = x ** 3 if x < 2 else 3 * x
    return y


PIECEWISE = [piecewise_seed, piecewise_if, piecewise_ifexp, piecewise_ifexp_assigned]


@pytest.mark.parametrize("fun", PIECEWISE, ids=[p.__name__ for p in PIECEWISE])
@pytest.mark.parametrize("x", [-1.5, 0.0, 0.5, 1.9, 1.999, 2.001, 2.5, 4.0])
def test_piecewise_exact(optimize, fun, x):
    g = grad(fun, optimize)(x)
    expected = 3 * x ** 2 if x < 2 else 3.0
    assert g == pytest.approx(expected, rel=1e-14, abs=1e-14)


def test_piecewise_on_linspace(optimize):
    # seed 001 evaluates the piecewise function on np.linspace(0, 5, 50)
    dpiece = grad(piecewise_if, optimize)
    for x in np.linspace(0, 5, 50):
        x = float(x)
        expected = 3 * x ** 2 if x < 2 else 3.0
        assert dpiece(x) == pytest.approx(expected, rel=1e-14, abs=1e-14)


# ==========================================================================
# Branches: if / elif / else, conditional expressions, and/or/not, chains

def if_elif_else(x):
    if x < -1.0:
        y = -x * x
    elif x < 1.0:
        y = np.sin(x) * x
    elif x < 3.0:
        y = np.exp(x) / x
    else:
        y = 5.0 * x
    return y * x


def if_elif_else_exact(x):
    if x < -1.0:
        return -3 * x * x
    if x < 1.0:
        return 2 * x * np.sin(x) + x * x * np.cos(x)
    if x < 3.0:
        return np.exp(x)
    return 10.0 * x


@pytest.mark.parametrize("x", [-2.5, -1.2, -0.8, 0.0, 0.9, 1.2, 2.9, 3.1, 6.0])
def test_if_elif_else(optimize, x):
    check_grad(if_elif_else, x, optimize=optimize)
    assert grad(if_elif_else, optimize)(x) == pytest.approx(if_elif_else_exact(x), rel=1e-12)


def if_without_else(x):
    y = x * x
    if y > 1.0:
        y = np.sqrt(y) * 3.0
    return y + x


@pytest.mark.parametrize("x", [-2.0, -0.5, 0.25, 0.9, 1.1, 3.0])
def test_if_without_else(optimize, x):
    expected = (3.0 * np.sign(x) if x * x > 1.0 else 2 * x) + 1.0
    assert grad(if_without_else, optimize)(x) == pytest.approx(expected, rel=1e-12)
    check_grad(if_without_else, x, optimize=optimize)


def branch_on_two_args(x, y):
    if x > y:
        z = x * np.sin(y)
    else:
        z = y * np.cos(x) + x
    return z * y


@pytest.mark.parametrize("x, y", [(1.0, 0.3), (0.3, 1.0), (-1.0, -2.0), (-2.0, -1.0)])
def test_branch_on_two_args(optimize, x, y):
    check_grad(branch_on_two_args, x, y, argnums=(0, 1), optimize=optimize)


def nested_ifs(x, y):
    if x > 0.0:
        if y > 0.0:
            z = x * y
        else:
            z = x - y * y
    else:
        if y > x:
            z = np.exp(x) * y
        else:
            z = np.sin(x * y)
    return z


@pytest.mark.parametrize("x, y", [(1.0, 2.0), (1.0, -2.0), (-1.0, 0.5), (-1.0, -2.0)])
def test_nested_ifs(optimize, x, y):
    check_grad(nested_ifs, x, y, argnums=(0, 1), optimize=optimize)


def ifexp_nested(x):
    return x * x if x < 0.0 else (np.sin(x) if x < 2.0 else x * np.log(x))


@pytest.mark.parametrize("x", [-1.0, 0.5, 1.5, 2.5])
def test_conditional_expression_nested(optimize, x):
    check_grad(ifexp_nested, x, optimize=optimize)


def ifexp_inside_expression(x):
    return 2.0 * (x ** 2 if x > 1.0 else -x) + np.exp(x if x < 0.5 else 0.5 * x)


@pytest.mark.parametrize("x", [-1.0, 0.2, 0.7, 1.5])
def test_conditional_expression_inside_expression(optimize, x):
    expected = (4 * x if x > 1.0 else -2.0) + (np.exp(x) if x < 0.5 else 0.5 * np.exp(0.5 * x))
    assert grad(ifexp_inside_expression, optimize)(x) == pytest.approx(expected, rel=1e-12)


def cond_and(x, y):
    if x > 0.0 and y > 0.0:
        return x * y * y
    return x + y


def cond_or(x, y):
    if x < -1.0 or y > 1.0:
        return np.sin(x) * y
    return x * x - y


def cond_not(x, y):
    if not x > y:
        return x * np.exp(y)
    return x * x * y


def cond_chained(x, y):
    if -1.0 < x < 1.0 < y:
        return x * x * y
    return x - 3.0 * y


def cond_mixed(x, y):
    if (0.0 < x <= 2.0 and not y < 0.0) or x < -3.0:
        return x * y * 2.0
    return np.cos(x) + y


CONDS = {
    "and": (cond_and, [(1.0, 2.0), (1.0, -2.0), (-1.0, 2.0), (-1.0, -2.0)]),
    "or": (cond_or, [(-2.0, 0.0), (0.0, 2.0), (-2.0, 2.0), (0.0, 0.0)]),
    "not": (cond_not, [(1.0, 2.0), (2.0, 1.0)]),
    "chained": (cond_chained, [(0.5, 2.0), (0.5, 0.5), (1.5, 2.0), (-1.5, 2.0)]),
    "mixed": (cond_mixed, [(1.0, 1.0), (1.0, -1.0), (3.0, 1.0), (-4.0, 1.0), (-1.0, 1.0)]),
}
COND_CASES = [(name, fun, p) for name, (fun, ps) in CONDS.items() for p in ps]


@pytest.mark.parametrize("name, fun, point", COND_CASES,
                         ids=[f"{n}-{p}" for n, _, p in COND_CASES])
def test_boolean_conditions(optimize, name, fun, point):
    check_grad(fun, *point, argnums=(0, 1), optimize=optimize)


def bool_ops_in_ifexp(x):
    return x * x if (x > 0.0 and x < 1.0) or not x > -2.0 else np.sin(x)


@pytest.mark.parametrize("x", [-3.0, -1.0, 0.5, 1.5])
def test_bool_ops_in_conditional_expression(optimize, x):
    expected = 2 * x if (0.0 < x < 1.0) or not x > -2.0 else np.cos(x)
    assert grad(bool_ops_in_ifexp, optimize)(x) == pytest.approx(expected, rel=1e-12)


def branch_on_array(x):
    if np.sum(x) > 0.0:
        y = x * x
    else:
        y = np.sin(x)
    return np.sum(y * x)


@pytest.mark.parametrize("x", [np.array([0.5, 1.0, -0.2]), np.array([-0.5, -1.0, 0.2])])
def test_branch_on_array_value(optimize, x):
    g = check_grad(branch_on_array, x, optimize=optimize)
    expected = 3 * x * x if np.sum(x) > 0 else np.sin(x) + x * np.cos(x)
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def branch_on_element(x):
    if x[0] > x[1]:
        return np.sum(x * x)
    return np.sum(np.exp(x))


@pytest.mark.parametrize("x", [np.array([1.0, 0.0, 0.5]), np.array([0.0, 1.0, 0.5])])
def test_branch_on_array_element(optimize, x):
    check_grad(branch_on_element, x, optimize=optimize)


# ==========================================================================
# for over range(...)

def range_stop(x):
    y = 0.0
    for i in range(5):
        y = y + x ** i
    return y


@pytest.mark.parametrize("x", [-0.8, 0.5, 1.3])
def test_range_stop(optimize, x):
    expected = sum(i * x ** (i - 1) for i in range(1, 5))
    assert grad(range_stop, optimize)(x) == pytest.approx(expected, rel=1e-12)


def range_start_stop_step(x):
    y = x
    for k in range(1, 8, 3):      # k = 1, 4, 7
        y = y * x + k
    return y


@pytest.mark.parametrize("x", [-1.1, 0.4, 2.0])
def test_range_start_stop_step(optimize, x):
    # y = ((x*x + 1)*x + 4)*x + 7 = x^4 + x^2 + 4x + 7
    expected = 4 * x ** 3 + 2 * x + 4
    assert grad(range_start_stop_step, optimize)(x) == pytest.approx(expected, rel=1e-12)


def range_negative_step(x):
    # Horner on the reversed coefficients, index running backwards
    n = x.shape[0]
    acc = 0.0
    for i in range(n - 1, -1, -1):
        acc = acc * 0.5 + x[i] * x[i]
    return acc


def test_range_negative_step(optimize):
    x = np.array([0.3, -1.2, 0.8, 2.0, -0.4])
    g = check_grad(range_negative_step, x, optimize=optimize)
    # acc = sum_i x_i^2 * 0.5^i
    np.testing.assert_allclose(g, 2 * x * 0.5 ** np.arange(5), rtol=1e-12)


def range_negative_step_two(x):
    acc = 1.0
    for i in range(len(x) - 1, 0, -2):   # n=6: i = 5, 3, 1
        acc = acc * x[i] + x[i - 1]
    return acc


def test_range_negative_step_two(optimize):
    x = np.array([0.5, 1.5, -0.7, 2.0, 0.9, -1.1])
    check_grad(range_negative_step_two, x, optimize=optimize)


def range_len_stop(x):
    s = 0.0
    for i in range(len(x)):
        s = s + (i + 1.0) * x[i] ** 3
    return s


def test_range_len_stop(optimize):
    x = np.array([0.5, -1.0, 2.0, 0.1])
    g = check_grad(range_len_stop, x, optimize=optimize)
    np.testing.assert_allclose(g, 3 * (np.arange(4) + 1.0) * x ** 2, rtol=1e-12)


def range_from_shape_expr(x):
    s = 0.0
    for i in range(1, x.shape[0] - 1):   # interior points: a second difference
        d = x[i - 1] - 2.0 * x[i] + x[i + 1]
        s = s + d * d
    return s


def test_range_stop_from_shape_expression(optimize):
    x = np.array([0.1, 0.7, -0.3, 1.2, 0.4, -0.9])
    check_grad(range_from_shape_expr, x, optimize=optimize)


def range_stop_from_argument(x, n):
    y = x
    for i in range(n):
        y = np.sin(y) + x
    return y


@pytest.mark.parametrize("n", [0, 1, 3])
def test_range_stop_from_int_argument(optimize, n):
    check_grad(range_stop_from_argument, 0.7, n, optimize=optimize)


def range_zero_iterations(x):
    y = x * x
    for i in range(len(x), 2):     # len(x) = 3: no iterations
        y = y * 100.0
    return np.sum(y)


def test_range_with_zero_iterations(optimize):
    x = np.array([1.0, -2.0, 0.5])
    g = grad(range_zero_iterations, optimize)(x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-14)


def range_value_dependent(x):
    # the iteration count depends on the value: int(x) + 1 multiplications
    y = x
    for i in range(int(x)):
        y = y * x
    return y


@pytest.mark.parametrize("x", [0.5, 1.5, 2.5, 3.7])
def test_range_value_dependent_count(optimize, x):
    k = int(x) + 1
    assert grad(range_value_dependent, optimize)(x) == pytest.approx(k * x ** (k - 1), rel=1e-12)


def loop_index_used_as_value(x):
    y = 0.0
    for i in range(1, 4):
        y = y + np.sin(i * x) / i
    return y


@pytest.mark.parametrize("x", [0.3, -1.2])
def test_loop_index_used_as_value(optimize, x):
    expected = sum(np.cos(i * x) for i in range(1, 4))
    assert grad(loop_index_used_as_value, optimize)(x) == pytest.approx(expected, rel=1e-12)


# ==========================================================================
# for over arrays, lists, tuples, enumerate, zip

def loop_over_rows(A, w):
    s = 0.0
    for row in A:
        s = s + np.sin(row @ w) * row[0]
    return s


def test_for_over_array_rows(optimize):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 3))
    w = rng.standard_normal(3)
    check_grad(loop_over_rows, A, w, argnums=(0, 1), optimize=optimize)


def loop_over_vector(x):
    p = 1.0
    for v in x:
        p = p * (1.0 + v * v)
    return p


def test_for_over_vector_elements(optimize):
    x = np.array([0.5, -1.0, 2.0])
    g = check_grad(loop_over_vector, x, optimize=optimize)
    p = np.prod(1 + x * x)
    np.testing.assert_allclose(g, p * 2 * x / (1 + x * x), rtol=1e-12)


def loop_over_list_of_values(x):
    s = 0.0
    for v in [x, x * x, np.sin(x)]:
        s = s + v * v
    return s


@pytest.mark.parametrize("x", [0.4, -1.3])
def test_for_over_list_literal(optimize, x):
    expected = 2 * x + 4 * x ** 3 + 2 * np.sin(x) * np.cos(x)
    assert grad(loop_over_list_of_values, optimize)(x) == pytest.approx(expected, rel=1e-12)


def loop_over_tuple_of_constants(x):
    y = 1.0
    for c in (1.0, -2.0, 0.5):
        y = y * (x + c)
    return y


@pytest.mark.parametrize("x", [0.3, 1.7])
def test_for_over_tuple_of_constants(optimize, x):
    # y = (x+1)(x-2)(x+0.5)
    expected = (x - 2) * (x + 0.5) + (x + 1) * (x + 0.5) + (x + 1) * (x - 2)
    assert grad(loop_over_tuple_of_constants, optimize)(x) == pytest.approx(expected, rel=1e-12)


def loop_over_tuple_of_arrays(a, b):
    s = 0.0
    for v in (a, b, a * b):
        s = s + np.sum(np.tanh(v))
    return s


def test_for_over_tuple_of_arrays(optimize):
    a = np.array([0.3, -0.2, 1.1])
    b = np.array([-0.5, 0.8, 0.1])
    check_grad(loop_over_tuple_of_arrays, a, b, argnums=(0, 1), optimize=optimize)


def loop_enumerate(x):
    s = 0.0
    for i, v in enumerate(x):
        s = s + (i + 1.0) * v * v
    return s


def test_for_enumerate(optimize):
    x = np.array([0.3, -1.0, 2.0, 0.7])
    g = check_grad(loop_enumerate, x, optimize=optimize)
    np.testing.assert_allclose(g, 2 * (np.arange(4) + 1.0) * x, rtol=1e-12)


def loop_enumerate_start(x):
    s = 0.0
    for i, v in enumerate(x, 2):
        s = s + v ** i
    return s


def test_for_enumerate_with_start(optimize):
    x = np.array([0.3, -1.0, 2.0])
    g = grad(loop_enumerate_start, optimize)(x)
    np.testing.assert_allclose(g, np.arange(2, 5) * x ** np.arange(1, 4), rtol=1e-12)


def loop_enumerate_zip(x, y):
    s = 0.0
    for i, (u, v) in enumerate(zip(x, y)):
        s = s + (i + 1.0) * u * v * v
    return s


def test_for_enumerate_zip(optimize):
    x = np.array([0.3, -1.0, 2.0])
    y = np.array([1.5, 0.2, -0.7, 4.0])              # zip stops at the shorter sequence
    gx, gy = check_grad(loop_enumerate_zip, x, y, argnums=(0, 1), optimize=optimize)
    k = np.arange(3) + 1.0
    np.testing.assert_allclose(gx, k * y[:3] ** 2, rtol=1e-12)
    np.testing.assert_allclose(gy, np.append(2 * k * x * y[:3], 0.0), rtol=1e-12)
    t = s2sad.jvp(loop_enumerate_zip, (x, y), (np.ones(3), np.zeros(4)))[1]
    assert t == pytest.approx(np.sum(gx))
    h = s2sad.hessian(loop_enumerate_zip, argnums=1)(x, y)
    np.testing.assert_allclose(h, np.diag(np.append(2 * k * x, 0.0)), atol=1e-12)


def loop_enumerate_zip_start(x, y):
    s = 0.0
    for i, (u, v) in enumerate(zip(x, y), 1):
        s = s + i * u * v
    return s


def test_for_enumerate_zip_with_start_is_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="enumerate") as err:
        s2sad.grad(loop_enumerate_zip_start)(np.ones(2), np.ones(2))
    assert "for i, (u, v) in enumerate(zip(x, y), 1)" in str(err.value)


def loop_enumerate_rows(A):
    s = 0.0
    for i, row in enumerate(A):
        s = s + np.sum(row * row) * (i - 1.0)
    return s


def test_for_enumerate_rows(optimize):
    A = np.arange(6.0).reshape(3, 2) - 2.0
    check_grad(loop_enumerate_rows, A, optimize=optimize)


def loop_zip(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * np.sin(b)
    return s


def test_for_zip(optimize):
    x = np.array([0.3, -1.0, 2.0])
    y = np.array([1.5, 0.2, -0.7])
    gx, gy = check_grad(loop_zip, x, y, argnums=(0, 1), optimize=optimize)
    np.testing.assert_allclose(gx, np.sin(y), rtol=1e-12)
    np.testing.assert_allclose(gy, x * np.cos(y), rtol=1e-12)


def loop_zip_unequal(x, y):
    # zip stops at the shorter sequence
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * b * b
    return s


def test_for_zip_unequal_lengths(optimize):
    x = np.array([0.3, -1.0, 2.0, 5.0])
    y = np.array([1.5, 0.2, -0.7])
    gx, gy = check_grad(loop_zip_unequal, x, y, argnums=(0, 1), optimize=optimize)
    np.testing.assert_allclose(gx, np.append(y * y, 0.0), rtol=1e-12)


def loop_zip_rows_and_range(A, x):
    s = 0.0
    for row, k in zip(A, range(10)):
        s = s + (row @ x) ** 2 * k
    return s


def test_for_zip_rows_and_range(optimize):
    A = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, -1.0]])
    x = np.array([0.4, -0.6])
    check_grad(loop_zip_rows_and_range, A, x, argnums=(0, 1), optimize=optimize)


# ==========================================================================
# nested loops

def nested_loops_matrix(A, x):
    # y = A @ x by hand, then sum of squares
    n, m = A.shape
    s = 0.0
    for i in range(n):
        yi = 0.0
        for j in range(m):
            yi = yi + A[i, j] * x[j]
        s = s + yi * yi
    return s


def test_nested_loops(optimize):
    rng = np.random.default_rng(2)
    A = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)
    gA, gx = check_grad(nested_loops_matrix, A, x, argnums=(0, 1), optimize=optimize)
    y = A @ x
    np.testing.assert_allclose(gA, 2 * np.outer(y, x), rtol=1e-10)
    np.testing.assert_allclose(gx, 2 * A.T @ y, rtol=1e-10)


def nested_loops_triangular(x):
    # inner range depends on the outer index
    s = 0.0
    for i in range(len(x)):
        for j in range(i):
            s = s + x[i] * x[j] * (i - j)
    return s


def test_nested_loops_triangular(optimize):
    x = np.array([0.5, -1.0, 2.0, 0.3])
    check_grad(nested_loops_triangular, x, optimize=optimize)


def nested_loops_carried(x):
    y = x
    for i in range(3):
        for j in range(2):
            y = np.sin(y) * x + j
        y = y * y
    return y


@pytest.mark.parametrize("x", [0.3, -0.6])
def test_nested_loops_carried(optimize, x):
    check_grad(nested_loops_carried, x, optimize=optimize)


def nested_loops_with_branch(x):
    s = 0.0
    for i in range(3):
        for v in x:
            if v * i > 0.5:
                s = s + v * v
            else:
                s = s - np.sin(v) * i
    return s


def test_nested_loops_with_branch(optimize):
    x = np.array([0.8, -0.4, 0.2, 1.5])
    check_grad(nested_loops_with_branch, x, optimize=optimize)


# ==========================================================================
# loop-carried values the reverse sweep needs

def carried_product(x):
    y = 1.0
    for i in range(5):
        y = y * x
    return y


def carried_sin(x):
    y = x
    for i in range(6):
        y = np.sin(y)
    return y


def carried_square(x):
    y = x
    for i in range(3):
        y = y * y        # x ** 8
    return y


def carried_mixed(x):
    y = x
    for i in range(4):
        y = y * x
        y = np.sin(y)
    return y


@pytest.mark.parametrize("x", [-0.9, 0.3, 1.2])
def test_carried_product(optimize, x):
    assert grad(carried_product, optimize)(x) == pytest.approx(5 * x ** 4, rel=1e-12)


@pytest.mark.parametrize("x", [-0.9, 0.3, 1.2])
def test_carried_sin(optimize, x):
    d, y = 1.0, x
    for _ in range(6):
        d *= math.cos(y)
        y = math.sin(y)
    assert grad(carried_sin, optimize)(x) == pytest.approx(d, rel=1e-12)


@pytest.mark.parametrize("x", [-0.9, 0.3, 1.2])
def test_carried_square(optimize, x):
    assert grad(carried_square, optimize)(x) == pytest.approx(8 * x ** 7, rel=1e-12)


@pytest.mark.parametrize("x", [-0.9, 0.3, 1.2])
def test_carried_mixed(optimize, x):
    check_grad(carried_mixed, x, optimize=optimize)


def carried_array(x, W):
    y = x
    for i in range(4):
        y = np.sin(W @ y) * y
    return np.sum(y)


def test_carried_array(optimize):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(3)
    W = rng.standard_normal((3, 3)) * 0.7
    check_grad(carried_array, x, W, argnums=(0, 1), optimize=optimize)


def carried_two_values(x):
    a = x
    b = 1.0
    for i in range(5):
        a, b = b * np.cos(a), a * b + x
    return a + b


@pytest.mark.parametrize("x", [0.2, -0.7])
def test_carried_swap(optimize, x):
    check_grad(carried_two_values, x, optimize=optimize)


# ==========================================================================
# for-loop sum vs np.sum, loop-based logsumexp vs softmax, RNN

def loop_sum(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i]
    return s


def loop_sum_elements(x):
    s = 0.0
    for v in x:
        s += v
    return s


@pytest.mark.parametrize("fun", [loop_sum, loop_sum_elements])
def test_loop_sum_is_ones(optimize, fun):
    x = np.array([0.5, -1.0, 2.0, 3.5, -0.1])
    g = grad(fun, optimize)(x)
    assert isinstance(g, np.ndarray) and g.shape == x.shape
    np.testing.assert_array_equal(g, np.ones_like(x))


def loop_sum_matrix_rows(A):
    s = np.zeros(A.shape[1])
    for row in A:
        s = s + row
    return np.sum(s * s)


def test_loop_sum_rows(optimize):
    A = np.arange(12.0).reshape(4, 3) / 7.0
    g = grad(loop_sum_matrix_rows, optimize)(A)
    np.testing.assert_allclose(g, np.broadcast_to(2 * A.sum(axis=0), A.shape), rtol=1e-12)


def logsumexp_loop(x):
    m = x[0]
    for i in range(1, len(x)):
        if x[i] > m:
            m = x[i]
    s = 0.0
    for i in range(len(x)):
        s = s + np.exp(x[i] - m)
    return m + np.log(s)


def logsumexp_loop_npmax(x):
    m = np.max(x)
    s = 0.0
    for v in x:
        s = s + np.exp(v - m)
    return np.log(s) + m


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


@pytest.mark.parametrize("fun", [logsumexp_loop, logsumexp_loop_npmax])
@pytest.mark.parametrize("x", [np.array([0.5, -1.0, 2.0, 0.3]),
                               np.array([3.0, 1.0, -2.0]),
                               np.array([-5.0, -4.0, 700.0, 699.0])])
def test_loop_logsumexp_is_softmax(optimize, fun, x):
    g = grad(fun, optimize)(x)
    np.testing.assert_allclose(g, softmax(x), rtol=1e-12, atol=1e-15)


def test_loop_logsumexp_fd(optimize):
    check_grad(logsumexp_loop, np.array([0.5, -1.0, 2.0, 0.3]), optimize=optimize)


def rnn(W, h0, x):
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + x[t])
    return np.sum(h * h)


def rnn_rows(W, h0, x):
    h = h0
    for xt in x:
        h = np.tanh(W @ h + xt)
    return np.sum(h * h)


@pytest.mark.parametrize("fun", [rnn, rnn_rows])
def test_rnn(optimize, fun):
    rng = np.random.default_rng(4)
    W = rng.standard_normal((3, 3)) * 0.6
    h0 = rng.standard_normal(3)
    x = rng.standard_normal((5, 3))
    check_grad(fun, W, h0, x, argnums=(0, 1, 2), optimize=optimize)


def test_rnn_against_hand_written_bptt(optimize):
    rng = np.random.default_rng(5)
    W = rng.standard_normal((3, 3)) * 0.6
    h0 = rng.standard_normal(3)
    x = rng.standard_normal((4, 3))
    hs = [h0]
    for t in range(4):
        hs.append(np.tanh(W @ hs[-1] + x[t]))
    hbar = 2 * hs[-1]
    gW, gx = np.zeros_like(W), np.zeros_like(x)
    for t in reversed(range(4)):
        a_bar = hbar * (1 - hs[t + 1] ** 2)
        gW += np.outer(a_bar, hs[t])
        gx[t] = a_bar
        hbar = W.T @ a_bar
    got = grad(rnn, optimize, argnums=(0, 1, 2))(W, h0, x)
    np.testing.assert_allclose(got[0], gW, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[1], hbar, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[2], gx, rtol=1e-12, atol=1e-14)


# ==========================================================================
# while loops with value-dependent conditions

def newton_sqrt(a):
    y = a
    while abs(y * y - a) > 1e-13 * a:
        y = 0.5 * (y + a / y)
    return y


@pytest.mark.parametrize("a", [0.3, 2.0, 10.0, 123.0])
def test_while_newton_sqrt(optimize, a):
    # the derivative of the converged iterates is d sqrt(a) / da
    g = grad(newton_sqrt, optimize)(a)
    assert g == pytest.approx(0.5 / math.sqrt(a), rel=1e-8)


def halve_until_small(x):
    y = x * x
    while y >= 1.0:
        y = 0.5 * y
    return y * x


@pytest.mark.parametrize("x", [0.5, 1.5, 2.5, 5.0, -3.0])
def test_while_halving(optimize, x):
    k, y = 0, x * x
    while y >= 1.0:
        y *= 0.5
        k += 1
    assert grad(halve_until_small, optimize)(x) == pytest.approx(3 * x * x / 2 ** k, rel=1e-12)
    check_grad(halve_until_small, x, optimize=optimize)


def while_counter(x):
    i = 0
    y = x
    while i < 4:
        y = np.cos(y) * x
        i = i + 1
    return y


@pytest.mark.parametrize("x", [0.3, 1.1])
def test_while_counter(optimize, x):
    check_grad(while_counter, x, optimize=optimize)


def while_array(x):
    y = x
    while np.sum(y * y) > 1.0:
        y = np.tanh(y) * 0.9
    return np.sum(y * x)


@pytest.mark.parametrize("x", [np.array([0.2, 0.3]), np.array([3.0, -2.0, 1.0])])
def test_while_array_condition(optimize, x):
    check_grad(while_array, x, optimize=optimize)


def while_true_break(x):
    y = x
    while True:
        y = y * 1.7 + 0.1
        if y > 10.0:
            break
    return y * x


@pytest.mark.parametrize("x", [0.5, 2.0, 20.0])
def test_while_true_break(optimize, x):
    check_grad(while_true_break, x, optimize=optimize)


def while_with_continue(x):
    i = 0
    s = 0.0
    while i < len(x):
        v = x[i]
        i = i + 1
        if v < 0.0:
            continue
        s = s + v * v * i
    return s


def test_while_with_continue(optimize):
    x = np.array([0.5, -1.0, 2.0, -0.3, 0.7])
    g = grad(while_with_continue, optimize)(x)
    np.testing.assert_allclose(g, np.where(x < 0, 0.0, 2 * x * np.arange(1, 6)), rtol=1e-12)


# ==========================================================================
# break, continue, for ... else

def for_break(x):
    y = x
    for i in range(10):
        y = y * x + 0.1
        if y > 4.0:
            break
    return y


@pytest.mark.parametrize("x", [0.5, 1.1, 1.5, 3.0, 10.0])
def test_for_break(optimize, x):
    check_grad(for_break, x, optimize=optimize)


def for_break_on_element(x):
    s = 0.0
    for v in x:
        if v < 0.0:
            break
        s = s + np.sin(v) * v
    return s


def test_for_break_on_element(optimize):
    x = np.array([0.5, 1.0, -2.0, 3.0])
    g = grad(for_break_on_element, optimize)(x)
    expected = np.where(np.arange(4) < 2, np.sin(x) + x * np.cos(x), 0.0)
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def for_continue(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] > 1.0:
            continue
        s = s + x[i] ** 3
    return s


def test_for_continue(optimize):
    x = np.array([0.5, 1.5, -2.0, 3.0, 0.1])
    g = grad(for_continue, optimize)(x)
    np.testing.assert_allclose(g, np.where(x > 1.0, 0.0, 3 * x * x), rtol=1e-12)


def break_in_nested_loop(A):
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            if A[i, j] < 0.0:
                break                  # leaves only the inner loop
            s = s + A[i, j] ** 2
        s = s * 1.5
    return s


def test_break_in_nested_loop(optimize):
    A = np.array([[0.5, -1.0, 2.0], [1.0, 0.3, 0.4], [-0.5, 2.0, 1.0]])
    check_grad(break_in_nested_loop, A, optimize=optimize)


def for_else(x):
    y = x
    for i in range(5):
        y = y * 1.5
        if y > 10.0:
            break
    else:
        y = -np.sin(y)     # runs only if the loop did not break
    return y * x


@pytest.mark.parametrize("x", [0.3, 1.0, 3.0, 12.0])
def test_for_else(optimize, x):
    y = x * 1.5 ** 5
    broke = any(x * 1.5 ** k > 10.0 for k in range(1, 6))
    if broke:
        k = next(k for k in range(1, 6) if x * 1.5 ** k > 10.0)
        expected = 2 * x * 1.5 ** k
    else:
        expected = -np.sin(y) - x * np.cos(y) * 1.5 ** 5
    assert grad(for_else, optimize)(x) == pytest.approx(expected, rel=1e-12)
    check_grad(for_else, x, optimize=optimize)


def while_else(x):
    y = x
    n = 0
    while n < 4:
        y = y * y
        n = n + 1
        if y > 100.0:
            break
    else:
        y = y + x
    return y


@pytest.mark.parametrize("x", [0.9, 1.2, 5.0])
def test_while_else(optimize, x):
    check_grad(while_else, x, optimize=optimize)


# ==========================================================================
# return anywhere

def return_in_branch_early(x):
    if x < 0.0:
        return -x * x
    y = np.exp(x)
    if y > 3.0:
        return y * x
    return y


@pytest.mark.parametrize("x", [-1.0, 0.5, 2.0])
def test_return_in_branches(optimize, x):
    check_grad(return_in_branch_early, x, optimize=optimize)


def return_in_loop(x, t):
    for i in range(len(x)):
        if x[i] > t:
            return x[i] * x[i] * (i + 1.0)
    return np.sum(x)


def test_return_in_loop_taken(optimize):
    x = np.array([0.5, -1.0, 2.0, 3.0])
    g = grad(return_in_loop, optimize)(x, 1.0)
    np.testing.assert_allclose(g, [0.0, 0.0, 2 * 2.0 * 3.0, 0.0], rtol=1e-12)
    check_grad(return_in_loop, x, 1.0, optimize=optimize)


def test_return_in_loop_not_taken(optimize):
    x = np.array([0.5, -1.0, 2.0, 3.0])
    g = grad(return_in_loop, optimize)(x, 5.0)
    np.testing.assert_allclose(g, np.ones(4), rtol=1e-12)


def return_in_loop_carried(x):
    y = x
    for i in range(10):
        y = y * x + 0.5
        if y > 5.0:
            return y * i
    return -y


@pytest.mark.parametrize("x", [0.3, 1.2, 3.0])
def test_return_in_loop_carried(optimize, x):
    check_grad(return_in_loop_carried, x, optimize=optimize)


def return_in_nested_loops(A):
    acc = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            acc = acc + A[i, j] * A[i, j]
            if acc > 3.0:
                return acc * A[i, j]
    return acc


@pytest.mark.parametrize("A", [np.array([[0.5, 0.8], [1.3, 0.2], [0.1, 0.4]]),
                               np.array([[0.5, 0.3], [0.2, 0.1], [0.1, 0.4]])])
def test_return_in_nested_loops(optimize, A):
    check_grad(return_in_nested_loops, A, optimize=optimize)


def return_in_while(x):
    y = x
    while y < 100.0:
        y = y * y + 1.0
        if y > 50.0:
            return np.sqrt(y)
    return y


@pytest.mark.parametrize("x", [1.5, 5.0, 8.0, 200.0])
def test_return_in_while(optimize, x):
    check_grad(return_in_while, x, optimize=optimize)


# ==========================================================================
# conditional expressions and branches inside loops (scalar and array)

def ifexp_in_loop(x):
    y = x
    for i in range(6):
        y = 3 * y * y - y + 1 if y < 2 else np.sin(y) * y
    return y


@pytest.mark.parametrize("x", [-0.3, 0.2, 0.5, 2.5])
def test_conditional_expression_in_loop(optimize, x):
    # the benchmark loop of issue 3, with an exact derivative by hand
    y, d = x, 1.0
    for _ in range(6):
        if y < 2:
            y, d = 3 * y * y - y + 1, (6 * y - 1) * d
        else:
            y, d = math.sin(y) * y, (math.cos(y) * y + math.sin(y)) * d
    assert grad(ifexp_in_loop, optimize)(x) == pytest.approx(d, rel=1e-10)


def branch_in_loop_array(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] > 0.0 and i % 2 == 0:
            s = s + np.exp(x[i])
        elif x[i] > 0.0:
            s = s + x[i] * s
        else:
            s = s * np.cos(x[i])
    return s


def test_branch_in_loop_array(optimize):
    x = np.array([0.5, -0.3, 1.2, 0.8, -1.1, 0.4])
    check_grad(branch_in_loop_array, x, optimize=optimize)


def loop_in_branch(x):
    if np.sum(x) > 0.0:
        s = 1.0
        for v in x:
            s = s * (v + 2.0)
    else:
        s = 0.0
        for i in range(len(x) - 1, -1, -1):
            s = s + x[i] * np.exp(x[i])
    return s


@pytest.mark.parametrize("x", [np.array([0.5, 1.0, -0.2]), np.array([-0.5, -1.0, 0.2])])
def test_loop_in_branch(optimize, x):
    check_grad(loop_in_branch, x, optimize=optimize)


# ==========================================================================
# jumps taken before the loop-carried update

def break_before_update(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] > 1.5:
            break
        s = s + x[i] ** 2
    return s


def test_break_before_update(optimize):
    x = np.array([0.5, -1.2, 2.0, 0.3])
    g = grad(break_before_update, optimize)(x)
    np.testing.assert_allclose(g, [1.0, -2.4, 0.0, 0.0], rtol=1e-12)


def continue_in_while_true(x):
    i = 0
    s = 1.0
    while True:
        i = i + 1
        if i > len(x):
            break
        if x[i - 1] < 0.0:
            continue
        s = s * (1.0 + x[i - 1])
    return s


def test_continue_and_break_in_while_true(optimize):
    x = np.array([0.5, -1.2, 2.0, 0.3])
    g = grad(continue_in_while_true, optimize)(x)
    pos = x > 0
    p = np.prod(1.0 + x[pos])
    np.testing.assert_allclose(g, np.where(pos, p / (1.0 + x), 0.0), rtol=1e-12)


def two_loops_share_a_loop_name(x):
    # c is carried by both loops; the second loop's reverse needs every c it squared
    c = x * 0.5
    for i in range(1):
        c = c + x
    for i in range(3):
        c = c * c
    return c


@pytest.mark.parametrize("x", [0.3, -0.7])
def test_two_loops_share_a_loop_name(optimize, x):
    # c = 1.5 x, then c^8: derivative 8 * 1.5^8 x^7
    check_grad(two_loops_share_a_loop_name, x, optimize=optimize)
    g = s2sad.grad(two_loops_share_a_loop_name, optimize=optimize)(x)
    assert g == pytest.approx(8 * 1.5 ** 8 * x ** 7, rel=1e-12)


def max_then_loop(x):
    # the reverse of np.max reads its own result c, which the loop then overwrites
    c = np.max(x)
    d = c * 3.0
    for i in range(2):
        c = c * 0.0 + 1.0
    return d + c


def test_loop_overwrites_a_value_an_earlier_reverse_reads(optimize):
    x = np.array([0.3, 1.2, -0.4])
    g = s2sad.grad(max_then_loop, optimize=optimize)(x)
    np.testing.assert_allclose(g, [0.0, 3.0, 0.0])
    check_grad(max_then_loop, x, optimize=optimize)


def branch_local_loop_name(x, y):
    # v exists only on the first path; its derivative must not be needed on the other
    if x > 0:
        v = np.asarray(x) * 2.0           # a value of unknown kind
        for i in range(2):
            v = v * y
        r = v + 1.0
    else:
        r = y
    return r * x


@pytest.mark.parametrize("x", [0.4, -0.4])
def test_branch_local_loop_name(optimize, x):
    check_grad(branch_local_loop_name, x, 1.3, argnums=(0, 1), optimize=optimize)
    _, tangent = s2sad.jvp(branch_local_loop_name, (x, 1.3), (1.0, 0.0), optimize=optimize)
    expected = 2 * x * 2.0 * 1.3 ** 2 + 1.0 if x > 0 else 1.3
    assert float(tangent) == pytest.approx(expected)


def returns_from_a_while_loop_sometimes(x):
    # `result` has no value before the loop; the return inside may or may not happen
    k = 0
    while x * k < 2.0 and k < 3:
        k = k + 1
        if x > 1.8:
            return np.asarray(x) * x * k        # a value of unknown kind
    return x * 3.0


@pytest.mark.parametrize("x", [0.5, 1.9])
def test_return_from_a_while_loop_sometimes(optimize, x):
    expected = 2 * x * 1 if x > 1.8 else 3.0
    g = s2sad.grad(returns_from_a_while_loop_sometimes, optimize=optimize)(x)
    assert float(g) == pytest.approx(expected)


def branch_test_reads_a_value_its_branch_loops_over(x):
    # the reverse sweep re-tests `v > 0.5` after the else branch's loop changed v
    v = x * 2.0
    if v > 0.5:
        r = v * v
    else:
        for i in range(3):
            v = v * 1.5 + 1.0
        r = v
    return r + x


def range_bound_changed_in_the_loop(x, n):
    s = 0.0
    for i in range(n):
        n = n - 1                 # range(n) was evaluated once, before the loop
        s = s + x * i
    return s


def inner_loop_reuses_the_outer_target(x):
    s = 0.0
    for i in range(3):
        t = x * i
        for i in range(2):
            t = t + x * i
        s = s + t * i             # i is the inner loop's last value here
    return s


def carried_by_an_inner_loop_with_an_outer_break(x):
    v = x
    k = 0
    while x * k < 5.0 and k < 4:
        k = k + 1
        if x > 0.5:
            w = x * 2.0
        else:
            w = v
        for i in range(2):
            w = w * 0.5 + x
        v = w
    return v


@pytest.mark.parametrize("x", [0.1, 0.4, 0.9])
def test_loops_and_branches_that_reread_values(optimize, x):
    check_grad(branch_test_reads_a_value_its_branch_loops_over, x, optimize=optimize)
    check_grad(range_bound_changed_in_the_loop, x, 4, optimize=optimize)
    check_grad(inner_loop_reuses_the_outer_target, x, optimize=optimize)
    check_grad(carried_by_an_inner_loop_with_an_outer_break, x, optimize=optimize)
    # exact: the inner loop leaves i = 1, so s = sum_i (x i + x) * 1
    assert s2sad.grad(inner_loop_reuses_the_outer_target, optimize=optimize)(x) == pytest.approx(6.0)


def inner_loop_name_inside_a_while(x):
    # w is carried by the inner for loop only, which runs on a path that is not
    # taken here: to the while loop w is no loop name, and nothing may read it
    # before the reverse while loop
    k = 0
    s = 0.0
    while k < 2:
        k = k + 1
        if x > 5.0:
            w = np.asarray(x) * 1.0           # a value of unknown kind
            for i in range(2):
                w = w * 0.5 + x
            s = s + w
        else:
            s = s + x * x
    return s


def test_inner_loop_name_inside_a_while(optimize):
    check_grad(inner_loop_name_inside_a_while, 0.7, optimize=optimize)


def zero_trip_inner_loop(x, n):
    # with n = 0 the middle loop never runs: nothing it assigns inside may be saved
    # by the outer loop (t is carried by the innermost loop only)
    s = 0.0
    for i in range(3):
        for j in range(n):
            t = x * j
            for k in range(2):
                t = t * x
            s = s + t
        s = s + x * i
    return s


@pytest.mark.parametrize("n", [0, 2])
def test_zero_trip_inner_loop(optimize, n):
    check_grad(zero_trip_inner_loop, 0.8, n, optimize=optimize)


def loop_target_survives(x):
    for x in [x, 2.0 * x]:        # the loop rebinds the parameter: its last item survives
        pass
    return x * x


def zip_targets_survive(x, y):
    for a, b in zip([x, y], [y * y, x]):
        pass
    return a * b + x


def test_a_loop_value_target_read_after_the_loop():
    # was silently wrong: after the loop the parameter's value before the loop was used
    for optimize in (True, False):
        assert s2sad.grad(loop_target_survives, optimize=optimize)(0.7) == pytest.approx(8 * 0.7)
        _, t = s2sad.jvp(loop_target_survives, (0.7,), (1.0,), optimize=optimize)
        assert t == pytest.approx(8 * 0.7)
        assert s2sad.hessian(loop_target_survives, optimize=optimize)(0.7) == pytest.approx(8.0)
        gx, gy = s2sad.grad(zip_targets_survive, argnums=(0, 1), optimize=optimize)(0.7, -1.3)
        assert (gx, gy) == (pytest.approx(-1.3 + 1.0), pytest.approx(0.7))
