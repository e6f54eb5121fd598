"""The public API: ``grad``, ``value_and_grad``, ``source``.

A derivative is specialised on what its arguments *are* (a Python float, an
array of some ``ndim``, anything else): the transformer then knows where
broadcasting can happen and writes the cheapest correct code.  Parsing and
normalization happen once per function; each specialisation is transformed,
optimized and compiled once and cached.
"""
from __future__ import annotations

import ast
import functools
import inspect
import numbers
import weakref

import numpy as np

from . import emit
from .analysis import NDims, ndim_of_value
from .errors import NotDifferentiableError, S2SADError
from .normalize import normalize
from .optimize import optimize as optimize_tree
from .parse import parse_function
from .reverse import reverse

_PARSED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _normalized(fun):
    """Parse and normalize ``fun`` once."""
    try:
        return _PARSED[fun]
    except (KeyError, TypeError):
        pass
    norm = normalize(parse_function(fun))
    try:
        _PARSED[fun] = norm
    except TypeError:
        pass
    return norm


def _arg_key(value):
    """What a derivative is specialised on, for one argument: its ndim (0 for a
    float), tagged when it is not a float or a float array."""
    t = type(value)
    if t is float:
        return 0
    if t is np.ndarray:
        return value.ndim, value.dtype
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    nd = ndim_of_value(value)
    return nd if nd is not None else t.__name__


def _ndim_from_key(key):
    if isinstance(key, int):
        return key
    if isinstance(key, tuple):
        return key[0]
    return 0 if key == "int" else None


def _check_differentiable(value, i, fname):
    if value is None:             # building the general version, before any call
        return
    bad = isinstance(value, (bool, np.bool_, numbers.Integral)) or (
        isinstance(value, np.ndarray) and not np.issubdtype(value.dtype, np.inexact))
    if bad:
        kind = type(value).__name__ if not isinstance(value, np.ndarray) else f"{value.dtype} array"
        raise NotDifferentiableError(
            f"cannot differentiate {fname} with respect to argument {i}: it is an {kind}",
            hint="pass a float (e.g. 2.0 instead of 2) or a float array, or leave the argument "
                 "out of argnums")


def _conform(g, like):
    """Give a gradient the type, shape and dtype of its argument."""
    if type(like) is np.ndarray:
        if type(g) is np.ndarray and g.base is None and g is not like \
                and g.shape == like.shape and g.dtype == like.dtype:
            return g
        g = np.asarray(g)
        g = np.asarray(g)
        if g.shape != like.shape:
            g = np.broadcast_to(g, like.shape)
        if g.dtype != like.dtype:
            g = g.astype(like.dtype)
        elif not g.flags.writeable or g is like or g.base is like:
            g = np.array(g)
        return g
    if isinstance(like, np.generic):
        return like.dtype.type(g)
    if isinstance(like, numbers.Real):
        return float(g)
    return g


class Derivative:
    """A derivative of a Python function: call it like the function."""

    def __init__(self, fun, argnums=0, optimize=True, with_value=False):
        # grad(grad(f)): the inner derivative's generated source is transformed again
        self.inner = fun if isinstance(fun, Derivative) else None
        self.fun = fun
        self.multi = isinstance(argnums, (tuple, list))
        self.argnums = tuple(argnums) if self.multi else (argnums,)
        self.optimize = optimize
        self.with_value = with_value
        self.norm = _normalized(fun) if self.inner is None else None
        self.params = self.norm.params if self.inner is None else self.inner.params
        for i in self.argnums:
            if not isinstance(i, int) or not -len(self.params) <= i < len(self.params):
                raise ValueError(f"argnums {argnums!r} out of range for {fun.__name__} "
                                 f"with {len(self.params)} parameters")
        self.argnums = tuple(i % len(self.params) for i in self.argnums)
        self.signature = inspect.signature(fun)
        self._nparams = len(self.params)
        self._compiled = {}
        self._checked = set()
        self._last = None
        functools.update_wrapper(self, fun, updated=() if self.inner is not None else
                                 functools.WRAPPER_UPDATES)
        self._s2sad_wrapped = True

    @property
    def kind(self) -> str:
        return "value_and_grad" if self.with_value else "grad"

    def _build(self, key, args):
        for i in self.argnums:
            _check_differentiable(args[i], i, self.fun.__name__)
        norm = self.norm if self.inner is None else _normalized_for(self.inner, key, args)
        arg_ndims = {p: _ndim_from_key(k) for p, k in zip(self.params, key)
                     if _ndim_from_key(k) is not None}
        wrt = [self.params[i] for i in self.argnums]
        name = f"{self.kind}_{norm.node.name}"
        tree = reverse(norm, wrt, arg_ndims, with_value=True if key in ("check",) else self.with_value,
                       multi=self.multi, name=name)
        if self.optimize:
            callees = tree._s2sad_callees
            tree = optimize_tree(tree)
            tree._s2sad_callees = callees
            for entry in callees.values():
                if entry[1] is not None:
                    entry[1] = optimize_tree(entry[1])
        fn, src = emit.compile_derivative(tree, norm.parsed, label=name)
        if getattr(self.fun, "__defaults__", None):
            fn.__defaults__ = self.fun.__defaults__
        out_nd = NDims(norm.node, norm.parsed, arg_ndims).get(ast.Name(norm.result))
        return fn, src, out_nd, self._runner(fn, out_nd)

    def _get(self, key, args=None):
        entry = self._compiled.get(key)
        if entry is None:
            entry = self._compiled[key] = self._build(key, args)
        self._last = entry
        return entry

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != self._nparams:
            bound = self.signature.bind(*args, **kwargs)
            bound.apply_defaults()
            args = bound.args
        entry = self._compiled.get(tuple(map(_arg_key, args)))
        if entry is None:
            entry = self._get(tuple(map(_arg_key, args)), args)
        self._last = entry
        return entry[3](args)

    def _runner(self, fn, out_nd):
        """The per-specialisation call path: run ``fn``, give each gradient its argument's type."""
        conform = _conform
        if not self.with_value and not self.multi and out_nd == 0:
            i = self.argnums[0]
            return lambda args: conform(fn(*args), args[i])

        def run(args):
            if not self.with_value and out_nd != 0:
                shapes = tuple(np.shape(a) if isinstance(a, np.ndarray) else None for a in args)
                if shapes not in self._checked:
                    self._check_scalar_output(args)
                    self._checked.add(shapes)
            result = fn(*args)
            if self.with_value:
                value, grads = result
                self._require_scalar(value)
                return value, self._conform_all(grads, args)
            return self._conform_all(result, args)
        return run

    def _check_scalar_output(self, args):
        value = self.fun(*args)
        self._require_scalar(value)

    def _require_scalar(self, value):
        if np.ndim(value) != 0 or not isinstance(value, (numbers.Number, np.ndarray, np.generic)):
            shape = np.shape(value) if isinstance(value, (np.ndarray, list, tuple)) else type(value).__name__
            raise NotDifferentiableError(
                f"grad needs a scalar output, but {self.fun.__name__} returned {shape}",
                hint="reduce the output (e.g. np.sum) or use a Jacobian (jacrev / jacfwd)")

    def _conform_all(self, grads, args):
        if not self.multi:
            return _conform(grads, args[self.argnums[0]])
        if self.multi:
            return tuple(_conform(g, args[i]) for g, i in zip(grads, self.argnums))
        return _conform(grads, args[self.argnums[0]])

    def source(self) -> str:
        if self._last is None:
            self._get(tuple("any" for _ in self.params), [None] * len(self.params))
        return self._last[1]

    def __repr__(self):
        return f"<s2sad {self.kind} of {self.fun.__qualname__} wrt argnums={self.argnums}>"


_DERIVATIVES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _derivative(fun, argnums, optimize, with_value) -> Derivative:
    """One Derivative per function and options: ``grad(f)`` twice transforms once."""
    key = (tuple(argnums) if isinstance(argnums, (list, tuple)) else argnums,
           isinstance(argnums, (list, tuple)), bool(optimize), with_value)
    try:
        per_fun = _DERIVATIVES.setdefault(fun, {})
    except TypeError:
        return Derivative(fun, argnums=argnums, optimize=optimize, with_value=with_value)
    if key not in per_fun:
        per_fun[key] = Derivative(fun, argnums=argnums, optimize=optimize, with_value=with_value)
    return per_fun[key]


def grad(fun=None, *, argnums=0, optimize: bool = True):
    """The gradient of a scalar function, by reverse-mode source transformation.

    Usable as ``@grad``, ``@grad(argnums=1)`` or ``grad(f, argnums=(0, 2))``.
    """
    if fun is None:
        return lambda f: grad(f, argnums=argnums, optimize=optimize)
    return _derivative(fun, argnums, optimize, False)


def value_and_grad(fun=None, *, argnums=0, optimize: bool = True):
    """Like :func:`grad`, but returns ``(value, gradient)`` from one sweep."""
    if fun is None:
        return lambda f: value_and_grad(f, argnums=argnums, optimize=optimize)
    return _derivative(fun, argnums, optimize, True)


def source(derivative) -> str:
    """The generated Python source of a derivative made by s2sad.

    Shows the specialisation of the most recent call (or, before any call, the
    general one that assumes nothing about the argument types).
    """
    if not isinstance(derivative, Derivative):
        src = getattr(derivative, "__s2sad_source__", None)
        if src is None:
            raise S2SADError(f"{derivative!r} is not a derivative made by s2sad")
        return src
    return derivative.source()
