"""Linear algebra rules (s2sad/rules/linalg.py), on single matrices and stacks, checked
against finite differences in reverse, forward, vector mode and second order
(tests/rules_table.py), and refusals."""
import numpy as np

from rules_table import Entry, Table, table_tests

A = "any"
S34, S4, S3, S234 = ((3, 4), A), ((4,), A), ((3,), A), ((2, 3, 4), A)
WC3, WC23 = ((3, 3), "wellcond"), ((2, 3, 3), "wellcond")
SPD3, SPD23 = ((3, 3), "spd"), ((2, 3, 3), "spd")

ENTRIES = [
    Entry("einsum_matmul", "np.einsum('ij,jk->ik', x, z)", {"x": S34, "z": ((4, 2), A)}),
    Entry("einsum_implicit", "np.einsum('ij,jk', x, z)", {"x": S34, "z": ((4, 2), A)}),
    Entry("einsum_trace", "np.einsum('ii', x)", {"x": WC3}),
    Entry("einsum_diag", "np.einsum('ii->i', x)", {"x": WC3}),
    Entry("einsum_sum", "np.einsum('ijk->j', x)", {"x": S234}),
    Entry("einsum_outer", "np.einsum('i,j->ij', x, z)", {"x": S3, "z": S4}),
    Entry("einsum_ellipsis", "np.einsum('...ij,...jk->...ik', x, z)", {"x": S234, "z": ((4, 2), A)}),
    Entry("einsum_bcast", "np.einsum('...i,i->...', x, z)", {"x": ((1, 3, 4), A), "z": S4}),
    Entry("einsum_three", "np.einsum('ij,jk,k->i', x, z, u)", {"x": S34, "z": ((4, 2), A), "u": ((2,), A)}),
    Entry("einsum_same_twice", "np.einsum('ij,ij->', x, x)", {"x": S34}),
    Entry("einsum_repeat_mixed", "np.einsum('iij,j->ij', x, z)", {"x": ((3, 3, 2), A), "z": ((2,), A)}),
    Entry("tensordot", "np.tensordot(x, z)", {"x": S234, "z": ((3, 4, 2), A)}),
    Entry("tensordot_axes", "np.tensordot(x, z, axes=([0, 2], [1, 0]))", {"x": S234, "z": ((4, 2), A)}),
    Entry("tensordot_int", "np.tensordot(x, z, 1)", {"x": S34, "z": ((4, 2), A)}),
    Entry("inner", "np.inner(x, z)", {"x": S34, "z": ((2, 4), A)}),
    Entry("inner_vec", "np.inner(x, z)", {"x": S4, "z": S4}),
    Entry("vdot", "np.vdot(x, z)", {"x": S34, "z": ((4, 3), A)}),
    Entry("multi_dot", "np.linalg.multi_dot([x, z, u])", {"x": S34, "z": ((4, 2), A), "u": ((2, 3), A)}),
    Entry("multi_dot_vec", "np.linalg.multi_dot([x, z, u])", {"x": S3, "z": S34, "u": S4}),
    Entry("cross", "np.cross(x, z)", {"x": ((4, 3), A), "z": S3}),
    Entry("dot", "np.dot(x, z)", {"x": S234, "z": ((4, 2), A)}),
    Entry("outer", "np.outer(x, z)", {"x": S3, "z": S4}),
    Entry("matmul_stack", "x @ z", {"x": S234, "z": ((4, 2), A)}),
    Entry("inv_stack", "np.linalg.inv(x)", {"x": WC23}),
    Entry("det_stack", "np.linalg.det(x)", {"x": WC23}),
    Entry("solve_stack", "np.linalg.solve(x, z)", {"x": WC23, "z": ((2, 3, 2), A)}, rr=False),
    Entry("slogdet", "np.linalg.slogdet(x)[1]", {"x": WC3}),
    Entry("slogdet_stack", "np.linalg.slogdet(x)[1] * np.linalg.slogdet(x)[0]", {"x": WC23}),
    Entry("cholesky", "np.linalg.cholesky(x)", {"x": SPD3}),
    Entry("cholesky_stack", "np.linalg.cholesky(x)", {"x": SPD23}),
    Entry("eigvalsh", "np.linalg.eigvalsh(x)", {"x": SPD3}, second=False),
    Entry("eigvalsh_stack", "np.linalg.eigvalsh(x)", {"x": SPD23}, second=False),
    Entry("pinv", "np.linalg.pinv(x)", {"x": S34}),
    Entry("pinv_tall", "np.linalg.pinv(x)", {"x": ((2, 4, 3), A)}),
    Entry("matrix_power", "np.linalg.matrix_power(x, 3)", {"x": S3 and ((3, 3), A)}),
    Entry("matrix_power_neg", "np.linalg.matrix_power(x, -2)", {"x": WC23}),
    Entry("matrix_power_zero", "np.linalg.matrix_power(x, 0) * x", {"x": WC3}),
    Entry("expm", "scipy.linalg.expm(x)", {"x": ((3, 3), "unit")}),
    Entry("expm_stack", "scipy.linalg.expm(x)", {"x": ((2, 3, 3), "unit")}),
    Entry("solve_triangular", "scipy.linalg.solve_triangular(x, z, lower=True)",
          {"x": ((3, 3), "lower"), "z": S3}),
    Entry("solve_triangular_upper", "scipy.linalg.solve_triangular(x, z)", {"x": WC3, "z": ((3, 2), A)}),
    Entry("solve_triangular_trans", "scipy.linalg.solve_triangular(x, z, trans=1, lower=True)",
          {"x": ((3, 3), "lower"), "z": ((3, 2), A)}),
    Entry("cho_solve", "scipy.linalg.cho_solve((x, True), z)", {"x": ((3, 3), "lower"), "z": S3},
          second=False),
    Entry("cho_solve_upper", "scipy.linalg.cho_solve((x, False), z)",
          {"x": ((3, 3), "wellcond"), "z": ((3, 2), A)}, second=False),
    Entry("cholesky_then_cho_solve", "scipy.linalg.cho_solve((np.linalg.cholesky(x), True), z)",
          {"x": SPD3, "z": S3}, second=False),
    Entry("lstsq", "lstsq_fn(x, z)", {"x": ((5, 3), A), "z": ((5,), A)}, second=False, jac=False),
    Entry("lstsq_matrix", "lstsq_fn(x, z)", {"x": ((5, 3), A), "z": ((5, 2), A)}, second=False, jac=False),
    Entry("lstsq_wide", "lstsq_fn(x, z)", {"x": ((2, 4), A), "z": ((2,), A)}, second=False, jac=False),
    # several results: functions of them that do not depend on the eigen/singular vectors' signs
    Entry("eigh", "eigh_fn(x)", {"x": SPD3}, second=False),
    Entry("eigh_stack", "eigh_fn(x)", {"x": SPD23}, second=False),
    Entry("qr", "qr_fn(x)", {"x": ((4, 3), A)}, second=False),
    Entry("qr_stack", "qr_fn(x)", {"x": ((2, 3, 3), "wellcond")}, second=False),
    Entry("svd", "svd_fn(x)", {"x": ((4, 3), A)}, second=False),
    Entry("svd_wide", "svd_fn(x)", {"x": ((2, 5), A)}, second=False),
    Entry("svd_stack", "svd_fn(x)", {"x": ((2, 3, 2), A)}, second=False),
    Entry("svdvals", "np.linalg.svdvals(x)", {"x": ((4, 3), A)}, second=False),
]
TABLE = Table(ENTRIES, "linalg_table")
test_grad, test_jvp, test_jacfwd, test_second_order, test_float32 = table_tests(TABLE)
