"""A derivative never goes stale (issue 7): a cached specialisation is guarded by what it assumed
about the world (the functions and module attributes it resolved, the closure cells it baked in)
and is transformed again when that changes; runtime helper names never collide with the user's.

Every case is checked against finite differences of the function as it now runs, before and
after the change of state, in grad, value_and_grad, jvp, vjp, jacfwd and hessian."""
import importlib
import sys
import textwrap

import numpy as np
import pytest

import s2sad
from s2sad.errors import S2SADError

X = np.array([0.3, -0.7, 1.1])


# --- finite differences of the function as it runs now ---------------------------------------

def fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def fd_hessian(f, x, eps=1e-4):
    n = x.size
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.zeros(n), np.zeros(n)
            ei[i], ej[j] = eps, eps
            h[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) \
                / (4 * eps * eps)
    return h


class Derivatives:
    """Every kind of derivative of ``f``, made once (so a later call hits the cache)."""

    def __init__(self, f, optimize):
        self.f, self.optimize = f, optimize
        self.grad = s2sad.grad(f, optimize=optimize)
        self.value_and_grad = s2sad.value_and_grad(f, optimize=optimize)
        self.jacfwd = s2sad.jacfwd(f, optimize=optimize)
        self.hessian = s2sad.hessian(f, optimize=optimize)

    def check(self, x=X, second_order=True):
        """All of them agree with finite differences of ``f`` as it runs now.  (No hessian for a
        helper of two arguments: jacfwd of a gradient through such a helper fails in vector
        mode, a bug outside issue 7's state part, reported as a GeneratedCodeError.)"""
        f = self.f
        expected = fd_grad(f, x)
        np.testing.assert_allclose(self.grad(x), expected, rtol=1e-6, atol=1e-6)
        value, g = self.value_and_grad(x)
        assert value == pytest.approx(f(x))
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-6)
        v = np.array([0.5, -1.0, 2.0])
        out, tangent = s2sad.jvp(f, (x,), (v,), optimize=self.optimize)
        assert out == pytest.approx(f(x))
        assert tangent == pytest.approx(expected @ v, rel=1e-6, abs=1e-6)
        out, vjp_fn = s2sad.vjp(f, x, optimize=self.optimize)
        np.testing.assert_allclose(vjp_fn(1.0)[0], expected, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(self.jacfwd(x), expected, rtol=1e-6, atol=1e-6)
        if second_order:
            np.testing.assert_allclose(self.hessian(x), fd_hessian(f, x), rtol=1e-4, atol=1e-4)


@pytest.fixture(params=[True, False], ids=["optimized", "unoptimized"])
def optimize(request):
    return request.param


# --- a module whose helpers are rebound (a notebook re-run, mod.helper = other) ---------------

MODULE = '''
import numpy as np
import {lib} as lib


def helper(v):
    return v * v


def square_plus(v):
    return v * v + 3.0 * v


def cube(v):
    return v * v * v


def f(x):
    return np.sum(helper(x) * x)


def through_module(x):
    return np.sum(lib.helper(x) + x)


def through_builtin(x):
    return np.sum(abs(x) * x)


def reversed(seq):                  # globals named like builtins the generated code calls
    return seq[::-1]


def len(seq):
    return 2


def loops_over_a_list(x):
    total = 0.0
    for w in [1.0, 2.0, 3.0]:
        total = total + w * np.sin(x * w)
    for i in range(3):
        total = total + reversed(x)[i] * x[i]
    return np.sum(total) + len(x) * np.sum(x)
'''

LIB = '''
import numpy as np


def helper(v):
    return np.sin(v)


def other(v):
    return np.exp(v) * v
'''


@pytest.fixture
def module(tmp_path, monkeypatch):
    """A fresh user module (and a library module it imports), written to files."""
    tag = f"_stale_{abs(hash(str(tmp_path)))}"
    (tmp_path / f"lib{tag}.py").write_text(LIB)
    path = tmp_path / f"mod{tag}.py"
    path.write_text(MODULE.format(lib=f"lib{tag}"))
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module(f"mod{tag}")
    yield mod
    sys.modules.pop(f"mod{tag}", None)
    sys.modules.pop(f"lib{tag}", None)


def test_helper_rebound_in_its_module(module, optimize):
    d = Derivatives(module.f, optimize)
    d.check()
    module.helper = module.cube                     # mod.helper = other
    d.check()
    module.helper = module.square_plus
    d.check()


def test_helper_redefined_by_a_rerun(module, optimize):
    d = Derivatives(module.f, optimize)
    d.check()
    # a notebook cell re-run: the same `def helper`, edited, executed in the module again
    source = textwrap.dedent('''
        def helper(v):
            return np.cos(v) * v
    ''')
    exec(compile(source, "<rerun>", "exec"), module.__dict__)
    with pytest.raises(S2SADError):      # no file holds this helper's source: refused, not stale
        d.grad(X)
    path = module.__file__
    with open(path) as fh:
        text = fh.read()
    with open(path, "w") as fh:
        fh.write(text.replace("return v * v\n", "return np.cos(v) * v\n", 1))
    import linecache
    linecache.checkcache(path)
    exec(compile(open(path).read(), path, "exec"), module.__dict__)
    d.check()


def test_helper_code_replaced(module, optimize):
    d = Derivatives(module.f, optimize)
    d.check()
    module.helper.__code__ = module.cube.__code__    # the same function object, another body
    d.check()


def test_module_attribute_rebound(module, optimize):
    d = Derivatives(module.through_module, optimize)
    d.check()
    module.lib.helper = module.lib.other
    d.check()


def test_builtin_shadowed_later(module, optimize):
    d = Derivatives(module.through_builtin, optimize)
    d.check(X + 2.0)
    module.abs = module.cube                          # a global now shadows the builtin
    d.check(X + 2.0)
    del module.abs
    d.check(X + 2.0)


def test_globals_named_like_builtins_generated_code_calls(module, optimize):
    Derivatives(module.loops_over_a_list, optimize).check()


def test_rebinding_back_and_forth_keeps_the_cache_bounded(module):
    g = s2sad.grad(module.f)
    for k in range(6):
        module.helper = module.cube if k % 2 else module.square_plus
        np.testing.assert_allclose(g(X), fd_grad(module.f, X), rtol=1e-6, atol=1e-6)
    assert len(g._compiled) == 1


# --- closures ----------------------------------------------------------------------------------

def make_scaled(k):
    def scaled(x):
        return k * np.sum(x * x)

    def set_k(value):
        nonlocal k
        k = value
    return scaled, set_k


def test_closure_cell_rebound_by_nonlocal(optimize):
    scaled, set_k = make_scaled(2.0)
    d = Derivatives(scaled, optimize)
    d.check()
    set_k(5.0)
    d.check()
    set_k(5.0)                                        # an equal number: nothing changes
    d.check()


def test_closure_over_a_variable_the_enclosing_scope_reassigns(optimize):
    k = 1.5

    def f(x):
        return np.sum(np.sin(k * x))
    d = Derivatives(f, optimize)
    d.check()
    k = -0.5
    d.check()
    k = np.array([1.0, 2.0, 3.0])                     # a float becomes an array
    d.check()
    k = np.array([0.5, -1.0, 0.25])                   # another array of the same kind
    d.check()


def make_with_helper():
    def helper(v):
        return v * v

    def f(x):
        return np.sum(helper(x) * x)

    def set_helper(fn):
        nonlocal helper
        helper = fn
    return f, set_helper


def cube(v):
    return v * v * v


def test_closure_cell_holding_a_function(optimize):
    f, set_helper = make_with_helper()
    d = Derivatives(f, optimize)
    d.check()
    set_helper(cube)
    d.check()


# --- global functions of this module -----------------------------------------------------------

def softplus(v):
    return np.log1p(np.exp(v))


def uses_softplus(x):
    return np.sum(softplus(x) * x)


def test_global_function_rebound(monkeypatch, optimize):
    d = Derivatives(uses_softplus, optimize)
    d.check()
    monkeypatch.setitem(globals(), "softplus", np.tanh)     # a NumPy function with a rule
    d.check()
    monkeypatch.setitem(globals(), "softplus", cube)
    d.check()


def test_helper_rebound_to_something_without_a_derivative_is_refused(monkeypatch):
    g = s2sad.grad(uses_softplus)
    g(X)
    ran = []
    monkeypatch.setitem(globals(), "softplus", np.vectorize(lambda v: ran.append(v) or v))
    with pytest.raises(S2SADError) as info:
        g(X)
    lineno = uses_softplus.__code__.co_firstlineno + 1
    assert f"{lineno}" in str(info.value)
    assert not ran


# --- user names like the runtime's helpers -----------------------------------------------------

def unreduce(v):
    return v * 3.0


def unbroadcast(v):
    return v * np.sin(v) + v


def zeros_like(v):
    return v + 1.0


def stack(a, b):
    return a * b


def uses_unreduce(x):
    return np.sum(unreduce(x) * x)


def uses_unbroadcast(x):
    return np.sum(unbroadcast(x) * x)


def uses_zeros_like(x):
    return np.sum(zeros_like(x) * x)


def uses_stack(x):
    return np.sum(stack(x, x) * np.exp(x))


@pytest.mark.parametrize("f", [uses_unreduce, uses_unbroadcast, uses_zeros_like, uses_stack])
def test_global_helper_named_like_a_runtime_helper(f, optimize):
    Derivatives(f, optimize).check(second_order=f is not uses_stack)


def test_runtime_named_helper_rebound(monkeypatch, optimize):
    d = Derivatives(uses_zeros_like, optimize)
    d.check()
    monkeypatch.setitem(globals(), "zeros_like", cube)
    d.check()


def make_closure_named_like_runtime():
    def stack(a, b):
        return a * b + a

    def unbroadcast(v):
        return v * v

    def f(x):
        return np.sum(stack(x, unbroadcast(x)) * x)
    return f


def test_closure_named_like_a_runtime_helper(optimize):
    Derivatives(make_closure_named_like_runtime(), optimize).check(second_order=False)


def parameter_named_like_runtime(x, stack=2.0):
    return np.sum(np.sum(x * stack) * x + np.tanh(x))


def parameter_named_unbroadcast(unbroadcast):
    return np.sum(unbroadcast * np.array([[1.0], [2.0]]) * unbroadcast)


def test_parameter_named_like_a_runtime_helper(optimize):
    Derivatives(parameter_named_like_runtime, optimize).check()
    Derivatives(parameter_named_unbroadcast, optimize).check()
    g = s2sad.grad(parameter_named_like_runtime, argnums=(0, 1), optimize=optimize)
    gx, gs = g(X, 3.0)
    np.testing.assert_allclose(gx, fd_grad(lambda x: parameter_named_like_runtime(x, 3.0), X),
                               rtol=1e-6, atol=1e-6)
    assert gs == pytest.approx((parameter_named_like_runtime(X, 3.0 + 1e-6)
                                - parameter_named_like_runtime(X, 3.0 - 1e-6)) / 2e-6, rel=1e-6)


def local_named_like_runtime(x):
    zeros_like = x * 2.0
    stack = zeros_like * x
    return np.sum(stack + np.sin(zeros_like))


def test_local_named_like_a_runtime_helper(optimize):
    Derivatives(local_named_like_runtime, optimize).check()


batch_array = np.array([1.0, 2.0, 3.0])                    # a global array named like a runtime helper


def reads_array_named_batch_array(x):
    return np.sum(np.sin(batch_array * x))


def test_global_array_named_like_a_runtime_helper(monkeypatch, optimize):
    d = Derivatives(reads_array_named_batch_array, optimize)
    d.check()
    monkeypatch.setitem(globals(), "batch_array", np.array([-2.0, 0.5, 1.5]))
    d.check()
    monkeypatch.setitem(globals(), "batch_array", 0.75)
    d.check()


# --- objects, helpers' closures and defaults ---------------------------------------------------

class Scaler:
    def __init__(self, a):
        self.a = a

    def apply(self, v):
        return self.a * v * v


SCALER = Scaler(2.0)


def uses_scaler(x):
    return np.sum(SCALER.apply(x) + x)


def test_global_object_rebound_or_changed(monkeypatch, optimize):
    d = Derivatives(uses_scaler, optimize)
    d.check()
    monkeypatch.setitem(globals(), "SCALER", Scaler(5.0))      # another object: re-transformed
    d.check()
    SCALER.a = -1.5                                             # an attribute: read live
    d.check()


def make_scaled_sine(c):
    def scaled_sine(v):
        return c * np.sin(v)

    def set_c(value):
        nonlocal c
        c = value
    return scaled_sine, set_c


scaled_sine, set_sine_scale = make_scaled_sine(2.0)


def uses_scaled_sine(x):
    return np.sum(scaled_sine(x) * x)


def test_helper_closure_cell_rebound(optimize):
    set_sine_scale(2.0)
    d = Derivatives(uses_scaled_sine, optimize)
    d.check()
    set_sine_scale(-3.0)
    d.check()
    set_sine_scale(2.0)


def with_default(v, s=2.0):
    return s * v * v


def uses_default(x):
    return np.sum(with_default(x) * np.cos(x))


def test_helper_defaults_replaced(optimize):
    saved = with_default.__defaults__
    try:
        d = Derivatives(uses_default, optimize)
        d.check()
        with_default.__defaults__ = (3.0,)
        d.check()
    finally:
        with_default.__defaults__ = saved


def scalar_helper(v):
    return v * v


def scalar_f(x):
    return scalar_helper(x) * np.sin(x)


def test_grad_of_grad_after_a_rebinding(monkeypatch, optimize):
    gg = s2sad.grad(s2sad.grad(scalar_f, optimize=optimize), optimize=optimize)

    def fd2(x, eps=1e-4):
        return (scalar_f(x + eps) - 2 * scalar_f(x) + scalar_f(x - eps)) / (eps * eps)
    assert gg(0.7) == pytest.approx(fd2(0.7), rel=1e-5)
    monkeypatch.setitem(globals(), "scalar_helper", np.exp)
    assert gg(0.7) == pytest.approx(fd2(0.7), rel=1e-5)
    monkeypatch.setitem(globals(), "scalar_helper", cube)
    assert gg(0.7) == pytest.approx(fd2(0.7), rel=1e-5)


def stack_in_a_loop(x):
    t = 0.0
    for i in range(3):
        t = t + np.sum(stack(x, x) * np.sin(x)) * i
    return t


def test_helper_named_like_the_tape_in_a_loop(optimize):
    Derivatives(stack_in_a_loop, optimize).check(second_order=False)
