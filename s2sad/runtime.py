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


def matmul_vjp_a(g, a, b):
    """Adjoint of ``a`` in ``a @ b`` for every combination of 1-D and 2-D+ operands."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return g * b
    if np.ndim(b) == 1:
        if np.ndim(a) == 1:
            return g * b
        return np.multiply.outer(g, b)
    if np.ndim(a) == 1:
        return b @ g
    return g @ np.swapaxes(b, -1, -2)


def matmul_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``a @ b`` for every combination of 1-D and 2-D+ operands."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return g * a
    if np.ndim(a) == 1:
        if np.ndim(b) == 1:
            return g * a
        return np.multiply.outer(a, g)
    if np.ndim(b) == 1:
        return np.swapaxes(a, -1, -2) @ g
    return np.swapaxes(a, -1, -2) @ g


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


def solve_vjp_a(g, a, y):
    """Adjoint of ``a`` in ``y = np.linalg.solve(a, b)``: ``-(a^-T g) y^T``."""
    b_bar = np.linalg.solve(np.swapaxes(a, -1, -2), g)
    if np.ndim(y) == 1:
        return -np.outer(b_bar, y)
    return -(b_bar @ np.swapaxes(y, -1, -2))


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
    "batch_matmul_b", "batch_solve", "batch_array", "batch_full", "batch_unbroadcast",
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


def batch_matmul_b(a, b_dot):
    """``a @ b_dot[k]`` for every direction ``k``."""
    if np.ndim(b_dot) == 2:                  # b is a vector
        return b_dot @ (np.swapaxes(a, -1, -2) if np.ndim(a) >= 2 else a)
    return a @ b_dot


def batch_solve(a, b_dot):
    """``np.linalg.solve(a, b_dot[k])`` for every direction ``k``."""
    if np.ndim(b_dot) == np.ndim(a):         # b is a vector (or a stack of them)
        return np.swapaxes(np.linalg.solve(a, np.swapaxes(b_dot, 0, -1)), 0, -1)
    return np.linalg.solve(a, b_dot)


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
