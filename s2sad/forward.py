"""Stage 4 (forward mode): a normalized function -> its tangent program.

The tangent program is the normalized body with, after each statement
``y = op(x)``, the statement ``y_dot = <rule>`` its jvp rule gives; it returns
``(y, y_dot)``.  Control flow is unchanged and nothing is recorded: tangents
travel with the values, so no stack is needed.

* Only *active* names (they depend on the differentiated inputs and reach the
  output) get a tangent, and a tangent that is zero on the current path is
  simply absent: rules get no ``0 * x`` terms.  Where paths join (after
  ``if``, at a loop head) a tangent present on one side only is set to zero
  on the other side, or before the loop.
* ``A[i] = v`` writes ``A_dot[i] = v_dot`` into a private tangent array (zeros
  when ``A`` had none, a copy when it was shared); ``xs.append(v)`` appends
  ``v_dot`` to ``xs_dot`` and ``xs.pop()`` pops it, so a list and its tangent
  list always have the same length.
* *Vector mode* (``jacfwd``): every tangent carries one extra leading axis,
  one row per direction, so one sweep gives a whole Jacobian.  Elementwise and
  scalar rules apply as written (a tangent of lower rank than the result is
  lifted: ``a_dot[:, None]``); other rules use their ``batched`` templates;
  ``x[i]`` reads ``x_dot[:, i]``.

Output grammar: the input's (see :mod:`s2sad.normalize`) plus tangent
statements of the same forms, ``NAME_dot[:, index] = ...`` writes and
``NAME_dot.append(...)`` calls; the last statement is ``return y, y_dot``.
"""
from __future__ import annotations

import ast
import copy

from . import rules
from .analysis import dotted, names_in, pause_gc, resolve_callee, sequences
from .errors import MissingRuleError, UnsupportedSyntaxError
from .normalize import Normalized, fix_locations, terminates
from .derivatives import _OP_SYMBOL, DerivativeTransformer, State, assign, call, comment, name
from .templates import instantiate, simplify

_FRESH_CALLS = {"np.zeros", "np.copy", "zeros_like", "np.array", "np.full", "np.zeros_like"}


def _is_fresh(expr) -> bool:
    """True when ``expr`` makes a new array (so writing into it aliases nothing)."""
    if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
        return True
    return isinstance(expr, ast.Call) and dotted(expr.func) in _FRESH_CALLS


class ForwardTransformer(DerivativeTransformer):
    suffix = "_dot"
    def __init__(self, norm: Normalized, wrt: list, arg_ndims: dict | None = None,
                 vector: bool = False, name: str | None = None):
        self.setup(norm, wrt, arg_ndims)
        self.vector = vector
        self.tangents = self.derivatives
        self.exits: list = []             # per enclosing loop: the states at its break/continue
        self.n_dir = None                 # vector mode: the name holding the number of directions
        self.seqs, self.nested = sequences(self.fn, self.p)
        # a tuple a callee returns (a vjp's adjoints): its tangent is a tuple too
        self.seqs |= {n for n, d in self.nd.ndim.items() if isinstance(d, tuple)}
        self.out_name = name or f"jvp_{self.fn.name}"
        self.callees: dict = {}          # (callee, wrt, ndims, vector) -> [name, tree, norm, dots]
        self.dots_keyword = False        # a callee's tangents are keyword-only parameters
        self.written = set().union(*self.effects.writes.values())   # arrays written in place

    # --- names -------------------------------------------------------------------------------
    tan = DerivativeTransformer.derivative

    def has_tangent(self, atom, st: State) -> bool:
        return isinstance(atom, ast.Name) and atom.id in self.act.active \
            and self.tangents.get(atom.id) in st.init

    # --- zeros, lifting, batched indexing ----------------------------------------------------
    def directions(self) -> ast.Name:
        if self.n_dir is None:
            self.n_dir = self.fresh("n_dir")
        return name(self.n_dir)

    def zero(self, atom) -> ast.expr:
        """A zero tangent for the value ``atom``."""
        nd = self.nd.get(atom)
        if isinstance(atom, ast.Name) and atom.id in self.seqs:
            # a list's tangent is a list: one zero per element
            if self.vector:
                return call("batch_zeros_list", copy.deepcopy(atom), self.directions())
            return call("zeros_list", copy.deepcopy(atom))
        if not self.vector:
            return ast.Constant(value=0.0) if nd == 0 else call("zeros_like", copy.deepcopy(atom))
        if nd == 0:
            return call("np.zeros", self.directions())
        shape = ast.BinOp(left=ast.Tuple(elts=[self.directions()], ctx=ast.Load()), op=ast.Add(),
                          right=call("np.shape", copy.deepcopy(atom)))
        return call("np.zeros", shape)

    def tangent_of(self, atom, st: State) -> ast.expr:
        """The tangent of an argument: its tangent name, a display of them, or a zero."""
        if isinstance(atom, (ast.Tuple, ast.List)):
            return type(atom)(elts=[self.tangent_of(e, st) for e in atom.elts], ctx=ast.Load())
        if self.has_tangent(atom, st):
            return name(self.tangents[atom.id])
        return self.zero(atom)

    def lift(self, expr, nd_from, nd_to, like) -> ast.expr:
        """Vector mode: give a tangent of rank ``nd_from`` the rank of a result of rank
        ``nd_to`` (``a_dot[:, None]``), so it broadcasts against the result's values."""
        if nd_from is not None and nd_to is not None:
            if nd_from >= nd_to:
                return expr
            elts = [ast.Slice(lower=None, upper=None, step=None)] + \
                [ast.Constant(value=None)] * (nd_to - nd_from)
            return ast.Subscript(value=expr, slice=ast.Tuple(elts=elts, ctx=ast.Load()), ctx=ast.Load())
        return call("lift_tangents", expr, copy.deepcopy(like))

    @staticmethod
    def batch_index(index):
        """``i`` -> ``:, i``: the same element of every direction's tangent."""
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        return ast.Tuple(elts=[ast.Slice(lower=None, upper=None, step=None)] +
                         [copy.deepcopy(p) for p in parts], ctx=ast.Load())

    def index_tangent(self, value: str, index) -> ast.expr:
        """``value_dot[index]`` (vector mode: ``value_dot[:, index]`` unless a list)."""
        dot = name(self.tangents[value])
        if self.vector and value not in self.seqs:
            index = self.batch_index(index)
        return ast.Subscript(value=dot, slice=copy.deepcopy(index), ctx=ast.Load())

    # --- setting a tangent -------------------------------------------------------------------
    def set_tangent(self, primal: str, expr, st: State, out: list) -> None:
        """``primal_dot = expr``, or a zero/nothing when ``expr`` is None (a zero tangent)."""
        dot = self.tan(primal)
        if expr is None:
            if dot in st.init:                   # a loop name: the old tangent must not survive
                out.append(assign(dot, self.zero(name(primal))))
                st.owned.add(dot)
            return
        out.append(assign(dot, expr))
        st.init.add(dot)
        if _is_fresh(expr):
            st.owned.add(dot)
        else:
            st.owned.discard(dot)

    def own(self, primal: str, st: State, out: list) -> str:
        """Make ``primal``'s tangent a private array that may be written in place."""
        dot = self.tan(primal)
        if dot not in st.init:
            out.append(assign(dot, self.zero(name(primal))))
            st.init.add(dot)
            st.owned.add(dot)
        elif dot not in st.owned:
            copied = call("list", name(dot)) if primal in self.seqs else call("np.copy", name(dot))
            out.append(assign(dot, copied))
            st.owned.add(dot)
        return dot

    # --- blocks ------------------------------------------------------------------------------
    def fwd_block(self, stmts: list, st: State) -> list:
        out = []
        for s in stmts:
            self.fwd_stmt(s, st, out)
        return out or [ast.Pass()]

    def fwd_stmt(self, s, st: State, out: list) -> None:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) \
                and isinstance(s.value, ast.Call) and s.targets[0].id in self.act.active:
            callee = resolve_callee(self.p, s.value, self.locals)
            if callee.user is not None and callee.rule is None:
                self.fwd_user_call(s, s.value, callee, s.targets[0].id, st, out)
                return
        if isinstance(s, ast.Assign):
            out.append(s)
            target = s.targets[0]
            if isinstance(target, ast.Subscript):
                self.fwd_setitem(s, target, st, out)
            elif isinstance(target, ast.Name):
                self.fwd_assign(s, target.id, st, out)
            else:
                raise self.error(UnsupportedSyntaxError, s, "cannot differentiate this assignment")
        elif isinstance(s, ast.If):
            self.fwd_if(s, st, out)
        elif isinstance(s, (ast.For, ast.While)):
            self.fwd_loop(s, st, out)
        elif isinstance(s, ast.Expr):
            self.fwd_effect(s, st, out)
        elif isinstance(s, (ast.Break, ast.Continue)):
            if self.exits:
                self.exits[-1].append(st.copy())
            out.append(s)
        elif isinstance(s, (ast.Raise, ast.Assert, ast.Pass)):
            out.append(s)
        else:
            raise self.error(UnsupportedSyntaxError, s, f"cannot differentiate {type(s).__name__}")

    def fwd_assign(self, s, v: str, st: State, out: list) -> None:
        rhs = s.value
        if v not in self.act.active:
            if isinstance(rhs, ast.Call):
                self.pop_tangent(rhs, v, st, out)   # keep a differentiated list's tangent in step
            return
        expr = None
        if isinstance(rhs, ast.Name):
            if self.has_tangent(rhs, st):
                expr = name(self.tangents[rhs.id])
        elif isinstance(rhs, ast.BinOp):
            self.refuse_list_arithmetic(s, rhs, self.seqs | self.nested)
            key = ("op", _OP_SYMBOL.get(type(rhs.op), "?"))
            if rules.lookup(key) is not None:
                expr = self.apply_rule(s, rules.lookup(key), key[1], [rhs.left, rhs.right], {}, v, st)
        elif isinstance(rhs, ast.UnaryOp):
            if isinstance(rhs.op, (ast.USub, ast.UAdd)):
                key = ("op", "unary" + ("-" if isinstance(rhs.op, ast.USub) else "+"))
                expr = self.apply_rule(s, rules.lookup(key), key[1], [rhs.operand], {}, v, st)
        elif isinstance(rhs, ast.Call):
            expr = self.fwd_call(s, rhs, v, st, out)
        elif isinstance(rhs, ast.Subscript):
            if self.has_tangent(rhs.value, st):
                expr = self.index_tangent(rhs.value.id, rhs.slice)
                nd = self.nd.of(rhs)
                if self.vector and rhs.value.id in self.written and not (isinstance(nd, int) and nd >= 1):
                    # an element is a copy, but a column of the tangents a view: a later write
                    # into the array (the effects analysis knows which) must not change it
                    expr = call("np.copy", expr)
        elif isinstance(rhs, ast.Attribute):
            if self.has_tangent(rhs.value, st) and not rules.is_nondifferentiable(("attr", rhs.attr)):
                rule = rules.lookup(("attr", rhs.attr))
                if rule is None:
                    raise self.error(MissingRuleError, s, f"no derivative rule for attribute "
                                     f".{rhs.attr}", hint="use a NumPy function with a rule")
                expr = self.apply_rule(s, rule, "." + rhs.attr, [rhs.value], {}, v, st)
        elif isinstance(rhs, (ast.Tuple, ast.List)):
            if isinstance(rhs, ast.List) or any(self.has_tangent(e, st) for e in rhs.elts):
                expr = self.tangent_of(rhs, st)
        # constants, comparisons and boolean operations carry no derivative
        self.set_tangent(v, expr, st, out)

    def fwd_setitem(self, s, target, st: State, out: list) -> None:
        """``A[idx] = v``: ``A_dot[idx] = v_dot`` in A's private tangent array."""
        a = target.value.id
        if a not in self.act.active:
            return
        v = s.value
        if not self.has_tangent(v, st):
            if self.tan(a) not in st.init:
                return                              # zeros stay zeros
            value = ast.Constant(value=0.0)
        else:
            value = name(self.tangents[v.id])
        dot = self.own(a, st, out)
        index = copy.deepcopy(target.slice)
        if self.vector and a not in self.seqs:
            if isinstance(v, ast.Name) and v.id in self.seqs | self.nested and not isinstance(value, ast.Constant):
                # a list written into an array: its tangents, one per item, become one array
                # with the directions first (else (items, directions) would meet (directions, items))
                value = call("batch_array", value)
            if not isinstance(value, ast.Constant):
                slot_nd = self.nd.of(ast.Subscript(value=name(a), slice=index, ctx=ast.Load()))
                like = ast.Subscript(value=name(a), slice=copy.deepcopy(index), ctx=ast.Load())
                value = self.lift(value, self.nd.get(v), slot_nd if isinstance(slot_nd, int) else None,
                                  like)
            index = self.batch_index(index)
        out.append(ast.Assign(targets=[ast.Subscript(value=name(dot), slice=index, ctx=ast.Store())],
                              value=value))

    def fwd_effect(self, s, st: State, out: list) -> None:
        """A call kept for its effect: list appends, in-place accumulation."""
        out.append(s)
        c = s.value
        if not isinstance(c, ast.Call):
            return
        f = c.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in self.locals:
            xs = f.value.id
            if xs not in self.act.active:
                return
            dot = self.tan(xs)
            if f.attr == "append" and len(c.args) == 1:
                if dot not in st.init:
                    raise self.error(UnsupportedSyntaxError, s, f"s2sad cannot differentiate appending "
                                     f"to {xs!r} here", hint="start the list in the function: xs = []")
                out.append(ast.Expr(value=call(f"{dot}.append", self.tangent_of(c.args[0], st))))
                return
            if f.attr in ("pop", "reverse", "clear") and dot in st.init:
                out.append(ast.Expr(value=call(f"{dot}.{f.attr}", *copy.deepcopy(c.args))))
                return
            if dot in st.init or any(self.has_tangent(a, st) for a in c.args):
                raise self.error(UnsupportedSyntaxError, s, f"s2sad cannot differentiate "
                                 f".{f.attr}() on a differentiated list",
                                 hint="use append and pop, or build the list with a loop")
            return
        callee = resolve_callee(self.p, c, self.locals)
        try:
            inplace = rules.INPLACE.get(callee.key) if not callee.nondiff else None
        except TypeError:                       # an unhashable callee
            inplace = None
        if inplace is not None and c.args and isinstance(c.args[0], ast.Name) \
                and c.args[0].id in self.act.active:
            # accumulate_at(A, idx, g), list_add_at(xs, idx, g): A += g at idx, in place
            a = c.args[0].id
            if len(c.args) != 3 or c.keywords:
                raise self.error(UnsupportedSyntaxError, s, f"s2sad cannot differentiate this call "
                                 f"of {inplace[0]}", hint=f"pass three arguments: {inplace[0]}(x, index, g)")
            g = c.args[2]
            if not self.has_tangent(g, st):
                return
            dot = self.own(a, st, out)
            index = copy.deepcopy(c.args[1])
            g_dot = name(self.tangents[g.id])
            inplace = inplace[0]
            if self.vector and a not in self.seqs:
                index = ast.Tuple(elts=[call("slice", ast.Constant(value=None)), index], ctx=ast.Load())
            out.append(ast.Expr(value=call(inplace, name(dot), index, g_dot)))

    def fwd_user_call(self, s, rhs, callee, v, st, out) -> None:
        """``y = helper(a, k=b)``: value and tangent from helper's own tangent program,
        ``y, y_dot = jvp_helper(a, k=b, a_dot=...)``, transformed once and emitted beside."""
        norm, atoms = self.callee_call(callee, rhs, "jvp")
        wrt = [p for p, a in atoms.items() if self.has_tangent(a, st)]
        if not wrt:
            out.append(s)
            self.set_tangent(v, None, st, out)
            return
        if self.vector and any(atoms[p].id in self.seqs | self.nested for p in wrt):
            raise self.error(UnsupportedSyntaxError, rhs, f"a list passed to {callee.name} in vector "
                             "mode (jacfwd, hessian)",
                             hint="pass the elements as separate arguments or an array, or use jacrev")
        ndims = {p: self.nd.get(a) for p, a in atoms.items() if isinstance(self.nd.get(a), int)}
        fname = self.callee_jvp(callee.user, norm, tuple(wrt), ndims)
        keywords = [ast.keyword(arg=p, value=copy.deepcopy(a)) for p, a in atoms.items()]
        tangent_params = self.callees[(id(callee.user), tuple(wrt), tuple(sorted(ndims.items())), self.vector)][3]
        keywords += [ast.keyword(arg=tp, value=name(self.tangents[atoms[p].id]))
                     for p, tp in zip(wrt, tangent_params)]
        dot = self.tan(v)
        out.append(ast.Assign(targets=[ast.Tuple(elts=[ast.Name(v, ast.Store()), ast.Name(dot, ast.Store())],
                                                 ctx=ast.Store())],
                              value=ast.Call(func=name(fname), args=[], keywords=keywords)))
        st.init.add(dot)
        st.owned.discard(dot)

    def callee_jvp(self, fn, norm, wrt, ndims) -> str:
        """The name of the tangent program of callee ``fn`` for these inputs (made once)."""
        key = (id(fn), wrt, tuple(sorted(ndims.items())), self.vector)
        entry = self.callees.get(key)
        if entry is None:
            fname = self.callee_name(f"{'jacfwd' if self.vector else 'jvp'}_{norm.node.name}")
            t = ForwardTransformer(norm, list(wrt), ndims, vector=self.vector, name=fname)
            t.dots_keyword = True
            t.callees = self.callees
            entry = self.callees[key] = [fname, None, norm, [t.tan(p) for p in wrt]]
            entry[1] = t.transform()
        self.used.add(entry[0])
        return entry[0]

    def pop_tangent(self, rhs, v, st, out):
        """``v = xs.pop()`` on a list with a tangent list: pop that too (None if not such a pop)."""
        f = rhs.func
        if not (isinstance(f, ast.Attribute) and f.attr == "pop" and isinstance(f.value, ast.Name)
                and f.value.id in self.locals and f.value.id in self.seqs | self.nested):
            return None
        dot = self.tangents.get(f.value.id)
        if dot is None or dot not in st.init:
            return None
        popped = call(f"{dot}.pop", *copy.deepcopy(rhs.args))
        if v not in self.act.active:
            out.append(ast.Expr(value=popped))
            return None
        return popped

    def fwd_call(self, s, rhs, v, st, out):
        popped = self.pop_tangent(rhs, v, st, out)
        if popped is not None:
            return popped
        callee = resolve_callee(self.p, rhs, self.locals)
        if callee.nondiff:
            return None
        args = list(rhs.args)
        if callee.receiver is not None:
            args = [callee.receiver] + args
        keywords = {kw.arg: kw.value for kw in rhs.keywords}
        atoms = args + list(keywords.values())
        flat = [e for a in atoms for e in (a.elts if isinstance(a, (ast.Tuple, ast.List)) else [a])]
        if not any(self.has_tangent(a, st) for a in flat):
            return None
        if callee.rule is None:
            what = callee.name
            if callee.user is not None:
                hint = ("calls into user functions are not differentiated in forward mode yet; inline "
                        "the helper, or register a rule with s2sad.rules.jvp(...)")
            else:
                hint = (f"register one: s2sad.rules.jvp(\"{what.lstrip('.')}(x)\", x=\"x_dot * ...\"),"
                        " or mark it non-differentiable with s2sad.rules.nondifferentiable(...)")
            raise self.error(MissingRuleError, rhs, f"no derivative rule for {what}", hint=hint)
        return self.apply_rule(s, callee.rule, callee.name, args, keywords, v, st)

    def apply_rule(self, s, rule, what, args, keywords, v, st):
        """The tangent of ``v = rule(args)``: the sum of its active parameters' contributions."""
        bound = self.bind_rule(s, rule, what, args, keywords, "jvp")
        if self.integer_cast(bound):
            return None                             # x.astype(int): piecewise constant
        batch_safe = rule.out in (rules.ELEMENTWISE, rules.SCALAR)
        mode = "jvp"
        if self.vector and (rule.jvp_batched or rule.jvp_batched_cases or not batch_safe):
            mode = "jvp_batched"
        templates = rule.templates(mode, bound, self.nd.get)
        if not templates:
            if mode == "jvp_batched" and rule.jvp:
                raise self.error(MissingRuleError, s, f"no vector-mode (jacfwd) rule for {what}",
                                 hint="register one with s2sad.rules.jvp(..., batched=True), or use "
                                      "jacrev")
            raise self.error(MissingRuleError, s, f"no forward-mode derivative rule for {what}",
                             hint=f"register one: s2sad.rules.jvp(\"{rule.pattern}\", "
                                  f"<param>=\"<param>_dot * ...\")")
        y = name(v)
        nd_y = self.nd.get(y)
        is_list = v in self.seqs | self.nested
        lift = self.vector and mode == "jvp" and rule.elementwise and not is_list
        mapping = dict(bound)
        mapping["y"] = y
        terms, mentioned = [], set()     # mentioned: names whose shape the tangent has
        for param, atom in bound.items():
            if isinstance(atom, (ast.Tuple, ast.List)):
                active = any(self.has_tangent(e, st) for e in atom.elts)
            else:
                active = self.has_tangent(atom, st)
            if not active:
                continue
            template = templates.get(param)
            if template is None:
                continue                            # the result does not vary with this parameter
            self.refuse_unprovided(s, what, param, template)
            dot = self.tangent_of(atom, st)
            if self.vector and isinstance(atom, (ast.Tuple, ast.List)) and not rule.takes_sequence(param):
                # a display given where an array is expected (np.sum([a, b])): the array of its
                # elements' tangents, directions first (sequence parameters take the list)
                dot = call("batch_array", dot)
            if lift:
                dot = self.lift(dot, self.nd.get(atom), nd_y, y)
            expr = instantiate(template, {**mapping, f"{param}_dot": dot})
            terms.append(expr)
            mentioned |= set(names_in(expr))
            if isinstance(atom, ast.Name):
                mentioned.add(atom.id)          # its tangent has its shape
        if not terms:
            return None
        total = terms[0]
        for t in terms[1:]:
            # a list's tangents add element by element; + would concatenate them
            total = call("add_lists", total, t) if is_list else ast.BinOp(left=total, op=ast.Add(), right=t)
        total = simplify(total)
        if is_list:
            return total
        if rule.elementwise and nd_y != 0 and not self.covers(bound, mentioned, v):
            total = call("tangents_like" if self.vector else "tangent_like", total, y)
        return total

    def covers(self, bound, mentioned, v) -> bool:
        """True when a broadcasting rule's tangent surely has the result's full shape: it
        mentions the result, or every argument that is not a scalar."""
        if v in mentioned:
            return True
        for atom in bound.values():
            if isinstance(atom, ast.Name) and atom.id not in mentioned and self.nd.get(atom) != 0:
                return False
            if isinstance(atom, ast.Constant) and self.nd.get(atom) not in (0,):
                return False
        return True

    # --- control flow ------------------------------------------------------------------------
    def fwd_if(self, s, st: State, out: list) -> None:
        st_then, st_else = st.copy(), st.copy()
        body = self.fwd_block(s.body, st_then)
        orelse = self.fwd_block(s.orelse, st_else) if s.orelse else []
        then_jumps, else_jumps = terminates(s.body), terminates(s.orelse)
        if then_jumps and not else_jumps:
            st.init, st.owned = st_else.init, st_else.owned
        elif else_jumps and not then_jumps:
            st.init, st.owned = st_then.init, st_then.owned
        else:
            for dot in sorted(st_then.init ^ st_else.init):
                primal = self.primal_of[dot]
                lacking, lacking_st, having = (orelse, st_else, s.body) if dot in st_then.init \
                    else (body, st_then, s.orelse)
                if self.local_to(having, primal):
                    continue                        # not read after the if
                if self.bound_only_in(having, primal):
                    lacking_st.init.add(dot)        # read after the if only where bound,
                    continue                        # and there its tangent is set
                lacking.append(assign(dot, self.zero(name(primal))))
                lacking_st.init.add(dot)
                lacking_st.owned.add(dot)
            st.init = st_then.init & st_else.init
            st.owned = st_then.owned & st_else.owned
        body = [x for x in body if not isinstance(x, ast.Pass)] or [ast.Pass()]
        orelse = [x for x in orelse if not isinstance(x, ast.Pass)]
        out.append(ast.If(test=s.test, body=body, orelse=orelse))

    def fwd_loop(self, s, st: State, out: list) -> None:
        """A loop: tangents the body carries around are present (zero) before it."""
        local = self.local_to_loop(s)
        if isinstance(s, ast.For):
            local.add(s.target.id)
        unhoisted = set()
        for _ in range(8):
            trial = st.copy()
            self.exits.append([])
            body = self.fwd_block(s.body, trial)
            exits = self.exits.pop() + [trial]
            touched, copied = set(), set()
            for node in ast.walk(ast.Module(body=body, type_ignores=[])):
                if not isinstance(node, ast.Assign):
                    continue
                # every tangent the body assigns (plainly, or unpacked from a callee's jvp)
                for target in (n for t in node.targets for n in ast.walk(t)):
                    if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store) \
                            and target.id in self.primal_of and self.primal_of[target.id] not in local:
                        touched.add(target.id)
                        if isinstance(node.value, ast.Call) and dotted(node.value.func) == "np.copy":
                            copied.add(target.id)
            pre_zero = touched - st.init
            # a tangent the body shares again before the next iteration is copied where
            # it is written, not once before the loop
            pre_copy = {t for t in copied if t in st.init and t not in st.owned and t not in unhoisted}
            lost = {t for t in st.owned if self.primal_of[t] not in local
                    and any(t not in e.owned for e in exits)}
            if not (pre_zero or pre_copy or lost):
                break
            for t in sorted(pre_zero):
                out.append(assign(t, self.zero(name(self.primal_of[t]))))
                st.init.add(t)
                st.owned.add(t)
            for t in sorted(pre_copy):
                out.append(assign(t, call("np.copy", name(t))))
                st.owned.add(t)
            st.owned -= lost
            unhoisted |= lost
        else:
            raise self.error(UnsupportedSyntaxError, s, "could not differentiate this loop")
        body = [x for x in body if not isinstance(x, ast.Pass)] or [ast.Pass()]
        if isinstance(s, ast.For):
            out.append(ast.For(target=s.target, iter=s.iter, body=body, orelse=[], type_comment=None))
        else:
            out.append(ast.While(test=s.test, body=body, orelse=[]))

    # --- the whole function ------------------------------------------------------------------
    def transform(self) -> ast.FunctionDef:
        body = list(self.fn.body)
        ret = body.pop()
        assert isinstance(ret, ast.Return)
        st = State()
        params = []
        for x in self.wrt:
            dot = self.tan(x)
            params.append(dot)
            if x in self.act.active:
                st.init.add(dot)
        out = self.fwd_block(body, st)
        result = name(self.result)
        if self.result in self.act.active and self.tan(self.result) in st.init:
            tangent = name(self.tangents[self.result])
        else:
            tangent = self.zero(result)
        head = []
        if self.n_dir is not None:
            head.append(comment(f"vector mode: {params[0]} holds one tangent per direction"))
            head.append(assign(self.n_dir, call("len", name(params[0]))))
        head.append(comment("values and tangents"))
        new_body = head + [x for x in out if not isinstance(x, ast.Pass)]
        new_body.append(ast.Return(value=ast.Tuple(elts=[result, tangent], ctx=ast.Load())))
        args = copy.deepcopy(self.fn.args)
        if self.dots_keyword:
            args.kwonlyargs.extend(ast.arg(arg=p, annotation=None) for p in params)
            args.kw_defaults.extend(None for _ in params)
        else:
            args.args.extend(ast.arg(arg=p, annotation=None) for p in params)
        fn = ast.FunctionDef(name=self.out_name, args=args, body=new_body, decorator_list=[],
                             returns=None, type_comment=None)
        if "type_params" in ast.FunctionDef._fields:
            fn.type_params = []
        self.annotate(fn)
        fn._s2sad_callees = {k: e[:3] for k, e in self.callees.items()}
        fix_locations(fn)
        return fn



@pause_gc
def forward(norm: Normalized, wrt, arg_ndims=None, vector=False, name=None) -> ast.FunctionDef:
    """The tangent program of ``norm`` with respect to the parameters ``wrt``.

    It takes the function's parameters followed by one tangent per ``wrt``
    parameter (``x_dot``; in vector mode with a leading axis of directions) and
    returns ``(value, tangent)``."""
    return ForwardTransformer(norm, wrt, arg_ndims, vector, name).transform()
