"""The public contract of s2sad: grad, value_and_grad, source, and their conventions.

Expected values are closed forms; s2sad is never compared with itself.
"""
import numpy as np
import pytest
import scipy.optimize

import s2sad


@pytest.fixture(params=[True, False], ids=["optimized", "unoptimized"])
def optimize(request):
    return request.param


def square_sum(x):
    return np.sum(x * x)


def scalar_poly(x):
    return x * x * x + 2.0 * x


def two_args(x, y):
    return np.sum(x * y) + 2.0 * np.sum(x)


def only_first(x, y):
    return np.sum(x * 2.0)


def three_floats(a, b, c):
    return a * b + 3.0 * c * c


def elementwise(x):
    return x * 2.0


# --------------------------------------------------------------------------
# types, shapes and dtypes

def test_float_gives_python_float(optimize):
    g = s2sad.grad(scalar_poly, optimize=optimize)(1.5)
    assert type(g) is float
    assert g == pytest.approx(3 * 1.5 ** 2 + 2.0, rel=1e-14)


def test_array_gives_array_of_same_shape(optimize):
    x = np.arange(6.0).reshape(2, 3)
    g = s2sad.grad(square_sum, optimize=optimize)(x)
    assert isinstance(g, np.ndarray)
    assert g.shape == (2, 3)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * x, rtol=1e-14)


def test_float32_is_preserved(optimize):
    x = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    g = s2sad.grad(square_sum, optimize=optimize)(x)
    assert isinstance(g, np.ndarray)
    assert g.dtype == np.float32
    assert g.shape == (3,)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-6)


def test_unused_array_argument_gets_zeros(optimize):
    x = np.ones(4)
    y = np.full((2, 3), 5.0)
    gx, gy = s2sad.grad(only_first, argnums=(0, 1), optimize=optimize)(x, y)
    np.testing.assert_allclose(gx, np.full(4, 2.0))
    assert isinstance(gy, np.ndarray)
    assert gy.shape == (2, 3)
    assert gy.dtype == np.float64
    assert not np.any(gy)


def test_unused_float_argument_gets_zero_float(optimize):
    gy = s2sad.grad(only_first, argnums=1, optimize=optimize)(np.ones(3), 7.0)
    assert type(gy) is float
    assert gy == 0.0


def test_tuple_argnums_order(optimize):
    a, b, c = 2.0, 5.0, 7.0
    g = s2sad.grad(three_floats, argnums=(2, 0), optimize=optimize)(a, b, c)
    assert isinstance(g, tuple) and len(g) == 2
    assert g[0] == pytest.approx(6.0 * c, rel=1e-14)   # d/dc
    assert g[1] == pytest.approx(b, rel=1e-14)         # d/da
    g = s2sad.grad(three_floats, argnums=(1, 2, 0), optimize=optimize)(a, b, c)
    assert g == pytest.approx((a, 6.0 * c, b), rel=1e-14)


def test_single_element_tuple_argnums_gives_tuple(optimize):
    g = s2sad.grad(three_floats, argnums=(1,), optimize=optimize)(2.0, 5.0, 7.0)
    assert isinstance(g, tuple) and len(g) == 1
    assert g[0] == pytest.approx(2.0, rel=1e-14)


def test_mixed_array_and_float_arguments(optimize):
    x = np.array([1.0, 2.0, 3.0])
    y = 4.0
    gx, gy = s2sad.grad(two_args, argnums=(0, 1), optimize=optimize)(x, y)
    np.testing.assert_allclose(gx, np.full(3, y + 2.0))
    assert type(gy) is float
    assert gy == pytest.approx(x.sum(), rel=1e-14)


# --------------------------------------------------------------------------
# decorator forms

def test_decorator_plain():
    @s2sad.grad
    def f(x):
        return 3.0 * x * x

    assert f(2.0) == pytest.approx(12.0, rel=1e-14)
    src = s2sad.source(f)
    assert "def " in src
    compile(src, "<s>", "exec")


def test_decorator_with_argnums():
    @s2sad.grad(argnums=1)
    def f(x, y):
        return x * y * y

    assert f(3.0, 2.0) == pytest.approx(12.0, rel=1e-14)


def test_decorator_with_tuple_argnums():
    @s2sad.grad(argnums=(0, 1), optimize=False)
    def f(x, y):
        return x * x * y

    assert f(3.0, 2.0) == pytest.approx((12.0, 9.0), rel=1e-14)


def test_call_form_with_tuple_argnums():
    df = s2sad.grad(three_floats, argnums=(0, 2))
    assert df(2.0, 5.0, 7.0) == pytest.approx((5.0, 42.0), rel=1e-14)


# --------------------------------------------------------------------------
# value_and_grad

def test_value_and_grad_scalar(optimize):
    value, g = s2sad.value_and_grad(scalar_poly, optimize=optimize)(2.0)
    assert value == pytest.approx(12.0, rel=1e-14)
    assert g == pytest.approx(14.0, rel=1e-14)
    assert type(g) is float


def test_value_and_grad_array(optimize):
    x = np.array([1.0, -2.0, 3.0])
    value, g = s2sad.value_and_grad(square_sum, optimize=optimize)(x)
    assert value == pytest.approx(14.0, rel=1e-14)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-14)


def test_value_and_grad_tuple_argnums(optimize):
    value, (gc, gb) = s2sad.value_and_grad(three_floats, argnums=(2, 1),
                                           optimize=optimize)(2.0, 5.0, 7.0)
    assert value == pytest.approx(10.0 + 147.0, rel=1e-14)
    assert gc == pytest.approx(42.0, rel=1e-14)
    assert gb == pytest.approx(2.0, rel=1e-14)


# --------------------------------------------------------------------------
# NotDifferentiableError

def test_int_argument_is_not_differentiable():
    with pytest.raises(s2sad.NotDifferentiableError):
        s2sad.grad(scalar_poly)(3)


def test_bool_argument_is_not_differentiable():
    with pytest.raises(s2sad.NotDifferentiableError):
        s2sad.grad(three_floats, argnums=1)(1.0, True, 2.0)


def test_int_array_argument_is_not_differentiable():
    with pytest.raises(s2sad.NotDifferentiableError):
        s2sad.grad(square_sum)(np.arange(3))


def test_int_argument_not_asked_for_is_a_constant():
    # an int that is not in argnums is fine: it is a constant
    g = s2sad.grad(three_floats, argnums=0)(2.0, 5, 7)
    assert g == pytest.approx(5.0, rel=1e-14)


def test_non_scalar_output_is_not_differentiable():
    with pytest.raises(s2sad.NotDifferentiableError):
        s2sad.grad(elementwise)(np.ones(3))


def test_not_differentiable_is_an_s2sad_error():
    assert issubclass(s2sad.NotDifferentiableError, s2sad.S2SADError)


# --------------------------------------------------------------------------
# caching and source

def cached_target(x):
    return np.sum(np.sin(x) * x)


def test_grad_twice_transforms_once():
    df1 = s2sad.grad(cached_target)
    df2 = s2sad.grad(cached_target)
    src1 = s2sad.source(df1)
    src2 = s2sad.source(df2)
    assert src1 == src2
    assert src1 is src2, "grad(f) twice should reuse the cached transformation"
    x = np.array([0.1, 0.7, -1.3])
    expected = np.cos(x) * x + np.sin(x)
    np.testing.assert_allclose(df1(x), expected, rtol=1e-13)
    np.testing.assert_allclose(df2(x), expected, rtol=1e-13)


def test_cache_distinguishes_argnums():
    # the two derivatives must not be mixed up by the cache
    d0 = s2sad.grad(three_floats, argnums=0)
    d2 = s2sad.grad(three_floats, argnums=2)
    assert d0(2.0, 5.0, 7.0) == pytest.approx(5.0, rel=1e-14)
    assert d2(2.0, 5.0, 7.0) == pytest.approx(42.0, rel=1e-14)
    assert d0(2.0, 5.0, 7.0) == pytest.approx(5.0, rel=1e-14)


def test_source_is_compilable_python(optimize):
    src = s2sad.source(s2sad.grad(three_floats, argnums=(0, 2), optimize=optimize))
    assert isinstance(src, str)
    assert "def " in src
    compile(src, "<s>", "exec")


def test_source_of_value_and_grad(optimize):
    src = s2sad.source(s2sad.value_and_grad(square_sum, optimize=optimize))
    assert isinstance(src, str)
    assert "def " in src
    compile(src, "<s>", "exec")


# --------------------------------------------------------------------------
# scipy.optimize, closures and globals

QUAD_A = np.array([[4.0, 1.0, 0.0],
                   [1.0, 3.0, 0.5],
                   [0.0, 0.5, 2.0]])
QUAD_B = np.array([1.0, -2.0, 0.5])


def quadratic(x):
    return 0.5 * (x @ (QUAD_A @ x)) - QUAD_B @ x


def test_scipy_minimize_bfgs():
    x0 = np.zeros(3)
    res = scipy.optimize.minimize(quadratic, x0, jac=s2sad.grad(quadratic), method="BFGS")
    assert res.success, res.message
    np.testing.assert_allclose(res.x, np.linalg.solve(QUAD_A, QUAD_B), atol=1e-6)
    # the derivative alone: A x - b
    x = np.array([0.3, -0.1, 2.0])
    np.testing.assert_allclose(s2sad.grad(quadratic)(x), QUAD_A @ x - QUAD_B, rtol=1e-13)


SCALE = 3.0


def make_weighted(w):
    def weighted(x):
        return SCALE * np.sum(w * x ** 2)
    return weighted


def test_closure_over_array_and_global_constant(optimize):
    w = np.array([1.0, 2.0, 3.0])
    f = make_weighted(w)
    x = np.array([0.5, -1.0, 2.0])
    g = s2sad.grad(f, optimize=optimize)(x)
    np.testing.assert_allclose(g, SCALE * 2 * w * x, rtol=1e-14)


def test_two_closures_have_their_own_values():
    x = np.array([1.0, 1.0])
    g1 = s2sad.grad(make_weighted(np.array([1.0, 2.0])))(x)
    g2 = s2sad.grad(make_weighted(np.array([10.0, 20.0])))(x)
    np.testing.assert_allclose(g1, SCALE * 2 * np.array([1.0, 2.0]))
    np.testing.assert_allclose(g2, SCALE * 2 * np.array([10.0, 20.0]))


def test_error_classes_exist():
    for name in ("UnsupportedSyntaxError", "MissingRuleError",
                 "SourceUnavailableError", "NotDifferentiableError"):
        cls = getattr(s2sad, name)
        assert issubclass(cls, s2sad.S2SADError)
    assert issubclass(s2sad.S2SADError, Exception)


SCALE = 3.0


def keyword_only(x, *, scale=2.0):
    return x * x * scale


def scaled_helper(v, s=SCALE, *, shift=SCALE):
    return v * s + shift * v


def calls_scaled_helper(x):
    return scaled_helper(x) + scaled_helper(x, shift=1.0)


def test_keyword_only_parameters_and_defaults():
    df = s2sad.grad(keyword_only)
    assert df(3.0) == pytest.approx(12.0)
    assert df(3.0, scale=1.0) == pytest.approx(6.0)
    assert s2sad.jvp(keyword_only, (3.0,), (1.0,))[1] == pytest.approx(12.0)


def test_callee_defaults_are_the_originals_values():
    # defaults that are expressions (a global), not literals
    assert s2sad.grad(calls_scaled_helper)(1.0) == pytest.approx((3.0 + 3.0) + (3.0 + 1.0))
    assert s2sad.jvp(calls_scaled_helper, (1.0,), (1.0,))[1] == pytest.approx(10.0)
