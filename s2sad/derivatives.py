"""What the forward and reverse transformers share: AST builders, the state of a
derivative along a path, and the naming of derivative variables.

Both transformers derive from :class:`DerivativeTransformer`, which owns the
fresh-name supply (never clashing with the user's names or the runtime's) and
the map between a primal name and its derivative (``x`` -> ``x_bar`` or
``x_dot``).
"""
from __future__ import annotations

import ast
import inspect
from collections import Counter

from . import rules
from .analysis import Activity, assigned_names, iter_stmts, refined_ndims, resolve_value
from .errors import MissingRuleError, SourceUnavailableError, UnsupportedSyntaxError
from .normalize import RESERVED, normalized
from .templates import bind


def comment(text: str) -> ast.stmt:
    """A statement the emitter prints as ``# text``."""
    return ast.Expr(value=ast.Call(func=ast.Name("__comment__", ast.Load()),
                                   args=[ast.Constant(value=text)], keywords=[]))


def name(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Load())


def store(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Store())


def assign(target: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[store(target)], value=value)


def call(func: str, *args, **kwargs) -> ast.Call:
    parts = func.split(".")
    f = name(parts[0])
    for p in parts[1:]:
        f = ast.Attribute(value=f, attr=p, ctx=ast.Load())
    return ast.Call(func=f, args=list(args), keywords=[ast.keyword(arg=k, value=v) for k, v in kwargs.items()])


class State:
    """Which adjoints are assigned (``init``) and which hold a private array (``owned``)."""

    def __init__(self, init=(), owned=()):
        self.init = set(init)
        self.owned = set(owned)

    def copy(self):
        return State(self.init, self.owned)


_OP_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
              ast.MatMult: "@", ast.Mod: "%"}


def seed_name(norm) -> str:
    """The name of a vjp's output-adjoint parameter: ``y_bar`` unless the function
    already uses that name (a derivative being differentiated again)."""
    used = {n.id for n in ast.walk(norm.node) if isinstance(n, ast.Name)} | set(norm.params)
    candidate, i = "y_bar", 0
    while candidate in used:
        i += 1
        candidate = f"y_bar_{i}"
    return candidate


def _assignment_counts(block) -> Counter:
    counts = Counter()
    for s in iter_stmts(block):
        targets = s.targets if isinstance(s, ast.Assign) else [s.target] if isinstance(s, ast.For) else []
        for t in targets:
            if isinstance(t, ast.Name):
                counts[t.id] += 1
    return counts


class DerivativeTransformer:
    """Names and bookkeeping common to the forward and reverse transformers."""

    suffix = "_d"

    def setup(self, norm, wrt, arg_ndims) -> None:
        """The facts every transformation starts from: activity, ndims, names."""
        self.norm = norm
        self.fn = norm.node
        self.p = norm.parsed
        self.wrt = list(wrt)
        self.result = norm.result
        self.act = Activity(self.fn, self.p, set(self.wrt), {self.result})
        self.nd = refined_ndims(self.fn, self.p, arg_ndims or {})
        self.locals = self.act.locals
        self.loop_names = set(norm.loop_names)
        self.init_names(self.fn)
        self.assign_counts = _assignment_counts(self.fn.body)
        self.load_counts = Counter(n.id for n in ast.walk(self.fn) if isinstance(n, ast.Name)
                                   and isinstance(n.ctx, ast.Load))

    def local_to(self, block, primal) -> bool:
        """True when ``primal`` is assigned and read only inside ``block`` (so its
        derivative is dead outside it)."""
        counts = _assignment_counts(block)
        if not counts[primal] or counts[primal] != self.assign_counts[primal]:
            return False
        reads = sum(1 for s in block for n in ast.walk(s)
                    if isinstance(n, ast.Name) and n.id == primal and isinstance(n.ctx, ast.Load))
        return reads == self.load_counts[primal]

    def carried_by(self, loop) -> set:
        """The names ``loop`` carries across its iterations (its loop names)."""
        carried = getattr(loop, "_s2sad_carried", None)
        if carried is None:              # a loop made after normalization: its copy-back targets
            carried = {t.id for st in iter_stmts(loop.body) if isinstance(st, ast.Assign)
                       for t in st.targets if isinstance(t, ast.Name) and t.id in self.loop_names}
        return set(carried)

    def local_to_loop(self, loop) -> set:
        """Names a loop's body assigns afresh in every iteration (not carried by it)."""
        return assigned_names(loop.body) - self.carried_by(loop)

    def init_names(self, fn: ast.FunctionDef) -> None:
        self.used = set(RESERVED) | {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} \
            | {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}
        self.derivatives: dict = {}     # primal name -> derivative name
        self.primal_of: dict = {}       # derivative name -> primal name

    def fresh(self, base: str) -> str:
        """A name not used yet: ``base``, else ``base_1``, ``base_2``, ..."""
        candidate, i = base, 0
        while candidate in self.used:
            i += 1
            candidate = f"{base}_{i}"
        self.used.add(candidate)
        return candidate

    def derivative(self, primal: str) -> str:
        """The derivative variable of ``primal`` (``x_bar`` / ``x_dot``), made once."""
        if primal not in self.derivatives:
            d = self.fresh(f"{primal}{self.suffix}")
            self.derivatives[primal] = d
            self.primal_of[d] = primal
        return self.derivatives[primal]

    # --- calls into user code ----------------------------------------------------------------
    def callee_call(self, callee, call_node, mode: str):
        """The callee's normalized form and the call's atoms by parameter name."""
        try:
            norm = normalized(callee.user, self.p.namespace)
        except SourceUnavailableError as exc:
            raise self.error(MissingRuleError, call_node, f"no derivative rule for {callee.name} and "
                             f"its source cannot be read ({exc})",
                             hint=f"define it with `def` in a .py file, or register a rule with "
                                  f"s2sad.rules.{mode}(...)")
        sig = inspect.Signature([inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                 for p in norm.params])
        try:
            bound = sig.bind_partial(*call_node.args, **{kw.arg: kw.value for kw in call_node.keywords})
        except TypeError as exc:
            raise self.error(UnsupportedSyntaxError, call_node,
                             f"cannot match this call to {callee.name}: {exc}",
                             hint="call the helper with its own parameters")
        return norm, dict(bound.arguments)

    def callee_name(self, base: str) -> str:
        """A name for a callee's derivative, unique among callees and local names."""
        taken = {e[0] for e in self.callees.values()}
        fname, i = base, 0
        while fname in taken or fname in self.used:
            i += 1
            fname = f"{base}_{i}"
        return fname

    def bind_rule(self, s, rule, what, args, keywords, mode: str) -> dict:
        """A call site's atoms by rule parameter, or a MissingRuleError at ``s``."""
        if rule is None:
            raise self.error(MissingRuleError, s, f"no derivative rule for {what}",
                             hint=f"register one with s2sad.rules.{mode}(...)")
        try:
            return bind(rule, args, keywords)
        except TypeError as exc:
            raise self.error(MissingRuleError, s, f"no derivative rule for this call of {what}: {exc}",
                             hint="call it as the rule's pattern does: " + rule.pattern)

    def refuse_list_arithmetic(self, s, rhs, seqs) -> None:
        """``xs + ys`` or ``[a] * n`` on lists: concatenation and repetition are not the
        arithmetic the operators' rules describe, so refuse rather than add adjoints of
        different lengths."""
        def is_list(a):
            # (a value popped from a stack of tuples and numbers may be either: its ndims say)
            return isinstance(a, (ast.List, ast.Tuple)) or \
                (isinstance(a, ast.Name) and a.id in seqs and not isinstance(self.nd.get(a), int))
        if isinstance(rhs, ast.BinOp) and (is_list(rhs.left) or is_list(rhs.right)):
            raise self.error(UnsupportedSyntaxError, s, "s2sad cannot differentiate concatenating "
                             "or repeating a list with an operator",
                             hint="build the list with xs.append(...) in a loop, or write it out "
                                  "as a list display [a, b, c]")

    def error(self, cls, node, message, hint=None):
        return self.p.error(cls, node, message, hint=hint)

    def is_elementwise_func(self, func) -> bool:
        """True when ``func`` (a global function reference) has an elementwise rule."""
        rule = rules.lookup(resolve_value(self.p, func))
        return rule is not None and rule.elementwise

    def annotate(self, fn: ast.FunctionDef) -> None:
        """Attach what the optimizer may use: derivative names and known ndims."""
        fn._s2sad_derivative_names = set(self.primal_of)
        fn._s2sad_ndims = {k: v for k, v in self.nd.ndim.items() if v is not None}
        for n in {n.id for n in ast.walk(self.fn) if isinstance(n, ast.Name)} - set(self.locals):
            if isinstance(self.nd.get(name(n)), int):
                fn._s2sad_ndims[n] = self.nd.get(name(n))       # a global array or number
        fn._s2sad_elementwise = self.is_elementwise_func
