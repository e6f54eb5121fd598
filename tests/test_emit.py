"""Emitting source: astor and the ast.unparse fallback agree; tracebacks show generated code."""
import ast
import math
import traceback

import numpy as np
import pytest

import s2sad
from s2sad import emit
from s2sad.normalize import normalize
from s2sad.parse import parse_function
from s2sad.reverse import reverse


def model(x, w):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.tanh(w * x) * i) if x[0] > 0 else s - x[i]
    return s


def unsafe_log(x):
    return math.log(x) * x


@pytest.mark.parametrize("use_astor", [True, False])
def test_both_writers_give_the_same_program(use_astor, monkeypatch):
    tree = reverse(normalize(parse_function(model)), ["x", "w"], multi=True)
    text = emit.to_source(tree, use_astor=use_astor)
    other = emit.to_source(tree, use_astor=not use_astor)
    assert ast.dump(ast.parse(text)) == ast.dump(ast.parse(other))
    assert "# forward sweep" in text and "# reverse sweep" in text
    # and the derivative computed through either writer is the same
    monkeypatch.setattr(emit, "USE_ASTOR", use_astor)
    df = s2sad.grad(model, argnums=(0, 1), optimize=False)
    df._compiled.clear()
    x, w = np.array([0.5, -0.2, 0.3]), np.array([1.0, 2.0, -1.0])
    gx, gw = df(x, w)
    e = 1e-6
    fd = [(model(x + e * d, w) - model(x - e * d, w)) / (2 * e) for d in np.eye(3)]
    np.testing.assert_allclose(gx, fd, rtol=1e-6, atol=1e-8)


def test_astor_missing_falls_back(monkeypatch):
    monkeypatch.setattr(emit, "astor", None)
    tree = reverse(normalize(parse_function(unsafe_log)), ["x"])
    text = emit.to_source(tree)
    assert "def grad_unsafe_log(x):" in text
    compile(text, "<t>", "exec")


def test_traceback_shows_the_generated_line():
    df = s2sad.grad(unsafe_log)
    with pytest.raises(ValueError) as info:
        df(-1.0)
    text = "".join(traceback.format_exception(info.value))
    assert "<s2sad-" in text and "grad_unsafe_log" in text
    assert "math.log(x)" in text, text     # the generated line itself, from linecache


def test_inspect_reads_a_derivative_source():
    import inspect
    df = s2sad.grad(unsafe_log)
    df(2.0)
    fn = df._last[0]
    assert "def grad_unsafe_log" in inspect.getsource(fn)


def negative_base(x):
    a = -0.5
    return a ** 2 * x + (-2.0) ** 2 * x


def test_negative_constants_keep_their_precedence():
    # -0.5 ** 2 would be -(0.5 ** 2): the emitter must write (-0.5) ** 2
    for optimize in (True, False):
        assert s2sad.grad(negative_base, optimize=optimize)(1.0) == pytest.approx(0.25 + 4.0)
    text = emit.to_source(ast.parse("y = x").body[0])
    assert text.strip() == "y = x"
