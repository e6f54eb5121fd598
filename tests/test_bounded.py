"""Bounded transformation: code size linear in the program, no recursion limit hit by long
expressions (issue 7 item 7).

No timing assertions here: sizes are checked as line counts, and every derivative against
finite differences at points that take each path.
"""
from __future__ import annotations

import ast
import itertools

import numpy as np
import pytest

import s2sad
from s2sad import emit
from s2sad.normalize import normalize
from s2sad.parse import parse_function
from util import check_grad, fd_jvp, load_function

K = 30
_names = itertools.count()


@pytest.fixture(params=[True, False], ids=["optimized", "unoptimized"])
def optimize(request):
    return request.param


def _load(source, tmp_path, function="f"):
    return load_function(source, tmp_path, f"bounded_{next(_names)}", function)


def _lines(text: str) -> int:
    return len([line for line in text.splitlines() if line.strip()])


def _normalized_lines(f) -> int:
    return _lines(emit.to_source(normalize(parse_function(f)).node))


# --- guarded early returns --------------------------------------------------------------------

def guard_chain(k: int) -> str:
    """``if x < j + 1: return c_j x^2 + x`` for j < k, then ``return x``."""
    src = "def f(x):\n"
    for j in range(k):
        src += f"    if x < {j + 1}.0:\n        return {j + 2} * x * x + x\n"
    return src + "    return x\n"


def guard_chain_exact(x: float, k: int):
    for j in range(k):
        if x < j + 1.0:
            return 2 * (j + 2) * x + 1, 2 * (j + 2)
    return 1.0, 0.0


def nested_guard_chain(k: int) -> str:
    """A return nested in two ``if`` whose branches both fall through, with work between the
    guards: the statements after each guard cannot simply move into one branch."""
    src = "def f(x):\n    y = x\n"
    for j in range(k):
        src += (f"    if x < {j + 1}.0:\n        if x > {j}.5:\n            return {j + 2} * x * y\n"
                f"    y = y + 0.25 * x\n")
    return src + "    return y * x\n"


def nested_guard_chain_exact(x: float, k: int):
    # y = x (1 + 0.25 n) after n updates: f = c x y, f' = 2 c x (1 + 0.25 n), f'' = 2 c (1 + 0.25 n)
    for j in range(k):
        if j + 0.5 < x < j + 1.0:
            a = (j + 2) * (1 + 0.25 * j)
            return 2 * a * x, 2 * a
    a = 1 + 0.25 * k
    return 2 * a * x, 2 * a


def _points(k):
    # every guard's path (and, for the nested chain, the path that falls past it), the end
    return [j + 0.75 for j in range(k)] + [j + 0.25 for j in range(1, k, 7)] + [k + 0.5]


@pytest.mark.parametrize("make, exact", [(guard_chain, guard_chain_exact),
                                         (nested_guard_chain, nested_guard_chain_exact)],
                         ids=["plain", "nested"])
def test_guard_chain_exact_both_modes_and_second_order(make, exact, optimize, tmp_path):
    f = _load(make(K), tmp_path)
    g = s2sad.grad(f, optimize=optimize)
    h = s2sad.hessian(f, optimize=optimize)
    for x in _points(K):
        d1, d2 = exact(x, K)
        assert g(x) == pytest.approx(d1, rel=1e-12), x
        value, tangent = s2sad.jvp(f, (x,), (1.0,), optimize=optimize)
        assert value == pytest.approx(f(x), rel=1e-12)
        assert tangent == pytest.approx(d1, rel=1e-12), x
        assert float(h(x)) == pytest.approx(d2, rel=1e-12), x


@pytest.mark.parametrize("make", [guard_chain, nested_guard_chain], ids=["plain", "nested"])
def test_guard_chain_code_grows_linearly(make, tmp_path):
    sizes = {}
    for k in (K // 2, K):
        f = _load(make(k), tmp_path)
        g = s2sad.grad(f)
        g(0.3)
        h = s2sad.hessian(f)
        h(0.3)
        fwd = s2sad.jacfwd(f)
        fwd(0.3)
        sizes[k] = [_normalized_lines(f), _lines(s2sad.source(g)), _lines(s2sad.source(fwd)),
                    _lines(s2sad.source(h))]
    for small, big in zip(sizes[K // 2], sizes[K]):
        assert big <= 100 * K, sizes                # tens of lines per guard, not 2**K
        assert big <= 2.3 * small, sizes            # doubling k about doubles the code


def test_nested_guard_chain_normalized_runs(tmp_path):
    # the normalized function itself computes what the original does on every path
    f = _load(nested_guard_chain(6), tmp_path)
    norm = normalize(parse_function(f))
    g, _ = emit.compile_function(norm.node, dict(f.__globals__))
    for x in _points(6):
        assert g(x) == f(x)


# --- jumps out of loops, nested in ifs whose branches both fall through -------------------------

def loop_jumps(k: int) -> str:
    src = "def f(x):\n    s = 0.0\n    for i in range(20):\n        s = s + x * 0.1\n"
    for j in range(k):
        src += (f"        if i > {j}:\n            if x > {0.3 * j:.1f}:\n                continue\n"
                f"            elif x < -{0.3 * j:.1f}:\n                break\n"
                f"            if s > {50 + j}.0:\n                return s * {j}\n"
                f"        s = s + 0.01 * x * x * {j}\n")
    return src + "    return s\n"


def test_loop_jumps_nested_in_ifs(optimize, tmp_path):
    f = _load(loop_jumps(8), tmp_path)
    for x in (0.05, 0.35, 0.75, 1.3, 2.1, -0.5, -2.0, 3.7, 40.0):
        check_grad(f, x, optimize=optimize)
        _, tangent = s2sad.jvp(f, (x,), (1.0,), optimize=optimize)
        assert tangent == pytest.approx(fd_jvp(f, (x,), (1.0,)), rel=1e-6, abs=1e-6)
    small = _lines(s2sad.source(s2sad.grad(f)))
    f16 = _load(loop_jumps(16), tmp_path)
    g16 = s2sad.grad(f16)
    g16(0.3)
    assert _lines(s2sad.source(g16)) <= 2.6 * small


def test_nested_guards_on_arrays(optimize, tmp_path):
    src = "import numpy as np\n\ndef f(x):\n    s = np.sum(x * x)\n"
    for j in range(10):
        src += (f"    if s < {j + 1}.0:\n        if np.max(x) > {0.1 * j:.1f}:\n"
                f"            return np.sum(np.sin(x)) * {j + 1}\n    x = x * 1.1\n")
    src += "    return np.sum(x ** 3)\n"
    f = _load(src, tmp_path)
    rng = np.random.default_rng(0)
    for scale in (0.1, 0.5, 0.9, 1.2, 2.0):
        x = rng.standard_normal(4) * scale
        check_grad(f, x, optimize=optimize)
        t = rng.standard_normal(4)
        _, tangent = s2sad.jvp(f, (x,), (t,), optimize=optimize)
        assert tangent == pytest.approx(fd_jvp(f, (x,), (t,)), rel=1e-6, abs=1e-6)


def bound_on_some_paths(x):
    if x > 0:
        if x > 1:
            y = x * x
        z = x * 3
    else:
        z = -x
    if x > 1:
        return y * z
    return z * z


@pytest.mark.parametrize("x", [-1.5, 0.5, 2.0])
def test_name_bound_on_some_paths(optimize, x):
    # a join copies no name where it may be unbound: the normalized function, both modes
    # and second order run on every path
    norm = normalize(parse_function(bound_on_some_paths))
    g, _ = emit.compile_function(norm.node, dict(bound_on_some_paths.__globals__))
    assert g(x) == bound_on_some_paths(x)
    check_grad(bound_on_some_paths, x, optimize=optimize)
    _, tangent = s2sad.jvp(bound_on_some_paths, (x,), (1.0,), optimize=optimize)
    assert tangent == pytest.approx(fd_jvp(bound_on_some_paths, (x,), (1.0,)), rel=1e-6)
    exact = {-1.5: 2.0, 0.5: 18.0, 2.0: 18 * x}[x]
    assert float(s2sad.hessian(bound_on_some_paths, optimize=optimize)(x)) == pytest.approx(exact)


# --- long expressions ---------------------------------------------------------------------------

N_TERMS = 2000


def test_long_sum_exact(tmp_path):
    # a flat sum of N_TERMS products (recursion depth N_TERMS in the AST): lowered iteratively
    f = _load("def f(x):\n    return " + " + ".join(f"x * {i}" for i in range(1, N_TERMS + 1)) + "\n",
              tmp_path)
    slope = N_TERMS * (N_TERMS + 1) / 2
    assert s2sad.grad(f)(0.3) == pytest.approx(slope, rel=1e-12)
    assert s2sad.jvp(f, (0.3,), (1.0,))[1] == pytest.approx(slope, rel=1e-12)


@pytest.mark.parametrize("op", ["-", "*"])
def test_long_chain_both_modes(op, optimize, tmp_path):
    n = 400
    terms = [f"(1.0 + x * {1.0 / i:.6f})" for i in range(1, n + 1)]
    f = _load(f"def f(x):\n    return {f' {op} '.join(terms)}\n", tmp_path)
    check_grad(f, 0.3, optimize=optimize)
    _, tangent = s2sad.jvp(f, (0.3,), (1.0,), optimize=optimize)
    assert tangent == pytest.approx(fd_jvp(f, (0.3,), (1.0,)), rel=1e-6)


def test_deeply_nested_calls(tmp_path):
    # Python's own parser allows at most 200 nested parentheses: 150 nested calls transform
    depth = 150
    f = _load("import numpy as np\n\ndef f(x):\n    return " + "np.sin(" * depth + "x" + ")" * depth + "\n",
              tmp_path)
    check_grad(f, 0.7)
    _, tangent = s2sad.jvp(f, (0.7,), (1.0,))
    assert tangent == pytest.approx(fd_jvp(f, (0.7,), (1.0,)), rel=1e-6)


def test_too_deep_is_refused_at_its_line(tmp_path):
    # a right-deep chain needs no parentheses (x ** x ** ...); too deep for the recursion
    # limit, it is refused with the statement's line, before the function runs
    depth = 900
    src = ("ran = []\n\ndef f(x):\n    ran.append(1)\n    y = x * 2.0\n"
           "    z = " + " ** ".join(["y"] * depth) + "\n    return z\n")
    f = _load(src, tmp_path)
    with pytest.raises(s2sad.S2SADError) as info:
        s2sad.grad(f)(0.5)
    assert isinstance(info.value, s2sad.UnsupportedSyntaxError)
    assert "line 6" in str(info.value) or ":6" in str(info.value), str(info.value)
    assert "split the expression" in str(info.value)
    assert f.__globals__["ran"] == []


def test_guard_chain_beyond_pythons_nesting_limit(tmp_path):
    # 120 guards: each nests the rest one level; a derivative Python cannot compile (more
    # than 100 nested blocks) is refused as unsupported, never an internal error
    f = _load(guard_chain(120), tmp_path)
    assert s2sad.grad(f)(0.5) == pytest.approx(2 * 2 * 0.5 + 1)
    try:
        _, tangent = s2sad.jvp(f, (0.5,), (1.0,))
    except s2sad.UnsupportedSyntaxError as err:
        assert "nests its blocks too deeply" in str(err) and "line 1" in str(err) or ":1:" in str(err)
    else:
        assert tangent == pytest.approx(3.0)


def calls_local_helper_with_nested_return(x):
    def h(a):
        if a > 0.0:
            if a > 1.0:
                return a * a
        b = a * 3.0
        return b + 1.0
    s = 0.0
    for i in range(3):
        s = s + h(x + i * 0.4)
    return s


@pytest.mark.parametrize("x, second", [(-2.0, 0.0), (0.3, 2.0), (0.9, 4.0), (1.5, 6.0)])
def test_inlined_helper_with_nested_return(optimize, x, second):
    f = calls_local_helper_with_nested_return
    check_grad(f, x, optimize=optimize)
    _, tangent = s2sad.jvp(f, (x,), (1.0,), optimize=optimize)
    assert tangent == pytest.approx(fd_jvp(f, (x,), (1.0,)), rel=1e-6)
    assert float(s2sad.hessian(f, optimize=optimize)(x)) == pytest.approx(second)
