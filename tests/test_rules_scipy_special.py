"""scipy.special and scipy.stats rules, checked against finite differences in reverse,
forward, vector mode and second order (tests/rules_table.py), and refusals."""
import numpy as np
import scipy.special

import s2sad
from rules_table import Entry, Table, table_tests

A = "any"
S34, S4 = ((3, 4), A), ((4,), A)

ENTRIES = [
    Entry("expit", "scipy.special.expit(x)", {"x": S34}),
    Entry("expit_imported", "expit(2.0 * x)", {"x": S4}),
    Entry("logit", "scipy.special.logit(x)", {"x": ((3, 4), "prob")}),
    Entry("erf", "scipy.special.erf(x)", {"x": S34}),
    Entry("erfc", "scipy.special.erfc(x)", {"x": S34}),
    Entry("erfinv", "scipy.special.erfinv(x)", {"x": ((3, 4), "unit")}),
    Entry("gammaln", "scipy.special.gammaln(x)", {"x": ((3, 4), "pos")}),
    Entry("digamma", "scipy.special.digamma(x)", {"x": ((3, 4), "pos")}),
    Entry("psi", "scipy.special.psi(x)", {"x": ((4,), "pos")}),
    Entry("polygamma", "scipy.special.polygamma(2, x)", {"x": ((3, 4), "pos")}),
    Entry("xlogy", "scipy.special.xlogy(x, z)", {"x": S34, "z": ((4,), "pos")}),
    Entry("xlog1py", "scipy.special.xlog1py(x, z)", {"x": S4, "z": ((3, 4), "pos")}),
    Entry("betaln", "scipy.special.betaln(x, z)", {"x": ((3, 4), "pos"), "z": ((3, 1), "pos")}),
    Entry("ndtr", "scipy.special.ndtr(x)", {"x": S34}),
    Entry("log_ndtr", "scipy.special.log_ndtr(x)", {"x": S34}),
    Entry("softmax", "scipy.special.softmax(x)", {"x": S34}),
    Entry("softmax_axis", "scipy.special.softmax(x, axis=1)", {"x": S34}),
    Entry("softmax_axis0", "scipy.special.softmax(x, axis=0)", {"x": ((2, 3, 4), "any")}),
    Entry("log_softmax", "scipy.special.log_softmax(x)", {"x": S34}),
    Entry("log_softmax_axis", "scipy.special.log_softmax(x, axis=-1)", {"x": S34}),
    Entry("logsumexp", "logsumexp(x)", {"x": S34}),
    Entry("logsumexp_vec", "scipy.special.logsumexp(x)", {"x": S4}),
    Entry("logsumexp_axis", "logsumexp(x, axis=1)", {"x": S34}),
    Entry("logsumexp_axes", "logsumexp(x, axis=(0, 2))", {"x": ((2, 3, 4), "any")}),
    Entry("logsumexp_keepdims", "logsumexp(x, axis=0, keepdims=True)", {"x": S34}),
    Entry("logsumexp_b", "logsumexp(x, axis=1, b=z)", {"x": S34, "z": ((3, 4), "pos")}),
    Entry("logsumexp_b_bcast", "logsumexp(x, b=z)", {"x": S34, "z": ((4,), "pos")}),
    Entry("logsumexp_b_bcast_a", "logsumexp(x, axis=0, b=z)", {"x": S4, "z": ((3, 4), "pos")}),
    Entry("logsumexp_b_keep", "logsumexp(x, axis=-1, b=z, keepdims=True)",
          {"x": S34, "z": ((3, 1), "pos")}),
    Entry("norm_logpdf", "scipy.stats.norm.logpdf(x)", {"x": S34}),
    Entry("norm_logpdf_loc_scale", "scipy.stats.norm.logpdf(x, z, u)",
          {"x": S34, "z": S4, "u": ((3, 1), "pos")}),
    Entry("norm_logpdf_kw", "scipy.stats.norm.logpdf(x, loc=0.3, scale=u)", {"x": S34, "u": ((4,), "pos")}),
    Entry("norm_pdf", "scipy.stats.norm.pdf(x, z, u)", {"x": S34, "z": S4, "u": ((3, 1), "pos")}),
    Entry("norm_cdf", "scipy.stats.norm.cdf(x, z, u)", {"x": S34, "z": S4, "u": ((3, 1), "pos")}),
    Entry("mvn_logpdf", "scipy.stats.multivariate_normal.logpdf(x, z, u)",
          {"x": ((5, 3), A), "z": ((3,), A), "u": ((3, 3), "spd")}),
    Entry("mvn_logpdf_vec", "scipy.stats.multivariate_normal.logpdf(x, mean=z, cov=u)",
          {"x": ((3,), A), "z": ((3,), A), "u": ((3, 3), "spd")}),
    Entry("norm_logcdf", "scipy.stats.norm.logcdf(x, z, u)", {"x": S34, "z": S4, "u": ((3, 1), "pos")}),
]
TABLE = Table(ENTRIES, "special_table")
test_grad, test_jvp, test_jacfwd, test_second_order, test_float32 = table_tests(TABLE)
