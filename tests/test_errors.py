"""Every error path of the public contract, with the contents of its message.

An UnsupportedSyntaxError or MissingRuleError may be raised by ``grad(f)`` or,
at the latest, by the first call of the derivative, so each test does both
inside ``pytest.raises``.  Line numbers are computed with ``inspect`` so that
editing this file does not break the tests.
"""
import inspect
import os
import re

import numpy as np
import pytest
import scipy.special

import s2sad

THIS_FILE = os.path.basename(__file__)


def line_of(f, offset):
    """The absolute line number of the line `offset` lines below f's `def`."""
    return inspect.getsourcelines(f)[1] + offset


def assert_mentions_line(message, lineno):
    assert re.search(rf"(?<!\d){lineno}(?!\d)", message), (
        f"line {lineno} not in message:\n{message}")


def assert_located(message, f, offset):
    """The message names this file, the offending line and gives a hint."""
    lineno = line_of(f, offset)
    assert THIS_FILE in message, message
    assert_mentions_line(message, lineno)
    assert "hint" in message.lower(), message
    source_line = inspect.getsourcelines(f)[0][offset].strip()
    assert source_line in message, f"source line {source_line!r} not in message:\n{message}"


# --------------------------------------------------------------------------
# unsupported syntax: (function, offset of the offending line below the def)

def uses_try(x):
    y = x * 2.0
    try:
        y = y + 1.0
    except ValueError:
        y = y - 1.0
    return y


def uses_with(x):
    y = x * 2.0
    with np.errstate(all="ignore"):
        y = y * x
    return y


def uses_yield(x):
    y = x * 2.0
    yield y * x


async def uses_async(x):
    return x * x


def uses_class(x):
    y = x * 2.0
    class Box:
        value = 1.0
    return y * Box.value


G = 2.0


def uses_global(x):
    y = x * 2.0
    global G
    return y * G


def _make_uses_nonlocal():
    c = 2.0

    def uses_nonlocal(x):
        nonlocal c
        return c * x

    return uses_nonlocal


uses_nonlocal = _make_uses_nonlocal()


def uses_del(x):
    y = x * 2.0
    z = y * x
    del y
    return z


def uses_starred_call(x):
    y = x * 2.0
    args = (y, x)
    return np.multiply(*args)


UNSUPPORTED = [
    (uses_try, 2),
    (uses_with, 2),
    (uses_yield, 2),
    (uses_async, 0),
    (uses_class, 2),
    (uses_global, 2),
    (uses_nonlocal, 1),
    (uses_del, 3),
    (uses_starred_call, 3),
]


@pytest.mark.parametrize("f, offset", UNSUPPORTED, ids=[f.__name__ for f, _ in UNSUPPORTED])
def test_unsupported_syntax(f, offset):
    with pytest.raises(s2sad.UnsupportedSyntaxError) as e:
        s2sad.grad(f)(1.0)
    assert_located(str(e.value), f, offset)


@pytest.mark.parametrize("optimize", [True, False])
def test_unsupported_syntax_regardless_of_optimize(optimize):
    with pytest.raises(s2sad.UnsupportedSyntaxError) as e:
        s2sad.grad(uses_try, optimize=optimize)(1.0)
    assert_located(str(e.value), uses_try, 2)


def test_unsupported_syntax_in_value_and_grad():
    with pytest.raises(s2sad.UnsupportedSyntaxError) as e:
        s2sad.value_and_grad(uses_del)(1.0)
    assert_located(str(e.value), uses_del, 3)


def test_unsupported_syntax_raised_again_on_a_second_attempt():
    # a failed transformation must not be cached as a success
    for _ in range(2):
        with pytest.raises(s2sad.UnsupportedSyntaxError):
            s2sad.grad(uses_with)(1.0)


def test_unsupported_syntax_in_nested_function_is_located():
    def inner(x):
        y = x * 3.0
        del y
        return x

    with pytest.raises(s2sad.UnsupportedSyntaxError) as e:
        s2sad.grad(inner)(1.0)
    assert_located(str(e.value), inner, 2)


# --------------------------------------------------------------------------
# missing rules

def uses_gamma(x):
    y = x * 2.0
    return scipy.special.gamma(y)


def uses_divmod(x):
    y = x * 3.0
    q, r = divmod(y, 1.0)
    return q + r * x


@pytest.mark.parametrize("f, offset, name", [(uses_gamma, 2, "gamma"),
                                             (uses_divmod, 2, "divmod")])
def test_missing_rule(f, offset, name):
    with pytest.raises(s2sad.MissingRuleError) as e:
        s2sad.grad(f)(1.5)
    message = str(e.value)
    assert name in message, message
    assert_mentions_line(message, line_of(f, offset))
    assert THIS_FILE in message, message
    assert "rule" in message.lower(), message


def test_missing_rule_is_an_s2sad_error():
    assert issubclass(s2sad.MissingRuleError, s2sad.S2SADError)
    assert issubclass(s2sad.UnsupportedSyntaxError, s2sad.S2SADError)


# --------------------------------------------------------------------------
# source unavailable

def test_lambda_source_unavailable():
    with pytest.raises(s2sad.SourceUnavailableError) as e:
        s2sad.grad(lambda x: x * x)(1.0)
    message = str(e.value)
    assert "lambda" in message.lower(), message
    assert "def" in message, message  # says to define it with def instead


def test_builtin_source_unavailable():
    with pytest.raises(s2sad.SourceUnavailableError) as e:
        s2sad.grad(abs)(1.0)
    assert "abs" in str(e.value)


def test_exec_created_function_source_unavailable():
    namespace = {"np": np}
    exec("def made_by_exec(x):\n    return np.sum(x * x)\n", namespace)
    with pytest.raises(s2sad.SourceUnavailableError) as e:
        s2sad.grad(namespace["made_by_exec"])(np.ones(2))
    message = str(e.value)
    assert "made_by_exec" in message, message
    assert len(message.split()) >= 5, message  # a sentence saying what to do


def test_source_unavailable_is_an_s2sad_error():
    assert issubclass(s2sad.SourceUnavailableError, s2sad.S2SADError)
    assert issubclass(s2sad.NotDifferentiableError, s2sad.S2SADError)
