"""Higher order by transforming generated source again: grad(grad(f)) (reverse over
reverse), hessian (forward over reverse), jvp of grad (Hessian-vector products).

Expected values are closed forms, or finite differences of hand-written gradients:
never s2sad compared with itself.
"""
import math

import numpy as np
import pytest

import s2sad
from s2sad.errors import UnsupportedSyntaxError
from util import assert_close_tree

OPT = pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "unoptimized"])


def cubic(x):
    return x ** 3 + 4 * x ** 2 - 10


def sin_cos(t):
    return math.sin(t) * math.cos(t)


def exp_sin(x):
    return np.exp(np.sin(x)) * x


@OPT
@pytest.mark.parametrize("x", [-1.5, 0.3, 2.0])
def test_grad_grad_closed_forms(x, optimize):
    gg = s2sad.grad(s2sad.grad(cubic, optimize=optimize), optimize=optimize)
    assert gg(x) == pytest.approx(6 * x + 8, rel=1e-13)
    gg = s2sad.grad(s2sad.grad(sin_cos, optimize=optimize), optimize=optimize)
    assert gg(x) == pytest.approx(-2.0 * math.sin(2 * x), rel=1e-12, abs=1e-13)
    ggg = s2sad.grad(s2sad.grad(s2sad.grad(cubic)))
    assert ggg(x) == pytest.approx(6.0)


@OPT
def test_grad_grad_numpy_scalar(optimize):
    x = 0.7
    e, s, c = math.exp(math.sin(x)), math.sin(x), math.cos(x)
    expected = e * (c * c - s) * x + 2 * e * c        # d2/dx2 of exp(sin x) x
    gg = s2sad.grad(s2sad.grad(exp_sin, optimize=optimize), optimize=optimize)
    assert gg(x) == pytest.approx(expected, rel=1e-12)


def test_grad_grad_source_is_python():
    gg = s2sad.grad(s2sad.grad(cubic))
    gg(1.0)
    src = s2sad.source(gg)
    assert src.startswith("def grad_grad_cubic(x):")


# --------------------------------------------------------------------------
# Hessians: forward over reverse, against finite differences of hand-written gradients

def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def logsumexp_quad(x, M):
    return np.log(np.sum(np.exp(M @ x))) + 0.5 * x @ x


def logsumexp_quad_grad(x, M):
    e = np.exp(M @ x)
    return M.T @ (e / np.sum(e)) + x


def looped_energy(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            s = s + np.sin(x[i]) * x[i]
        else:
            s = s + x[i] ** 4
    return s


def looped_energy_grad(x):
    return np.where(x > 0.0, np.cos(x) * x + np.sin(x), 4 * x ** 3)


def fd_of(g, x, *rest, eps=1e-6):
    cols = []
    for j in range(x.size):
        d = np.zeros_like(x)
        d.flat[j] = eps
        cols.append((g(x + d, *rest) - g(x - d, *rest)) / (2 * eps))
    return np.array(cols).T


_M = np.random.default_rng(2).standard_normal((5, 3))
HESS = [
    (rosenbrock, rosenbrock_grad, (np.array([0.5, -0.3, 1.2, 0.8]),)),
    (logsumexp_quad, logsumexp_quad_grad, (np.array([0.2, -0.4, 0.1]), _M)),
    (looped_energy, looped_energy_grad, (np.array([0.6, -0.7, 1.3]),)),
]


@OPT
@pytest.mark.parametrize("case", HESS, ids=[c[0].__name__ for c in HESS])
def test_hessian_matches_finite_differences_of_the_gradient(case, optimize):
    f, g, args = case
    H = s2sad.hessian(f, optimize=optimize)(*args)
    x = args[0]
    assert H.shape == x.shape + x.shape
    assert_close_tree(H, fd_of(g, *args), rtol=1e-5, atol=1e-6, what=f.__name__)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-10)


def test_hessian_optimized_and_unoptimized_agree():
    x = np.array([0.5, -0.3, 1.2, 0.8])
    a = s2sad.hessian(rosenbrock, optimize=True)(x)
    b = s2sad.hessian(rosenbrock, optimize=False)(x)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-12)


def test_hessian_of_scalar_function_of_a_float():
    h = s2sad.hessian(cubic)(1.5)
    assert float(h) == pytest.approx(6 * 1.5 + 8, rel=1e-13)


def test_hessian_is_forward_over_reverse_source():
    hs = s2sad.hessian(rosenbrock)
    hs(np.array([0.5, -0.3, 1.2, 0.8]))
    src = s2sad.source(hs)
    assert src.startswith("def jacfwd_grad_rosenbrock(x, x_dot):")
    compile(src, "<hessian>", "exec")


# --------------------------------------------------------------------------
# jvp of grad: Hessian-vector products without forming the Hessian

@OPT
@pytest.mark.parametrize("case", HESS, ids=[c[0].__name__ for c in HESS])
def test_hessian_vector_product(case, optimize):
    f, g, args = case
    x = args[0]
    v = np.random.default_rng(5).standard_normal(x.shape)
    tangents = (v,) + tuple(np.zeros_like(a) for a in args[1:])
    grad_value, hvp = s2sad.jvp(s2sad.grad(f, optimize=optimize), args, tangents, optimize=optimize)
    np.testing.assert_allclose(grad_value, g(*args), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hvp, fd_of(g, *args) @ v, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", HESS[:2], ids=[c[0].__name__ for c in HESS[:2]])
def test_jacrev_of_grad_is_the_hessian(case):
    """Reverse over reverse (straight-line gradients; see the report on loops)."""
    f, g, args = case
    H = s2sad.jacrev(s2sad.grad(f))(*args)
    np.testing.assert_allclose(H, fd_of(g, *args), rtol=1e-5, atol=1e-6)


def _cube_helper(v, k=2.0):
    return v * v * v * k


def _calls_cube_helper(x):
    return _cube_helper(x) + _cube_helper(x, k=0.5) * x


def test_grad_of_grad_through_a_helper():
    # the helper's derivative has a y_bar parameter; differentiating it again needs another
    # name for its own seed.  f = 2x^3 + 0.5 x^4: f'' = 12 x + 6 x^2
    x = 0.7
    assert s2sad.grad(s2sad.grad(_calls_cube_helper))(x) == pytest.approx(12 * x + 6 * x * x)
    assert s2sad.hessian(_calls_cube_helper)(x) == pytest.approx(12 * x + 6 * x * x)


# --------------------------------------------------------------------------
# Second order on real programs (issue 7): list-building loops, values bound on one path
# only, in-place accumulation.  Every second derivative is checked against central finite
# differences of a hand-written gradient, in the four ways one is asked for.

def _second_orders(f, optimize):
    """d2f/dx2 of a scalar f(x, ...) in the four ways: forward over reverse (hessian,
    jacfwd of grad), reverse over reverse (grad of grad, jacrev of grad)."""
    g = s2sad.grad(f, optimize=optimize)
    return {"hessian": s2sad.hessian(f, optimize=optimize),
            "grad_grad": s2sad.grad(g, optimize=optimize),
            "jacfwd_grad": s2sad.jacfwd(g, optimize=optimize),
            "jacrev_grad": s2sad.jacrev(g, optimize=optimize)}


def _fd_scalar(g, x, *rest, eps=1e-6):
    return (g(x + eps, *rest) - g(x - eps, *rest)) / (2 * eps)


def list_loop(x, y):
    xs = []
    for i in range(3):
        xs.append(x * x * (i + 1))
    total = sum(xs) + xs[-1]
    return total * y + float(np.sum(np.stack(xs) ** 2))


def list_loop_grad(x, y):
    # xs = x^2 [1, 2, 3]: sum + last = 9 x^2; sum of squares = 14 x^4
    return 18 * x * y + 56 * x ** 3


def list_with_popped(x, y):
    xs = []
    for i in range(3):
        xs.append(x * (i + 1))
    xs.pop()                         # the last element is dropped, its value unused
    return sum(xs) * x * y


def list_with_popped_grad(x, y):
    return 6 * x * y                 # (x + 2x) x y = 3 x^2 y


def _branchy(a, b=0.5):
    if a > b:
        return math.sin(a) * b
    return a * a - b


def one_path_only(x, y):
    v = math.atan(y * x) - _branchy(-x)        # a helper: ndims unknown, zeros read shapes
    if y > 5.0:                      # never taken here: its temporaries exist on one path
        return math.sin(x - v) * x
    return v * x + x * y


def one_path_only_grad(x, y):
    v = math.atan(y * x) - (x * x - 0.5)
    dv = y / (1 + (y * x) ** 2) - 2 * x
    return dv * x + v + y


def list_in_returning_loop(x, y):
    v = 0.25
    for j in range(2):
        xs = []
        for i in range(2):
            xs.append((x - i) + 0.5 * i)
        v = float(np.sum(np.stack(xs) ** 2)) - xs[-1]
        if y > 1.2:                  # the gradient's tape holds (list, array, ...) tuples
            return v * y
    return v * x


def list_in_returning_loop_grad(x, y):
    # y <= 1.2 here: v = x^2 + (x - 0.5)^2 - (x - 0.5), f = v x
    v = x * x + (x - 0.5) ** 2 - (x - 0.5)
    return (2 * x + 2 * (x - 0.5) - 1) * x + v


def list_in_while_loop(x, y):
    k = 0
    v = 0.25
    while x * x > 0.3 and k < 3:     # value-dependent: runs 3 times here
        k = k + 1
        xs = []
        for i in range(2):
            xs.append(x * (i + 1))
        v = sum(xs) + xs[-1]        # (a list on the gradient's tape: its adjoint's slot
    return v * x                    # in the tape's adjoint is a list, added as one)


def list_in_while_loop_grad(x, y):
    return 10 * x


SECOND = [(list_in_while_loop, list_in_while_loop_grad),
          (list_loop, list_loop_grad), (list_with_popped, list_with_popped_grad),
          (one_path_only, one_path_only_grad), (list_in_returning_loop, list_in_returning_loop_grad)]


@OPT
@pytest.mark.parametrize("case", SECOND, ids=[c[0].__name__ for c in SECOND])
@pytest.mark.parametrize("way", ["hessian", "grad_grad", "jacfwd_grad", "jacrev_grad"])
def test_second_order_of_real_programs(case, way, optimize):
    f, g = case
    x, y = 0.7, -1.3
    assert s2sad.grad(f, optimize=optimize)(x, y) == pytest.approx(g(x, y), rel=1e-12)
    got = float(np.squeeze(_second_orders(f, optimize)[way](x, y)))
    assert got == pytest.approx(_fd_scalar(g, x, y), rel=1e-6, abs=1e-8), way


@OPT
def test_a_dropped_pop_is_pushed_back_in_reverse(optimize):
    # reverse mode undid the appends of a list that had lost an element: a bare IndexError
    x, y = 0.7, -1.3
    assert s2sad.grad(list_with_popped, optimize=optimize)(x, y) == \
        pytest.approx(list_with_popped_grad(x, y), rel=1e-12)
    _, t = s2sad.jvp(list_with_popped, (x, y), (1.0, 0.0), optimize=optimize)
    assert t == pytest.approx(list_with_popped_grad(x, y), rel=1e-12)


def test_list_tangents_are_lists_never_concatenated():
    # forward over the reverse of a list-building loop: the list adjoint's tangent is a list
    # added element by element (add_lists), never with +, which concatenates
    hs = s2sad.hessian(list_loop)
    hs(0.7, -1.3)
    src = s2sad.source(hs)
    assert "v2_bar" not in src or "zeros_list" in src or "add_lists" in src
    assert ".pop()" in src
    compile(src, "<hessian>", "exec")


_IDX = np.array([0, 0, 2])


def gathered_cubes(x):
    return np.sum(x[_IDX] ** 3)


@OPT
def test_hessian_through_accumulate_at(optimize):
    # the gradient accumulates with accumulate_at (repeated indices); forward mode dropped
    # that call and reverse mode gave it no adjoint: a silently zero Hessian
    x = np.array([0.5, -0.3, 1.2])
    expected = np.diag([12 * x[0], 0.0, 6 * x[2]])
    np.testing.assert_allclose(s2sad.hessian(gathered_cubes, optimize=optimize)(x), expected,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s2sad.jacrev(s2sad.grad(gathered_cubes, optimize=optimize),
                                            optimize=optimize)(x), expected, rtol=1e-12, atol=1e-12)
    v = np.array([1.0, 2.0, 3.0])
    _, hvp = s2sad.jvp(s2sad.grad(gathered_cubes, optimize=optimize), (x,), (v,), optimize=optimize)
    np.testing.assert_allclose(hvp, expected @ v, rtol=1e-12)


def concatenates(x):
    ran.append("body")
    xs = [x, 2.0 * x]
    ys = xs + [x * x]
    return sum(ys)


def repeats(x):
    ran.append("body")
    xs = [x] * 3
    return sum(xs) + xs[1]


ran = []


@pytest.mark.parametrize("f", [concatenates, repeats])
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_list_arithmetic_is_refused(f, mode):
    # the operators' rules add adjoints of different lengths (zip truncates): the
    # gradient was silently wrong; refuse, naming the line, before the body runs
    import inspect
    lines, first = inspect.getsourcelines(f)
    lineno = first + next(k for k, line in enumerate(lines) if "xs +" in line or "] * 3" in line)
    ran.clear()
    with pytest.raises(s2sad.errors.UnsupportedSyntaxError) as err:
        if mode == "grad":
            s2sad.grad(f)(0.5)
        else:
            s2sad.jvp(f, (0.5,), (1.0,))
    assert f":{lineno}:" in str(err.value)
    assert "list" in str(err.value)
    assert ran == []
