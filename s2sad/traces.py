"""``s2sad.trace(f)(*args)``: the evaluation traces of the lectures, from the three-address form.

The forward primal trace (``v1 = ln(v-1) = 0.693``), then the forward tangent trace
(``mode="forward"``: ``v1_dot = v-1_dot / v-1 = 0.5``) or the reverse adjoint trace
(``mode="reverse"``: ``v0_bar = v3_bar * cos(v0) = -0.284``), one row per assignment as
it ran.  The rows come from running s2sad's unoptimized derivative program with every
assignment recorded, so they are exactly what the derivative computes, statement by
statement (branches as taken, loops unrolled as they ran).

Names: ``style="lecture"`` (default) calls the n inputs v(1-n) ... v0 and every value
computed after them v1, v2, ... in order; ``style="names"`` keeps the names of the
three-address form (``t1``, ``x1_bar``), as the reverse trace of a function with a loop
always does (one loop variable's adjoint spans its iterations).
"""
from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass

import numpy as np

from .errors import ArgumentError, NotDifferentiableError

__all__ = ["trace", "Trace", "Row"]

_ADJOINT = re.compile(r"^(.*)_bar(_\d+)?$")
_TANGENT = re.compile(r"^(.*)_dot(_\d+)?$")
_RECORD = "__s2sad_record__"
# how a call reads in a trace: the lecture's names for the elementary functions
_SHORT = {"log": "ln"}


@dataclass
class Row:
    """One line of a trace: ``name = expression = value`` in section ``section``
    (``"primal"``, ``"tangent"`` or ``"adjoint"``)."""
    section: str
    name: str
    expression: str
    value: object

    @property
    def shown(self) -> str:
        """The value as the table prints it (3 decimals, trailing zeros dropped)."""
        return _show(self.value)


def _show(value) -> str:
    if np.ndim(value) == 0:
        try:
            v = float(value)
        except (TypeError, ValueError):
            return repr(value)
        text = f"{v:.3f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    a = np.asarray(value)
    return np.array2string(a, precision=3, threshold=6, separator=", ").replace("\n", "")


_TITLES = {"primal": "Forward primal trace", "tangent": "Forward tangent trace",
           "adjoint": "Reverse adjoint trace"}


class Trace:
    """The rows of a trace (``.rows``); ``str(trace)`` is the table."""

    def __init__(self, function_name: str, rows: list):
        self.function_name = function_name
        self.rows = rows

    def section(self, name: str) -> list:
        return [r for r in self.rows if r.section == name]

    def __str__(self) -> str:
        lines = []
        for section in ("primal", "tangent", "adjoint"):
            rows = self.section(section)
            if not rows:
                continue
            width = max(len(f"{r.name} = {r.expression}") for r in rows)
            lines.append(f"{_TITLES[section]} of {self.function_name}")
            for r in rows:
                left = f"{r.name} = {r.expression}" if r.expression != r.shown else r.name
                lines.append(f"    {left:<{width}} = {r.shown}")
            lines.append("")
        return "\n".join(lines).rstrip("\n")

    def __repr__(self) -> str:
        return f"<s2sad.Trace of {self.function_name}: {len(self.rows)} rows>"


class _Instrument(ast.NodeTransformer):
    """After every assignment to names, a call recording their values."""

    def __init__(self):
        self.sites = []                 # site number -> (target names, rhs AST, section)
        self.section = "primal"

    def _block(self, body):
        out = []
        for stmt in body:
            if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                    and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == "__comment__"):
                text = stmt.value.args[0].value
                self.section = "reverse" if text == "reverse sweep" else "primal"
                out.append(stmt)
                continue
            stmt = self.visit(stmt)
            out.append(stmt)
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                names = ([target.id] if isinstance(target, ast.Name) else
                         [e.id for e in target.elts if isinstance(e, ast.Name)]
                         if isinstance(target, ast.Tuple) else [])
                if names:
                    self.sites.append((names, stmt.value, self.section))
                    site = len(self.sites) - 1
                    out.append(ast.Expr(ast.Call(
                        func=ast.Name(_RECORD, ast.Load()),
                        args=[ast.Constant(site), ast.Tuple([ast.Name(n, ast.Load()) for n in names],
                                                             ast.Load())], keywords=[])))
        return out

    def generic_visit(self, node):
        for field in ("body", "orelse"):
            if isinstance(getattr(node, field, None), list) and not isinstance(node, ast.FunctionDef):
                setattr(node, field, self._block(getattr(node, field)))
        return node

    def run(self, tree):
        tree.body = self._block(tree.body)
        return ast.fix_missing_locations(tree)


class _Renderer:
    """Turns recorded assignments into rows, naming values as the chosen style says."""

    def __init__(self, params, wrt, style):
        self.style = style
        self.label = {}                  # program name -> its label now
        self.history = {}                # program name -> [(value, label)] in the order assigned
        self.count = 0
        n = len(params)
        for k, p in enumerate(params):
            self.label[p] = f"v{k + 1 - n}" if style == "lecture" else p
        self.wrt = wrt

    def name_of(self, name: str) -> str:
        for pattern, suffix in ((_ADJOINT, "_bar"), (_TANGENT, "_dot")):
            m = pattern.match(name)
            if m and self.style == "lecture":
                return self.name_of(m.group(1)) + suffix
        return self.label.get(name, name)

    def expression(self, rhs, value) -> str:
        renderer = self

        class Rename(ast.NodeTransformer):
            def visit_Name(self, node):
                return ast.Name(renderer.name_of(node.id), ast.Load())

            def visit_Call(self, node):
                self.generic_visit(node)
                func = node.func
                if isinstance(func, ast.Name) and func.id == "unbroadcast" and np.ndim(value) == 0 \
                        and node.args:
                    return node.args[0]          # a no-op on numbers
                if renderer.style == "lecture" and isinstance(func, ast.Attribute) and \
                        isinstance(func.value, ast.Name) and func.value.id in ("np", "math", "numpy"):
                    node.func = ast.Name(_SHORT.get(func.attr, func.attr), ast.Load())
                return node
        return ast.unparse(Rename().visit(copy.deepcopy(rhs)))

    def primal(self, name, value):
        """A primal value assigned (``fresh``) gets the next label."""
        if self.style == "lecture":
            self.count += 1
            self.label[name] = f"v{self.count}"
        self.history.setdefault(name, []).append((value, self.label.get(name, name)))

    def restored(self, name, value):
        """A value the reverse sweep reads back (``y = stack.pop()``): the label it had."""
        for old, label in reversed(self.history.get(name, [])):
            if old is value:
                self.label[name] = label
                return


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def trace(fun, mode: str = "reverse", *, argnums=None, tangents=None, style: str = "lecture"):
    """``trace(f)(*args)`` runs ``f``'s derivative at ``args`` and returns a ``Trace``: the
    forward primal trace, then the reverse adjoint trace (``mode="reverse"``, ``f`` with a
    scalar output) or the forward tangent trace (``mode="forward"``, along ``tangents``: one
    per differentiated argument; by default 1 for the first and 0 for the others, as in the
    lectures).  ``argnums``: the arguments to differentiate (default: every float one).
    ``print(trace(f)(2.0, 5.0))`` prints the table; ``.rows`` are its lines."""
    if mode not in ("reverse", "forward"):
        raise ArgumentError(f"trace: mode must be 'reverse' or 'forward', got {mode!r}")
    if style not in ("lecture", "names"):
        raise ArgumentError(f"trace: style must be 'lecture' or 'names', got {style!r}")

    def traced(*primals):
        from . import api, emit
        from .forward import forward
        from .reverse import reverse
        fname = getattr(fun, "__name__", "the function")
        args = api._full_args(fun, primals)
        wrt_nums = api._wrt_all(fun, args, "trace") if argnums is None else \
            api._argnums(fun, argnums)[1]
        if not wrt_nums:
            raise ArgumentError(f"trace of {fname}: no float argument to differentiate")
        key = tuple(map(api._arg_key, args))
        norm = api._normalized_for(fun, key, args)
        params = norm.params
        wrt = [params[i] for i in wrt_nums]
        ndims = {p: api._ndim_from_key(k) for p, k in zip(params, key) if api._ndim_from_key(k) is not None}
        if mode == "forward":
            tree = forward(norm, wrt, ndims, name=f"jvp_{norm.node.name}")
            dots = list(tangents) if tangents is not None else [
                (1.0 if k == 0 else 0.0) * (np.ones_like(args[i], dtype=float) if np.ndim(args[i]) else 1.0)
                for k, i in enumerate(wrt_nums)]
            if len(dots) != len(wrt_nums):
                raise ArgumentError(f"trace of {fname}: {len(wrt_nums)} differentiated arguments, "
                                    f"{len(dots)} tangents")
        else:
            out = fun(*args)
            if isinstance(out, (tuple, list)) or np.ndim(out) != 0:
                raise NotDifferentiableError(
                    f"trace of {fname} in reverse mode needs a scalar output, got "
                    f"{type(out).__name__} of shape {np.shape(out)}",
                    hint="trace a scalar function of the output, or use mode='forward'")
            tree = reverse(norm, wrt, ndims, multi=True, name=f"grad_{norm.node.name}")
            dots = []
        instrument = _Instrument()
        tree = instrument.run(tree)
        shown_style = style
        if mode == "reverse" and any(isinstance(n, (ast.For, ast.While)) for n in ast.walk(norm.node)):
            # one loop name's adjoint spans iterations: v-labels per value would mislead
            shown_style = "names"
        renderer = _Renderer(params, wrt, shown_style)
        rows = []
        for p, i in zip(params, range(len(args))):
            if i in wrt_nums or style == "lecture":
                label = renderer.label[p]
                rows.append(Row("primal", label, p if label != p else _show(args[i]), _copy(args[i])))
        if mode == "forward":
            for p, d in zip(wrt, dots):
                rows.append(Row("tangent", renderer.name_of(p + "_dot"), p + "_dot", _copy(d)))

        result_label = []

        def record(site, values):
            names, rhs, section = instrument.sites[site]
            if section == "reverse" and not result_label:
                result_label.append(renderer.name_of(norm.result))
            if isinstance(rhs, ast.List) and not rhs.elts:
                return                                # the stack the reverse sweep reads
            value0 = values[0] if len(values) == 1 else values
            expr = renderer.expression(rhs, value0) if len(names) == 1 else None
            if isinstance(rhs, ast.Constant):         # the seed: y_bar = 1.0
                expr = "y_bar" if names == [norm.result + "_bar"] and shown_style == "lecture" else \
                    _show(rhs.value)
            for k, (n, v) in enumerate(zip(names, values)):
                adjoint, tangent = _ADJOINT.match(n), _TANGENT.match(n)
                if adjoint:
                    kind = "adjoint"
                elif tangent:
                    kind = "tangent"
                elif section == "reverse":
                    renderer.restored(n, v)          # a value read back for the reverse sweep
                    continue
                else:
                    kind = "primal"
                    renderer.primal(n, v)
                text = expr if expr is not None else f"{renderer.expression(rhs, v)}[{k}]"
                rows.append(Row(kind, renderer.name_of(n), text, _copy(v)))

        parsed = copy.copy(norm.parsed)
        parsed.closure = {**norm.parsed.closure, _RECORD: record}
        fn, _ = emit.compile_derivative(tree, parsed, label=f"trace_{norm.node.name}")
        fn = api._positional(fn, norm)
        result = fn(*args, *dots)
        result_name = result_label[0] if result_label else renderer.name_of(norm.result)
        if mode == "forward":
            out, tangent = result
        if result_name != "y":
            rows.append(Row("primal", "y", result_name, _copy(out)))
        if mode == "forward" and result_name != "y":
            rows.append(Row("tangent", "y_dot", renderer.name_of(norm.result + "_dot"), _copy(tangent)))
        if mode == "reverse":
            grads = result if isinstance(result, tuple) else (result,)
            for p, g in zip(wrt, grads):
                if renderer.name_of(p + "_bar") != p + "_bar":
                    rows.append(Row("adjoint", p + "_bar", renderer.name_of(p + "_bar"), _copy(g)))
        return Trace(fname, rows)

    return traced
