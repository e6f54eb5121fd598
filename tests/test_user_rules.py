"""Users register rules for functions s2sad does not know, with the same one-liners."""
import numpy as np
import pytest
import scipy.special

import s2sad


def uses_expit(x):
    return np.sum(scipy.special.expit(x * 2.0) * x)


def uses_erfcx(x):
    return np.sum(scipy.special.erfcx(x))


def uses_bucket(x):
    k = scipy.special.round(x * 3.0)          # piecewise constant
    return np.sum(x * x + k)


def test_missing_rule_says_how_to_register_one():
    with pytest.raises(s2sad.MissingRuleError) as info:
        s2sad.grad(uses_erfcx)(np.array([0.1, 0.2]))
    assert "s2sad.rules.vjp" in str(info.value) and "test_user_rules.py" in str(info.value)


def test_registered_rule_is_used_in_both_modes():
    s2sad.rules.vjp("expit(x)", function=scipy.special.expit, elementwise=True,
                    x="y_bar * y * (1.0 - y)")
    s2sad.rules.jvp("expit(x)", function=scipy.special.expit, elementwise=True,
                    x="x_dot * y * (1.0 - y)")
    x = np.array([0.3, -1.2, 0.8])
    s = scipy.special.expit(2 * x)
    expected = s + x * 2 * s * (1 - s)
    np.testing.assert_allclose(s2sad.grad(uses_expit)(x), expected, rtol=1e-12)
    d = np.array([1.0, -0.5, 0.25])
    _, tangent = s2sad.jvp(uses_expit, (x,), (d,))
    assert tangent == pytest.approx(float(expected @ d), rel=1e-12)


def test_registered_nondifferentiable_function():
    s2sad.rules.nondifferentiable(scipy.special.round)
    x = np.array([0.3, -1.2])
    np.testing.assert_allclose(s2sad.grad(uses_bucket)(x), 2 * x)
