"""Derivative rules of NumPy's shape and indexing functions.

Most are *gathers*: every element of the result is a copy of an element of the input,
or a zero (``np.tile``, ``np.pad``, ``np.diag``, ``np.tril``, ``np.sort`` ...).  Their
tangent is the same function of the tangent; their adjoint adds the result's adjoint
back where each element came from: ``unpick(y_bar, picks(x, "tile", reps), x)``, where
``picks`` applies the function to the input's positions (so it is exact for any
argument NumPy accepts) and ``unpick`` / ``pick`` (the scatter and the gather, each the
other's adjoint) carry vector mode and second order.

Conventions: ``np.sort`` at ties gives each tied element the derivative of the position
a stable sort puts it in (JAX's choice); ``np.take`` and ``np.take_along_axis`` with a
repeated index add the adjoints of the copies.
"""
from .registry import ARRAY, SAME, jvp, list_valued, nondifferentiable, supported, vjp

RESHAPED = "np.reshape(a_dot, np.shape(y))"
BATCH_RESHAPED = "np.reshape(a_dot, (len(a_dot),) + np.shape(y))"
UNRESHAPE = "np.reshape(y_bar, np.shape(a))"

# --- reshapes, transposes, joins and casts ---------------------------------------------------
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
jvp("np.concatenate(arrays, axis=0)", batched=True, when=dict(axis=None),
    arrays="batch_join(arrays_dot, arrays, 'ravel')")
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

# --- reshapes that add or remove axes of length one ------------------------------------------
for f in ("np.atleast_1d(a)", "np.atleast_2d(a)", "np.atleast_3d(a)"):
    vjp(f, out=ARRAY, a=UNRESHAPE)
    jvp(f, a=RESHAPED)
    jvp(f, batched=True, a=BATCH_RESHAPED)
vjp("a.squeeze(axis=None)", out=ARRAY, a=UNRESHAPE)
jvp("a.squeeze(axis=None)", a=RESHAPED)
jvp("a.squeeze(axis=None)", batched=True, a=BATCH_RESHAPED)

# --- permutations of axes and elements (each undone by its inverse) --------------------------
vjp("np.moveaxis(a, source, destination)", out=ARRAY, a="np.moveaxis(y_bar, destination, source)")
jvp("np.moveaxis(a, source, destination)", a="np.moveaxis(a_dot, source, destination)")
jvp("np.moveaxis(a, source, destination)", batched=True,
    a="np.moveaxis(a_dot, batch_axis(source, a), batch_axis(destination, a))")
vjp("a.swapaxes(axis1, axis2)", out=ARRAY, a="np.swapaxes(y_bar, axis1, axis2)")
jvp("a.swapaxes(axis1, axis2)", a="np.swapaxes(a_dot, axis1, axis2)")
jvp("a.swapaxes(axis1, axis2)", batched=True,
    a="np.swapaxes(a_dot, batch_axis(axis1, a), batch_axis(axis2, a))")
vjp("np.flip(m, axis=None)", out=ARRAY, m="np.flip(y_bar, axis)")
jvp("np.flip(m, axis=None)", m="np.flip(m_dot, axis)")
jvp("np.flip(m, axis=None)", batched=True, m="np.flip(m_dot, batch_axis(axis, m))")
vjp("np.fliplr(m)", out=ARRAY, m="np.fliplr(y_bar)")
jvp("np.fliplr(m)", m="np.fliplr(m_dot)")
jvp("np.fliplr(m)", batched=True, m="np.flip(m_dot, 2)")
vjp("np.flipud(m)", out=ARRAY, m="np.flipud(y_bar)")
jvp("np.flipud(m)", m="np.flipud(m_dot)")
jvp("np.flipud(m)", batched=True, m="np.flip(m_dot, 1)")
vjp("np.rot90(m, k=1, axes=(0, 1))", out=ARRAY, m="np.rot90(y_bar, -k, axes)")
jvp("np.rot90(m, k=1, axes=(0, 1))", m="np.rot90(m_dot, k, axes)")
jvp("np.rot90(m, k=1, axes=(0, 1))", batched=True, m="np.rot90(m_dot, k, batch_axis(axes, m))")
vjp("np.roll(a, shift, axis=None)", out=ARRAY, a="unpick(y_bar, picks(a, 'roll', shift, axis), a)")
jvp("np.roll(a, shift, axis=None)", a="np.roll(a_dot, shift, axis)")
jvp("np.roll(a, shift, axis=None)", batched=True, a="pick(a_dot, picks(a, 'roll', shift, axis), 1)")

# --- gathers: copies of elements, repeated or dropped, and zeros -------------------------------
GATHERS = {
    "np.tile(A, reps)": ("A", "'tile', reps"),
    "np.repeat(a, repeats, axis=None)": ("a", "'repeat', repeats, axis"),
    "np.take(a, indices, axis=None)": ("a", "'take', indices, axis"),
    "np.take_along_axis(arr, indices, axis)": ("arr", "'take_along_axis', indices, axis"),
    "np.diag(v, k=0)": ("v", "'diag', k"),
    "np.diagonal(a, offset=0, axis1=0, axis2=1)": ("a", "'diagonal', offset, axis1, axis2"),
    "a.diagonal(offset=0, axis1=0, axis2=1)": ("a", "'diagonal', offset, axis1, axis2"),
    "np.tril(m, k=0)": ("m", "'tril', k"),
    "np.triu(m, k=0)": ("m", "'triu', k"),
    "np.sort(a, axis=-1)": ("a", "'sort', axis"),
    "a.repeat(repeats, axis=None)": ("a", "'repeat', repeats, axis"),
    "a.take(indices, axis=None)": ("a", "'take', indices, axis"),
}
for pattern, (x, how) in GATHERS.items():
    index = f"picks({x}, {how})"
    vjp(pattern, out=ARRAY, **{x: f"unpick(y_bar, {index}, {x})"})
    jvp(pattern, **{x: f"pick({x}_dot, {index})"})
    jvp(pattern, batched=True, **{x: f"pick({x}_dot, {index}, 1)"})
# cheaper tangents where the function itself applies to the tangent
for pattern, tangent in (("np.tile(A, reps)", "np.tile(A_dot, reps)"),
                         ("np.repeat(a, repeats, axis=None)", "np.repeat(a_dot, repeats, axis)"),
                         ("np.diag(v, k=0)", "np.diag(v_dot, k)"),
                         ("np.diagonal(a, offset=0, axis1=0, axis2=1)",
                          "np.diagonal(a_dot, offset, axis1, axis2)"),
                         ("np.tril(m, k=0)", "np.tril(m_dot, k)"), ("np.triu(m, k=0)", "np.triu(m_dot, k)")):
    x = tangent.split("(")[1].split("_dot")[0]
    jvp(pattern, **{x: tangent})
# np.pad: constant (its value's adjoint: the sum of the padding's), edge, reflect, symmetric, wrap
PAD = "np.pad(array, pad_width, mode='constant', constant_values=0)"
supported(PAD, mode=("constant", "edge", "reflect", "symmetric", "wrap"))
PAD_INDEX = "picks(array, 'pad', pad_width, mode)"
vjp(PAD, out=ARRAY, array=f"unpick(y_bar, {PAD_INDEX}, array)",
    constant_values=f"pad_fill_vjp(y_bar, {PAD_INDEX}, constant_values)")
jvp(PAD, array=f"pick(array_dot, {PAD_INDEX})", constant_values=f"pad_fill_dot(constant_values_dot, {PAD_INDEX})")
jvp(PAD, batched=True, array=f"pick(array_dot, {PAD_INDEX}, 1)",
    constant_values=f"lift_tangents(constant_values_dot, y) * ({PAD_INDEX} < 0)")

# --- traces and Kronecker products -----------------------------------------------------------
for f in ("np.trace(a, offset=0, axis1=0, axis2=1)", "a.trace(offset=0, axis1=0, axis2=1)"):
    vjp(f, out=ARRAY, a="trace_vjp(y_bar, a, offset, axis1, axis2)")
    jvp(f, a="np.trace(a_dot, offset, axis1, axis2)")
    jvp(f, batched=True, a="np.trace(a_dot, offset, batch_axis(axis1, a), batch_axis(axis2, a))")
vjp("np.kron(a, b)", out=ARRAY, a="kron_vjp_a(y_bar, a, b)", b="kron_vjp_b(y_bar, a, b)")
jvp("np.kron(a, b)", a="np.kron(a_dot, b)", b="np.kron(a, b_dot)")
jvp("np.kron(a, b)", batched=True, a="np.kron(lift_tangents(a_dot, y), b)",
    b="np.kron(a, lift_tangents(b_dot, y))")

# --- joins: concatenations of arrays promoted to 1, 2 or 3 axes ---------------------------------
for how in ("hstack", "vstack", "dstack", "column_stack"):
    vjp(f"np.{how}(arrays)", out=ARRAY, arrays=f"join_part(y_bar, arrays, i, '{how}')",
        arrays_whole=f"unjoin(y_bar, arrays, '{how}')")
    jvp(f"np.{how}(arrays)", arrays=f"np.{how}(arrays_dot)")
    jvp(f"np.{how}(arrays)", batched=True, arrays=f"batch_join(arrays_dot, arrays, '{how}')")

nondifferentiable("picks")

# --- the helpers these derivatives call (so they can be differentiated again) ------------------
for batched in (False, True):
    plus = " + 1" if batched else ""
    jvp("pick(t, index, batch_dims=0)", batched=batched, t=f"pick(t_dot, index, batch_dims{plus})")
    jvp("unpick(g, index, x, batch_dims=0)", batched=batched,
        g=f"unpick(g_dot, index, x, batch_dims{plus})")
    jvp("pad_fill_vjp(g, index, value)", batched=batched, g="pad_fill_vjp(g_dot, index, value)")
    jvp("join_part(g, arrays, i, how)", batched=batched,
        g="each_direction(join_part, 0, g_dot, arrays, i, how)" if batched else "join_part(g_dot, arrays, i, how)")
# the pieces of joins and their placement back (each the other's adjoint; linear in g and p)
vjp("join_part(g, arrays, i, how)", out=ARRAY, g="join_place(y_bar, g, arrays, i, how)")
vjp("join_place(p, g, arrays, i, how)", out=ARRAY, p="join_part(y_bar, arrays, i, how)")
jvp("join_place(p, g, arrays, i, how)", p="join_place(p_dot, g, arrays, i, how)")
jvp("join_place(p, g, arrays, i, how)", batched=True, p="each_direction(join_place, 0, p_dot, g, arrays, i, how)")
vjp("concat_part(g, arrays, i, axis=0)", out=ARRAY, g="concat_place(y_bar, g, arrays, i, axis)")
jvp("concat_part(g, arrays, i, axis=0)", batched=True, g="each_direction(concat_part, 0, g_dot, arrays, i, axis)")
vjp("concat_place(p, g, arrays, i, axis=0)", out=ARRAY, p="concat_part(y_bar, arrays, i, axis)")
jvp("concat_place(p, g, arrays, i, axis=0)", p="concat_place(p_dot, g, arrays, i, axis)")
jvp("concat_place(p, g, arrays, i, axis=0)", batched=True,
    p="each_direction(concat_place, 0, p_dot, g, arrays, i, axis)")
vjp("pick(t, index, batch_dims=0)", out=ARRAY, t="unpick(y_bar, index, t, batch_dims)")
vjp("unpick(g, index, x, batch_dims=0)", out=ARRAY, g="pick(y_bar, index, batch_dims)")
vjp("pad_fill_vjp(g, index, value)", out=ARRAY, g="y_bar * (index < 0)")
vjp("pad_fill_dot(value_dot, index)", out=ARRAY, value_dot="pad_fill_vjp(y_bar, index, value_dot)")
jvp("pad_fill_dot(value_dot, index)", value_dot="pad_fill_dot(value_dot_dot, index)")
vjp("trace_vjp(g, a, offset=0, axis1=0, axis2=1)", out=ARRAY, g="np.trace(y_bar, offset, axis1, axis2)")
jvp("trace_vjp(g, a, offset=0, axis1=0, axis2=1)", g="trace_vjp(g_dot, a, offset, axis1, axis2)")
jvp("trace_vjp(g, a, offset=0, axis1=0, axis2=1)", batched=True,
    g="each_direction(trace_vjp, 0, g_dot, a, offset, axis1, axis2)")
# kron_vjp_a(g, a, b) is bilinear in g and b (a gives a shape); kron_vjp_b in g and a
vjp("kron_vjp_a(g, a, b)", out=ARRAY, g="np.kron(y_bar, b)", b="kron_vjp_b(g, y_bar, b)")
jvp("kron_vjp_a(g, a, b)", g="kron_vjp_a(g_dot, a, b)", b="kron_vjp_a(g, a, b_dot)")
jvp("kron_vjp_a(g, a, b)", batched=True, g="each_direction(kron_vjp_a, 0, g_dot, a, b)",
    b="each_direction(kron_vjp_a, 2, g, a, b_dot)")
vjp("kron_vjp_b(g, a, b)", out=ARRAY, g="np.kron(a, y_bar)", a="kron_vjp_a(g, a, y_bar)")
jvp("kron_vjp_b(g, a, b)", g="kron_vjp_b(g_dot, a, b)", a="kron_vjp_b(g, a_dot, b)")
jvp("kron_vjp_b(g, a, b)", batched=True, g="each_direction(kron_vjp_b, 0, g_dot, a, b)",
    a="each_direction(kron_vjp_b, 1, g, a_dot, b)")

# --- splits: a list of pieces (list adjoints and tangents); each undone by its join -------------
list_valued("np.split", "np.array_split", "np.hsplit", "np.vsplit", "np.dsplit",
            "numpy.split", "numpy.array_split", "numpy.hsplit", "numpy.vsplit", "numpy.dsplit")
for f in ("np.split", "np.array_split"):
    pattern = f + "(ary, indices_or_sections, axis=0)"
    vjp(pattern, out=ARRAY, ary="np.concatenate(y_bar, axis=axis)")
    jvp(pattern, ary=f"{f}(ary_dot, indices_or_sections, axis)")
    jvp(pattern, batched=True, ary=f"{f}(ary_dot, indices_or_sections, batch_axis(axis, ary))")
for how, join in (("hsplit", "hstack"), ("vsplit", "vstack"), ("dsplit", "dstack")):
    pattern = f"np.{how}(ary, indices_or_sections)"
    vjp(pattern, out=ARRAY, ary=f"np.{join}(y_bar)")
    jvp(pattern, ary=f"np.{how}(ary_dot, indices_or_sections)")
    jvp(pattern, batched=True, ary=f"np.split(ary_dot, indices_or_sections, split_axis(ary, '{how}') + 1)")
nondifferentiable("split_axis")

# --- np.meshgrid(*xi, indexing): a list of grids (first order; its adjoint sums each grid back) --
list_valued("np.meshgrid", "numpy.meshgrid")
MESHGRID = "np.meshgrid(*xi, indexing='xy')"
vjp(MESHGRID, out=ARRAY, xi="meshgrid_vjp(y_bar, xi, i, indexing)")
jvp(MESHGRID, xi="meshgrid_jvp(xi, xi_dot, indexing)")
jvp(MESHGRID, batched=True, xi="meshgrid_jvp(xi, xi_dot, indexing, 1)")
