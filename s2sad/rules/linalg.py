"""Derivative rules of linear algebra: products, ``np.linalg`` and ``scipy.linalg``.

Matrices may come in stacks (``(..., n, n)``): transposes swap the last two axes.
Templates are written with NumPy calls that have rules themselves, so vector mode
and second order come from the same table.
"""
import scipy.linalg as sla

from .registry import ARRAY, SCALAR, jvp, list_valued, supported, vjp

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

