"""Finite-difference checks of s2sad's derivatives: ``check_grads`` and the helpers the
test-suite shares (tests/util.py imports them from here).

Every expected number is a central finite difference of the user's own function, never
another s2sad derivative: at order 2 the derivative s2sad built is itself checked against
finite differences of it.
"""
from __future__ import annotations

import numpy as np

from .errors import ArgumentError, GradientCheckError

__all__ = ["check_grads", "perturb", "fd_directional", "fd_jvp", "random_direction", "map_out"]


def _is_python_float(x) -> bool:
    """A plain Python float (np.float64 is a float subclass, but it is also a numpy scalar)."""
    return isinstance(x, float) and not isinstance(x, np.generic)


def perturb(x, direction, step):
    """``x + step * direction`` keeping the kind of ``x`` (Python float stays a
    Python float, ndarray stays an ndarray of the same dtype)."""
    if _is_python_float(x):
        return float(x) + step * float(direction)
    x = np.asarray(x)
    out = x + step * np.asarray(direction)
    return np.asarray(out, dtype=x.dtype)


def fd_directional(f, args, argnum, direction, eps=1e-6):
    """Central finite difference of the scalar function ``f`` at ``args``
    along ``direction`` in argument ``argnum``.

    Returns ``(f(.., x + eps*d, ..) - f(.., x - eps*d, ..)) / (2*eps)`` as a
    Python float.  ``direction`` has the shape of ``args[argnum]`` (a float for
    a float argument).
    """
    args = list(args)
    x = args[argnum]
    plus = list(args)
    minus = list(args)
    plus[argnum] = perturb(x, direction, eps)
    minus[argnum] = perturb(x, direction, -eps)
    fp = f(*plus)
    fm = f(*minus)
    assert np.ndim(fp) == 0, "fd_directional needs a scalar-valued function"
    return float((float(fp) - float(fm)) / (2.0 * eps))


def random_direction(x, rng):
    """A standard normal direction of the kind and shape of ``x``."""
    if _is_python_float(x):
        return float(rng.standard_normal())
    x = np.asarray(x)
    return rng.standard_normal(x.shape)


def map_out(fn, *outs):
    """Apply ``fn`` leaf by leaf over (possibly tuple-valued) outputs."""
    if isinstance(outs[0], (tuple, list)):
        return tuple(map_out(fn, *parts) for parts in zip(*outs))
    return fn(*outs)


def fd_jvp(f, args, tangents, eps=1e-6):
    """Central finite difference of ``f`` (any output: number, array or tuple of
    them) at ``args`` along ``tangents`` (one per argument; None = constant)."""
    plus = [a if t is None else perturb(a, t, eps) for a, t in zip(args, tangents)]
    minus = [a if t is None else perturb(a, t, -eps) for a, t in zip(args, tangents)]
    return map_out(lambda p, m: (np.asarray(p, dtype=float) - np.asarray(m, dtype=float)) / (2 * eps),
                   f(*plus), f(*minus))


def _flat(out) -> np.ndarray:
    """One float vector of every number in an output (a number, an array or a tuple of them)."""
    leaves = []
    map_out(lambda leaf: leaves.append(np.ravel(np.asarray(leaf, dtype=float))), out)
    return np.concatenate(leaves) if leaves else np.zeros(0)


def _cotangent(out, rng):
    """A random cotangent with the structure of ``out`` (a float for a number)."""
    def leaf(x):
        return float(rng.standard_normal()) if np.ndim(x) == 0 else rng.standard_normal(np.shape(x))
    return map_out(leaf, out)


class _Worst:
    """The worst mismatch seen so far, as a multiple of its tolerance."""

    def __init__(self, atol, rtol):
        self.atol, self.rtol = atol, rtol
        self.ratio, self.found = 0.0, None

    def see(self, expected, got, **where):
        expected, got = _flat(expected), _flat(got)
        if expected.shape != got.shape:
            raise GradientCheckError(
                f"{where['what']}: s2sad gave {got.size} numbers, finite differences {expected.size}",
                expected=expected, got=got, **{k: v for k, v in where.items() if k != "what"})
        if expected.size == 0:
            return
        tol = self.atol + self.rtol * np.maximum(1.0, np.abs(expected))
        diff = np.abs(got - expected)
        diff = np.where(np.isnan(diff) & ~(np.isnan(got) & np.isnan(expected)), np.inf, diff)
        k = int(np.argmax(diff / tol))
        ratio = float(diff[k] / tol[k])
        if ratio > self.ratio:
            self.ratio = ratio
            self.found = dict(where, expected=float(expected[k]), got=float(got[k]), index=k,
                              size=expected.size, tol=float(tol[k]))


def _first_order(f, args, wrt, modes, rng, eps, worst, order, of=None):
    """Check jvp ("fwd") and vjp ("rev") of ``f`` along a random direction in each argument of
    ``wrt`` against central finite differences of ``f``."""
    from . import api
    out = f(*args)
    vjp_fn = None
    if "rev" in modes:
        _, vjp_fn = api.vjp(f, *args)
    for i in wrt:
        t = random_direction(args[i], rng)
        tangents = [None] * len(args)
        tangents[i] = t
        fd = fd_jvp(f, args, tangents, eps)
        label = f"∂f/∂arg{i}" if of is None else f"∂²f/∂arg{of}∂arg{i}"
        if "fwd" in modes:
            zeros = [t if k == i else (0.0 if _is_python_float(a) else np.zeros(np.shape(a)))
                     for k, a in enumerate(args)]
            _, got = api.jvp(f, args, zeros)
            worst.see(fd, got, what=label, argnum=i, mode="fwd", order=order)
        if "rev" in modes:
            c = _cotangent(out, rng)
            g = vjp_fn(c)[i]
            got = float(np.vdot(np.asarray(g, dtype=float), np.asarray(t, dtype=float)))
            expected = float(np.vdot(_flat(c), _flat(fd)))
            worst.see(expected, got, what=label + " (⟨cotangent, J·direction⟩)", argnum=i, mode="rev",
                      order=order)


def check_grads(f, args, order=2, modes=("fwd", "rev"), eps=1e-6, atol=1e-7, rtol=1e-5, seed=0):
    """Check s2sad's derivatives of ``f`` at ``args`` against central finite differences along
    random directions; raise ``GradientCheckError`` naming the worst mismatch.

    * order 1, ``"fwd"``: ``jvp`` along a random direction in each float argument, against
      ``(f(x + eps·d) − f(x − eps·d)) / 2eps``; ``"rev"``: ``vjp`` with a random cotangent c,
      ``⟨vjp(c), d⟩`` against ``⟨c, finite difference⟩``.
    * order 2 (``f`` with a scalar output): s2sad's gradient of ``f`` in each float argument
      is itself checked the same way, in each mode, against finite differences of that gradient.
    * a number agrees when ``|got − expected| ≤ atol + rtol·max(1, |expected|)``; ``eps`` is the
      finite-difference step (float64 arguments: keep it near 1e-6).

    Integer and bool arguments are constants.  Returns None when everything agrees.
    """
    from . import api
    args = tuple(args)
    if order not in (1, 2):
        raise ArgumentError(f"check_grads: order must be 1 or 2, got {order!r}")
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in modes if m not in ("fwd", "rev")]
    if unknown or not modes:
        raise ArgumentError(f"check_grads: modes must be among 'fwd' and 'rev', got {modes!r}")
    name = getattr(f, "__name__", "the function")
    wrt = api._wrt_all(f, args, "check_grads")
    if not wrt:
        raise ArgumentError(f"check_grads of {name}: no float argument to differentiate with respect "
                            f"to (integers and bools are constants): pass 2.0, not 2")
    if order == 2:
        out = f(*args)
        if isinstance(out, (tuple, list)) or np.ndim(out) != 0:
            raise ArgumentError(f"check_grads of {name}: order=2 checks s2sad's gradient of f, which "
                                f"needs a scalar output; pass order=1, or check a scalar function of "
                                f"the output")
    rng = np.random.default_rng(seed)
    worst = _Worst(atol, rtol)
    _first_order(f, args, wrt, modes, rng, eps, worst, order=1)
    if order == 2:
        for i in wrt:
            _first_order(api.grad(f, argnums=i), args, wrt, modes, rng, eps, worst, order=2, of=i)
    if worst.ratio > 1.0:
        w = worst.found
        where = f" (entry {w['index']} of {w['size']})" if w["size"] > 1 else ""
        raise GradientCheckError(
            f"check_grads of {name}: {w['what']}, {'forward' if w['mode'] == 'fwd' else 'reverse'} "
            f"mode, order {w['order']}{where}: finite differences give {w['expected']!r}, s2sad "
            f"gives {w['got']!r} (|diff| {abs(w['got'] - w['expected']):.3g} > tolerance "
            f"{w['tol']:.3g}, eps={eps})",
            argnum=w["argnum"], mode=w["mode"], order=w["order"], expected=w["expected"], got=w["got"])
