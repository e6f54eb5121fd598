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


def stop_gradient(x):
    """``x``'s value with no derivative: s2sad treats the result as a constant in both modes
    and at every order (``s2sad.stop_gradient``; a rule, ``nondifferentiable``).  An array is
    copied, so the result never aliases ``x``."""
    if isinstance(x, np.ndarray):
        return x.copy()
    return x
