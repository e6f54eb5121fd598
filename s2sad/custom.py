"""``s2sad.custom_vjp`` and ``s2sad.custom_jvp``: a user's own derivative for a function of
theirs, with JAX's names and calling conventions::

    @s2sad.custom_vjp
    def f(x, y): ...
    f.defvjp(f_fwd, f_bwd)       # f_fwd(x, y) -> (f(x, y), residuals); f_bwd(residuals, g) -> (x_bar, y_bar)

    @s2sad.custom_jvp
    def g(x): ...
    @g.defjvp                    # g_jvp((x,), (x_dot,)) -> (g(x), tangent)
    def g_jvp(primals, tangents): ...

Each registers an ordinary rule (:mod:`s2sad.rules.registry`) for the decorated object, whose
templates call the user's functions through :func:`s2sad.runtime.custom_vjp_part` and
:func:`s2sad.runtime.custom_jvp_part`; the function's own body is never differentiated.  A
mode without a custom rule is refused when transforming, like any function without a rule.
"""
from __future__ import annotations

import ast
import functools
import inspect

from . import runtime
from .rules import registry


# custom rules give first derivatives: differentiating a derivative that calls one is refused
registry.nondifferentiable("custom_vjp_part", "custom_jvp_part")
registry.refuse("custom_vjp_part", "custom_jvp_part",
                hint="custom_vjp / custom_jvp rules give first derivatives only")


class _Custom:
    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.ident = None

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **kwargs)

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def _pattern(self):
        """The rule pattern of the function's signature: its parameter names, constant defaults."""
        params, shown = [], []
        for p in inspect.signature(self.fun).parameters.values():
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                raise TypeError(f"s2sad.{type(self).__name__}: {self.__name__} takes *args, **kwargs or "
                                f"keyword-only parameters; give it plain positional parameters")
            if p.name in ("y", "y_bar", "i") or p.name.endswith(("_dot", "_bar")):
                raise TypeError(f"s2sad.{type(self).__name__}: rename parameter {p.name!r} of "
                                f"{self.__name__} (rule templates use that name)")
            if p.default is p.empty:
                shown.append(p.name)
            else:
                text = repr(p.default)
                try:
                    ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    raise TypeError(f"s2sad.{type(self).__name__}: the default of {p.name!r} in "
                                    f"{self.__name__} is not a constant") from None
                shown.append(f"{p.name}={text}")
            params.append(p.name)
        if self.ident is None:
            self.ident = runtime.register_custom_rule(self)
        return f"{self.__name__}({', '.join(shown)})", params


class custom_vjp(_Custom):
    """A function with a user-given reverse-mode rule: ``f.defvjp(fwd, bwd)``."""

    def defvjp(self, fwd, bwd):
        pattern, params = self._pattern()
        self.fwd, self.bwd = fwd, bwd
        args = ", ".join(params)
        registry.vjp(pattern, function=self,
                     **{p: f"custom_vjp_part({self.ident}, {i}, y_bar, {args})" for i, p in enumerate(params)})
        return self


class custom_jvp(_Custom):
    """A function with a user-given forward-mode rule: ``f.defjvp(jvp)`` (a decorator too)."""

    def defjvp(self, jvp):
        pattern, params = self._pattern()
        self.jvp = jvp
        args = ", ".join(params)
        registry.jvp(pattern, function=self,
                     **{p: f"custom_jvp_part({self.ident}, {i}, {p}_dot, {args})" for i, p in enumerate(params)})
        registry.jvp(pattern, function=self, batched=True,
                     **{p: f"each_direction(custom_jvp_part, 2, {self.ident}, {i}, {p}_dot, {args})"
                        for i, p in enumerate(params)})
        return jvp
