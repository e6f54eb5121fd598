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

import numpy as np

from . import rules
from .analysis import (Activity, Effects, assigned_names, iter_stmts, refined_ndims, resolve_callee, walk,
                       resolve_value, sequences)
from .errors import MissingRuleError, SourceUnavailableError, UnsupportedSyntaxError
from .normalize import RESERVED, normalized
from .parse import Opaque
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


def locate(stmts: list, like: ast.AST) -> None:
    """Give the nodes of ``stmts`` that have no place the place of ``like`` (the statement
    they were made from), so the generated code keeps the user's line numbers."""
    if getattr(like, "lineno", None) is None:
        return
    for s in stmts:
        for node in ast.walk(s):
            if "lineno" in node._attributes and getattr(node, "lineno", None) is None:
                ast.copy_location(node, like)


def seed_name(norm) -> str:
    """The name of a vjp's output-adjoint parameter: ``y_bar`` unless the function
    already uses that name (a derivative being differentiated again)."""
    used = {n.id for n in walk(norm.node) if isinstance(n, ast.Name)} | set(norm.params)
    candidate, i = "y_bar", 0
    while candidate in used:
        i += 1
        candidate = f"y_bar_{i}"
    return candidate


def _assignment_counts(block) -> Counter:
    counts = Counter()
    for s in iter_stmts(block):
        if getattr(s, "_s2sad_unbound", False):
            continue                     # `v = None` where v has no value yet (normalize.merge)
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
        seqs, nested = sequences(self.fn, self.p)
        # refuses, at file:line, the writes and calls whose effects neither transformer follows
        self.effects = Effects(self.fn, self.p, self.nd, varied=self.act.varied, useful=self.act.useful,
                               params=norm.params, user_names=getattr(norm, "user_names", None),
                               seqs=seqs | nested | {n for n, d in self.nd.ndim.items() if isinstance(d, tuple)})
        self.locals = self.act.locals
        self.refuse_lossy()
        self.loop_names = set(norm.loop_names)
        self.init_names(self.fn)
        self.assign_counts = _assignment_counts(self.fn.body)
        self.load_counts = Counter(n.id for n in walk(self.fn) if isinstance(n, ast.Name)
                                   and isinstance(n.ctx, ast.Load))

    def local_to(self, block, primal) -> bool:
        """True when ``primal`` is assigned and read only inside ``block`` (so its
        derivative is dead outside it)."""
        counts = _assignment_counts(block)
        if not counts[primal] or counts[primal] != self.assign_counts[primal]:
            return False
        reads = sum(1 for s in block for n in walk(s)
                    if isinstance(n, ast.Name) and n.id == primal and isinstance(n.ctx, ast.Load))
        return reads == self.load_counts[primal]

    def bound_only_in(self, block, primal) -> bool:
        """True when every assignment of ``primal`` is inside ``block`` and it is not a loop
        name: after ``block``, it is bound only on the paths through ``block``, so only those
        read it (a branch without it needs no zero derivative for it)."""
        if primal in self.loop_names:
            return False
        counts = _assignment_counts(block)
        return bool(counts[primal]) and counts[primal] == self.assign_counts[primal]

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
        self.used = set(RESERVED) | {n.id for n in walk(fn) if isinstance(n, ast.Name)} \
            | {a.arg for a in walk(fn.args) if isinstance(a, ast.arg)}
        self._next_suffix: dict = {}    # base -> where fresh() goes on searching
        self.derivatives: dict = {}     # primal name -> derivative name
        self.primal_of: dict = {}       # derivative name -> primal name

    def fresh(self, base: str) -> str:
        """A name not used yet: ``base``, else ``base_1``, ``base_2``, ..."""
        if base not in self.used:
            self.used.add(base)
            return base
        # names are never freed: go on from the last suffix given for ``base`` (linear)
        nxt = self.__dict__.setdefault("_next_suffix", {})      # (set by init_names)
        i = nxt.get(base, 1)
        while f"{base}_{i}" in self.used:
            i += 1
        nxt[base] = i + 1
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
            bound = bind(rule, args, keywords)
        except TypeError as exc:
            raise self.error(MissingRuleError, s, f"no derivative rule for this call of {what}: {exc}",
                             hint="call it as the rule's pattern does: " + rule.pattern)
        for param, allowed in rule.supported.items():
            atom = bound.get(param, rule.defaults.get(param))
            if all(isinstance(a, type) for a in allowed):
                self.check_kind(s, rule, what, param, atom, allowed)
                continue
            root = atom
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(atom, ast.Constant):
                value = atom.value
            elif isinstance(root, ast.Name) and root.id not in getattr(self, "locals", ()):
                value = resolve_value(self.p, atom)      # a module constant such as np.inf
            else:
                value = Opaque("?")                      # known only when the code runs
            if not any(_same_constant(value, a) for a in allowed):
                shown = ast.unparse(atom) if isinstance(atom, ast.AST) else repr(atom)
                raise self.error(MissingRuleError, s, f"no derivative rule for {what} with "
                                 f"{param}={shown}",
                                 hint=rule.hints.get(param, f"the rule covers {param} = "
                                                     + ", ".join(map(repr, allowed))
                                                     + " (a constant); register another with s2sad.rules"))
        if "dtype" in bound:
            self.check_cast(s, bound["dtype"])
        return bound

    def refuse_unprovided(self, s, what, param, template) -> None:
        """Refuse, at ``s``, a derivative a rule marks as not provided (its template for a
        differentiated ``param`` is ``no_derivative('...')``): refused when transforming,
        never raised by the derivative's run."""
        if isinstance(template, ast.Call) and isinstance(template.func, ast.Name) \
                and template.func.id == "no_derivative":
            said = template.args[0].value if template.args and isinstance(template.args[0], ast.Constant) \
                else what
            raise self.error(MissingRuleError, s, f"s2sad has no derivative of {said} "
                             f"(in the derivative of {what} in its parameter {param})",
                             hint="differentiate fewer times, or hold that input constant "
                                  "(s2sad.stop_gradient)")

    def check_kind(self, s, rule, what, param, atom, kinds) -> None:
        """Refuse, at ``s``, a call whose ``param`` is surely not of one of ``kinds`` (a constant
        or module value of another type, or a local that is an array: differentiated, or of
        known ndim >= 1).  A local whose value only the run knows passes (``s = "ij" if t else "ji"``)."""
        if isinstance(atom, ast.Name) and atom.id in getattr(self, "locals", ()):
            ndim = self.nd.get(atom)
            surely_other = atom.id in self.act.active or (isinstance(ndim, int) and ndim >= 1)
        elif isinstance(atom, (ast.Constant, ast.Name, ast.Attribute)):
            value = atom.value if isinstance(atom, ast.Constant) else resolve_value(self.p, atom)
            surely_other = not isinstance(value, Opaque) and not isinstance(value, kinds)
        else:                                            # a literal list, tuple ...
            surely_other = True
        if surely_other:
            shown = ast.unparse(atom) if isinstance(atom, ast.AST) else repr(atom)
            names = " or ".join(k.__name__ for k in kinds)
            raise self.error(MissingRuleError, s, f"no derivative rule for {what} with {param}={shown}: "
                             f"the rule needs {param} to be a {names}",
                             hint=rule.hints.get(param, "call it as the rule's pattern does: " + rule.pattern))

    def refuse_lossy(self) -> None:
        """Refuse, before any code runs, what would silently lose a derivative: a
        differentiated value turned into text (``str(x)``, ``"%f" % x``) that reaches the
        output, and ``eval``/``exec`` (they read locals no analysis sees)."""
        strings = {s.targets[0].id for s in iter_stmts(self.fn.body)
                   if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
                   and isinstance(s.value, ast.Constant) and isinstance(s.value.value, (str, bytes))}
        shown = self.reaches_output()
        for s in iter_stmts(self.fn.body):
            value = s.value if isinstance(s, (ast.Assign, ast.Expr)) else None
            target = s.targets[0] if isinstance(s, ast.Assign) else None
            # active, or varied text whose value (a length, a parsed number) reaches the output
            useful = isinstance(target, ast.Name) and (target.id in self.act.active or (
                target.id in self.act.varied and target.id in shown))
            if isinstance(value, ast.Call):
                callee = resolve_callee(self.p, value, self.locals)
                refused = rules.refused(callee.key)
                if refused and (refused[1] or useful):
                    raise self.error(UnsupportedSyntaxError, value,
                                     f"s2sad does not differentiate through {callee.name.rstrip('()')}()",
                                     hint=refused[0])
            if useful and isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mod) and (
                    isinstance(value.left, ast.Constant) and isinstance(value.left.value, (str, bytes))
                    or isinstance(value.left, ast.Name) and value.left.id in strings):
                raise self.error(UnsupportedSyntaxError, value,
                                 "s2sad does not differentiate through %-formatting",
                                 hint="keep numbers as numbers inside the differentiated function; "
                                      "format them outside it")

    def reaches_output(self) -> set:
        """The names the output depends on by any path, non-differentiable calls (``len``),
        branch and loop tests included: a value turned into text whose length or parse reaches
        the output gets no derivative through it, so it is refused like an active one."""
        reads = {}
        seen = {self.result}
        for s in iter_stmts(self.fn.body):
            names = {n.id for n in walk(getattr(s, "value", None) or ast.Pass())
                     if isinstance(n, ast.Name)}
            if isinstance(s, (ast.If, ast.While)):
                seen |= {n.id for n in walk(s.test) if isinstance(n, ast.Name)}
            elif isinstance(s, ast.For):
                seen |= {n.id for n in walk(s.iter) if isinstance(n, ast.Name)}
            elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(
                    s.value.func, ast.Attribute) and isinstance(s.value.func.value, ast.Name):
                reads.setdefault(s.value.func.value.id, set()).update(names)     # xs.append(v)
            elif isinstance(s, ast.Assign):
                for t in s.targets:
                    for n in walk(t):
                        if isinstance(n, ast.Name):
                            reads.setdefault(n.id, set()).update(names)
        todo = list(seen)
        while todo:
            for n in reads.get(todo.pop(), ()):
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen

    def check_cast(self, s, dtype) -> None:
        """A derivative through a cast to ``dtype`` is exact for float, complex, int and bool
        dtypes (cast_derivative); refuse any other dtype, or one held in a variable (but an
        array's ``.dtype``, which cast_derivative checks when it runs)."""
        if isinstance(dtype, ast.Constant) and dtype.value is None:
            return
        if isinstance(dtype, ast.Name) and any(
                isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
                and s.targets[0].id == dtype.id and isinstance(s.value, ast.Attribute)
                and s.value.attr == "dtype" for s in iter_stmts(self.fn.body)):
            return         # an array's dtype (x.astype(y.dtype)): cast_derivative decides when run
        if self.dtype_kind(dtype) not in tuple("fcbiu"):
            raise self.error(UnsupportedSyntaxError, s, "s2sad does not differentiate through a cast "
                             f"to dtype {ast.unparse(dtype)}",
                             hint="cast to a float dtype (np.float64, np.float32) named in the call, "
                                  "or to an int or bool dtype for a zero derivative")

    def dtype_kind(self, dtype):
        """The NumPy kind (``"f"``, ``"i"`` ...) of a dtype atom known before running, or None."""
        value = dtype.value if isinstance(dtype, ast.Constant) else resolve_value(self.p, dtype)
        try:
            return np.dtype(value).kind if value is not None else None
        except TypeError:
            return None

    def integer_cast(self, bound) -> bool:
        """True when a call casts to an int or bool dtype named in it: no derivative at all."""
        dtype = bound.get("dtype")
        return dtype is not None and self.dtype_kind(dtype) in tuple("biu")

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
        for n in {n.id for n in walk(self.fn) if isinstance(n, ast.Name)} - set(self.locals):
            if isinstance(self.nd.get(name(n)), int):
                fn._s2sad_ndims[n] = self.nd.get(name(n))       # a global array or number
        fn._s2sad_elementwise = self.is_elementwise_func


def _same_constant(value, allowed) -> bool:
    """``value`` is the constant ``allowed`` (2 and 2.0 are; True and 1 are not)."""
    def number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    try:
        return (type(value) is type(allowed) or (number(value) and number(allowed))) \
            and bool(value == allowed)
    except Exception:               # an array or an object without a plain ==
        return False
