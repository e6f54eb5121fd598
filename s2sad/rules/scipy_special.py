"""Derivative rules of ``scipy.special`` and ``scipy.stats.norm``.

Each rule is registered for the function object (``function=``), never by
differentiating SciPy's own source.  Templates call NumPy and the runtime
helpers ``digamma`` / ``polygamma`` (SciPy's, imported when first called), which
have rules too, so second order comes from the same table.

Conventions at kinks: none of these functions has one inside its domain; at the
domain's edge (``logit(0)``, ``erfinv(1)``, ``xlogy(0, 0)``) the derivative is
what the formula gives (``inf`` or ``nan``), as in JAX.
"""
import scipy.special as sp
import scipy.stats as stats

from .registry import ARRAY, SAME, jvp, supported, vjp

E = dict(elementwise=True)
SQRT_2PI = "2.5066282746310002"          # sqrt(2 pi)
TWO_OVER_SQRT_PI = "1.1283791670955126"  # 2 / sqrt(pi)
SQRT_PI_OVER_2 = "0.886226925452758"     # sqrt(pi) / 2


def elementwise(pattern, function, **derivatives):
    """An elementwise rule in both modes: ``derivatives`` maps each parameter to its partial
    derivative ``d y / d param`` (a template); the adjoint is ``y_bar * d`` and the tangent
    ``param_dot * d``."""
    vjp(pattern, **E, function=function, **{p: f"y_bar * ({d})" for p, d in derivatives.items()})
    jvp(pattern, **E, function=function, **{p: f"{p}_dot * ({d})" for p, d in derivatives.items()})


elementwise("expit(x)", sp.expit, x="y * (1.0 - y)")
elementwise("logit(x)", sp.logit, x="1.0 / (x * (1.0 - x))")
elementwise("erf(x)", sp.erf, x=f"{TWO_OVER_SQRT_PI} * np.exp(-(x * x))")
elementwise("erfc(x)", sp.erfc, x=f"-({TWO_OVER_SQRT_PI} * np.exp(-(x * x)))")
elementwise("erfinv(x)", sp.erfinv, x=f"{SQRT_PI_OVER_2} * np.exp(y * y)")
elementwise("ndtr(x)", sp.ndtr, x=f"np.exp(-0.5 * (x * x)) / {SQRT_2PI}")
elementwise("log_ndtr(x)", sp.log_ndtr, x=f"np.exp(-0.5 * (x * x) - y) / {SQRT_2PI}")
# (parameters a, b: in a template y is the result, so scipy's xlogy(x, y) is xlogy(a, b))
elementwise("xlogy(a, b)", sp.xlogy, a="np.log(b)", b="a / b")
elementwise("xlog1py(a, b)", sp.xlog1py, a="np.log1p(b)", b="a / (1.0 + b)")
elementwise("gammaln(x)", sp.gammaln, x="digamma(x)")
elementwise("betaln(a, b)", sp.betaln, a="digamma(a) - digamma(a + b)",
            b="digamma(b) - digamma(a + b)")
# SciPy's digamma and polygamma, and the runtime helpers of those names derivatives call
# (polygamma(n, x): n is an integer order, no derivative)
for fn in (sp.digamma, sp.psi, None):
    elementwise("digamma(x)", fn, x="polygamma(1, x)")
for fn in (sp.polygamma, None):
    elementwise("polygamma(n, x)", fn, x="polygamma(n + 1, x)")

# --- softmax and friends (reductions along axis; vector mode sums past the directions) -------
vjp("softmax(x, axis=None)", out=SAME, function=sp.softmax,
    x="y * (y_bar - np.sum(y_bar * y, axis=axis, keepdims=True))")
jvp("softmax(x, axis=None)", function=sp.softmax,
    x="y * (x_dot - np.sum(x_dot * y, axis=axis, keepdims=True))")
jvp("softmax(x, axis=None)", batched=True, function=sp.softmax,
    x="y * (x_dot - np.sum(x_dot * y, axis=batch_axis(axis, x), keepdims=True))")
vjp("log_softmax(x, axis=None)", out=SAME, function=sp.log_softmax,
    x="y_bar - np.exp(y) * np.sum(y_bar, axis=axis, keepdims=True)")
jvp("log_softmax(x, axis=None)", function=sp.log_softmax,
    x="x_dot - np.sum(x_dot * np.exp(y), axis=axis, keepdims=True)")
jvp("log_softmax(x, axis=None)", batched=True, function=sp.log_softmax,
    x="x_dot - np.sum(x_dot * np.exp(y), axis=batch_axis(axis, x), keepdims=True)")

# logsumexp(a, axis, b, keepdims): y = log(sum(b * exp(a))); each element's weight in the sum
# is b * exp(a - y) (y spread back over the reduced axes).  With b, a and b broadcast together
# (ab: their broadcast shape) and each adjoint is summed back to its own shape.
LSE = "logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False)"
supported(LSE, function=sp.logsumexp, return_sign=(False,))
WEIGHT = "np.exp(a - unreduce(y, a, axis, keepdims))"
AB = "(a * b)"
B_WEIGHT = f"np.exp(a - unreduce(y, {AB}, axis, keepdims))"
B_SPREAD = f"unreduce(y_bar, {AB}, axis, keepdims)"
vjp(LSE, out=ARRAY, function=sp.logsumexp, a=f"unbroadcast({B_SPREAD} * (b * {B_WEIGHT}), a)",
    b=f"unbroadcast({B_SPREAD} * {B_WEIGHT}, b)")
vjp(LSE, function=sp.logsumexp, when=dict(b=None), a=f"unreduce(y_bar, a, axis, keepdims) * {WEIGHT}")
jvp(LSE, function=sp.logsumexp, a=f"np.sum(a_dot * (b * {B_WEIGHT}), axis=axis, keepdims=keepdims)",
    b=f"np.sum(b_dot * {B_WEIGHT}, axis=axis, keepdims=keepdims)")
jvp(LSE, function=sp.logsumexp, when=dict(b=None),
    a=f"np.sum(a_dot * {WEIGHT}, axis=axis, keepdims=keepdims)")
jvp(LSE, batched=True, function=sp.logsumexp,
    a=f"np.sum(lift_tangents(a_dot, {AB}) * (b * {B_WEIGHT}), axis=batch_axis(axis, {AB}), "
      "keepdims=keepdims)",
    b=f"np.sum(lift_tangents(b_dot, {AB}) * {B_WEIGHT}, axis=batch_axis(axis, {AB}), keepdims=keepdims)")
jvp(LSE, batched=True, function=sp.logsumexp, when=dict(b=None),
    a=f"np.sum(a_dot * {WEIGHT}, axis=batch_axis(axis, a), keepdims=keepdims)")

# --- scipy.stats.norm (elementwise in x, loc and scale; z = (x - loc) / scale) ---------------
Z = "((x - loc) / scale)"
PHI = f"(np.exp(-0.5 * ({Z} * {Z})) / {SQRT_2PI})"
elementwise("logpdf(x, loc=0.0, scale=1.0)", stats.norm.logpdf, x=f"-{Z} / scale", loc=f"{Z} / scale",
            scale=f"({Z} * {Z} - 1.0) / scale")
elementwise("pdf(x, loc=0.0, scale=1.0)", stats.norm.pdf, x=f"-(y * {Z}) / scale", loc=f"y * {Z} / scale",
            scale=f"y * ({Z} * {Z} - 1.0) / scale")
elementwise("cdf(x, loc=0.0, scale=1.0)", stats.norm.cdf, x=f"{PHI} / scale", loc=f"-{PHI} / scale",
            scale=f"-({PHI} * {Z}) / scale")
elementwise("logcdf(x, loc=0.0, scale=1.0)", stats.norm.logcdf, x=f"{PHI} / (np.exp(y) * scale)",
            loc=f"-{PHI} / (np.exp(y) * scale)", scale=f"-({PHI} * {Z}) / (np.exp(y) * scale)")
