"""Shape and indexing rules (s2sad/rules/numpy_shape.py), checked against finite differences
in reverse, forward, vector mode and second order (tests/rules_table.py), and refusals."""
import numpy as np
import pytest

from rules_table import Entry, Table

OPT = pytest.mark.parametrize("optimize", [True, False])
A = "any"
S34, S4, S234 = ((3, 4), A), ((4,), A), ((2, 3, 4), A)

ENTRIES = [
    Entry("moveaxis", "np.moveaxis(x, 0, -1)", {"x": S234}),
    Entry("moveaxis_many", "np.moveaxis(x, (0, 1), (2, 0))", {"x": S234}),
    Entry("swapaxes", "np.swapaxes(x, 0, 2)", {"x": S234}),
    Entry("swapaxes_method", "x.swapaxes(1, -1)", {"x": S234}),
    Entry("flip", "np.flip(x)", {"x": S34}),
    Entry("flip_axis", "np.flip(x, axis=1)", {"x": S234}),
    Entry("flip_axes", "np.flip(x, (0, 2))", {"x": S234}),
    Entry("fliplr", "np.fliplr(x)", {"x": S234}),
    Entry("flipud", "np.flipud(x)", {"x": S34}),
    Entry("roll", "np.roll(x, 2)", {"x": S34}),
    Entry("roll_axis", "np.roll(x, -1, axis=1)", {"x": S234}),
    Entry("roll_axes", "np.roll(x, (1, 2), axis=(0, 2))", {"x": S234}),
    Entry("rot90", "np.rot90(x)", {"x": S34}),
    Entry("rot90_k", "np.rot90(x, 3, axes=(1, 2))", {"x": S234}),
    Entry("tile", "np.tile(x, 2)", {"x": S34}),
    Entry("tile_more", "np.tile(x, (2, 1, 3))", {"x": S34}),
    Entry("repeat", "np.repeat(x, 2)", {"x": S34}),
    Entry("repeat_axis", "np.repeat(x, [1, 0, 3], axis=0)", {"x": S34}),
    Entry("repeat_method", "x.repeat(3, axis=1)", {"x": S34}),
    Entry("take", "np.take(x, I3)", {"x": S34}),
    Entry("take_axis", "np.take(x, I23, axis=1)", {"x": S34}),
    Entry("take_method", "x.take(I3, axis=-1)", {"x": S234}),
    Entry("take_along_axis", "np.take_along_axis(x, I23, axis=0)", {"x": ((3, 3), A)}),
    Entry("take_along_axis_none", "np.take_along_axis(x, I3, axis=None)", {"x": S34}),
    Entry("argsort_gather", "np.take_along_axis(x, np.argsort(x, axis=1), axis=1)",
          {"x": ((3, 4), "distinct")}),
    Entry("argsort_index", "x[np.argsort(x)]", {"x": ((6,), "distinct")}),
    Entry("sort", "np.sort(x)", {"x": ((3, 4), "distinct")}),
    Entry("sort_axis0", "np.sort(x, axis=0)", {"x": ((3, 4), "distinct")}),
    Entry("sort_none", "np.sort(x, axis=None)", {"x": ((3, 4), "distinct")}),
    Entry("pad_constant", "np.pad(x, 1)", {"x": S34}),
    Entry("pad_value", "np.pad(x, ((1, 0), (2, 1)), constant_values=z)", {"x": S34, "z": ((), A)}),
    Entry("pad_edge", "np.pad(x, 2, mode='edge')", {"x": S34}),
    Entry("pad_reflect", "np.pad(x, ((1, 2), (3, 1)), mode='reflect')", {"x": S34}),
    Entry("pad_symmetric", "np.pad(x, 2, mode='symmetric')", {"x": S4}),
    Entry("pad_wrap", "np.pad(x, (1, 5), mode='wrap')", {"x": S34}),
    Entry("atleast_1d", "np.atleast_1d(x) * 2.0", {"x": ((), A)}),
    Entry("atleast_2d", "np.atleast_2d(x)", {"x": S4}),
    Entry("atleast_3d", "np.atleast_3d(x)", {"x": S34}),
    Entry("squeeze", "np.squeeze(x)", {"x": ((3, 1, 4), A)}),
    Entry("squeeze_method", "x.squeeze(axis=1)", {"x": ((3, 1, 4), A)}),
    Entry("expand_dims", "np.expand_dims(x, (0, 2))", {"x": S34}),
    Entry("tril", "np.tril(x)", {"x": S34}),
    Entry("tril_k", "np.tril(x, -1)", {"x": S234}),
    Entry("triu", "np.triu(x, 1)", {"x": S34}),
    Entry("triu_vector", "np.triu(x)", {"x": S4}),
    Entry("diag_build", "np.diag(x)", {"x": S4}),
    Entry("diag_build_k", "np.diag(x, -2)", {"x": S4}),
    Entry("diag_read", "np.diag(x)", {"x": S34}),
    Entry("diag_read_k", "np.diag(x, 1)", {"x": S34}),
    Entry("diagonal", "np.diagonal(x)", {"x": S34}),
    Entry("diagonal_axes", "np.diagonal(x, 1, 2, 0)", {"x": S234}),
    Entry("diagonal_method", "x.diagonal(axis1=-2, axis2=-1)", {"x": S234}),
    Entry("trace", "np.trace(x)", {"x": S34}),
    Entry("trace_offset", "np.trace(x, -1)", {"x": ((4, 4), A)}),
    Entry("trace_stack", "np.trace(x, axis1=1, axis2=2)", {"x": S234}),
    Entry("trace_method", "x.trace()", {"x": ((3, 3), A)}),
    Entry("kron", "np.kron(x, z)", {"x": ((2, 3), A), "z": ((3, 2), A)}),
    Entry("kron_vec", "np.kron(x, z)", {"x": ((3,), A), "z": ((2, 2), A)}),
    Entry("hstack", "np.hstack([x, z, x])", {"x": S34, "z": ((3, 2), A)}),
    Entry("hstack_vec", "np.hstack((x, z))", {"x": S4, "z": ((2,), A)}),
    Entry("vstack", "np.vstack([x, z])", {"x": S34, "z": S4}),
    Entry("dstack", "np.dstack([x, z])", {"x": S34, "z": S34}),
    Entry("column_stack", "np.column_stack([x, z])", {"x": S4, "z": ((4, 2), A)}),
    Entry("concatenate_axis1", "np.concatenate([x, z], axis=1)", {"x": S34, "z": ((3, 2), A)}),
    Entry("concatenate_none", "np.concatenate((x, z), axis=None)", {"x": S34, "z": ((2,), A)}),
    Entry("stack_axis", "np.stack([x, z], axis=-1)", {"x": S34, "z": S34}),
    Entry("meshgrid", "meshgrid_fn(x, z)", {"x": S4, "z": ((3,), A)}, second=False),
    Entry("meshgrid_ij", "meshgrid_ij_fn(x, z, u)", {"x": ((2,), A), "z": ((3,), A), "u": S4},
          second=False),
    Entry("split", "split_fn(x)", {"x": ((2, 5), A)}),
    Entry("array_split", "array_split_fn(x)", {"x": ((7, 2), A)}),
    Entry("hsplit", "hsplit_fn(x)", {"x": S34}),
    Entry("hsplit_vec", "hsplit_fn(x)", {"x": S4}),
    Entry("vsplit", "vsplit_fn(x)", {"x": ((3, 4), A)}),
]
TABLE = Table(ENTRIES, "shape_table")


def _ids(entries):
    return [e.id for e in entries]


@OPT
@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_grad(entry, optimize):
    TABLE.check_grad(entry, optimize)


@OPT
@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_jvp(entry, optimize):
    TABLE.check_jvp(entry, optimize)


JAC = [e for e in ENTRIES if e.jac]
SECOND = [e for e in ENTRIES if e.second]
F32 = [e for e in ENTRIES if e.float32]


@pytest.mark.parametrize("entry", JAC, ids=_ids(JAC))
def test_jacfwd(entry):
    TABLE.check_jacfwd(entry, True)


@pytest.mark.parametrize("entry", SECOND, ids=_ids(SECOND))
def test_second_order(entry):
    TABLE.check_second(entry, True)


@pytest.mark.parametrize("entry", F32, ids=_ids(F32))
def test_float32(entry):
    TABLE.check_float32(entry)
