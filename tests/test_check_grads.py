"""s2sad.check_grads: finite differences along random directions, both modes, orders 1 and 2,
and a GradientCheckError naming the worst mismatch (argument, mode, order, expected, got).

The wrong derivatives below are user rules written wrong on purpose (s2sad's own rules are
right): ``cube`` has a right first derivative whose own rule is wrong (only order 2 sees it),
``bad_fwd``'s tangent rule is wrong (forward mode only), ``bad_rev``'s adjoint rule is
wrong (reverse mode only).
"""
import math

import numpy as np
import pytest

import s2sad


def cube(x):
    return x ** 3


def cube_prime(x):
    return 3 * x ** 2


def bad_fwd(x):
    return np.sin(x)


def bad_rev(x):
    return np.sin(x)


s2sad.rules.vjp("cube(x)", function=cube, elementwise=True, x="y_bar * cube_prime(x)")
s2sad.rules.jvp("cube(x)", function=cube, elementwise=True, x="x_dot * cube_prime(x)")
s2sad.rules.vjp("cube_prime(x)", function=cube_prime, elementwise=True, x="y_bar * 5 * x")   # 6x
s2sad.rules.jvp("cube_prime(x)", function=cube_prime, elementwise=True, x="x_dot * 5 * x")
s2sad.rules.vjp("bad_fwd(x)", function=bad_fwd, elementwise=True, x="y_bar * np.cos(x)")
s2sad.rules.jvp("bad_fwd(x)", function=bad_fwd, elementwise=True, x="x_dot * np.sin(x)")     # wrong
s2sad.rules.vjp("bad_rev(x)", function=bad_rev, elementwise=True, x="-y_bar * np.cos(x)")    # wrong
s2sad.rules.jvp("bad_rev(x)", function=bad_rev, elementwise=True, x="x_dot * np.cos(x)")

X = np.array([0.3, -0.5, 1.1])


def loss(w, x, k):
    return np.sum(np.tanh(x * w) ** 2) * k + math.log(1.0 + w[0] ** 2)


def vector_out(x, a):
    return np.sin(x) * a + x[::-1]


def pair_out(x, a):
    return np.sum(x * a), np.exp(x)


def uses_cube(x, k):
    return np.sum(cube(x)) * k


def uses_bad_fwd(x, s):
    return np.sum(bad_fwd(x)) * s


def uses_bad_rev(x, s):
    return np.sum(bad_rev(x)) * s


def with_int(x, n):
    return np.sum(x ** n)


def test_right_derivatives_pass_every_order_and_mode():
    assert s2sad.check_grads(loss, (np.array([0.4, -0.2]), X[:2], 1.5)) is None
    s2sad.check_grads(loss, (np.array([0.4, -0.2]), X[:2], 1.5), order=1, modes=("rev",))
    s2sad.check_grads(loss, (np.array([0.4, -0.2]), X[:2], 1.5), modes="fwd")


def test_array_and_tuple_outputs_at_order_one():
    s2sad.check_grads(vector_out, (X, 0.7), order=1)
    s2sad.check_grads(pair_out, (X, 0.7), order=1)


def test_integer_arguments_are_constants():
    s2sad.check_grads(with_int, (X, 3))


def test_second_order_only_mismatch():
    s2sad.check_grads(uses_cube, (X, 2.0), order=1)          # the first derivative is right
    with pytest.raises(s2sad.GradientCheckError) as info:
        s2sad.check_grads(uses_cube, (X, 2.0), order=2)
    err = info.value
    assert isinstance(err, s2sad.S2SADError)
    assert err.order == 2 and err.argnum == 0 and err.mode in ("fwd", "rev")
    assert "order 2" in str(err) and "uses_cube" in str(err) and "∂²f/∂arg0∂arg0" in str(err)
    assert f"{err.expected!r}" in str(err) and f"{err.got!r}" in str(err)
    assert abs(err.expected - err.got) > 1e-3


def test_forward_only_mismatch_names_forward_mode():
    s2sad.check_grads(uses_bad_fwd, (X, 1.0), order=1, modes=("rev",))
    with pytest.raises(s2sad.GradientCheckError) as info:
        s2sad.check_grads(uses_bad_fwd, (X, 1.0), order=1)
    assert info.value.mode == "fwd" and info.value.order == 1 and info.value.argnum == 0
    assert "forward mode, order 1" in str(info.value) and "∂f/∂arg0" in str(info.value)


def test_reverse_only_mismatch_names_reverse_mode():
    s2sad.check_grads(uses_bad_rev, (X, 1.0), order=1, modes=("fwd",))
    with pytest.raises(s2sad.GradientCheckError) as info:
        s2sad.check_grads(uses_bad_rev, (X, 1.0), order=1, modes=("rev",))
    assert info.value.mode == "rev" and info.value.argnum == 0
    assert "reverse mode, order 1" in str(info.value)


def test_the_worst_mismatch_is_reported():
    """Both modes are wrong at order 1 for different arguments: the larger error wins."""
    def both(x, y):
        return np.sum(bad_fwd(x)) + 100.0 * np.sum(bad_rev(y))
    with pytest.raises(s2sad.GradientCheckError) as info:
        s2sad.check_grads(both, (X, X + 0.1), order=1)
    assert info.value.argnum == 1 and info.value.mode == "rev"


def test_tolerances_are_used():
    # a loose enough tolerance accepts the wrong forward rule: atol and rtol reach the comparison
    s2sad.check_grads(uses_bad_fwd, (X, 1.0), order=1, atol=10.0)
    with pytest.raises(s2sad.GradientCheckError):
        s2sad.check_grads(uses_bad_fwd, (X, 1.0), order=1, rtol=1e-3)


@pytest.mark.parametrize("kwargs, words", [
    (dict(order=3), "order must be 1 or 2"),
    (dict(modes=("fwd", "sideways")), "modes must be among"),
    (dict(modes=()), "modes must be among"),
])
def test_bad_options_are_refused_before_running(kwargs, words):
    ran = []

    def f(x):
        ran.append(1)
        return np.sum(x)
    with pytest.raises(s2sad.ArgumentError, match=words):
        s2sad.check_grads(f, (X,), **kwargs)
    assert not ran


def test_no_float_argument_is_refused():
    with pytest.raises(s2sad.ArgumentError, match="no float argument"):
        s2sad.check_grads(with_int, (np.arange(3), 2))


def test_second_order_of_an_array_output_is_refused():
    with pytest.raises(s2sad.ArgumentError, match="scalar output"):
        s2sad.check_grads(vector_out, (X, 0.7), order=2)
