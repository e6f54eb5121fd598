"""Holes left by the rule batches, each refused before the user's function runs (at the call's
line, with an S2SADError) or differentiated correctly: einsum's interleaved subscripts, the
multi-result functions under any spelling, second derivatives only a run would have found."""
import inspect

import numpy as np
import numpy.linalg
import numpy.linalg as la
import pytest
from numpy.linalg import eigh

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
