"""Derivative rules of NumPy's reductions and scans (sum, mean, var, cumsum, diff, norm ...).

A reduction spreads its adjoint back over the reduced axes with ``unreduce``; its
tangent reduces the tangent, and vector mode shifts the axes past the directions
(``batch_axis``).  Ties of max/min/ptp/median/percentile split the derivative evenly
among the tied elements (JAX does the same for max and min).  Patterns list NumPy's
positional parameters in NumPy's order; ``dtype`` and ``out`` must be left None.
"""
import numpy as np

from .registry import jvp, nondifferentiable, note, refuse, supported, vjp

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
# NumPy's positional order (a, axis, dtype, out, keepdims, initial, where): a dtype passed by
# position is refused, never taken for keepdims; where= masks the reduction
SUM = "np.sum(x, axis=None, dtype=None, out=None, keepdims=False, initial=0, where=True)"
SUM_M = "x.sum(axis=None, dtype=None, out=None, keepdims=False, initial=0, where=True)"
MEAN = "np.mean(x, axis=None, dtype=None, out=None, keepdims=False, where=True)"
MEAN_M = "x.mean(axis=None, dtype=None, out=None, keepdims=False, where=True)"
PROD = "np.prod(x, axis=None, dtype=None, out=None, keepdims=False)"
PROD_M = "x.prod(axis=None, dtype=None, out=None, keepdims=False)"
for f in (SUM, SUM_M, MEAN, MEAN_M, PROD, PROD_M):
    supported(f, dtype=(None,), out=(None,), **({"initial": (0,)} if "initial" in f else {}))
# cases, the first that fits wins: a full reduction of an array (its adjoint is a scalar, spread
# evenly), then no mask, then the general templates
FULL = dict(ndim=("+",), when=dict(axis=None, keepdims=False, where=True))
FULL_1D = dict(ndim=(1,), when=dict(axis=None, keepdims=False, where=True))
ALL = dict(when=dict(axis=None, keepdims=False, where=True))
PLAIN = dict(when=dict(where=True))
COUNT_WHERE = "np.sum(np.broadcast_to(where, np.shape(x)), axis=axis, keepdims=True)"
for f, dot in ((SUM, "np.sum(x_dot, "), (SUM_M, "x_dot.sum(")):
    vjp(f, **FULL, out=REDUCE, x="np.full(x.shape, y_bar)")
    vjp(f, **PLAIN, out=REDUCE, x=SPREAD)
    vjp(f, out=REDUCE, x=SPREAD + " * where")
    jvp(f, **ALL, x=dot.replace(", ", "") + ")")
    jvp(f, **PLAIN, x=dot + "axis=axis, keepdims=keepdims)")
    jvp(f, x=dot + "axis=axis, keepdims=keepdims, where=where)")
    jvp(f, batched=True, **FULL_1D, x=dot + "axis=1)")
    jvp(f, batched=True, **PLAIN, x=BATCH_SUM)
    jvp(f, batched=True, x="np.sum(x_dot, axis=batch_axis(axis, x), keepdims=keepdims, where=where)")
for f, dot in ((MEAN, "np.mean(x_dot, "), (MEAN_M, "x_dot.mean(")):
    vjp(f, **FULL, out=REDUCE, x="np.full(x.shape, y_bar / x.size)")
    vjp(f, **PLAIN, out=REDUCE, x=SPREAD + " * (np.size(y) / np.size(x))")
    vjp(f, out=REDUCE, x=f"{SPREAD} * where / {COUNT_WHERE}")
    jvp(f, **ALL, x=dot.replace(", ", "") + ")")
    jvp(f, **PLAIN, x=dot + "axis=axis, keepdims=keepdims)")
    jvp(f, x=dot + "axis=axis, keepdims=keepdims, where=where)")
    jvp(f, batched=True, **PLAIN, x=BATCH_MEAN)
    jvp(f, batched=True, x="np.mean(x_dot, axis=batch_axis(axis, x), keepdims=keepdims, where=where)")
for f in (PROD, PROD_M):
    vjp(f, when=dict(axis=None, keepdims=False), x="y_bar * prod_others(x)")
    jvp(f, when=dict(axis=None, keepdims=False), x="np.sum(x_dot * prod_others(x))")
    vjp(f, out=REDUCE, x=PROD_BAR)
    jvp(f, x=PROD_DOT)
    jvp(f, batched=True, x=BATCH_PROD_DOT)
EXTREMUM = SPREAD + " * extremum_mask(y, x, axis, keepdims)"
for pattern in ("np.max(x, axis=None, keepdims=False)", "np.amax(x, axis=None, keepdims=False)",
                "np.min(x, axis=None, keepdims=False)", "np.amin(x, axis=None, keepdims=False)",
                "x.max(axis=None, keepdims=False)", "x.min(axis=None, keepdims=False)"):
    vjp(pattern, out=REDUCE, x=EXTREMUM)
    jvp(pattern, x="np.sum(x_dot * extremum_mask(y, x, axis, keepdims), axis=axis, keepdims=keepdims)")
    jvp(pattern, batched=True, x="np.sum(x_dot * extremum_mask(y, x, axis, keepdims), "
                                 "axis=batch_axis(axis, x), keepdims=keepdims)")


# the 2-norm and Frobenius norm (norm_vjp) have derivatives of every order; the other orders
# (norm_ord_vjp: 1, inf, -inf, 0, -1, other p for vectors; 1, -1, 2, -2, inf, -inf, "nuc" for
# matrices) second order, but matrix 2, -2 and "nuc" (singular vectors) first only
NORM = "np.linalg.norm(x, ord=None, axis=None, keepdims=False)"
NORM_DOT = "np.sum(x_dot * {f}(np.ones_like(y), y, x, ord, axis, keepdims), axis={axis}, keepdims=keepdims)"
supported(NORM, ord=(None, 2, "fro", "nuc", 1, -1, -2, np.inf, -np.inf, 0, 3, 4, 0.5))
# ord=2 is the vector 2-norm (norm_vjp, every order) only where x is known to be a vector (1-d,
# or an int axis); else it may be the spectral norm of a matrix: norm_spectral_vjp, first order,
# refused beyond when transforming (and norm_ord_vjp's second order never takes ord=2)
SPECTRAL = dict(when=dict(ord=2))
for case in (dict(when=dict(ord=None)), dict(when=dict(ord="fro")), dict(ndim=(1,), when=dict(ord=2)),
             dict(when=dict(ord=2, axis=int)), SPECTRAL, {}):
    f = "norm_spectral_vjp" if case is SPECTRAL else "norm_vjp" if case else "norm_ord_vjp"
    vjp(NORM, out=REDUCE, **case, x=f"{f}(y_bar, y, x, ord, axis, keepdims)")
    jvp(NORM, **case, x=NORM_DOT.format(f=f, axis="axis"))
    jvp(NORM, batched=True, **case, x=NORM_DOT.format(f=f, axis="batch_axis(axis, x)"))
note(NORM, "ord None, 2 (vectors: 1-d x or an int axis) and 'fro': every order; matrix 2, -2, 'nuc' "
     "(and 2 where x may be a matrix): first order; others: second order; "
     "0 where x is 0 for ord None/2 is nan (as JAX); ties of the largest element, sum or "
     "singular value split evenly (singular values: the first pair)")
# second order of the other orders: norm_ord_vjp(g, y, x) is linear in g; its derivatives in x
# and y (norm_ord_dx, norm_ord_dy) are elementwise, so each is its own transpose
NORM_ORD = "norm_ord_vjp(g, r, x, ord=None, axis=None, keepdims=False)"
ORD_ONES = "norm_ord_vjp(np.ones_like(r), r, x, ord, axis, keepdims)"
supported(NORM_ORD, ord=(None, "fro", 1, -1, np.inf, -np.inf, 0, 3, 4, 0.5),
          hint="np.linalg.norm has second derivatives for ord=2 only where x is known to be a vector "
               "(1-d, or an int axis), and none for the matrix norms 2, -2 and 'nuc'")
vjp(NORM_ORD, g=f"np.sum(y_bar * {ORD_ONES}, axis=axis, keepdims=keepdims)",
    x="norm_ord_dx(g, r, x, y_bar, ord, axis, keepdims)",
    r="np.sum(norm_ord_dy(g, r, x, np.ones_like(r), ord, axis, keepdims) * y_bar, axis=axis, "
      "keepdims=keepdims)")
jvp(NORM_ORD, g="norm_ord_vjp(g_dot, r, x, ord, axis, keepdims)",
    x="norm_ord_dx(g, r, x, x_dot, ord, axis, keepdims)", r="norm_ord_dy(g, r, x, r_dot, ord, axis, keepdims)")
jvp(NORM_ORD, batched=True, g="each_direction(norm_ord_vjp, 0, g_dot, r, x, ord, axis, keepdims)",
    x="each_direction(norm_ord_dx, 3, g, r, x, x_dot, ord, axis, keepdims)",
    r="each_direction(norm_ord_dy, 3, g, r, x, r_dot, ord, axis, keepdims)")
nondifferentiable("norm_ord_dx", "norm_ord_dy", "norm_spectral_vjp")
refuse("norm_spectral_vjp", hint="the spectral norm (np.linalg.norm of a matrix, ord=2) has first derivatives only")
refuse("norm_ord_dx", "norm_ord_dy", hint="np.linalg.norm has derivatives up to second order for this ord; "
       "ord=None, 2 (vectors) and 'fro' have all orders")
# vector mode of norm's adjoint (hessian of a norm): one call per direction (linear in g, x and r_dot)
jvp("norm_vjp(g, r, x, ord=None, axis=None, keepdims=False)", batched=True,
    g="each_direction(norm_vjp, 0, g_dot, r, x, ord, axis, keepdims)",
    x="each_direction(norm_vjp, 2, g, r, x_dot, ord, axis, keepdims)",
    r="-each_direction(norm_vjp, 0, g * r_dot, r * r, x, ord, axis, keepdims)")

# --- variance and standard deviation (ddof), NumPy's positional order -------------------------
CENTRED = "(x - np.mean(x, axis=axis, keepdims=True))"
COUNT = "(np.size(x) / np.size(y) - ddof)"          # elements per group, less ddof
for f in ("np.var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
          "x.var(axis=None, dtype=None, out=None, ddof=0, keepdims=False)"):
    supported(f, dtype=(None,), out=(None,))
    vjp(f, out=REDUCE, x=f"{SPREAD} * ((2.0 / {COUNT}) * {CENTRED})",
        ddof=f"np.sum(y_bar * y / {COUNT})")
    jvp(f, x=f"np.sum(x_dot * {CENTRED}, axis=axis, keepdims=keepdims) * (2.0 / {COUNT})",
        ddof=f"ddof_dot * y / {COUNT}")
    jvp(f, batched=True, x=f"np.sum(x_dot * {CENTRED}, axis=batch_axis(axis, x), keepdims=keepdims)"
                           f" * (2.0 / {COUNT})",
        ddof=f"np.multiply.outer(ddof_dot, y / {COUNT})")
for f in ("np.std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
          "x.std(axis=None, dtype=None, out=None, ddof=0, keepdims=False)"):
    supported(f, dtype=(None,), out=(None,))
    vjp(f, out=REDUCE, x=f"unreduce(y_bar / y, x, axis, keepdims) * ({CENTRED} / {COUNT})",
        ddof=f"np.sum(y_bar * y / (2.0 * {COUNT}))")
    jvp(f, x=f"np.sum(x_dot * {CENTRED}, axis=axis, keepdims=keepdims) / (y * {COUNT})",
        ddof=f"ddof_dot * y / (2.0 * {COUNT})")
    jvp(f, batched=True, x=f"np.sum(x_dot * {CENTRED}, axis=batch_axis(axis, x), keepdims=keepdims)"
                           f" / (y * {COUNT})",
        ddof=f"np.multiply.outer(ddof_dot, y / (2.0 * {COUNT}))")
    note(f, "infinite derivative where all elements of a group are equal (std 0)")

# --- peak to peak, and the nan-ignoring reductions ---------------------------------------------
MAX_MASK = "extremum_mask(np.max(x, axis=axis, keepdims=keepdims), x, axis, keepdims)"
MIN_MASK = "extremum_mask(np.min(x, axis=axis, keepdims=keepdims), x, axis, keepdims)"
PTP = "np.ptp(x, axis=None, out=None, keepdims=False)"
supported(PTP, out=(None,))
vjp(PTP, out=REDUCE, x=f"{SPREAD} * ({MAX_MASK} - {MIN_MASK})")
jvp(PTP, x=f"np.sum(x_dot * ({MAX_MASK} - {MIN_MASK}), axis=axis, keepdims=keepdims)")
jvp(PTP, batched=True, x=f"np.sum(x_dot * ({MAX_MASK} - {MIN_MASK}), axis=batch_axis(axis, x), "
                         "keepdims=keepdims)")
note(PTP, "ties: split evenly among the tied maxima (minima)")
NOT_NAN = "(1.0 - np.isnan(x))"
NAN_COUNT = f"np.sum({NOT_NAN}, axis=axis, keepdims=True)"
for f, scale in (("np.nansum(x, axis=None, dtype=None, out=None, keepdims=False)", ""),
                 ("np.nanmean(x, axis=None, dtype=None, out=None, keepdims=False)", f" / {NAN_COUNT}")):
    supported(f, dtype=(None,), out=(None,))
    vjp(f, out=REDUCE, x=f"np.where(np.isnan(x), 0.0, {SPREAD}{scale})")
    jvp(f, x=f"np.sum(np.where(np.isnan(x), 0.0, x_dot{scale}), axis=axis, keepdims=keepdims)")
    jvp(f, batched=True,
        x=f"np.sum(np.where(np.isnan(x), 0.0, x_dot{scale}), axis=batch_axis(axis, x), keepdims=keepdims)")
    note(f, "nan elements get a zero derivative")
# nanprod: the product with nan elements taken as 1 (exact at zeros, like prod); nancumsum: the
# running sum with nan elements taken as 0.  Nan elements get a zero derivative.
ONE_FOR_NAN = "np.where(np.isnan(x), 1.0, x)"
NANPROD = "np.nanprod(x, axis=None, dtype=None, out=None, keepdims=False)"
supported(NANPROD, dtype=(None,), out=(None,))
vjp(NANPROD, out=REDUCE, x=f"np.where(np.isnan(x), 0.0, {SPREAD} * prod_others({ONE_FOR_NAN}, axis))")
jvp(NANPROD, x=f"np.sum(np.where(np.isnan(x), 0.0, x_dot * prod_others({ONE_FOR_NAN}, axis)), axis=axis, "
               "keepdims=keepdims)")
jvp(NANPROD, batched=True, x=f"np.sum(np.where(np.isnan(x), 0.0, x_dot * prod_others({ONE_FOR_NAN}, axis)), "
                             "axis=batch_axis(axis, x), keepdims=keepdims)")
note(NANPROD, "nan elements get a zero derivative; exact where elements are zero")
NANCUMSUM = "np.nancumsum(x, axis=None, dtype=None, out=None)"
supported(NANCUMSUM, dtype=(None,), out=(None,))
vjp(NANCUMSUM, x="np.where(np.isnan(x), 0.0, cumsum_vjp(y_bar, x, axis))")
jvp(NANCUMSUM, x="np.cumsum(np.where(np.isnan(x), 0.0, x_dot), axis=axis)")
jvp(NANCUMSUM, batched=True, x="batch_cumsum(np.where(np.isnan(x), 0.0, x_dot), axis)")
note(NANCUMSUM, "nan elements get a zero derivative")
# nanvar / nanstd: var and std of the elements that are not nan (nan elements: zero derivative)
NAN_CENTRED = "np.where(np.isnan(x), 0.0, x - np.nanmean(x, axis=axis, keepdims=True))"
NAN_DOF = f"({NAN_COUNT} - ddof)"
for f, kind in (("np.nanvar(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False)", "var"),
                ("np.nanstd(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False)", "std")):
    supported(f, dtype=(None,), out=(None,))
    if kind == "var":
        vjp(f, out=REDUCE, x=f"{SPREAD} * (2.0 * {NAN_CENTRED} / {NAN_DOF})")
        scale = f"(2.0 / {NAN_DOF})"
    else:
        vjp(f, out=REDUCE, x=f"unreduce(y_bar / y, x, axis, keepdims) * ({NAN_CENTRED} / {NAN_DOF})")
        scale = f"(1.0 / ({NAN_DOF} * unreduce(y, x, axis, keepdims)))"
    jvp(f, x=f"np.sum(np.where(np.isnan(x), 0.0, x_dot) * ({NAN_CENTRED} * {scale}), axis=axis, "
             "keepdims=keepdims)")
    jvp(f, batched=True, x=f"np.sum(np.where(np.isnan(x), 0.0, x_dot) * ({NAN_CENTRED} * {scale}), "
                           "axis=batch_axis(axis, x), keepdims=keepdims)")
    note(f, "nan elements get a zero derivative" + ("; infinite where std is 0" if kind == "std" else ""))
for f in ("np.nanmax(x, axis=None, out=None, keepdims=False)",
          "np.nanmin(x, axis=None, out=None, keepdims=False)"):
    supported(f, out=(None,))
    vjp(f, out=REDUCE, x=EXTREMUM)
    jvp(f, x="np.sum(x_dot * extremum_mask(y, x, axis, keepdims), axis=axis, keepdims=keepdims)")
    jvp(f, batched=True, x="np.sum(x_dot * extremum_mask(y, x, axis, keepdims), axis=batch_axis(axis, x), "
                           "keepdims=keepdims)")
    note(f, "ties: split evenly; nan elements get a zero derivative")
for f in ("np.max(x, axis=None, keepdims=False)", "np.amax(x, axis=None, keepdims=False)",
          "np.min(x, axis=None, keepdims=False)", "np.amin(x, axis=None, keepdims=False)",
          "x.max(axis=None, keepdims=False)", "x.min(axis=None, keepdims=False)"):
    note(f, "ties: split evenly among the tied elements (as JAX)")
note(PROD, "exact where elements are zero (products of the others)")
note(PROD_M, "exact where elements are zero (products of the others)")

# np.average: the mean without weights; with weights (x's shape, or 1-d along an int axis)
# sum(w x) / sum(w), differentiated in x and in the weights
AVERAGE = "np.average(x, axis=None, weights=None, returned=False, keepdims=False)"
supported(AVERAGE, returned=(False,))
W = "aligned_weights(weights, x, axis)"
W_SUM = f"np.sum({W}, axis=axis, keepdims=True)"
DEVIATION = "(x - unreduce(y, x, axis, keepdims))"
vjp(AVERAGE, out=REDUCE, when=dict(weights=None), x=SPREAD + " * (np.size(y) / np.size(x))")
jvp(AVERAGE, when=dict(weights=None), x="np.mean(x_dot, axis=axis, keepdims=keepdims)")
jvp(AVERAGE, batched=True, when=dict(weights=None), x=BATCH_MEAN)
vjp(AVERAGE, out=REDUCE, x=f"{SPREAD} * ({W} / {W_SUM})",
    weights=f"np.reshape(unbroadcast({SPREAD} * {DEVIATION} / {W_SUM}, {W}), np.shape(weights))")
jvp(AVERAGE, x=f"np.sum(x_dot * {W}, axis=axis, keepdims=keepdims) / np.sum({W}, axis=axis, keepdims=keepdims)",
    weights=f"np.sum(aligned_weights(weights_dot, x, axis) * {DEVIATION}, axis=axis, keepdims=keepdims)"
            f" / np.sum({W}, axis=axis, keepdims=keepdims)")
jvp(AVERAGE, batched=True,
    x=f"np.sum(x_dot * {W}, axis=batch_axis(axis, x), keepdims=keepdims)"
      f" / np.sum({W}, axis=axis, keepdims=keepdims)",
    weights=f"np.sum(each_direction(aligned_weights, 0, weights_dot, x, axis) * {DEVIATION}, "
            f"axis=batch_axis(axis, x), keepdims=keepdims) / np.sum({W}, axis=axis, keepdims=keepdims)")
note(AVERAGE, "returned=True refused")
vjp("aligned_weights(w, x, axis=None)", w="np.reshape(y_bar, np.shape(w))")
jvp("aligned_weights(w, x, axis=None)", w="aligned_weights(w_dot, x, axis)")
jvp("aligned_weights(w, x, axis=None)", batched=True, w="each_direction(aligned_weights, 0, w_dot, x, axis)")

# --- scans and differences (linear: their adjoints are the reversed scans) ----------------------
for f in ("np.cumsum(x, axis=None, dtype=None, out=None)", "x.cumsum(axis=None, dtype=None, out=None)"):
    supported(f, dtype=(None,), out=(None,))
    vjp(f, x="cumsum_vjp(y_bar, x, axis)")
    jvp(f, x="np.cumsum(x_dot, axis=axis)")
    jvp(f, batched=True, x="batch_cumsum(x_dot, axis)")
vjp("cumsum_vjp(g, x, axis=None)", g="np.cumsum(y_bar, axis=axis)")
jvp("cumsum_vjp(g, x, axis=None)", g="cumsum_vjp(g_dot, x, axis)")
jvp("cumsum_vjp(g, x, axis=None)", batched=True, g="each_direction(cumsum_vjp, 0, g_dot, x, axis)")
jvp("batch_cumsum(t, axis=None)", t="batch_cumsum(t_dot, axis)")
for f in ("np.cumprod(x, axis=None, dtype=None, out=None)", "x.cumprod(axis=None, dtype=None, out=None)"):
    supported(f, dtype=(None,), out=(None,))
    vjp(f, x="cumprod_vjp(y_bar, x, axis)")
    jvp(f, x="cumprod_jvp(x_dot, x, axis)")
    jvp(f, batched=True, x="each_direction(cumprod_jvp, 0, x_dot, x, axis)")
    note(f, "exact where elements are zero; first order only")
# their own derivatives are not provided: hessian and grad of grad are refused when transforming
nondifferentiable("cumprod_vjp", "cumprod_jvp")
refuse("cumprod_vjp", "cumprod_jvp", hint="np.cumprod has first derivatives only; for positive x, "
       "write np.exp(np.cumsum(np.log(x), axis)) to differentiate it again")
# with prepend= (append=): the difference of the array NumPy joins from them and x; each gets
# its part of that array's adjoint (diff_part), and puts its tangent in its place (diff_slot)
DIFF = "np.diff(x, n=1, axis=-1, prepend=None, append=None)"
NO_ENDS = dict(when=dict(prepend=None, append=None))
vjp(DIFF, **NO_ENDS, x="diff_vjp(y_bar, n, axis)")
jvp(DIFF, **NO_ENDS, x="np.diff(x_dot, n=n, axis=axis)")
jvp(DIFF, batched=True, **NO_ENDS, x="np.diff(x_dot, n=n, axis=batch_axis(axis, x))")
ENDS = ("x", "prepend", "append")
vjp(DIFF, **{w: f"diff_part(diff_vjp(y_bar, n, axis), x, axis, prepend, append, '{w}')" for w in ENDS})
jvp(DIFF, **{w: f"np.diff(diff_slot({w}_dot, x, axis, prepend, append, '{w}'), n=n, axis=axis)" for w in ENDS})
jvp(DIFF, batched=True, **{w: f"np.diff(diff_slot({w}_dot, x, axis, prepend, append, '{w}'), n=n, "
                              "axis=batch_axis(axis, x))" for w in ENDS})
note(DIFF, "prepend= and append= differentiated (a 0-d one, broadcast by NumPy, gets the sum of its part)")
# diff_part and diff_slot are linear in their first argument and each other's transpose
for helper, other in (("diff_part", "diff_slot"), ("diff_slot", "diff_part")):
    pattern = f"{helper}(g, x, axis, prepend, append, which)"
    vjp(pattern, g=f"{other}(y_bar, x, axis, prepend, append, which)")
    jvp(pattern, g=f"{helper}(g_dot, x, axis, prepend, append, which)")
    jvp(pattern, batched=True, g=f"{helper}(g_dot, x, axis, prepend, append, which)")
vjp("diff_vjp(g, n=1, axis=-1)", g="np.diff(y_bar, n=n, axis=axis)")
jvp("diff_vjp(g, n=1, axis=-1)", g="diff_vjp(g_dot, n, axis)")
jvp("diff_vjp(g, n=1, axis=-1)", batched=True, g="diff_vjp(g_dot, n, batch_axis(axis, g))")

# trapezoid(f, dx, axis) is linear in f and in dx; sample points x are refused
TRAPEZOID = "np.trapezoid(f, x=None, dx=1.0, axis=-1)"
supported(TRAPEZOID, x=(None,))
vjp(TRAPEZOID, out=REDUCE, f="unreduce(y_bar, f, axis) * trapezoid_weights(f, dx, axis)",
    dx="np.sum(y_bar * np.trapezoid(f, axis=axis))")
jvp(TRAPEZOID, f="np.trapezoid(f_dot, dx=dx, axis=axis)", dx="dx_dot * np.trapezoid(f, axis=axis)")
jvp(TRAPEZOID, batched=True, f="np.trapezoid(f_dot, dx=dx, axis=batch_axis(axis, f))",
    dx="np.multiply.outer(dx_dot, np.trapezoid(f, axis=axis))")
note(TRAPEZOID, "sample points x= refused (dx= is differentiated)")
vjp("trapezoid_weights(f, dx=1.0, axis=-1)", dx="np.sum(y_bar * trapezoid_weights(f, 1.0, axis))")
jvp("trapezoid_weights(f, dx=1.0, axis=-1)", dx="dx_dot * trapezoid_weights(f, 1.0, axis)")
jvp("trapezoid_weights(f, dx=1.0, axis=-1)", batched=True,
    dx="np.multiply.outer(dx_dot, trapezoid_weights(f, 1.0, axis))")

# --- median and quantiles (linear interpolation between order statistics) ----------------------
# the weights of the two order statistics are piecewise constant in x: quantile_vjp and
# quantile_jvp are linear in their first argument, with a zero derivative in x away from ties
for f, q, scale in (
        ("np.quantile(x, q, axis=None, out=None, overwrite_input=False, method='linear', keepdims=False)",
         "q", "1.0"),
        ("np.percentile(x, q, axis=None, out=None, overwrite_input=False, method='linear', keepdims=False)",
         "q", "100.0"),
        ("np.median(x, axis=None, out=None, overwrite_input=False, keepdims=False)", "0.5", "1.0")):
    supported(f, out=(None,), overwrite_input=(False,), **({"method": ("linear",)} if "method" in f else {}))
    qs = {"q": f"quantile_dq(y_bar, x, q, axis, keepdims, {scale})"} if q == "q" else {}
    vjp(f, out=REDUCE, x=f"quantile_vjp(y_bar, x, {q}, axis, keepdims, {scale})", **qs)
    jvp(f, x=f"quantile_jvp(x_dot, x, {q}, axis, keepdims, {scale})",
        **({"q": f"quantile_dq(None, x, q, axis, keepdims, {scale}, q_dot)"} if q == "q" else {}))
    jvp(f, batched=True, x=f"each_direction(quantile_jvp, 0, x_dot, x, {q}, axis, keepdims, {scale})",
        **({"q": f"each_direction(quantile_dq, 6, None, x, q, axis, keepdims, {scale}, q_dot)"}
           if q == "q" else {}))
    note(f, "ties: the derivative goes to the tied element sorted first; method='linear' only")
QUANTILE = "quantile_vjp(g, x, q, axis=None, keepdims=False, scale=1.0)"
# (second derivatives in a differentiated q are not provided: no_derivative marks them, refused when
# transforming)
NO_Q = "no_derivative('np.quantile and np.percentile beyond first order in q')"
vjp(QUANTILE, g="quantile_jvp(y_bar, x, q, axis, keepdims, scale)", q=NO_Q)
jvp(QUANTILE, g="quantile_vjp(g_dot, x, q, axis, keepdims, scale)", q=NO_Q)
jvp(QUANTILE, batched=True, g="each_direction(quantile_vjp, 0, g_dot, x, q, axis, keepdims, scale)", q=NO_Q)
QUANTILE_T = "quantile_jvp(t, x, q, axis=None, keepdims=False, scale=1.0)"
vjp(QUANTILE_T, t="quantile_vjp(y_bar, x, q, axis, keepdims, scale)", q=NO_Q)
jvp(QUANTILE_T, t="quantile_jvp(t_dot, x, q, axis, keepdims, scale)", q=NO_Q)
jvp(QUANTILE_T, batched=True, t="each_direction(quantile_jvp, 0, t_dot, x, q, axis, keepdims, scale)", q=NO_Q)
# a differentiated q: first derivatives (its own derivatives are refused when transforming)
nondifferentiable("quantile_dq")
refuse("quantile_dq", hint="np.quantile and np.percentile have first derivatives only in q")
