"""Issue 7, items 2 and 3: array displays and the rules that must be exact.

* ``np.array([[a, b], [c, d]])`` and its kin: each element of a display gets its own
  part of the adjoint (row ``i``), in reverse, forward, vector and second order;
* stacked linear algebra, casts to int/bool dtypes, ``np.prod`` through zeros;
* text round trips (``float(str(x))``) and ``eval`` are refused before the user's code runs.

Expected values are central finite differences of the functions themselves (tests/util.py),
or closed forms: never s2sad compared with itself.  Every check runs optimized and not.
"""
import inspect
import math

import functools

import numpy as np
import pytest

import s2sad
from s2sad.errors import UnsupportedSyntaxError
from util import assert_close_tree, check_grad, fd_jacobian, fd_jvp

OPT = pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])

_wr = np.random.default_rng(7)
W2 = _wr.standard_normal(2)
W22 = _wr.standard_normal((2, 2))
W23 = _wr.standard_normal((2, 3))
W32 = _wr.standard_normal((3, 2))
W223 = _wr.standard_normal((2, 2, 3))
W233 = _wr.standard_normal((2, 3, 3))
W322 = _wr.standard_normal((3, 2, 2))
del _wr


# --------------------------------------------------------------------------
# checks in every mode

def fd_hessian(f, x, h=1e-4):
    """The Hessian of scalar ``f`` at array ``x`` by central second differences of ``f``."""
    x = np.asarray(x, dtype=float)
    n = x.size
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = h
            ej[j] = h
            ei, ej = ei.reshape(x.shape), ej.reshape(x.shape)
            H[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return H.reshape(x.shape + x.shape)


def check_all_modes(f, x, optimize, second_order=True, rtol=1e-5):
    """Reverse (grad), forward (jvp), vector (jacfwd) and second order (hessian,
    grad of grad for a float) against finite differences of ``f``."""
    check_grad(f, x, optimize=optimize, rtol=rtol)
    rng = np.random.default_rng(1)
    t = float(rng.standard_normal()) if isinstance(x, float) else rng.standard_normal(np.shape(x))
    value, tangent = s2sad.jvp(f, (x,), (t,), optimize=optimize)
    assert_close_tree(value, f(x), what="jvp value")
    assert_close_tree(tangent, fd_jvp(f, (x,), (t,)), rtol=rtol, atol=1e-6, what="jvp tangent")
    if not isinstance(x, float):
        jac = s2sad.jacfwd(f, optimize=optimize)(x)
        assert_close_tree(jac, fd_jacobian(f, (x,), 0), rtol=rtol, atol=1e-6, what="jacfwd")
    if second_order:
        if isinstance(x, float):
            gg = s2sad.grad(s2sad.grad(f, optimize=optimize), optimize=optimize)(x)
            h = 1e-4
            want = (f(x + h) - 2 * f(x) + f(x - h)) / (h * h)
            assert gg == pytest.approx(want, rel=1e-4, abs=1e-5)
        else:
            hess = s2sad.hessian(f, optimize=optimize)(x)
            assert_close_tree(hess, fd_hessian(f, x), rtol=1e-4, atol=1e-5, what="hessian")


def lineno_of(fn, text):
    """The file line number of the first line of ``fn``'s source containing ``text``."""
    lines, start = inspect.getsourcelines(fn)
    for k, line in enumerate(lines):
        if text in line:
            return start + k
    raise AssertionError(f"{text!r} not in {fn.__name__}")


def assert_refused(fn, x, text, modes=("grad", "jvp")):
    """``fn`` is refused in every mode with UnsupportedSyntaxError at the line containing
    ``text``, before its body runs (``fn`` appends to its ``ran`` list when it runs)."""
    line = lineno_of(fn, text)
    for mode in modes:
        RAN.clear()
        with pytest.raises(UnsupportedSyntaxError) as err:
            if mode == "grad":
                s2sad.grad(fn)(x)
            else:
                s2sad.jvp(fn, (x,), (1.0 if isinstance(x, float) else np.ones_like(x),))
        assert f":{line}:" in str(err.value), str(err.value)
        assert "hint" in str(err.value)
        assert not RAN, "the function's body ran before it was refused"


RAN = []


# --------------------------------------------------------------------------
# 1. array displays: each element gets its own part of the adjoint

def disp_2x2(x):
    a = np.sin(x[0])
    b = x[1] * x[2]
    m = np.array([[a, b], [x[2], 1.5]])
    return np.sum(m * W22) + m[0, 1] * m[1, 0]


def disp_scalar_row(x):
    s = x[0] * x[1]
    v = np.array([s, 2 * s, x[1]])
    return np.sum(np.sin(v) * np.array([1.0, 10.0, -3.0]))


def disp_of_arrays(x):
    m = np.array([x, 2 * x, np.cos(x)])            # (3, 3) from three vectors
    return np.sum(m * W32[:, :1] * np.arange(3.0)) + np.sum(m[1] ** 2)


def disp_tuple_and_asarray(x):
    m = np.asarray(((x[0], x[1]), (x[1] * x[0], 3.0)))
    return np.sum(np.tanh(m) * W22)


def disp_nested_names(x):
    r0 = [x[0], x[1] ** 2]
    r1 = [np.exp(x[2]), x[0]]
    m = np.array([r0, r1])
    return np.sum(m * W22) + m[1, 0] * m[0, 1]


def disp_of_matrices(x):
    A = np.reshape(x[:4], (2, 2))
    B = A * x[4]
    t = np.array([A, B, A @ B])                      # (3, 2, 2)
    return np.sum(t * W322)


def disp_depth3(x):
    t = np.array([[[x[0], x[1]], [x[1], 2.0]], [[x[0] * x[1], 0.5], [np.sin(x[0]), x[1]]]])
    return np.sum(t * W223[:, :, :2]) + t[1, 1, 0] ** 2


def disp_0d_and_float(x):
    c = np.sum(x)                                    # a 0-d value
    p = float(x[0] * 3.0)                            # a Python float
    v = np.array([c, p, 1.0, x[1]])
    return np.sum(v * v * np.array([1.0, 2.0, 3.0, 4.0]))


def disp_single(x):
    v = np.array([x[0] * x[1]])                      # shape (1,)
    return np.sum(v * 3.0) + v[0] ** 2


def disp_repeated(x):
    s = x[0] * x[1]
    v = np.array([s, s, x[0], s])                    # one name, several elements
    return np.sum(v * np.array([1.0, -2.0, 3.0, 0.5]) * v)


def disp_in_loop(x):
    rows = []
    for k in range(3):
        rows.append(x * (k + 1.0))
    m = np.array(rows)
    return np.sum(m * W32[:, :1]) + np.sum(np.stack(rows) ** 2)


DISPLAYS = [disp_2x2, disp_scalar_row, disp_of_arrays, disp_tuple_and_asarray, disp_nested_names,
            disp_depth3, disp_0d_and_float, disp_single, disp_repeated]


@OPT
@pytest.mark.parametrize("f", DISPLAYS, ids=lambda f: f.__name__)
def test_display_all_modes(f, optimize):
    x = np.array([0.4, -0.7, 1.3])
    check_all_modes(f, x, optimize)


# a display passed straight to a function that expects an array: NumPy makes an array of it

def lit_np_sum(x):
    return np.sum([x[0], x[1] * 2.0]) * 3.0


def lit_builtin_sum(x):
    return sum([x[0], x[1] * 2.0, x[2] ** 2]) * 3.0


def lit_builtin_sum_arrays(x):
    return np.sum(sum([x, 2.0 * x]) * W32[:, 0])


def lit_sin(x):
    return np.sum(np.sin([x[0], x[1] * 2.0]) * np.array([1.0, 5.0]))


def lit_max(x):
    return np.max([x[0], x[1] * 2.0, 0.5 * x[2]])


def lit_mean_tuple(x):
    return np.mean((x[0], x[1] * 2.0, 1.0)) ** 2


def lit_dot(x):
    return np.dot([x[0], x[1]], [x[1], 3.0]) + np.dot([[x[0], 1.0], [x[2], x[1]]], [x[2], 2.0])[1]


def lit_prod(x):
    return np.prod([x[0], x[1], 2.0]) * x[2]


def lit_broadcast(x):
    return np.sum(np.add([x[0], x[1]], np.ones((3, 2))) ** 2 * W32)


def lit_nested_mean(x):
    return np.sum(np.mean([[x[0], x[1]], [x[2], x[0] * x[1]]], axis=0) * W2)


def lit_in_loop(x):
    t = 0.0
    for k in range(3):
        a = x[k] * 2.0
        t = t + np.sum(np.sin([a, x[0], t])) + np.prod(np.array([[a, t], [1.0, x[1]]]))
    return t


LITERALS = [lit_in_loop, lit_np_sum, lit_builtin_sum, lit_builtin_sum_arrays, lit_sin, lit_max, lit_mean_tuple,
            lit_dot, lit_prod, lit_broadcast, lit_nested_mean]


@OPT
@pytest.mark.parametrize("f", LITERALS, ids=lambda f: f.__name__)
def test_display_passed_to_a_function(f, optimize):
    check_all_modes(f, np.array([0.4, -0.7, 1.3]), optimize)


def takes_a_list(v):
    return v[0] * v[1] + np.sum(np.array(v) * W2)


def display_to_helper(x):
    return takes_a_list([x[0], x[1] * 2.0]) + x[2]


@OPT
def test_display_passed_to_a_user_function(optimize):
    """(it was silently given a zero derivative)"""
    x = np.array([0.4, -0.7, 1.3])
    check_grad(display_to_helper, x, optimize=optimize)
    t = np.array([0.3, -1.1, 0.6])
    _, tangent = s2sad.jvp(display_to_helper, (x,), (t,), optimize=optimize)
    assert tangent == pytest.approx(fd_jvp(display_to_helper, (x,), (t,)), rel=1e-6)
    with pytest.raises(UnsupportedSyntaxError) as err:       # vector mode: refused, not wrong
        s2sad.jacfwd(display_to_helper, optimize=optimize)(x)
    assert f":{lineno_of(display_to_helper, 'takes_a_list([')}:" in str(err.value)


@OPT
def test_display_of_a_list_built_in_a_loop(optimize):
    """(second order of a list-building loop is a documented limit: first order here)"""
    check_all_modes(disp_in_loop, np.array([0.4, -0.7, 1.3]), optimize, second_order=False)


def disp_appended_row(x):
    xs = []
    for k in range(3):
        xs.append(x[k] * (k + 1.0))
    m = np.array([xs, [1.0, 2.0, 3.0]])
    return np.sum(m * W23)


def disp_appended_twice(x):
    xs = []
    for k in range(3):
        xs.append(x * (k + 1.0))
    m = np.array([xs, xs])
    return np.sum(m * np.arange(18.0).reshape(2, 3, 3))


@OPT
@pytest.mark.parametrize("f", [disp_appended_row, disp_appended_twice], ids=lambda f: f.__name__)
def test_display_of_a_list_variable(f, optimize):
    check_all_modes(f, np.array([0.4, -0.7, 1.3]), optimize)


@OPT
def test_display_of_matrices(optimize):
    x = np.array([0.4, -0.7, 1.3, 0.2, 0.9])
    check_all_modes(disp_of_matrices, x, optimize)


def disp_of_float(s):
    v = np.array([s, 2 * s, s * s])
    return np.sum(v * np.array([1.0, 10.0, 100.0]))


@OPT
def test_display_of_a_float_argument(optimize):
    g = check_grad(disp_of_float, 0.3, optimize=optimize)
    assert g == pytest.approx(1.0 + 20.0 + 60.0)
    check_all_modes(disp_of_float, 0.3, optimize)


def test_display_adjoint_is_per_element_in_source():
    s2sad.grad(disp_2x2)(np.array([0.4, -0.7, 1.3]))
    src = s2sad.source(s2sad.grad(disp_2x2))
    assert "_bar[0]" in src and "_bar[1]" in src


def display_output(x):
    return np.array([[np.sin(x[0]), x[1] * x[0]], [x[1], 2.0]])


@OPT
@pytest.mark.parametrize("mode", ["jacrev", "jacfwd"])
def test_display_as_the_output(mode, optimize):
    x = np.array([0.4, -0.7, 1.3])
    jac = getattr(s2sad, mode)(display_output, optimize=optimize)(x)
    assert_close_tree(jac, fd_jacobian(display_output, (x,), 0), atol=1e-6)


# dtypes of a display: float32 keeps the derivative, int/bool have none, object is refused

def disp_float32(x):
    m = np.array([x[0] * x[1], x[2]], dtype=np.float32)
    return np.sum(m * np.array([2.0, 3.0])) + x[0]


def disp_int(x):
    m = np.array([x[0] * 3.7, x[2] * 7.3], dtype=int)
    return np.sum(m * 1.0) + x[1] * x[0]


def disp_bool(x):
    m = np.asarray([x[0], x[1]], dtype=bool)
    return np.sum(m * x[:2])


@OPT
def test_display_dtypes(optimize):
    x = np.array([0.4, -0.7, 1.3])
    g = s2sad.grad(disp_float32, optimize=optimize)(x)
    np.testing.assert_allclose(g, [2.0 * x[1] + 1.0, 2.0 * x[0], 3.0], rtol=1e-6)
    check_all_modes(disp_int, x, optimize)
    np.testing.assert_array_equal(s2sad.grad(disp_int, optimize=optimize)(x), [x[1], x[0], 0.0])
    check_all_modes(disp_bool, x, optimize)
    np.testing.assert_array_equal(s2sad.grad(disp_bool, optimize=optimize)(x), [1.0, 1.0, 0.0])


def disp_object(x):
    RAN.append(1)
    m = np.array([x[0], x[1]], dtype=object)
    return float(np.sum(m))


def test_display_object_dtype_is_refused():
    assert_refused(disp_object, np.array([0.4, -0.7, 1.3]), "dtype=object")


def disp_ragged(x):
    m = np.array([[x[0], x[1]], [x[2]]])
    return np.sum(m)


def test_ragged_display_raises_like_the_function():
    """NumPy refuses a ragged display itself: the derivative raises what ``f`` raises."""
    x = np.array([0.4, -0.7, 1.3])
    with pytest.raises(ValueError):
        disp_ragged(x)
    with pytest.raises(ValueError):
        s2sad.grad(disp_ragged)(x)
    with pytest.raises(ValueError):
        s2sad.jvp(disp_ragged, (x,), (x,))


# --------------------------------------------------------------------------
# 2. np.prod through zeros: the product of the other factors, never y / x

def prod_all(x):
    return np.prod(x) + np.sum(x)


def prod_axis0(x):
    return np.sum(np.prod(x, axis=0) * W2)


def prod_axis1_keepdims(x):
    return np.sum(np.sin(x.prod(axis=1, keepdims=True)) * x)


def prod_method(x):
    return x.prod() * 2.0 + x[0, 0]


def prod_axes(x):
    return np.sum(np.prod(x, axis=(0, 1)) ** 2)


PRODS = [(prod_all, (3, 2)), (prod_axis0, (3, 2)), (prod_axis1_keepdims, (3, 2)),
         (prod_method, (3, 2)), (prod_axes, (2, 2, 2))]


def with_zeros(shape, zeros):
    x = np.random.default_rng(3).uniform(0.5, 1.5, shape) * np.array([1.0, -1.0]).repeat(
        np.prod(shape) // 2).reshape(shape)
    x.flat[list(zeros)] = 0.0
    return x


@OPT
@pytest.mark.parametrize("zeros", [(), (0,), (0, 3), (1, 2)], ids=["no_zero", "one_zero", "two_zeros",
                                                                  "two_zeros_same_group"])
@pytest.mark.parametrize("f,shape", PRODS, ids=[f.__name__ for f, _ in PRODS])
def test_prod_through_zeros(f, shape, zeros, optimize):
    x = with_zeros(shape, zeros)
    check_all_modes(f, x, optimize)
    g = s2sad.grad(f, optimize=optimize)(x)
    assert np.all(np.isfinite(g))


@OPT
def test_prod_gradient_closed_form_with_zeros(optimize):
    x = np.array([2.0, 0.0, 3.0, 5.0])
    np.testing.assert_array_equal(s2sad.grad(prod_all, optimize=optimize)(x) - 1.0, [0.0, 30.0, 0.0, 0.0])
    x = np.array([2.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(s2sad.grad(prod_all, optimize=optimize)(x) - 1.0, [0.0, 0.0, 0.0, 0.0])
    # second order: d2/dx1 dx3 of the product with two zeros is the product of the rest (6)
    H = s2sad.hessian(prod_all, optimize=optimize)(x)
    want = np.zeros((4, 4))
    want[1, 3] = want[3, 1] = 6.0
    np.testing.assert_array_equal(H, want)


def prod_scalar(s):
    v = np.array([s, s - 1.0, 2.0])
    return np.prod(v)


@OPT
def test_prod_of_a_display_at_a_zero(optimize):
    check_all_modes(prod_scalar, 1.0, optimize)          # the factor s - 1 is zero
    assert s2sad.grad(prod_scalar, optimize=optimize)(1.0) == pytest.approx(2.0)
    assert s2sad.grad(s2sad.grad(prod_scalar, optimize=optimize), optimize=optimize)(1.0) == \
        pytest.approx(4.0)


def prod_cubic(s):
    v = np.array([s, s - 1.0, s * s, 2.0])
    return np.prod(v)                                # 2 s^4 - 2 s^3


@pytest.mark.parametrize("s", [1.0, 0.0, 0.7])
def test_prod_third_order_through_zeros(s):
    g3 = s2sad.grad(s2sad.grad(s2sad.grad(prod_cubic)))(s)
    assert g3 == pytest.approx(48 * s - 12, abs=1e-12)


# --------------------------------------------------------------------------
# 3. stacked linear algebra: transpose the last two axes, follow NumPy's broadcasting

def _well_conditioned(k, n, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((k, n, n)) * 0.3 + 2.0 * np.eye(n)


A3 = _well_conditioned(2, 3, 11)
B3 = np.random.default_rng(12).standard_normal((2, 3, 3))
M23 = np.random.default_rng(13).standard_normal((3, 2))
V3 = np.random.default_rng(14).standard_normal(3)


def la_inv(a):
    return np.sum(np.linalg.inv(a) * W233)


def la_det(a):
    return np.sum(np.linalg.det(a) * W2)


def la_det_log(a):
    return np.sum(np.log(np.abs(np.linalg.det(a))))


def la_solve_matrix(a):
    return np.sum(np.linalg.solve(a, B3) * W233)


def la_solve_vector(a):
    return np.sum(np.linalg.solve(a, V3) * W23)


def la_solve_wrt_b(b):
    return np.sum(np.linalg.solve(A3, b) * W233)


def la_solve_vector_wrt_b(b):
    return np.sum(np.linalg.solve(A3, b) * W23)


def la_solve_broadcast_b(b):
    return np.sum(np.linalg.solve(A3, b) * W233)    # b (3, 3) against a stack of two


def la_matmul_33(a):
    return np.sum((a @ B3) * W233) + np.sum(np.matmul(B3, a) ** 2)


def la_matmul_32(a):
    return np.sum((a @ M23) ** 2) + np.sum(a @ V3)


def la_matmul_23(b):
    return np.sum(M23.T @ b) + np.sum(np.matmul(V3, b) ** 2)


def la_matmul_broadcast(m):
    return np.sum((A3 @ m) ** 2)                     # m (3, 2) against a stack of two


def la_matmul_vector(v):
    return np.sum((A3 @ v) ** 2) + np.sum(np.sin(v @ A3))


def la_dot_nd(a):
    return np.sum(np.dot(a, B3[:, :, :2]) * 0.3 * np.arange(24.0).reshape(2, 3, 2, 2)) + \
        np.sum(a.dot(V3) ** 2)


def la_dot_nd_wrt_b(b):
    return np.sum(np.sin(np.dot(B3, b)))            # (2, 3, 3) . (2, 3, 2) -> (2, 3, 2, 2)


STACKED = [(la_dot_nd, A3), (la_dot_nd_wrt_b, B3[:, :, :2] * 0.5), (la_inv, A3), (la_det, A3), (la_det_log, A3), (la_solve_matrix, A3), (la_solve_vector, A3),
           (la_solve_wrt_b, B3), (la_solve_vector_wrt_b, V3), (la_solve_broadcast_b, B3[0]),
           (la_matmul_33, B3 * 0.5), (la_matmul_32, B3), (la_matmul_23, B3[:, :, :2] * 0.7),
           (la_matmul_broadcast, M23), (la_matmul_vector, V3)]


@OPT
@pytest.mark.parametrize("f,x", STACKED, ids=[f.__name__ for f, _ in STACKED])
def test_stacked_linear_algebra(f, x, optimize):
    check_all_modes(f, x.copy(), optimize, rtol=1e-4)


# --------------------------------------------------------------------------
# 4. casts: an int or bool dtype has a zero derivative, a float dtype keeps it

def cast_int(x):
    return np.sum(x.astype(int) * x) + np.sum(np.sin(x))


def cast_int32(x):
    return np.sum(x.astype(np.int32) * 1.0) + np.sum(x * x)


def cast_bool(x):
    return np.sum(x.astype(bool) * x * x)


def cast_float32(x):
    return np.sum(np.sin(x.astype(np.float32)).astype(np.float64) * x)


def cast_float(x):
    return np.sum(x.astype(float) ** 3)


@OPT
@pytest.mark.parametrize("f", [cast_int, cast_int32, cast_bool, cast_float], ids=lambda f: f.__name__)
def test_casts(f, optimize):
    x = np.array([0.4, -1.7, 2.3, 1.6])
    check_all_modes(f, x, optimize)


@OPT
def test_cast_float32_keeps_the_derivative(optimize):
    x = np.array([0.4, -1.7, 2.3])
    g = s2sad.grad(cast_float32, optimize=optimize)(x)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=1e-6)
    _, t = s2sad.jvp(cast_float32, (x,), (np.ones(3),), optimize=optimize)
    assert t == pytest.approx(np.sum(np.cos(x) * x + np.sin(x)), rel=1e-6)


@OPT
def test_cast_int_closed_form(optimize):
    x = np.array([0.4, -1.7, 2.3])
    np.testing.assert_array_equal(s2sad.grad(cast_int, optimize=optimize)(x), x.astype(int) + np.cos(x))
    np.testing.assert_array_equal(s2sad.grad(cast_bool, optimize=optimize)(x), 2 * x)


def cast_object(x):
    RAN.append(1)
    return float(np.sum(x.astype(object)))


def test_cast_to_object_is_refused():
    assert_refused(cast_object, np.array([0.4, -1.7]), "astype(object)")


def cast_like(x, n):
    return np.sum(x.astype(n.dtype) * x)


def cast_variable(x):
    RAN.append(1)
    kind = int
    return np.sum(x.astype(kind))


@OPT
def test_cast_to_an_arrays_dtype(optimize):
    x = np.array([0.4, -1.7, 2.3])
    g = s2sad.grad(cast_like, optimize=optimize)(x, np.arange(3))
    np.testing.assert_array_equal(g, x.astype(int))
    g = s2sad.grad(cast_like, optimize=optimize)(x, np.ones(3, dtype=np.float32))
    np.testing.assert_allclose(g, 2 * x, rtol=1e-6)
    _, t = s2sad.jvp(lambda_free_cast_like_int, (x,), (np.ones(3),), optimize=optimize)
    assert t == pytest.approx(np.sum(x.astype(int)))


def lambda_free_cast_like_int(x):
    return cast_like(x, np.arange(3))


def test_cast_to_a_dtype_in_a_variable_is_refused():
    assert_refused(cast_variable, np.array([0.4, -1.7]), "x.astype(kind)")


# --------------------------------------------------------------------------
# 5. text round trips and eval are refused; int/round/floor have a true zero derivative

def text_str(x):
    RAN.append(1)
    y = x * 2.0
    return float(str(y)) + x


def text_repr(x):
    RAN.append(1)
    return float(repr(x * 3.0))


def text_format(x):
    RAN.append(1)
    return float(format(x, ".17g"))


def text_method_format(x):
    RAN.append(1)
    return float("{:.17g}".format(x))


def text_percent(x):
    RAN.append(1)
    return float("%.17g" % x)


def text_percent_name(x):
    RAN.append(1)
    fmt = "%.17g"
    return float(fmt % x) * 2.0


def text_eval(x):
    RAN.append(1)
    return eval("x * 2.0")


def text_eval_of_str(x):
    RAN.append(1)
    return eval(str(x))


def text_exec(x):
    RAN.append(1)
    exec("y = 1")
    return x


def text_fstring(x):
    RAN.append(1)
    return float(f"{x}")


def text_reversed(x):
    RAN.append(1)
    ys = list(reversed([x, 2.0 * x]))
    return ys[0]


def text_arange(x):
    RAN.append(1)
    return math.fsum(np.arange(x, x + 3.0))


def text_length(x):
    RAN.append(1)
    n = len(str(x))                                # a length of text: no derivative through it
    return x * n


def text_length_in_a_test(x):
    RAN.append(1)
    if len(repr(x * 2.0)) > 3:                     # text reaching the output through a branch
        return x
    return 2.0 * x


def text_length_through_a_list(x):
    RAN.append(1)
    words = []
    words.append(str(x))
    return x * len(words[0])


REFUSED = [(text_length, "len(str(x))"), (text_length_in_a_test, "len(repr("),
           (text_length_through_a_list, "words.append(str(x))"), (text_str, "str(y)"), (text_repr, "float(repr("), (text_format, "float(format("),
           (text_method_format, ".format(x)"), (text_percent, '"%.17g" % x'),
           (text_percent_name, "fmt % x"), (text_eval, "return eval("), (text_eval_of_str, "return eval("),
           (text_exec, 'exec("'), (text_fstring, 'f"{x}"'), (text_reversed, "list(reversed("),
           (text_arange, "np.arange(x")]


@pytest.mark.parametrize("f,text", REFUSED, ids=[f.__name__ for f, _ in REFUSED])
def test_text_and_eval_are_refused(f, text):
    assert_refused(f, 0.7, text)


def text_print(x):
    print(str(x), repr(x), "%.3f" % x)             # text that does not reach the result
    label = str(x)
    print(len(label))
    return x * 2.0 * len(str(3.5))                 # text of a constant is a constant


def test_text_that_does_not_reach_the_output_is_fine(capsys):
    assert s2sad.grad(text_print)(0.7) == 6.0
    assert s2sad.jvp(text_print, (0.7,), (1.0,))[1] == 6.0


def piecewise(x):
    n = int(x * 3.0)
    r = round(x * 5.0)
    f = math.floor(x * 7.0)
    return (n + r + f) * x + x * x


@OPT
@pytest.mark.parametrize("x", [0.31, 1.23])
def test_int_round_floor_have_zero_derivative(x, optimize):
    want = int(x * 3.0) + round(x * 5.0) + math.floor(x * 7.0) + 2 * x
    assert s2sad.grad(piecewise, optimize=optimize)(x) == pytest.approx(want)
    check_all_modes(piecewise, x, optimize)


# --------------------------------------------------------------------------
# 6. what was declared non-differentiable but is not: copysign, heaviside

def copysign_f(x):
    return math.copysign(x * x + 1.0, -1.0) * math.copysign(2.0, x) + math.copysign(x, 1.0)


def heaviside_f(x):
    return np.sum(np.heaviside(np.array([0.0, 1.0, -1.0, 0.0]), x * x) * np.array([1.0, 2.0, 3.0, 4.0]))


def heaviside_array_f(x):
    return np.sum(np.heaviside(x - x[0], np.sin(x)) * W2.sum() * x)


@OPT
@pytest.mark.parametrize("x", [0.7, -1.3])
def test_copysign(x, optimize):
    assert s2sad.grad(copysign_f, optimize=optimize)(x) == pytest.approx(-2 * x * math.copysign(2.0, x)
                                                                           + math.copysign(1.0, x))
    check_all_modes(copysign_f, x, optimize)


@OPT
def test_heaviside(optimize):
    assert s2sad.grad(heaviside_f, optimize=optimize)(0.7) == pytest.approx(5 * 2 * 0.7)
    check_all_modes(heaviside_f, 0.7, optimize)
    check_all_modes(heaviside_array_f, np.array([0.3, 1.1, -0.4]), optimize)


@functools.lru_cache
def _cached_product(v):
    return v[0] * v[1]


class _Model:
    def product(self, v):
        return v[0] * v[1]


_MODEL = _Model()


def display_to_cached_helper(x):
    return _cached_product((x, 2.0 * x))


def display_to_bound_method(x):
    return _MODEL.product([x, 2.0 * x])


@pytest.mark.parametrize("f", [display_to_cached_helper, display_to_bound_method],
                         ids=lambda f: f.__name__)
def test_display_passed_to_cached_helper_or_method(f):
    # the display was named only for plain functions: a cached helper or a bound method
    # received it element by element and the elements silently got a zero gradient
    for optimize in (True, False):
        assert s2sad.grad(f, optimize=optimize)(0.7) == pytest.approx(4 * 0.7)
        assert s2sad.jvp(f, (0.7,), (1.0,), optimize=optimize)[1] == pytest.approx(4 * 0.7)
        assert s2sad.grad(s2sad.grad(f, optimize=optimize), optimize=optimize)(0.7) == pytest.approx(4.0)
        with pytest.raises(UnsupportedSyntaxError, match="vector mode"):   # documented limit
            s2sad.hessian(f, optimize=optimize)(0.7)
