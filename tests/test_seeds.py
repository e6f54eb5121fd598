"""The worked examples of the lecture material (shared/seeds), with their exact values.

Every expected value is a closed form written by hand or a central finite
difference of the original function; s2sad is never compared with itself.
Each test runs the optimized and the unoptimized derivative.
"""
import math

import numpy
import numpy as np
import pytest
from numpy import exp, sin

import s2sad


@pytest.fixture(params=[True, False], ids=["optimized", "unoptimized"])
def optimize(request):
    return request.param


def central_fd(f, args, argnum, h=1e-6):
    """Central finite difference of the scalar f w.r.t. args[argnum] (float or array)."""
    args = list(args)
    x = args[argnum]
    if isinstance(x, float):
        step = h * max(1.0, abs(x))
        up = args.copy()
        up[argnum] = x + step
        down = args.copy()
        down[argnum] = x - step
        return (f(*up) - f(*down)) / (2 * step)
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = h * max(1.0, abs(x[i]))
        xu = x.copy()
        xu[i] += step
        xd = x.copy()
        xd[i] -= step
        up = args.copy()
        up[argnum] = xu
        down = args.copy()
        down[argnum] = xd
        out[i] = (f(*up) - f(*down)) / (2 * step)
    return out


# --------------------------------------------------------------------------
# f(x1, x2, x3) = 3 (x1^2 + x2 x3)   (seed 002)

def poly3(x1, x2, x3):
    return 3 * (x1 ** 2 + x2 * x3)


def test_poly3_gradient(optimize):
    g = s2sad.grad(poly3, argnums=(0, 1, 2), optimize=optimize)(2.0, 3.0, 4.0)
    assert isinstance(g, tuple) and len(g) == 3
    assert g == pytest.approx((12.0, 12.0, 9.0), rel=1e-14)


def test_poly3_value_and_grad(optimize):
    value, g = s2sad.value_and_grad(poly3, argnums=(0, 1, 2), optimize=optimize)(2.0, 3.0, 4.0)
    assert value == pytest.approx(48.0, rel=1e-14)
    assert g == pytest.approx((12.0, 12.0, 9.0), rel=1e-14)


@pytest.mark.parametrize("argnum, expected", [(0, 12.0), (1, 12.0), (2, 9.0)])
def test_poly3_single_argnum(optimize, argnum, expected):
    g = s2sad.grad(poly3, argnums=argnum, optimize=optimize)(2.0, 3.0, 4.0)
    assert g == pytest.approx(expected, rel=1e-14)


# --------------------------------------------------------------------------
# f(x1, x2) = ln(x1) + x1 x2 - sin(x2)   (seed 003: the evaluation trace)

def log_prod_sin_math(x1, x2):
    return math.log(x1) + x1 * x2 - math.sin(x2)


def log_prod_sin_numpy(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


@pytest.mark.parametrize("f", [log_prod_sin_math, log_prod_sin_numpy], ids=["math", "numpy"])
def test_log_prod_sin(optimize, f):
    value, (g1, g2) = s2sad.value_and_grad(f, argnums=(0, 1), optimize=optimize)(2.0, 5.0)
    assert value == pytest.approx(math.log(2.0) + 10.0 - math.sin(5.0), rel=1e-14)
    assert value == pytest.approx(11.652, abs=1e-3)
    assert g1 == pytest.approx(5.5, rel=1e-14)
    assert g2 == pytest.approx(2.0 - math.cos(5.0), rel=1e-14)
    assert g2 == pytest.approx(1.716, abs=1e-3)


# --------------------------------------------------------------------------
# f(x, y) = x y + exp(x y)

def xy_exp(x, y):
    return x * y + np.exp(x * y)


def test_xy_exp(optimize):
    gx, gy = s2sad.grad(xy_exp, argnums=(0, 1), optimize=optimize)(1.0, 2.0)
    e2 = math.exp(2.0)
    assert gx == pytest.approx(2.0 + 2.0 * e2, rel=1e-14)
    assert gy == pytest.approx(1.0 + e2, rel=1e-14)


# --------------------------------------------------------------------------
# f(x1, x2, x3) = sin(x1) + cos(x2) x3 - log(x3)   (seed 000: reverse mode)

def sin_cos_log(x1, x2, x3):
    return np.sin(x1) + np.cos(x2) * x3 - np.log(x3)


@pytest.mark.parametrize("point", [(0.0, 0.0, 1.0), (1.0, 2.0, 3.0), (-0.7, 4.2, 0.25),
                                   (math.pi / 3, -1.5, 10.0)])
def test_sin_cos_log(optimize, point):
    x1, x2, x3 = point
    g = s2sad.grad(sin_cos_log, argnums=(0, 1, 2), optimize=optimize)(x1, x2, x3)
    expected = (math.cos(x1), -x3 * math.sin(x2), math.cos(x2) - 1.0 / x3)
    assert g == pytest.approx(expected, rel=1e-13, abs=1e-15)


def test_sin_cos_log_arrays(optimize):
    """The same function on arrays, summed: the gradient is elementwise."""
    def f(x1, x2, x3):
        return np.sum(np.sin(x1) + np.cos(x2) * x3 - np.log(x3))

    rng = np.random.default_rng(0)
    x1 = rng.normal(size=5)
    x2 = rng.normal(size=5)
    x3 = rng.uniform(0.5, 2.0, size=5)
    g1, g2, g3 = s2sad.grad(f, argnums=(0, 1, 2), optimize=optimize)(x1, x2, x3)
    np.testing.assert_allclose(g1, np.cos(x1), rtol=1e-13)
    np.testing.assert_allclose(g2, -x3 * np.sin(x2), rtol=1e-13)
    np.testing.assert_allclose(g3, np.cos(x2) - 1.0 / x3, rtol=1e-13)


# --------------------------------------------------------------------------
# f(x) = sum(M x) - 2 log(sum(exp(x)))   (seed 000: the benchmark function)

def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def sum_logsumexp(x, M):
    return np.sum(M @ x) - 2 * np.log(np.sum(np.exp(x)))


_rng = np.random.default_rng(1234)
M_10_100 = _rng.normal(size=(10, 100))
M_100_10 = _rng.normal(size=(100, 10))


def sum_logsumexp_global_10_100(x):
    return np.sum(M_10_100 @ x) - 2 * np.log(np.sum(np.exp(x)))


def sum_logsumexp_global_100_10(x):
    return np.sum(M_100_10 @ x) - 2 * np.log(np.sum(np.exp(x)))


@pytest.mark.parametrize("n, p", [(10, 100), (100, 10)])
def test_sum_logsumexp_argument(optimize, n, p):
    rng = np.random.default_rng(n * 1000 + p)
    M = rng.normal(size=(n, p))
    x = rng.normal(size=p)
    g = s2sad.grad(sum_logsumexp, optimize=optimize)(x, M)
    assert isinstance(g, np.ndarray) and g.shape == (p,)
    np.testing.assert_allclose(g, M.sum(0) - 2 * softmax(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f, M", [(sum_logsumexp_global_10_100, M_10_100),
                                  (sum_logsumexp_global_100_10, M_100_10)],
                         ids=["10x100", "100x10"])
def test_sum_logsumexp_global(optimize, f, M):
    x = np.random.default_rng(7).normal(size=M.shape[1])
    g = s2sad.grad(f, optimize=optimize)(x)
    assert g.shape == x.shape
    np.testing.assert_allclose(g, M.sum(0) - 2 * softmax(x), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# seed 001: a polynomial, and variable reassignment

def cubic(x):
    return x ** 3 + 4 * x ** 2 - 10


def test_cubic_on_linspace(optimize):
    df = s2sad.grad(cubic, optimize=optimize)
    for x in np.linspace(-5, 5, 10):
        x = float(x)
        assert df(x) == pytest.approx(3 * x ** 2 + 8 * x, rel=1e-13, abs=1e-13)


def pow8_by_squaring(x):
    x = x * x
    x = x * x
    x = x * x
    return x


@pytest.mark.parametrize("x", [-1.5, -0.3, 0.5, 1.0, 1.1, 2.0])
def test_reassignment(optimize, x):
    g = s2sad.grad(pow8_by_squaring, optimize=optimize)(x)
    assert g == pytest.approx(8 * x ** 7, rel=1e-13)


# --------------------------------------------------------------------------
# seed 000 applications: MLE Gaussian, MAP ridge, Gaussian mixture MLE

def gaussian_nll(mu, X):
    return 0.5 * np.sum((X - mu) ** 2)


def test_mle_gaussian(optimize):
    X = np.random.default_rng(3).normal(loc=1.3, size=50)
    for mu in (-1.0, 0.0, 1.3, 2.5):
        g = s2sad.grad(gaussian_nll, optimize=optimize)(mu, X)
        assert g == pytest.approx(-(X - mu).sum(), rel=1e-12, abs=1e-12)


def ridge_objective(beta, X, y, lam):
    return 0.5 * np.sum((y - X @ beta) ** 2) + 0.5 * lam * np.sum(beta ** 2)


def test_map_ridge(optimize):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 4))
    y = rng.normal(size=30)
    beta = rng.normal(size=4)
    lam = 0.7
    g = s2sad.grad(ridge_objective, optimize=optimize)(beta, X, y, lam)
    expected = -X.T @ (y - X @ beta) + lam * beta
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-12)
    # and at the posterior mean the gradient vanishes
    beta_map = np.linalg.solve(X.T @ X + lam * np.eye(4), X.T @ y)
    g_map = s2sad.grad(ridge_objective, optimize=optimize)(beta_map, X, y, lam)
    np.testing.assert_allclose(g_map, np.zeros(4), atol=1e-10)


def gmm_nll(pi, mu1, mu2, s1, s2, X):
    p1 = np.exp(-0.5 * ((X - mu1) / s1) ** 2) / (s1 * np.sqrt(2 * np.pi))
    p2 = np.exp(-0.5 * ((X - mu2) / s2) ** 2) / (s2 * np.sqrt(2 * np.pi))
    return -np.sum(np.log(pi * p1 + (1 - pi) * p2))


def test_mle_gaussian_mixture(optimize):
    rng = np.random.default_rng(5)
    X = np.concatenate([rng.normal(-1.0, 0.5, size=30), rng.normal(2.0, 1.5, size=20)])
    params = (0.4, -0.8, 1.7, 0.6, 1.2)
    g = s2sad.grad(gmm_nll, argnums=(0, 1, 2, 3, 4), optimize=optimize)(*params, X)
    assert isinstance(g, tuple) and len(g) == 5
    args = list(params) + [X]
    for i in range(5):
        fd = central_fd(gmm_nll, args, i)
        assert g[i] == pytest.approx(fd, rel=1e-6, abs=1e-6), f"parameter {i}"


# --------------------------------------------------------------------------
# straight-line code: tuple unpacking, swap, augmented assignment, import styles

def straight_line(x):
    a, b = x * 2, x * 3
    a, b = b, a             # a = 3x, b = 2x
    a += x                  # a = 4x
    a *= x                  # a = 4x^2
    c = sin(a) + exp(b / 10) + numpy.cos(b)
    return numpy.sum(c)


def straight_line_derivative(x):
    return 8 * x * np.cos(4 * x ** 2) + 0.2 * np.exp(0.2 * x) - 2 * np.sin(2 * x)


@pytest.mark.parametrize("x", [-1.2, 0.0, 0.3, 0.9])
def test_straight_line_scalar(optimize, x):
    g = s2sad.grad(straight_line, optimize=optimize)(x)
    assert g == pytest.approx(central_fd(straight_line, [x], 0), rel=1e-6, abs=1e-7)
    assert g == pytest.approx(straight_line_derivative(x), rel=1e-12, abs=1e-12)


def test_straight_line_array(optimize):
    x = np.random.default_rng(6).normal(size=(2, 3))
    g = s2sad.grad(straight_line, optimize=optimize)(x)
    assert g.shape == x.shape
    np.testing.assert_allclose(g, central_fd(straight_line, [x], 0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g, straight_line_derivative(x), rtol=1e-12, atol=1e-12)
