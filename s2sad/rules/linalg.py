"""Derivative rules of linear algebra: products, ``np.linalg`` and ``scipy.linalg``.

Matrices may come in stacks (``(..., n, n)``): transposes swap the last two axes.
Templates are written with NumPy calls that have rules themselves, so vector mode
and second order come from the same table.
"""
import scipy.linalg as sla

from .registry import ARRAY, SCALAR, jvp, list_valued, nondifferentiable, supported, vjp

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


T = "np.swapaxes({}, -1, -2)"          # the transpose of a stack of matrices


def t(x):
    return T.format(x)


# --- products written as einsum (any subscripts: repeated labels, ellipses, implicit output) ----
vjp("np.einsum(subscripts, *operands)", out=ARRAY, operands="einsum_vjp(y_bar, subscripts, operands, i)")
jvp("np.einsum(subscripts, *operands)", operands="einsum_jvp(subscripts, operands, operands_dot)")
jvp("np.einsum(subscripts, *operands)", batched=True,
    operands="einsum_jvp(subscripts, operands, operands_dot, 1)")
supported("np.einsum(subscripts, *operands)", subscripts=(str,),
          hint="write the subscripts as a string: np.einsum('ij,jk->ik', a, b), not the "
               "interleaved form np.einsum(a, [0, 1], b, [1, 2], [0, 2])")
for pattern, subscripts in (("np.tensordot(a, b, axes=2)", "tensordot_subscripts(a, b, axes)"),
                            ("np.inner(a, b)", "inner_subscripts(a, b)")):
    vjp(pattern, out=ARRAY, a=f"einsum_vjp(y_bar, {subscripts}, (a, b), 0)",
        b=f"einsum_vjp(y_bar, {subscripts}, (a, b), 1)")
    jvp(pattern, a=f"einsum_jvp({subscripts}, (a, b), (a_dot, None))",
        b=f"einsum_jvp({subscripts}, (a, b), (None, b_dot))")
    jvp(pattern, batched=True, a=f"einsum_jvp({subscripts}, (a, b), (a_dot, None), 1)",
        b=f"einsum_jvp({subscripts}, (a, b), (None, b_dot), 1)")
nondifferentiable("tensordot_subscripts", "inner_subscripts", "multi_dot_subscripts")
MULTI_DOT = "multi_dot_subscripts(arrays)"
vjp("np.linalg.multi_dot(arrays)", out=ARRAY, arrays=f"einsum_vjp(y_bar, {MULTI_DOT}, arrays, i)")
jvp("np.linalg.multi_dot(arrays)", arrays=f"einsum_jvp({MULTI_DOT}, arrays, arrays_dot)")
jvp("np.linalg.multi_dot(arrays)", batched=True, arrays=f"einsum_jvp({MULTI_DOT}, arrays, arrays_dot, 1)")
# einsum_vjp(g, subscripts, operands, k) is linear in g and in each operand but k (a shape)
EVJP = "einsum_vjp(g, subscripts, operands, k)"
vjp(EVJP, out=ARRAY, g="einsum_at(subscripts, operands, k, y_bar)",
    operands="einsum_vjp_other(g, subscripts, operands, k, y_bar, i)")
jvp(EVJP, g="einsum_vjp(g_dot, subscripts, operands, k)",
    operands="einsum_vjp_along(g, subscripts, operands, k, operands_dot)")
jvp(EVJP, batched=True, g="each_direction(einsum_vjp, 0, g_dot, subscripts, operands, k)",
    operands="einsum_vjp_along(g, subscripts, operands, k, operands_dot, 1)")
vjp("np.vdot(a, b)", out=SCALAR, a="np.reshape(y_bar * np.ravel(b), np.shape(a))",
    b="np.reshape(y_bar * np.ravel(a), np.shape(b))")
jvp("np.vdot(a, b)", a="np.vdot(a_dot, b)", b="np.vdot(a, b_dot)")
jvp("np.vdot(a, b)", batched=True, a="np.reshape(a_dot, (len(a_dot), -1)) @ np.ravel(b)",
    b="np.reshape(b_dot, (len(b_dot), -1)) @ np.ravel(a)")
# cross products of 3-vectors along the last axis (broadcasting over the others)
vjp("np.cross(a, b)", out=ARRAY, a="unbroadcast(np.cross(b, y_bar), a)", b="unbroadcast(np.cross(y_bar, a), b)")
jvp("np.cross(a, b)", a="np.cross(a_dot, b)", b="np.cross(a, b_dot)")
jvp("np.cross(a, b)", batched=True, a="np.cross(lift_tangents(a_dot, y), b)",
    b="np.cross(a, lift_tangents(b_dot, y))")

# --- determinants, factorizations and inverses (stacks of matrices) ------------------------------
# slogdet returns (sign, logabsdet): the sign is piecewise constant
vjp("np.linalg.slogdet(a)", out=ARRAY, a=f"np.expand_dims(y_bar[1], (-2, -1)) * {t('np.linalg.inv(a)')}")
SLOGDET_DOT = f"np.sum({t('np.linalg.inv(a)')} * a_dot, axis=(-2, -1))"
jvp("np.linalg.slogdet(a)", a=f"np.stack([0.0 * {SLOGDET_DOT}, {SLOGDET_DOT}])")
jvp("np.linalg.slogdet(a)", batched=True, a=f"np.stack([0.0 * {SLOGDET_DOT}, {SLOGDET_DOT}], axis=1)")
# cholesky reads a's lower triangle (a symmetric matrix m = tril(a) + tril(a, -1)^T): with
# phi(x) = tril(x) with half its diagonal, dL = L phi(L^-1 dm L^-T) and
# m_bar = L^-T phi(L^T L_bar) L^-1, read back onto a's lower triangle
PHI = "(0.5 * (np.tril({0}) + np.tril({0}, -1)))"
S = f"np.linalg.solve({t('y')}, {t('np.linalg.solve(' + t('y') + ', ' + t(PHI.format(t('y') + ' @ y_bar')) + ')')})"
vjp("np.linalg.cholesky(a)", out=ARRAY, a=f"np.tril({S}) + np.tril({t(S)}, -1)")
SYM_DOT = f"(np.tril(a_dot) + {t('np.tril(a_dot, -1)')})"
CHOL_DOT = f"y @ {PHI.format('np.linalg.solve(y, ' + t('np.linalg.solve(y, ' + SYM_DOT + ')') + ')')}"
jvp("np.linalg.cholesky(a)", a=CHOL_DOT)
jvp("np.linalg.cholesky(a)", batched=True, a=CHOL_DOT)
# eigvalsh reads the lower triangle too: w_bar -> V diag(w_bar) V^T, onto the lower triangle
V = "eigh_vectors(a)"
W_BAR_M = f"(({V} * np.expand_dims(y_bar, -2)) @ {t(V)})"
vjp("np.linalg.eigvalsh(a)", out=ARRAY, a=f"np.tril({W_BAR_M}) + np.tril({t(W_BAR_M)}, -1)")
jvp("np.linalg.eigvalsh(a)", a=f"np.sum({V} * ({SYM_DOT} @ {V}), axis=-2)")
jvp("np.linalg.eigvalsh(a)", batched=True, a=f"np.sum({V} * ({SYM_DOT} @ {V}), axis=-2)")
# the pseudo-inverse, where the rank does not change (full rank: the generic case)
P, PT, GT = "y", t("y"), t("y_bar")
vjp("np.linalg.pinv(a)", out=ARRAY,
    a=f"-({PT} @ y_bar @ {PT}) + ({GT} @ {P} @ {PT} - full_rank(a) @ ({P} @ ({GT} @ ({P} @ {PT})))) "
      f"+ ({PT} @ {P} @ {GT} - {PT} @ ({P} @ ({GT} @ ({P} @ a))))")
PINV_DOT = (f"-(full_rank({P}) @ a_dot @ {P}) + {P} @ {PT} @ {t('a_dot')} - {P} @ ({PT} @ ({t('a_dot')} @ (a @ {P}))) "
            f"+ {t('a_dot')} @ {PT} @ {P} - {P} @ (a @ ({t('a_dot')} @ ({PT} @ {P})))")
jvp("np.linalg.pinv(a)", a=PINV_DOT)
jvp("np.linalg.pinv(a)", batched=True, a=PINV_DOT)
# matrix functions: the upper right block of f([[a, e], [0, a]]) is f's derivative along e; its
# adjoint is the same with a^T and the result's adjoint
for pattern, f, fn in (("np.linalg.matrix_power(a, n)", "np.linalg.matrix_power({}, n)", None),
                       ("expm(A)", "expm({})", sla.expm), ("expm(A)", "expm({})", None)):
    x = pattern.split("(")[1].split(",")[0].rstrip(")")
    vjp(pattern, out=ARRAY, function=fn, **{x: "upper_right(" + f.format(f"block_upper({t(x)}, y_bar)") + ")"})
    for batched in (False, True):
        jvp(pattern, batched=batched, function=fn,
            **{x: "upper_right(" + f.format(f"block_upper({x}, {x}_dot)") + ")"})
for batched in (False, True):
    jvp("full_rank(a)", batched=batched, a="a_dot")
    jvp("block_upper(a, e)", batched=batched, a="block_upper(a_dot, None)", e="block_upper(None, e_dot)")
    jvp("upper_right(m)", batched=batched, m="upper_right(m_dot)")
    jvp("block_diag_sum(m)", batched=batched, m="block_diag_sum(m_dot)")
vjp("block_upper(a, e)", out=ARRAY, a="unbroadcast(block_diag_sum(y_bar), a)",
    e="unbroadcast(upper_right(y_bar), e)")
vjp("upper_right(m)", out=ARRAY, m="block_upper(None, y_bar)")
vjp("full_rank(a)", out=ARRAY, a="y_bar")
vjp("block_diag_sum(m)", out=ARRAY, m="block_upper(y_bar, None)")

# --- factorizations with several results: their adjoint (tangent) is a list, one per result ------
# (first order in both modes and vector mode; eigenvectors and singular vectors have no
# derivative at repeated eigen- or singular values: the runtime refuses those points)
list_valued("np.linalg.eigh", "numpy.linalg.eigh", "np.linalg.qr", "numpy.linalg.qr",
            "np.linalg.svd", "numpy.linalg.svd")
for pattern, vjp_helper, jvp_helper in (("np.linalg.eigh(a, UPLO='L')", "eigh_vjp", "eigh_jvp"),
                                        ("np.linalg.qr(a, mode='reduced')", "qr_vjp", "qr_jvp"),
                                        ("np.linalg.svd(a, full_matrices=True, compute_uv=True)",
                                         "svd_vjp", "svd_jvp")):
    vjp(pattern, out=ARRAY, a=f"{vjp_helper}(y_bar, a, y)")
    jvp(pattern, a=f"{jvp_helper}(a, a_dot, y)")
    jvp(pattern, batched=True, a=f"{jvp_helper}(a, a_dot, y)")
supported("np.linalg.eigh(a, UPLO='L')", UPLO=("L",))
supported("np.linalg.qr(a, mode='reduced')", mode=("reduced",))
supported("np.linalg.svd(a, full_matrices=True, compute_uv=True)", full_matrices=(False,), compute_uv=(True,))
# the singular values alone (np.linalg.svdvals, NumPy 2): s_bar -> U diag(s_bar) V^T
vjp("np.linalg.svdvals(x)", out=ARRAY, x="svd_vjp([0.0, y_bar, 0.0], x, svd_vectors(x))")
jvp("np.linalg.svdvals(x)", x="svd_jvp_values(x, x_dot)")
jvp("np.linalg.svdvals(x)", batched=True, x="svd_jvp_values(x, x_dot)")

# --- triangular solves (scipy.linalg): only a's lower (upper) triangle is read ----------------
# x = op(T)^-1 b with op(T) = T (trans=0) or T^T (trans=1): b_bar = op(T)^-T x_bar and
# T_bar = -b_bar x^T (trans=0) or -x b_bar^T (trans=1), kept on the triangle read
ST = "solve_triangular(a, b, trans=0, lower=False)"
COL = "np.reshape({}, (np.shape(a)[-1], -1))"          # a vector as a column
TRANS1 = dict(when=dict(trans=1))
for fn in (sla.solve_triangular, None):
    supported(ST, function=fn, trans=(0, 1))
    vjp(ST, out=ARRAY, function=fn, b="solve_triangular(a, y_bar, 1, lower)",
        a=f"triangle(-({COL.format('solve_triangular(a, y_bar, 1, lower)')} @ {COL.format('y')}.T), lower)")
    vjp(ST, function=fn, **TRANS1, b="solve_triangular(a, y_bar, 0, lower)",
        a=f"triangle(-({COL.format('y')} @ {COL.format('solve_triangular(a, y_bar, 0, lower)')}.T), lower)")
    for batched in (False, True):
        jvp(ST, function=fn, batched=batched,
            b="each_direction(solve_triangular, 1, a, b_dot, trans, lower)" if batched
            else "solve_triangular(a, b_dot, trans, lower)",
            a="each_direction(solve_triangular_dot, 1, a, a_dot, y, trans, lower)" if batched
            else "solve_triangular_dot(a, a_dot, y, trans, lower)")
for batched in (False, True):
    jvp("triangle(m, lower)", batched=batched, m="triangle(m_dot, lower)")
vjp("triangle(m, lower)", out=ARRAY, m="triangle(y_bar, lower)")

# --- scipy.linalg.cho_solve((c, lower), b): c_and_lower a literal pair (c, lower) ----------------
CHO = "cho_solve(c_and_lower, b)"
for fn in (sla.cho_solve, None):
    vjp(CHO, out=ARRAY, function=fn, b="cho_solve(c_and_lower, y_bar)",
        c_and_lower="cho_solve_vjp_c(y_bar, c_and_lower, y, i)")
    jvp(CHO, function=fn, b="cho_solve(c_and_lower, b_dot)",
        c_and_lower="cho_solve_dot(c_and_lower, c_and_lower_dot, y)")
    jvp(CHO, function=fn, batched=True, b="each_direction(cho_solve, 1, c_and_lower, b_dot)",
        c_and_lower="cho_solve_dot(c_and_lower, c_and_lower_dot, y, 1)")

# --- least squares: x, residuals, rank, singular values (full rank: x = pinv(a) b) ---------------
list_valued("np.linalg.lstsq", "numpy.linalg.lstsq")
LSTSQ = "np.linalg.lstsq(a, b, rcond=None)"
vjp(LSTSQ, out=ARRAY, a="lstsq_vjp(y_bar, a, b, y, 'a')", b="lstsq_vjp(y_bar, a, b, y, 'b')")
jvp(LSTSQ, a="lstsq_jvp_a(a, a_dot, b, y)", b="lstsq_jvp_b(a, b, b_dot, y)")
