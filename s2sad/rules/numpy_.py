"""Derivative rules of NumPy functions and ndarray methods.

Elementwise rules say ``elementwise=True`` and never undo broadcasting
themselves; reductions spread their adjoint back with ``unreduce``.
"""
from .registry import ARRAY, ELEMENTWISE, SAME, SCALAR, jvp, nondifferentiable, refuse, supported, vjp

E = dict(elementwise=True)

# --- linear algebra and products ------------------------------------------------------------
# matmul works on the last two axes of stacks; np.dot of n-d arrays contracts a's last axis
# with b's second-to-last (the same for 1-d and 2-d operands)
vjp("np.matmul(a, b)", out=ARRAY, a="matmul_vjp_a(y_bar, a, b)", b="matmul_vjp_b(y_bar, a, b)")
jvp("np.matmul(a, b)", out=ARRAY, a="a_dot @ b", b="a @ b_dot")
jvp("np.matmul(a, b)", batched=True, a="batch_matmul(a_dot, b, 'a')", b="batch_matmul(a, b_dot, 'b')")
jvp("np.matmul(a, b)", batched=True, ndim=(2, 2), a="a_dot @ b", b="a @ b_dot")
for f in ("np.dot(a, b)", "a.dot(b)"):
    vjp(f, out=ARRAY, a="dot_vjp_a(y_bar, a, b)", b="dot_vjp_b(y_bar, a, b)")
    jvp(f, out=ARRAY, a="np.dot(a_dot, b)", b="np.dot(a, b_dot)")
    jvp(f, batched=True, a="np.dot(a_dot, b)", b="batch_dot_b(a, b_dot)")
for f in ("np.dot(a, b)", "np.matmul(a, b)", "a.dot(b)"):
    jvp(f, batched=True, ndim=(2, 1), a="a_dot @ b", b="b_dot @ a.T")
    vjp(f, ndim=(2, 1), a="np.outer(y_bar, b)", b="a.T @ y_bar")
    vjp(f, ndim=(1, 2), a="b @ y_bar", b="np.outer(a, y_bar)")
    vjp(f, ndim=(2, 2), a="y_bar @ b.T", b="a.T @ y_bar")
    vjp(f, ndim=(1, 1), a="y_bar * b", b="y_bar * a")
vjp("np.outer(a, b)", out=ARRAY, a="y_bar @ np.ravel(b)", b="np.ravel(a) @ y_bar")
jvp("np.outer(a, b)", a="np.outer(a_dot, b)", b="np.outer(a, b_dot)")
jvp("np.outer(a, b)", batched=True, a="np.reshape(a_dot, (len(a_dot), -1, 1)) * np.ravel(b)",
    b="np.reshape(a, (-1, 1)) * np.reshape(b_dot, (len(b_dot), 1, -1))")
# stacks of matrices: transposes swap the last two axes; b is a vector only when 1-d (NumPy 2)
vjp("np.linalg.solve(a, b)", out=ARRAY, a="solve_vjp_a(y_bar, a, y)", b="solve_vjp_b(y_bar, a, b)")
jvp("np.linalg.solve(a, b)", a="-solve_dot(a, a_dot, y)", b="np.linalg.solve(a, b_dot)")
jvp("np.linalg.solve(a, b)", batched=True, a="-each_direction(solve_dot, 1, a, a_dot, y)",
    b="batch_solve(a, b_dot, y)")
vjp("np.linalg.inv(a)", out=ARRAY, a="-(np.swapaxes(y, -1, -2) @ y_bar @ np.swapaxes(y, -1, -2))")
vjp("np.linalg.inv(a)", ndim=(2,), a="-(y.T @ y_bar @ y.T)")
jvp("np.linalg.inv(a)", a="-(y @ a_dot @ y)")
jvp("np.linalg.inv(a)", batched=True, a="-(y @ a_dot @ y)")
vjp("np.linalg.det(a)", out=ARRAY,
    a="np.expand_dims(y_bar * y, (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)")
vjp("np.linalg.det(a)", ndim=(2,), a="y_bar * y * np.linalg.inv(a).T")
jvp("np.linalg.det(a)", a="y * np.sum(np.swapaxes(np.linalg.inv(a), -1, -2) * a_dot, axis=(-2, -1))")
jvp("np.linalg.det(a)", batched=True,
    a="y * np.sum(np.swapaxes(np.linalg.inv(a), -1, -2) * a_dot, axis=(-2, -1))")

# --- shape manipulation ---------------------------------------------------------------------
RESHAPED = "np.reshape(a_dot, np.shape(y))"
BATCH_RESHAPED = "np.reshape(a_dot, (len(a_dot),) + np.shape(y))"
vjp("np.reshape(a, shape)", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
jvp("np.reshape(a, shape)", a=RESHAPED)
jvp("np.reshape(a, shape)", batched=True, a=BATCH_RESHAPED)
vjp("a.reshape(*shape)", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
jvp("a.reshape(*shape)", a=RESHAPED)
jvp("a.reshape(*shape)", batched=True, a=BATCH_RESHAPED)
vjp("np.ravel(a)", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
jvp("np.ravel(a)", a="np.ravel(a_dot)")
jvp("np.ravel(a)", batched=True, a=BATCH_RESHAPED)
vjp("a.ravel()", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
jvp("a.ravel()", a="a_dot.ravel()")
jvp("a.ravel()", batched=True, a=BATCH_RESHAPED)
vjp("a.flatten()", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
jvp("a.flatten()", a="a_dot.flatten()")
jvp("a.flatten()", batched=True, a=BATCH_RESHAPED)
vjp("np.squeeze(a, axis=None)", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
jvp("np.squeeze(a, axis=None)", a=RESHAPED)
jvp("np.squeeze(a, axis=None)", batched=True, a=BATCH_RESHAPED)
vjp("np.expand_dims(a, axis)", out=ARRAY, a="np.reshape(y_bar, np.shape(a))")
jvp("np.expand_dims(a, axis)", a=RESHAPED)
jvp("np.expand_dims(a, axis)", batched=True, a=BATCH_RESHAPED)
vjp("np.transpose(a, axes=None)", out=ARRAY, a="untranspose(y_bar, axes)")
jvp("np.transpose(a, axes=None)", a="np.transpose(a_dot, axes)")
jvp("np.transpose(a, axes=None)", batched=True, a="transpose_dims(a_dot, axes, 1)")
vjp("a.transpose(*axes)", out=ARRAY, a="untranspose(y_bar, axes)")
jvp("a.transpose(*axes)", a="transpose_dims(a_dot, axes)")
jvp("a.transpose(*axes)", batched=True, a="transpose_dims(a_dot, axes, 1)")
vjp("a.T", out=ARRAY, a="y_bar.T")
jvp("a.T", a="a_dot.T")
jvp("a.T", batched=True, a="transpose_dims(a_dot, None, 1)")
vjp("np.concatenate(arrays, axis=0)", out=ARRAY, arrays="concat_part(y_bar, arrays, i, axis)",
    arrays_whole="unconcatenate(y_bar, arrays, axis)")
jvp("np.concatenate(arrays, axis=0)", arrays="np.concatenate(arrays_dot, axis=axis)")
jvp("np.concatenate(arrays, axis=0)", batched=True, arrays="np.concatenate(arrays_dot, axis=batch_axis(axis, y))")
vjp("np.stack(arrays, axis=0)", out=ARRAY, arrays="np.take(y_bar, i, axis)",
    arrays_whole="unstack(y_bar, axis)")
jvp("np.stack(arrays, axis=0)", arrays="np.stack(arrays_dot, axis=axis)")
jvp("np.stack(arrays, axis=0)", batched=True, arrays="np.stack(arrays_dot, axis=batch_axis(axis, y))")
# a cast to an int or bool dtype has a zero derivative (cast_derivative(g, None) is folded to g)
for f in ("np.array(x, dtype=None)", "np.asarray(x, dtype=None)"):
    vjp(f, out=ARRAY, x="cast_derivative(y_bar, dtype)", x_whole="list(cast_derivative(y_bar, dtype))")
    jvp(f, x="cast_derivative(" + f.split("(")[0] + "(x_dot), dtype)")
    jvp(f, batched=True, x="cast_derivative(batch_array(x_dot), dtype)")
vjp("a.copy()", out=SAME, a="y_bar")
jvp("a.copy()", out=SAME, a="np.copy(a_dot)")
jvp("a.copy()", batched=True, a="np.copy(a_dot)")
vjp("np.copy(a)", out=SAME, a="y_bar")
jvp("np.copy(a)", out=SAME, a="np.copy(a_dot)")
jvp("np.copy(a)", batched=True, a="np.copy(a_dot)")
vjp("a.astype(dtype)", out=SAME, a="cast_derivative(y_bar, dtype)")
jvp("a.astype(dtype)", out=SAME, a="cast_derivative(a_dot, dtype)")
jvp("a.astype(dtype)", batched=True, a="cast_derivative(a_dot, dtype)")

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
