"""The public API: ``grad``, ``value_and_grad``, ``source``.

A derivative is specialised on what its arguments *are* (a Python float, an
array of some ``ndim``, anything else): the transformer then knows where
broadcasting can happen and writes the cheapest correct code.  Parsing and
normalization happen once per function; each specialisation is transformed,
optimized and compiled once and cached.
"""
from __future__ import annotations

import ast
import collections
import contextlib
import dataclasses
import functools
import inspect
import re
import linecache
import numbers
import types
import os
import weakref

import numpy as np

from . import containers, emit
from . import tree as tree_module
from .analysis import NDims, ndim_of_value, sequences
from .errors import ArgumentError, GeneratedCodeError, NotDifferentiableError, S2SADError
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


class _Deferred:
    """A function that normalize refuses as it is (a dict display, say) but that scalar
    replacement of its container arguments may make acceptable: its parameters and parse, and
    the error to raise when it is called without containers."""

    def __init__(self, parsed, error):
        fn = parsed.node
        self.node, self.parsed, self.error, self.renamed = fn, parsed, error, {}
        self.params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]


def _normalized_or_deferred(fun):
    """``_normalized(fun)``, or a `_Deferred` when normalize refuses it (containers.py may
    still accept it once the containers' structures are known)."""
    from .errors import UnsupportedSyntaxError
    try:
        norm = _normalized(fun)
    except UnsupportedSyntaxError as exc:
        parsed = parse_function(fun)
        args = parsed.node.args
        if args.vararg is None and args.kwarg is None and \
                any(isinstance(n, (ast.Dict, ast.DictComp)) for n in ast.walk(parsed.node)):
            return _Deferred(parsed, exc)       # dict displays: maybe fine once containers are known
        raise
    norm.error = None
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
    if isinstance(value, np.floating):
        return 0
    if isinstance(value, np.ndarray):          # a subclass (np.matrix, a masked array)
        return ("subclass", value.ndim, t.__name__)
    if isinstance(value, numbers.Number) and not isinstance(value, numbers.Real):
        return t.__name__                      # complex: never shares a float's specialisation
    nd = ndim_of_value(value)
    return nd if nd is not None else t.__name__


_TREE_NODE_TYPES = (dict, list, tuple)


def _is_tree(value) -> bool:
    """A container argument s2sad takes apart (see s2sad/containers.py): a dict, a namedtuple, a
    dataclass instance, a registered class, or a list / tuple holding one of those or None."""
    t = type(value)
    if t is dict or t in (collections.OrderedDict, collections.defaultdict) or t in tree_module._registry \
            or (isinstance(value, tuple) and isinstance(getattr(t, "_fields", None), tuple)) \
            or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        return True
    if t is list or t is tuple:
        return any(x is None or _is_tree(x) for x in value)
    return False


_FLAT_DICTS: dict = {}         # a dict's keys in insertion order -> (TreeDef of a dict of leaves, order)


def _tree_key(value, fname, i):
    """``("tree", treedef, leaf keys, dict orders)``: a container argument's specialisation key.

    The TreeDef sorts dict keys (two dicts with the same keys are one structure), but the function
    iterates a dict in insertion order (``for v in p.values()``): the order is part of the key
    when it differs from the sorted one (`_dict_orders`).  A dict of arrays and floats
    (parameters, most often) takes a shortcut: its TreeDef is cached by its keys."""
    if type(value) is dict:
        hit = _FLAT_DICTS.get(tuple(value))
        if hit is not None:             # (per leaf, what _arg_key gives, inlined: this is per call)
            td, order = hit
            leaf_keys = []
            for k in td.data:
                v = value[k]
                t = type(v)
                if t is np.ndarray:
                    leaf_keys.append((v.ndim, v.dtype))
                elif t is float:
                    leaf_keys.append(0)
                else:
                    break
            else:
                return ("tree", td, tuple(leaf_keys), order)
    leaves, td = tree_module.flatten(value, name=f"argument {i} of {fname}")
    order = _dict_orders(value)
    if type(value) is dict and len(_FLAT_DICTS) < 256 and all(c.kind == "leaf" for c in td.children):
        _FLAT_DICTS[tuple(value)] = (td, order)
    return ("tree", td, tuple(map(_arg_key, leaves)), order)


def _dict_orders(value):
    """The insertion order of each dict (and defaultdict) of a pytree, in pre-order, or None when
    every one is in sorted order (what its TreeDef says)."""
    out, unsorted = [], False

    def walk(x):
        nonlocal unsorted
        node = tree_module._node(x, "")
        if node is None:
            return
        kind, data, children, _ = node
        if kind in ("dict", "defaultdict"):
            order = tuple(x)
            if order != (data if kind == "dict" else data[1]):
                unsorted = True
            out.append(order)
        for c in children:
            walk(c)
    walk(value)
    return tuple(out) if unsorted else None


def _is_tree_key(key) -> bool:
    return type(key) is tuple and len(key) == 4 and key[0] == "tree"


def _ndim_from_key(key):
    if isinstance(key, int):
        return key
    if isinstance(key, tuple):
        return key[1] if key[0] == "subclass" else key[0]
    return 0 if key == "int" else None


def _arg_kind(value) -> str:
    """What s2sad makes of an argument: "float" (a float, a NumPy float scalar, a float ndarray
    of any ndim), "int", "bool", "complex", "subclass" (of ndarray), "container" (list, tuple,
    dict, dataclass), "foreign" (another library's array), "none" or "other"."""
    t = type(value)
    if t is float or (t is np.ndarray and value.dtype.kind == "f"):
        return "float"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, np.floating):
        return "float"
    if isinstance(value, np.ndarray):
        if t is not np.ndarray:
            return "subclass"
        return {"i": "int", "u": "int", "b": "bool", "c": "complex"}.get(value.dtype.kind, "other")
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        return "complex"
    if isinstance(value, (list, tuple, dict)) or (dataclasses.is_dataclass(value)
                                                  and not isinstance(value, type)):
        return "container"
    if any(hasattr(t, a) for a in ("__array_function__", "__array__", "__array_interface__")):
        return "foreign"
    if value is None:
        return "none"
    return "other"


def _kind_problem(value, kind):
    """Why an argument of this kind cannot be differentiated with respect to, and what to pass."""
    name = type(value).__name__
    if kind == "complex":
        return (f"a complex {'array' if isinstance(value, np.ndarray) else 'number'}",
                "s2sad differentiates real functions of real arguments: pass the real and imaginary "
                "parts as two float arguments")
    if kind == "subclass":
        return (f"a {type(value).__module__}.{name} (an ndarray subclass, whose operators mean "
                f"other things: np.matrix multiplies with *, a masked array skips masked entries)",
                "pass np.asarray(x) (for a masked array, x.filled(value) or x.compressed())")
    if kind == "container":
        return (f"a {name}", "containers (pytrees: list, tuple, dict, dataclass) are taken apart "
                "only as named parameters, not through *args: list the parameters, or pass a float "
                "array (np.array(x)), or leave it out of argnums")
    if kind == "foreign":
        return (f"a {type(value).__module__}.{name} (not a NumPy array)",
                "s2sad differentiates Python floats and NumPy float arrays: pass np.asarray(x)")
    if kind in ("int", "bool"):
        what = f"{value.dtype} array" if isinstance(value, np.ndarray) else name
        return (f"an {what}", "pass a float (e.g. 2.0 instead of 2) or a float array, or leave "
                "the argument out of argnums")
    return (f"a {name}", "pass a float or a NumPy float array")


def _check_differentiable(value, i, fname):
    """Refuse, before anything runs, a differentiated argument that is not a float or float array."""
    if value is _GENERAL:         # building the general version, before any call
        return
    kind = _arg_kind(value)
    if kind != "float":
        what, hint = _kind_problem(value, kind)
        message = f"cannot differentiate {fname} with respect to argument {i}: it is {what}"
        if kind in ("int", "bool"):
            raise NotDifferentiableError(message, hint=hint)
        raise ArgumentError(f"{message}. Hint: {hint}")


_GENERAL = object()                # source() before any call: no argument to check


def _check_constant_args(args, skip, fname):
    """Arguments not differentiated are constants, but an ndarray subclass is refused anyway: the
    derivative's rules are NumPy's (``*`` is elementwise), not the subclass's."""
    for i, value in enumerate(args):
        if i not in skip and isinstance(value, np.ndarray) and type(value) is not np.ndarray:
            what, hint = _kind_problem(value, "subclass")
            raise ArgumentError(f"cannot differentiate {fname}: argument {i} is {what}. Hint: {hint}")


def _check_argnums(argnums, nparams, fname):
    """``argnums`` is an int or a tuple of ints, each in range: else an ArgumentError."""
    nums = tuple(argnums) if isinstance(argnums, (tuple, list)) else (argnums,)
    for i in nums:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise ArgumentError(f"argnums must be an int or a tuple of ints, not {argnums!r} "
                                f"(for {fname})")
        if nparams is not None and not -nparams <= i < nparams:
            raise ArgumentError(f"argnums {argnums!r} out of range for {fname} with {nparams} "
                                f"parameter{'s' if nparams != 1 else ''}")
    if not nums:
        raise ArgumentError(f"argnums is empty (for {fname}): name at least one argument")


def _nparams(fun):
    """How many arguments ``fun`` takes positionally (None: any number)."""
    if isinstance(fun, Derivative):
        return fun._nparams
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.kind != p.VAR_KEYWORD)


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


def _guards(norm):
    """Module globals the function reads that are numbers or arrays, and a bound method's
    ``self.attr`` reads: the derivative is specialised on their kinds too (rebinding one to
    another ndim re-transforms)."""
    ns = norm.parsed.namespace
    local = set(norm.params) | {n.id for n in ast.walk(norm.node)
                                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names = sorted({n.id for n in ast.walk(norm.node) if isinstance(n, ast.Name)
                    and n.id not in local and n.id not in norm.parsed.closure})
    guards = [(ns, n) for n in names if n in ns and ndim_of_value(ns[n]) is not None]
    bound = norm.parsed.bound
    if bound is not None:
        obj = _Attributes(norm.parsed.closure[bound])
        guards += [(obj, a) for a in sorted({n.attr for n in ast.walk(norm.node)
                                             if isinstance(n, ast.Attribute)
                                             and isinstance(n.value, ast.Name)
                                             and n.value.id == bound})]
    return tuple(guards)


_MISSING = object()


def _cell_contents(cell):
    try:
        return cell.cell_contents
    except ValueError:                  # an emptied cell
        return _MISSING


_READ = {"get": lambda h, n: h.get(n, _MISSING), "attr": lambda h, n: getattr(h, n, _MISSING),
         "code": lambda h, n: h.__code__, "cell": lambda h, n: _cell_contents(h)}
_FAST = {"get": "h{i}.get(n{i}, M) is v{i}", "attr": "getattr(h{i}, n{i}, M) is v{i}",
         "code": "h{i}.__code__ is v{i}", "cell": "cell(h{i}) is v{i}"}


class _World:
    """What a derivative assumed about the world: ``(kind, holder, name, value)`` checks, each
    holding while reading ``name`` from ``holder`` (a namespace's ``get``, an attribute, a
    function's ``__code__``, a closure cell's contents) gives ``value`` itself.  ``holds()`` is
    one compiled chain of ``is`` comparisons on the hot path; only when one fails does it look
    again (a number in a closure cell rebound to an equal number still holds)."""
    __slots__ = ("checks", "fast")

    def __init__(self, checks):
        self.checks = tuple(checks)
        env = {"M": _MISSING, "cell": _cell_contents}
        parts = []
        for i, (kind, holder, name, value) in enumerate(self.checks):
            env[f"h{i}"], env[f"n{i}"], env[f"v{i}"] = holder, name, value
            parts.append(_FAST[kind].format(i=i))
        self.fast = eval("lambda: " + (" and ".join(parts) or "True"), env)

    def holds(self) -> bool:
        return self.fast() or all(_same(_READ[kind](holder, name), value)
                                  for kind, holder, name, value in self.checks)

    def __add__(self, checks):
        return _World(self.checks + tuple(checks))

    def __bool__(self):
        return bool(self.checks)


_NOTHING = _World(())


def _same(now, value) -> bool:
    return now is value or (type(now) is type(value) and isinstance(value, (numbers.Number, str))
                            and now == value)


def _world(tree, norm) -> _World:
    """What a derivative assumed about the world when it was built: the identity (and ``__code__``) of
    every global, closure and builtin function and module the function and the helpers it
    calls resolved, the attributes of modules it read (``mod.helper``), and the contents of
    the closure cells baked into the derivative.  Global numbers and arrays are read live by
    the generated code (their kinds are guarded by ``_guards``)."""
    checks = {}
    norms = [norm] + [e[2] for e in getattr(tree, "_s2sad_callees", {}).values()]
    for n in norms:
        _assumptions(n, checks)
    return _World(checks.values())


def _assumptions(norm, checks):
    parsed = norm.parsed
    fn = parsed.function
    if not isinstance(fn, types.FunctionType):
        return                                  # the CLI (never cached) or a method's wrapper
    checks[("code", id(fn))] = ("code", fn, "__code__", fn.__code__)
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    ns = parsed.namespace
    local = set(norm.params) | {n.id for n in ast.walk(norm.node)
                                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    free = {}
    for node in ast.walk(norm.node):
        if isinstance(node, ast.Name) and node.id not in local:
            free[node.id] = norm.renamed.get(node.id, node.id)
    values = {}
    for name, user in free.items():
        if user == parsed.bound:
            continue
        if user in cells:
            if name not in parsed.closure:
                continue                        # an empty cell (an error if it runs)
            cell = cells[user]
            value = parsed.closure[name]        # what was baked in, maybe before the cell changed
            checks[("cell", id(cell))] = ("cell", cell, user, value)
        elif user in ns:
            value = parsed.closure[name] if name in parsed.closure else ns[user]
            if name == user and (ndim_of_value(value) is not None or isinstance(value, (str, bytes))):
                continue                        # read live by the generated code (not renamed)
            checks[("global", id(ns), user)] = ("get", ns, user, value)
        else:
            checks[("global", id(ns), user)] = ("get", ns, user, _MISSING)   # a builtin
            continue
        values[name] = value
        if isinstance(value, types.FunctionType):
            checks[("code", id(value))] = ("code", value, "__code__", value.__code__)
            checks[("defaults", id(value))] = ("attr", value, "__defaults__", value.__defaults__)
    for node in ast.walk(norm.node):          # module attributes: mod.helper, np.linalg.norm
        chain = []
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        if not chain or not isinstance(node, ast.Name) or node.id not in values:
            continue
        base = values[node.id]
        for attr in reversed(chain):
            if not isinstance(base, (types.ModuleType, type)):
                break
            value = getattr(base, attr, _MISSING)
            checks[("attr", id(base), attr)] = ("attr", base, attr, value)
            if isinstance(value, types.FunctionType):
                checks[("code", id(value))] = ("code", value, "__code__", value.__code__)
            base = value


def _forget(fun):
    """Drop the parsed and normalized forms of ``fun`` and of every helper (they hold closure
    values and resolved functions): the next transformation reads the world afresh."""
    from . import normalize as normalize_module
    try:
        _PARSED.pop(fun, None)
    except TypeError:
        pass
    normalize_module._CACHE.clear()


class _Attributes:
    """An object's attributes read like a namespace (``.get``), for specialisation guards."""
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def get(self, name):
        return getattr(self.obj, name, None)


def _generated_failure(exc, fun, args, fname):
    """An exception escaped a derivative's call.  Return the exception to raise instead, or None
    to let ``exc`` propagate unchanged.

    The innermost frame that is generated code or the user's own (NumPy's and s2sad's runtime's
    frames are skipped) decides: the user's code raising propagates; with neither, the failure
    is s2sad's own (giving a gradient its argument's shape, say).  A generated line raising
    may be one of the user's statements copied into the derivative: the original function is run
    once more (on this failure path only) and, if it raises the same kind of error, that error
    propagates; otherwise the failure is s2sad's and is reported as a GeneratedCodeError."""
    tb, culprit = exc.__traceback__, None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith("<s2sad-") or not _is_library(filename):
            culprit = tb
        tb = tb.tb_next
    if culprit is None:             # only s2sad's and NumPy's frames: s2sad's own failure
        return GeneratedCodeError(
            f"internal error in s2sad while computing the derivative of {fname}: "
            f"{type(exc).__name__}: {exc}. This is a bug in s2sad, not in your code; please "
            f"report it with the function's source")
    if not culprit.tb_frame.f_code.co_filename.startswith("<s2sad-"):
        return None
    try:
        fun(*args)
    except type(exc) as original:
        return original
    except Exception:
        pass
    filename, lineno = culprit.tb_frame.f_code.co_filename, culprit.tb_lineno
    text = linecache.getline(filename, lineno).strip()
    return GeneratedCodeError(
        f"the derivative of {fname} failed in code s2sad generated, not in your code: "
        f"{type(exc).__name__}: {exc}\n    {filename}, line {lineno} (in "
        f"{culprit.tb_frame.f_code.co_name}): {text}\nThis is a bug in s2sad or in a derivative "
        f"rule; please report it with the function's source (s2sad.source shows the derivative)")


_LIBRARY_DIRS = tuple(os.path.dirname(m.__file__) + os.sep for m in (np,)) + \
    (os.path.dirname(os.path.abspath(__file__)) + os.sep,)


def _is_library(filename: str) -> bool:
    """NumPy's, s2sad's own (runtime, rules) or Python's internals: not the user's code."""
    return filename.startswith(_LIBRARY_DIRS) or filename.startswith("<frozen") or \
        filename.startswith(_STDLIB)


_STDLIB = os.path.dirname(os.__file__) + os.sep


def _call_checked(call, fun, args, fname):
    """``call()``; an exception from generated code becomes a GeneratedCodeError."""
    try:
        return call()
    except S2SADError:
        raise
    except Exception as exc:
        replacement = _generated_failure(exc, fun, args, fname)
        if replacement is None:
            raise
        if isinstance(replacement, GeneratedCodeError):
            raise replacement from exc
        raise replacement


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
        self.norm = _normalized_or_deferred(fun) if self.inner is None else None
        self.params = self.norm.params if self.inner is None else self.inner.params
        _check_argnums(argnums, len(self.params), getattr(fun, "__name__", "the function"))
        self.argnums = tuple(i % len(self.params) for i in self.argnums)
        self.signature = inspect.signature(fun)
        self._nparams = len(self.params)
        self._guards = self._global_guards()
        self._compiled = {}
        self._worlds = {}                # key -> what its derivative assumed (see _world)
        self._checked = set()
        self._flats = {}                 # argument structures -> (Flat, its normalized form, function)
        self._last = None
        functools.update_wrapper(self, fun, updated=() if self.inner is not None else
                                 functools.WRAPPER_UPDATES)
        self._s2sad_wrapped = True

    @property
    def kind(self) -> str:
        return "value_and_grad" if self.with_value else "grad"

    def _build(self, key, args, retry=True):
        if any(_is_tree_key(k) for k in key):
            return self._build_tree(key, args, retry)
        for i in self.argnums:
            _check_differentiable(args[i], i, self.fun.__name__)
        _check_constant_args(args, self.argnums, self.fun.__name__)
        if self.inner is None and self.norm.error is not None:
            raise self.norm.error
        if self.inner is None and self.norm.result in sequences(self.norm.node, self.norm.parsed)[0]:
            raise self._located(f"grad needs a scalar output, but {self.fun.__name__} returns a "
                                f"tuple or list", hint="return one number (e.g. the sum), or use "
                                "a Jacobian (jacrev / jacfwd) or vjp for several outputs")
        norm = self.norm if self.inner is None else _normalized_for(self.inner, key, args)
        arg_ndims = {p: _ndim_from_key(k) for p, k in zip(self.params, key)
                     if _ndim_from_key(k) is not None}
        wrt = [self.params[i] for i in self.argnums]
        name = f"{self.kind}_{norm.node.name}"
        out_nd = NDims(norm.node, norm.parsed, arg_ndims).get(ast.Name(norm.result))
        if self.inner is None and isinstance(out_nd, int) and out_nd > 0:
            # known to be an array before anything runs: refuse now (not after running f)
            raise self._located(f"grad needs a scalar output, but {self.fun.__name__} returns an "
                                f"array of {out_nd} dimension{'s' if out_nd > 1 else ''}",
                                hint="reduce the output (e.g. np.sum) or use a Jacobian "
                                     "(jacrev / jacfwd)")
        with _internal_errors(norm.node.name):
            tree = reverse(norm, wrt, arg_ndims, with_value=self.with_value, multi=self.multi, name=name)
            if self.optimize:
                tree = _optimize_all(tree)
            fn, src = emit.compile_derivative(tree, norm.parsed, label=name)
        fn = _positional(fn, norm)
        if self.inner is None:
            self._worlds[key] = _world(tree, norm)
            if retry and not self._worlds[key].holds():    # built from a stale parse
                self._refresh()
                return self._build(key, args, retry=False)
        else:                   # the inner derivative's assumptions, and that it is not rebuilt
            inner = self.inner._compiled[key]
            self._worlds[key] = self.inner._worlds.get(key, _NOTHING) + \
                [("get", self.inner._compiled, key, inner)]
        return fn, src, out_nd, self._runner(fn, out_nd)

    def _flat(self, key, args):
        """The scalar-replaced function (s2sad/containers.py) for these argument structures and
        its normalized form, cached per structure."""
        trees = tuple((p, k[1], k[3]) for p, k in zip(self.params, key) if _is_tree_key(k))
        if self.inner is not None:
            generated = self.inner._get(key, args)[0]
            fn = getattr(generated, "__s2sad_generated__", generated)
            cache_key = (trees, id(fn))
        else:
            fn, cache_key = self.fun, trees
        hit = self._flats.get(cache_key)
        if hit is not None and hit[2] is fn:
            return hit[0], hit[1]
        parsed = self.norm.parsed if self.inner is None else parse_function(fn)
        if self.inner is None:
            parsed = parse_function(self.fun)
        flat = containers.scalarize(parsed, {p: td for p, td, _ in trees}, {p: o for p, _, o in trees})
        norm = normalize(flat.parsed)
        self._flats[cache_key] = (flat, norm, fn)
        return flat, norm

    def _build_tree(self, key, args, retry=True):
        """A derivative for container arguments: the flat function's derivative, given the
        user's signature back (a prologue reading the leaves, an epilogue building each
        container's gradient)."""
        fname = self.fun.__name__
        for i in self.argnums:
            if not _is_tree_key(key[i]):
                _check_differentiable(args[i], i, fname)
        _check_constant_args(args, self.argnums, fname)
        from .errors import UnsupportedSyntaxError
        try:
            with _internal_errors(fname):
                flat, norm = self._flat(key, args)
        except UnsupportedSyntaxError:
            # containers that are only constants (a lookup table indexed at run time) may still
            # be what the function took before pytrees: its values, read as they are
            constant = all(i not in self.argnums for i, k in enumerate(key) if _is_tree_key(k))
            if not constant or self.inner is not None or self.norm.error is not None:
                raise
            plain = tuple(_arg_key(a) if _is_tree_key(k) else k for a, k in zip(args, key))
            entry = self._build(plain, args, retry)
            if plain in self._worlds:
                self._worlds[key] = self._worlds[plain]       # what it assumed guards it here too
            return entry
        if flat.out is not None:
            raise self._located(f"grad needs a scalar output, but {fname} returns a container "
                                f"({flat.out})", hint="return one number (e.g. the loss), or use "
                                "vjp or a Jacobian for several outputs")
        arg_ndims, wrt, leaf_key = {}, [], {}
        for i, (p, k) in enumerate(zip(self.params, key)):
            if not _is_tree_key(k):
                if _ndim_from_key(k) is not None:
                    arg_ndims[p] = _ndim_from_key(k)
                if i in self.argnums:
                    wrt.append(p)
                continue
            leaves = flat.leaves[p]
            paths = tree_module.paths(args[i]) if i in self.argnums else None
            for (name, path, j), lk in zip(leaves, k[2]):
                leaf_key[name] = lk
                if _ndim_from_key(lk) is not None:
                    arg_ndims[name] = _ndim_from_key(lk)
                if i not in self.argnums:
                    continue
                kind = _leaf_kind(lk)
                if kind == "float":
                    wrt.append(name)
                elif kind != "constant":
                    raise ArgumentError(f"cannot differentiate {fname} with respect to argument {i}: "
                                        f"its leaf {self.params[i]}{paths[j]} is a {lk if isinstance(lk, str) else lk!r}, "
                                        f"not a float, a float array or an int. Hint: make it a static "
                                        f"field (s2sad.tree.static()), or pass it as its own argument")
        name = f"{self.kind}_{norm.node.name}"
        out_nd = NDims(norm.node, norm.parsed, arg_ndims).get(ast.Name(norm.result))
        if self.inner is None and isinstance(out_nd, int) and out_nd > 0:
            raise self._located(f"grad needs a scalar output, but {fname} returns an array of "
                                f"{out_nd} dimension{'s' if out_nd > 1 else ''}",
                                hint="reduce the output (e.g. np.sum) or use a Jacobian (jacrev / jacfwd)")
        closure = flat.parsed.closure

        def bind_class(obj):
            for n, v in closure.items():
                if v is obj and n.startswith("s2sad_"):
                    return n
            base = "s2sad_" + getattr(obj, "__name__", "value")
            n, k = base, 0
            while n in closure:
                k += 1
                n = f"{base}_{k}"
            closure[n] = obj
            return n

        def zero_of(param, path, leaf_name):
            """A constant leaf's gradient: a zero of its type, shape and dtype (so that ravel
            leaves it out, as it leaves out the leaf itself)."""
            lk = leaf_key[leaf_name]
            if isinstance(lk, tuple):             # an int or bool array
                return ast.Call(func=ast.Attribute(value=ast.Name("np", ast.Load()), attr="zeros_like",
                                                   ctx=ast.Load()),
                                args=[ast.Name(leaf_name, ast.Load())], keywords=[])
            return ast.Constant(value=False if lk == "bool" else 0)

        with _internal_errors(norm.node.name):
            tree = reverse(norm, wrt, arg_ndims, with_value=self.with_value, multi=True, name=name)
            if self.optimize:
                tree = _optimize_all(tree)
            tree._s2sad_flat_wrt = wrt
            tree = containers.restructure(tree, flat, [self.params[i] for i in self.argnums], None,
                                          self.with_value, self.multi, zero_of, bind_class)
            fn, src = emit.compile_derivative(tree, flat.parsed, label=name)
        if self.inner is None:
            world = _world(tree, norm) + _inlined_checks(flat)
            self._worlds[key] = world
            if retry and not world.holds():
                self._refresh()
                self._flats.clear()
                return self._build_tree(key, args, retry=False)
        else:
            inner = self.inner._compiled[key]
            self._worlds[key] = self.inner._worlds.get(key, _NOTHING) + \
                [("get", self.inner._compiled, key, inner)]
        conformers = {i: _conformer(key[i][1], key[i][2]) if _is_tree_key(key[i]) else _conform
                      for i in self.argnums}
        return fn, src, out_nd, self._runner(fn, out_nd, conformers)

    def _key(self, args):
        """Each argument's specialisation key; containers (and differentiated lists and tuples)
        by their structure and their leaves' keys."""
        key = []
        for i, a in enumerate(args):
            t = type(a)
            if t is np.ndarray:             # the common cases first (as _arg_key and _is_tree)
                key.append((a.ndim, a.dtype))
            elif t is float:
                key.append(0)
            elif t is dict or _is_tree(a) or (i in self.argnums and (t is list or t is tuple)):
                key.append(_tree_key(a, self.fun.__name__, i))
            else:
                key.append(_arg_key(a))
        return tuple(key)

    def _get(self, key, args=None):
        entry = self._compiled.get(key)
        world = self._worlds.get(key)
        if entry is not None and world is not None and not world.holds():
            entry = None
            self._refresh()
        if entry is None:
            entry = self._compiled[key] = self._build(key, args)
        self._last = entry
        return entry

    def _refresh(self):
        """The world changed since a specialisation was built (a helper rebound, a closure
        cell reassigned): parse and normalize the function again."""
        self._flats.clear()
        if self.inner is None:
            _forget(self.fun)
            self.norm = _normalized_or_deferred(self.fun)
            self.params = self.norm.params
            self._guards = self._global_guards()

    def _global_guards(self):
        return () if self.norm is None else _guards(self.norm)

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != self._nparams:
            args = _full_args(self.fun, args, kwargs)
        key = self._key(args)
        if self._guards:
            key += tuple(_arg_key(ns.get(n)) for ns, n in self._guards)
        entry = self._compiled.get(key)
        world = self._worlds.get(key)
        if entry is None or (world is not None and not world.fast() and not world.holds()):
            entry = self._get(key, args)
        self._last = entry
        try:
            return entry[3](args)
        except S2SADError:
            raise
        except Exception as exc:
            replacement = _generated_failure(exc, self.fun, args, self.__name__)
            if replacement is None:
                raise
            if isinstance(replacement, GeneratedCodeError):
                raise replacement from exc
            raise replacement

    def _runner(self, fn, out_nd, conformers=None):
        """The per-specialisation call path: run ``fn``, give each gradient its argument's type
        (``conformers``: per argument number, for container arguments' structures)."""
        conformers = conformers or {i: _conform for i in self.argnums}
        nums = self.argnums
        if not self.with_value and not self.multi and out_nd == 0:
            i = nums[0]
            conform = conformers[i]
            return lambda args: conform(fn(*args), args[i])

        def conform_all(grads, args):
            if self.multi:
                return tuple(conformers[i](g, args[i]) for g, i in zip(grads, nums))
            return conformers[nums[0]](grads, args[nums[0]])

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
                return value, conform_all(grads, args)
            return conform_all(result, args)
        return run

    def _check_scalar_output(self, args):
        value = self.fun(*args)
        self._require_scalar(value)

    def _require_scalar(self, value):
        if np.ndim(value) != 0 or not isinstance(value, (numbers.Number, np.ndarray, np.generic)):
            if isinstance(value, np.ndarray):
                what = f"an array of shape {value.shape}"
            elif isinstance(value, (list, tuple)):
                what = f"a {type(value).__name__} of {len(value)} items"
            else:
                what = f"a {type(value).__name__}"
            raise self._located(
                f"grad needs a scalar output, but {self.fun.__name__} returned {what}",
                hint="reduce the output (e.g. np.sum) or use a Jacobian (jacrev / jacfwd)")

    def _located(self, message, hint):
        """A NotDifferentiableError at the function's return statement (its file and line)."""
        root = self
        while root.inner is not None:
            root = root.inner
        if root is not self:
            message += " (the derivative of a derivative: use hessian or jacfwd for an array)"
        parsed = root.norm.parsed
        returns = [n for n in ast.walk(parsed.node) if isinstance(n, ast.Return)]
        message += f" (def {parsed.name} at {parsed.filename}:{parsed.node.lineno}"
        if len(returns) > 1:
            message += "; returns at lines " + ", ".join(str(r.lineno) for r in returns)
        message += ")"
        return parsed.error(NotDifferentiableError, returns[-1] if returns else parsed.node,
                            message, hint=hint)

    def _conform_all(self, grads, args):
        if not self.multi:
            return _conform(grads, args[self.argnums[0]])
        if self.multi:
            return tuple(_conform(g, args[i]) for g, i in zip(grads, self.argnums))
        return _conform(grads, args[self.argnums[0]])

    def source(self) -> str:
        if self._last is None:
            self._get(tuple("any" for _ in self.params), [_GENERAL] * len(self.params))
        return self._last[1]

    def __repr__(self):
        return f"<s2sad {self.kind} of {self.fun.__qualname__} wrt argnums={self.argnums}>"

    def __reduce__(self):
        """Pickled as how it was made (the function by reference: a module-level function);
        unpickled, it transforms the function afresh on its first call."""
        return _derivative, (self.fun, self.argnums if self.multi else self.argnums[0], self.optimize,
                             self.with_value)


def _leaf_kind(leaf_key) -> str:
    """"float", "constant" (int, bool, int or bool arrays) or "other", from a leaf's _arg_key."""
    if leaf_key == 0:
        return "float"
    if leaf_key in ("int", "bool"):
        return "constant"
    if type(leaf_key) is tuple and len(leaf_key) == 2 and isinstance(leaf_key[1], np.dtype):
        return {"f": "float", "i": "constant", "u": "constant", "b": "constant"}.get(leaf_key[1].kind, "other")
    return "other"


def _conformer(td, leaf_keys):
    """A function giving a container's gradient the container's structure, leaf types, shapes
    and dtypes (``_conform`` per float leaf; a constant leaf gets a zero of its own type),
    specialised on the structure (no tree walk per call)."""
    keys = iter(leaf_keys)

    def make(td):
        if td.kind == "leaf":
            return _conform if _leaf_kind(next(keys)) == "float" else (lambda g, a: _constant_zero(a))
        if td.kind == "none":
            return lambda g, a: None
        kids = [make(c) for c in td.children]
        if td.kind in ("dict", "ordereddict", "defaultdict"):
            ks = list(td.data[1] if td.kind == "defaultdict" else td.data)
            pairs = list(zip(ks, kids))
            if td.kind == "dict":
                return lambda g, a: {k: c(g[k], a[k]) for k, c in pairs}
            if td.kind == "ordereddict":
                return lambda g, a: collections.OrderedDict((k, c(g[k], a[k])) for k, c in pairs)
            return lambda g, a: collections.defaultdict(td.data[0], ((k, c(g[k], a[k])) for k, c in pairs))
        if td.kind == "list":
            return lambda g, a: [c(x, y) for c, x, y in zip(kids, g, a)]
        if td.kind == "tuple":
            return lambda g, a: tuple(c(x, y) for c, x, y in zip(kids, g, a))
        if td.kind == "namedtuple":
            cls = td.data[0]
            return lambda g, a: cls(*(c(x, y) for c, x, y in zip(kids, g, a)))
        names = containers._child_keys(td)
        statics = list(td.data[2])
        cls = td.data[0]
        return lambda g, a: containers._new_instance(
            cls, **{n: c(getattr(g, n), getattr(a, n)) for n, c in zip(names, kids)}, **dict(statics))
    return make(td)


def _inlined_checks(flat):
    """The helpers scalar replacement inlined: the derivative holds while their names still
    mean them and their code is unchanged."""
    checks = []
    for ns, name, fn in flat.inlined:
        checks.append(("code", fn, "__code__", fn.__code__))
        if ns.get(name) is fn:
            checks.append(("get", ns, name, fn))
    return checks


_DERIVATIVES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _derivative(fun, argnums, optimize, with_value) -> Derivative:
    """One Derivative per function and options: ``grad(f)`` twice transforms once."""
    key = (tuple(argnums) if isinstance(argnums, (list, tuple)) else argnums,
           isinstance(argnums, (list, tuple)), bool(optimize), with_value)
    if isinstance(fun, types.MethodType):
        # not cached: the cache's value (the Derivative) would keep its key, and so the object,
        # alive for ever; `g = grad(obj.method)` once, then call g
        return Derivative(fun, argnums=argnums, optimize=optimize, with_value=with_value)
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
    """Like ``grad``, but returns ``(value, gradient)`` from one sweep."""
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
        return src() if callable(src) else src      # (a pytree vjp's: built when asked)
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
        # (a derivative with keyword-only parameters is called through _positional's wrapper)
        return _normalized(getattr(generated, "__s2sad_generated__", generated))
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
    call.__s2sad_generated__ = fn
    return call


def _differentiable(value) -> bool:
    return _arg_kind(value) == "float"


def _wrt_all(fun, primals, what):
    """jvp and vjp differentiate with respect to every float argument; an int or bool one is a
    constant, and one s2sad does not know (a list, a complex, an ndarray subclass, another
    library's array) is refused rather than silently held constant."""
    fname = getattr(fun, "__name__", "the function")
    wrt = []
    for i, value in enumerate(primals):
        kind = _arg_kind(value)
        if kind == "float":
            wrt.append(i)
        elif kind not in ("int", "bool", "none", "other"):
            problem, hint = _kind_problem(value, kind)
            raise ArgumentError(f"{what} of {fname}: argument {i} is {problem}. Hint: {hint}; "
                                f"to hold it constant, close over it (functools.partial or a "
                                f"default value)")
    return tuple(wrt)


_TRANSFORMED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _transformed(fun, mode: str, wrt_nums: tuple, args, optimize: bool, vector: bool = False,
                 retry: bool = True):
    """The compiled forward (``mode="jvp"``) or seeded reverse (``mode="vjp"``) derivative of
    ``fun`` for arguments like ``args``, cached per function, mode and argument kinds."""
    key = tuple(map(_arg_key, args))
    cache_key = (mode, wrt_nums, key, optimize, vector)
    try:
        per_fun = _TRANSFORMED.setdefault(fun, {})
    except TypeError:
        per_fun = {}
    guards = per_fun.get("guards")
    if guards is None:
        guards = per_fun["guards"] = () if isinstance(fun, Derivative) else _guards(_normalized(fun))
    if guards:
        cache_key += tuple(_arg_key(ns.get(n)) for ns, n in guards)
    entry = per_fun.get(cache_key)
    worlds = per_fun.setdefault("worlds", {})         # cache key -> what it assumed (_world)
    if entry is not None:
        world = worlds.get(cache_key)
        if not world or world.holds():
            return entry
        if not isinstance(fun, Derivative):       # the world changed: transform afresh
            _forget(fun)
            per_fun.pop("guards", None)
            per_fun.pop(cache_key)
            return _transformed(fun, mode, wrt_nums, args, optimize, vector)
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
    if isinstance(fun, Derivative):     # the inner derivative's assumptions, and that it is not rebuilt
        worlds[cache_key] = fun._worlds.get(key, _NOTHING) + \
            [("get", fun._compiled, key, fun._compiled[key])]
    else:
        worlds[cache_key] = _world(tree, norm)
        if retry and not worlds[cache_key].holds():        # built from a stale parse
            _forget(fun)
            per_fun.pop("guards", None)
            return _transformed(fun, mode, wrt_nums, args, optimize, vector, retry=False)
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
    if isinstance(out, np.floating) and np.ndim(t) == 0:
        return out.dtype.type(t)
    return t


def jvp(fun, primals, tangents, *, optimize: bool = True):
    """Forward mode: ``(fun(*primals), the derivative of fun at primals along tangents)``.

    ``primals`` and ``tangents`` are tuples of the same length; integer and bool
    arguments are constants (their tangent is ignored).  One forward sweep.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ArgumentError(f"jvp needs one tangent per primal: got {len(primals)} primals and "
                         f"{len(tangents)} tangents")
    args = _full_args(fun, primals)
    trees = _tree_nums(fun, args, range(len(primals)))
    if trees:
        return _tree_jvp(fun, args, primals, tangents, trees, optimize)
    wrt = _wrt_all(fun, primals, "jvp")
    for i, t in enumerate(tangents):
        if i not in wrt and _arg_kind(primals[i]) in ("int", "bool") and np.any(np.asarray(t) != 0):
            raise NotDifferentiableError(
                f"jvp of {getattr(fun, '__name__', 'the function')}: argument {i} is an "
                f"{_arg_kind(primals[i])}, a constant, but its tangent is not zero",
                hint="pass a float (e.g. 2.0 instead of 2) to differentiate along it, or a zero "
                     "tangent")
    fn = _transformed(fun, "jvp", wrt, args, optimize)
    dots = []
    for i in wrt:
        t = tangents[i]
        if np.shape(t) != np.shape(primals[i]):
            raise ArgumentError(f"tangent {i} has shape {np.shape(t)} but its primal has shape "
                             f"{np.shape(primals[i])}")
        dots.append(float(t) if isinstance(primals[i], float) else np.asarray(t, dtype=np.result_type(primals[i], float)))
    out, out_dot = _call_checked(lambda: fn(*args, *dots), fun, args,
                                 getattr(fun, "__name__", "the function"))
    return out, _conform_tangent(out_dot, out)


def vjp(fun, *primals, optimize: bool = True):
    """Reverse mode: ``(fun(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns one
    cotangent per primal (None for integer and bool arguments), as a tuple.

    ``cotangent`` has the structure of the output (a tuple for a function that
    returns a tuple).  Each call of ``vjp_fn`` runs the adjoint program once.
    """
    args = _full_args(fun, primals)
    trees = _tree_nums(fun, args, range(len(primals)))
    if trees:
        return _tree_vjp(fun, args, primals, trees, optimize)
    wrt = _wrt_all(fun, primals, "vjp")
    fn = _transformed(fun, "vjp", wrt, args, optimize)
    out = fun(*args)

    def vjp_fn(cotangent):
        grads = _call_checked(lambda: fn(*args, **{fn.__s2sad_seed__: cotangent}), fun, args,
                              getattr(fun, "__name__", "the function")) if wrt else ()
        result = [None] * len(primals)
        for i, g in zip(wrt, grads):
            result[i] = _conform(g, primals[i])
        return tuple(result)

    vjp_fn.__s2sad_source__ = fn.__s2sad_source__
    return out, vjp_fn


# --- pytrees in jvp, vjp and the Jacobians: through the scalar-replaced function -------------------
#
# The function (or, for hessian, the gradient s2sad generated) is scalar-replaced for the
# arguments' structures (s2sad/containers.py) and compiled as a function of leaves; jvp, vjp and
# the Jacobians of that flat function are the ones of plain arguments, and their results are put
# back into the arguments' and the output's structures.

_FLAT_FUNCTIONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _tree_nums(fun, args, differentiated) -> list:
    """The arguments taken apart: containers, and differentiated lists and tuples (none for a
    function taking ``*args``: its arguments arrive as one tuple, refused as today)."""
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return []
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return []
    return [i for i, a in enumerate(args)
            if _is_tree(a) or (i in differentiated and type(a) in (list, tuple))]


def _flat_function(fun, args, tree_nums, fname):
    """``(flat, fn)``: the scalar-replaced form of ``fun`` for these arguments' structures and it
    compiled as a live function of the leaves; cached per function and structures."""
    keys = tuple((i,) + _tree_key(args[i], fname, i)[1::2] for i in tree_nums)     # (i, treedef, orders)
    if isinstance(fun, Derivative):
        source_fn = fun._get(fun._key(args), args)[0]
        source_fn = getattr(source_fn, "__s2sad_generated__", source_fn)
    else:
        source_fn = fun
    try:
        per_fun = _FLAT_FUNCTIONS.setdefault(fun, {})
    except TypeError:
        per_fun = {}
    hit = per_fun.get(keys)
    if hit is not None and hit[2] is source_fn and hit[3].holds():
        return hit[0], hit[1]
    with _internal_errors(fname):
        parsed = parse_function(source_fn)
    params = [a.arg for a in parsed.node.args.posonlyargs + parsed.node.args.args + parsed.node.args.kwonlyargs]
    flat = containers.scalarize(parsed, {params[i]: td for i, td, _ in keys}, {params[i]: o for i, _, o in keys})
    with _internal_errors(fname):
        normalize(flat.parsed)            # refusals (file:line) before anything runs
        fn, _ = emit.compile_derivative(flat.parsed.node, flat.parsed, label=f"flat_{parsed.node.name}")
    world = _World(_inlined_checks(flat))
    per_fun[keys] = (flat, fn, source_fn, world)
    return flat, fn


def _flat_values(flat, values):
    """The flat function's arguments: each container's leaves in its place."""
    out = []
    for p, v in zip(flat.params, values):
        if p in flat.treedefs:
            out += tree_module.leaves(v)
        else:
            out.append(v)
    return out


def _constant_zero(leaf):
    """The derivative of a constant (int or bool) leaf: a zero of its type, shape and dtype, so
    that `s2sad.tree.ravel` of a gradient leaves it out as it leaves out the leaf (None for a
    leaf that is not a number)."""
    if isinstance(leaf, np.ndarray) and leaf.dtype.kind in "biu":
        return np.zeros_like(leaf)
    if isinstance(leaf, (np.integer, np.bool_)):
        return leaf.dtype.type(0)
    if isinstance(leaf, bool):
        return False
    if isinstance(leaf, int):
        return 0
    return None


def _prologue(flat) -> list:
    """The displayed wrapper's first lines: each container argument's leaves read by name."""
    lines = []
    for p in flat.params:
        for name, path, _ in flat.leaves.get(p, ()):
            lines.append(f"    {name} = {ast.unparse(containers._access(p, path))}")
    return lines


def _assign_line(name: str, text: str, width: int = 100) -> list:
    """``    name = text``, with a long dict / list / tuple display split one top-level item a line."""
    line = f"    {name} = {text}"
    if len(line) <= width or text[:1] not in "{[(" or text[-1:] not in "}])":
        return [line]
    items, depth, quote, start = [], 0, None, 1
    for j, ch in enumerate(text[1:-1], 1):
        if quote:
            quote = None if ch == quote and text[j - 1] != "\\" else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:j].strip())
            start = j + 1
    last = text[start:-1].strip()
    if last:
        items.append(last)
    return [f"    {name} = {text[0]}"] + [f"        {item}," for item in items] + [f"    {text[-1]}"]


def _unpack(names) -> str:
    return ", ".join(names) + ("," if len(names) == 1 else "")


def _flat_named(src: str) -> str:
    """The flat function's derivative, renamed ``..._flat`` so that it is not read as the
    user-facing function the wrapper above it shows."""
    return re.sub(r"^def (\w+)\(", r"def \1_flat(", src, count=1, flags=re.M)


def _tree_source(label, fname, flat, inner_src, call, result) -> str:
    """What `source` shows for a derivative of a pytree function computed through the flat
    (scalar-replaced) function: a wrapper with the user's signature, reading the leaves
    (``W1 = params['W1']``), calling the flat function's derivative (`call`, a line) and building
    the result's structure (`result`: lines), then that derivative's generated source."""
    lines = [f"def {label}_{fname}({', '.join(flat.params)}):",
             f"    # the leaves of {', '.join(p for p in flat.params if p in flat.treedefs)} "
             f"(this derivative is specialised on their structure)"]
    lines += _prologue(flat)
    lines += [call] + result
    inner = _flat_named(inner_src)
    lines += ["", "", f"# the generated derivative of {flat.parsed.node.name}_flat ({fname} taking the leaves), "
              f"which the call above runs"]
    return "\n".join(lines) + "\n" + inner


def _tree_jvp(fun, args, primals, tangents, trees, optimize):
    fname = getattr(fun, "__name__", "the function")
    flat, fn = _flat_function(fun, args, trees, fname)
    dots = []
    for i, (p, a) in enumerate(zip(flat.params, args)):
        t = tangents[i] if i < len(tangents) else None
        if p in flat.treedefs:
            if t is None:
                t = tree_module.map(lambda v: np.zeros_like(v) if isinstance(v, np.ndarray) else 0.0, a)
            dots += tree_module.check_structure(flat.treedefs[p], t, expected=f"primals[{i}]", name=f"tangents[{i}]")
        else:
            dots.append(t if t is not None else (np.zeros_like(a) if isinstance(a, np.ndarray) else 0.0))
    out, out_dot = jvp(fn, _flat_values(flat, args), dots, optimize=optimize)
    if flat.out is not None:
        return tree_module.unflatten(flat.out, out), tree_module.unflatten(flat.out, out_dot)
    return out, out_dot


def _tree_vjp(fun, args, primals, trees, optimize):
    fname = getattr(fun, "__name__", "the function")
    flat, fn = _flat_function(fun, args, trees, fname)
    out, flat_vjp = vjp(fn, *_flat_values(flat, args), optimize=optimize)
    if flat.out is not None:
        out = tree_module.unflatten(flat.out, out)

    def vjp_fn(cotangent):
        if flat.out is not None:
            cotangent = tuple(tree_module.check_structure(flat.out, cotangent, expected="the output",
                                                          name="cotangent"))
        cts = flat_vjp(cotangent)
        result, k = [], 0
        for i, p in enumerate(flat.params[:len(primals)]):
            if p in flat.treedefs:
                leaves = tree_module.leaves(primals[i])
                part = cts[k:k + len(leaves)]
                k += len(leaves)
                result.append(tree_module.unflatten(flat.treedefs[p], [c if c is not None else _constant_zero(l)
                                                                       for c, l in zip(part, leaves)]))
            else:
                result.append(cts[k])
                k += 1
        return tuple(result)
    vjp_fn.__s2sad_source__ = lambda: _vjp_wrapper_source(fun, flat, fn, args, primals, optimize)
    return out, vjp_fn


def _vjp_wrapper_source(fun, flat, fn, args, primals, optimize) -> str:
    """`source` of a pytree vjp: the user's signature and the cotangent's leaves passed to the
    flat function's vjp, whose gradients are built into each primal's structure."""
    values = _flat_values(flat, args)
    wrt = _wrt_all(fn, values, "vjp")
    inner = _transformed(fn, "vjp", wrt, values, optimize)
    seed = inner.__s2sad_seed__
    names = flat.flat_params
    if flat.out is not None:
        cts = [ast.unparse(containers._access(seed, path)) for path in containers.leaf_paths(flat.out)]
        cotangent = f"({', '.join(cts)}{',' if len(cts) == 1 else ''})"
    else:
        cotangent = seed
    bars = {q: f"{names[q]}_bar" for q in wrt}
    call = (f"    {_unpack(list(bars.values()))} = vjp_{flat.parsed.node.name}_flat({', '.join(names)}, "
            f"{seed}={cotangent})")
    result, returned, q = [], [], 0
    for i, p in enumerate(flat.params[:len(primals)]):
        if p not in flat.treedefs:
            returned.append(bars.get(q, "None"))
            q += 1
            continue
        leaves = tree_module.leaves(primals[i])
        texts = []
        for j, leaf in enumerate(leaves):
            zero = _constant_zero(leaf)
            texts.append(bars[q + j] if q + j in bars else
                         f"np.zeros_like({names[q + j]})" if isinstance(zero, np.ndarray) else repr(zero))
        q += len(leaves)
        it = iter(texts)
        result += _assign_line(f"{p}_bar", containers.display(flat.treedefs[p], lambda path: next(it)))
        returned.append(f"{p}_bar")
    lines = _tree_source("vjp", getattr(fun, "__name__", "f"), flat, inner.__s2sad_source__, call,
                         result + [f"    return {_unpack(returned)}"]).split("\n")
    lines[0] = lines[0][:-2] + f", *, {seed}):"
    return "\n".join(lines)


def _argnums(fun, argnums):
    multi = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if multi else (argnums,)
    return multi, nums


class Jacobian:
    """``jacfwd(f)`` / ``jacrev(f)``: call it like ``f``; returns ``out.shape + in.shape`` arrays
    (a tuple per argument for tuple ``argnums``, a tuple per output for tuple outputs)."""

    def __init__(self, fun, argnums=0, mode="forward", optimize=True):
        self.fun = fun
        _check_argnums(argnums, _nparams(fun), getattr(fun, "__name__", "the function"))
        self.multi, self.argnums = _argnums(fun, argnums)
        self.mode = mode
        self.optimize = optimize
        self._last = None
        self._tree_source = None         # the last call's, when it took pytrees (_wrapper_source)
        functools.update_wrapper(self, fun, updated=())

    def __call__(self, *args, **kwargs):
        args = _full_args(self.fun, args, kwargs)
        n = len(args)
        nums = tuple(i % n for i in self.argnums)
        fname = getattr(self.fun, "__name__", "the function")
        trees = _tree_nums(self.fun, args, nums)
        if trees:
            from .errors import UnsupportedSyntaxError
            try:
                return self._tree_jacobian(args, nums, trees, fname)
            except UnsupportedSyntaxError:
                if any(i in nums for i in trees):
                    raise               # else constant containers, read as values as before pytrees
        self._tree_source = None
        for i in nums:
            _check_differentiable(args[i], i, fname)
        _check_constant_args(args, nums, fname)
        if self.mode == "forward":
            return _call_checked(lambda: self._forward(args, nums), self.fun, args, fname)
        return _call_checked(lambda: self._reverse(args, nums), self.fun, args, fname)

    def _tree_jacobian(self, args, nums, trees, fname):
        """Pytree inputs or outputs, nested as in JAX: the output's structure of (per argument)
        the input's structure, each leaf of shape ``out.shape + in.shape``; a constant (int)
        input leaf gets zeros of its dtype."""
        flat, fn = _flat_function(self.fun, args, trees, fname)
        values = _flat_values(flat, args)
        starts, k = {}, 0
        for p, v in zip(flat.params, args):
            starts[p] = k
            k += len(flat.leaves[p]) if p in flat.treedefs else 1
        flat_nums, places = [], []          # per differentiated argument: its leaves' flat positions
        for i in nums:
            p = flat.params[i]
            if p in flat.treedefs:
                leaves = tree_module.leaves(args[i])
                pos = [starts[p] + j for j in range(len(leaves))]
                for j, (pj, leaf) in enumerate(zip(pos, leaves)):
                    kind = _arg_kind(leaf)
                    if kind == "float":
                        flat_nums.append(pj)
                    elif kind not in ("int", "bool"):
                        raise ArgumentError(f"cannot differentiate {fname} with respect to argument {i}: "
                                            f"its leaf {p}{tree_module.paths(args[i])[j]} is a "
                                            f"{type(leaf).__name__}. Hint: make it a static field, or "
                                            f"pass it as its own argument")
                places.append((i, pos, leaves))
            else:
                _check_differentiable(args[i], i, fname)
                flat_nums.append(starts[p])
                places.append((i, [starts[p]], None))
        if not flat_nums:
            raise NotDifferentiableError(f"{fname}: the differentiated arguments have no float leaf",
                                         hint="pass floats or float arrays")
        inner = Jacobian(fn, tuple(flat_nums), self.mode, self.optimize)
        result = _call_checked(lambda: inner(*values), self.fun, args, fname)
        self._last = inner._last
        several = flat.out is not None or (result and isinstance(result[0], tuple))   # a tuple output
        out = fn(*values) if several else None
        outs = list(result) if several else [result]
        out_leaves = list(out) if several else [None]
        per_out, zeros = [], {}
        for k, (blocks, o) in enumerate(zip(outs, out_leaves)):
            by_pos = dict(zip(flat_nums, blocks))
            out_shape = np.shape(o) if o is not None else np.shape(blocks[0])[:np.ndim(blocks[0]) - np.ndim(values[flat_nums[0]])]
            parts = []
            for i, pos, leaves in places:
                if leaves is None:
                    parts.append(by_pos[pos[0]])
                    continue
                kids = []
                for q, leaf in zip(pos, leaves):
                    if q not in by_pos:
                        zeros[k, q] = (out_shape + np.shape(leaf), np.asarray(leaf).dtype)
                    kids.append(by_pos[q] if q in by_pos else np.zeros(*zeros.get((k, q), ((), None))))
                parts.append(tree_module.unflatten(flat.treedefs[flat.params[i]], kids))
            per_out.append(tuple(parts) if self.multi else parts[0])
        self._tree_source = lambda: self._wrapper_source(flat, nums, places, flat_nums, len(outs), several,
                                                          zeros, inner._last.__s2sad_source__)
        if flat.out is not None:
            return tree_module.unflatten(flat.out, per_out)
        return tuple(per_out) if several else per_out[0]

    def _wrapper_source(self, flat, nums, places, flat_nums, n_out, several, zeros, inner_src):
        """`source` of a pytree Jacobian: the user's signature, the leaves read in a prologue,
        the flat function's Jacobian, and the result built in the output's / inputs' structure."""
        label = getattr(self, "_label", None) or ("jacfwd" if self.mode == "forward" else "jacrev")
        suffix = "hess" if label == "hessian" else "jac"
        names = flat.flat_params
        if flat.out is not None:
            outs = containers.leaf_names(flat.out)
        else:
            outs = [f"out{k}" for k in range(n_out)] if several else [""]

        def block(k, q):
            return "_".join(filter(None, (outs[k], names[q], suffix)))
        if several:
            unpack = ", ".join(f"({_unpack([block(k, q) for q in flat_nums])})" for k in range(n_out))
        else:
            unpack = _unpack([block(0, q) for q in flat_nums])
        mode = "jacfwd" if self.mode == "forward" else "jacrev"
        call = (f"    {unpack} = s2sad.{mode}({flat.parsed.node.name}_flat, argnums={tuple(flat_nums)!r})"
                f"({', '.join(names)})")
        per_out = []
        for k in range(n_out):
            parts = []
            for i, pos, leaves in places:
                if leaves is None:
                    parts.append(block(k, pos[0]))
                    continue
                texts = iter([block(k, q) if (k, q) not in zeros else
                              f"np.zeros({zeros[k, q][0]!r}, {zeros[k, q][1].name!r})" for q in pos])
                parts.append(containers.display(flat.treedefs[flat.params[i]], lambda path: next(texts)))
            per_out.append(f"({', '.join(parts)},)" if self.multi and len(parts) == 1 else
                           f"({', '.join(parts)})" if self.multi else parts[0])
        if flat.out is not None:
            texts = iter(per_out)
            built = containers.display(flat.out, lambda path: next(texts))
        elif several:
            built = f"({', '.join(per_out)},)" if len(per_out) == 1 else f"({', '.join(per_out)})"
        else:
            built = per_out[0]
        result = f"{flat.params[nums[0]]}_{suffix}" if not self.multi and not several else suffix
        return _tree_source(label, getattr(self.fun, "__name__", "f"), flat, inner_src, call,
                            _assign_line(result, built) + [f"    return {result}"])

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
        if self._tree_source is not None:
            return self._tree_source()
        if self._last is None:
            raise S2SADError("call the Jacobian once first: its code is specialised on the arguments")
        return self._last.__s2sad_source__

    def __repr__(self):
        return f"<s2sad jac{'fwd' if self.mode == 'forward' else 'rev'} of {self.fun!r}>"

    def __reduce__(self):
        """Pickled as how it was made (see Derivative.__reduce__)."""
        return Jacobian, (self.fun, self.argnums if self.multi else self.argnums[0], self.mode,
                          self.optimize)


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
    jac = jacfwd(grad(fun, argnums=argnums, optimize=optimize), argnums, optimize=optimize)
    jac._label = "hessian"
    return jac
