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

# --- scipy.stats.multivariate_normal.logpdf(x, mean, cov): cov a 2-d matrix (SciPy reads its lower
# triangle); rows of x are samples.  With r = x - mean and s = cov^-1 r (per sample):
# x_bar = -y_bar s, mean_bar = sum y_bar s, cov_bar = -(sum(y_bar) cov^-1 - s^T diag(y_bar) s) / 2
R = "(x - mean)"
S = (f"np.reshape(np.swapaxes(np.linalg.solve(cov, np.swapaxes(np.atleast_2d({R}), -1, -2)), -1, -2), "
     f"np.shape({R}))")
YS = f"(np.expand_dims(y_bar, -1) * {S})"
G = (f"(-0.5 * (np.sum(y_bar) * np.linalg.inv(cov) - "
     f"np.swapaxes(np.atleast_2d({YS}), -1, -2) @ np.atleast_2d({S})))")
DC = "(np.tril(cov_dot) + np.swapaxes(np.tril(cov_dot, -1), -1, -2))"
TRACE = f"np.sum(np.swapaxes(np.linalg.inv(cov), -1, -2) * {DC}, axis=(-2, -1))"
QUAD = f"np.sum({S} * ({S} @ np.swapaxes({DC}, -1, -2)), axis=-1)"
MVN = "logpdf(x, mean, cov)"
vjp(MVN, out=ARRAY, function=stats.multivariate_normal.logpdf, x=f"-{YS}", mean=f"unbroadcast({YS}, mean)",
    cov=f"np.tril({G}) + np.tril(np.swapaxes({G}, -1, -2), -1)")
jvp(MVN, function=stats.multivariate_normal.logpdf, x=f"-np.sum(x_dot * {S}, axis=-1)",
    mean=f"np.sum(mean_dot * {S}, axis=-1)", cov=f"-0.5 * ({TRACE} - {QUAD})")
jvp(MVN, batched=True, function=stats.multivariate_normal.logpdf,
    x=f"-np.sum(lift_tangents(x_dot, {R}) * {S}, axis=-1)",
    mean=f"np.sum(lift_tangents(mean_dot, {R}) * {S}, axis=-1)",
    cov=f"-0.5 * (lift_tangents({TRACE}, y) - {QUAD})")
