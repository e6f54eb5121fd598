"""Helpers shared by the s2sad test-suite.

Everything here checks s2sad against *independent* numbers: central finite
differences computed directly from the user function, never against s2sad
itself.
"""
from __future__ import annotations

import numpy as np

import s2sad

__all__ = ["fd_directional", "check_grad", "assert_grad_like", "perturb", "fd_jvp", "fd_jacobian",
           "assert_close_tree"]


from s2sad.check import _is_python_float, fd_directional, fd_jvp, perturb  # noqa: F401 (re-exported)
from s2sad.check import map_out as _map_out
from s2sad.check import random_direction as _random_direction


def assert_grad_like(g, x, what="gradient"):
    """``g`` must have the shape and dtype of the argument ``x``:
    Python float argument -> float gradient; ndarray argument -> ndarray of
    the same shape and dtype (a 0-d argument may give a numpy 0-d array or a
    numpy scalar of that dtype)."""
    if _is_python_float(x):
        assert isinstance(g, float) and np.ndim(g) == 0, (
            f"{what}: argument is a Python float, expected a float gradient, "
            f"got {type(g).__name__} {g!r}")
        return
    x = np.asarray(x)
    assert np.shape(g) == x.shape, (
        f"{what}: shape {np.shape(g)} != argument shape {x.shape}")
    if x.ndim > 0:
        assert isinstance(g, np.ndarray), (
            f"{what}: expected an ndarray, got {type(g).__name__}")
    gd = np.asarray(g).dtype
    assert gd.kind == x.dtype.kind, (
        f"{what}: dtype kind {gd.kind!r} != argument dtype kind {x.dtype.kind!r}")
    assert gd == x.dtype, f"{what}: dtype {gd} != argument dtype {x.dtype}"


def _copy_arg(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    return a


def check_grad(f, *args, argnums=0, rtol=1e-5, atol=1e-7, optimize=True,
               seed=0, eps=1e-6):
    """Differentiate ``f`` with s2sad and check it against finite differences.

    * computes ``s2sad.grad(f, argnums=argnums, optimize=optimize)(*args)``;
    * an int ``argnums`` must give one gradient, a tuple must give a tuple of
      gradients in that order;
    * each gradient must have the shape/dtype of its argument;
    * for each differentiated argument, ``np.vdot(g, d)`` must match the
      central finite difference along a random direction ``d`` within
      ``atol + rtol * max(1, |fd|)``;
    * the arguments must not be mutated.

    Returns the gradient (or the tuple of gradients).
    """
    rng = np.random.default_rng(seed)
    originals = [_copy_arg(a) for a in args]

    dfun = s2sad.grad(f, argnums=argnums, optimize=optimize)
    result = dfun(*args)

    for a, o in zip(args, originals):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, o, err_msg="s2sad mutated an argument")

    if isinstance(argnums, int):
        nums = (argnums,)
        assert not isinstance(result, tuple), (
            "int argnums must give a single gradient, got a tuple")
        grads = (result,)
    else:
        nums = tuple(argnums)
        assert isinstance(result, tuple), (
            f"tuple argnums must give a tuple of gradients, got {type(result).__name__}")
        assert len(result) == len(nums), (
            f"expected {len(nums)} gradients, got {len(result)}")
        grads = result

    for k, (num, g) in enumerate(zip(nums, grads)):
        x = args[num]
        assert_grad_like(g, x, what=f"gradient w.r.t. argument {num}")
        d = _random_direction(x, rng)
        ad = float(np.vdot(np.asarray(g, dtype=np.float64),
                           np.asarray(d, dtype=np.float64)))
        fd = fd_directional(f, args, num, d, eps=eps)
        tol = atol + rtol * max(1.0, abs(fd))
        assert abs(ad - fd) <= tol, (
            f"argument {num}: <grad, d> = {ad!r} but finite difference = {fd!r} "
            f"(|diff| = {abs(ad - fd):.3g} > tol {tol:.3g}); optimize={optimize}")
    return result


# --------------------------------------------------------------------------
# forward mode and Jacobians: finite differences of vector-valued functions

def fd_jacobian(f, args, argnum, eps=1e-6):
    """The Jacobian of ``f`` with respect to ``args[argnum]`` by central differences,
    shaped ``out.shape + in.shape`` (a tuple of them for a tuple output)."""
    x = args[argnum]
    shape = np.shape(x)
    cols = []
    for j in range(int(np.prod(shape))):
        d = np.zeros(shape)
        d.flat[j] = 1.0
        d = float(d) if _is_python_float(x) else d
        tangents = [None] * len(args)
        tangents[argnum] = d
        cols.append(fd_jvp(f, args, tangents, eps))
    return _map_out(lambda *c: np.moveaxis(np.array(c), 0, -1).reshape(np.shape(c[0]) + shape), *cols)


def assert_close_tree(got, want, rtol=1e-5, atol=1e-7, what=""):
    """``got`` and ``want`` (numbers, arrays or tuples of them) agree in structure,
    shape and value."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), f"{what}: structure {got!r}"
        for k, (g, w) in enumerate(zip(got, want)):
            assert_close_tree(g, w, rtol, atol, f"{what}[{k}]")
        return
    assert np.shape(got) == np.shape(want), f"{what}: shape {np.shape(got)} != {np.shape(want)}"
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                               rtol=rtol, atol=atol, err_msg=what)


def load_function(source, directory, module_name, function="f"):
    """Write ``source`` to a file in ``directory`` and import ``function`` from it
    (s2sad reads a function's source from its file)."""
    import importlib.util
    path = directory / f"{module_name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function)
