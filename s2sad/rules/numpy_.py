"""Derivative rules of NumPy functions and ndarray methods.

Elementwise rules say ``elementwise=True`` and never undo broadcasting
themselves; reductions spread their adjoint back with ``unreduce``.
"""
from .registry import ARRAY, ELEMENTWISE, SAME, SCALAR, jvp, nondifferentiable, refuse, supported, vjp

E = dict(elementwise=True)

# --- elementwise functions of one argument ------------------------------------------------
vjp("np.sin(x)", **E, x="y_bar * np.cos(x)")
jvp("np.sin(x)", **E, x="x_dot * np.cos(x)")
vjp("np.cos(x)", **E, x="-(y_bar * np.sin(x))")
jvp("np.cos(x)", **E, x="-(x_dot * np.sin(x))")
vjp("np.tan(x)", **E, x="y_bar * (1.0 + y * y)")
jvp("np.tan(x)", **E, x="x_dot * (1.0 + y * y)")
vjp("np.exp(x)", **E, x="y_bar * y")
jvp("np.exp(x)", **E, x="x_dot * y")
vjp("np.log(x)", **E, x="y_bar / x")
jvp("np.log(x)", **E, x="x_dot / x")
vjp("np.log1p(x)", **E, x="y_bar / (1.0 + x)")
jvp("np.log1p(x)", **E, x="x_dot / (1.0 + x)")
vjp("np.expm1(x)", **E, x="y_bar * (y + 1.0)")
jvp("np.expm1(x)", **E, x="x_dot * (y + 1.0)")
vjp("np.sqrt(x)", **E, x="y_bar / (2.0 * y)")
jvp("np.sqrt(x)", **E, x="x_dot / (2.0 * y)")
vjp("np.tanh(x)", **E, x="y_bar * (1.0 - y * y)")
jvp("np.tanh(x)", **E, x="x_dot * (1.0 - y * y)")
vjp("np.sinh(x)", **E, x="y_bar * np.cosh(x)")
jvp("np.sinh(x)", **E, x="x_dot * np.cosh(x)")
vjp("np.cosh(x)", **E, x="y_bar * np.sinh(x)")
jvp("np.cosh(x)", **E, x="x_dot * np.sinh(x)")
vjp("np.arcsin(x)", **E, x="y_bar / np.sqrt(1.0 - x * x)")
jvp("np.arcsin(x)", **E, x="x_dot / np.sqrt(1.0 - x * x)")
vjp("np.arccos(x)", **E, x="-(y_bar / np.sqrt(1.0 - x * x))")
jvp("np.arccos(x)", **E, x="-(x_dot / np.sqrt(1.0 - x * x))")
vjp("np.arctan(x)", **E, x="y_bar / (1.0 + x * x)")
jvp("np.arctan(x)", **E, x="x_dot / (1.0 + x * x)")
vjp("np.abs(x)", **E, x="y_bar * np.sign(x)")
jvp("np.abs(x)", **E, x="x_dot * np.sign(x)")
vjp("np.square(x)", **E, x="y_bar * (2.0 * x)")
jvp("np.square(x)", **E, x="x_dot * (2.0 * x)")
vjp("np.negative(x)", **E, x="-y_bar")
jvp("np.negative(x)", **E, x="-x_dot")

# --- elementwise functions of several arguments (broadcasting) ----------------------------
vjp("np.add(a, b)", **E, a="y_bar", b="y_bar")
jvp("np.add(a, b)", **E, a="a_dot", b="b_dot")
vjp("np.subtract(a, b)", **E, a="y_bar", b="-y_bar")
jvp("np.subtract(a, b)", **E, a="a_dot", b="-b_dot")
vjp("np.multiply(a, b)", **E, a="y_bar * b", b="y_bar * a")
jvp("np.multiply(a, b)", **E, a="a_dot * b", b="a * b_dot")
vjp("np.divide(a, b)", **E, a="y_bar / b", b="-(y_bar * y / b)")
jvp("np.divide(a, b)", **E, a="a_dot / b", b="-(b_dot * y / b)")
vjp("np.power(a, b)", **E, a="y_bar * (b * a ** (b - 1))", b="y_bar * (y * np.log(a))")
jvp("np.power(a, b)", **E, a="a_dot * (b * a ** (b - 1))", b="b_dot * (y * np.log(a))")
vjp("np.arctan2(a, b)", **E, a="y_bar * b / (a * a + b * b)", b="-(y_bar * a / (a * a + b * b))")
jvp("np.arctan2(a, b)", **E, a="a_dot * b / (a * a + b * b)", b="-(b_dot * a / (a * a + b * b))")
vjp("np.hypot(a, b)", **E, a="y_bar * a / y", b="y_bar * b / y")
jvp("np.hypot(a, b)", **E, a="a_dot * a / y", b="b_dot * b / y")
vjp("np.maximum(a, b)", **E, a="y_bar * ((a > b) + 0.5 * (a == b))", b="y_bar * ((b > a) + 0.5 * (a == b))")
jvp("np.maximum(a, b)", **E, a="a_dot * ((a > b) + 0.5 * (a == b))", b="b_dot * ((b > a) + 0.5 * (a == b))")
vjp("np.minimum(a, b)", **E, a="y_bar * ((a < b) + 0.5 * (a == b))", b="y_bar * ((b < a) + 0.5 * (a == b))")
jvp("np.minimum(a, b)", **E, a="a_dot * ((a < b) + 0.5 * (a == b))", b="b_dot * ((b < a) + 0.5 * (a == b))")
vjp("np.where(condition, a, b)", **E, a="np.where(condition, y_bar, 0.0)", b="np.where(condition, 0.0, y_bar)")
jvp("np.where(condition, a, b)", **E, a="np.where(condition, a_dot, 0.0)", b="np.where(condition, 0.0, b_dot)")
vjp("np.clip(x, lo, hi)", **E, x="y_bar * (y == x)", lo="y_bar * (x < lo)", hi="y_bar * (x > hi)")
jvp("np.clip(x, lo, hi)", **E, x="x_dot * (y == x)", lo="lo_dot * (x < lo)", hi="hi_dot * (x > hi)")
# heaviside(x1, x2) is x2 where x1 == 0: its value there is x2's (a step elsewhere)
vjp("np.heaviside(x1, x2)", **E, x2="y_bar * (x1 == 0)")
jvp("np.heaviside(x1, x2)", **E, x2="x2_dot * (x1 == 0)")
vjp("np.logaddexp(a, b)", **E, a="y_bar * np.exp(a - y)", b="y_bar * np.exp(b - y)")
jvp("np.logaddexp(a, b)", **E, a="a_dot * np.exp(a - y)", b="b_dot * np.exp(b - y)")

# --- reductions -----------------------------------------------------------------------------
REDUCE = "reduction"
SPREAD = "unreduce(y_bar, x, axis, keepdims)"
# tangents of reductions reduce the tangent; vector mode shifts the axes past the directions
BATCH_SUM = "np.sum(x_dot, axis=batch_axis(axis, x), keepdims=keepdims)"
BATCH_MEAN = "np.mean(x_dot, axis=batch_axis(axis, x), keepdims=keepdims)"
# a product's derivative is the product of the other factors: exact where some are zero
PROD_BAR = "unreduce(y_bar, x, axis, keepdims) * prod_others(x, axis)"
PROD_DOT = "np.sum(x_dot * prod_others(x, axis), axis=axis, keepdims=keepdims)"
BATCH_PROD_DOT = "np.sum(x_dot * prod_others(x, axis), axis=batch_axis(axis, x), keepdims=keepdims)"
RESHAPED = "np.reshape(a_dot, np.shape(y))"
BATCH_RESHAPED = "np.reshape(a_dot, (len(a_dot),) + np.shape(y))"
FULL_1D = dict(ndim=(1,), when=dict(axis=None, keepdims=False))
vjp("np.sum(x, axis=None, keepdims=False)", out=REDUCE, x=SPREAD)
jvp("np.sum(x, axis=None, keepdims=False)", x="np.sum(x_dot, axis=axis, keepdims=keepdims)")
jvp("np.sum(x, axis=None, keepdims=False)", when=dict(axis=None, keepdims=False), x="np.sum(x_dot)")
jvp("np.sum(x, axis=None, keepdims=False)", batched=True, x=BATCH_SUM)
jvp("np.sum(x, axis=None, keepdims=False)", batched=True, **FULL_1D, x="np.sum(x_dot, axis=1)")
vjp("x.sum(axis=None, keepdims=False)", out=REDUCE, x=SPREAD)
jvp("x.sum(axis=None, keepdims=False)", x="x_dot.sum(axis=axis, keepdims=keepdims)")
jvp("x.sum(axis=None, keepdims=False)", when=dict(axis=None, keepdims=False), x="x_dot.sum()")
jvp("x.sum(axis=None, keepdims=False)", batched=True, x=BATCH_SUM)
jvp("x.sum(axis=None, keepdims=False)", batched=True, **FULL_1D, x="x_dot.sum(axis=1)")
vjp("np.mean(x, axis=None, keepdims=False)", out=REDUCE, x=SPREAD + " * (np.size(y) / np.size(x))")
jvp("np.mean(x, axis=None, keepdims=False)", x="np.mean(x_dot, axis=axis, keepdims=keepdims)")
jvp("np.mean(x, axis=None, keepdims=False)", when=dict(axis=None, keepdims=False), x="np.mean(x_dot)")
jvp("np.mean(x, axis=None, keepdims=False)", batched=True, x=BATCH_MEAN)
vjp("x.mean(axis=None, keepdims=False)", out=REDUCE, x=SPREAD + " * (np.size(y) / np.size(x))")
jvp("x.mean(axis=None, keepdims=False)", x="x_dot.mean(axis=axis, keepdims=keepdims)")
jvp("x.mean(axis=None, keepdims=False)", when=dict(axis=None, keepdims=False), x="x_dot.mean()")
jvp("x.mean(axis=None, keepdims=False)", batched=True, x=BATCH_MEAN)
vjp("np.prod(x, axis=None, keepdims=False)", out=REDUCE, x=PROD_BAR)
jvp("np.prod(x, axis=None, keepdims=False)", x=PROD_DOT)
jvp("np.prod(x, axis=None, keepdims=False)", batched=True, x=BATCH_PROD_DOT)
vjp("x.prod(axis=None, keepdims=False)", out=REDUCE, x=PROD_BAR)
jvp("x.prod(axis=None, keepdims=False)", x=PROD_DOT)
jvp("x.prod(axis=None, keepdims=False)", batched=True, x=BATCH_PROD_DOT)
for f in ("np.prod(x, axis=None, keepdims=False)", "x.prod(axis=None, keepdims=False)"):
    vjp(f, when=dict(axis=None, keepdims=False), x="y_bar * prod_others(x)")
    jvp(f, when=dict(axis=None, keepdims=False), x="np.sum(x_dot * prod_others(x))")
EXTREMUM = SPREAD + " * extremum_mask(y, x, axis, keepdims)"
# a full reduction of an array: its adjoint is a scalar, spread evenly
FULL = dict(ndim=("+",), when=dict(axis=None, keepdims=False))
vjp("np.sum(x, axis=None, keepdims=False)", **FULL, out=REDUCE, x="np.full(x.shape, y_bar)")
vjp("x.sum(axis=None, keepdims=False)", **FULL, out=REDUCE, x="np.full(x.shape, y_bar)")
vjp("np.mean(x, axis=None, keepdims=False)", **FULL, out=REDUCE, x="np.full(x.shape, y_bar / x.size)")
vjp("x.mean(axis=None, keepdims=False)", **FULL, out=REDUCE, x="np.full(x.shape, y_bar / x.size)")
for pattern in ("np.max(x, axis=None, keepdims=False)", "np.amax(x, axis=None, keepdims=False)",
                "np.min(x, axis=None, keepdims=False)", "np.amin(x, axis=None, keepdims=False)",
                "x.max(axis=None, keepdims=False)", "x.min(axis=None, keepdims=False)"):
    vjp(pattern, out=REDUCE, x=EXTREMUM)
    jvp(pattern, x="np.sum(x_dot * extremum_mask(y, x, axis, keepdims), axis=axis, keepdims=keepdims)")
    jvp(pattern, batched=True, x="np.sum(x_dot * extremum_mask(y, x, axis, keepdims), axis=batch_axis(axis, x), keepdims=keepdims)")

# --- np.linalg.norm (linear algebra: rules/linalg.py; shapes: rules/numpy_shape.py) -----------
vjp("np.linalg.norm(x, ord=None, axis=None, keepdims=False)", out=REDUCE,
    x="norm_vjp(y_bar, y, x, ord, axis, keepdims)")
jvp("np.linalg.norm(x, ord=None, axis=None, keepdims=False)",
    x="np.sum(x_dot * norm_vjp(np.ones_like(y), y, x, ord, axis, keepdims), axis=axis, keepdims=keepdims)")
supported("np.linalg.norm(x, ord=None, axis=None, keepdims=False)", ord=(None, 2, "fro"))
jvp("np.linalg.norm(x, ord=None, axis=None, keepdims=False)", batched=True,
    x="np.sum(x_dot * norm_vjp(np.ones_like(y), y, x, ord, axis, keepdims), axis=batch_axis(axis, x), keepdims=keepdims)")


nondifferentiable(
    "np.floor", "np.ceil", "np.round", "np.rint", "np.trunc", "np.sign", "np.fix",
    "np.argmax", "np.argmin", "np.argsort", "np.shape", "np.ndim", "np.size",
    "np.zeros_like", "np.ones_like", "np.empty_like", "np.zeros", "np.ones", "np.empty",
    "np.eye", "np.identity", "np.arange", "np.isnan", "np.isinf", "np.isfinite",
    "np.greater", "np.less", "np.equal", "np.not_equal", "np.greater_equal", "np.less_equal",
    "np.logical_and", "np.logical_or", "np.logical_not", "np.all", "np.any", "np.nonzero",
    "np.count_nonzero", "np.floor_divide",
    ".shape", ".ndim", ".size", ".dtype", ".argmax", ".argmin", ".argsort", ".nonzero", ".all", ".any",
)
# np.arange(start, stop, step) varies with start and step (start + k * step)
refuse("np.arange", hint="write start + step * np.arange(n) with an integer n (int(...) or len(...))")
