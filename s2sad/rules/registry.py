"""The rule registry: how a derivative rule is written down and looked up.

A rule is one line.  Its *pattern* is a Python expression naming the
primitive and its parameters, with defaults for keyword parameters; each
keyword argument of ``vjp`` (``jvp``) is the adjoint (tangent) contribution of
the parameter of that name, as a Python expression::

    vjp("np.tanh(x)", x="y_bar * (1 - y * y)")
    jvp("np.tanh(x)", x="x_dot * (1 - y * y)")
    vjp("a * b", a="y_bar * b", b="y_bar * a", elementwise=True)

A parameter that takes a sequence (``np.stack(arrays)``) has a template per
element, using ``i`` for the element's position, used when the call site
passes a literal list or tuple; ``<param>_whole`` gives the adjoint of the
whole sequence as a list, used when it passes a list variable.  Any other
parameter given a literal list (``np.sum([a, b])``, ``np.array([[a, b], [c, d]])``)
sees the array NumPy makes of it: element ``k`` gets row ``k`` of its adjoint.

In a template, ``y`` is the primitive's result, ``y_bar`` its adjoint, a
parameter name stands for the argument passed, and ``<param>_dot`` for its
tangent.  Every other name refers to NumPy (``np``), ``math`` or a helper of
:mod:`s2sad.runtime`.  Patterns are

* a call of a NumPy / math / builtin function: ``"np.sum(x, axis=None)"``;
* an ndarray method: ``"x.sum(axis=None, keepdims=False)"``;
* an operator: ``"a + b"``, ``"-x"``;
* an attribute: ``"x.T"``.

``elementwise=True`` marks a broadcasting primitive: the transformer undoes
broadcasting of each contribution (``unbroadcast``), once, outside the rule.

A rule may add *cases*: cheaper templates that apply when the parameters'
``ndim`` are known (``ndim=(2, 1)``, in parameter order) or when keyword
parameters are given constants (``when=dict(axis=None)``; a type, ``axis=int``,
matches any constant of it)::

    vjp("a @ b", ndim=(2, 1), a="np.outer(y_bar, b)", b="a.T @ y_bar")

``batched=True`` (``jvp`` only) gives the templates of vector mode, where
each tangent has an extra leading axis (see :func:`jvp`)::

    jvp("np.sum(x, axis=None)", batched=True, x="np.sum(x_dot, axis=batch_axis(axis, x))")
"""
from __future__ import annotations

import ast
import builtins
import math
import sys
from dataclasses import dataclass, field

import numpy as np

from .. import runtime

# Output kinds, used by the transformers to pick the cheapest correct code.
ELEMENTWISE = "elementwise"   # scalar when every input is scalar, else array
SCALAR = "scalar"             # always a scalar (math functions, full reductions)
ARRAY = "array"               # an array, or unknown
SAME = "same"                 # the shape of the first argument (copy, astype, ...)

_PATTERN_NAMESPACE = {"np": np, "numpy": np, "math": math,
                      # the helpers generated code calls have rules too (closure under transformation)
                      **{name: getattr(runtime, name) for name in runtime.__all__}}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/",
           ast.Pow: "**", ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%"}
_UNARYOPS = {ast.USub: "-", ast.UAdd: "+"}


@dataclass
class Rule:
    """The derivative rules of one primitive (one key)."""
    key: object
    pattern: str
    params: list[str]
    defaults: dict[str, ast.expr]
    out: str = ARRAY
    vjp: dict[str, ast.expr] = field(default_factory=dict)
    jvp: dict[str, ast.expr] = field(default_factory=dict)
    vjp_whole: dict[str, ast.expr] = field(default_factory=dict)
    vjp_cases: list = field(default_factory=list)
    jvp_cases: list = field(default_factory=list)
    jvp_batched: dict = field(default_factory=dict)
    jvp_batched_cases: list = field(default_factory=list)
    jvp_whole: dict[str, ast.expr] = field(default_factory=dict)
    supported: dict[str, tuple] = field(default_factory=dict)   # parameter -> constants with a rule
    hints: dict[str, str] = field(default_factory=dict)         # parameter -> hint of its refusal
    notes: str = ""                 # non-smooth points, conventions (docs/rules.md)

    def __post_init__(self):
        # the templates are parsed on first use of the rule (importing s2sad parses none):
        # until then they wait in _pending, and the fields holding them are unset
        self._pending = []
        for name in _TEMPLATE_FIELDS:
            del self.__dict__[name]

    def __getattr__(self, name):
        # only reached for an unset field: a template field before the rule's first use
        if name not in _TEMPLATE_FIELDS or "_pending" not in self.__dict__:
            raise AttributeError(name)
        self._parse_pending()
        return self.__dict__[name]

    def _parse_pending(self) -> None:
        """Parse the templates registered so far, in their order of registration."""
        for name in _TEMPLATE_FIELDS:
            self.__dict__[name] = [] if name.endswith("_cases") else {}
        pending, self._pending = self._pending, None
        for args in pending:
            _add_templates(self, *args)

    def templates(self, mode: str, bound: dict, ndim_of) -> dict:
        """The templates of ``mode`` ("vjp", "jvp", "jvp_batched") for one call site.

        ``bound`` maps parameters to call-site atoms; ``ndim_of(atom)`` gives a
        known ndim or None.  The first matching case overrides the general templates.
        """
        general = getattr(self, mode)
        for case in getattr(self, mode + "_cases"):
            if case.matches(self, bound, ndim_of):
                return {**general, **case.templates}
        return general

    def takes_sequence(self, param: str) -> bool:
        """True when ``param`` takes a list of arrays (``np.stack(arrays)``): its adjoint
        template writes element ``i``'s part.  Other parameters given a list
        (``np.sum([a, b])``) see the array NumPy makes of it."""
        template = self.vjp.get(param)
        return template is not None and any(isinstance(n, ast.Name) and n.id == "i"
                                            for n in ast.walk(template))

    @property
    def elementwise(self) -> bool:
        return self.out == ELEMENTWISE


@dataclass
class Case:
    """Templates that apply only for some ndims or constant keyword values."""
    ndim: tuple | None
    when: dict | None
    templates: dict

    def matches(self, rule, bound, ndim_of) -> bool:
        if self.ndim is not None:
            positional = [p for p in rule.params if not p.startswith("*")][:len(self.ndim)]
            for p, nd in zip(positional, self.ndim):
                atom = bound.get(p)
                if atom is None or isinstance(atom, (ast.Tuple, ast.List)):
                    return False
                actual = ndim_of(atom)
                if nd == "+" and (actual is None or actual < 1):
                    return False
                if nd != "+" and actual != nd:
                    return False
        for p, value in (self.when or {}).items():
            atom = bound.get(p)
            if isinstance(value, type):          # any constant of that type (axis=int)
                if not isinstance(atom, ast.Constant) or not isinstance(atom.value, value) \
                        or isinstance(atom.value, bool):
                    return False
            elif not isinstance(atom, ast.Constant) or atom.value != value \
                    or type(atom.value) is not type(value):
                return False
        return True


RULES: dict[object, Rule] = {}
NONDIFFERENTIABLE: set = set()


def key_of_pattern(pattern: str, function=None):
    """The lookup key of a pattern and its parameters and defaults (``function``: the
    object the pattern's call names, for functions outside NumPy and math)."""
    node = ast.parse(pattern, mode="eval").body
    if isinstance(node, ast.BinOp):
        return ("op", _BINOPS[type(node.op)]), [node.left.id, node.right.id], {}
    if isinstance(node, ast.UnaryOp):
        return ("op", "unary" + _UNARYOPS[type(node.op)]), [node.operand.id], {}
    if isinstance(node, ast.Attribute):
        return ("attr", node.attr), [node.value.id], {}
    if not isinstance(node, ast.Call):
        raise ValueError(f"bad rule pattern {pattern!r}")
    # a starred parameter ("x.reshape(*shape)") collects the remaining positional arguments
    params = ["*" + a.value.id if isinstance(a, ast.Starred) else a.id for a in node.args]
    defaults = {kw.arg: kw.value for kw in node.keywords}
    params += [kw.arg for kw in node.keywords]
    func = node.func
    if function is not None:
        return function, params, defaults
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
            and func.value.id not in _PATTERN_NAMESPACE:
        # "x.sum(axis=None)": an ndarray method; the receiver is the first parameter
        return ("method", func.attr), [func.value.id] + params, defaults
    if isinstance(func, ast.Name) and func.id not in _PATTERN_NAMESPACE:
        return getattr(builtins, func.id), params, defaults
    return eval(compile(ast.Expression(func), pattern, "eval"), dict(_PATTERN_NAMESPACE)), params, defaults


def _rule(pattern: str, out: str | None, function=None) -> Rule:
    key, params, defaults = key_of_pattern(pattern, function)
    rule = RULES.get(key)
    if rule is None:
        rule = RULES[key] = Rule(key, pattern, params, defaults)
    if out is not None:
        rule.out = out
    return rule


def _templates(rule: Rule, templates: dict[str, str]) -> dict[str, ast.expr]:
    parsed = {}
    for name, text in templates.items():
        if name not in rule.params and "*" + name not in rule.params:
            raise ValueError(f"rule {rule.pattern!r} has no parameter {name!r}")
        parsed[name] = ast.parse(text, mode="eval").body
    return parsed


_TEMPLATE_FIELDS = ("vjp", "jvp", "vjp_whole", "vjp_cases", "jvp_cases", "jvp_batched",
                    "jvp_batched_cases", "jvp_whole")


def _register(mode, pattern, elementwise, out, ndim, when, templates, function=None):
    rule = _rule(pattern, ELEMENTWISE if elementwise else out, function)
    for name in templates:                 # a misnamed parameter is an error now, not on first use
        base = name[:-len("_whole")] if name.endswith("_whole") else name
        if base not in rule.params and "*" + base not in rule.params:
            raise ValueError(f"rule {rule.pattern!r} has no parameter {base!r}")
    if rule._pending is not None and _from_own_rules():
        rule._pending.append((mode, ndim, when, templates))
    else:           # a user's rule (a typo in it is a SyntaxError now), or one after first use
        _add_templates(rule, mode, ndim, when, templates)


def _from_own_rules() -> bool:
    """Whether ``vjp``/``jvp`` was called by one of s2sad's own rule modules (whose
    templates the tests parse): only those wait for their rule's first use."""
    caller = sys._getframe(3).f_globals.get("__name__", "")     # _register <- vjp <- caller
    return caller.startswith(__package__ + ".")


def _add_templates(rule, mode, ndim, when, templates) -> None:
    whole = {k[:-len("_whole")]: v for k, v in templates.items() if k.endswith("_whole")}
    templates = {k: v for k, v in templates.items() if not k.endswith("_whole")}
    if whole:
        getattr(rule, mode + "_whole").update(_templates(rule, whole))
    parsed = _templates(rule, templates)
    if ndim is None and when is None:
        getattr(rule, mode).update(parsed)
    else:
        getattr(rule, mode + "_cases").append(Case(tuple(ndim) if ndim else None, when, parsed))


def vjp(pattern: str, *, elementwise: bool = False, out: str | None = None,
        ndim: tuple | None = None, when: dict | None = None, function=None, **templates: str) -> None:
    """Register the adjoint contributions of a primitive's parameters.

    For a function outside NumPy and math, pass it: ``vjp("expit(x)",
    function=scipy.special.expit, x="y_bar * y * (1.0 - y)")``.
    """
    _register("vjp", pattern, elementwise, out, ndim, when, templates, function)


def supported(pattern: str, *, function=None, hint: str | None = None, **values: tuple) -> None:
    """Declare the only constant values a parameter may take for the rule to hold (other values,
    or a value not known when transforming, are refused at the call's line)::

        supported("np.linalg.norm(x, ord=None, axis=None, keepdims=False)", ord=(None, 2, "fro"))

    Types instead of values (``subscripts=(str,)``) refuse a parameter surely of another type
    (a constant, a module value, a differentiated local or an array); ``hint`` goes with the
    refusal.
    """
    rule = _rule(pattern, None, function)
    for name, allowed in values.items():
        if name not in rule.params:
            raise ValueError(f"rule {rule.pattern!r} has no parameter {name!r}")
        rule.supported[name] = tuple(allowed)
        if hint is not None:
            rule.hints[name] = hint


def note(pattern: str, text: str) -> None:
    """Say where a rule's function is not smooth and which convention the rule takes there
    (one line of docs/rules.md)."""
    rule = _rule(pattern, None)
    rule.notes = f"{rule.notes}; {text}" if rule.notes else text


def jvp(pattern: str, *, elementwise: bool = False, out: str | None = None,
        ndim: tuple | None = None, when: dict | None = None, batched: bool = False,
        function=None, **templates: str) -> None:
    """Register the tangent contributions of a primitive's parameters.

    ``batched=True`` registers the templates of *vector mode* (``jacfwd``):
    there every tangent carries one extra leading axis, one row per direction.
    Elementwise and scalar rules need none (their templates broadcast over
    that axis as written); reductions, products, indexing and reshapes do.
    """
    _register("jvp_batched" if batched else "jvp", pattern, elementwise, out, ndim, when, templates,
              function)


INPLACE: dict = {}
LIST_VALUED: set = set()
LIST_VALUED_FUNCTIONS: list = []      # the functions the names resolve to (any spelling of a call)


def list_valued(*names: str) -> None:
    """Functions generated code calls whose result is a Python list (a list's adjoint or
    tangent, one entry per element): the transformers give such a name a list
    derivative, which is indexed, popped and added (``add_lists``) as a list, never
    concatenated with ``+``.  A user's call is recognised by the function it resolves to
    (``from numpy.linalg import eigh``, ``la.eigh``), not only by these names."""
    LIST_VALUED.update(names)
    for name in names:
        value = eval(name, dict(_PATTERN_NAMESPACE))
        if not any(value is f for f in LIST_VALUED_FUNCTIONS):
            LIST_VALUED_FUNCTIONS.append(value)


def is_list_valued(value) -> bool:
    """Whether ``value`` (a resolved callee) is one of the functions ``list_valued`` names."""
    return any(value is f for f in LIST_VALUED_FUNCTIONS)


def inplace(pattern: str, **templates: str) -> None:
    """A function generated code calls for its effect on its first argument
    (``accumulate_at(x_bar, index, g)``: ``x_bar[index] += g``).  Forward mode
    repeats the call on the tangents (``accumulate_at(x_bar_dot, index, g_dot)``);
    reverse mode gives each other parameter the adjoint contribution its template
    names, where ``y_bar`` is the adjoint of the first argument (which the call
    leaves unchanged: the first argument's adjoint passes through)."""
    key, params, _ = key_of_pattern(pattern)
    rule = Rule(key, pattern, params, {})
    rule.vjp.update(_templates(rule, templates))
    INPLACE[key] = (pattern.split("(")[0], params, rule)


def nondifferentiable(*patterns) -> None:
    """Functions, methods and attributes whose result is piecewise constant
    or not a number (``np.floor``, ``len``, ``x.shape``): their outputs carry no derivative."""
    for pattern in patterns:
        if not isinstance(pattern, str):         # a function object
            NONDIFFERENTIABLE.add(pattern)
        elif pattern.startswith("."):
            NONDIFFERENTIABLE.add(("attr", pattern[1:]))
            NONDIFFERENTIABLE.add(("method", pattern[1:]))
        elif pattern in dir(builtins):
            NONDIFFERENTIABLE.add(getattr(builtins, pattern))
        else:
            NONDIFFERENTIABLE.add(eval(pattern, dict(_PATTERN_NAMESPACE)))


REFUSED: dict = {}


def refuse(*patterns: str, hint: str, always: bool = False) -> None:
    """Functions and methods no rule can differentiate exactly and no zero derivative fits
    (``str``: ``float(str(x))`` is ``x``): a call whose result depends on a differentiated
    input and reaches the output is refused with UnsupportedSyntaxError; ``always``: any call
    is refused (``eval`` reads any local by name)."""
    for pattern in patterns:
        if pattern.startswith("."):
            key = ("method", pattern[1:])
        elif pattern in dir(builtins):
            key = getattr(builtins, pattern)
        else:
            key = eval(pattern, dict(_PATTERN_NAMESPACE))
        REFUSED[key] = (hint, always)


def refused(key):
    """``(hint, always)`` when calls of ``key`` are refused, else None."""
    try:
        return REFUSED.get(key)
    except TypeError:
        return None


def lookup(key) -> Rule | None:
    """The rule registered for ``key``, or None."""
    try:
        return RULES.get(key)
    except TypeError:      # unhashable callables have no rules
        return None


def is_nondifferentiable(key) -> bool:
    try:
        return key in NONDIFFERENTIABLE
    except TypeError:
        return False
