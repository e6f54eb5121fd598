"""Issue 10 (rules batch 1): elementwise functions, reductions and scans, one table entry each.

Every entry is a call written as a user would, with its inputs' shapes and domain.  Each is
checked against central finite differences along random directions in reverse mode
(``grad``, optimized and not), forward mode (``jvp``), vector mode (``jacfwd``), second order
(``hessian`` of a scalar function of the call, where the rule is smooth enough) and, for
arrays, in float32.  Points are away from kinks and ties.  Refusals sit at the end.
"""
import math
import zlib

import numpy as np
import pytest

import s2sad
from util import assert_close_tree, check_grad, fd_jacobian, fd_jvp, load_function

# the call, one (shape, domain) per argument (shape None: a Python float), order: highest
# derivative order checked (2 where the second derivative exists and is continuous at the point)
E = [
    ("np.log2(a)", [((3, 4), "pos")]),
    ("np.log10(a)", [((3, 4), "pos")]),
    ("np.exp2(a)", [((3, 4), "any")]),
    ("np.cbrt(a)", [((3, 4), "pos")]),
    ("np.reciprocal(a)", [((3, 4), "pos")]),
    ("np.sinc(a)", [((3, 4), "nonzero")]),
    ("np.arcsinh(a)", [((3, 4), "any")]),
    ("np.arccosh(a)", [((3, 4), "gt1")]),
    ("np.arctanh(a)", [((3, 4), "unit")]),
    ("np.deg2rad(a)", [((3, 4), "any")]),
    ("np.rad2deg(a)", [((3, 4), "any")]),
    ("np.radians(a)", [((3, 4), "any")]),
    ("np.degrees(a)", [((3, 4), "any")]),
    ("np.fabs(a)", [((3, 4), "nonzero")]),
    ("np.positive(a)", [((3, 4), "any")]),
    ("np.negative(a)", [((3, 4), "any")]),
    ("np.square(a)", [((3, 4), "any")]),
    ("np.nan_to_num(a)", [((3, 4), "any")]),
    ("np.ldexp(a, 3)", [((3, 4), "any")]),
    ("np.sin(a)", [((3, 4), "any")]),
    ("np.cos(a)", [((3, 4), "any")]),
    ("np.tan(a)", [((3, 4), "unit")]),
    ("np.exp(a)", [((3, 4), "any")]),
    ("np.log(a)", [((3, 4), "pos")]),
    ("np.log1p(a)", [((3, 4), "pos")]),
    ("np.expm1(a)", [((3, 4), "any")]),
    ("np.sqrt(a)", [((3, 4), "pos")]),
    ("np.tanh(a)", [((3, 4), "any")]),
    ("np.sinh(a)", [((3, 4), "any")]),
    ("np.cosh(a)", [((3, 4), "any")]),
    ("np.arcsin(a)", [((3, 4), "unit")]),
    ("np.arccos(a)", [((3, 4), "unit")]),
    ("np.arctan(a)", [((3, 4), "any")]),
    ("np.abs(a)", [((3, 4), "nonzero")]),
    ("np.absolute(a)", [((3, 4), "nonzero")]),
    # two arguments, with broadcasting
    ("np.float_power(a, b)", [((3, 4), "pos"), ((4,), "any")]),
    ("np.power(a, b)", [((3, 4), "pos"), ((4,), "any")]),
    ("np.logaddexp(a, b)", [((3, 4), "any"), ((3, 1), "any")]),
    ("np.logaddexp2(a, b)", [((3, 4), "any"), ((3, 1), "any")]),
    ("np.fmax(a, b)", [((3, 4), "any"), ((4,), "any")]),
    ("np.fmin(a, b)", [((3, 4), "any"), ((4,), "any")]),
    ("np.maximum(a, b)", [((3, 4), "any"), ((4,), "any")]),
    ("np.minimum(a, b)", [((3, 4), "any"), ((4,), "any")]),
    ("np.copysign(a, b)", [((3, 4), "nonzero"), ((4,), "nonzero")]),
    ("np.hypot(a, b)", [((3, 4), "nonzero"), ((4,), "nonzero")]),
    ("np.arctan2(a, b)", [((3, 4), "nonzero"), ((4,), "nonzero")]),
    ("np.true_divide(a, b)", [((3, 4), "any"), ((4,), "pos")]),
    ("np.mod(a, b)", [((3, 4), "frac"), (None, "one")]),
    ("np.remainder(a, b)", [((3, 4), "frac"), (None, "one")]),
    ("np.fmod(a, b)", [((3, 4), "frac"), (None, "one")]),
    ("np.clip(a, -0.5, 0.5)", [((3, 4), "clip")]),
    ("a.clip(-0.5, 0.5)", [((3, 4), "clip")]),
    ("np.clip(a, b, 0.5)", [((3, 4), "clip"), (None, "lo")]),
    ("np.heaviside(a, b)", [((3, 4), "nonzero"), ((4,), "any")]),
    # math
    ("math.log2(a)", [(None, "pos")]),
    ("math.log10(a)", [(None, "pos")]),
    ("math.exp2(a)", [(None, "any")]),
    ("math.cbrt(a)", [(None, "pos")]),
    ("math.asinh(a)", [(None, "any")]),
    ("math.acosh(a)", [(None, "gt1")]),
    ("math.atanh(a)", [(None, "unit")]),
    ("math.degrees(a)", [(None, "any")]),
    ("math.radians(a)", [(None, "any")]),
    ("math.erf(a)", [(None, "any")]),
    ("math.erfc(a)", [(None, "any")]),
    ("math.gamma(a)", [(None, "pos")]),
    ("math.lgamma(a)", [(None, "pos")]),
    ("math.hypot(a, b)", [(None, "pos"), (None, "any")]),
    ("math.atan2(a, b)", [(None, "pos"), (None, "any")]),
    ("math.fmod(a, b)", [(None, "frac"), (None, "one")]),
    ("math.sin(a) + math.cos(a) * math.tan(a)", [(None, "unit")]),
    ("math.exp(a) + math.expm1(a) * math.log(a) + math.log1p(a)", [(None, "pos")]),
    ("math.sqrt(a) + math.sinh(a) * math.cosh(a) + math.tanh(a)", [(None, "pos")]),
    ("math.asin(a) + math.acos(a) * math.atan(a)", [(None, "unit")]),
    ("math.pow(a, b) + math.fabs(b) * math.copysign(a, b)", [(None, "pos"), (None, "nonzero")]),
    ("np.add(a, b) * np.subtract(a, b) + np.multiply(a, b) * np.divide(a, b)", [((3, 4), "any"), ((4,), "pos")]),
    ("np.where(a > 0.0, np.sin(a), b)", [((3, 4), "nonzero"), ((4,), "any")]),
    ("np.min(a, axis=1)", [((3, 4), "distinct")]),
]
R = [
    ("np.var(a)", [((3, 4), "any")]),
    ("np.var(a, axis=0)", [((3, 4), "any")]),
    ("np.var(a, axis=(0, 2), ddof=1, keepdims=True)", [((3, 2, 4), "any")]),
    ("np.var(a, 1, None)", [((3, 4), "any")]),
    ("a.var(axis=-1)", [((3, 4), "any")]),
    ("np.std(a)", [((3, 4), "any")]),
    ("np.std(a, axis=1, ddof=1)", [((3, 4), "any")]),
    ("a.std(axis=0, keepdims=True)", [((3, 4), "any")]),
    ("np.ptp(a, axis=1)", [((3, 4), "distinct")]),
    ("np.ptp(a)", [((3, 4), "distinct")]),
    ("np.nansum(a, axis=0)", [((3, 4), "any")]),
    ("np.nanmean(a, axis=1, keepdims=True)", [((3, 4), "any")]),
    ("np.nanmax(a, axis=0)", [((3, 4), "distinct")]),
    ("np.nanvar(a, axis=0)", [((3, 4), "any")]),
    ("np.nanvar(a, axis=1, ddof=1, keepdims=True)", [((3, 4), "any")]),
    ("np.nanstd(a)", [((3, 4), "any")]),
    ("np.nanstd(a, axis=(0, 1), ddof=1)", [((3, 4, 2), "any")]),
    ("np.nanmin(a)", [((3, 4), "distinct")]),
    ("np.nanprod(a, axis=1)", [((3, 4), "pos")]),
    ("np.nanprod(a)", [((2, 3), "any")]),
    ("np.nanprod(a, axis=0, keepdims=True)", [((3, 4), "any")]),
    ("np.nancumsum(a)", [((3, 4), "any")]),
    ("np.nancumsum(a, axis=1)", [((3, 4), "any")]),
    ("np.max(a, axis=(0, 1))", [((3, 4, 2), "distinct")]),
    ("np.amax(a, axis=1, keepdims=True)", [((3, 4), "distinct")]),
    ("np.amin(a, axis=0)", [((3, 4), "distinct")]),
    ("a.max(axis=0)", [((3, 4), "distinct")]),
    ("a.min(axis=1)", [((3, 4), "distinct")]),
    ("np.sum(a, axis=(0, 2))", [((3, 2, 4), "any")]),
    ("np.sum(a, axis=0, where=W)", [((3, 4), "any")]),
    ("a.sum(where=W)", [((3, 4), "any")]),
    ("np.mean(a, axis=1, keepdims=True, where=W)", [((3, 4), "any")]),
    ("a.mean(where=W[0])", [((3, 4), "any")]),
    ("a.sum(axis=1, keepdims=True)", [((3, 4), "any")]),
    ("np.mean(a, axis=-1)", [((3, 4), "any")]),
    ("a.mean(axis=0)", [((3, 4), "any")]),
    ("np.prod(a, axis=1)", [((3, 4), "pos")]),
    ("a.prod()", [((3, 4), "pos")]),
    ("np.average(a, axis=0)", [((3, 4), "any")]),
    ("np.average(a, axis=1, weights=b)", [((3, 4), "any"), ((4,), "pos")]),
    ("np.average(a, weights=b)", [((3, 4), "any"), ((3, 4), "pos")]),
    ("np.average(b, axis=0, weights=a, keepdims=True)", [((3, 4), "pos"), ((3, 4), "any")]),
    ("np.cumsum(a)", [((3, 4), "any")]),
    ("np.cumsum(a, axis=1)", [((3, 4), "any")]),
    ("a.cumsum(axis=0)", [((3, 4), "any")]),
    ("np.cumprod(a, axis=1)", [((3, 4), "pos")], 1),
    ("np.cumprod(a)", [((2, 3), "pos")], 1),
    ("a.cumprod(axis=0)", [((3, 4), "pos")], 1),
    ("np.diff(a)", [((3, 4), "any")]),
    ("np.diff(a, n=2, axis=0)", [((4, 3), "any")]),
    ("np.diff(a, 2)", [((5,), "any")]),
    ("np.diff(a, prepend=0.0)", [((3, 4), "any")]),
    ("np.diff(a, prepend=b)", [((3, 4), "any"), ((3, 2), "any")]),
    ("np.diff(a, n=2, axis=0, append=b)", [((3, 4), "any"), (None, "any")]),
    ("np.diff(a, 2, 0, b, c)", [((3, 4), "any"), ((1, 4), "any"), ((2, 4), "any")]),
    ("np.diff(a, prepend=b, append=b)", [((5,), "any"), (None, "any")]),
    ("np.trapezoid(a)", [((3, 4), "any")]),
    ("np.trapezoid(a, dx=b, axis=0)", [((3, 4), "any"), (None, "pos")]),
    ("np.linalg.norm(a)", [((3, 4), "any")]),
    ("np.linalg.norm(a, axis=1)", [((3, 4), "any")]),
    ("np.linalg.norm(a, 2)", [((5,), "any")]),
    ("np.linalg.norm(a, 'fro', axis=(0, 1), keepdims=True)", [((3, 4, 2), "any")]),
    ("np.median(a)", [((3, 4), "distinct")]),
    ("np.median(a, axis=1)", [((3, 5), "distinct")]),
    ("np.median(a, axis=(0, 2), keepdims=True)", [((3, 2, 3), "distinct")]),
    ("np.quantile(a, 0.3, axis=0)", [((4, 3), "distinct")]),
    ("np.quantile(a, b)", [((6,), "distinct"), (None, "qfrac")]),
    ("np.percentile(a, [25.0, 80.0], axis=1, keepdims=True)", [((3, 4), "distinct")]),
    ("np.percentile(a, 100.0)", [((5,), "distinct")]),
    # the other orders: second order, but matrix 2, -2 and "nuc" (first)
    ("np.linalg.norm(a, 1)", [((5,), "nonzero")]),
    ("np.linalg.norm(a, np.inf)", [((5,), "distinct")]),
    ("np.linalg.norm(a, 3)", [((5,), "nonzero")]),
    ("np.linalg.norm(a, 0.5)", [((5,), "nonzero")]),
    ("np.linalg.norm(a, -1)", [((5,), "nonzero")]),
    ("np.linalg.norm(a, ord=1, axis=1)", [((3, 4), "nonzero")]),
    ("np.linalg.norm(a, 4, axis=0, keepdims=True)", [((3, 4), "nonzero")]),
    ("np.linalg.norm(a, 'nuc')", [((3, 4), "any")], 1),
    ("np.linalg.norm(a, 2, axis=(1, 2))", [((2, 3, 3), "any")], 1),
    ("np.linalg.norm(a, -2)", [((3, 4), "any")], 1),
    ("np.linalg.norm(a, 1)", [((3, 4), "distinct")]),
    ("np.linalg.norm(a, -1)", [((3, 4), "distinct")]),
    ("np.linalg.norm(a, np.inf)", [((3, 4), "distinct")]),
]
TABLE = [entry if len(entry) == 3 else entry + (2,) for entry in E + R]
NAMES = "abc"
# a where= mask (a module constant of the test's functions): every row and column keeps two
MASK = [[True, False, True, True], [False, True, True, False], [True, True, False, True]]


def sample(shape, domain, rng):
    """A point of ``domain`` (a float for shape None), away from kinks and ties."""
    size = shape or ()
    if domain == "any":
        v = rng.uniform(-1.5, 1.5, size)
    elif domain == "pos":
        v = rng.uniform(0.5, 2.0, size)
    elif domain == "gt1":
        v = rng.uniform(1.2, 3.0, size)
    elif domain == "unit":
        v = rng.uniform(-0.9, 0.9, size)
    elif domain == "one":
        v = np.array(0.7)
    elif domain == "qfrac":          # a quantile between order statistics
        v = np.array(0.37)
    elif domain == "lo":
        v = np.array(-0.55)
    elif domain == "nonzero":
        v = rng.choice([-1.0, 1.0], size) * rng.uniform(0.3, 1.5, size)
    elif domain == "frac":           # a / 0.7 away from integers
        v = (rng.integers(-3, 3, size) + rng.uniform(0.2, 0.8, size)) * 0.7
    elif domain == "clip":           # away from the bounds +-0.5
        u = rng.uniform(0.05, 0.4, size)
        v = rng.choice([-1.0, 1.0], size) * np.where(rng.random(size) < 0.5, u, u + 0.6)
    elif domain == "distinct":       # well separated: no ties within a step
        n = int(np.prod(size))
        v = np.reshape(rng.permutation(n) * 0.37 - 0.1 * n + rng.uniform(0, 0.05, n), size)
    else:
        raise ValueError(domain)
    return float(v) if shape is None else np.asarray(v, dtype=float)


def build(expr, nargs, tmp_path, name):
    """``f`` returns the call; ``s`` a smooth scalar of it, with every element weighted."""
    params = ", ".join(NAMES[:nargs])
    source = (f"import math\nimport numpy as np\n\nW = {MASK!r}\n\n\ndef f({params}):\n    return {expr}\n\n\n"
              f"def s({params}):\n    r = {expr}\n    return np.sum(np.sin(1.0 + r) * (1.0 + r))\n")
    f = load_function(source, tmp_path, name, "f")
    s = load_function(source, tmp_path, name + "_s", "s")
    return f, s


def mixed_second(s, args, d, e, h=1e-3):
    """d' H e by central differences, Richardson-extrapolated (steps h and h / 2)."""
    def at(p, q):
        moved = list(args)
        moved[0] = args[0] + p * d + q * e
        return float(s(*moved))

    def central(k):
        return (at(k, k) - at(k, -k) - at(-k, k) + at(-k, -k)) / (4 * k * k)
    return (4.0 * central(h / 2) - central(h)) / 3.0


@pytest.mark.parametrize("entry", TABLE, ids=[f"{e[0]}-{e[1][0][0]}" for e in TABLE])
def test_rule(entry, tmp_path):
    expr, specs, order = entry
    rng = np.random.default_rng(zlib.crc32(expr.encode()))
    args = [sample(shape, domain, rng) for shape, domain in specs]
    name = "m_" + "".join(c if c.isalnum() else "_" for c in expr)
    f, s = build(expr, len(args), tmp_path, name)
    nums = tuple(range(len(args)))
    # reverse mode, optimized and not
    for optimize in (True, False):
        check_grad(s, *args, argnums=nums if len(nums) > 1 else 0, optimize=optimize, rtol=1e-5, atol=1e-6)
    # forward mode: the call's own output along random tangents
    tangents = [float(rng.standard_normal()) if isinstance(a, float) else rng.standard_normal(np.shape(a))
                for a in args]
    value, tangent = s2sad.jvp(f, tuple(args), tuple(tangents))
    assert_close_tree(value, f(*args), what=f"{expr}: jvp value")
    assert_close_tree(tangent, fd_jvp(f, args, tangents), rtol=1e-5, atol=1e-6, what=f"{expr}: jvp")
    # vector mode
    assert_close_tree(s2sad.jacfwd(f)(*args), fd_jacobian(f, args, 0), rtol=1e-5, atol=1e-6,
                      what=f"{expr}: jacfwd")
    # second order
    if order >= 2:
        h = s2sad.hessian(s)(*args)
        d, e = (float(rng.standard_normal()) if isinstance(args[0], float) else rng.standard_normal(np.shape(args[0]))
                for _ in range(2))
        got = float(np.sum(np.reshape(h, (np.size(d), np.size(e))) @ np.ravel(e) * np.ravel(d)))
        want = mixed_second(s, args, d, e)
        assert abs(got - want) <= 1e-4 * max(1.0, abs(want)), f"{expr}: hessian {got} != fd {want}"
    # float32 arrays give float32 derivatives, close to float64's
    if all(isinstance(a, np.ndarray) for a in args):
        args32 = [a.astype(np.float32) for a in args]
        g32 = s2sad.grad(s)(*args32)
        assert np.asarray(g32).dtype == np.float32, f"{expr}: float32 gradient is {np.asarray(g32).dtype}"
        np.testing.assert_allclose(g32, s2sad.grad(s)(*args), rtol=2e-3, atol=2e-3)


# --- refusals: before the user's code runs, naming the line ------------------------------------
REFUSALS = [
    ("np.var(a, 0, np.float64)", "dtype"),
    ("np.std(a, dtype=np.float32)", "dtype"),
    ("np.average(a, returned=True)", "returned"),
    ("np.trapezoid(a, x=a)", "x="),
    ("np.sum(a, initial=1.0)", "initial"),
    ("np.cumsum(a, 0, np.float32)", "dtype"),
    ("np.sum(a, 1, np.float64)", "dtype"),
    ("a.mean(0, np.float32)", "dtype"),
    ("np.max(a, initial=0.0)", "initial"),
    ("np.clip(a, min=0.0)", "min"),
    ("np.linalg.norm(a, ord=5)", "ord"),
    ("np.linalg.norm(a, -np.inf)", "ord"),
    ("np.quantile(a, 0.5, method='nearest')", "method"),
    ("np.median(a, overwrite_input=True)", "overwrite_input"),
]


@pytest.mark.parametrize("expr,text", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_before_running(expr, text, tmp_path):
    source = (f"import numpy as np\n\nCALLS = []\n\n\ndef f(a):\n    CALLS.append(1)\n"
              f"    r = {expr}\n    return np.sum(r * r)\n")
    name = "refuse_" + "".join(c if c.isalnum() else "_" for c in expr)
    f = load_function(source, tmp_path, name)
    a = np.linspace(0.1, 1.2, 12).reshape(3, 4)
    for transform in (lambda: s2sad.grad(f)(a), lambda: s2sad.jvp(f, (a,), (np.ones_like(a),)),
                      lambda: s2sad.jacfwd(f)(a)):
        with pytest.raises(s2sad.S2SADError) as info:
            transform()
        message = str(info.value)
        assert f"{name}.py:8:" in message and text in message, message
    assert f.__globals__["CALLS"] == [], "the user's function ran before the refusal"


def test_cumprod_second_order_is_refused_before_running(tmp_path):
    source = ("import numpy as np\n\nCALLS = []\n\n\ndef f(a):\n    CALLS.append(1)\n"
              "    r = np.cumprod(a)\n    return np.sum(r * r)\n")
    f = load_function(source, tmp_path, "cumprod_twice")
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.hessian(f)(np.array([1.0, 2.0, 0.0]))
    assert "np.cumprod" in str(info.value)
    assert f.__globals__["CALLS"] == []


@pytest.mark.parametrize("expr", ["np.linalg.norm(a, 2)", "np.linalg.norm(a, 'nuc')"])
def test_matrix_norm_second_order_is_refused_before_running(expr, tmp_path):
    source = ("import numpy as np\n\nCALLS = []\n\n\ndef f(a):\n    CALLS.append(1)\n"
              f"    return {expr}\n")
    f = load_function(source, tmp_path, "matrix_norm_twice")
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.hessian(f)(np.array([[1.0, 2.0], [0.5, -1.0]]))
    assert "norm" in str(info.value)
    assert f.__globals__["CALLS"] == []


def test_cumprod_is_exact_at_zeros(tmp_path):
    f, s = build("np.cumprod(a)", 1, tmp_path, "cumprod_zeros")
    a = np.array([1.5, 0.0, 2.0, 0.0, -1.0])
    check_grad(s, a)
    assert_close_tree(s2sad.jacfwd(f)(a), fd_jacobian(f, (a,), 0), rtol=1e-6, atol=1e-8)


def test_nan_reductions_ignore_nans(tmp_path):
    for expr in ("np.nansum(a, axis=0)", "np.nanmean(a, axis=1)", "np.nanmax(a, axis=0)",
                 "np.nanvar(a, axis=0)", "np.nanstd(a, axis=1, ddof=1)"):
        f, s = build(expr, 1, tmp_path, "nan_" + expr[3:9])
        a = np.array([[0.3, np.nan, 1.1], [-0.7, 0.2, np.nan], [0.9, 1.7, -0.4]])
        g = s2sad.grad(s)(a)
        assert np.all(g[np.isnan(a)] == 0.0) and np.all(np.isfinite(g))
        filled = np.where(np.isnan(a), 0.0, a)
        d = np.where(np.isnan(a), 0.0, np.random.default_rng(1).standard_normal(a.shape))
        eps = 1e-6
        fd = (s(filled + eps * d + np.where(np.isnan(a), np.nan, 0.0))
              - s(filled - eps * d + np.where(np.isnan(a), np.nan, 0.0))) / (2 * eps)
        assert abs(float(np.sum(g * d)) - fd) < 1e-6, expr


def test_ties_split_evenly(tmp_path):
    f, s = build("np.max(a, axis=1)", 1, tmp_path, "ties_max")
    a = np.array([[1.0, 2.0, 2.0], [0.5, 0.1, 0.2]])
    assert_close_tree(s2sad.jacfwd(f)(a)[0], np.array([[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]]))
    f, s = build("np.maximum(a, 1.0)", 1, tmp_path, "ties_maximum")
    assert_close_tree(s2sad.jvp(f, (np.array([1.0, 2.0]),), (np.ones(2),))[1], np.array([0.5, 1.0]))
