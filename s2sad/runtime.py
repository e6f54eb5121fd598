"""The small leaf module that generated derivatives call.

Everything here is plain NumPy.  Generated code reaches these helpers by name
(``unbroadcast(g, x)``), so each one is short, fast on the common path and has
a name that says what it does.  Nothing here imports the rest of s2sad.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "unbroadcast", "unreduce", "accumulate_at", "concat_part", "zeros_like",
    "matmul_vjp_a", "matmul_vjp_b", "extremum_mask", "norm_vjp", "untranspose", "solve_vjp_a",
    "zeros_list", "add_lists", "list_add_at", "unconcatenate", "batch_sum", "batch_zeros_list",
    "cast_derivative", "prod_others", "no_derivative", "solve_vjp_b", "solve_vjp_a_along",
    "solve_vjp_b_along", "solve_dot", "dot_vjp_a", "dot_vjp_b", "each_direction",
    "last_writes",
    "fill_list", "unstack",
    "cumsum_vjp", "batch_cumsum", "cumprod_vjp", "cumprod_jvp", "diff_vjp", "diff_part", "diff_slot", "trapezoid_weights",
    "polygamma", "custom_vjp_part", "custom_jvp_part", "norm_ord_vjp", "norm_ord_dx", "norm_ord_dy",
    "quantile_vjp", "quantile_jvp", "quantile_dq", "aligned_weights",
    "norm_spectral_vjp",
]


def unbroadcast(g, x):
    """Sum ``g`` down to the shape of ``x``: undoes NumPy broadcasting.

    The adjoint of ``y = x op z`` has ``y``'s shape; ``x``'s share of it is
    summed over the axes broadcasting added or stretched.
    """
    shape = np.shape(x)
    gshape = np.shape(g)
    if gshape == shape:
        return g
    if not shape:
        return np.sum(g)
    extra = len(gshape) - len(shape)
    if extra:
        g = np.sum(g, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g


def unreduce(g, x, axis=None, keepdims=False):
    """Spread the adjoint of a reduction (sum, mean, ...) back over ``x``."""
    shape = np.shape(x)
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


def extremum_mask(y, x, axis=None, keepdims=False):
    """Where ``x`` attains the reduction ``y`` (max or min), split evenly on ties."""
    if axis is not None and not keepdims:
        y = np.expand_dims(y, axis)
    mask = x == y
    return mask / np.sum(mask, axis=axis, keepdims=True)


def accumulate_at(x_bar, index, g):
    """``x_bar[index] += g``, correct for repeated fancy indices too."""
    np.add.at(x_bar, index, g)
    return x_bar


def last_writes(a, index):
    """1.0 where ``a[index] = v`` leaves its value, 0.0 where a later position of a
    repeated fancy index overwrites it (NumPy keeps the last write; this asks NumPy
    itself which write lasted, by writing the positions' numbers)."""
    shape = np.shape(a[index])
    order = np.arange(int(np.prod(shape))).reshape(shape)
    marks = np.full(np.shape(a), -1)
    marks[index] = order
    return (marks[index] == order) * 1.0


def concat_part(g, arrays, i, axis=0):
    """The slice of ``g`` that ``arrays[i]`` filled in ``np.concatenate(arrays, axis)``."""
    if axis is None:                  # the arrays were flattened first
        start = sum(np.size(a) for a in arrays[:i])
        return np.reshape(g[start:start + np.size(arrays[i])], np.shape(arrays[i]))
    start = sum(np.shape(a)[axis] for a in arrays[:i])
    stop = start + np.shape(arrays[i])[axis]
    index = [slice(None)] * np.ndim(g)
    index[axis] = slice(start, stop)
    return g[tuple(index)]


def zeros_like(x):
    """A zero adjoint for ``x``: ``0.0`` for a Python number (or a loop value not
    assigned yet, None), a list of zeros for a list or tuple, else an array."""
    if x is None or isinstance(x, (float, int)):
        return 0.0
    if isinstance(x, (list, tuple)):
        return zeros_list(x)
    return np.zeros(np.shape(x), dtype=np.result_type(x, np.float32) if np.ndim(x) else float)


def _matrices(g, a, b):
    """``g``, ``a``, ``b`` of ``g = a @ b`` with a 1-d ``a`` as a row and a 1-d ``b`` as a
    column (``g`` gains the axes matmul removed), as NumPy's matmul promotes them."""
    if np.ndim(b) == 1:
        b, g = np.expand_dims(b, -1), np.expand_dims(g, -1)
    if np.ndim(a) == 1:
        a, g = np.expand_dims(a, -2), np.expand_dims(g, -2)
    return g, a, b


def matmul_vjp_a(g, a, b):
    """Adjoint of ``a`` in ``a @ b``: ``g b^T`` on the last two axes, summed over the stack
    axes ``a`` was broadcast along (1-d operands promoted as matmul does)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    g, a1, b = _matrices(g, a, b)
    return np.reshape(unbroadcast(g @ np.swapaxes(b, -1, -2), a1), np.shape(a))


def matmul_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``a @ b``: ``a^T g`` on the last two axes, summed over the stack
    axes ``b`` was broadcast along (1-d operands promoted as matmul does)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    g, a, b1 = _matrices(g, a, b)
    return np.reshape(unbroadcast(np.swapaxes(a, -1, -2) @ g, b1), np.shape(b))


def batch_matmul(a, b, batched="a"):
    """Vector mode: ``a @ b`` where ``a`` (``batched="a"``) or ``b`` carries one leading
    axis of directions; the result has it first."""
    na, nb = np.ndim(a) - (batched == "a"), np.ndim(b) - (batched == "b")
    if nb == 1:
        b = np.expand_dims(b, -1)
    if na == 1:
        a = np.expand_dims(a, -2)
    ndim = 1 + max(na, nb, 2)            # directions, stack axes, two matrix axes
    t = a if batched == "a" else b
    t = np.reshape(t, np.shape(t)[:1] + (1,) * (ndim - np.ndim(t)) + np.shape(t)[1:])
    y = t @ b if batched == "a" else a @ t
    if nb == 1:
        y = y[..., 0]
    if na == 1:
        y = y[..., 0, :] if nb != 1 else y[..., 0]
    return y


def norm_vjp(g, y, x, ord=None, axis=None, keepdims=False):
    """Adjoint of ``np.linalg.norm`` for the 2-norm of a vector and the Frobenius norm."""
    if ord not in (None, 2, "fro") or (ord == 2 and np.ndim(x) != 1 and axis is None):
        raise NotImplementedError(f"s2sad: no derivative rule for np.linalg.norm with ord={ord!r}")
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
        y = np.expand_dims(y, axis)
    return g * x / y


def untranspose(g, axes=None):
    """Adjoint of ``np.transpose(a, axes)``: transpose back."""
    if axes is None or axes == ():
        return np.transpose(g)
    if len(axes) == 1 and not isinstance(axes[0], int):
        axes = axes[0]
    return np.transpose(g, np.argsort(axes))


def _solve_t(a, g, vector):
    """``a^-T g`` on the last two axes (``g`` a stack of vectors when ``vector``)."""
    at = np.swapaxes(a, -1, -2)
    if vector:
        return np.linalg.solve(at, np.expand_dims(g, -1))[..., 0]
    return np.linalg.solve(at, g)


def _outer(u, y, vector):
    """``u y^T`` on the last two axes (of stacks of vectors when ``vector``)."""
    if vector:
        return np.expand_dims(u, -1) * np.expand_dims(y, -2)
    return u @ np.swapaxes(y, -1, -2)


def _solves_vectors(a, y):
    """True when ``y = np.linalg.solve(a, b)`` solved for a vector ``b`` (1-d, NumPy 2)."""
    return np.ndim(y) == np.ndim(a) - 1


def solve_vjp_a(g, a, y):
    """Adjoint of ``a`` in ``y = np.linalg.solve(a, b)``: ``-(a^-T g) y^T``, summed over
    the stack axes ``a`` was broadcast along."""
    vector = _solves_vectors(a, y)
    return unbroadcast(-_outer(_solve_t(a, g, vector), y, vector), a)


def solve_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``np.linalg.solve(a, b)``: ``a^-T g``, summed over the stack
    axes ``b`` was broadcast along."""
    return unbroadcast(_solve_t(a, g, np.ndim(b) == 1), b)


def solve_vjp_a_along(g, a, a_dot, y):
    """The derivative of ``solve_vjp_a(g, a, y)`` along ``a_dot`` (``g`` and ``y`` fixed)."""
    vector = _solves_vectors(a, y)
    u = _solve_t(a, g, vector)
    du = -_solve_t(a, _matvec_t(a_dot, u, vector), vector)
    return unbroadcast(-_outer(du, y, vector), a)


def solve_vjp_b_along(g, a, a_dot, b):
    """The derivative of ``solve_vjp_b(g, a, b)`` along ``a_dot`` (``g`` fixed)."""
    vector = np.ndim(b) == 1
    u = _solve_t(a, g, vector)
    return unbroadcast(-_solve_t(a, _matvec_t(a_dot, u, vector), vector), b)


def _matvec_t(m, u, vector):
    """``m^T u`` on the last two axes (``u`` a stack of vectors when ``vector``)."""
    mt = np.swapaxes(m, -1, -2)
    if vector:
        return (mt @ np.expand_dims(u, -1))[..., 0]
    return mt @ u


def solve_dot(a, a_dot, y):
    """The tangent of ``y = np.linalg.solve(a, b)`` along ``a_dot``, less its sign:
    ``a^-1 (a_dot y)``."""
    if _solves_vectors(a, y):
        return np.linalg.solve(a, a_dot @ np.expand_dims(y, -1))[..., 0]
    return np.linalg.solve(a, a_dot @ y)


def dot_vjp_a(g, a, b):
    """Adjoint of ``a`` in ``np.dot(a, b)`` (as matmul's but for two n-d operands, where
    ``np.dot`` contracts ``a``'s last axis with ``b``'s second-to-last)."""
    na, nb = np.ndim(a), np.ndim(b)
    if na <= 1 or nb <= 1 or na == nb == 2:
        return matmul_vjp_a(g, a, b)
    return np.tensordot(g, b, axes=(list(range(na - 1, np.ndim(g))), list(range(nb - 2)) + [nb - 1]))


def dot_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``np.dot(a, b)``."""
    na, nb = np.ndim(a), np.ndim(b)
    if na <= 1 or nb <= 1 or na == nb == 2:
        return matmul_vjp_b(g, a, b)
    return np.moveaxis(np.tensordot(a, g, axes=(list(range(na - 1)), list(range(na - 1)))), 0, -2)


def each_direction(f, position, *args):
    """Vector mode of a runtime helper ``f`` that is linear in ``args[position]``, whose
    leading axis holds one tangent per direction: ``f`` applied per direction."""
    t = args[position]
    return np.stack([f(*args[:position], tk, *args[position + 1:]) for tk in t])


def cast_derivative(g, dtype=None):
    """The part of a derivative ``g`` that survives a cast to ``dtype`` (``x.astype(dtype)``,
    ``np.array(..., dtype=dtype)``): all of it for a float or complex dtype, none for an
    integer or bool one (piecewise constant: a zero derivative, still a float)."""
    if dtype is None:
        return g
    kind = np.dtype(dtype).kind
    if kind in "fc":
        return g
    if kind in "biu":
        return np.zeros(np.shape(g)) if np.ndim(g) else 0.0
    raise TypeError(f"s2sad: no derivative through a cast to dtype {dtype!r}")


def prod_others(x, axis=None, t=None, u=None, w=None):
    """For each element of ``x``, the product of the *other* elements of its group in
    ``np.prod(x, axis)``: the derivative of the product, exact where elements are zero
    (no division by ``x``).  Given tangents ``t`` (``u``, ``w``), its derivatives along
    them: the sum over distinct other elements ``k`` (``k != l``, ...) of
    ``t[k] (u[l] ...)`` times the product of the rest.  Tangents may carry leading axes
    (vector mode); the result then has them too."""
    x = np.asarray(x)
    ts = [np.asarray(v) for v in (t, u, w) if v is not None]
    nd = x.ndim
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(a % nd for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    keep = tuple(a for a in range(nd) if a not in axes)

    def groups(v):
        lead = v.ndim - nd
        perm = tuple(range(lead)) + tuple(lead + a for a in keep + axes)
        moved = np.transpose(v, perm)
        return moved.reshape(moved.shape[:lead + len(keep)] + (-1,))

    xg, tg = groups(x), [groups(v) for v in ts]
    n, m = xg.shape[-1], len(ts)
    if m == 0 and n:
        # exclusive products from the left and from the right, one cumprod each
        ones = np.ones(xg.shape[:-1] + (1,), dtype=np.result_type(xg, float))
        left = np.cumprod(np.concatenate([ones, xg[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, xg[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        out = (left * right).reshape(tuple(x.shape[a] for a in keep + axes))
        return np.transpose(out, np.argsort(keep + axes))
    full = (1 << m) - 1

    def times(acc, j):
        """``acc`` (coefficients by subset of tangents) times ``x_j + sum_l eps_l t_l[j]``."""
        out = {}
        for subset, value in acc.items():
            out[subset] = out.get(subset, 0.0) + value * xg[..., j]
            for l in range(m):
                if not subset & (1 << l):
                    out[subset | 1 << l] = out.get(subset | 1 << l, 0.0) + value * tg[l][..., j]
        return out

    left, acc = [], {0: 1.0}
    for j in range(n):
        left.append(acc)
        acc = times(acc, j)
    right, acc = [None] * n, {0: 1.0}
    for j in reversed(range(n)):
        right[j] = acc
        acc = times(acc, j)
    columns = []
    for j in range(n):
        total = 0.0
        for a, value in left[j].items():
            if full & ~a in right[j]:
                total = total + value * right[j][full & ~a]
        columns.append(total)
    shape = np.broadcast_shapes(xg.shape, *[v.shape for v in tg])
    out = np.stack([np.broadcast_to(c, shape[:-1]) for c in columns], axis=-1) if n \
        else np.zeros(shape)
    lead = len(shape) - xg.ndim
    moved_shape = shape[:lead] + tuple(x.shape[a] for a in keep + axes)
    out = out.reshape(moved_shape)
    perm = tuple(range(lead)) + tuple(lead + a for a in keep + axes)
    return np.transpose(out, np.argsort(perm))


def no_derivative(what):
    """Stands for a derivative s2sad does not provide (``what``): raises when reached."""
    raise NotImplementedError(f"s2sad: no derivative for {what}")


def zeros_list(xs):
    """A zero adjoint for a list: one zero per element, each of the element's shape
    (a list of zeros for an element that is itself a list or tuple; none for a list not
    assigned on this path, None)."""
    if xs is None:
        return []
    return [zeros_list(x) if isinstance(x, (list, tuple)) else 0.0 * x if isinstance(x, np.ndarray)
            else 0.0 for x in xs]


def add_lists(a, b):
    """The sum of two list adjoints, element by element (lists nested in them too; two
    elements that are not lists add as numbers or arrays)."""
    if not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))):
        return a + b
    if len(a) != len(b):
        raise ValueError(f"s2sad: adding list derivatives of lengths {len(a)} and {len(b)}")
    return [add_lists(u, v) for u, v in zip(a, b)]


def fill_list(g, xs):
    """A list as long as ``xs`` with ``g`` in every place: the adjoint list of ``sum(xs)``."""
    return [g] * len(xs)


def unstack(g, axis=0):
    """The adjoint list of ``np.stack(arrays, axis)``: ``g`` cut along ``axis`` into its slices."""
    return list(np.moveaxis(g, axis, 0))


def list_add_at(xs_bar, index, g):
    """``xs_bar[index] += g`` for a list adjoint (an int or a slice index)."""
    if isinstance(index, slice):
        positions = range(*index.indices(len(xs_bar)))
        for k, p in enumerate(positions):
            xs_bar[p] = xs_bar[p] + g[k]
    else:
        xs_bar[index] = xs_bar[index] + g
    return xs_bar


def unconcatenate(g, arrays, axis=0):
    """The adjoint list of ``np.concatenate(arrays, axis)``: ``g`` cut back into pieces."""
    return [concat_part(g, arrays, i, axis) for i in range(len(arrays))]


# --- forward mode: tangents, and vector mode (one leading axis of directions) -------------------
__all__ += [
    "tangent_like", "tangents_like", "lift_tangents", "batch_axis", "transpose_dims",
    "batch_matmul", "batch_solve", "batch_dot_b", "batch_array", "batch_full", "batch_unbroadcast",
    "batch_unreduce", "batch_list",
]


def tangent_like(t, y):
    """The tangent ``t`` broadcast to the shape of the value ``y`` (a private array)."""
    shape = np.shape(y)
    if np.shape(t) == shape:
        return t
    return np.array(np.broadcast_to(t, shape))


def tangents_like(t, y):
    """Vector mode: tangents ``t`` (one row per direction) broadcast to ``y``'s shape."""
    shape = np.shape(t)[:1] + np.shape(y)
    if np.shape(t) == shape:
        return t
    return np.array(np.broadcast_to(lift_tangents(t, y), shape))


def lift_tangents(t, y):
    """Vector mode: insert axes after the leading one so ``t[k]`` broadcasts against ``y``."""
    t = np.asarray(t)
    extra = np.ndim(y) + 1 - t.ndim
    if extra <= 0:
        return t
    return t.reshape(t.shape[:1] + (1,) * extra + t.shape[1:])


def batch_axis(axis, x):
    """The axis of a reduction of ``x`` applied to its tangents (one leading axis more)."""
    if axis is None:
        return tuple(range(1, np.ndim(x) + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(a + 1 if a >= 0 else a for a in axis)
    return axis + 1 if axis >= 0 else axis


def transpose_dims(t, axes=None, batch_dims=0):
    """``np.transpose`` of the trailing dimensions of ``t``, keeping ``batch_dims`` leading ones.

    ``axes`` is what ``a.transpose(*axes)`` or ``np.transpose(a, axes)`` received."""
    n = np.ndim(t) - batch_dims
    if axes is None or axes == ():
        axes = tuple(reversed(range(n)))
    elif len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        axes = tuple(axes[0])
    return np.transpose(t, tuple(range(batch_dims)) + tuple(a % n + batch_dims for a in axes))


def batch_solve(a, r, y):
    """``np.linalg.solve(a, r[k])`` for every direction ``k`` (``r[k]`` has the shape of
    the solution ``y``, or ``b``'s, which broadcasts to it)."""
    r = np.reshape(r, np.shape(r)[:1] + (1,) * (np.ndim(y) + 1 - np.ndim(r)) + np.shape(r)[1:])
    if _solves_vectors(a, y):
        return np.linalg.solve(a, np.expand_dims(r, -1))[..., 0]
    return np.linalg.solve(a, r)


def batch_dot_b(a, b_dot):
    """``np.dot(a, b_dot[k])`` for every direction ``k``, directions first."""
    if np.ndim(a) == 0:
        return a * b_dot
    if np.ndim(b_dot) == 2:                  # b is a vector
        return np.moveaxis(np.dot(a, np.swapaxes(b_dot, 0, 1)), -1, 0)
    return np.moveaxis(np.dot(a, b_dot), np.ndim(a) - 1, 0)


def batch_array(t):
    """``np.array`` of a list of tangents, with the directions' axis first."""
    if isinstance(t, (list, tuple)):
        return np.stack([batch_array(e) for e in t], axis=1)
    return np.asarray(t)


def batch_full(shape, t):
    """Vector mode tangent of ``np.full(shape, v)``: each direction's ``v_dot`` filled in."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    t = np.asarray(t)
    return np.array(np.broadcast_to(t.reshape(t.shape[:1] + (1,) * len(shape) + t.shape[1:])
                                    if t.ndim == 1 else t, t.shape[:1] + shape))


def batch_unbroadcast(g, x, batch_dims=1):
    """:func:`unbroadcast` of ``g`` whose ``batch_dims`` leading axes are directions."""
    lead = np.shape(g)[:batch_dims]
    shape = lead + np.shape(x)
    gshape = np.shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    if extra:
        g = np.sum(g, axis=tuple(range(batch_dims, batch_dims + extra)))
    axes = tuple(i for i, n in enumerate(shape) if i >= batch_dims and n == 1 and g.shape[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g


def batch_unreduce(g, x, axis=None, keepdims=False, batch_dims=1):
    """:func:`unreduce` of ``g`` whose ``batch_dims`` leading axes are directions."""
    lead = np.shape(g)[:batch_dims]
    if axis is not None and not keepdims:
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        nd = np.ndim(x)
        g = np.expand_dims(g, tuple(a % nd + batch_dims for a in axes))
    elif axis is None and not keepdims:
        g = np.reshape(g, lead + (1,) * np.ndim(x))
    return np.broadcast_to(g, lead + np.shape(x))


def batch_sum(xs_dot):
    """Vector mode tangent of builtin ``sum(xs)``: a list of tangents adds up as it
    is; an array's tangent sums its first axis after the directions."""
    if isinstance(xs_dot, (list, tuple)):
        return sum(xs_dot)
    return np.sum(xs_dot, axis=1)


def batch_list(t):
    """Vector mode tangent of ``list(xs)``: a list's tangents as a new list; an array's
    tangents cut along its first axis after the directions."""
    if isinstance(t, (list, tuple)):
        return list(t)
    return list(np.swapaxes(t, 0, 1))


def batch_zeros_list(xs, n_dir):
    """Vector mode: a zero tangent for a list, one row per direction for each element."""
    if xs is None:
        return []
    return [batch_zeros_list(x, n_dir) if isinstance(x, (list, tuple)) else np.zeros((n_dir,) + np.shape(x))
            for x in xs]


# --- reductions and scans (rules in rules/numpy_reductions.py) --------------------------------------
def cumsum_vjp(g, x, axis=None):
    """Adjoint of ``np.cumsum(x, axis)``: the reversed cumulative sum of ``g`` (``x``'s shape)."""
    if axis is None:
        return np.reshape(np.cumsum(np.ravel(g)[::-1])[::-1], np.shape(x))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def batch_cumsum(t, axis=None):
    """Vector mode tangent of ``np.cumsum(x, axis)``: directions first."""
    t = np.asarray(t)
    if axis is None:
        return np.cumsum(np.reshape(t, (len(t), -1)), axis=1)
    return np.cumsum(t, axis=axis + 1 if axis >= 0 else axis)


def _cumprod_partials(x, axis):
    """``x`` with its scanned axis last, and ``d[..., j, k]`` = the derivative of
    ``cumprod(x)[k]`` in ``x[j]`` (the product of ``x[i]``, ``i <= k``, ``i != j``; 0 for
    ``k < j``): exact where elements are zero."""
    x = np.ravel(x) if axis is None else np.moveaxis(np.asarray(x), axis, -1)
    n = x.shape[-1]
    eye = np.eye(n, dtype=bool)
    others = np.where(eye, 1.0, x[..., None, :])             # row j: x with x[j] set to 1
    return x, np.cumprod(others, axis=-1) * np.triu(np.ones((n, n)))


def cumprod_vjp(g, x, axis=None):
    """Adjoint of ``np.cumprod(x, axis)``."""
    moved, d = _cumprod_partials(x, axis)
    g = np.ravel(g) if axis is None else np.moveaxis(np.asarray(g), axis, -1)
    out = np.sum(d * g[..., None, :], axis=-1)
    return np.reshape(out, np.shape(x)) if axis is None else np.moveaxis(out, -1, axis)


def cumprod_jvp(t, x, axis=None):
    """Tangent of ``np.cumprod(x, axis)`` along ``t`` (``x``'s shape)."""
    moved, d = _cumprod_partials(x, axis)
    t = np.ravel(t) if axis is None else np.moveaxis(np.asarray(t), axis, -1)
    out = np.sum(d * t[..., :, None], axis=-2)
    return out if axis is None else np.moveaxis(out, -1, axis)


def diff_vjp(g, n=1, axis=-1):
    """Adjoint of ``np.diff(x, n, axis)``: ``n`` times minus the difference of ``g``
    padded with a zero at both ends."""
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    return g


def _diff_layout(x, axis, prepend, append, which):
    """Where ``which`` ("prepend", "x", "append") sits in the array ``np.diff(x, axis=axis,
    prepend=prepend, append=append)`` differences: its axis counted from the end, its
    slice along that axis, and the joined array's length along it."""
    nd = np.ndim(x)
    ax = (axis % nd) - nd
    def size(v):
        return 0 if v is None else 1 if np.ndim(v) == 0 else np.shape(v)[ax]
    p, m, a = size(prepend), np.shape(x)[ax], size(append)
    start = {"prepend": 0, "x": p, "append": p + m}[which]
    stop = start + {"prepend": p, "x": m, "append": a}[which]
    return ax, slice(start, stop), p + m + a


def diff_part(g, x, axis, prepend, append, which):
    """The part of ``g`` (the adjoint of the array ``np.diff`` joins from ``prepend``, ``x``
    and ``append`` along ``axis``) that belongs to ``which``; a 0-d prepend (append) NumPy
    broadcast gets the sum of its part.  ``g`` may carry leading direction axes."""
    ax, where, _ = _diff_layout(x, axis, prepend, append, which)
    g = np.asarray(g)
    part = g[(Ellipsis, where) + (slice(None),) * (-ax - 1)]
    value = {"prepend": prepend, "x": x, "append": append}[which]
    if which != "x" and np.ndim(value) == 0:
        lead = g.ndim - np.ndim(x)
        part = np.sum(part, axis=tuple(range(lead, part.ndim)))
    return part


def diff_slot(t, x, axis, prepend, append, which):
    """The array ``np.diff`` joins from ``prepend``, ``x`` and ``append`` along ``axis``,
    with ``t`` in ``which``'s place and zeros elsewhere (the transpose of :func:`diff_part`);
    ``t`` may carry leading direction axes."""
    ax, where, total = _diff_layout(x, axis, prepend, append, which)
    value = {"prepend": prepend, "x": x, "append": append}[which]
    t = np.asarray(t)
    lead = t.ndim - np.ndim(value)
    shape = list(np.shape(x))
    shape[ax] = where.stop - where.start
    if which != "x" and np.ndim(value) == 0:
        t = np.reshape(t, t.shape + (1,) * len(shape))
    t = np.broadcast_to(t, t.shape[:lead] + tuple(shape))
    shape[ax] = total
    out = np.zeros(t.shape[:lead] + tuple(shape), dtype=np.result_type(t, float))
    out[(Ellipsis, where) + (slice(None),) * (-ax - 1)] = t
    return out


def trapezoid_weights(f, dx=1.0, axis=-1):
    """The weights ``w`` with ``np.trapezoid(f, dx=dx, axis=axis) == np.sum(w * f, axis)``:
    ``dx / 2`` at both ends, ``dx`` between; shaped to broadcast against ``f``."""
    nd = np.ndim(f)
    n = np.shape(f)[axis]
    w = np.ones(n)
    w[0] = w[-1] = 0.5
    if n == 1:
        w[0] = 0.0
    shape = [1] * nd
    shape[axis] = n
    return np.reshape(w, shape) * dx


def polygamma(n, x):
    """``scipy.special.polygamma(n, x)`` (the derivatives of math.lgamma), a float for a float."""
    from scipy.special import polygamma as _polygamma
    value = _polygamma(n, x)
    return float(value) if np.ndim(value) == 0 else value


# --- s2sad.custom_vjp / custom_jvp (s2sad/custom.py) ------------------------------------------------
CUSTOM_RULES: list = []


def register_custom_rule(custom) -> int:
    """The number generated code names a custom_vjp / custom_jvp function by."""
    CUSTOM_RULES.append(custom)
    return len(CUSTOM_RULES) - 1


def custom_vjp_part(ident, i, g, *args):
    """Argument ``i``'s cotangent from a custom_vjp rule: ``bwd(fwd(*args)[1], g)[i]``."""
    custom = CUSTOM_RULES[ident]
    _, residuals = custom.fwd(*args)
    cotangents = custom.bwd(residuals, g)
    if not isinstance(cotangents, tuple) or len(cotangents) != len(args):
        raise TypeError(f"the bwd rule of {custom.__name__} must return a tuple of {len(args)} "
                        f"cotangents (one per argument), got {type(cotangents).__name__}")
    return cotangents[i]


def custom_jvp_part(ident, i, t, *args):
    """The tangent a custom_jvp rule gives along ``t`` in argument ``i`` (the others fixed)."""
    custom = CUSTOM_RULES[ident]
    tangents = tuple(t if k == i else zeros_like(a) for k, a in enumerate(args))
    return custom.jvp(tuple(args), tangents)[1]


def _norm_axes(x, axis):
    nd = np.ndim(x)
    if axis is None:
        return tuple(range(nd))
    if isinstance(axis, (tuple, list)):
        return tuple(a % nd for a in axis)
    return (axis % nd,)


def _norm_second(g, y, x, t, ord, axis, keepdims, wrt):
    """``norm_ord_vjp(g, y, x, ...)`` differentiated in ``x`` (``wrt="x"``) or ``y`` along
    ``t``: zero for the piecewise linear orders, ``(p - 1)|x|^(p-2) y^(1-p)`` and
    ``(1 - p) sign(x)|x|^(p-1) y^(-p)`` for a vector p-norm (p = 2 too)."""
    x = np.asarray(x)
    axes = _norm_axes(x, axis)
    if len(axes) == 2 and ord in (2, -2, "nuc"):
        no_derivative(f"np.linalg.norm with ord={ord!r} beyond first order")
    if not keepdims:
        g, y = np.expand_dims(g, axes), np.expand_dims(y, axes)
        if wrt == "y":
            t = np.expand_dims(t, axes)
    if len(axes) == 2 and ord not in (None, "fro") or ord in (1, 0, np.inf, -np.inf):
        return np.zeros(np.broadcast_shapes(np.shape(g), np.shape(t), x.shape))
    p = 2.0 if ord in (None, "fro") else float(ord)
    a = np.abs(x)
    if wrt == "x":
        return g * t * (p - 1.0) * a ** (p - 2.0) * y ** (1.0 - p)
    return g * t * (1.0 - p) * np.sign(x) * a ** (p - 1.0) * y ** (-p)


def norm_ord_dx(g, y, x, t, ord=None, axis=None, keepdims=False):
    """The derivative of :func:`norm_ord_vjp` in ``x`` along ``t`` (``x``'s shape)."""
    return _norm_second(g, y, x, t, ord, axis, keepdims, "x")


def norm_ord_dy(g, y, x, t, ord=None, axis=None, keepdims=False):
    """The derivative of :func:`norm_ord_vjp` in ``y`` (the norm) along ``t`` (``y``'s shape)."""
    return _norm_second(g, y, x, t, ord, axis, keepdims, "y")


def norm_ord_vjp(g, y, x, ord=None, axis=None, keepdims=False):
    """Adjoint of ``np.linalg.norm(x, ord, axis, keepdims)`` for every ``ord`` NumPy accepts:
    vector norms (``axis`` an int, or a 1-d ``x``) and matrix norms (``axis`` a pair, or a
    2-d ``x``).  Ties (of the largest element, row or column sum, or singular values) split
    evenly, or take the first singular pair."""
    x = np.asarray(x)
    axes = _norm_axes(x, axis)
    if not keepdims:
        g, y = np.expand_dims(g, axes), np.expand_dims(y, axes)
    a, sign = np.abs(x), np.sign(x)

    def even(mask, over):
        return mask / np.sum(mask, axis=over, keepdims=True)

    if len(axes) == 1:
        ax = axes[0]
        if ord is None or ord == 2:
            return g * x / y
        if ord == np.inf or ord == -np.inf:
            best = np.max(a, axis=ax, keepdims=True) if ord > 0 else np.min(a, axis=ax, keepdims=True)
            return g * sign * even(a == best, ax)
        if ord == 0:
            return np.zeros(np.broadcast_shapes(np.shape(g), x.shape))
        if ord == 1:
            return g * sign
        p = float(ord)
        return g * sign * a ** (p - 1.0) * y ** (1.0 - p)
    r, c = axes
    if ord is None or ord == "fro":
        return g * x / y
    if ord in (2, -2, "nuc"):
        u, _, vt = np.linalg.svd(np.moveaxis(x, (r, c), (-2, -1)), full_matrices=False)
        if ord == "nuc":
            m = u @ vt
        else:
            k = 0 if ord == 2 else vt.shape[-2] - 1
            m = u[..., :, k:k + 1] @ vt[..., k:k + 1, :]
        return g * np.moveaxis(m, (-2, -1), (r, c))
    if ord in (1, -1):               # the largest (smallest) column sum: summed over rows
        sums = np.sum(a, axis=r, keepdims=True)
        best = np.max(sums, axis=c, keepdims=True) if ord > 0 else np.min(sums, axis=c, keepdims=True)
        return g * sign * even(sums == best, c)
    if ord == np.inf or ord == -np.inf:
        sums = np.sum(a, axis=c, keepdims=True)
        best = np.max(sums, axis=r, keepdims=True) if ord > 0 else np.min(sums, axis=r, keepdims=True)
        return g * sign * even(sums == best, r)
    raise ValueError(f"invalid norm order {ord!r} for matrices")


# --- quantiles (np.quantile, np.percentile, np.median; method="linear") ----------------------------
def _quantile_layout(x, q, axis, scale):
    """``x`` with the reduced axes flattened last, the sorting permutation, and for each
    quantile the sorted positions ``lo``, ``hi`` and the weight ``frac`` of ``hi``."""
    x = np.asarray(x)
    nd = x.ndim
    axes = _norm_axes(x, axis)
    keep = tuple(a for a in range(nd) if a not in axes)
    moved = np.transpose(x, keep + axes)
    moved = moved.reshape(moved.shape[:len(keep)] + (-1,))
    n = moved.shape[-1]
    order = np.argsort(moved, axis=-1, kind="stable")
    pos = np.asarray(q, dtype=float) / scale * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    return axes, keep, moved, order, lo, hi, pos - lo


def _quantile_out(v, x, axes, keep, qshape, keepdims):
    """Values shaped ``keep + qshape`` as NumPy returns them: the quantiles' axes first."""
    v = np.moveaxis(v, tuple(range(len(keep), v.ndim)), tuple(range(len(qshape))))
    if keepdims:
        v = np.reshape(v, qshape + tuple(1 if a in axes else np.shape(x)[a] for a in range(np.ndim(x))))
    return v


def _quantile_in(g, x, axes, keep, qshape):
    """``g`` (a quantile's shape) as ``keep + qshape``."""
    g = np.reshape(g, qshape + tuple(np.shape(x)[a] for a in keep))
    return np.moveaxis(g, tuple(range(len(qshape))), tuple(range(np.ndim(g) - len(qshape), np.ndim(g))))


def quantile_jvp(t, x, q, axis=None, keepdims=False, scale=1.0):
    """Tangent of ``np.quantile(x, q / scale, axis, keepdims=keepdims)`` (linear
    interpolation) along ``t``: the tangents of the two order statistics, interpolated."""
    axes, keep, moved, order, lo, hi, frac = _quantile_layout(x, q, axis, scale)
    tm = np.transpose(np.asarray(t), keep + axes).reshape(moved.shape)
    ts = np.take_along_axis(tm, order, axis=-1)
    v = ts[..., lo] * (1.0 - frac) + ts[..., hi] * frac
    return _quantile_out(v, x, axes, keep, np.shape(lo), keepdims)


def quantile_vjp(g, x, q, axis=None, keepdims=False, scale=1.0):
    """Adjoint of ``np.quantile(x, q / scale, axis, keepdims=keepdims)`` in ``x``: each
    quantile's adjoint goes to its two order statistics (ties: to the one sorted first)."""
    axes, keep, moved, order, lo, hi, frac = _quantile_layout(x, q, axis, scale)
    gk = _quantile_in(g, x, axes, keep, np.shape(lo))
    sorted_bar = np.zeros(moved.shape, dtype=np.result_type(moved, gk, float))
    for k in np.ndindex(np.shape(lo)):
        gq = gk[(Ellipsis,) + k]
        sorted_bar[..., lo[k]] += gq * (1.0 - frac[k])
        sorted_bar[..., hi[k]] += gq * frac[k]
    bar = np.zeros_like(sorted_bar)
    np.put_along_axis(bar, order, sorted_bar, axis=-1)
    bar = bar.reshape(tuple(np.shape(x)[a] for a in keep + axes))
    return np.transpose(bar, np.argsort(keep + axes))


def quantile_dq(g, x, q, axis=None, keepdims=False, scale=1.0, t=None):
    """The derivative of the quantiles in ``q``: ``(n - 1) / scale`` times the gap between
    the two order statistics.  With ``t`` (``q``'s tangent): the tangent of the quantiles;
    else the adjoint of ``q`` from the quantiles' adjoint ``g``."""
    axes, keep, moved, order, lo, hi, frac = _quantile_layout(x, q, axis, scale)
    xs = np.take_along_axis(moved, order, axis=-1)
    slope = (xs[..., hi] - xs[..., lo]) * ((moved.shape[-1] - 1) / scale)
    if t is not None:
        return _quantile_out(slope * np.asarray(t), x, axes, keep, np.shape(lo), keepdims)
    gk = _quantile_in(g, x, axes, keep, np.shape(lo))
    return np.sum(gk * slope, axis=tuple(range(len(keep))))


def aligned_weights(w, x, axis=None):
    """The weights of ``np.average(x, axis, weights=w)`` shaped to broadcast against ``x``:
    as they are when they have ``x``'s shape, a 1-d ``w`` laid along ``axis``."""
    w = np.asarray(w)
    if w.shape == np.shape(x):
        return w
    if w.ndim == 1 and isinstance(axis, (int, np.integer)):
        shape = [1] * np.ndim(x)
        shape[axis] = len(w)
        return np.reshape(w, shape)
    raise ValueError(f"s2sad: np.average weights of shape {w.shape} for an array of shape "
                     f"{np.shape(x)} and axis={axis!r}: NumPy needs x's shape, or 1-d along an int axis")


def norm_spectral_vjp(g, y, x, ord=2, axis=None, keepdims=False):
    """Adjoint of the spectral norm of a matrix (``np.linalg.norm(x, 2)``, ``x`` 2-d): its
    first singular pair.  A name of its own so its derivative is refused when transforming."""
    return norm_ord_vjp(g, y, x, ord, axis, keepdims)


# --- special functions derivatives call (SciPy's, imported when first needed) -------------------
__all__ += ["digamma"]


def digamma(x):
    """The derivative of ``gammaln``: ``scipy.special.digamma``."""
    from scipy import special
    return special.digamma(x)


# --- gathers: functions whose every output element is a copy of an input element, or zero ------
__all__ += ["picks", "pick", "unpick", "pad_fill_vjp", "pad_fill_dot", "full_rank", "join_part", "join_place", "split_axis", "concat_place", "unjoin", "batch_join", "trace_vjp",
            "kron_vjp_a", "kron_vjp_b"]


def _sort_positions(p, x, axis=-1):
    # a stable sort: among ties the earlier element comes first (a convention, as JAX's)
    order = np.argsort(np.asarray(x), axis=axis, kind="stable")
    if axis is None:
        return np.ravel(p)[order]
    return np.take_along_axis(p, order, axis)


_GATHERS = {
    "tile": np.tile, "repeat": np.repeat, "pad": np.pad, "take": np.take,
    "take_along_axis": np.take_along_axis, "diag": np.diag, "diagonal": np.diagonal,
    "tril": np.tril, "triu": np.triu, "flip": np.flip, "roll": np.roll, "rot90": np.rot90,
    "moveaxis": np.moveaxis, "swapaxes": np.swapaxes
}


def picks(x, how, *args, **kwargs):
    """Where each element of ``np.<how>(x, *args)`` comes from: an integer array of the
    result's shape holding the flat position in ``x`` of the element it copies, or -1
    where the result holds a zero (``np.tril``, ``np.diag`` of a vector, ``np.pad``).
    Computed by applying the function to the positions themselves, so it is exact for
    any arguments NumPy accepts.  ``how="sort"``: the positions ``np.sort(x, axis)`` reads."""
    positions = np.arange(1, np.size(x) + 1).reshape(np.shape(x))
    if how == "sort":
        return _sort_positions(positions, x, *args, **kwargs) - 1
    if how == "pad":
        kwargs = {k: (0 if k == "constant_values" else v) for k, v in kwargs.items()}
    return np.asarray(_GATHERS[how](positions, *args, **kwargs)) - 1


def pick(t, index, batch_dims=0):
    """``t`` gathered at ``index`` (from :func:`picks`; -1 gives zero), keeping ``batch_dims``
    leading axes of ``t`` (vector mode: one row per direction)."""
    t = np.asarray(t)
    lead = t.shape[:batch_dims]
    flat = np.reshape(t, lead + (-1,))
    zero = np.zeros(lead + (1,), dtype=np.result_type(t, np.float32) if t.ndim else float)
    flat = np.concatenate([flat, zero], axis=-1)          # position -1 reads the zero
    return flat[..., index]


def unpick(g, index, x, batch_dims=0):
    """The adjoint of :func:`pick`: ``g`` added back at the positions it was read from,
    into an array of ``x``'s shape (repeated positions add up; -1 positions are dropped)."""
    g = np.asarray(g)
    lead = g.shape[:batch_dims]
    size = int(np.size(x))
    index = np.broadcast_to(index, g.shape[batch_dims:])
    dtype = np.result_type(g, np.float32)
    out = np.zeros(lead + (size + 1,), dtype=dtype)
    flat_index = np.where(index < 0, size, index)
    np.add.at(out, (Ellipsis, np.ravel(flat_index)), np.reshape(g, lead + (-1,)))
    return np.reshape(out[..., :size], lead + np.shape(x))


def pad_fill_vjp(g, index, value):
    """Adjoint of the fill value of ``np.pad(..., mode="constant", constant_values=value)``:
    the sum of ``g`` over the padding (``index`` from :func:`picks`, -1 there)."""
    _one_fill_value(value)
    return np.sum(g * (index < 0), axis=tuple(range(np.ndim(g) - np.ndim(index), np.ndim(g))))


def _one_fill_value(value):
    if np.ndim(value) != 0 or isinstance(value, (tuple, list)):
        _not_differentiable_here("s2sad differentiates np.pad's constant_values only as one number; "
                                 "pad with 0 and add the values where the padding is")


def pad_fill_dot(value_dot, index):
    """Tangent of ``np.pad(..., constant_values=value)`` along the value's tangent."""
    _one_fill_value(value_dot if not isinstance(value_dot, (tuple, list)) else value_dot)
    return value_dot * (index < 0)


def full_rank(a):
    """``a``, checked to have full rank: a derivative that holds only where the rank does not
    change (``np.linalg.pinv``) has none at a rank-deficient matrix."""
    s = np.linalg.svd(a, compute_uv=False)
    if np.any(s[..., -1:] <= np.max(np.shape(a)[-2:]) * np.finfo(float).eps * s[..., :1]):
        _not_differentiable_here("np.linalg.pinv has no derivative at a rank-deficient matrix "
                                 "(its rank changes under a small change)")
    return a


# --- joins: hstack, vstack, dstack, column_stack are concatenations of promoted arrays ----------
def _promoted(shape, how):
    """The shape ``np.<how>`` gives an input of ``shape`` before concatenating, and the axis."""
    nd = len(shape)
    if how == "ravel":                # np.concatenate(arrays, axis=None)
        return (int(np.prod(shape)),), 0
    if how == "vstack":
        return (shape if nd >= 2 else (1,) + shape + (1,) * (1 - nd)), 0
    if how == "hstack":
        return (shape or (1,)), (0 if nd <= 1 else 1)
    if how == "dstack":
        if nd == 0:
            return (1, 1, 1), 2
        if nd == 1:
            return (1,) + shape + (1,), 2
        return (shape + (1,) if nd == 2 else shape), 2
    if how == "column_stack":
        return ((shape + (1,)) if nd == 1 else shape or (1, 1)), 1
    raise ValueError(how)


def join_part(g, arrays, i, how):
    """The part of ``g`` that ``arrays[i]`` filled in ``np.<how>(arrays)``, in its own shape."""
    promoted = [np.empty(_promoted(np.shape(a), how)[0], dtype=bool) for a in arrays]
    axis = _promoted(np.shape(arrays[i]), how)[1]
    return np.reshape(concat_part(g, promoted, i, axis), np.shape(arrays[i]))


def concat_place(p, g, arrays, i, axis=0):
    """The adjoint of :func:`concat_part`: ``p`` where ``arrays[i]`` sits in ``g`` (of the
    concatenation's shape), zeros elsewhere."""
    out = np.zeros(np.shape(g), dtype=np.result_type(p, np.float32))
    if axis is None:
        start = sum(np.size(a) for a in arrays[:i])
        out[start:start + np.size(arrays[i])] = np.ravel(p)
        return out
    start = sum(np.shape(a)[axis] for a in arrays[:i])
    index = [slice(None)] * np.ndim(g)
    index[axis] = slice(start, start + np.shape(arrays[i])[axis])
    out[tuple(index)] = p
    return out


def join_place(p, g, arrays, i, how):
    """The adjoint of :func:`join_part`: ``p`` where ``arrays[i]`` sits in ``np.<how>(arrays)``."""
    promoted = [np.empty(_promoted(np.shape(a), how)[0], dtype=bool) for a in arrays]
    axis = _promoted(np.shape(arrays[i]), how)[1]
    return concat_place(np.reshape(p, np.shape(promoted[i])), g, promoted, i, axis)


def split_axis(x, how):
    """The axis ``np.<how>`` (hsplit, vsplit, dsplit) splits ``x`` along."""
    return {"hsplit": 1 if np.ndim(x) > 1 else 0, "vsplit": 0, "dsplit": 2}[how]


def unjoin(g, arrays, how):
    """The adjoint list of ``np.<how>(arrays)``: ``g`` cut back into pieces."""
    return [join_part(g, arrays, i, how) for i in range(len(arrays))]


def batch_join(ts, arrays, how):
    """Vector mode tangent of ``np.<how>(arrays)``: each tangent (directions first) promoted
    as its array is, then concatenated past the directions' axis."""
    parts = []
    for t, a in zip(ts, arrays):
        shape, axis = _promoted(np.shape(a), how)
        t = np.asarray(t)
        parts.append(np.reshape(t, t.shape[:1] + shape))
    return np.concatenate(parts, axis=axis + 1)


def trace_vjp(g, a, offset=0, axis1=0, axis2=1):
    """Adjoint of ``np.trace(a, offset, axis1, axis2)``: ``g`` along the diagonal."""
    index = picks(a, "diagonal", offset, axis1, axis2)
    g = np.broadcast_to(np.expand_dims(g, -1), np.shape(index))
    return unpick(g, index, a)


def _kron_parts(g, a, b):
    """``g`` (of ``np.kron(a, b)``'s shape) with each axis split in two (``a``'s, ``b``'s),
    and ``a``, ``b`` as arrays of as many axes, interleaved so they broadcast against it."""
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    g = np.reshape(g, tuple(n for pair in zip(sa, sb) for n in pair))
    a = np.reshape(a, tuple(n for m in sa for n in (m, 1)))
    b = np.reshape(b, tuple(n for m in sb for n in (1, m)))
    return g, a, b, nd


def kron_vjp_a(g, a, b):
    """Adjoint of ``a`` in ``np.kron(a, b)``."""
    g, _, b2, nd = _kron_parts(g, a, b)
    return np.reshape(np.sum(g * b2, axis=tuple(range(1, 2 * nd, 2))), np.shape(a))


def kron_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``np.kron(a, b)``."""
    g, a2, _, nd = _kron_parts(g, a, b)
    return np.reshape(np.sum(g * a2, axis=tuple(range(0, 2 * nd, 2))), np.shape(b))


# --- einsum and the products written as one (tensordot, inner, multi_dot) -------------------------
__all__ += ["einsum_vjp", "einsum_at", "eigh_vectors", "einsum_jvp", "einsum_vjp_along", "einsum_vjp_other", "tensordot_subscripts",
            "inner_subscripts", "multi_dot_subscripts"]

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_labels(subscripts, shapes):
    """The labels of each operand and of the output of ``np.einsum(subscripts, ...)``, with
    ellipses written out as letters and an implicit output made explicit (NumPy's rule:
    the broadcast axes, then the labels used once, in alphabetical order)."""
    if not isinstance(subscripts, str):
        raise TypeError("s2sad: np.einsum's derivative needs its subscripts as a string")
    subscripts = subscripts.replace(" ", "")
    ins, arrow, out = subscripts.partition("->")
    ins = ins.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"s2sad: einsum subscripts {subscripts!r} name {len(ins)} operands, "
                         f"got {len(shapes)}")
    spare = [c for c in _LETTERS if c not in subscripts]
    widths = [len(shape) - (len(s) - 3) for s, shape in zip(ins, shapes) if "..." in s]
    width = max(widths, default=0)
    ellipsis = "".join(spare[:width])
    labels = [s.replace("...", ellipsis[width - (len(shape) - (len(s) - 3)):]) if "..." in s else s
              for s, shape in zip(ins, shapes)]
    if not arrow:
        joined = "".join(labels)
        out = ellipsis + "".join(sorted(c for c in set(joined) if joined.count(c) == 1
                                        and c not in ellipsis))
    else:
        out = out.replace("...", ellipsis)
    return labels, out


def einsum_vjp(g, subscripts, operands, k):
    """Adjoint of operand ``k`` in ``np.einsum(subscripts, *operands)`` given the result's
    adjoint ``g``: the other operands and ``g`` contracted onto ``k``'s labels; a label
    only ``k`` has (summed inside it) spreads evenly, a label ``k`` repeats (a diagonal)
    fills the diagonal, an axis ``k`` broadcast (length one) is summed back."""
    shapes = [np.shape(o) for o in operands]
    labels, out = _einsum_labels(subscripts, shapes)
    target = labels[k]
    size = {}
    for c, n in zip(target, shapes[k]):
        size[c] = n
    others = [j for j in range(len(operands)) if j != k]
    reached = set(out).union(*[labels[j] for j in others])
    unique = "".join(dict.fromkeys(target))
    kept = "".join(c for c in unique if c in reached)
    spec = ",".join([out] + [labels[j] for j in others]) + "->" + kept
    t = np.einsum(spec, g, *[operands[j] for j in others])
    stretched = tuple(a for a, c in enumerate(kept) if size[c] == 1 and t.shape[a] != 1)
    if stretched:
        t = np.sum(t, axis=stretched, keepdims=True)
    t = np.expand_dims(t, tuple(a for a, c in enumerate(unique) if c not in kept))
    t = np.broadcast_to(t, tuple(size[c] for c in unique))
    if len(unique) == len(target):
        return t
    out_array = np.zeros(shapes[k], dtype=t.dtype)
    grids = {c: np.arange(size[c]).reshape((-1,) + (1,) * (len(unique) - 1 - a))
             for a, c in enumerate(unique)}
    out_array[tuple(grids[c] for c in target)] = t
    return out_array


def einsum_at(subscripts, operands, k, c):
    """``np.einsum(subscripts, *operands)`` with ``c`` in place of operand ``k``."""
    return np.einsum(subscripts, *operands[:k], c, *operands[k + 1:])


def eigh_vectors(a):
    """The eigenvectors of the symmetric matrix read from ``a``'s lower triangle (``np.linalg.eigh``)."""
    return np.linalg.eigh(a)[1]


def einsum_jvp(subscripts, operands, tangents, batch_dims=0):
    """Tangent of ``np.einsum(subscripts, *operands)``: one term per operand with a tangent
    (None, or a tangent without the leading axis of directions, is a constant's zero)."""
    shapes = [np.shape(o) for o in operands]
    labels, out = _einsum_labels(subscripts, shapes)
    lead = "".join(c for c in _LETTERS if c not in "".join(labels) + out)[:batch_dims]
    total = None
    for j, t in enumerate(tangents):
        if t is None or np.ndim(t) != len(shapes[j]) + batch_dims:
            continue
        spec = ",".join(lead + s if i == j else s for i, s in enumerate(labels)) + "->" + lead + out
        term = np.einsum(spec, *operands[:j], t, *operands[j + 1:])
        total = term if total is None else total + term
    return 0.0 if total is None else total


def einsum_vjp_along(g, subscripts, operands, k, tangents, batch_dims=0):
    """The derivative of :func:`einsum_vjp` ``(g, subscripts, operands, k)`` along the
    operands' ``tangents`` (``operands[k]`` gives only a shape)."""
    if batch_dims:
        batched = [t for j, t in enumerate(tangents) if j != k and t is not None
                   and np.ndim(t) == np.ndim(operands[j]) + batch_dims]
        if not batched:                   # only operand k (a shape) varies: no derivative
            n = next(len(t) for t in tangents if t is not None and np.ndim(t))
            return np.zeros((n,) + np.shape(operands[k]))
        n = len(batched[0])
        return np.stack([einsum_vjp_along(g, subscripts, operands, k,
                                          [None if t is None or np.ndim(t) != np.ndim(o) + batch_dims
                                           else t[d] for t, o in zip(tangents, operands)])
                         for d in range(n)])
    total = 0.0
    for j, t in enumerate(tangents):
        if j == k or t is None or np.ndim(t) != np.ndim(operands[j]):
            continue
        total = total + einsum_vjp(g, subscripts, tuple(operands[:j]) + (t,) + tuple(operands[j + 1:]), k)
    return total


def einsum_vjp_other(g, subscripts, operands, k, c, j):
    """Adjoint of ``operands[j]`` in ``einsum_vjp(g, subscripts, operands, k)`` given its
    adjoint ``c``: zero for ``j == k`` (a shape only), else operand ``j``'s adjoint in the
    einsum whose operand ``k`` is ``c``."""
    if j == k:
        return np.zeros(np.shape(operands[j]))
    return einsum_vjp(g, subscripts, tuple(operands[:k]) + (c,) + tuple(operands[k + 1:]), j)


def tensordot_subscripts(a, b, axes=2):
    """``np.tensordot(a, b, axes)`` as einsum subscripts."""
    na, nb = np.ndim(a), np.ndim(b)
    if isinstance(axes, (int, np.integer)):
        axes = (list(range(na - axes, na)), list(range(axes)))
    xa, xb = ([axes[0]] if isinstance(axes[0], (int, np.integer)) else list(axes[0]),
              [axes[1]] if isinstance(axes[1], (int, np.integer)) else list(axes[1]))
    xa, xb = [x % na for x in xa], [x % nb for x in xb]
    la = list(_LETTERS[:na])
    lb = list(_LETTERS[na:na + nb])
    for i, j in zip(xa, xb):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in xa] + [c for j, c in enumerate(lb) if j not in xb]
    return "".join(la) + "," + "".join(lb) + "->" + "".join(out)


def inner_subscripts(a, b):
    """``np.inner(a, b)`` as einsum subscripts (a product when either is a number)."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        la, lb = _LETTERS[:na], _LETTERS[na:na + nb]
        return la + "," + lb + "->" + la + lb
    return tensordot_subscripts(a, b, ([-1], [-1]))


def multi_dot_subscripts(arrays):
    """``np.linalg.multi_dot(arrays)`` as einsum subscripts (a 1-d first or last array is a
    row or column vector)."""
    n = len(arrays)
    chain = _LETTERS[:n + 1]
    labels = [chain[i:i + 2] for i in range(n)]
    if np.ndim(arrays[0]) == 1:
        labels[0] = labels[0][1:]
    if np.ndim(arrays[-1]) == 1:
        labels[-1] = labels[-1][:1]
    out = (chain[0] if np.ndim(arrays[0]) == 2 else "") + (chain[n] if np.ndim(arrays[-1]) == 2 else "")
    return ",".join(labels) + "->" + out


# --- matrix functions: the Frechet derivative of f at a along e is the upper right block of
# f([[a, e], [0, a]]) (exact for matrix powers, the inverse and the exponential) --------------------
__all__ += ["block_upper", "upper_right", "block_diag_sum", "expm", "solve_triangular"]


def block_upper(a, e):
    """``[[a, e], [0, a]]`` on the last two axes (None for a zero block; stacks broadcast)."""
    like = a if a is not None else e
    n = np.shape(like)[-1]
    if a is None:
        a = np.zeros(np.shape(e)[:-2] + (n, n), dtype=np.result_type(e, np.float32))
    if e is None:
        e = np.zeros(np.shape(a), dtype=np.result_type(a, np.float32))
    a, e = np.broadcast_arrays(a, e)
    top = np.concatenate([a, e], axis=-1)
    bottom = np.concatenate([np.zeros_like(a), a], axis=-1)
    return np.concatenate([top, bottom], axis=-2)


def upper_right(m):
    """The upper right block of ``m`` (on the last two axes, of twice a block's size)."""
    n = np.shape(m)[-1] // 2
    return m[..., :n, n:]


def block_diag_sum(m):
    """The sum of the two diagonal blocks of ``m``: the adjoint of ``a`` in :func:`block_upper`."""
    n = np.shape(m)[-1] // 2
    return m[..., :n, :n] + m[..., n:, n:]


def expm(a):
    """``scipy.linalg.expm`` (on stacks of matrices too)."""
    from scipy import linalg
    return linalg.expm(a)


def solve_triangular(a, b, trans=0, lower=False):
    """``scipy.linalg.solve_triangular``: reads only ``a``'s lower or upper triangle."""
    from scipy import linalg
    return linalg.solve_triangular(a, b, trans=trans, lower=lower)


# --- factorizations with several results (their adjoints and tangents are lists) ------------------
__all__ += ["eigh_vjp", "eigh_jvp", "qr_vjp", "qr_jvp"]


def _tr(m):
    return np.swapaxes(m, -1, -2)


def _lower_read(s):
    """The adjoint of ``a`` given the adjoint ``s`` of the symmetric matrix read from its lower
    triangle (``tril(a) + tril(a, -1)^T``)."""
    return np.tril(s) + np.tril(_tr(s), -1)


def _not_differentiable_here(message):
    """Raise s2sad's NotDifferentiableError: the derivative does not exist at these values
    (known only when the derivative runs; imported here, runtime imports nothing else)."""
    from .errors import NotDifferentiableError
    raise NotDifferentiableError(message)


def _eigen_gaps(w):
    """``1 / (w_j - w_i)`` off the diagonal, 0 on it; refuses repeated eigenvalues, where the
    eigenvectors (and their derivative) are not unique."""
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    n = np.shape(w)[-1]
    off = ~np.eye(n, dtype=bool)
    scale = np.max(np.abs(w), axis=-1, keepdims=True)[..., None] + 1.0
    if np.any(np.abs(gaps[..., off]) <= 1e-10 * scale[..., 0]):
        _not_differentiable_here("the eigenvectors of np.linalg.eigh have no derivative at repeated "
                                 "eigenvalues; use np.linalg.eigvalsh, or functions of the eigenvalues only")
    return np.where(off, 1.0 / np.where(off, gaps, 1.0), 0.0)


def eigh_vjp(g, a, y):
    """Adjoint of ``a`` in ``w, v = np.linalg.eigh(a)`` given the adjoints ``g = [w_bar, v_bar]``."""
    w, v = y
    w_bar, v_bar = g
    inner = np.zeros(np.shape(v)) + np.expand_dims(w_bar, -1) * np.eye(np.shape(w)[-1])
    if np.any(v_bar != 0):
        inner = inner + _eigen_gaps(w) * (_tr(v) @ v_bar)
    return _lower_read(v @ inner @ _tr(v))


def eigh_jvp(a, a_dot, y):
    """Tangents ``[w_dot, v_dot]`` of ``w, v = np.linalg.eigh(a)`` along ``a_dot`` (directions
    first in vector mode: ``a_dot`` has one axis more than ``a``)."""
    w, v = y
    m = np.tril(a_dot) + _tr(np.tril(a_dot, -1))
    vmv = _tr(v) @ m @ v
    w_dot = np.diagonal(vmv, axis1=-2, axis2=-1)
    v_dot = v @ (_eigen_gaps(w) * vmv)
    return [w_dot, v_dot]


def qr_vjp(g, a, y):
    """Adjoint of ``a`` in ``q, r = np.linalg.qr(a)`` (reduced, ``m >= n``, full rank)."""
    if np.shape(a)[-2] < np.shape(a)[-1]:
        _not_differentiable_here("s2sad differentiates np.linalg.qr(a) only for a tall or square a "
                                 "(m >= n)")
    q, r = y
    q_bar, r_bar = (np.zeros(np.shape(x)) if np.ndim(x_bar) == 0 else x_bar for x_bar, x in zip(g, y))
    m = r @ _tr(r_bar) - _tr(q_bar) @ q
    sym = np.tril(m) + _tr(np.tril(m, -1))
    return _tr(np.linalg.solve(r, _tr(q_bar + q @ sym)))


def qr_jvp(a, a_dot, y):
    """Tangents ``[q_dot, r_dot]`` of ``q, r = np.linalg.qr(a)`` along ``a_dot``."""
    q, r = y
    if np.shape(a)[-2] < np.shape(a)[-1]:
        _not_differentiable_here("s2sad differentiates np.linalg.qr(a) only for a tall or square a "
                                 "(m >= n)")
    da_rinv = _tr(np.linalg.solve(_tr(r), _tr(a_dot)))         # a_dot r^-1
    x = _tr(q) @ da_rinv
    omega = np.tril(x, -1) - _tr(np.tril(x, -1))
    q_dot = q @ omega + da_rinv - q @ x
    r_dot = (x - omega) @ r
    return [q_dot, r_dot]


__all__ += ["svd_vjp", "svd_jvp"]


def _svd_gaps(s):
    """``1 / (s_j^2 - s_i^2)`` off the diagonal, 0 on it; refuses repeated or zero singular
    values, where the singular vectors have no derivative."""
    n = np.shape(s)[-1]
    off = ~np.eye(n, dtype=bool)
    s2 = s * s
    gaps = np.expand_dims(s2, -2) - np.expand_dims(s2, -1)
    scale = np.max(s2, axis=-1, keepdims=True)[..., None] + 1.0
    if np.any(np.abs(gaps[..., off]) <= 1e-10 * scale[..., 0]) or np.any(s <= 1e-12 * np.sqrt(scale[..., 0, 0])):
        _not_differentiable_here("the singular vectors of np.linalg.svd have no derivative at repeated or "
                                 "zero singular values; use functions of the singular values only "
                                 "(np.linalg.svdvals)")
    return np.where(off, 1.0 / np.where(off, gaps, 1.0), 0.0)


def svd_vjp(g, a, y):
    """Adjoint of ``a`` in ``u, s, vh = np.linalg.svd(a, full_matrices=False)`` given
    ``g = [u_bar, s_bar, vh_bar]`` (distinct nonzero singular values)."""
    u, s, vh = y
    u_bar, s_bar, vh_bar = (np.zeros(np.shape(x)) if np.ndim(x_bar) == 0 else x_bar
                            for x_bar, x in zip(g, y))
    v, v_bar = _tr(vh), _tr(vh_bar)
    k = np.shape(s)[-1]
    middle = np.expand_dims(s_bar, -1) * np.eye(k)
    if np.any(u_bar != 0) or np.any(v_bar != 0):
        f = _svd_gaps(s)
        j = f * (_tr(u) @ u_bar)
        kk = f * (_tr(v) @ v_bar)
        sm = np.expand_dims(s, -2)            # multiplies columns by s
        middle = middle + (j + _tr(j)) * sm + np.expand_dims(s, -1) * (kk + _tr(kk))
        inv_s = 1.0 / s
        u_perp = u_bar - u @ (_tr(u) @ u_bar)
        v_perp = v_bar - v @ (_tr(v) @ v_bar)
        extra = (u_perp * np.expand_dims(inv_s, -2)) @ vh + u @ (_tr(v_perp * np.expand_dims(inv_s, -2)))
    else:
        extra = 0.0
    return u @ middle @ vh + extra


def svd_jvp(a, a_dot, y):
    """Tangents ``[u_dot, s_dot, vh_dot]`` of ``np.linalg.svd(a, full_matrices=False)``."""
    u, s, vh = y
    v = _tr(vh)
    p = _tr(u) @ a_dot @ v
    s_dot = np.diagonal(p, axis1=-2, axis2=-1)
    f = _svd_gaps(s)
    sr = np.expand_dims(s, -2)                # p * sr: p S
    sl = np.expand_dims(s, -1)                # sl * p: S p
    inv_s = np.expand_dims(1.0 / s, -2)
    u_dot = u @ (f * (p * sr + sl * _tr(p)))
    u_dot = u_dot + (a_dot @ v - u @ (_tr(u) @ a_dot @ v)) * inv_s
    v_dot = v @ (f * (sl * p + _tr(p) * sr))
    v_dot = v_dot + (_tr(a_dot) @ u - v @ (_tr(v) @ _tr(a_dot) @ u)) * inv_s
    return [u_dot, s_dot, _tr(v_dot)]


__all__ += ["svd_vectors", "svd_jvp_values", "triangle", "solve_triangular_dot"]


def svd_vectors(a):
    """``np.linalg.svd(a, full_matrices=False)`` as a list ``[u, s, vh]``."""
    return list(np.linalg.svd(a, full_matrices=False))


def svd_jvp_values(a, a_dot):
    """Tangent of the singular values of ``a`` along ``a_dot``: ``diag(u^T a_dot v)``."""
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    return np.diagonal(_tr(u) @ a_dot @ _tr(vh), axis1=-2, axis2=-1)


def triangle(m, lower):
    """The lower (``lower``) or upper triangle of ``m``."""
    return np.tril(m) if lower else np.triu(m)


def solve_triangular_dot(a, a_dot, x, trans=0, lower=False):
    """Tangent of ``x = solve_triangular(a, b, trans, lower)`` along ``a_dot``: ``-op(T)^-1 op(dT) x``."""
    dt = triangle(a_dot, lower)
    if trans:
        dt = _tr(dt)
    column = np.reshape(x, (np.shape(a)[-1], -1))
    return solve_triangular(a, -np.reshape(dt @ column, np.shape(x)), trans, lower)


__all__ += ["cho_solve", "cho_solve_vjp_c", "cho_solve_dot"]


def cho_solve(c_and_lower, b):
    """``scipy.linalg.cho_solve((c, lower), b)``: solves ``a x = b`` with ``a = L L^T``
    (``lower``; ``L`` read from ``c``'s lower triangle) or ``U^T U`` (the upper one)."""
    from scipy import linalg
    return linalg.cho_solve(tuple(c_and_lower), b)


def _cho_factor_matrix(c, lower):
    return np.tril(c) if lower else np.triu(c)


def cho_solve_vjp_c(g, c_and_lower, x, i):
    """Adjoint of ``c_and_lower[i]`` in ``x = cho_solve(c_and_lower, b)`` (``i`` is 0: the
    factor; the flag ``lower`` has none)."""
    c, lower = c_and_lower
    column = np.reshape(x, (np.shape(c)[-1], -1))
    b_bar = np.reshape(cho_solve(c_and_lower, g), np.shape(column))
    a_bar = -(b_bar @ column.T)
    sym = a_bar + a_bar.T
    t = _cho_factor_matrix(c, lower)
    return np.tril(sym @ t) if lower else np.triu(t @ sym)


def cho_solve_dot(c_and_lower, tangents, x, batch_dims=0):
    """Tangent of ``x = cho_solve((c, lower), b)`` along the factor's tangent (the first of
    ``tangents``, the pair's): ``-a^-1 da x`` with ``da = dL L^T + L dL^T`` (or ``dU^T U + U^T dU``)."""
    c, lower = c_and_lower
    c_dot = tangents[0] if isinstance(tangents, (tuple, list)) else tangents
    if np.ndim(c_dot) != np.ndim(c) + batch_dims:
        return np.zeros(np.shape(x)) if not batch_dims else 0.0
    if batch_dims:
        return np.stack([cho_solve_dot(c_and_lower, t, x) for t in c_dot])
    t, dt = _cho_factor_matrix(c, lower), _cho_factor_matrix(c_dot, lower)
    da = dt @ t.T + t @ dt.T if lower else dt.T @ t + t.T @ dt
    column = np.reshape(x, (np.shape(c)[-1], -1))
    return -np.reshape(cho_solve(c_and_lower, da @ column), np.shape(x))


__all__ += ["lstsq_vjp", "lstsq_jvp_a", "lstsq_jvp_b"]


def _lstsq_parts(a, b, y):
    """The pseudo-inverse of ``a``, the solution as a matrix, the residual matrix and whether
    residuals were returned, for ``y = np.linalg.lstsq(a, b)`` (full rank only)."""
    x, res, rank, _ = y
    if rank < min(np.shape(a)):
        _not_differentiable_here("np.linalg.lstsq has no derivative here: the matrix is rank "
                                 "deficient (its rank changes under a small change)")
    p = np.linalg.pinv(a)
    column = np.reshape(x, (np.shape(a)[-1], -1))
    r = np.reshape(b, (np.shape(a)[0], -1)) - a @ column
    return p, column, r, np.size(res) > 0


def lstsq_vjp(g, a, b, y, which):
    """Adjoint of ``a`` (``which="a"``) or ``b`` in ``x, res, rank, s = np.linalg.lstsq(a, b)``
    given ``g = [x_bar, res_bar, rank_bar, s_bar]``: ``x = pinv(a) b``; the residuals'
    derivative is ``2 r^T (db - da x)`` (``a^T r = 0``)."""
    x_bar, res_bar, _, s_bar = g
    p, column, r, has_res = _lstsq_parts(a, b, y)
    x_bar = np.reshape(x_bar, np.shape(column)) if np.ndim(x_bar) else np.zeros(np.shape(column))
    res_bar = np.reshape(res_bar, (1, -1)) if has_res and np.ndim(res_bar) else np.zeros((1, 1))
    if which == "b":
        return np.reshape(p.T @ x_bar + 2.0 * r * res_bar, np.shape(b))
    pt = p.T
    g_p = x_bar @ np.reshape(b, (np.shape(a)[0], -1)).T                # (n, m): adjoint of pinv(a)
    a_bar = (-(pt @ g_p @ pt) + (g_p.T @ p @ pt - a @ (p @ (g_p.T @ (p @ pt))))
             + (pt @ p @ g_p.T - pt @ (p @ (g_p.T @ (p @ a)))))
    a_bar = a_bar - 2.0 * (r * res_bar) @ column.T
    if np.ndim(s_bar):
        a_bar = a_bar + svd_vjp([0.0, s_bar, 0.0], a, svd_vectors(a))
    return a_bar


def lstsq_jvp_a(a, a_dot, b, y):
    """Tangents ``[x_dot, res_dot, 0, s_dot]`` of ``np.linalg.lstsq(a, b)`` along ``a_dot``."""
    p, column, r, has_res = _lstsq_parts(a, b, y)
    x, res = y[0], y[1]
    pt, dt = p.T, a_dot.T
    p_dot = (-(p @ a_dot @ p) + p @ pt @ dt - p @ (pt @ (dt @ (a @ p)))
             + dt @ pt @ p - p @ (a @ (dt @ (pt @ p))))
    x_dot = np.reshape(p_dot @ np.reshape(b, (np.shape(a)[0], -1)), np.shape(x))
    res_dot = np.reshape(-2.0 * np.sum(r * (a_dot @ column), axis=0), np.shape(res)) if has_res \
        else np.zeros(np.shape(res))
    return [x_dot, res_dot, 0.0, svd_jvp_values(a, a_dot)]


def lstsq_jvp_b(a, b, b_dot, y):
    """Tangents ``[x_dot, res_dot, 0, 0]`` of ``np.linalg.lstsq(a, b)`` along ``b_dot``."""
    p, column, r, has_res = _lstsq_parts(a, b, y)
    x, res, _, s = y
    x_dot = np.reshape(p @ np.reshape(b_dot, (np.shape(a)[0], -1)), np.shape(x))
    res_dot = np.reshape(2.0 * np.sum(r * np.reshape(b_dot, np.shape(r)), axis=0), np.shape(res)) \
        if has_res else np.zeros(np.shape(res))
    return [x_dot, res_dot, 0.0, np.zeros(np.shape(s))]


__all__ += ["meshgrid_vjp", "meshgrid_jvp"]


def _meshgrid_axes(n, indexing):
    """The axis of ``np.meshgrid``'s result each of its ``n`` inputs runs along."""
    axes = list(range(n))
    if indexing == "xy" and n >= 2:
        axes[0], axes[1] = 1, 0
    return axes


def meshgrid_vjp(g, xi, k, indexing="xy"):
    """Adjoint of input ``k`` of ``np.meshgrid(*xi, indexing)`` given the results' adjoints
    ``g`` (a list): result ``k``'s adjoint summed over every axis but input ``k``'s."""
    gk = g[k]
    if np.ndim(gk) == 0:
        return np.zeros(np.shape(xi[k]))
    axis = _meshgrid_axes(len(xi), indexing)[k]
    return np.reshape(np.sum(gk, axis=tuple(a for a in range(np.ndim(gk)) if a != axis)), np.shape(xi[k]))


def meshgrid_jvp(xi, tangents, indexing="xy", batch_dims=0):
    """Tangents of ``np.meshgrid(*xi, indexing)``: each input's tangent spread along the
    others' axes (a list; directions first in vector mode)."""
    n = len(xi)
    shape = [np.size(x) for x in xi]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    lead = next((np.shape(t)[:batch_dims] for t, x in zip(tangents, xi)
                 if np.ndim(t) == np.ndim(x) + batch_dims), ())
    out = []
    for t, x, axis in zip(tangents, xi, _meshgrid_axes(n, indexing)):
        if np.ndim(t) != np.ndim(x) + batch_dims:
            out.append(np.zeros(tuple(lead) + tuple(shape)))
            continue
        along = [1] * n
        along[axis] = -1
        t = np.reshape(t, tuple(lead) + tuple(along))
        out.append(np.array(np.broadcast_to(t, tuple(lead) + tuple(shape))))
    return out


def stop_gradient(x):
    """``x``'s value with no derivative: s2sad treats the result as a constant in both modes
    and at every order (``s2sad.stop_gradient``; a rule, ``nondifferentiable``).  An array is
    copied, so the result never aliases ``x``."""
    if isinstance(x, np.ndarray):
        return x.copy()
    return x
