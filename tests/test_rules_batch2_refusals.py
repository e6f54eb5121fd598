"""What the shape, linear algebra and scipy.special rules do not cover is refused before the
user's function runs, at the call's line, with an S2SADError; points where a derivative does
not exist (repeated eigenvalues) raise NotDifferentiableError, never a silent number."""
import inspect

import numpy as np
import pytest
import scipy.linalg
from scipy.special import logsumexp

import s2sad

RAN = []


def lse_sign(x):
    RAN.append("lse_sign")
    s, v = logsumexp(x, return_sign=True)
    return v


def pad_ramp(x):
    RAN.append("pad_ramp")
    return np.sum(np.pad(x, 1, mode="linear_ramp"))


def qr_complete(x):
    RAN.append("qr_complete")
    q, r = np.linalg.qr(x, mode="complete")
    return np.sum(r)


def svd_full(x):
    RAN.append("svd_full")
    u, s, vh = np.linalg.svd(x)
    return np.sum(s)


def einsum_optimize(x):
    RAN.append("einsum_optimize")
    return np.einsum("ij,jk->", x, x, optimize=True)


def cross_axis(x):
    RAN.append("cross_axis")
    return np.sum(np.cross(x, x * 2.0, axis=0))


def triangular_conjugate(x):
    RAN.append("triangular_conjugate")
    return np.sum(scipy.linalg.solve_triangular(x, x[0], trans=2))


def sort_kind(x):
    RAN.append("sort_kind")
    return np.sum(np.sort(x, kind="heapsort") * np.arange(4.0))


def eigh_upper(x):
    RAN.append("eigh_upper")
    w, v = np.linalg.eigh(x, UPLO="U")
    return np.sum(w)


REFUSED = [lse_sign, pad_ramp, qr_complete, svd_full, einsum_optimize, cross_axis,
           triangular_conjugate, sort_kind, eigh_upper]


def _call_line(fn):
    lines, first = inspect.getsourcelines(fn)
    return first + 2            # the line after RAN.append(...)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("fn", REFUSED, ids=[f.__name__ for f in REFUSED])
def test_refused_before_running(fn, mode):
    RAN.clear()
    x = np.eye(4) * 2.0 + 0.1 * np.arange(16.0).reshape(4, 4) / 16
    with pytest.raises(s2sad.S2SADError) as info:
        if mode == "reverse":
            s2sad.grad(fn)(x)
        else:
            s2sad.jvp(fn, (x,), (np.ones_like(x),))
    assert isinstance(info.value, (s2sad.MissingRuleError, s2sad.UnsupportedSyntaxError))
    assert f"{_call_line(fn)}" in str(info.value) and "test_rules_batch2_refusals.py" in str(info.value)
    assert RAN == []


def eigh_vectors_fn(x):
    w, v = np.linalg.eigh(x)
    return np.sum(v * v * np.arange(3.0))


def test_eigh_vectors_at_repeated_eigenvalues():
    with pytest.raises(s2sad.NotDifferentiableError, match="repeated eigenvalues"):
        s2sad.grad(eigh_vectors_fn)(np.eye(3))
    with pytest.raises(s2sad.NotDifferentiableError, match="repeated eigenvalues"):
        s2sad.jvp(eigh_vectors_fn, (np.eye(3),), (np.ones((3, 3)),))


def svd_vectors_fn(x):
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    return np.sum(u * u * s)


def test_svd_vectors_at_repeated_singular_values():
    with pytest.raises(s2sad.NotDifferentiableError, match="singular values"):
        s2sad.grad(svd_vectors_fn)(np.eye(3))


def qr_fn(x):
    q, r = np.linalg.qr(x)
    return np.sum(r * r)


def test_qr_of_a_wide_matrix():
    with pytest.raises(s2sad.NotDifferentiableError, match="m >= n"):
        s2sad.grad(qr_fn)(np.arange(6.0).reshape(2, 3) + np.eye(2, 3))


def test_second_order_of_eigh_is_refused_not_wrong():
    x = np.diag([1.0, 2.0, 3.0]) + 0.1
    with pytest.raises(s2sad.S2SADError):
        s2sad.hessian(eigh_vectors_fn)(x)


def pinv_fn(x):
    return np.sum(np.linalg.pinv(x) * np.arange(6.0).reshape(3, 2))


def pad_pairs(x, c):
    return np.sum(np.pad(x, 1, constant_values=(c, 2.0 * c)) * np.arange(6.0))


def test_pinv_at_a_rank_deficient_matrix():
    x = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    with pytest.raises(s2sad.NotDifferentiableError, match="rank-deficient"):
        s2sad.grad(pinv_fn)(x)
    with pytest.raises(s2sad.NotDifferentiableError, match="rank-deficient"):
        s2sad.jvp(pinv_fn, (x,), (np.ones_like(x),))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_pad_with_a_value_per_side_is_not_silently_wrong(mode):
    x = np.array([0.5, -1.0, 2.0, 0.3])
    with pytest.raises(s2sad.S2SADError):
        if mode == "reverse":
            s2sad.grad(pad_pairs, argnums=1)(x, 0.7)
        else:
            s2sad.jvp(pad_pairs, (x, 0.7), (np.zeros(4), 1.0))
