"""NumPy functions with no derivative rule of their own: zero derivatives and refusals.

The rules themselves are split by domain: numpy_elementwise, numpy_reductions,
numpy_shape, linalg (and scipy_special for SciPy).

Elementwise rules say ``elementwise=True`` and never undo broadcasting
themselves; reductions spread their adjoint back with ``unreduce``.
"""
from .registry import nondifferentiable, refuse


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
