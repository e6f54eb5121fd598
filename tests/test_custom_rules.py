"""s2sad.custom_vjp / s2sad.custom_jvp (issue 10): a user's own derivative for their function,
JAX's names and calling conventions, used inside differentiated functions in both modes."""
import inspect

import numpy as np
import pytest

import s2sad
from util import assert_close_tree, check_grad, fd_jacobian, fd_jvp

CALLS = []


@s2sad.custom_vjp
def clipped_log(x, floor=1e-12):
    return np.log(np.maximum(x, floor))


def clipped_log_fwd(x, floor=1e-12):
    return clipped_log(x, floor), np.maximum(x, floor)


def clipped_log_bwd(m, g):
    return g / m, 0.0


clipped_log.defvjp(clipped_log_fwd, clipped_log_bwd)


@s2sad.custom_jvp
def softplus(x, w):
    return np.logaddexp(x * w, 0.0)


@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x, w), (tx, tw) = primals, tangents
    s = 1.0 / (1.0 + np.exp(-x * w))
    return softplus(x, w), s * (tx * w + x * tw)


@s2sad.custom_vjp
def no_rule_yet(x):
    return x * 2.0


def uses_clipped_log(x):
    CALLS.append("uses_clipped_log")
    z = clipped_log(x * x + 0.5)
    return np.sum(np.sin(z) * x)


def uses_softplus(x, y):
    CALLS.append("uses_softplus")
    return softplus(x, y) * 3.0


def uses_softplus_scalar(x, y):
    return np.sum(np.cos(softplus(x, y)))


def uses_no_rule(x):
    CALLS.append("uses_no_rule")
    return np.sum(no_rule_yet(x))


def line_of(fn, text):
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line and "def " not in line)


X = np.array([0.3, -1.1, 0.8, 1.7])
Y = np.array([0.5, 0.9, -0.4, 1.2])


@pytest.mark.parametrize("optimize", [True, False])
def test_custom_vjp_in_reverse_mode(optimize):
    check_grad(uses_clipped_log, X, optimize=optimize)
    _, pull = s2sad.vjp(uses_clipped_log, X, optimize=optimize)
    assert_close_tree(pull(1.0)[0], s2sad.grad(uses_clipped_log)(X))
    assert_close_tree(s2sad.jacrev(uses_clipped_log)(X), fd_jacobian(uses_clipped_log, (X,), 0), rtol=1e-5)


@s2sad.custom_vjp
def double(x):
    return 2.0 * x


# a deliberately different bwd shows which rule ran
double.defvjp(lambda x: (double(x), None), lambda res, g: (3.0 * g,))


def uses_double(x):
    return np.sum(double(x))


def test_the_custom_rule_is_used_not_the_body():
    assert_close_tree(s2sad.grad(uses_double)(X), 3.0 * np.ones(4))


@pytest.mark.parametrize("optimize", [True, False])
def test_custom_jvp_in_forward_and_vector_mode(optimize):
    tx, ty = np.array([1.0, -0.5, 0.2, 0.7]), np.array([0.3, 0.1, -1.0, 0.4])
    value, tangent = s2sad.jvp(uses_softplus, (X, Y), (tx, ty), optimize=optimize)
    assert_close_tree(value, uses_softplus(X, Y))
    assert_close_tree(tangent, fd_jvp(uses_softplus, (X, Y), (tx, ty)), rtol=1e-6)
    for argnum in (0, 1):
        assert_close_tree(s2sad.jacfwd(uses_softplus, argnum, optimize=optimize)(X, Y),
                          fd_jacobian(uses_softplus, (X, Y), argnum), rtol=1e-6)


def uses_softplus_sum(x, y):
    CALLS.append("uses_softplus_sum")
    return np.sum(softplus(x, y))


@pytest.mark.parametrize("fn,args,mode,text", [
    (uses_clipped_log, (X,), "jvp", "clipped_log"),
    (uses_softplus_sum, (X, Y), "grad", "softplus"),
    (uses_no_rule, (X,), "grad", "no_rule_yet"),
    (uses_no_rule, (X,), "jvp", "no_rule_yet"),
])
def test_a_mode_without_a_custom_rule_is_refused_before_running(fn, args, mode, text):
    CALLS.clear()
    with pytest.raises(s2sad.MissingRuleError) as info:
        if mode == "grad":
            s2sad.grad(fn)(*args)
        else:
            s2sad.jvp(fn, args, tuple(np.ones_like(a) for a in args))
    message = str(info.value)
    assert text in message and f":{line_of(fn, text + '(')}:" in message, message
    assert CALLS == [], "the user's function ran before the refusal"


def test_second_order_through_a_custom_rule_is_refused():
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.hessian(uses_softplus_scalar)(X, Y)
    assert "first derivatives" in str(info.value) or "softplus" in str(info.value)
