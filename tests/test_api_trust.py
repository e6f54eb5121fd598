"""Issue 7, items 4-6: the function that runs is the function differentiated; arguments s2sad
does not know are refused, never held constant; every failure is an S2SADError that says where."""
import functools
import inspect
import linecache

import numpy as np
import pytest

import s2sad
from s2sad import api
from s2sad.errors import (ArgumentError, GeneratedCodeError, NotDifferentiableError, S2SADError,
                          SourceUnavailableError, UnsupportedSyntaxError)
from util import assert_close_tree, check_grad, fd_jacobian, fd_jvp, load_function

OPT = pytest.mark.parametrize("optimize", [True, False])
pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
CALLS = []


def line_of(fn, text):
    """The file line number of the first line of ``fn``'s source containing ``text``."""
    lines, start = inspect.getsourcelines(fn)
    return start + next(k for k, line in enumerate(lines) if text in line)


# --- decorators ----------------------------------------------------------------------------------

def double_it(fn):
    @functools.wraps(fn)
    def wrapper(x):
        CALLS.append("wrapper")
        return 2.0 * fn(x)
    return wrapper


def double_it_plain(fn):
    def wrapper(x):
        return 2.0 * fn(x)
    return wrapper


def tagged(fn):
    """A user decorator that only records the function (declared transparent below)."""
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)
    return wrapper


s2sad.transparent(tagged)


@double_it
def doubled(x):
    CALLS.append("doubled")
    return x * x


@double_it_plain
def doubled_plain(x):
    return x * x


@functools.lru_cache(maxsize=None)
def cached(x):
    return np.sin(x) * x


@functools.cache
def cached2(x):
    return x ** 3


@tagged
def tagged_cube(x):
    return x ** 3


def calls_doubled(x):
    CALLS.append("calls_doubled")
    return doubled(x) + x


def calls_cached(x):
    return cached(x) * 2.0


def calls_doubled_plain(x):
    return doubled_plain(x) + x


def calls_tagged(x):
    return tagged_cube(x) + x


def test_wrapping_decorator_is_refused_at_its_line():
    CALLS.clear()
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(doubled)(3.0)
    assert f":{line_of(doubled.__wrapped__, '@double_it')}:" in str(info.value)
    assert "double_it" in str(info.value) and "s2sad.transparent" in str(info.value)
    assert CALLS == [], "the user's function ran before the refusal"
    for transform in (lambda: s2sad.jvp(doubled, (3.0,), (1.0,)), lambda: s2sad.vjp(doubled, 3.0),
                      lambda: s2sad.jacfwd(doubled)(np.ones(2)), lambda: s2sad.hessian(doubled)(3.0)):
        with pytest.raises(UnsupportedSyntaxError):
            transform()
    assert CALLS == []


def test_decorated_helper_is_refused_at_the_decorator():
    CALLS.clear()
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(calls_doubled)(3.0)
    assert f":{line_of(doubled.__wrapped__, '@double_it')}:" in str(info.value)
    with pytest.raises(UnsupportedSyntaxError):
        s2sad.jvp(calls_doubled, (3.0,), (1.0,))
    assert CALLS == []


@OPT
def test_plain_wrapper_is_differentiated_as_the_wrapper(optimize):
    # no functools.wraps: the wrapper's own `def` is what runs and what is read
    check_grad(doubled_plain, 3.0, optimize=optimize)
    assert s2sad.grad(doubled_plain, optimize=optimize)(3.0) == pytest.approx(12.0)
    assert s2sad.grad(calls_doubled_plain, optimize=optimize)(3.0) == pytest.approx(13.0)
    out, tangent = s2sad.jvp(calls_doubled_plain, (3.0,), (1.0,), optimize=optimize)
    assert tangent == pytest.approx(13.0)


def test_wrapper_made_by_a_call_is_refused():
    def square(x):
        return x * x
    wrapped = double_it(square)
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sad.grad(wrapped)(3.0)
    assert "wraps" in str(info.value)


@OPT
@pytest.mark.parametrize("fn,x", [(cached, 0.7), (cached2, 0.7), (tagged_cube, 0.7),
                                  (calls_cached, 0.7), (calls_tagged, 0.7)])
def test_transparent_decorators(fn, x, optimize):
    check_grad(fn, x, optimize=optimize)
    want = fd_jvp(fn, (x,), (1.0,))
    _, got = s2sad.jvp(fn, (x,), (1.0,), optimize=optimize)
    assert got == pytest.approx(want, rel=1e-5)
    h = s2sad.hessian(fn, optimize=optimize)(x)
    fd = (s2sad.grad(fn)(x + 1e-5) - s2sad.grad(fn)(x - 1e-5)) / 2e-5
    assert h == pytest.approx(fd, rel=1e-4)


def test_transparent_needs_a_callable():
    with pytest.raises(ArgumentError):
        s2sad.transparent(3)


def test_jvp_tangent_mismatch_is_an_s2sad_error():
    with pytest.raises(ArgumentError):
        s2sad.jvp(two, (1.0, 2.0), (1.0,))
    with pytest.raises(ArgumentError):
        s2sad.jvp(total, (np.ones(3),), (np.ones(2),))


@s2sad.grad
def grad_of_square(x):
    return x * x


def test_s2sad_decorators_are_transparent():
    assert grad_of_square(3.0) == pytest.approx(6.0)
    assert s2sad.grad(grad_of_square)(3.0) == pytest.approx(2.0)


def test_edited_source_is_refused(tmp_path):
    f = load_function("def f(x):\n    return x * x\n", tmp_path, "edited_mod")
    assert s2sad.grad(f)(3.0) == pytest.approx(6.0)
    for text in ("def f(x):\n    return x * x * x\n",           # same lines, other code
                 "\n\ndef f(x):\n    return x * x\n",            # moved
                 "def g(x):\n    return x * x\n"):              # renamed
        (tmp_path / "edited_mod.py").write_text(text)
        linecache.checkcache()
        api._PARSED.clear()
        api._DERIVATIVES.clear()
        with pytest.raises(SourceUnavailableError) as info:
            s2sad.grad(f)(3.0)
        assert "reload" in str(info.value)


def test_closures_and_private_names_match_their_source():
    scale = 3.0

    def f(x):
        return scale * x * x
    assert s2sad.grad(f)(2.0) == pytest.approx(12.0)

    class Model:
        __k = 2.0

        def energy(self, x):
            return self.__k * x * x
    assert s2sad.grad(Model().energy)(3.0) == pytest.approx(12.0)


# --- bound methods, classmethods, staticmethods --------------------------------------------------

class Spring:
    def __init__(self, k, rest):
        self.k = k
        self.rest = rest

    def energy(self, x, y):
        d = x - self.rest
        return 0.5 * self.k * np.sum(d * d) * y + np.sin(y)

    @classmethod
    def cube(cls, x):
        return cls.factor * x ** 3

    @staticmethod
    def square(x):
        return np.sum(x * x)

    factor = 2.0


@OPT
def test_bound_method_gradient(optimize):
    spring = Spring(3.0, np.array([0.5, -1.0, 2.0]))
    x, y = np.array([1.0, 2.0, 0.25]), 0.7
    check_grad(spring.energy, x, y, optimize=optimize)                # argnums 0 is x, not self
    check_grad(spring.energy, x, y, argnums=1, optimize=optimize)
    check_grad(spring.energy, x, y, argnums=(0, 1), optimize=optimize)
    with pytest.raises(ArgumentError):
        s2sad.grad(spring.energy, argnums=2)


@OPT
def test_bound_method_forward_and_hessian(optimize):
    spring = Spring(3.0, np.array([0.5, -1.0, 2.0]))
    x, y = np.array([1.0, 2.0, 0.25]), 0.7
    _, tangent = s2sad.jvp(spring.energy, (x, y), (np.ones(3), 0.5), optimize=optimize)
    assert tangent == pytest.approx(fd_jvp(spring.energy, (x, y), (np.ones(3), 0.5)), rel=1e-5)
    assert_close_tree(s2sad.jacfwd(spring.energy, optimize=optimize)(x, y),
                      fd_jacobian(spring.energy, (x, y), 0))
    h = s2sad.hessian(spring.energy, optimize=optimize)(x, y)
    assert_close_tree(h, 3.0 * y * np.eye(3), rtol=1e-6)
    ct = s2sad.vjp(spring.energy, x, y, optimize=optimize)[1](1.0)[1]
    assert ct == pytest.approx(fd_jvp(spring.energy, (x, y), (None, 1.0)), rel=1e-5)


def test_method_attributes_are_read_when_called():
    spring = Spring(3.0, 0.5)
    g = s2sad.grad(spring.energy)
    assert g(1.0, 1.0) == pytest.approx(3.0 * 0.5)
    spring.k = 5.0                                  # a new value is used
    assert g(1.0, 1.0) == pytest.approx(5.0 * 0.5)
    spring.rest = np.array([0.0, 1.0])              # a new kind re-specialises
    check_grad(spring.energy, 1.0, 1.0)
    assert g(1.0, 1.0) == pytest.approx(5.0 * 1.0)


@OPT
def test_classmethod_and_staticmethod(optimize):
    check_grad(Spring.cube, 0.8, optimize=optimize)
    assert s2sad.grad(Spring.cube, optimize=optimize)(1.0) == pytest.approx(6.0)
    assert s2sad.hessian(Spring.cube, optimize=optimize)(1.0) == pytest.approx(12.0)
    check_grad(Spring.square, np.array([1.0, -2.0]), optimize=optimize)
    check_grad(Spring(1.0, 0.0).square, np.array([1.0, -2.0]), optimize=optimize)


def uses_a_method(x):
    return SPRING.energy(x, 2.0) + x


SPRING = Spring(3.0, 0.5)


@OPT
def test_method_called_inside(optimize):
    check_grad(uses_a_method, 1.5, optimize=optimize)
    _, tangent = s2sad.jvp(uses_a_method, (1.5,), (1.0,), optimize=optimize)
    assert tangent == pytest.approx(fd_jvp(uses_a_method, (1.5,), (1.0,)), rel=1e-5)


# --- arguments s2sad does not know ---------------------------------------------------------------

def total(x):
    CALLS.append("total")
    return np.sum(x * x)


class DuckArray:
    """A tiny stand-in for a dask array: NEP 18 dispatch, not an ndarray."""

    def __init__(self, data):
        self.data = np.asarray(data)
        self.ndim = self.data.ndim
        self.shape = self.data.shape

    def __array_function__(self, func, types, args, kwargs):
        return func(*[a.data if isinstance(a, DuckArray) else a for a in args], **kwargs)

    def __mul__(self, other):
        return DuckArray(self.data * (other.data if isinstance(other, DuckArray) else other))


@OPT
@pytest.mark.parametrize("x", [np.float64(1.5), np.float32(1.5), np.array(1.5)])
def test_numpy_scalars_and_0d_arrays_just_work(x, optimize):
    g = s2sad.grad(total, optimize=optimize)(x)
    assert type(g) is type(x) and np.shape(g) == np.shape(x)
    assert float(g) == pytest.approx(3.0)
    out, tangent = s2sad.jvp(total, (x,), (x,), optimize=optimize)
    assert float(tangent) == pytest.approx(2 * 1.5 * 1.5)
    (ct,) = s2sad.vjp(total, x, optimize=optimize)[1](1.0)
    assert type(ct) is type(x) and float(ct) == pytest.approx(3.0)
    assert float(s2sad.hessian(total, optimize=optimize)(x)) == pytest.approx(2.0)


BAD_ARGUMENTS = [
    pytest.param(np.ma.array([1.0, 2.0], mask=[False, True]), id="masked"),
    pytest.param("matrix", id="matrix"),
    pytest.param(2.0 + 1.0j, id="complex"),
    pytest.param(np.array([1.0 + 1j]), id="complex-array"),
    pytest.param(DuckArray([1.0, 2.0]), id="duck-array"),
]


@pytest.mark.parametrize("x", BAD_ARGUMENTS)
def test_unknown_arguments_are_refused_before_running(x):
    if isinstance(x, str):
        x = np.matrix([[1.0, 2.0]])
    CALLS.clear()
    for transform in (lambda: s2sad.grad(total)(x), lambda: s2sad.value_and_grad(total)(x),
                      lambda: s2sad.jvp(total, (x,), (x,)), lambda: s2sad.vjp(total, x),
                      lambda: s2sad.jacfwd(total)(x), lambda: s2sad.jacrev(total)(x),
                      lambda: s2sad.hessian(total)(x)):
        with pytest.raises(ArgumentError) as info:
            transform()
        assert "Hint" in str(info.value)
    assert CALLS == []


@pytest.mark.parametrize("x", [[1.0, 2.0], (1.0, 2.0), {"a": 1.0}], ids=["list", "tuple", "dict"])
def test_containers_used_as_arrays_are_refused_before_running(x):
    """A container is a pytree (tests/test_pytrees.py), but ``x * x`` on it is not arithmetic:
    refused before anything runs (with a hint) by every transform."""
    CALLS.clear()
    for transform in (lambda: s2sad.grad(total)(x), lambda: s2sad.value_and_grad(total)(x),
                      lambda: s2sad.jvp(total, (x,), (x,)), lambda: s2sad.vjp(total, x),
                      lambda: s2sad.jacfwd(total)(x), lambda: s2sad.jacrev(total)(x),
                      lambda: s2sad.hessian(total)(x)):
        with pytest.raises(S2SADError) as info:
            transform()
        assert "hint" in str(info.value).lower()
    assert CALLS == []


def scaled(x, m):
    return np.sum(m * x)


def test_ndarray_subclass_constant_is_refused():
    # np.matrix's * is a matrix product: the derivative's rules are NumPy's, so refuse
    with pytest.raises(ArgumentError):
        s2sad.grad(scaled)(np.ones((1, 2)), np.matrix([[1.0, 2.0]]))
    with pytest.raises(ArgumentError):
        s2sad.jacfwd(scaled)(np.ones((1, 2)), np.matrix([[1.0, 2.0]]))


def test_float_then_complex_does_not_reuse_the_float_specialisation():
    g = s2sad.grad(total)
    assert g(2.0) == pytest.approx(4.0)
    with pytest.raises(ArgumentError):
        g(2.0 + 0j)


@pytest.mark.parametrize("x", [2, True, np.array([1, 2])])
def test_int_arguments(x):
    with pytest.raises(NotDifferentiableError):
        s2sad.grad(total)(x)
    # jvp and vjp hold ints constant (documented): a zero tangent is fine, a non-zero one refused
    out, tangent = s2sad.jvp(scaled, (1.5, x), (1.0, np.zeros_like(x)))
    assert tangent == pytest.approx(np.sum(x))
    with pytest.raises(NotDifferentiableError):
        s2sad.jvp(scaled, (1.5, x), (1.0, np.ones_like(x)))
    assert s2sad.vjp(scaled, 1.5, x)[1](1.0)[1] is None


def reads_dict(x, params):
    return params["a"] * x * x + params["b"]


def test_dict_argument_read_with_constant_keys():
    params = {"a": 3.0, "b": 1.0}
    check_grad(reads_dict, 2.0, params)
    g = s2sad.grad(reads_dict, argnums=1)(2.0, params)     # a pytree gradient (tests/test_pytrees.py)
    assert g == {"a": 4.0, "b": 1.0} and type(g["a"]) is float


# --- argnums, output shape -----------------------------------------------------------------------

def two(x, y):
    return x * y


@pytest.mark.parametrize("argnums", [2, -3, (0, 2), "0", 1.0, True, (0, "1"), ()])
@pytest.mark.parametrize("make", [s2sad.grad, s2sad.value_and_grad, s2sad.jacfwd, s2sad.jacrev,
                                  s2sad.hessian])
def test_bad_argnums(make, argnums):
    with pytest.raises(ArgumentError):
        make(two, argnums=argnums)


def vector_out(x):
    y = 2.0 * x
    return y


def test_non_scalar_output_names_the_return():
    for make in (s2sad.grad, s2sad.value_and_grad):
        with pytest.raises(NotDifferentiableError) as info:
            make(vector_out)(np.ones(3))
        message = str(info.value)
        assert f"{vector_out.__code__.co_filename}:{line_of(vector_out, 'return y')}:" in message
        # known to be an array (ndim 1) before running: refused without running vector_out
        assert f":{vector_out.__code__.co_firstlineno}" in message and "array of 1 dimension" in message


# --- exceptions inside generated code ------------------------------------------------------------

def raises_on_negative(x):
    if x < 0.0:
        raise ValueError("negative input")
    return x * x


def log_of(x):
    return np.sum(np.log(x) * np.ones(3))


def test_user_exceptions_propagate_unchanged():
    for call in (lambda: s2sad.grad(raises_on_negative)(-1.0),
                 lambda: s2sad.jvp(raises_on_negative, (-1.0,), (1.0,)),
                 lambda: s2sad.vjp(raises_on_negative, -1.0)):
        with pytest.raises(ValueError, match="negative input") as info:
            call()
        assert not isinstance(info.value, S2SADError)
    with pytest.raises(ValueError) as info:           # a NumPy error on the user's own statement
        s2sad.grad(log_of)(np.ones(4))
    assert not isinstance(info.value, S2SADError)


def test_generated_code_failure_is_reported():
    g = s2sad.grad(total)
    g(np.ones(3))
    key, entry = next((k, v) for k, v in g._compiled.items() if v is g._last)
    # stand in for a bug in a rule: the derivative fails inside its own (generated) code
    namespace, text = {}, "def grad_total(x):\n    stack = []\n    return stack.pop()\n"
    linecache.cache["<s2sad-test:grad_total>"] = (len(text), None, text.splitlines(True),
                                                  "<s2sad-test:grad_total>")
    exec(compile(text, "<s2sad-test:grad_total>", "exec"), namespace)
    broken = namespace["grad_total"]
    g._compiled[key] = entry[:3] + (lambda args: broken(*args),)
    CALLS.clear()
    with pytest.raises(GeneratedCodeError) as info:
        g(np.ones(3))
    message = str(info.value)
    assert "total" in message and "line 3" in message and "stack.pop()" in message
    assert isinstance(info.value.__cause__, IndexError)


OFFSET = 0.5


def shifted(x):
    return np.sum((x - OFFSET) ** 2)


def test_forward_and_vjp_respecialise_on_globals_and_attributes():
    global OFFSET
    OFFSET = 0.5
    assert s2sad.vjp(shifted, 1.0)[1](1.0)[0] == pytest.approx(1.0)
    OFFSET = np.array([0.0, 1.0])                   # now an array: the adjoint must sum
    try:
        (ct,) = s2sad.vjp(shifted, 1.0)[1](1.0)
        assert ct == pytest.approx(2 * (1.0 - 0.0) + 2 * (1.0 - 1.0))
        assert s2sad.jvp(shifted, (1.0,), (1.0,))[1] == pytest.approx(2.0)
    finally:
        OFFSET = 0.5
    spring = Spring(3.0, 0.5)
    assert s2sad.vjp(spring.energy, 1.0, 1.0)[1](1.0)[0] == pytest.approx(1.5)
    spring.rest = np.array([0.0, 1.0])
    assert s2sad.vjp(spring.energy, 1.0, 1.0)[1](1.0)[0] == pytest.approx(3.0)


# --- rules that hold for some constant parameters only -------------------------------------------

def norm_7(x):
    CALLS.append("norm_7")
    return np.linalg.norm(x, ord=7)


def norm_pi(x):
    return np.linalg.norm(x, ord=np.pi) * 2.0


def norm_variable(x, o):
    return np.linalg.norm(x, ord=o)


def norm_fro(x):
    return np.linalg.norm(x, "fro") + np.linalg.norm(x[0], ord=2.0) + np.linalg.norm(x, axis=1)[0]


# (ord 1, inf, "nuc" ... have rules: tests/test_rules_table.py)
@pytest.mark.parametrize("fn,text", [(norm_7, "ord=7"), (norm_pi, "ord=np.pi"),
                                     (norm_variable, "ord=o")])
def test_norm_without_a_rule_is_refused_when_transforming(fn, text):
    from s2sad.errors import MissingRuleError
    CALLS.clear()
    args = (np.ones(3),) if fn is not norm_variable else (np.ones(3), 2)
    tangents = (np.ones(3),) + (0,) * (len(args) - 1)
    for transform in (lambda: s2sad.grad(fn)(*args), lambda: s2sad.jvp(fn, args, tangents),
                      lambda: s2sad.jacrev(fn)(*args)):
        with pytest.raises(MissingRuleError) as info:
            transform()
        assert f":{line_of(fn, 'np.linalg.norm')}:" in str(info.value) and text in str(info.value)
    assert CALLS == []


@OPT
def test_norm_with_a_rule(optimize):
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    check_grad(norm_fro, x, optimize=optimize)
    assert_close_tree(s2sad.jacfwd(norm_fro, optimize=optimize)(x), fd_jacobian(norm_fro, (x,), 0))


def tuple_out(x):
    CALLS.append("tuple_out")
    return (x, x * x)


@pytest.mark.filterwarnings("error::SyntaxWarning")
def test_tuple_output_is_refused_before_generating_code():
    # the seed 1.0 used to be folded into `(1.0)[0]` (a SyntaxWarning, then a bare error)
    CALLS.clear()
    for make in (s2sad.grad, s2sad.value_and_grad):
        with pytest.raises(NotDifferentiableError) as info:
            make(tuple_out)(2.0)
        assert f":{line_of(tuple_out, 'return')}:" in str(info.value)
    assert CALLS == []
    assert_close_tree(s2sad.jacfwd(tuple_out)(2.0), (1.0, 4.0))


def test_source_before_any_call_and_none_argument():
    assert "def grad_total" in s2sad.source(s2sad.grad(total))
    with pytest.raises(ArgumentError):
        s2sad.grad(total)(None)
    with pytest.raises(ArgumentError):
        s2sad.grad(total)("1.0")


# --- helpers that close over the same name with different values ---------------------------------

SOFT, STIFF = Spring(1.0, 0.0), Spring(10.0, 0.0)


def two_springs(x):
    return SOFT.energy(x, 1.0) + STIFF.energy(x, 1.0)


def make_scaled(c):
    def scaled_square(x):
        return c * x * x
    return scaled_square


BY_TWO, BY_THREE = make_scaled(2.0), make_scaled(3.0)


def two_closures(x):
    return BY_TWO(x) + BY_THREE(x)


@OPT
@pytest.mark.parametrize("fn,want", [(two_springs, 11.0), (two_closures, 10.0)])
def test_helpers_closing_over_one_name_keep_their_own_values(fn, want, optimize):
    # used to compile both helpers' derivatives with one value of `self` / `c`: silently wrong
    x = 1.0
    assert s2sad.grad(fn, optimize=optimize)(x) == pytest.approx(want * x)
    check_grad(fn, 0.7, optimize=optimize)
    assert s2sad.jvp(fn, (x,), (1.0,), optimize=optimize)[1] == pytest.approx(want)
    assert s2sad.vjp(fn, x, optimize=optimize)[1](1.0)[0] == pytest.approx(want)
    assert s2sad.hessian(fn, optimize=optimize)(x) == pytest.approx(want)
    assert s2sad.grad(s2sad.grad(fn, optimize=optimize), optimize=optimize)(x) == pytest.approx(want)


def test_a_failure_in_s2sad_itself_is_an_s2sad_error(monkeypatch):
    g = s2sad.grad(total)

    # stand in for a bug in s2sad's own code (compiled as if it were in s2sad/api.py)
    namespace = {"np": np}
    exec(compile("def bad_conform(grad, like):\n"
                 "    return np.broadcast_to(np.ones(7), np.shape(like))\n", api.__file__, "exec"),
         namespace)
    monkeypatch.setattr(api, "_conform", namespace["bad_conform"])
    api._DERIVATIVES.clear()
    with pytest.raises(GeneratedCodeError, match="internal error") as info:
        s2sad.grad(total)(np.ones(3))
    assert isinstance(info.value.__cause__, ValueError)
    del g


def test_grad_of_a_method_does_not_keep_the_object_alive():
    import gc
    import weakref
    spring = Spring(2.0, 0.0)
    g = s2sad.grad(spring.energy)
    assert g(1.0, 1.0) == pytest.approx(2.0)
    ref = weakref.ref(spring)
    del g, spring
    gc.collect()
    assert ref() is None


def test_the_source_check_is_active_for_every_kind_of_function():
    """The check compiles the parsed `def` again and compares it with the running code: it must
    find that code (else it would silently check nothing)."""
    import ast
    import textwrap
    from s2sad.parse import _code_shape, _recompile
    scale = 2.0

    def closure(x):
        return scale * x

    class Local:
        def method(self, x):
            return super().__hash__() * x
    for fn in (total, closure, Local.method, Spring.energy, Spring.cube.__func__, Spring.square,
               doubled.__wrapped__, cached.__wrapped__, norm_fro):
        lines, start = inspect.getsourcelines(fn)
        node = ast.parse(textwrap.dedent("".join(lines))).body[0]
        ast.increment_lineno(node, start - 1)
        fresh = _recompile(node, fn.__code__, fn.__code__.co_filename)
        assert fresh is not None, fn
        assert _code_shape(fresh) == _code_shape(fn.__code__), fn
