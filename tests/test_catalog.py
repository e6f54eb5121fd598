"""The soundness catalog (issue 7): plausible programs a user might write, each with
its expectation, checked in every mode.

The programs live in tests/catalog_programs.py (s2sad reads their source).  Each
entry expects one of:

* ``fd``: the derivative matches central finite differences -- reverse mode
  (``grad`` and ``value_and_grad``, the value too), forward mode (``jvp``) and,
  where the function is twice differentiable at the point, ``hessian`` (against a
  mixed second difference of the function itself);
* ``refuse``: an ``S2SADError`` subclass is raised, naming the file and a line
  marked ``# REFUSE`` (found from the source, never a hard-coded number), before
  any of the catalog's code runs (a profiler hook watches every call into
  catalog_programs.py);
* ``sound``: either of the two (the construct may be supported or refused, but a
  wrong value, a bare exception or a refusal at the wrong line fails).

Each mode runs optimized and unoptimized derivatives.  Reverse mode also checks that a
gradient shares no memory with its argument, that a second call agrees with the first
and that no argument was changed.  An entry that fails today is marked
``xfail(strict=True)`` with the reason (tests/catalog_expected_failures.py), so the fix
flips it; ``PYTHONPATH=$PWD python3 tests/sweeps/catalog_failures.py --write`` lists
today's failures afresh and rewrites that file.

The tests after the table change state between two calls of the same derivative (a
module global, a helper rebound in its module, a closure cell, the source file, the
argument shapes) or check that a user's own exception propagates unchanged.
"""
from __future__ import annotations

import ast
import dataclasses
import inspect
import os
import re
import sys

import numpy as np
import pytest

import catalog_programs as P
from catalog_expected_failures import EXPECTED_FAILURES
import s2sad
from s2sad.errors import NotDifferentiableError, S2SADError, UnsupportedSyntaxError
from util import assert_grad_like

CATALOG_FILE = os.path.abspath(P.__file__)
MARKER = "# REFUSE"
MODES = ("reverse", "forward", "hessian")


# --------------------------------------------------------------------------
# where the markers are

def _definition_ranges():
    """Top-level name -> (first line including decorators, last line) in the catalog."""
    with open(CATALOG_FILE) as fh:
        text = fh.read()
    ranges = {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            ranges[node.name] = (first, node.end_lineno)
    return ranges, text.splitlines()


RANGES, LINES = _definition_ranges()


def marker_lines(names):
    """The lines marked ``# REFUSE`` inside the named top-level definitions."""
    out = []
    for name in names:
        first, last = RANGES[name]
        out += [n for n in range(first, last + 1) if MARKER in LINES[n - 1]]
    return out


# --------------------------------------------------------------------------
# the entries

@dataclasses.dataclass
class Case:
    id: str
    fn: object
    args: tuple
    expect: str                       # "fd" | "refuse" | "sound"
    cls: str
    argnums: tuple | None = None
    kwargs: dict = dataclasses.field(default_factory=dict)
    hess: bool = True
    err: type = S2SADError
    at: tuple = ()                    # definitions whose markers a refusal may name
    located: bool = True
    rtol: float = 1e-5
    eps: float = 1e-6
    xfail: dict = dataclasses.field(default_factory=dict)   # mode -> reason
    modes: tuple = MODES

    def __post_init__(self):
        if not self.at:
            name = getattr(self.fn, "__name__", None)
            self.at = (name,) if name in RANGES else ()
        if self.argnums is None:
            self.argnums = tuple(i for i, a in enumerate(self.args) if _float_like(a))


def _float_like(a):
    if isinstance(a, (bool, np.bool_)):
        return False
    if isinstance(a, (float, np.floating)):
        return True
    return isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating)


CLASSES = {}
CASES = []


def entry(cls, expect, fn, *args, id=None, xfail=None, **kw):
    """Add a catalog entry; ``xfail`` is a reason (every mode) or {mode: reason}."""
    if isinstance(xfail, str):
        xfail = {m: xfail for m in MODES}
    case = Case(id or fn.__name__, fn, args, expect, cls, xfail=xfail or {}, **kw)
    assert case.id not in {c.id for c in CASES}, case.id
    CASES.append(case)
    return case


_rng = np.random.default_rng(20261203)


def r(*shape, scale=1.0):
    return _rng.standard_normal(shape) * scale


def well_conditioned(*shape):
    n = shape[-1]
    return np.eye(n) * 3.0 + r(*shape, scale=0.5)


def fd(cls, fn, *args, **kw):
    return entry(cls, "fd", fn, *args, **kw)


def refuse(cls, fn, *args, **kw):
    return entry(cls, "refuse", fn, *args, **kw)


def sound(cls, fn, *args, **kw):
    return entry(cls, "sound", fn, *args, **kw)


# everyday numerics -----------------------------------------------------------
N = "numerics"
fd(N, P.mse, r(3), r(5, 3), r(5))
fd(N, P.huber, np.array([0.3, -2.0, 1.5, -0.4]))
fd(N, P.l2_norm, r(4))
fd(N, P.linalg_norm, r(4))
fd(N, P.l1_norm, r(4))
fd(N, P.softmax_cross_entropy, r(5), 2)
fd(N, P.softmax_weighted, r(4), r(4))
fd(N, P.logsumexp, r(5))
fd(N, P.gaussian_nll, 0.3, -0.2, r(6))
fd(N, P.poisson_nll, r(4, scale=0.3), np.array([1.0, 0.0, 3.0, 2.0]))
fd(N, P.ridge, r(3), r(6, 3), r(6), 0.7)
fd(N, P.logistic_loss, r(3), r(5, 3), np.array([1.0, -1.0, 1.0, 1.0, -1.0]))
fd(N, P.sigmoid_bce, r(3), r(5, 3), np.array([1.0, 0.0, 1.0, 1.0, 0.0]))
fd(N, P.mlp_tanh, r(4, 3), r(4), r(2, 4), r(2), r(3))
fd(N, P.mlp_relu, r(4, 3), r(4), r(4), r(3))
fd(N, P.rnn, r(3, 3, scale=0.5), r(3, 2), r(3), r(4, 2))
fd(N, P.euler_ode, 0.8, 1.2)
fd(N, P.rk4_step, 1.3, 0.7)
fd(N, P.rk4_system, r(3))
fd(N, P.newton_sqrt, 2.7)
fd(N, P.newton_cbrt_fixed, 3.3)
fd(N, P.piecewise, -1.7, id="piecewise_left")
fd(N, P.piecewise, 0.4, id="piecewise_middle")
fd(N, P.piecewise, 2.2, id="piecewise_right")
fd(N, P.clipped_loss, np.array([0.3, -1.7, 2.2, -0.6]))
fd(N, P.horner, r(4), 0.9)
fd(N, P.kl_divergence, r(4), np.array([0.1, 0.2, 0.3, 0.4]))
fd(N, P.cosine_similarity, r(3), r(3))
fd(N, P.softplus_sum, r(4))
fd(N, P.variance_std, r(5))
fd(N, P.cumsum_loss, r(4))
fd(N, P.outer_trace, r(3), r(3))
fd(N, P.quadratic_form, r(3))
fd(N, P.hypot_scalar, 0.6, -1.1)
sound(N, P.einsum_bilinear, r(3), r(3))
fd(N, P.gradient_descent_steps, r(3), 0.1)
fd(N, P.sum_over_axis, r(3, 4))
fd(N, P.max_pooling, r(6))
fd(N, P.exp_decay_sum, 0.4)

# control flow ------------------------------------------------------------------
C = "control flow"
fd(C, P.early_return, 0.7, id="early_return_taken")
fd(C, P.early_return, 0.2, id="early_return_not_taken")
fd(C, P.while_break, 0.6)
fd(C, P.for_continue, 0.8)
fd(C, P.nested_loops, r(3))
fd(C, P.loop_over_rows, r(3, 4))
fd(C, P.for_else, 1.3, id="for_else_no_break")
fd(C, P.for_else, 5.0, id="for_else_break")
fd(C, P.zip_enumerate, r(3), r(3))
fd(C, P.value_dependent_range, 1.3)
fd(C, P.recursive_power, 1.1, 3)
fd(C, P.ternary_and_or, 0.7, 0.3)
fd(C, P.chained_comparison, 0.4)
fd(C, P.while_halving, 5.3)
fd(C, P.array_condition_while, np.array([1.0, 2.0, 0.5]))
fd(C, P.nested_def, 0.9)
fd(C, P.local_lambda, 0.9)
fd(C, P.list_comprehension, 0.8)
fd(C, P.generator_sum, 0.8)
fd(C, P.loop_carried_array, r(3))
fd(C, P.branch_on_array_element, np.array([0.5, 0.2, -0.3]))
fd(C, P.early_return_in_loop, 0.7)

# in-place writes into local arrays ---------------------------------------------------
W = "in-place writes"
fd(W, P.write_elements, 0.7, -0.4)
fd(W, P.write_rows_in_loop, r(3))
fd(W, P.write_slice, r(3))
fd(W, P.scalar_into_row, 0.6, r(3))
fd(W, P.scalar_into_column, 0.6)
fd(W, P.repeated_fancy_add, 0.6, id="repeated_fancy_add_scalar")
fd(W, P.repeated_fancy_add, np.array([0.3, 0.8]), id="repeated_fancy_add_array")
fd(W, P.repeated_fancy_assign, np.array([0.3, 0.8]))
fd(W, P.fancy_index_write, 0.6)
fd(W, P.mask_write, np.array([0.5, -1.0, 2.0, -0.3]))
fd(W, P.inplace_multiply_slice, r(3), 1.4)
fd(W, P.inplace_divide_all, r(3), 1.4)
fd(W, P.overwrite_twice, 0.7)
fd(W, P.copy_then_write, r(3))
fd(W, P.write_2d_element, 0.7)
fd(W, P.negative_index_write, 0.7)
fd(W, P.step_slice_write, r(3))
fd(W, P.augmented_scalar_local, 0.7)
fd(W, P.index_write_from_loop_var, r(3))
fd(W, P.column_slice_add, r(3, 3))

# aliases and views of local arrays (and of arguments) -------------------------------------
V = "aliases and views"
sound(V, P.alias_write, 0.7)
sound(V, P.slice_view_write, 0.7)
sound(V, P.transpose_view_write, 0.7)
sound(V, P.reshape_view_write, 0.7)
sound(V, P.alias_then_iadd, 0.7)
fd(V, P.alias_then_rebind, 0.7)
sound(V, P.row_view_iadd, 0.7)
sound(V, P.column_view_write, 0.7)
sound(V, P.asarray_alias_of_local, 0.7)
sound(V, P.ravel_view_write, 0.7)
sound(V, P.list_alias_write, 0.7)
refuse(V, P.view_of_argument_write, r(3))
refuse(V, P.argument_iadd, r(3))
refuse(V, P.argument_alias_write, r(3))
sound(V, P.flat_write, 0.7)
sound(V, P.view_written_in_loop, 0.7)
sound(V, P.alias_in_branch, 0.6)
fd(V, P.swap_via_tuple, 0.7, -0.4)

# calls with effects --------------------------------------------------------------------
E = "effects"
sound(E, P.add_at_local, r(3))
sound(E, P.copyto_local, r(3))
sound(E, P.fill_local, 0.7)
sound(E, P.out_kwarg_local, r(3))
refuse(E, P.exp_out_argument, r(3))
sound(E, P.exp_out_local, r(3))
sound(E, P.list_extend, 0.7, -0.4)
sound(E, P.list_insert, 0.7, -0.4)
sound(E, P.list_reverse, 0.7, -0.4)
refuse(E, P.sort_argument, np.array([0.3, -0.2, 1.1]))
sound(E, P.sort_local, np.array([0.3, -0.2, 1.1]))
refuse(E, P.setattr_global, 0.7)
sound(E, P.helper_mutates_local, r(3), at=("helper_mutates_local", "_zero_first"))
refuse(E, P.helper_mutates_argument, r(3), at=("helper_mutates_argument", "_zero_first"))
sound(E, P.list_pop, 0.7, -0.4)
sound(E, P.put_local, 0.7)
sound(E, P.list_sort, 0.7, -0.4)
refuse(E, P.global_log_append, 0.7)
refuse(E, P.mutable_default, 0.7)
sound(E, P.attribute_write_local_object, 0.7)
sound(E, P.clip_out_local, np.array([0.3, -0.9, 1.1]))
sound(E, P.cumsum_out, r(3))

# array displays ------------------------------------------------------------------------
D = "array displays"
fd(D, P.display_2x2, 0.7, -0.4, 0.3, 1.2)
fd(D, P.display_scaled, 0.7)
fd(D, P.display_nested, 0.7)
fd(D, P.display_mixed_constant_rows, r(3))
fd(D, P.display_stack_arrays, r(3), r(3))
fd(D, P.display_of_elements, r(3))
fd(D, P.array_copy_of_argument_write, r(3))
refuse(D, P.asarray_of_argument_write, r(3))
fd(D, P.display_1x1, 0.7)
fd(D, P.list_display_sum, 0.7, -0.4)
fd(D, P.tuple_display, 0.7, -0.4)
fd(D, P.display_with_dtype, 0.7, -0.4)
fd(D, P.display_then_write, 0.7, -0.4)
fd(D, P.display_3d, 0.7)
fd(D, P.asarray_of_list, 0.7, -0.4)
fd(D, P.display_of_scalars_and_array_elements, r(3), 0.8)
fd(D, P.hstack_concat, r(3), 0.8)

# stacked linear algebra ---------------------------------------------------------------------
L = "linear algebra"
fd(L, P.stacked_inv, well_conditioned(2, 3, 3))
fd(L, P.stacked_det, well_conditioned(2, 3, 3))
fd(L, P.stacked_solve, well_conditioned(2, 3, 3), r(2, 3, 1))
fd(L, P.matmul_3d, r(2, 3, 4), r(2, 4, 2))
fd(L, P.matmul_3d_2d, r(2, 3, 4), r(4, 2))
fd(L, P.slogdet_stacked, well_conditioned(2, 3, 3))
fd(L, P.inv_2d, well_conditioned(3, 3))
fd(L, P.det_2d, well_conditioned(3, 3))
fd(L, P.solve_2d, well_conditioned(3, 3), r(3))
fd(L, P.swapaxes_gram, r(2, 4, 3))
fd(L, P.batched_quadratic, well_conditioned(2, 3, 3), r(3))

# dtype conversions, products, rounding ----------------------------------------------------------
K = "conversions"
fd(K, P.astype_int_weights, np.array([0.2, 0.5, 1.1, -0.6]))
fd(K, P.astype_float_copy, r(3))
fd(K, P.prod_with_zero, np.array([0.0, 2.0, -1.5]), id="prod_one_zero")
fd(K, P.prod_with_zero, np.array([0.0, 0.0, 2.0]), id="prod_two_zeros")
fd(K, P.prod_axis_with_zero, np.array([[0.0, 1.5], [2.0, 0.7], [-1.2, 0.4]]))
fd(K, P.floor_times, np.array([0.3, 1.6, -0.4]))
fd(K, P.int_in_branch, 0.3)
fd(K, P.round_builtin, 0.737)
fd(K, P.sign_times, np.array([0.3, -1.6, 0.4]))
fd(K, P.astype_float32, r(3), rtol=2e-3, eps=1e-3, hess=False)
fd(K, P.mod_scalar, 1.3)
fd(K, P.floor_div, 1.3)

# strings and eval of active values -------------------------------------------------------------
S = "strings"
refuse(S, P.str_of_active, 0.7)
refuse(S, P.repr_of_active, 0.7)
refuse(S, P.percent_format, 0.7)
refuse(S, P.eval_of_active, 0.7)
refuse(S, P.fstring_of_active, 0.7)
refuse(S, P.format_builtin, 0.7)
refuse(S, P.str_format_method, 0.7)
refuse(S, P.str_in_helper, 0.7, at=("_to_text",))
refuse(S, P.len_of_str, 0.7)
fd(S, P.str_of_constant, 0.7)
sound(S, P.print_active, 0.7)

# decorators -------------------------------------------------------------------------------
DEC = "decorators"
sound(DEC, P.decorated_doubling, 0.7, at=("decorated_doubling", "double_output"))
sound(DEC, P.decorated_identity, 0.7, at=("decorated_identity", "identity_wraps"))
sound(DEC, P.decorated_no_wraps, 0.7, at=("decorated_no_wraps", "double_no_wraps"),
      id="decorated_no_wraps")
sound(DEC, P.decorated_register, 0.7, id="decorated_register")
sound(DEC, P.decorated_shift, 0.7, at=("decorated_shift", "add_offset_arg"))
sound(DEC, P.calls_decorated_helper, 0.7, at=("calls_decorated_helper", "_doubled_helper", "double_output"))
sound(DEC, P.calls_decorated_helper_nowraps, 0.7,
      at=("calls_decorated_helper_nowraps", "_doubled_helper_nowraps", "double_no_wraps"))
sound(DEC, P.calls_registered_helper, 0.7, at=("calls_registered_helper", "_registered_helper"))
sound(DEC, P.calls_cached_helper, 0.7, at=("calls_cached_helper", "_cached_helper"))

# methods -----------------------------------------------------------------------------------
M = "methods"
sound(M, P.calls_bound_method, 0.7, at=("calls_bound_method", "Scaler"))
sound(M, P.calls_method_reading_array, r(3), at=("calls_method_reading_array", "Scaler"))
sound(M, P.calls_staticmethod, 0.7, at=("calls_staticmethod", "Scaler"))
sound(M, P.calls_classmethod, 0.7, at=("calls_classmethod", "Scaler"))
refuse(M, P.calls_mutating_method, 0.7, at=("calls_mutating_method", "Scaler"))
sound(M, P.local_object_method, 0.7, at=("local_object_method", "Scaler"))
sound(M, P.array_method_calls, r(3))
sound(M, P.SCALER.scale, 0.7, id="grad_of_bound_method", at=("Scaler",))
fd(M, P.Scaler.square, 0.7, id="grad_of_staticmethod")
sound(M, P.Scaler.triple, 0.7, id="grad_of_classmethod", at=("Scaler",))

# argument kinds ----------------------------------------------------------------------------
A = "argument kinds"
fd(A, P.kind_scalar, np.float64(0.7), id="np_float64_argument")
fd(A, P.kind_scalar, np.array(0.7), id="zero_d_array_argument")
fd(A, P.kind_scalar, np.float32(0.7), id="np_float32_argument", rtol=2e-3, eps=1e-3, hess=False)
fd(A, P.kind_array_sum, r(3).astype(np.float32), id="float32_array_argument",
   rtol=2e-3, eps=1e-3, hess=False)
fd(A, P.kind_array_sum, np.asfortranarray(r(2, 3)), id="fortran_order_argument")
fd(A, P.kind_matrix_argument, r(3, 6)[:, ::2], id="strided_view_argument")
fd(A, P.kind_list_loop, [0.3, -0.5, 1.2], argnums=(0,), id="list_argument")
fd(A, P.kind_tuple_index, (0.3, 0.8), argnums=(0,), id="tuple_argument")
fd(A, P.power_loop, 1.1, 3, id="int_argument_constant")
fd(A, P.kind_list_of_arrays, [r(3), r(3)], argnums=(0,), id="list_of_arrays_argument")
refuse(A, P.kind_array_sum, np.array([1, 2, 3]), argnums=(0,), err=NotDifferentiableError,
       located=False, id="int_array_argument", modes=("reverse", "hessian"))
refuse(A, P.power_loop, 2, 3, argnums=(0,), err=NotDifferentiableError, located=False,
       id="int_scalar_argument", modes=("reverse", "hessian"))

# keyword arguments and defaults ---------------------------------------------------------------
KW = "keywords and defaults"
fd(KW, P.with_default, 0.7, id="default_used")
fd(KW, P.with_default, 0.7, kwargs={"scale": 3.0}, id="default_overridden_by_keyword")
fd(KW, P.with_default, 0.7, 3.0, id="default_overridden_positionally")
fd(KW, P.calls_helper_keywords, 0.7)
fd(KW, P.keyword_only, 0.7, id="keyword_only_default")
fd(KW, P.keyword_only, 0.7, kwargs={"power": 2}, id="keyword_only_given")
fd(KW, P.calls_helper_global_default, 0.7)
fd(KW, P.default_is_array, r(3))

# closures and globals --------------------------------------------------------------------------
G = "closures and globals"
fd(G, P.closure_float, 0.7, at=("make_scaled",))
fd(G, P.closure_array, r(3), at=("make_affine",))
refuse(G, P.closure_mutating, 0.7, at=("make_counter_closure",))
fd(G, P.reads_global_array, r(3))
fd(G, P.reads_global_scalar, 0.7)
fd(G, P.reads_global_list, 0.7)
fd(G, P.calls_global_function, r(3))
fd(G, P.shadowed_builtin, 0.7)

# copies that are not copies, names s2sad uses itself, odd but plain Python ------------------
O = "odd corners"
refuse(O, P.slice_copy_idiom_argument, r(3))
refuse(O, P.reshape_of_argument_write, r(3))
refuse(O, P.asarray_float_argument_write, r(3))
refuse(O, P.view_method_argument_write, r(3))
refuse(O, P.global_buffer_write, 0.7)
fd(O, P.astype_copy_write, r(3))
fd(O, P.generated_names, 0.7)
fd(O, P.user_helper_named_like_runtime, r(3))
fd(O, P.parameter_named_y_bar, 0.7, -0.4)
sound(O, P.annotated, 0.7)
fd(O, P.unicode_names, 0.7)
sound(O, P.builtin_min_max_abs, 0.7, -0.4)
sound(O, P.builtin_pow_and_math_pow, 1.3)
fd(O, P.sqrt_power, np.array([0.5, 1.2, 2.0]))
sound(O, P.item_of_element, r(3))
sound(O, P.np_float64_constructor, 0.7)
sound(O, P.builtin_sum_of_array, r(3))
sound(O, P.list_repeat, 0.7)
fd(O, P.list_slices, 0.7, -0.4)
sound(O, P.sorted_list, 0.7, -0.4)
sound(O, P.np_sort_function, np.array([0.3, -0.2, 1.1]))
fd(O, P.boolean_mask_read, np.array([0.3, -0.2, 1.1]))
fd(O, P.comparison_times, np.array([0.3, -0.2, 1.1]))
sound(O, P.unpack_vector, r(3))
sound(O, P.unpack_matrix_rows, r(2, 3))
fd(O, P.enumerate_write, r(3))
fd(O, P.reversed_slice_write, r(3))
fd(O, P.element_power_augmented, r(3))
fd(O, P.nested_list_index, 0.7, -0.4)
fd(O, P.list_element_augmented, 0.7, -0.4)
refuse(O, P.tuple_output, 0.7, err=NotDifferentiableError, located=False, modes=("reverse",))
fd(O, P.tuple_output, 0.7, id="tuple_output_jvp", modes=("forward",))
refuse(O, P.one_element_array_output, 0.7, err=NotDifferentiableError, located=False,
       modes=("reverse",))
fd(O, P.one_element_array_output, 0.7, id="one_element_array_output_jvp", modes=("forward",))
fd(O, P.constant_output, 0.7)
fd(O, P.unused_argument, 0.7, -0.4)
fd(O, P.int_return_on_untaken_path, 0.7)
fd(O, P.or_as_value, 0.7, -0.4)
sound(O, P.lambda_default_capture, 0.7)
fd(O, P.isinstance_branch, 0.7, id="isinstance_branch_float")
fd(O, P.isinstance_branch, r(3), id="isinstance_branch_array")
sound(O, P.ufunc_reduce, r(3))
sound(O, P.norm_with_ord, r(3))
sound(O, P.sum_where_keyword, np.array([0.3, -0.2, 1.1]))
sound(O, P.eigh_sum, r(3, 3))
refuse(O, P.walrus_nested, 0.7)
refuse(O, P.random_inside, 0.7)
fd(O, P.empty_then_fill_slice, 0.7)
fd(O, P.rebind_then_write, r(3))
fd(O, P.copy_slice_then_write, r(3))
fd(O, P.zeros_like_then_write, r(3))
sound(O, P.divmod_builtin, 1.3)
sound(O, P.math_floor_fabs, 1.3)

# scoping, names and definitions ---------------------------------------------------------
SC = "scoping"
fd(SC, P.redefined, 0.7)
fd(SC, P.comprehension_shadows_parameter, 0.7)
fd(SC, P.loop_rebinds_parameter, 0.7)
fd(SC, P.comprehension_over_parameter, r(3))
fd(SC, P.nested_comprehension, r(3))
fd(SC, P.is_even_count, 0.7, 3)
refuse(SC, P.global_declared, 0.7)
fd(SC, P.chained_subscript_assign, 0.7)
fd(SC, P.inner_shadows_helper, 0.7)

# indexing and array building ----------------------------------------------------------------
IX = "indexing"
fd(IX, P.repeated_index_read, r(3))
fd(IX, P.global_index_array_read, r(3))
fd(IX, P.take_repeated, r(3))
fd(IX, P.negative_step_read, r(4))
fd(IX, P.newaxis_outer, r(3))
fd(IX, P.ellipsis_index, r(2, 3, 2))
fd(IX, P.broadcast_iadd_2d, r(3))
fd(IX, P.column_iadd_2d, r(3))
fd(IX, P.broadcast_to_read, r(3))
fd(IX, P.stack_concat, r(3), r(3))
fd(IX, P.reshape_outer, r(3))
fd(IX, P.tile_repeat, r(3))
fd(IX, P.diag_build_read, r(3))
fd(IX, P.triu_of_product, r(3))
fd(IX, P.cholesky_logdet, r(3, 3))
fd(IX, P.recurrence_through_array, 0.7)
fd(IX, P.two_loops_same_buffer, r(3))
fd(IX, P.matrix_row_swap, r(3, 3))
sound(IX, P.matrix_row_swap_without_copy, r(3, 3))

# masked singularities, long loops, many parameters, argument conventions ----------------------
AC = "conventions"
fd(AC, P.safe_sqrt_where, np.array([0.5, -0.3, 1.2]))
fd(AC, P.sqrt_where_untaken_nan, np.array([0.5, -0.3, 1.2]))
fd(AC, P.sinc_where, np.array([0.5, 0.0, 1.2]))
fd(AC, P.long_loop, 0.7)
fd(AC, P.recursive_power, 1.01, 60, id="deep_recursion")
fd(AC, P.many_parameters, *[0.1 * k + 0.05 for k in range(10)], argnums=(0, 3, 9))
fd(AC, P.many_parameters, *[0.1 * k + 0.05 for k in range(10)], argnums=(-1,), id="negative_argnums",
   hess=False)
fd(AC, P.power_loop, 1.1, np.int64(3), id="np_int64_argument")
fd(AC, P.optional_none, 0.7, id="none_default")
fd(AC, P.optional_none, 0.7, 3.0, id="none_default_given")
fd(AC, P.string_mode, r(3), id="string_argument_default")
fd(AC, P.string_mode, r(3), "max", id="string_argument_given")
fd(AC, P.bool_flag, 0.7, id="bool_default")
fd(AC, P.bool_flag, 0.7, False, id="bool_given")
fd(AC, P.dict_argument, {"w": 0.7, "b": -0.4}, argnums=(0,), id="dict_argument")
fd(AC, P.dict_of_arrays_argument, {"W": r(2, 3), "x": r(3)}, argnums=(0,), id="dict_of_arrays_argument")

# signatures ----------------------------------------------------------------------------------
SG = "signatures"
sound(SG, P.star_args, 0.7, 0.5, 1.5, argnums=(0,))
sound(SG, P.star_kwargs, 0.7)
sound(SG, P.positional_only, 0.7)
fd(SG, P.loop_closure_default, 0.7, at=("make_loop_closures",))
sound(SG, P.partial_of_function, 0.7, located=False, id="functools_partial")


# --------------------------------------------------------------------------
# checking

class CatalogCallWatcher:
    """Records every call into catalog_programs.py while active (sys.setprofile)."""

    def __init__(self):
        self.calls = []

    def __enter__(self):
        self._old = sys.getprofile()

        def hook(frame, event, arg):
            if event == "call" and os.path.abspath(frame.f_code.co_filename) == CATALOG_FILE:
                self.calls.append(frame.f_code.co_name)
        sys.setprofile(hook)
        return self

    def __exit__(self, *exc):
        sys.setprofile(self._old)
        return False


def _copy(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, dict):
        return {k: _copy(v) for k, v in a.items()}
    if isinstance(a, (list, tuple)):
        return type(a)(_copy(v) for v in a)
    return a


def _same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _direction(x, rng):
    if isinstance(x, dict):
        return {k: _direction(v, rng) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_direction(v, rng) for v in x)
    if isinstance(x, np.ndarray):
        return rng.standard_normal(x.shape)
    return float(rng.standard_normal())


def _zero_like(x):
    if isinstance(x, dict):
        return {k: _zero_like(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_zero_like(v) for v in x)
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape)
    return 0.0


def _move(x, d, step):
    """``x + step * d`` keeping the kind of ``x`` (float, numpy scalar, array, list, dict)."""
    if isinstance(x, dict):
        return {k: _move(v, d[k], step) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_move(v, e, step) for v, e in zip(x, d))
    if isinstance(x, np.ndarray):
        return np.asarray(x + step * d, dtype=x.dtype)
    if isinstance(x, np.generic):
        return type(x)(x + step * d)
    return float(x) + step * float(d)


def _vdot(g, d):
    if isinstance(d, dict):
        assert isinstance(g, dict) and g.keys() == d.keys(), f"gradient {g!r} for a dict"
        return sum(_vdot(g[k], d[k]) for k in d)
    if isinstance(d, (list, tuple)):
        assert isinstance(g, (list, tuple)) and len(g) == len(d), f"gradient {g!r} for a {type(d)}"
        return sum(_vdot(a, b) for a, b in zip(g, d))
    return float(np.vdot(np.asarray(g, dtype=np.float64), np.asarray(d, dtype=np.float64)))


def _like(g, x, what):
    if isinstance(x, dict):
        assert isinstance(g, dict) and g.keys() == x.keys(), f"{what}: {g!r} is not shaped like {x!r}"
        for k in x:
            _like(g[k], x[k], f"{what}[{k!r}]")
        return
    if isinstance(x, (list, tuple)):
        assert type(g) is type(x) and len(g) == len(x), f"{what}: {g!r} is not shaped like {x!r}"
        for k, (a, b) in enumerate(zip(g, x)):
            _like(a, b, f"{what}[{k}]")
        return
    assert_grad_like(g, x, what)


def _call(case, args):
    with np.errstate(all="ignore"):
        return case.fn(*args, **case.kwargs)


def _moved_args(case, directions, step):
    args = list(case.args)
    for i, d in zip(case.argnums, directions):
        args[i] = _move(args[i], d, step)
    return args


def _fd(case, directions, eps=None):
    eps = case.eps if eps is None else eps
    fp = _call(case, _moved_args(case, directions, eps))
    fm = _call(case, _moved_args(case, directions, -eps))
    return (np.asarray(fp, dtype=float) - np.asarray(fm, dtype=float)) / (2 * eps)


def _close(got, want, case, what):
    got = np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    tol = 1e-7 + case.rtol * max(1.0, float(np.max(np.abs(want), initial=0.0)))
    err = float(np.max(np.abs(got - want), initial=0.0))
    assert err <= tol, f"{what}: got {got!r}, expected {want!r} (|diff| {err:.3g} > {tol:.3g})"


def _positional(case):
    """The arguments as one positional tuple (for jvp), or None if a keyword-only one is given."""
    sig = inspect.signature(case.fn)
    try:
        bound = sig.bind(*case.args, **case.kwargs)
    except TypeError:
        return None
    if bound.kwargs:
        return None
    return bound.args


def run_reverse(case, optimize):
    rng = np.random.default_rng(1)
    directions = [_direction(case.args[i], rng) for i in case.argnums]
    before = _copy(case.args)
    grads = s2sad.grad(case.fn, argnums=case.argnums, optimize=optimize)(*case.args, **case.kwargs)
    assert _same(case.args, before), "grad changed an argument"
    assert isinstance(grads, tuple) and len(grads) == len(case.argnums), grads
    for i, g in zip(case.argnums, grads):
        _like(g, case.args[i], f"gradient w.r.t. argument {i}")
    for i, g in zip(case.argnums, grads):
        if isinstance(g, np.ndarray) and isinstance(case.args[i], np.ndarray):
            assert not np.shares_memory(g, case.args[i]), (
                f"the gradient w.r.t. argument {i} shares memory with the argument")
    got = sum(_vdot(g, d) for g, d in zip(grads, directions))
    _close(got, _fd(case, directions), case, f"<grad, d> (optimize={optimize})")
    again = s2sad.grad(case.fn, argnums=case.argnums, optimize=optimize)(*case.args, **case.kwargs)
    _close(sum(_vdot(g, d) for g, d in zip(again, directions)), got, case,
           "a second call of the same derivative")

    value, grads2 = s2sad.value_and_grad(case.fn, argnums=case.argnums, optimize=optimize)(
        *case.args, **case.kwargs)
    assert _same(case.args, before), "value_and_grad changed an argument"
    _close(value, _call(case, case.args), case, "value_and_grad's value")
    for i, g, h in zip(case.argnums, grads2, grads):
        _like(g, case.args[i], f"value_and_grad's gradient w.r.t. argument {i}")
        _close_tree(g, h, case, "value_and_grad's gradient")


def _close_tree(got, want, case, what):
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), f"{what}: {got!r}"
        for k in want:
            _close_tree(got[k], want[k], case, what)
        return
    if isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), f"{what}: {got!r}"
        for a, b in zip(got, want):
            _close_tree(a, b, case, what)
        return
    _close(got, want, case, what)


def run_forward(case, optimize):
    primals = _positional(case)
    if primals is None:
        return                                # a keyword-only argument: jvp takes positionals only
    rng = np.random.default_rng(2)
    tangents = [_zero_like(a) for a in primals]
    directions = []
    for i in case.argnums:
        tangents[i] = _direction(primals[i], rng)
        directions.append(tangents[i])
    before = _copy(case.args)
    value, tangent = s2sad.jvp(case.fn, tuple(primals), tuple(tangents), optimize=optimize)
    assert _same(case.args, before), "jvp changed an argument"
    _close(value, _call(case, case.args), case, "jvp's value")
    _close(tangent, _fd(case, directions), case, f"jvp's tangent (optimize={optimize})")


def run_hessian(case, optimize):
    if not case.hess:
        return
    i = case.argnums[0]
    x = case.args[i]
    if isinstance(x, (list, tuple, dict)):
        return                                # hessian of a container argument: not defined by the API
    H = s2sad.hessian(case.fn, argnums=i, optimize=optimize)(*case.args, **case.kwargs)
    rng = np.random.default_rng(3)
    d, e = _direction(x, rng), _direction(x, rng)
    shape = np.shape(x)
    got = float(np.asarray(d, dtype=float).ravel() @ np.asarray(H, dtype=float).reshape(
        int(np.prod(shape)), int(np.prod(shape))) @ np.asarray(e, dtype=float).ravel())
    assert np.shape(H) == shape + shape, f"hessian shape {np.shape(H)}"
    h = 1e-4

    def at(a, b):
        args = list(case.args)
        args[i] = _move(_move(x, d, a), e, b)
        return float(_call(case, args))
    want = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
    tol = 1e-5 + 1e-4 * max(1.0, abs(want))
    assert abs(got - want) <= tol, f"d'He = {got!r}, mixed difference {want!r} (optimize={optimize})"


RUN = {"reverse": run_reverse, "forward": run_forward, "hessian": run_hessian}


def probe(case, mode, optimize):
    """Build and run the mode's derivative once (where a refusal must happen)."""
    if mode == "reverse":
        s2sad.grad(case.fn, argnums=case.argnums, optimize=optimize)(*case.args, **case.kwargs)
    elif mode == "forward":
        primals = _positional(case) or case.args
        s2sad.jvp(case.fn, tuple(primals), tuple(_zero_like(a) for a in primals),
                  optimize=optimize)
    elif case.hess and not isinstance(case.args[case.argnums[0]], (list, tuple, dict)):
        s2sad.hessian(case.fn, argnums=case.argnums[0], optimize=optimize)(
            *case.args, **case.kwargs)


def expect_refusal(case, mode, optimize):
    """The mode's derivative raises case.err at a marked line, before catalog code runs."""
    with CatalogCallWatcher() as watch:
        with pytest.raises(S2SADError) as info:
            probe(case, mode, optimize)
    check_refusal(case, info.value, watch)


def check_refusal(case, err, watch):
    assert isinstance(err, case.err), f"{type(err).__name__} is not a {case.err.__name__}: {err}"
    assert not watch.calls, f"catalog code ran before the refusal: {watch.calls}"
    if case.located:
        message = str(err)
        lines = marker_lines(case.at)
        assert lines, f"no {MARKER} marker in {case.at}"
        assert os.path.basename(CATALOG_FILE) in message, message
        assert any(re.search(rf"(?<!\d){n}(?!\d)", message) for n in lines), (
            f"refusal names none of the marked lines {lines}:\n{message}")


def check(case, mode, optimize):
    if case.expect == "fd":
        RUN[mode](case, optimize)
    elif case.expect == "refuse":
        expect_refusal(case, mode, optimize)
    else:
        with CatalogCallWatcher() as watch:
            try:
                probe(case, mode, optimize)
            except S2SADError as err:
                check_refusal(case, err, watch)
                return
        RUN[mode](case, optimize)


def _params():
    """One test per (entry, mode, optimize); ``xfail`` keys are a mode, or a mode and
    "-optimized" / "-unoptimized" for a failure of one of the two only."""
    out = []
    for case in CASES:
        for mode in case.modes:
            for optimize in (True, False):
                flavour = f"{mode}-{'optimized' if optimize else 'unoptimized'}"
                known = {**EXPECTED_FAILURES.get(case.id, {}), **case.xfail}
                if os.environ.get("S2SAD_CATALOG_NO_XFAIL"):    # to list today's failures afresh
                    known = {}
                reason = known.get(flavour) or known.get(mode)
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                out.append(pytest.param(case, mode, optimize, marks=marks,
                                        id=f"{case.cls}-{case.id}-{flavour}"))
    return out


@pytest.mark.parametrize("case, mode, optimize", _params())
def test_catalog(case, mode, optimize):
    # each test gets its own copies: a derivative that writes into its arguments must not
    # spoil the entry for the tests after it
    case = dataclasses.replace(case, args=_copy(case.args), kwargs=dict(case.kwargs))
    check(case, mode, optimize)


def test_catalog_size():
    assert len(CASES) >= 150, len(CASES)
    ids = {case.id for case in CASES}
    assert set(EXPECTED_FAILURES) <= ids, set(EXPECTED_FAILURES) - ids
    assert all(case.expect in ("fd", "refuse", "sound") for case in CASES)


# --------------------------------------------------------------------------
# state that changes between two calls of the same derivative (caching, specialisation)

def _case(fn, *args, **kw):
    return Case(fn.__name__, fn, args, "fd", "state between calls", **kw)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_global_scalar_rebound_between_calls(mode):
    RUN[mode](_case(P.reads_global_scalar, 0.7), True)
    saved = P.SCALE
    try:
        P.SCALE = 5.0
        RUN[mode](_case(P.reads_global_scalar, 0.7), True)
    finally:
        P.SCALE = saved


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_global_array_changed_in_place_between_calls(mode):
    RUN[mode](_case(P.reads_global_array, r(3)), True)
    saved = P.A3.copy()
    try:
        P.A3[0, 0] = 7.0
        RUN[mode](_case(P.reads_global_array, r(3)), True)
    finally:
        P.A3[...] = saved


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_helper_redefined_between_calls(mode):
    RUN[mode](_case(P.calls_helper_keywords, 0.7), True)
    saved = P._helper_kw
    try:
        P._helper_kw = _other_helper_kw
        RUN[mode](_case(P.calls_helper_keywords, 0.7), True)
    finally:
        P._helper_kw = saved


def _other_helper_kw(v, a=1.0, b=0.0):
    return a * np.sin(v) + b * v * v * v


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_method_attribute_changed_between_calls(mode):
    case = _case(P.calls_bound_method, 0.7)
    try:
        RUN[mode](case, True)
    except S2SADError:
        return                                     # methods refused: nothing to go stale
    saved = P.SCALER.k
    try:
        P.SCALER.k = 4.0
        RUN[mode](_case(P.calls_bound_method, 0.7), True)
    finally:
        P.SCALER.k = saved


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_closure_cell_changed_between_calls(mode):
    k = [2.0]

    def make():
        scale = k[0]

        def g(x):
            return scale * x * x
        return g, lambda v: None
    g, _ = make()
    RUN[mode](_case(g, 0.7), True)
    g.__closure__[0].cell_contents = 6.0
    RUN[mode](_case(g, 0.7), True)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_shapes_change_between_calls(mode):
    for x in (r(3), r(5), r(2, 2), 0.7, np.float64(0.3)):
        RUN[mode](_case(P.kind_array_sum, x), True)


def test_same_array_passed_twice():
    a = r(4)
    run_reverse(_case(P.softmax_weighted, a, a, argnums=(0, 1)), True)
    run_forward(_case(P.softmax_weighted, a, a, argnums=(0, 1)), True)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_source_file_edited_after_import(tmp_path, mode):
    """The user edits the file after importing it (and before differentiating): s2sad
    reads the new text while the old code runs.  The derivative must be the running
    function's, or be refused."""
    import linecache
    from util import load_function
    module = f"edited_after_import_{mode}"
    f = load_function("import math\n\n\ndef f(x):\n    return x * x\n", tmp_path, module)
    (tmp_path / f"{module}.py").write_text("import math\n\n\ndef f(x):\n    return math.sin(x) * 3.0\n")
    linecache.checkcache()
    try:
        RUN[mode](_case(f, 0.7), True)
    except S2SADError:
        pass


@pytest.mark.parametrize("mode", ["reverse"])
def test_differentiated_argument_passed_by_keyword(mode):
    g = s2sad.grad(P.with_default)(x=0.7)
    want = (P.with_default(0.7 + 1e-6) - P.with_default(0.7 - 1e-6)) / 2e-6
    assert abs(g - want) < 1e-6, (g, want)


@pytest.mark.parametrize("fn", [P.raises_on_negative, P.asserts_positive])
@pytest.mark.parametrize("make", ["grad", "value_and_grad", "jvp", "hessian"])
def test_user_exception_propagates(fn, make):
    """The derivative of a function that raises at a point raises the same exception
    there (not a different one, and no value)."""
    with pytest.raises(Exception) as expected:
        fn(-0.5)
    with pytest.raises(Exception) as got:
        if make == "jvp":
            s2sad.jvp(fn, (-0.5,), (1.0,))
        elif make == "hessian":
            s2sad.hessian(fn)(-0.5)
        else:
            getattr(s2sad, make)(fn)(-0.5)
    assert type(got.value) is type(expected.value), got.value
    assert str(got.value) == str(expected.value)
    run_reverse(_case(fn, 0.7), True)
    run_forward(_case(fn, 0.7), True)
