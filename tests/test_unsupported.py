"""What stays unsupported after issue 3 fails at transformation time, with
the file, the line and a hint -- also when the construct sits inside a loop,
inside a branch that does not run for the given input, or inside a helper
function that the differentiated function calls.

(tests/test_errors.py covers the same constructs at the top level of the
differentiated function; these are the nested cases.)  Line numbers are
computed with ``inspect``, so editing this file does not break the tests.
"""
import inspect
import os
import re

import numpy as np
import pytest

import s2sad

THIS_FILE = os.path.basename(__file__)


def line_of(f, offset):
    """The absolute line number of the line `offset` lines below f's `def`."""
    return inspect.getsourcelines(f)[1] + offset


def assert_located(message, f, offset):
    """The message names this file, the offending line (number and text) and
    gives a hint."""
    lineno = line_of(f, offset)
    assert THIS_FILE in message, message
    assert re.search(rf"(?<!\d){lineno}(?!\d)", message), (
        f"line {lineno} not in message:\n{message}")
    assert "hint" in message.lower(), message
    source_line = inspect.getsourcelines(f)[0][offset].strip()
    assert source_line in message, f"source line {source_line!r} not in message:\n{message}"


# ==========================================================================
# inside loops and branches of the differentiated function

def try_in_loop(x):
    y = x
    for i in range(3):
        try:
            y = y * x
        except FloatingPointError:
            y = x
    return y


def with_in_branch(x):
    if x > 0.0:
        with np.errstate(divide="ignore"):
            y = np.log(x)
    else:
        y = x
    return y


def with_in_branch_not_taken(x):
    y = x * x
    if x > 100.0:               # never true for the test input
        with np.errstate(all="ignore"):
            y = y * 2.0
    return y


def yield_in_loop(x):
    for i in range(3):
        yield x * i


def del_in_loop(x):
    y = x
    for i in range(3):
        t = y * x
        y = np.sin(t)
        del t
    return y


def global_in_branch(x):
    if x > 0.0:
        global COUNTER
        COUNTER = 1
    return x * x


COUNTER = 0


def starred_call_in_loop(x):
    s = 0.0
    for i in range(3):
        args = (x, float(i))
        s = s + np.multiply(*args)
    return s


OPTS = {"axis": None}


def double_starred_call_in_branch(x):
    y = x * 2.0
    if x > 0.0:
        return np.sum(np.asarray(y), **OPTS)
    return y


def dict_comprehension_in_loop(x):
    s = 0.0
    for i in range(2):
        d = {k: x * k for k in range(3)}
        s = s + d[1]
    return s


def set_comprehension_in_branch(x):
    if x < 10.0:
        s = {x * k for k in range(3)}
        return x * len(s)
    return x


def walrus_in_while(x):
    y = x
    while (z := y * 0.5) > 0.1:
        y = z
    return y


def walrus_in_if(x):
    if (y := np.sin(x)) > 0.0:
        return y * x
    return x


def class_in_loop(x):
    y = x
    for i in range(2):
        class Box:
            k = 2.0
        y = y * Box.k
    return y


def star_unpacking_in_loop(x):
    s = 0.0
    for i in range(2):
        a, *rest = (x, x * x, x * 3.0)
        s = s + a
    return s


def import_in_branch(x):
    if x > 0.0:
        import math
        return math.sin(x)
    return x


def match_in_loop(x):
    y = x
    for i in range(3):
        match i:
            case 0:
                y = y * x
            case _:
                y = y + x
    return y


def yield_from_in_branch(x):
    if x > 0.0:
        yield from [x, x * x]
    return x


IN_BODY = [
    (try_in_loop, 3),
    (with_in_branch, 2),
    (with_in_branch_not_taken, 3),
    (yield_in_loop, 2),
    (del_in_loop, 5),
    (global_in_branch, 2),
    (starred_call_in_loop, 4),
    (double_starred_call_in_branch, 3),
    (dict_comprehension_in_loop, 3),
    (set_comprehension_in_branch, 2),
    (walrus_in_while, 2),
    (walrus_in_if, 1),
    (class_in_loop, 3),
    (star_unpacking_in_loop, 3),
    (import_in_branch, 2),
    (match_in_loop, 3),
    (yield_from_in_branch, 2),
]


@pytest.mark.parametrize("f, offset", IN_BODY, ids=[f.__name__ for f, _ in IN_BODY])
@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])
def test_unsupported_inside_loops_and_branches(f, offset, optimize):
    with pytest.raises(s2sad.UnsupportedSyntaxError) as e:
        s2sad.grad(f, optimize=optimize)(1.0)
    assert_located(str(e.value), f, offset)


def test_async_comprehension_is_unsupported():
    # `async for` inside a comprehension of a plain function does not even
    # compile in Python; a coroutine function is refused as a whole
    async def coroutine(x):
        y = x
        for i in range(2):
            y = y * x
        return y

    with pytest.raises(s2sad.UnsupportedSyntaxError) as e:
        s2sad.grad(coroutine)(1.0)
    assert_located(str(e.value), coroutine, 0)


# ==========================================================================
# inside helper functions called by the differentiated function

def helper_with_try(v):
    try:
        return v * v
    except ValueError:
        return v


def calls_helper_with_try(x):
    return helper_with_try(x) * x


def helper_with_del(v):
    w = v * 2.0
    u = w * v
    del w
    return u


def calls_helper_with_del_in_loop(x):
    y = x
    for i in range(3):
        y = helper_with_del(y)
    return y


def helper_with_global(v):
    global COUNTER
    COUNTER = COUNTER + 1
    return v * 3.0


def calls_helper_with_global_in_branch(x):
    if x > 0.0:
        return helper_with_global(x)
    return x


def helper_generator(v):
    for k in range(3):
        yield v * k


def calls_generator_helper(x):
    s = 0.0
    for t in helper_generator(x):
        s = s + t
    return s


def helper_with_walrus(v):
    if (w := v * v) > 1.0:
        return w
    return v


def calls_helper_with_walrus(x):
    return helper_with_walrus(x) + x


def helper_with_starred(v):
    args = (v, v)
    return np.multiply(*args)


def calls_helper_with_starred(x):
    return helper_with_starred(x) * 2.0


def helper_level2_with_with(v):
    with np.errstate(all="ignore"):
        w = v * v
    return w


def helper_level1(v):
    return helper_level2_with_with(v) + v


def calls_two_levels(x):
    return helper_level1(x) * x


def helper_with_dictcomp(v):
    d = {k: v * k for k in range(2)}
    return d[1]


def calls_helper_with_dictcomp(x):
    return helper_with_dictcomp(x) * x


def calls_nested_def_with_nonlocal(x):
    c = x

    def bump(v):
        nonlocal c
        c = c * v
        return c

    return bump(x) + c


def calls_nested_def_with_try(x):
    def inner(v):
        try:
            return v * v
        except ZeroDivisionError:
            return v

    return inner(x) * x


HELPERS = [
    (calls_helper_with_try, helper_with_try, 1),
    (calls_helper_with_del_in_loop, helper_with_del, 3),
    (calls_helper_with_global_in_branch, helper_with_global, 1),
    (calls_generator_helper, helper_generator, 2),
    (calls_helper_with_walrus, helper_with_walrus, 1),
    (calls_helper_with_starred, helper_with_starred, 2),
    (calls_two_levels, helper_level2_with_with, 1),
    (calls_helper_with_dictcomp, helper_with_dictcomp, 1),
    (calls_nested_def_with_nonlocal, calls_nested_def_with_nonlocal, 4),
    (calls_nested_def_with_try, calls_nested_def_with_try, 2),
]


@pytest.mark.parametrize("f, where, offset", HELPERS, ids=[f.__name__ for f, _, _ in HELPERS])
@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])
def test_unsupported_inside_called_helpers(f, where, offset, optimize):
    """The error points into the helper (or nested def), not at the call."""
    with pytest.raises(s2sad.UnsupportedSyntaxError) as e:
        s2sad.grad(f, optimize=optimize)(1.5)
    assert_located(str(e.value), where, offset)


def test_unsupported_helper_error_not_cached_as_success():
    for _ in range(2):
        with pytest.raises(s2sad.UnsupportedSyntaxError):
            s2sad.grad(calls_helper_with_try)(1.5)


# ==========================================================================
# functions passed as values (higher-order helpers)

def apply_fn(fn, v):
    return fn(v)


def square(v):
    return v * v


def passes_module_function(x):
    y = x * 2.0
    return apply_fn(square, y) * x


def passes_inline_lambda(x):
    y = x * 2.0
    return apply_fn(lambda v: v * v, y) * x


@pytest.mark.parametrize("f, where, offset", [
    (passes_module_function, apply_fn, 1),
    (passes_inline_lambda, passes_inline_lambda, 2),
], ids=["module-function-as-value", "inline-lambda"])
def test_functions_as_values_are_unsupported(f, where, offset):
    with pytest.raises(s2sad.UnsupportedSyntaxError) as e:
        s2sad.grad(f)(1.5)
    assert_located(str(e.value), where, offset)
