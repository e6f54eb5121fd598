"""The oracle for generated programs (tests/test_random_programs.py,
tests/test_random_array_programs.py, tests/sweeps/sweep.py).

A program passes when, in every mode (``grad``, ``value_and_grad``, ``jvp`` and, for
a program that is smooth at the point, ``hessian``; optimized and not), either

* the derivative matches central finite differences of the program itself, or
* s2sad raises an ``S2SADError`` that names a line of the program's file, before any
  of the program's code has run (a profiler hook watches calls into the file).

Anything else is a failure: a wrong value (``Wrong``), an exception that is not an
``S2SADError`` or a refusal at the wrong place (``Bare``).  A program that writes into
its own argument must be refused (the derivative would change the caller's data).
"""
from __future__ import annotations

import os
import re
import sys

import numpy as np

import s2sad
from s2sad.errors import NotDifferentiableError, S2SADError

AGREE, REFUSED, SKIPPED = "agree", "refused", "skipped"

# definitions the generated programs with effects call: decorated helpers (one decorator
# changes the value, one does not), a helper that writes into its argument, a bound
# method, a staticmethod and a classmethod
EFFECT_HEADER = """import functools


def doubles(fn):
    @functools.wraps(fn)
    def wrapper(v):
        return 2.0 * fn(v)
    return wrapper


def keeps(fn):
    @functools.wraps(fn)
    def wrapper(v):
        return fn(v)
    return wrapper


@doubles
def doubled(v):
    return np.sin(v) * v


@keeps
def shifted(v):
    return v + 0.5 * v * v


def zero_first(a):
    a[0] = 0.0


class Scaler:
    def __init__(self, k):
        self.k = k

    def scale(self, v):
        return self.k * v * v


class Ops:
    factor = 1.5

    @staticmethod
    def square(v):
        return v * v

    @classmethod
    def affine(cls, v):
        return cls.factor * v + 1.0


SCALER = Scaler(0.7)
"""

NONSMOOTH = ("np.abs", "np.maximum", "np.where", "np.max(", "if ", "while ", ".sort()", "break",
             "continue", "helper(", "int(", "round(")


def smooth_source(source):
    """Whether a generated program is smooth everywhere (no branch, kink or sort):
    only then is its Hessian checked."""
    body = source[source.index("def f("):]
    return not any(token in body for token in NONSMOOTH)


class Failure(AssertionError):
    """A program the oracle rejects; ``kind`` is "wrong" or "bare"."""

    def __init__(self, kind, mode, detail):
        self.kind, self.mode, self.detail = kind, mode, detail
        super().__init__(f"{kind} in {mode}: {detail}")


class Wrong(Failure):
    def __init__(self, mode, detail):
        super().__init__("wrong", mode, detail)


class Bare(Failure):
    def __init__(self, mode, detail):
        super().__init__("bare", mode, detail)


class CallWatcher:
    """Records calls into one source file while active (sys.setprofile)."""

    def __init__(self, filename):
        self.filename = os.path.abspath(filename)
        self.calls = []

    def __enter__(self):
        self._old = sys.getprofile()

        def hook(frame, event, arg):
            if event == "call" and os.path.abspath(frame.f_code.co_filename) == self.filename:
                self.calls.append(frame.f_code.co_name)
        sys.setprofile(hook)
        return self

    def __exit__(self, *exc):
        sys.setprofile(self._old)
        return False


def _copy(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def _same(a, b):
    return all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y for x, y in zip(a, b))


def _move(args, directions, step):
    return [a + step * d if isinstance(a, np.ndarray) else float(a) + step * float(d)
            for a, d in zip(args, directions)]


def _value(f, args):
    with np.errstate(all="ignore"):
        return f(*_copy(args))


def _close(got, want, rtol):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape != want.shape:
        return False
    return bool(np.all(np.abs(got - want) <= 1e-7 + rtol * max(1.0, float(np.max(np.abs(want), initial=0)))))


def _stable_fd(f, args, directions):
    """Central difference along ``directions``, or None where the function is not
    smooth within the step (a branch, max or where flips)."""
    value = _value(f, args)
    fd1 = (_value(f, _move(args, directions, 1e-6)) - _value(f, _move(args, directions, -1e-6))) / 2e-6
    fd2 = (_value(f, _move(args, directions, 1e-7)) - _value(f, _move(args, directions, -1e-7))) / 2e-7
    forward = (_value(f, _move(args, directions, 1e-6)) - value) / 1e-6
    backward = (value - _value(f, _move(args, directions, -1e-6))) / 1e-6
    scale = max(1.0, abs(fd1))
    if not np.isfinite(fd1) or abs(fd1 - fd2) > 1e-4 * scale or abs(forward - backward) > 1e-3 * scale:
        return None
    return float(fd1)


def _mixed_second(f, args, i, d, e, h):
    def at(a, b):
        moved = list(args)
        moved[i] = args[i] + a * d + b * e if isinstance(args[i], np.ndarray) else \
            float(args[i]) + a * float(d) + b * float(e)
        return float(_value(f, moved))
    return (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)


def _refusal(err, mode, filename, watch):
    """A refusal is acceptable when it names the program's file and nothing of the
    program ran before it."""
    if watch.calls:
        raise Bare(mode, f"{type(err).__name__} only after the program's code ran "
                         f"({watch.calls[:3]}): {err}")
    if not isinstance(err, NotDifferentiableError) and os.path.basename(filename) not in str(err):
        raise Bare(mode, f"{type(err).__name__} does not name the program's file: "
                         f"{str(err).splitlines()[0]}")
    if not re.search(r":\d+", str(err)) and not isinstance(err, NotDifferentiableError):
        raise Bare(mode, f"{type(err).__name__} names no line: {err}")
    return REFUSED


def _attempt(mode, filename, thunk):
    """Run ``thunk`` (build and run a derivative); None when it was refused properly."""
    with CallWatcher(filename) as watch:
        try:
            return thunk()
        except S2SADError as err:
            _refusal(err, mode, filename, watch)
            return None
        except Failure:
            raise
        except Exception as err:                      # noqa: BLE001 - the point of the oracle
            raise Bare(mode, f"{type(err).__name__}: {err}") from err


def check_program(f, args, filename, rng, smooth=True, modes=("grad", "value_and_grad", "jvp",
                                                                  "hessian")):
    """Check one generated program ``f`` at ``args`` (floats and float arrays, all
    differentiated).  Returns AGREE, REFUSED (some mode refused properly, the others
    agree) or SKIPPED (the program does not run or is not finite at the point);
    raises ``Wrong`` or ``Bare``."""
    args = list(args)
    originals = _copy(args)
    try:
        value = _value(f, args)
    except Exception:                                 # noqa: BLE001 - the program itself fails
        return SKIPPED
    if not _same(args, originals):
        raise AssertionError("the oracle's copies leaked")
    mutates = False
    with np.errstate(all="ignore"):
        probe = _copy(args)
        f(*probe)
        mutates = not _same(probe, originals)
    if np.ndim(value) != 0 or not np.isfinite(value) or abs(value) > 1e6:
        return SKIPPED
    directions = [rng.standard_normal(np.shape(a)) if isinstance(a, np.ndarray) else float(rng.standard_normal())
                  for a in args]
    fd = _stable_fd(f, args, directions)
    nums = tuple(range(len(args)))
    outcome = AGREE

    def expect_unchanged(mode, call_args):
        if not _same(call_args, originals):
            raise Wrong(mode, "the derivative changed its arguments")

    for optimize in (True, False):
        tag = "optimized" if optimize else "unoptimized"
        if "grad" in modes:
            call_args = _copy(args)
            grads = _attempt(f"grad ({tag})", filename,
                             lambda: s2sad.grad(f, argnums=nums, optimize=optimize)(*call_args))
            if grads is None:
                outcome = REFUSED
            else:
                if mutates:
                    raise Wrong(f"grad ({tag})", "a program that writes into its argument was not refused")
                expect_unchanged(f"grad ({tag})", call_args)
                for g, a in zip(grads, call_args):
                    if isinstance(g, np.ndarray) and np.shares_memory(g, a):
                        raise Wrong(f"grad ({tag})", "a gradient shares memory with its argument")
                got = sum(float(np.vdot(g, d)) for g, d in zip(grads, directions))
                if fd is not None and not _close(got, fd, 1e-5):
                    raise Wrong(f"grad ({tag})", f"<grad, d> = {got!r}, finite difference {fd!r}")
                again = s2sad.grad(f, argnums=nums, optimize=optimize)(*_copy(args))
                if not _close(sum(float(np.vdot(g, d)) for g, d in zip(again, directions)), got, 1e-12):
                    raise Wrong(f"grad ({tag})", "a second call of the same derivative disagrees")
        if "value_and_grad" in modes:
            call_args = _copy(args)
            result = _attempt(f"value_and_grad ({tag})", filename,
                              lambda: s2sad.value_and_grad(f, argnums=nums, optimize=optimize)(*call_args))
            if result is None:
                outcome = REFUSED
            else:
                v, grads = result
                expect_unchanged(f"value_and_grad ({tag})", call_args)
                if not _close(v, value, 1e-9):
                    raise Wrong(f"value_and_grad ({tag})", f"value {v!r}, the program gives {value!r}")
                got = sum(float(np.vdot(g, d)) for g, d in zip(grads, directions))
                if fd is not None and not _close(got, fd, 1e-5):
                    raise Wrong(f"value_and_grad ({tag})", f"<grad, d> = {got!r}, finite difference {fd!r}")
        if "jvp" in modes:
            call_args = _copy(args)
            result = _attempt(f"jvp ({tag})", filename,
                              lambda: s2sad.jvp(f, tuple(call_args), tuple(directions), optimize=optimize))
            if result is None:
                outcome = REFUSED
            else:
                if mutates:
                    raise Wrong(f"jvp ({tag})", "a program that writes into its argument was not refused")
                v, tangent = result
                expect_unchanged(f"jvp ({tag})", call_args)
                if not _close(v, value, 1e-9):
                    raise Wrong(f"jvp ({tag})", f"value {v!r}, the program gives {value!r}")
                if fd is not None and not _close(tangent, fd, 1e-5):
                    raise Wrong(f"jvp ({tag})", f"tangent {float(tangent)!r}, finite difference {fd!r}")
        if "hessian" in modes and smooth and fd is not None:
            call_args = _copy(args)
            H = _attempt(f"hessian ({tag})", filename,
                         lambda: s2sad.hessian(f, argnums=0, optimize=optimize)(*call_args))
            if H is None:
                outcome = REFUSED
                continue
            x = args[0]
            d, e = rng.standard_normal(np.shape(x)), rng.standard_normal(np.shape(x))
            if not isinstance(x, np.ndarray):
                d, e = float(d), float(e)
            n = int(np.size(x))
            if np.shape(H) != np.shape(x) * 2:
                raise Wrong(f"hessian ({tag})", f"shape {np.shape(H)} for an argument of shape {np.shape(x)}")
            got = float(np.ravel(d) @ np.asarray(H, dtype=float).reshape(n, n) @ np.ravel(e))
            want1 = _mixed_second(f, args, 0, d, e, 1e-4)
            want2 = _mixed_second(f, args, 0, d, e, 2e-4)
            if abs(want1 - want2) > 1e-3 * max(1.0, abs(want1)):
                continue                              # not smooth within the step
            if not abs(got - want1) <= 1e-5 + 1e-4 * max(1.0, abs(want1)):
                raise Wrong(f"hessian ({tag})", f"d'He = {got!r}, mixed difference {want1!r}")
    return outcome


def seed_sample(seeds, failures, effects):
    """pytest parameters for a fixed sample of generator seeds; a seed in ``failures`` is a
    strict xfail with its reason (so a fix flips it)."""
    import pytest
    return [pytest.param(s, effects, marks=[pytest.mark.xfail(strict=True, reason=failures[s])]
                         if s in failures else [], id=f"{'effects' if effects else 'plain'}-{s}")
            for s in seeds]
