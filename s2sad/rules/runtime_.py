"""Derivative rules of what *generated* code calls, so a derivative can be differentiated again.

``grad(grad(f))`` and ``hessian(f)`` transform the source of a derivative: its
runtime helpers (:mod:`s2sad.runtime`), the NumPy calls adjoint templates
write (``np.full``, ``np.outer``, ``np.broadcast_to`` ...) and the forward
sweep's stack need rules in both modes, like any primitive.
"""
from .registry import ARRAY, inplace, jvp, list_valued, nondifferentiable, supported, vjp

# --- undoing broadcasting and reductions (linear in g; x gives only a shape) -----------------
vjp("unbroadcast(g, x)", out=ARRAY, g="np.broadcast_to(y_bar, np.shape(g))")
jvp("unbroadcast(g, x)", g="unbroadcast(g_dot, x)")
jvp("unbroadcast(g, x)", batched=True, g="batch_unbroadcast(g_dot, x)")
jvp("batch_unbroadcast(g, x, batch_dims=1)", g="batch_unbroadcast(g_dot, x, batch_dims)")
jvp("batch_unbroadcast(g, x, batch_dims=1)", batched=True, g="batch_unbroadcast(g_dot, x, batch_dims + 1)")
vjp("unreduce(g, x, axis=None, keepdims=False)", out=ARRAY,
    g="np.reshape(np.sum(y_bar, axis=axis, keepdims=keepdims), np.shape(g))")
jvp("unreduce(g, x, axis=None, keepdims=False)", g="unreduce(g_dot, x, axis, keepdims)")
jvp("unreduce(g, x, axis=None, keepdims=False)", batched=True,
    g="batch_unreduce(g_dot, x, axis, keepdims)")
jvp("batch_unreduce(g, x, axis=None, keepdims=False, batch_dims=1)",
    g="batch_unreduce(g_dot, x, axis, keepdims, batch_dims)")
jvp("batch_unreduce(g, x, axis=None, keepdims=False, batch_dims=1)", batched=True,
    g="batch_unreduce(g_dot, x, axis, keepdims, batch_dims + 1)")

# --- the adjoints of products (bilinear: linear in each argument but the shape-only one) ----
vjp("matmul_vjp_a(g, a, b)", out=ARRAY, g="np.matmul(y_bar, b)", b="matmul_vjp_b(g, y_bar, b)")
jvp("matmul_vjp_a(g, a, b)", g="matmul_vjp_a(g_dot, a, b)", b="matmul_vjp_a(g, a, b_dot)")
vjp("matmul_vjp_b(g, a, b)", out=ARRAY, g="np.matmul(a, y_bar)", a="matmul_vjp_a(g, a, y_bar)")
jvp("matmul_vjp_b(g, a, b)", g="matmul_vjp_b(g_dot, a, b)", a="matmul_vjp_b(g, a_dot, b)")
vjp("dot_vjp_a(g, a, b)", out=ARRAY, g="np.dot(y_bar, b)", b="dot_vjp_b(g, y_bar, b)")
jvp("dot_vjp_a(g, a, b)", g="dot_vjp_a(g_dot, a, b)", b="dot_vjp_a(g, a, b_dot)")
vjp("dot_vjp_b(g, a, b)", out=ARRAY, g="np.dot(a, y_bar)", a="dot_vjp_a(g, a, y_bar)")
jvp("dot_vjp_b(g, a, b)", g="dot_vjp_b(g_dot, a, b)", a="dot_vjp_b(g, a_dot, b)")
# vector mode of these helpers: one call per direction (each is linear in the tangent)
for helper in ("matmul_vjp_a", "dot_vjp_a"):
    jvp(helper + "(g, a, b)", batched=True, g=f"each_direction({helper}, 0, g_dot, a, b)",
        b=f"each_direction({helper}, 2, g, a, b_dot)")
for helper in ("matmul_vjp_b", "dot_vjp_b"):
    jvp(helper + "(g, a, b)", batched=True, g=f"each_direction({helper}, 0, g_dot, a, b)",
        a=f"each_direction({helper}, 1, g, a_dot, b)")
vjp("norm_vjp(g, r, x, ord=None, axis=None, keepdims=False)", out=ARRAY,
    g="np.sum(y_bar * norm_vjp(np.ones_like(r), r, x, ord, axis, keepdims), axis=axis, keepdims=keepdims)",
    x="norm_vjp(g, r, y_bar, ord, axis, keepdims)",
    r="-np.sum(y_bar * norm_vjp(g, r * r, x, ord, axis, keepdims), axis=axis, keepdims=keepdims)")
supported("norm_vjp(g, r, x, ord=None, axis=None, keepdims=False)", ord=(None, 2, "fro"))
jvp("norm_vjp(g, r, x, ord=None, axis=None, keepdims=False)",
    g="norm_vjp(g_dot, r, x, ord, axis, keepdims)", x="norm_vjp(g, r, x_dot, ord, axis, keepdims)",
    r="-norm_vjp(g * r_dot, r * r, x, ord, axis, keepdims)")
# (in patterns, a parameter must not be called y: y is the primitive's own result)
jvp("solve_vjp_a(g, a, sol)", g="solve_vjp_a(g_dot, a, sol)", sol="solve_vjp_a(g, a, sol_dot)",
    a="solve_vjp_a_along(g, a, a_dot, sol)")
jvp("solve_vjp_a(g, a, sol)", batched=True, g="each_direction(solve_vjp_a, 0, g_dot, a, sol)",
    sol="each_direction(solve_vjp_a, 2, g, a, sol_dot)",
    a="each_direction(solve_vjp_a_along, 2, g, a, a_dot, sol)")
jvp("solve_vjp_b(g, a, b)", g="solve_vjp_b(g_dot, a, b)", a="solve_vjp_b_along(g, a, a_dot, b)")
jvp("solve_vjp_b(g, a, b)", batched=True, g="each_direction(solve_vjp_b, 0, g_dot, a, b)",
    a="each_direction(solve_vjp_b_along, 2, g, a, a_dot, b)")
vjp("untranspose(g, axes=None)", out=ARRAY, g="transpose_dims(y_bar, axes)")
jvp("untranspose(g, axes=None)", g="untranspose(g_dot, axes)")
vjp("transpose_dims(t, axes=None, batch_dims=0)", out=ARRAY, t="untranspose(y_bar, axes)",
    when=dict(batch_dims=0))
jvp("transpose_dims(t, axes=None, batch_dims=0)", t="transpose_dims(t_dot, axes, batch_dims)")
jvp("transpose_dims(t, axes=None, batch_dims=0)", batched=True,
    t="transpose_dims(t_dot, axes, batch_dims + 1)")
jvp("concat_part(g, arrays, i, axis=0)", g="concat_part(g_dot, arrays, i, axis)")

# --- the NumPy calls adjoint templates write --------------------------------------------------
vjp("np.full(shape, fill_value)", out=ARRAY, fill_value="unbroadcast(y_bar, fill_value)")
jvp("np.full(shape, fill_value)", fill_value="np.full(shape, fill_value_dot)")
jvp("np.full(shape, fill_value)", batched=True, fill_value="batch_full(shape, fill_value_dot)")
vjp("np.broadcast_to(x, shape)", out=ARRAY, x="unbroadcast(y_bar, x)")
jvp("np.broadcast_to(x, shape)", x="np.broadcast_to(x_dot, shape)")
jvp("np.broadcast_to(x, shape)", batched=True, x="tangents_like(lift_tangents(x_dot, y), y)")
jvp("np.take(a, indices, axis=None)", a="np.take(a_dot, indices, axis)")
jvp("np.take(a, indices, axis=None)", batched=True, a="np.take(a_dot, indices, batch_axis(axis, a))")
vjp("np.swapaxes(a, axis1, axis2)", out=ARRAY, a="np.swapaxes(y_bar, axis1, axis2)")
jvp("np.swapaxes(a, axis1, axis2)", a="np.swapaxes(a_dot, axis1, axis2)")
jvp("np.swapaxes(a, axis1, axis2)", batched=True,
    a="np.swapaxes(a_dot, batch_axis(axis1, a), batch_axis(axis2, a))")
# prod_others is symmetric in its tangents and in the element it leaves out: each derivative
# (tangent or adjoint alike) adds one more tangent
PROD_OTHERS = "prod_others(x, axis=None, t=None, u=None, w=None)"
for batched in (False, True):
    jvp(PROD_OTHERS, batched=batched, when=dict(t=None), x="prod_others(x, axis, x_dot)")
    jvp(PROD_OTHERS, batched=batched, when=dict(u=None), x="prod_others(x, axis, t, x_dot)",
        t="prod_others(x, axis, t_dot)")
    jvp(PROD_OTHERS, batched=batched, when=dict(w=None), x="prod_others(x, axis, t, u, x_dot)",
        t="prod_others(x, axis, t_dot, u)", u="prod_others(x, axis, t, u_dot)")
    jvp(PROD_OTHERS, batched=batched, x="no_derivative('np.prod beyond fourth order')",
        t="prod_others(x, axis, t_dot, u, w)", u="prod_others(x, axis, t, u_dot, w)",
        w="prod_others(x, axis, t, u, w_dot)")
vjp(PROD_OTHERS, out=ARRAY, when=dict(t=None), x="prod_others(x, axis, y_bar)")
vjp(PROD_OTHERS, when=dict(u=None), x="prod_others(x, axis, t, y_bar)", t="prod_others(x, axis, y_bar)")
vjp(PROD_OTHERS, when=dict(w=None), x="prod_others(x, axis, t, u, y_bar)",
    t="prod_others(x, axis, y_bar, u)", u="prod_others(x, axis, t, y_bar)")
vjp(PROD_OTHERS, x="no_derivative('np.prod beyond fourth order')",
    t="prod_others(x, axis, y_bar, u, w)", u="prod_others(x, axis, t, y_bar, w)",
    w="prod_others(x, axis, t, u, y_bar)")
vjp("cast_derivative(g, dtype=None)", out=ARRAY, g="cast_derivative(y_bar, dtype)")
jvp("cast_derivative(g, dtype=None)", g="cast_derivative(g_dot, dtype)")
jvp("cast_derivative(g, dtype=None)", batched=True, g="cast_derivative(g_dot, dtype)")
vjp("tangent_like(t, y)", out=ARRAY, t="unbroadcast(y_bar, t)")
jvp("tangent_like(t, y)", t="tangent_like(t_dot, y)")

# --- list adjoints and tangents (one entry per element of a list) -----------------------------
list_valued("zeros_list", "batch_zeros_list", "add_lists", "list_add_at", "unconcatenate", "fill_list",
            "unstack", "list", "batch_list")
vjp("list(xs)", xs="np.stack(y_bar)", xs_whole="list(y_bar)")
jvp("list(xs)", xs="list(xs_dot)")
jvp("list(xs)", batched=True, xs="batch_list(xs_dot)")
vjp("unstack(g, axis=0)", out=ARRAY, g="np.stack(y_bar, axis=axis)")
jvp("unstack(g, axis=0)", g="unstack(g_dot, axis)")
jvp("unstack(g, axis=0)", batched=True, g="unstack(g_dot, batch_axis(axis, g))")
vjp("add_lists(a, b)", a="y_bar", b="y_bar")
jvp("add_lists(a, b)", a="a_dot", b="b_dot")
jvp("add_lists(a, b)", batched=True, a="a_dot", b="b_dot")
vjp("fill_list(g, xs)", g="sum(y_bar)")
jvp("fill_list(g, xs)", g="fill_list(g_dot, xs)")
jvp("fill_list(g, xs)", batched=True, g="fill_list(g_dot, xs)")
jvp("unconcatenate(g, arrays, axis=0)", g="unconcatenate(g_dot, arrays, axis)")

# --- in place, and no derivative at all -------------------------------------------------------
inplace("accumulate_at(x, index, g)", g="unbroadcast(y_bar[index], g)")
inplace("list_add_at(xs, index, g)", g="y_bar[index]")
nondifferentiable("zeros_like", "extremum_mask", "last_writes", "reversed", "batch_axis", "np.zeros",
                  "np.shape", "zeros_list", "batch_zeros_list")

# s2sad.stop_gradient(x): the value of x, a constant for every derivative (not a runtime name:
# users call it, generated code only copies the call)
from ..runtime import stop_gradient  # noqa: E402
nondifferentiable(stop_gradient)
