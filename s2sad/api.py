"""The public API: ``grad``, ``value_and_grad``, ``source``.

A derivative is specialised on what its arguments *are* (a Python float, an
array of some ``ndim``, anything else): the transformer then knows where
broadcasting can happen and writes the cheapest correct code.  Parsing and
normalization happen once per function; each specialisation is transformed,
optimized and compiled once and cached.
"""
from __future__ import annotations

import ast
import contextlib
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
from .derivatives import seed_name
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


@contextlib.contextmanager
def _internal_errors(fname: str):
    """A failure inside s2sad itself (not in the user's code) is reported as one, never as a
    bare traceback from deep inside the transformer."""
    try:
        yield
    except S2SADError:
        raise
    except RecursionError as exc:
        raise S2SADError(f"s2sad could not transform {fname!r}: the program is nested too deeply "
                         f"({exc})") from exc
    except Exception as exc:
        raise S2SADError(f"internal error in s2sad while transforming {fname!r}: "
                         f"{type(exc).__name__}: {exc}. This is a bug in s2sad, not in your code; "
                         f"please report it with the function's source") from exc


def _optimize_all(tree):
    """Optimize a derivative and the derivatives of the helpers it calls."""
    callees = getattr(tree, "_s2sad_callees", {})
    tree = optimize_tree(tree)
    tree._s2sad_callees = callees
    for entry in callees.values():
        if entry[1] is not None:
            entry[1] = optimize_tree(entry[1])
    return tree


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
        self._guards = self._global_guards()
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
        with _internal_errors(norm.node.name):
            tree = reverse(norm, wrt, arg_ndims, with_value=self.with_value, multi=self.multi, name=name)
            if self.optimize:
                tree = _optimize_all(tree)
            fn, src = emit.compile_derivative(tree, norm.parsed, label=name)
        fn = _positional(fn, norm)
        out_nd = NDims(norm.node, norm.parsed, arg_ndims).get(ast.Name(norm.result))
        return fn, src, out_nd, self._runner(fn, out_nd)

    def _get(self, key, args=None):
        entry = self._compiled.get(key)
        if entry is None:
            entry = self._compiled[key] = self._build(key, args)
        self._last = entry
        return entry

    def _global_guards(self):
        """Module globals the function reads that are numbers or arrays: the derivative
        is specialised on their kinds too (rebinding one to another ndim re-transforms)."""
        if self.norm is None:
            return ()
        ns = self.norm.parsed.namespace
        local = set(self.params) | {n.id for n in ast.walk(self.norm.node)
                                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        names = sorted({n.id for n in ast.walk(self.norm.node) if isinstance(n, ast.Name)
                        and n.id not in local and n.id not in self.norm.parsed.closure})
        return tuple((ns, n) for n in names if n in ns and ndim_of_value(ns[n]) is not None)

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != self._nparams:
            args = _full_args(self.fun, args, kwargs)
        key = tuple(map(_arg_key, args))
        if self._guards:
            key += tuple(_arg_key(ns.get(n)) for ns, n in self._guards)
        entry = self._compiled.get(key)
        if entry is None:
            entry = self._get(key, args)
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


# --- forward mode, vjp, Jacobians and higher order -----------------------------------------------
#
# A forward-mode derivative is the tangent program of the function (s2sad/forward.py), specialised
# and cached like grad's.  The function may itself be a derivative s2sad made (grad(f)): then its
# generated source is what gets transformed, which is how hessian and jvp-of-grad work.

def _normalized_for(fun, key, args):
    """The normalized form of ``fun``, or of the source s2sad generated for a derivative."""
    if isinstance(fun, Derivative):
        generated = fun._get(key, args)[0]
        return _normalized(generated)
    return _normalized(fun)


def _full_args(fun, args, kwargs=None):
    """Every argument's value, defaults filled in, in parameter order (keyword-only last)."""
    signature = inspect.signature(fun)
    bound = signature.bind(*args, **(kwargs or {}))
    bound.apply_defaults()
    return tuple(bound.arguments.values())


def _positional(fn, norm):
    """``fn`` taking every parameter positionally: keyword-only ones are passed by name."""
    kwonly = [a.arg for a in norm.node.args.kwonlyargs]
    if not kwonly:
        return fn
    npos = len(norm.params) - len(kwonly)

    def call(*args, **extra):
        return fn(*args[:npos], *args[len(norm.params):], **dict(zip(kwonly, args[npos:])), **extra)
    call.__s2sad_source__ = getattr(fn, "__s2sad_source__", None)
    return call


def _differentiable(value) -> bool:
    if isinstance(value, (bool, np.bool_, numbers.Integral)):
        return False
    if isinstance(value, np.ndarray):
        return np.issubdtype(value.dtype, np.inexact)
    return isinstance(value, (numbers.Real, np.generic)) and not isinstance(value, np.bool_)


_TRANSFORMED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _transformed(fun, mode: str, wrt_nums: tuple, args, optimize: bool, vector: bool = False):
    """The compiled forward (``mode="jvp"``) or seeded reverse (``mode="vjp"``) derivative of
    ``fun`` for arguments like ``args``, cached per function, mode and argument kinds."""
    key = tuple(map(_arg_key, args))
    cache_key = (mode, wrt_nums, key, optimize, vector)
    try:
        per_fun = _TRANSFORMED.setdefault(fun, {})
    except TypeError:
        per_fun = {}
    entry = per_fun.get(cache_key)
    if entry is not None:
        return entry
    from .forward import forward
    norm = _normalized_for(fun, key, args)
    params = norm.params
    wrt = [params[i] for i in wrt_nums]
    arg_ndims = {p: _ndim_from_key(k) for p, k in zip(params, key) if _ndim_from_key(k) is not None}
    base = norm.node.name
    with _internal_errors(base):
        if mode == "jvp":
            name = f"{'jacfwd' if vector else 'jvp'}_{base}"
            tree = forward(norm, wrt, arg_ndims, vector=vector, name=name)
        else:
            name = f"vjp_{base}"
            seed = seed_name(norm)
            tree = reverse(norm, wrt, arg_ndims, seed=seed, multi=True, name=name)
        if optimize:
            tree = _optimize_all(tree)
        fn, src = emit.compile_derivative(tree, norm.parsed, label=name)
    fn = _positional(fn, norm)
    if mode != "jvp":
        fn = functools.partial(fn)
        fn.__s2sad_seed__ = seed              # the keyword the cotangent is passed by
        fn.__s2sad_source__ = src
    per_fun[cache_key] = fn
    return fn


def _conform_tangent(t, out):
    """Give a tangent the structure, shape and dtype kind of the output it belongs to."""
    if isinstance(out, (tuple, list)):
        if not isinstance(t, (tuple, list)):
            t = [np.zeros(np.shape(o)) if np.ndim(o) else 0.0 for o in out]
        return type(out)(_conform_tangent(a, b) for a, b in zip(t, out))
    if isinstance(out, np.ndarray):
        t = np.asarray(t)
        if t.shape != out.shape:
            t = np.array(np.broadcast_to(t, out.shape))
        if np.issubdtype(out.dtype, np.inexact) and t.dtype != out.dtype:
            t = t.astype(out.dtype)
        return t
    if isinstance(out, numbers.Real) and not isinstance(out, np.generic):
        return float(t)
    return t


def jvp(fun, primals, tangents, *, optimize: bool = True):
    """Forward mode: ``(fun(*primals), the derivative of fun at primals along tangents)``.

    ``primals`` and ``tangents`` are tuples of the same length; integer and bool
    arguments are constants (their tangent is ignored).  One forward sweep.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp needs one tangent per primal: got {len(primals)} primals and "
                         f"{len(tangents)} tangents")
    args = _full_args(fun, primals)
    wrt = tuple(i for i in range(len(primals)) if _differentiable(primals[i]))
    fn = _transformed(fun, "jvp", wrt, args, optimize)
    dots = []
    for i in wrt:
        t = tangents[i]
        if np.shape(t) != np.shape(primals[i]):
            raise ValueError(f"tangent {i} has shape {np.shape(t)} but its primal has shape "
                             f"{np.shape(primals[i])}")
        dots.append(float(t) if isinstance(primals[i], float) else np.asarray(t, dtype=np.result_type(primals[i], float)))
    out, out_dot = fn(*args, *dots)
    return out, _conform_tangent(out_dot, out)


def vjp(fun, *primals, optimize: bool = True):
    """Reverse mode: ``(fun(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns one
    cotangent per primal (None for integer and bool arguments), as a tuple.

    ``cotangent`` has the structure of the output (a tuple for a function that
    returns a tuple).  Each call of ``vjp_fn`` runs the adjoint program once.
    """
    args = _full_args(fun, primals)
    wrt = tuple(i for i in range(len(primals)) if _differentiable(primals[i]))
    fn = _transformed(fun, "vjp", wrt, args, optimize)
    out = fun(*args)

    def vjp_fn(cotangent):
        grads = fn(*args, **{fn.__s2sad_seed__: cotangent}) if wrt else ()
        result = [None] * len(primals)
        for i, g in zip(wrt, grads):
            result[i] = _conform(g, primals[i])
        return tuple(result)

    return out, vjp_fn


def _argnums(fun, argnums):
    multi = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if multi else (argnums,)
    return multi, nums


class Jacobian:
    """``jacfwd(f)`` / ``jacrev(f)``: call it like ``f``; returns ``out.shape + in.shape`` arrays
    (a tuple per argument for tuple ``argnums``, a tuple per output for tuple outputs)."""

    def __init__(self, fun, argnums=0, mode="forward", optimize=True):
        self.fun = fun
        self.multi, self.argnums = _argnums(fun, argnums)
        self.mode = mode
        self.optimize = optimize
        self._last = None
        functools.update_wrapper(self, fun, updated=())

    def __call__(self, *args):
        args = _full_args(self.fun, args)
        n = len(args)
        nums = tuple(i % n for i in self.argnums)
        for i in nums:
            _check_differentiable(args[i], i, getattr(self.fun, "__name__", "f"))
        jac = self._forward(args, nums) if self.mode == "forward" else self._reverse(args, nums)
        return jac

    def _forward(self, args, nums):
        """One sweep in vector mode: the tangent of argument i is a block of the identity."""
        fn = _transformed(self.fun, "jvp", nums, args, self.optimize, vector=True)
        self._last = fn
        sizes = [int(np.size(args[i])) for i in nums]
        total = sum(sizes)
        eye = np.eye(total)
        seeds, start = [], 0
        for i, size in zip(nums, sizes):
            seeds.append(eye[:, start:start + size].reshape((total,) + np.shape(args[i])))
            start += size
        out, out_dot = fn(*args, *seeds)

        def blocks(out, dot):
            if isinstance(out, (tuple, list)):
                return tuple(blocks(o, d) for o, d in zip(out, dot))
            shape = np.shape(out)
            dot = np.asarray(dot)
            if dot.shape != (total,) + shape:
                dot = np.broadcast_to(dot.reshape(dot.shape[:1] + (1,) * (len(shape) + 1 - dot.ndim)
                                                  + dot.shape[1:]), (total,) + shape)
            parts, start = [], 0
            for i, size in zip(nums, sizes):
                block = np.moveaxis(dot[start:start + size], 0, -1)
                parts.append(np.ascontiguousarray(block).reshape(shape + np.shape(args[i])))
                start += size
            return tuple(parts) if self.multi else parts[0]

        return blocks(out, out_dot)

    def _reverse(self, args, nums):
        """One reverse sweep per output element, each seeded with a unit cotangent."""
        fn = _transformed(self.fun, "vjp", nums, args, self.optimize)
        self._last = fn
        out = self.fun(*args)
        leaves = list(out) if isinstance(out, (tuple, list)) else [out]
        results = []
        for k, leaf in enumerate(leaves):
            shape = np.shape(leaf)
            m = int(np.prod(shape))
            rows = [np.empty((m,) + np.shape(args[i])) for i in nums]
            for j in range(m):
                seeds = [np.zeros(np.shape(o)) if np.ndim(o) else 0.0 for o in leaves]
                if shape:
                    seeds[k].flat[j] = 1.0
                else:
                    seeds[k] = 1.0
                ct = type(out)(seeds) if isinstance(out, (tuple, list)) else seeds[0]
                grads = fn(*args, **{fn.__s2sad_seed__: ct})
                for r, g in zip(rows, grads):
                    r[j] = g
            parts = [r.reshape(shape + np.shape(args[i])) for r, i in zip(rows, nums)]
            results.append(tuple(parts) if self.multi else parts[0])
        return tuple(results) if isinstance(out, (tuple, list)) else results[0]

    @property
    def __s2sad_source__(self):
        if self._last is None:
            raise S2SADError("call the Jacobian once first: its code is specialised on the arguments")
        return self._last.__s2sad_source__

    def __repr__(self):
        return f"<s2sad jac{'fwd' if self.mode == 'forward' else 'rev'} of {self.fun!r}>"


def jacfwd(fun, argnums=0, *, optimize: bool = True) -> Jacobian:
    """The Jacobian by forward mode in *vector mode*: one sweep whose tangents carry a leading
    axis of directions, one per input element (cost grows with the number of inputs)."""
    return Jacobian(fun, argnums, "forward", optimize)


def jacrev(fun, argnums=0, *, optimize: bool = True) -> Jacobian:
    """The Jacobian by reverse mode: one adjoint sweep per output element (cost grows with
    the number of outputs)."""
    return Jacobian(fun, argnums, "reverse", optimize)


def hessian(fun, argnums=0, *, optimize: bool = True) -> Jacobian:
    """The Hessian of a scalar function: forward over reverse, i.e. ``jacfwd`` of the
    generated gradient source."""
    return jacfwd(grad(fun, argnums=argnums, optimize=optimize), argnums, optimize=optimize)
