"""Holes left by the rule batches, each refused before the user's function runs (at the call's
line, with an S2SADError) or differentiated correctly: einsum's interleaved subscripts, the
multi-result functions under any spelling, second derivatives only a run would have found."""
import inspect

import numpy as np
import numpy as xp
import numpy.linalg
import numpy.linalg as la
import pytest
from numpy import array_split, meshgrid, split
from numpy.linalg import eigh, lstsq, qr, svd

import s2sad
from tests.util import check_grad

RAN = []
A = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])
SUBSCRIPTS = "ij,jk->ik"


def _line_of(fn, text):
    """The file line of the first line of ``fn`` containing ``text``."""
    lines, first = inspect.getsourcelines(fn)
    return first + next(k for k, line in enumerate(lines) if text in line)


def _refused(fn, transform, text, *args):
    RAN.clear()
    with pytest.raises(s2sad.S2SADError) as info:
        transform(fn)(*args)
    message = str(info.value)
    assert f"test_rules_holes.py:{_line_of(fn, text)}" in message, message
    assert "GeneratedCodeError" not in type(info.value).__name__
    assert RAN == [], "the user's function ran before the refusal"
    return message


# --- 1. np.einsum with interleaved (operand, sublist) subscripts ------------------------------
def einsum_interleaved(x):
    RAN.append("einsum_interleaved")
    return np.sum(np.einsum(x, [0, 1], x, [1, 2], [0, 2]))


def einsum_interleaved_const_first(x):
    RAN.append("einsum_interleaved_const_first")
    return np.sum(np.einsum(A, [0, 1], x, [1, 2], [0, 2]))


def einsum_interleaved_local(x):
    RAN.append("einsum_interleaved_local")
    b = x * 2.0
    return np.sum(np.einsum(b, [0, 1], [0]) * x[0])


INTERLEAVED = [einsum_interleaved, einsum_interleaved_const_first, einsum_interleaved_local]


@pytest.mark.parametrize("transform", [s2sad.grad, lambda f: lambda x: s2sad.jvp(f, (x,), (x,)),
                                       s2sad.jacfwd, s2sad.hessian], ids=["grad", "jvp", "jacfwd", "hessian"])
@pytest.mark.parametrize("fn", INTERLEAVED, ids=[f.__name__ for f in INTERLEAVED])
def test_einsum_interleaved_is_refused(fn, transform):
    message = _refused(fn, transform, "np.einsum(", A.copy())
    assert "string" in message


def einsum_string_const(x):
    return np.sum(np.einsum("ij,jk->ik", x, x) * A)


def einsum_string_global(x):
    return np.sum(np.einsum(SUBSCRIPTS, x, x) * A)


def einsum_string_local(x, t):
    s = "ij,jk->ik" if t else "ij,kj->ik"
    return np.sum(np.einsum(s, x, x) * A)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("fn", [einsum_string_const, einsum_string_global])
def test_einsum_string_subscripts_still_work(fn, optimize):
    check_grad(fn, A.copy(), optimize=optimize)
    s2sad.check_grads(fn, (A.copy(),), order=2)


def test_einsum_string_local_still_works():
    check_grad(einsum_string_local, A.copy(), False)
    check_grad(einsum_string_local, A.copy(), True)


# --- 2. multi-result functions under any spelling (name, from-import, module alias) -----------
W3 = np.array([0.5, -1.0, 2.0])
B3 = np.array([1.0, -0.5, 0.25])


def eigh_dotted(x):
    w, v = np.linalg.eigh(x)
    return np.sum(w * W3) + np.sum(v[:, 0] ** 2 * W3)


def eigh_imported(x):
    w, v = eigh(x)
    return np.sum(w * W3) + np.sum(v[:, 0] ** 2 * W3)


def eigh_alias(x):
    w, v = la.eigh(x)
    return np.sum(w * W3) + np.sum(v[:, 0] ** 2 * W3)


def qr_dotted(x):
    q, r = np.linalg.qr(x)
    return np.sum(q * A) + np.sum(r * r)


def qr_imported(x):
    q, r = qr(x)
    return np.sum(q * A) + np.sum(r * r)


def qr_alias(x):
    q, r = la.qr(x)
    return np.sum(q * A) + np.sum(r * r)


def svd_dotted(x):
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    return np.sum(s * W3) + np.sum((u * vh) ** 2 * A)


def svd_imported(x):
    u, s, vh = svd(x, full_matrices=False)
    return np.sum(s * W3) + np.sum((u * vh) ** 2 * A)


def svd_alias(x):
    u, s, vh = numpy.linalg.svd(x, full_matrices=False)
    return np.sum(s * W3) + np.sum((u * vh) ** 2 * A)


def lstsq_dotted(x):
    sol, res, rank, sv = np.linalg.lstsq(x, B3, rcond=None)
    return np.sum(sol * W3)


def lstsq_imported(x):
    sol, res, rank, sv = lstsq(x, B3, rcond=None)
    return np.sum(sol * W3)


def lstsq_alias(x):
    sol, res, rank, sv = la.lstsq(x, B3, rcond=None)
    return np.sum(sol * W3)


def split_dotted(x):
    a, b = np.split(x, [1], axis=1)
    return np.sum(a * a) + np.sum(np.sin(b))


def split_imported(x):
    a, b = split(x, [1], axis=1)
    return np.sum(a * a) + np.sum(np.sin(b))


def split_alias(x):
    a, b = xp.split(x, [1], axis=1)
    return np.sum(a * a) + np.sum(np.sin(b))


def array_split_imported(x):
    a, b = array_split(x, 2)
    return np.sum(a * a) + np.sum(np.sin(b))


def meshgrid_dotted(x):
    g, h = np.meshgrid(x[0], x[1])
    return np.sum(g * h * A)


def meshgrid_imported(x):
    g, h = meshgrid(x[0], x[1])
    return np.sum(g * h * A)


def meshgrid_alias(x):
    g, h = xp.meshgrid(x[0], x[1])
    return np.sum(g * h * A)


def split_pieces_returned(x):
    pieces = split(x, 3)
    return np.sum(pieces[0] * pieces[2])


SPELLINGS = [eigh_dotted, eigh_imported, eigh_alias, qr_dotted, qr_imported, qr_alias, svd_dotted,
             svd_imported, svd_alias, lstsq_dotted, lstsq_imported, lstsq_alias, split_dotted,
             split_imported, split_alias, array_split_imported, meshgrid_dotted, meshgrid_imported,
             meshgrid_alias, split_pieces_returned]


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("fn", SPELLINGS, ids=[f.__name__ for f in SPELLINGS])
def test_multi_result_functions_under_any_spelling(fn, optimize):
    check_grad(fn, A.copy(), optimize=optimize, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("fn", SPELLINGS, ids=[f.__name__ for f in SPELLINGS])
def test_multi_result_functions_forward(fn):
    s2sad.check_grads(fn, (A.copy(),), order=1, modes=("fwd",), rtol=1e-4, atol=1e-6)
    if "lstsq" not in fn.__name__:            # (lstsq has no vector-mode rule: refused cleanly)
        s2sad.jacfwd(fn)(A.copy())


# --- 3. second derivatives a run would have failed: refused when transforming ---------------
ORD2 = 2


def norm_spectral(x):
    RAN.append("norm_spectral")
    return np.linalg.norm(x, 2)


def norm_spectral_pair(x):
    RAN.append("norm_spectral_pair")
    return np.linalg.norm(x, 2, axis=(0, 1))


def norm_spectral_unknown_ndim(x):
    RAN.append("norm_spectral_unknown_ndim")
    y = np.reshape(x, x.shape)
    return np.linalg.norm(y, 2)


def norm_two_float(x):
    RAN.append("norm_two_float")
    return np.linalg.norm(x, 2.0)


def norm_two_global(x):
    RAN.append("norm_two_global")
    return np.linalg.norm(x, ORD2)


def norm_nuc(x):
    RAN.append("norm_nuc")
    return np.linalg.norm(x, "nuc")


def norm_minus_two(x):
    RAN.append("norm_minus_two")
    return np.linalg.norm(x, -2)


def cumprod_fn(x):
    RAN.append("cumprod_fn")
    return np.sum(np.cumprod(x) * A[0])


def cumprod_method(x):
    RAN.append("cumprod_method")
    return np.sum(x.cumprod() * A[0])


@s2sad.custom_vjp
def square(x):
    return x * x


def square_fwd(x):
    return x * x, x


def square_bwd(x, g):
    return (2.0 * x * g,)


square.defvjp(square_fwd, square_bwd)


@s2sad.custom_jvp
def cube(x):
    return x ** 3


@cube.defjvp
def cube_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return x ** 3, 3.0 * x * x * t


def custom_vjp_user(x):
    RAN.append("custom_vjp_user")
    return np.sum(square(x) * A[0])


def custom_jvp_user(x):
    RAN.append("custom_jvp_user")
    return np.sum(cube(x) * A[0])


SECOND_ORDER_REFUSED = [
    (norm_spectral, "np.linalg.norm(", A), (norm_spectral_pair, "np.linalg.norm(", A),
    (norm_spectral_unknown_ndim, "np.linalg.norm(", A), (norm_two_float, "np.linalg.norm(", A),
    (norm_two_global, "np.linalg.norm(", A), (norm_nuc, "np.linalg.norm(", A),
    (norm_minus_two, "np.linalg.norm(", A), (cumprod_fn, "np.cumprod(", A[1]),
    (cumprod_method, "x.cumprod(", A[1]), (custom_vjp_user, "square(x)", A[1]),
    (custom_jvp_user, "cube(x)", A[1])]


def _grad_of_grad(fn):
    return s2sad.jacfwd(s2sad.grad(fn))


@pytest.mark.parametrize("transform", [s2sad.hessian, _grad_of_grad], ids=["hessian", "jacfwd_grad"])
@pytest.mark.parametrize("fn,text,x", SECOND_ORDER_REFUSED, ids=[c[0].__name__ for c in SECOND_ORDER_REFUSED])
def test_second_order_refused_at_the_users_line(fn, text, x, transform):
    _refused(fn, transform, text, x.copy())


def test_first_order_of_the_refused_second_orders_still_works():
    for fn, _, x in SECOND_ORDER_REFUSED:
        if fn is custom_jvp_user:
            s2sad.check_grads(fn, (x.copy(),), order=1, modes=("fwd",))
        else:
            check_grad(fn, x.copy(), rtol=1e-4, atol=1e-6)


def norm_two_int_axis(x):
    return np.sum(np.linalg.norm(x, 2, axis=1) * A[0])


def norm_two_vector(x):
    return np.linalg.norm(x[0] * x[1], 2)


@pytest.mark.parametrize("fn", [norm_two_int_axis, norm_two_vector])
def test_vector_two_norm_keeps_every_order(fn):
    s2sad.check_grads(fn, (A.copy(),), order=2)


X5 = np.array([0.3, 2.0, 1.1, -0.5, 0.9])


def quantile_times_q(x, q):
    RAN.append("quantile_times_q")
    return np.quantile(x, q) * q


def percentile_in_q(x, q):
    RAN.append("percentile_in_q")
    return np.percentile(x, q) + np.sum(x)


def _jacfwd_grad_x_in_q(fn):
    return lambda x, q: s2sad.jacfwd(s2sad.grad(fn), argnums=1)(x, q)


def _jvp_grad_x_in_q(fn):
    return lambda x, q: s2sad.jvp(s2sad.grad(fn), (x, q), (np.zeros_like(x), 1.0))


def _hessian_both(fn):
    return s2sad.hessian(fn, argnums=(0, 1))


def _hessian_q(fn):
    return s2sad.hessian(fn, argnums=1)


def _grad_q_of_grad_q(fn):
    return s2sad.grad(s2sad.grad(fn, argnums=1), argnums=1)


@pytest.mark.parametrize("transform", [_jacfwd_grad_x_in_q, _jvp_grad_x_in_q, _hessian_both, _hessian_q,
                                       _grad_q_of_grad_q])
@pytest.mark.parametrize("fn,q", [(quantile_times_q, 0.3), (percentile_in_q, 30.0)])
def test_quantile_second_order_in_q_refused(fn, q, transform):
    # (jacfwd of grad in q once gave the derivative of the weights as zero: silently wrong)
    _refused(fn, transform, "np.", X5.copy(), q)


def test_quantile_first_order_in_q_and_second_in_x():
    check_grad(quantile_times_q, X5.copy(), 0.3, argnums=(0, 1))
    s2sad.check_grads(lambda_free_quantile, (X5.copy(),), order=2)


def lambda_free_quantile(x):
    return np.quantile(x * x, 0.3) * np.sum(x)


# --- 5. nan-ignoring product and running sum: nan elements get a zero derivative -------------
XN = np.array([[0.5, np.nan, -1.2, 0.8], [1.1, 0.4, np.nan, -0.3], [0.0, 2.0, 0.7, 1.5]])


def nanprod_rows(x):
    return np.sum(np.nanprod(x, axis=1) * np.array([1.0, -2.0, 0.5]))


def nancumsum_all(x):
    return np.sum(np.nancumsum(x) * np.arange(12.0))


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("fn", [nanprod_rows, nancumsum_all])
def test_nan_reductions_with_nans(fn, optimize):
    g = s2sad.grad(fn, optimize=optimize)(XN.copy())
    assert np.all(g[np.isnan(XN)] == 0.0)
    check_grad(fn, XN.copy(), optimize=optimize)
    s2sad.check_grads(fn, (XN.copy(),), order=2)
