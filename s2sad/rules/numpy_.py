"""Derivative rules of NumPy functions and ndarray methods.

Elementwise rules say ``elementwise=True`` and never undo broadcasting
themselves; reductions spread their adjoint back with ``unreduce``.
"""
from .registry import ARRAY, ELEMENTWISE, SAME, SCALAR, nondifferentiable, vjp

E = dict(elementwise=True)

# --- elementwise functions of one argument ------------------------------------------------
vjp("np.sin(x)", **E, x="y_bar * np.cos(x)")
vjp("np.cos(x)", **E, x="-(y_bar * np.sin(x))")
vjp("np.tan(x)", **E, x="y_bar * (1.0 + y * y)")
vjp("np.exp(x)", **E, x="y_bar * y")
vjp("np.log(x)", **E, x="y_bar / x")
vjp("np.log1p(x)", **E, x="y_bar / (1.0 + x)")
vjp("np.expm1(x)", **E, x="y_bar * (y + 1.0)")
vjp("np.sqrt(x)", **E, x="y_bar / (2.0 * y)")
vjp("np.tanh(x)", **E, x="y_bar * (1.0 - y * y)")
vjp("np.sinh(x)", **E, x="y_bar * np.cosh(x)")
vjp("np.cosh(x)", **E, x="y_bar * np.sinh(x)")
vjp("np.arcsin(x)", **E, x="y_bar / np.sqrt(1.0 - x * x)")
vjp("np.arccos(x)", **E, x="-(y_bar / np.sqrt(1.0 - x * x))")
vjp("np.arctan(x)", **E, x="y_bar / (1.0 + x * x)")
vjp("np.abs(x)", **E, x="y_bar * np.sign(x)")
vjp("np.square(x)", **E, x="y_bar * (2.0 * x)")
vjp("np.negative(x)", **E, x="-y_bar")

# --- elementwise functions of several arguments (broadcasting) ----------------------------
vjp("np.add(a, b)", **E, a="y_bar", b="y_bar")
vjp("np.subtract(a, b)", **E, a="y_bar", b="-y_bar")
vjp("np.multiply(a, b)", **E, a="y_bar * b", b="y_bar * a")
vjp("np.divide(a, b)", **E, a="y_bar / b", b="-(y_bar * y / b)")
vjp("np.power(a, b)", **E, a="y_bar * (b * a ** (b - 1))", b="y_bar * (y * np.log(a))")
vjp("np.arctan2(a, b)", **E, a="y_bar * b / (a * a + b * b)", b="-(y_bar * a / (a * a + b * b))")
vjp("np.hypot(a, b)", **E, a="y_bar * a / y", b="y_bar * b / y")
vjp("np.maximum(a, b)", **E, a="y_bar * ((a > b) + 0.5 * (a == b))", b="y_bar * ((b > a) + 0.5 * (a == b))")
vjp("np.minimum(a, b)", **E, a="y_bar * ((a < b) + 0.5 * (a == b))", b="y_bar * ((b < a) + 0.5 * (a == b))")
vjp("np.where(condition, a, b)", **E, a="np.where(condition, y_bar, 0.0)", b="np.where(condition, 0.0, y_bar)")
vjp("np.clip(x, lo, hi)", **E, x="y_bar * (y == x)", lo="y_bar * (x < lo)", hi="y_bar * (x > hi)")
vjp("np.logaddexp(a, b)", **E, a="y_bar * np.exp(a - y)", b="y_bar * np.exp(b - y)")

# --- reductions -----------------------------------------------------------------------------
REDUCE = "reduction"
SPREAD = "unreduce(y_bar, x, axis, keepdims)"
vjp("np.sum(x, axis=None, keepdims=False)", out=REDUCE, x=SPREAD)
vjp("x.sum(axis=None, keepdims=False)", out=REDUCE, x=SPREAD)
vjp("np.mean(x, axis=None, keepdims=False)", out=REDUCE, x=SPREAD + " * (np.size(y) / np.size(x))")
vjp("x.mean(axis=None, keepdims=False)", out=REDUCE, x=SPREAD + " * (np.size(y) / np.size(x))")
vjp("np.prod(x, axis=None, keepdims=False)", out=REDUCE, x="unreduce(y_bar * y, x, axis, keepdims) / x")
vjp("x.prod(axis=None, keepdims=False)", out=REDUCE, x="unreduce(y_bar * y, x, axis, keepdims) / x")
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

# --- linear algebra and products ------------------------------------------------------------
for f in ("np.dot(a, b)", "np.matmul(a, b)", "a.dot(b)"):
    vjp(f, out=ARRAY, a="matmul_vjp_a(y_bar, a, b)", b="matmul_vjp_b(y_bar, a, b)")
    vjp(f, ndim=(2, 1), a="np.outer(y_bar, b)", b="a.T @ y_bar")
    vjp(f, ndim=(1, 2), a="b @ y_bar", b="np.outer(a, y_bar)")
    vjp(f, ndim=(2, 2), a="y_bar @ b.T", b="a.T @ y_bar")
    vjp(f, ndim=(1, 1), a="y_bar * b", b="y_bar * a")
vjp("np.outer(a, b)", out=ARRAY, a="y_bar @ np.ravel(b)", b="np.ravel(a) @ y_bar")
vjp("np.linalg.norm(x, ord=None, axis=None, keepdims=False)", out=REDUCE,
    x="norm_vjp(y_bar, y, x, ord, axis, keepdims)")
vjp("np.linalg.solve(a, b)", out=ARRAY, a="solve_vjp_a(y_bar, a, y)",
    b="np.linalg.solve(np.swapaxes(a, -1, -2), y_bar)")
vjp("np.linalg.inv(a)", out=ARRAY, a="-(y.T @ y_bar @ y.T)")
vjp("np.linalg.det(a)", out=SCALAR, a="y_bar * y * np.linalg.inv(a).T")

# --- shape manipulation ---------------------------------------------------------------------
vjp("np.reshape(a, shape)", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
vjp("a.reshape(*shape)", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
vjp("np.ravel(a)", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
vjp("a.ravel()", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
vjp("a.flatten()", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
vjp("np.squeeze(a, axis=None)", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
vjp("np.expand_dims(a, axis)", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
vjp("np.transpose(a, axes=None)", out=ARRAY, a="untranspose(y_bar, axes)")
vjp("a.transpose(*axes)", out=ARRAY, a="untranspose(y_bar, axes)")
vjp("a.T", out=ARRAY, a="y_bar.T")
vjp("np.concatenate(arrays, axis=0)", out=ARRAY, arrays="concat_part(y_bar, arrays, i, axis)",
    arrays_whole="unconcatenate(y_bar, arrays, axis)")
vjp("np.stack(arrays, axis=0)", out=ARRAY, arrays="np.take(y_bar, i, axis)",
    arrays_whole="list(np.moveaxis(y_bar, axis, 0))")
vjp("np.array(x)", out=ARRAY, x="y_bar", x_whole="list(y_bar)")
vjp("np.asarray(x)", out=ARRAY, x="y_bar", x_whole="list(y_bar)")
vjp("a.copy()", out=SAME, a="y_bar")
vjp("np.copy(a)", out=SAME, a="y_bar")
vjp("a.astype(dtype)", out=SAME, a="y_bar")

nondifferentiable(
    "np.floor", "np.ceil", "np.round", "np.rint", "np.trunc", "np.sign", "np.fix",
    "np.argmax", "np.argmin", "np.argsort", "np.shape", "np.ndim", "np.size",
    "np.zeros_like", "np.ones_like", "np.empty_like", "np.zeros", "np.ones", "np.empty",
    "np.eye", "np.identity", "np.arange", "np.isnan", "np.isinf", "np.isfinite",
    "np.greater", "np.less", "np.equal", "np.not_equal", "np.greater_equal", "np.less_equal",
    "np.logical_and", "np.logical_or", "np.logical_not", "np.all", "np.any", "np.nonzero",
    "np.count_nonzero", "np.floor_divide", "np.heaviside",
    ".shape", ".ndim", ".size", ".dtype", ".argmax", ".argmin", ".argsort", ".nonzero", ".all", ".any",
)
