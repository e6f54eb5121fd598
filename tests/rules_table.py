"""Table-driven checks of derivative rules against central finite differences.

One entry per call: an expression of the arguments ``x``, ``z`` (and ``u``), each
argument's shape and domain, and which checks apply.  From each entry this module
writes two functions into a generated module (s2sad reads a function's source from
its file):

* ``f_<id>(x, ...)``: the expression itself (array or number), for ``jvp`` and
  ``jacfwd`` against finite differences of it;
* ``s_<id>(x, ..., w)``: ``np.sum(expr * w)`` with fixed random weights ``w``, for
  ``grad`` against finite differences, and second order: ``hessian`` (forward over
  reverse) and ``jacrev`` of the gradient (reverse over reverse) against finite
  differences of the (already checked) gradient.
"""
from __future__ import annotations

import importlib.util
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import s2sad
from util import assert_close_tree, check_grad, fd_jacobian, fd_jvp

HEADER = """\
import numpy as np
import scipy.linalg
import scipy.special
import scipy.stats
from scipy.special import logsumexp, expit

I3 = np.array([2, 0, 1, 2])


def split_fn(x):
    a, b, c = np.split(x, [1, 3], axis=-1)
    return np.concatenate([b * 2.0, a * c, a * a], axis=-1)


def array_split_fn(x):
    pieces = np.array_split(x, 3)
    return pieces[0][:2] * 3.0 + pieces[2] * pieces[1]


def hsplit_fn(x):
    a, b = np.hsplit(x, 2)
    return a * b + b


def vsplit_fn(x):
    a, b, c = np.vsplit(x, [1, 2])
    return c * 2.0 + a[:, :1] * b


def lstsq_fn(a, b):
    x, res, rank, s = np.linalg.lstsq(a, b)
    return np.concatenate([np.ravel(x), np.ravel(res), s * s])


def meshgrid_fn(x, z):
    gx, gz = np.meshgrid(x, z)
    return gx * gz + gz


def meshgrid_ij_fn(x, z, u):
    gx, gz, gu = np.meshgrid(x, z, u, indexing="ij")
    return gx * gz * gu + gx


def eigh_fn(a):
    w, v = np.linalg.eigh(a)
    return w[..., None] * (v * v) + 0.1 * w[..., :1, None]


def qr_fn(a):
    q, r = np.linalg.qr(a)
    return (q * q)[..., :2, :] + r[..., :2, :] * r[..., :1, :] + 0.3 * q[..., :2, :]


def svd_fn(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(u * u * s[..., None, :], axis=-1) + np.sum(vh * vh, axis=-2)[..., :1] + s[..., :1]
I23 = np.array([[0, 2, 1], [1, 1, 0]])
"""


@dataclass
class Entry:
    id: str
    expr: str
    args: dict                        # name -> (shape, domain)
    second: bool = True               # check second order (hessian: forward over reverse)
    rr: bool = True                   # ... and reverse over reverse (jacrev of grad)
    float32: bool = True              # check a float32 gradient
    jac: bool = True                  # check jacfwd
    rtol: float = 1e-5
    tags: tuple = field(default_factory=tuple)


def sample(domain, shape, seed):
    """A test point in ``domain``, away from kinks, ties and the domain's edges."""
    rng = np.random.default_rng(seed)
    if domain == "any":
        return rng.uniform(-1.5, 1.5, shape)
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "prob":
        return rng.uniform(0.15, 0.85, shape)
    if domain == "unit":
        return rng.uniform(-0.8, 0.8, shape)
    if domain == "distinct":          # a shuffled grid: no ties, well separated
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.37 - 1.0 + rng.uniform(0, 0.05, n)).reshape(shape)
    if domain == "spd":               # stacks of symmetric positive definite matrices
        m = rng.standard_normal(shape) * 0.4
        return m @ np.swapaxes(m, -1, -2) + 1.5 * np.eye(shape[-1])
    if domain == "wellcond":          # stacks of well-conditioned square matrices
        return rng.standard_normal(shape) * 0.3 + 2.0 * np.eye(shape[-1])
    if domain == "lower":             # well-conditioned lower triangular matrices
        return np.tril(rng.standard_normal(shape) * 0.3) + 2.0 * np.eye(shape[-1])
    raise ValueError(domain)


class Table:
    """The generated module of a table's functions."""

    def __init__(self, entries, module_name):
        self.entries = {e.id: e for e in entries}
        lines = [HEADER]
        for e in entries:
            names = ", ".join(e.args)
            lines.append(f"def f_{e.id}({names}):\n    return {e.expr}\n")
            lines.append(f"def s_{e.id}({names}, w):\n    return np.sum({e.expr} * w)\n")
        directory = Path(tempfile.mkdtemp(prefix="s2sad_rules_"))
        path = directory / f"{module_name}.py"
        path.write_text("\n\n".join(lines))
        spec = importlib.util.spec_from_file_location(module_name, path)
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)

    def point(self, e, dtype=np.float64):
        args = [sample(dom, shape, seed=k + 1).astype(dtype) for k, (shape, dom) in
                enumerate(e.args.values())]
        out = getattr(self.module, f"f_{e.id}")(*args)
        w = np.random.default_rng(99).standard_normal(np.shape(out))
        return args, w

    def check_grad(self, e, optimize):
        args, w = self.point(e)
        check_grad(getattr(self.module, f"s_{e.id}"), *args, w, argnums=tuple(range(len(args))),
                   optimize=optimize, rtol=e.rtol)

    def check_jvp(self, e, optimize):
        args, _ = self.point(e)
        f = getattr(self.module, f"f_{e.id}")
        rng = np.random.default_rng(5)
        tangents = tuple(rng.standard_normal(np.shape(a)) for a in args)
        value, tangent = s2sad.jvp(f, tuple(args), tangents, optimize=optimize)
        assert_close_tree(value, f(*args), rtol=1e-12, what="value")
        assert_close_tree(tangent, fd_jvp(f, args, tangents), rtol=e.rtol, atol=1e-6, what="tangent")

    def check_jacfwd(self, e, optimize):
        args, _ = self.point(e)
        f = getattr(self.module, f"f_{e.id}")
        for k in range(len(args)):
            got = s2sad.jacfwd(f, argnums=k, optimize=optimize)(*args)
            assert_close_tree(got, fd_jacobian(f, args, k), rtol=e.rtol, atol=1e-6,
                              what=f"jacfwd argnum {k}")

    def check_second(self, e, optimize):
        args, w = self.point(e)
        s = getattr(self.module, f"s_{e.id}")
        n = len(args)
        for k in range(n):
            g = s2sad.grad(s, argnums=k, optimize=optimize)
            want = fd_jacobian(g, args + [w], k, eps=1e-5)
            got = s2sad.hessian(s, argnums=k, optimize=optimize)(*args, w)
            assert_close_tree(got, want, rtol=1e-4, atol=1e-5, what=f"hessian argnum {k}")
            if e.rr:
                got = s2sad.jacrev(g, argnums=k, optimize=optimize)(*args, w)
                assert_close_tree(got, want, rtol=1e-4, atol=1e-5, what=f"jacrev(grad) argnum {k}")

    def check_float32(self, e):
        args, w = self.point(e)
        args32 = [a.astype(np.float32) for a in args]
        s = getattr(self.module, f"s_{e.id}")
        g64 = s2sad.grad(s, argnums=tuple(range(len(args))))(*args, w)
        g32 = s2sad.grad(s, argnums=tuple(range(len(args))))(*args32, w.astype(np.float32))
        for a, g, g_ref in zip(args32, g32, g64):
            assert g.dtype == np.float32 and g.shape == a.shape
            np.testing.assert_allclose(g, g_ref, rtol=2e-3, atol=2e-3)


def table_tests(table):
    """The five checks of a table, as pytest test functions: every entry in reverse and forward
    mode (optimized and not), and the entries that ask for it in vector mode, at second order and
    in float32.  A test module assigns them to its own names:
    ``test_grad, test_jvp, test_jacfwd, test_second_order, test_float32 = table_tests(TABLE)``."""
    import pytest

    def entries(flag=None):
        chosen = [e for e in table.entries.values() if flag is None or getattr(e, flag)]
        return pytest.mark.parametrize("entry", chosen, ids=[e.id for e in chosen])

    optimized = pytest.mark.parametrize("optimize", [True, False])

    @optimized
    @entries()
    def test_grad(entry, optimize):
        table.check_grad(entry, optimize)

    @optimized
    @entries()
    def test_jvp(entry, optimize):
        table.check_jvp(entry, optimize)

    @entries("jac")
    def test_jacfwd(entry):
        table.check_jacfwd(entry, True)

    @entries("second")
    def test_second_order(entry):
        table.check_second(entry, True)

    @entries("float32")
    def test_float32(entry):
        table.check_float32(entry)

    return test_grad, test_jvp, test_jacfwd, test_second_order, test_float32
