"""Stage 4 (reverse mode): a normalized function -> its adjoint program.

The adjoint program is the normalized body (the *forward sweep*) followed by
the *reverse sweep*: for each statement, last to first, the adjoint
contributions its rule gives, accumulated into ``<name>_bar``.  Control flow
stays control flow:

* ``if test:`` is reversed by ``if test:`` over the branches' adjoints; the
  test reads primal values, which are still (or again) what they were.
* ``for i in range(...)`` is reversed by ``for i in reversed(range(...))``;
  ``while`` and loops that ``break`` count their iterations and the reverse
  loop runs that many times.
* Inside a loop, a value the reverse sweep reads is overwritten by the next
  iteration.  Each block of a loop body pushes the values it owns that the
  reverse sweep reads onto ``stack`` at every exit (one tuple), and the
  reverse of that block starts by popping them back: values are restored,
  not recomputed.  Straight-line code pushes nothing.

An adjoint's first contribution on a path assigns it; later ones add to it.
Where paths join, the reverse sweep makes both sides agree (a zero on the side
that had no contribution), and adjoints a reverse loop accumulates into are
zeroed before it.
"""
from __future__ import annotations

import ast
import copy

from . import rules
from .analysis import (assigned_names, basic_index, iter_stmts, names_in, pause_gc, resolve_callee, sequences,
                       walk)
from .errors import MissingRuleError, UnsupportedSyntaxError
from .derivatives import (_OP_SYMBOL, DerivativeTransformer, State, assign, call, comment, locate, name,
                          seed_name, store)
from .normalize import Normalized, fix_locations, may_jump, terminates
from .templates import instantiate, negate


class _PopSlot(ast.stmt):
    """Placeholder at the start of a reverse block: filled with the pop of its saved values."""
    _fields = ()

    def __init__(self, block_id):
        super().__init__()
        self.block_id = block_id



def has_own_break(body) -> bool:
    """True when ``body`` breaks out of its own loop (not an inner one)."""
    for s in body:
        if isinstance(s, ast.Break):
            return True
        if isinstance(s, ast.If) and (has_own_break(s.body) or has_own_break(s.orelse)):
            return True
    return False


class ReverseTransformer(DerivativeTransformer):
    suffix = "_bar"
    def __init__(self, norm: Normalized, wrt: list, arg_ndims: dict | None = None,
                 with_value: bool = False, seed: str | None = None, name: str | None = None):
        self.setup(norm, wrt, arg_ndims)
        self.with_value = with_value
        self.seed = seed
        self.needed: set = set()
        self.counters: dict = {}
        self.callees: dict = {}         # (callee, wrt, ndims) -> [name, derivative tree, norm]
        self.slots: dict = {}           # in-place write -> name of the saved old slot
        self._coefficients = None       # see coefficients()
        self.body_reads: dict = {}      # loop -> names its reverse body reads
        self.read_before: dict = {}     # top-level loop -> names read by statements before it
        self.stmt_reads: dict = {}      # statement -> names its reverse code reads
        self.saves: dict = {}
        self.stack = None
        self.out_name = name or f"grad_{self.fn.name}"
        self.seqs = self.find_sequences()
        self.written = set().union(*self.effects.writes.values())   # arrays written in place

    def find_sequences(self) -> set:
        """Names holding a list or tuple: their adjoints are lists too."""
        seqs, nested = sequences(self.fn, self.p)
        self.nested = nested
        return seqs | nested | {n for n, d in self.nd.ndim.items() if isinstance(d, tuple)}

    # --- names -------------------------------------------------------------------------------
    adj = DerivativeTransformer.derivative

    def is_active(self, atom) -> bool:
        return isinstance(atom, ast.Name) and atom.id in self.act.active

    def reads(self, expr) -> None:
        """Record the primal names a piece of reverse code reads."""
        for n in names_in(expr):
            if n in self.locals:
                self.needed.add(n)

    # --- adjoint accumulation ----------------------------------------------------------------
    def zero(self, primal: str) -> ast.expr:
        if primal in self.seqs:
            self.needed.add(primal)
            return call("zeros_list", name(primal))
        nd = self.nd.get(name(primal))
        if nd == 0:
            return ast.Constant(value=0.0)
        self.needed.add(primal)
        if nd is not None:
            return call("np.zeros_like", name(primal))
        return call("zeros_like", name(primal))

    def accumulate(self, primal: str, expr: ast.expr, st: State, out: list) -> None:
        bar = self.adj(primal)
        self.reads(expr)
        fresh_array = isinstance(expr, (ast.BinOp, ast.UnaryOp))
        if primal in self.seqs:
            if bar in st.init:
                out.append(assign(bar, call("add_lists", name(bar), expr)))
                st.owned.add(bar)
            else:
                out.append(assign(bar, expr))
                st.init.add(bar)
                st.owned.discard(bar)
            return
        if bar in st.init:
            out.append(assign(bar, ast.BinOp(left=name(bar), op=ast.Add(), right=expr)))
            st.owned.add(bar)
        else:
            out.append(assign(bar, expr))
            st.init.add(bar)
            if fresh_array:
                st.owned.add(bar)
            else:
                st.owned.discard(bar)

    def accumulate_index(self, primal: str, index, g: ast.expr, st: State, out: list) -> None:
        bar = self.adj(primal)
        self.reads(index)
        if primal in self.seqs:
            if bar not in st.init:
                out.append(assign(bar, self.zero(primal)))
                st.init.add(bar)
                st.owned.add(bar)
            elif bar not in st.owned:
                out.append(assign(bar, call("list", name(bar))))
                st.owned.add(bar)
            if self.basic_index(index) and not isinstance(index, (ast.Slice, ast.Tuple)):
                slot = ast.Subscript(value=name(bar), slice=copy.deepcopy(index), ctx=ast.Load())
                # an element that may itself be a list adds element by element (+ concatenates)
                total = call("add_lists", slot, g) if primal in self.nested else \
                    ast.BinOp(left=slot, op=ast.Add(), right=g)
                out.append(ast.Assign(targets=[ast.Subscript(value=name(bar), slice=copy.deepcopy(index),
                                                             ctx=ast.Store())], value=total))
            else:
                out.append(ast.Expr(value=call("list_add_at", name(bar), _index_value(index), g)))
            return
        if bar not in st.init:
            self.needed.add(primal)
            out.append(assign(bar, call("np.zeros_like", name(primal))))
            st.init.add(bar)
            st.owned.add(bar)
        elif bar not in st.owned:
            out.append(assign(bar, call("np.copy", name(bar))))
            st.owned.add(bar)
        if self.basic_index(index):
            out.append(ast.AugAssign(target=ast.Subscript(value=name(bar), slice=copy.deepcopy(index),
                                                          ctx=ast.Store()), op=ast.Add(), value=g))
        else:
            out.append(ast.Expr(value=call("accumulate_at", name(bar), _index_value(index), g)))

    def basic_index(self, index) -> bool:
        return basic_index(index, self.nd)

    def unbroadcast(self, expr, atom, result: str, args) -> ast.expr:
        """Undo broadcasting of ``atom``'s contribution, only where it can have happened."""
        others = [a for a in args if a is not atom and a is not None]
        nd_x, nd_y = self.nd.get(atom), self.nd.get(name(result))
        if nd_x == 0 and nd_y == 0:
            return expr
        if all(self.nd.get(a) == 0 for a in others) and nd_x is not None and nd_x == nd_y:
            return expr
        if nd_x == 0 and nd_y is not None:
            return call("np.sum", expr)
        if all(isinstance(a, ast.Constant) for a in others) and nd_x is not None:
            return expr
        self.needed.add(atom.id)
        return call("unbroadcast", expr, atom)

    # --- blocks ------------------------------------------------------------------------------
    def rev_block(self, stmts: list, st: State, in_loop: bool) -> list:
        out = [_PopSlot(id(stmts))] if in_loop else []
        for s in reversed(stmts):
            start = len(out)
            self.rev_stmt(s, st, out, in_loop)
            locate(out[start:], s)      # (an error in it, at second order, names s's line)
            # what the reverse of this statement reads (a top-level loop needs to know
            # which of its loop names earlier statements' reverse code reads)
            self.stmt_reads[id(s)] = {n for new in out[start:] for n in names_in(new)}
        return out

    def rev_stmt(self, s, st: State, out: list, in_loop: bool) -> None:
        if isinstance(s, ast.Assign):
            self.rev_assign(s, st, out)
        elif isinstance(s, ast.If):
            self.rev_if(s, st, out, in_loop)
        elif isinstance(s, ast.For):
            self.rev_for(s, st, out)
        elif isinstance(s, ast.While):
            self.rev_while(s, st, out)
        elif isinstance(s, ast.Expr):
            self.rev_effect(s, st, out)
        elif isinstance(s, (ast.Break, ast.Continue, ast.Raise, ast.Assert, ast.Pass, ast.Return)):
            pass
        else:
            raise self.error(UnsupportedSyntaxError, s, f"cannot reverse {type(s).__name__}")

    def rev_effect(self, s, st, out):
        """``xs.append(v)``: undo it on the list and on its adjoint; an in-place accumulation
        (``accumulate_at(x, index, g)``) gives ``g`` its share of ``x``'s adjoint; other calls
        have no adjoint."""
        c = s.value
        if not (isinstance(c.func, ast.Attribute) and c.func.attr == "append"
                and isinstance(c.func.value, ast.Name) and len(c.args) == 1):
            self.rev_inplace(s, st, out)
            return
        xs = c.func.value.id
        if not self.tracks(xs):
            return
        v = c.args[0]
        bar = self.adj(xs)
        self.needed.add(xs)
        out.append(ast.Expr(value=call(f"{xs}.pop")))
        if bar in st.init:
            popped = call(f"{bar}.pop")
            if self.is_active(v):
                self.accumulate(v.id, popped, st, out)
            elif isinstance(v, (ast.Tuple, ast.List)) and any(self.is_active(e) for e in v.elts):
                # xs.append((a, b)): the popped adjoint is a pair
                item = self.fresh(f"{xs}_item_bar")
                out.append(assign(item, popped))
                for k, e in enumerate(v.elts):
                    if self.is_active(e):
                        self.accumulate(e.id, ast.Subscript(value=name(item), slice=ast.Constant(value=k),
                                                            ctx=ast.Load()), st, out)
            else:
                out.append(ast.Expr(value=popped))

    def rev_inplace(self, s, st, out) -> None:
        """``accumulate_at(x, index, g)`` (``x[index] += g``): ``x``'s adjoint passes through
        unchanged, ``g`` receives the contribution its rule's template gives."""
        c = s.value
        callee = resolve_callee(self.p, c, self.locals)
        try:
            entry = rules.INPLACE.get(callee.key) if not callee.nondiff and callee.key is not None else None
        except TypeError:                       # an unhashable callee
            entry = None
        if entry is None or not c.args or not self.is_active(c.args[0]):
            return
        pattern, params, rule = entry
        if len(c.args) != len(params) or c.keywords:
            raise self.error(UnsupportedSyntaxError, s, f"s2sad cannot differentiate this call of {pattern}",
                             hint=f"pass {len(params)} positional arguments")
        bar = self.adj(c.args[0].id)
        if bar not in st.init:
            return                      # no adjoint reaches it: nothing flows to g either
        mapping = dict(zip(params, c.args))
        mapping["y_bar"] = name(bar)
        for param, template in rule.vjp.items():
            atom = mapping[param]
            if self.is_active(atom):
                self.accumulate(atom.id, instantiate(template, mapping), st, out)

    def rev_assign(self, s, st: State, out: list) -> None:
        target = s.targets[0]
        if isinstance(target, ast.Subscript):
            self.rev_setitem(s, target, st, out)
            return
        v = target.id
        rhs = s.value
        if isinstance(rhs, ast.Call) and isinstance(rhs.func, ast.Attribute) and rhs.func.attr == "pop" \
                and isinstance(rhs.func.value, ast.Name) and rhs.func.value.id in self.seqs \
                and not rhs.args and self.tracks(rhs.func.value.id) \
                and (v not in self.act.active or self.adj(v) not in st.init):
            # a popped value no adjoint reaches: the list gets it back, with a zero adjoint
            self.rev_pop(rhs.func.value.id, v, self.zero(v), st, out)
            return
        if v not in self.act.active:
            return
        g = self.adj(v)
        if g not in st.init:
            return                      # no adjoint reaches this statement on this path
        st.init.discard(g)              # consumed: an earlier version's adjoint starts afresh
        st.owned.discard(g)
        y_bar = name(g)
        if isinstance(rhs, ast.Name):
            if self.is_active(rhs):
                self.accumulate(rhs.id, y_bar, st, out)
        elif isinstance(rhs, ast.BinOp) and isinstance(rhs.op, ast.Mult) and isinstance(rhs.left, ast.Name) \
                and isinstance(rhs.right, ast.Name) and rhs.left.id == rhs.right.id:
            # a * a: one contribution, as for a ** 2
            self.apply_rule(s, rules.lookup(("op", "**")), "**", [rhs.left, ast.Constant(value=2)], {},
                            v, st, out)
        elif isinstance(rhs, ast.BinOp):
            self.refuse_list_arithmetic(s, rhs, self.seqs)
            key = ("op", _OP_SYMBOL.get(type(rhs.op), "?"))
            self.apply_rule(s, rules.lookup(key), key[1], [rhs.left, rhs.right], {}, v, st, out)
        elif isinstance(rhs, ast.UnaryOp):
            if isinstance(rhs.op, (ast.USub, ast.UAdd)):
                key = ("op", "unary" + ("-" if isinstance(rhs.op, ast.USub) else "+"))
                self.apply_rule(s, rules.lookup(key), key[1], [rhs.operand], {}, v, st, out)
        elif isinstance(rhs, ast.Call) and isinstance(rhs.func, ast.Attribute) \
                and rhs.func.attr == "pop" and isinstance(rhs.func.value, ast.Name) \
                and rhs.func.value.id in self.seqs and not rhs.args:
            self.rev_pop(rhs.func.value.id, v, y_bar, st, out)
        elif isinstance(rhs, ast.Call):
            self.rev_call(s, rhs, v, st, out)
        elif isinstance(rhs, ast.Subscript):
            if self.is_active(rhs.value):
                self.accumulate_index(rhs.value.id, rhs.slice, y_bar, st, out)
        elif isinstance(rhs, ast.Attribute):
            if self.is_active(rhs.value) and not rules.is_nondifferentiable(("attr", rhs.attr)):
                rule = rules.lookup(("attr", rhs.attr))
                if rule is None:
                    raise self.error(MissingRuleError, s, f"no derivative rule for attribute "
                                     f".{rhs.attr}", hint="use a NumPy function with a rule")
                self.apply_rule(s, rule, "." + rhs.attr, [rhs.value], {}, v, st, out)
        elif isinstance(rhs, (ast.Tuple, ast.List)):
            for k, e in enumerate(rhs.elts):
                if self.is_active(e):
                    item = ast.Subscript(value=y_bar, slice=ast.Constant(value=k), ctx=ast.Load())
                    self.accumulate(e.id, item, st, out)
        # constants, comparisons and boolean operations carry no derivative

    def tracks(self, xs: str) -> bool:
        """True when the reverse sweep undoes ``xs``'s appends and pops: a list whose
        values depend on the inputs, even where no adjoint reaches it (it may share its
        memory with one that is active: a list saved on a derivative's tape)."""
        return xs in self.seqs and xs in self.locals and xs in self.act.varied

    def rev_pop(self, xs, v, v_bar, st, out) -> None:
        """``v = xs.pop()``: push the value back, and its adjoint onto the list's adjoint."""
        bar = self.adj(xs)
        self.needed.add(xs)
        self.needed.add(v)
        if not self.is_active(name(xs)):
            out.append(ast.Expr(value=call(f"{xs}.append", name(v))))
            return
        if bar not in st.init:
            out.append(assign(bar, self.zero(xs)))
            st.init.add(bar)
            st.owned.add(bar)
        out.append(ast.Expr(value=call(f"{bar}.append", v_bar)))
        out.append(ast.Expr(value=call(f"{xs}.append", name(v))))

    def rev_setitem(self, s, target, st, out) -> None:
        """``A[idx] = v``: route the slot's adjoint to ``v``, zero it, restore the old slot."""
        a = target.value.id
        if a not in self.act.active:
            if a in self.coefficients():
                # a constant array an adjoint reads (``t9_bar * b1``): the reverse sweep must see
                # it as it was when that adjoint's statement ran, so the write is undone too
                self.restore_slot(s, target, out)
            return
        index, v = target.slice, s.value
        bar = self.adj(a)
        self.reads(index)
        if bar in st.init:
            is_list = a in self.seqs          # a list's slots are rebound, never written into
            if self.is_active(v):
                adjoint = ast.Subscript(value=name(bar), slice=copy.deepcopy(index), ctx=ast.Load()) \
                    if is_list else self.written_adjoint(a, bar, index, v)
                self.accumulate(v.id, adjoint, st, out)
            if bar not in st.owned:
                out.append(assign(bar, call("list" if is_list else "np.copy", name(bar))))
                st.owned.add(bar)
            # (a list's slot may hold a list: its zero is shaped like the value written)
            zero = self.zero(v.id) if is_list and isinstance(v, ast.Name) and v.id in self.seqs \
                else ast.Constant(0.0)
            out.append(ast.Assign(targets=[ast.Subscript(value=name(bar), slice=copy.deepcopy(index),
                                                         ctx=ast.Store())], value=zero))
        self.restore_slot(s, target, out)

    def restore_slot(self, s, target, out) -> None:
        """Undo ``A[idx] = v`` in the reverse sweep: ``A[idx] = A_old`` (saved before the write)."""
        a = target.value.id
        old = self.slots.setdefault(id(s), self.fresh(f"{a}_old"))
        self.needed.add(old)
        self.locals.add(old)
        out.append(ast.Assign(targets=[ast.Subscript(value=name(a), slice=copy.deepcopy(target.slice),
                                                     ctx=ast.Store())], value=name(old)))

    def coefficients(self) -> set:
        """Inactive names read by a statement that assigns an active name: adjoints may read them."""
        if self._coefficients is None:
            self._coefficients = {n for st in iter_stmts(self.fn.body) if isinstance(st, ast.Assign)
                                  and any(isinstance(t, ast.Name) and t.id in self.act.active
                                          for t in st.targets)
                                  for n in names_in(st.value) if n not in self.act.active}
        return self._coefficients

    def written_adjoint(self, a, bar, index, v) -> ast.expr:
        """The adjoint of ``v`` in ``a[index] = v``: the slot's adjoint where the write
        lasted (a repeated fancy index keeps only its last write, as NumPy does), summed
        over the positions ``v`` was broadcast to."""
        slot = ast.Subscript(value=name(bar), slice=copy.deepcopy(index), ctx=ast.Load())
        fancy = not self.basic_index(index)
        if fancy:
            slot = ast.BinOp(left=slot, op=ast.Mult(), right=call("last_writes", name(bar),
                                                                   _index_value(index)))
        nd_v = self.nd.get(v)
        nd_slot = self.nd.of(ast.Subscript(value=name(a), slice=copy.deepcopy(index), ctx=ast.Load()))
        if nd_v == 0:
            return slot if nd_slot == 0 else call("np.sum", slot)
        if not fancy:
            slot = call("np.copy", slot)          # the slot of the adjoint is zeroed next
        # equal ranks may still broadcast a size-1 axis: unbroadcast decides at run time
        self.needed.add(v.id)
        return call("unbroadcast", slot, name(v.id))

    def rev_call(self, s, rhs, v, st, out):
        callee = resolve_callee(self.p, rhs, self.locals)
        if callee.nondiff:
            return
        args = list(rhs.args)
        if callee.receiver is not None:
            args = [callee.receiver] + args
        keywords = {kw.arg: kw.value for kw in rhs.keywords}
        atoms = args + list(keywords.values())
        flat = [e for a in atoms for e in (a.elts if isinstance(a, (ast.Tuple, ast.List)) else [a])]
        if not any(self.is_active(a) for a in flat):
            return
        if callee.rule is None and callee.user is not None:
            self.rev_user_call(s, rhs, callee, v, st, out)
            return
        if callee.rule is None:
            what = callee.name
            if True:
                hint = (f"register one: s2sad.rules.vjp(\"{what.lstrip('.')}(x)\", x=\"y_bar * ...\"),"
                        " or mark it non-differentiable with s2sad.rules.nondifferentiable(...)")
            raise self.error(MissingRuleError, rhs, f"no derivative rule for {what}", hint=hint)
        self.apply_rule(s, callee.rule, callee.name, args, keywords, v, st, out)

    def rev_user_call(self, s, rhs, callee, v, st, out) -> None:
        """``y = helper(a, b=c)``: the adjoint comes from helper's own derivative,
        ``vjp_helper(a, b=c, y_bar=...)``, transformed once and emitted beside this one."""
        norm, atoms = self.callee_call(callee, rhs, "vjp")
        params = norm.params
        wrt = [p for p in params if self.is_active(atoms.get(p))]
        if not wrt:
            return
        ndims = {p: self.nd.get(a) for p, a in atoms.items() if self.nd.get(a) is not None}
        fname = self.callee_vjp(callee.user, norm, tuple(wrt), ndims)
        keywords = [ast.keyword(arg=p, value=copy.deepcopy(a)) for p, a in atoms.items()]
        keywords.append(ast.keyword(arg=seed_name(norm), value=name(self.adj(v))))
        grads = ast.Call(func=name(fname), args=[], keywords=keywords)
        self.reads(grads)
        if len(wrt) == 1:
            self.accumulate(atoms[wrt[0]].id, grads, st, out)
            return
        targets = [atoms[p].id for p in wrt]
        if len(set(targets)) == len(targets) and not any(self.adj(t) in st.init for t in targets):
            # first contributions: unpack straight into the adjoints
            out.append(ast.Assign(targets=[ast.Tuple(elts=[store(self.adj(t)) for t in targets],
                                                     ctx=ast.Store())], value=grads))
            for t in targets:
                st.init.add(self.adj(t))
                st.owned.discard(self.adj(t))
            return
        parts = [self.fresh(f"{atoms[p].id}_bar_{norm.node.name}") for p in wrt]
        out.append(ast.Assign(targets=[ast.Tuple(elts=[store(n) for n in parts], ctx=ast.Store())],
                              value=grads))
        for p, part in zip(wrt, parts):
            self.accumulate(atoms[p].id, name(part), st, out)

    def callee_vjp(self, fn, norm, wrt, ndims) -> str:
        """The name of the derivative of callee ``fn`` for these inputs (made once)."""
        key = (id(fn), wrt, tuple(sorted(ndims.items())))
        entry = self.callees.get(key)
        if entry is None:
            fname = self.callee_name(f"vjp_{norm.node.name}")
            entry = self.callees[key] = [fname, None, norm]      # in progress: recursion sees the name
            t = ReverseTransformer(norm, list(wrt), ndims, seed=seed_name(norm), name=fname)
            t.multi = len(wrt) > 1
            t.callees = self.callees
            entry[1] = t.transform()
        self.used.add(entry[0])
        return entry[0]

    def apply_rule(self, s, rule, what, args, keywords, v, st, out):
        bound = self.bind_rule(s, rule if rule is not None and rule.vjp else None, what, args,
                               keywords, "vjp")
        if self.integer_cast(bound):
            return                                  # x.astype(int): piecewise constant
        mapping = dict(bound)
        mapping["y"] = name(v)
        mapping["y_bar"] = name(self.adj(v))
        elementwise_args = [a for p, a in bound.items() if p in rule.params] if rule.elementwise else []
        for param, template in rule.templates("vjp", bound, self.nd.get).items():
            atom = bound.get(param)
            if any(self.is_active(e) for e in (atom.elts if isinstance(atom, (ast.Tuple, ast.List)) else [atom])):
                self.refuse_unprovided(s, what, param, template)
            if isinstance(atom, ast.Name) and atom.id in self.seqs:
                if not self.is_active(atom):
                    continue
                whole = rule.vjp_whole.get(param)
                if whole is not None:
                    expr = instantiate(whole, mapping)
                elif "i" in names_in(template):
                    raise self.error(MissingRuleError, s, f"no derivative rule for {what} of a list "
                                     "variable", hint="pass a literal list, e.g. np.stack([a, b])")
                else:
                    expr = instantiate(template, mapping)
                    if rule.elementwise:
                        expr = call("unbroadcast", expr, copy.deepcopy(atom))
                    expr = call("list", expr)
                self.accumulate(atom.id, expr, st, out)
                continue
            if isinstance(atom, (ast.Tuple, ast.List)):
                self.rev_display(atom, param, template, mapping, rule, v, st, out)
                continue
            if not self.is_active(atom):
                continue
            expr = instantiate(template, mapping)
            if rule.elementwise:
                expr = self.unbroadcast(expr, atom, v, elementwise_args)
            self.accumulate(atom.id, expr, st, out)

    def rev_display(self, atom, param, template, mapping, rule, v, st, out) -> None:
        """The adjoints of the elements of a list display passed as one parameter.

        A sequence rule (``np.stack([a, b])``) writes element ``i``'s part with ``i``.  Any
        other rule sees the display as the array NumPy makes of it: its adjoint has that
        array's shape (broadcasting undone), and element ``k`` gets row ``k`` of it."""
        if rule.takes_sequence(param):
            for k, e in enumerate(atom.elts):
                if self.is_active(e):
                    self.accumulate(e.id, instantiate(template, {**mapping, "i": ast.Constant(value=k)}),
                                    st, out)
            return
        whole = instantiate(template, mapping)
        if rule.elementwise:
            whole = call("unbroadcast", whole, copy.deepcopy(atom))
        self.reads(whole)
        if not isinstance(whole, ast.Name):
            parts = self.fresh(f"{v}_parts")
            out.append(assign(parts, whole))
            whole = name(parts)
        appended = {c.func.value.id for c in walk(self.fn) if isinstance(c, ast.Call)
                    and isinstance(c.func, ast.Attribute) and c.func.attr == "append"
                    and isinstance(c.func.value, ast.Name)}
        for k, e in enumerate(atom.elts):
            if self.is_active(e):
                row = ast.Subscript(value=copy.deepcopy(whole), slice=ast.Constant(value=k),
                                    ctx=ast.Load())
                # a nested display's adjoint may stay an array row; a list the function
                # appends to has its adjoint popped: a list
                self.accumulate(e.id, call("list", row) if e.id in appended else row, st, out)

    def rev_if(self, s, st: State, out: list, in_loop: bool) -> None:
        st_then, st_else = st.copy(), st.copy()
        rev_then = self.rev_block(s.body, st_then, in_loop)
        rev_else = self.rev_block(s.orelse, st_else, in_loop)
        for bar in st_then.init ^ st_else.init:
            if self.local_to([s], self.primal_of[bar]):
                # defined only inside the if: nothing before it reads the adjoint
                st_then.init.discard(bar)
                st_else.init.discard(bar)
                continue
            lacking, lacking_st = (rev_else, st_else) if bar in st_then.init else (rev_then, st_then)
            lacking.append(assign(bar, self.zero(self.primal_of[bar])))
            lacking_st.init.add(bar)
            lacking_st.owned.add(bar)
        st.init = st_then.init & st_else.init
        st.owned = st_then.owned & st_else.owned
        self.reads(s.test)
        out.append(ast.If(test=copy.deepcopy(s.test), body=rev_then, orelse=rev_else))

    def rev_loop_body(self, loop, st: State, out: list) -> list:
        """The reverse of a loop body, with the adjoints it accumulates into zeroed first."""
        local = self.local_to_loop(loop)
        for _ in range(4):
            trial = st.copy()
            body = self.rev_block(loop.body, trial, in_loop=True)
            # every adjoint the body assigns (plain, unpacked from a callee's vjp, ...)
            touched = {n.id for stmt in body for n in walk(stmt)
                       if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id in self.primal_of}
            pre = {b for b in touched if self.primal_of[b] not in local and b not in st.init}
            lost_owned = {b for b in st.owned if b not in trial.owned and b in trial.init}
            if not pre and not lost_owned:
                for bar in sorted(st.init - trial.init):
                    body.append(assign(bar, self.zero(self.primal_of[bar])))
                return body
            for bar in sorted(pre):
                out.append(assign(bar, self.zero(self.primal_of[bar])))
                st.init.add(bar)
                st.owned.add(bar)
            st.owned -= lost_owned
        raise self.error(UnsupportedSyntaxError, loop, "could not reverse this loop")

    def rev_for(self, s, st: State, out: list) -> None:
        counter = None
        if has_own_break(s.body):
            counter = self.counters.setdefault(id(s), self.fresh("n_iter"))
        self.reads(s.iter)
        body = self.rev_loop_body(s, st, out)
        self.body_reads[id(s)] = {n for stmt in body for n in names_in(stmt)}
        if counter:
            self.needed.add(counter)
        target_read = s.target.id in {n for stmt in body for n in names_in(stmt)}
        iterable = copy.deepcopy(s.iter)
        if counter:
            iterable = ast.Subscript(value=iterable, slice=ast.Slice(lower=None, upper=name(counter), step=None),
                                     ctx=ast.Load())
        if target_read:
            out.append(ast.For(target=store(s.target.id), iter=call("reversed", iterable),
                               body=body, orelse=[], type_comment=None))
        else:
            if counter:
                iterable = call("range", name(counter))
            out.append(ast.For(target=store(self.fresh("_")), iter=iterable, body=body, orelse=[],
                               type_comment=None))

    def rev_while(self, s, st: State, out: list) -> None:
        counter = self.counters.setdefault(id(s), self.fresh("n_iter"))
        self.needed.add(counter)
        body = self.rev_loop_body(s, st, out)
        self.body_reads[id(s)] = {n for stmt in body for n in names_in(stmt)}
        out.append(ast.For(target=store(self.fresh("_")), iter=call("range", name(counter)),
                           body=body, orelse=[], type_comment=None))

    # --- the forward sweep: the primal with pushes and iteration counters --------------------
    def plan_saves(self, body, loop_names_here, unsaved=frozenset()):
        """For each block of one loop body, the names its exits push (see module docstring)."""
        defs, reads, order = {}, {}, {}

        def walk(block, chain):
            chain = chain + (id(block),)
            for s in block:
                if isinstance(s, ast.Assign):
                    t = s.targets[0]
                    if isinstance(t, ast.Name):
                        defs.setdefault(t.id, []).append(chain)
                        order.setdefault(t.id, len(order))
                    if id(s) in self.slots:
                        defs.setdefault(self.slots[id(s)], []).append(chain)
                        order.setdefault(self.slots[id(s)], len(order))
                    for n in names_in(s.value) + (names_in(t.slice) + [t.value.id]
                                                  if isinstance(t, ast.Subscript) else []):
                        reads.setdefault(n, []).append(chain)
                elif isinstance(s, ast.If):
                    for n in names_in(s.test):
                        reads.setdefault(n, []).append(chain)
                    walk(s.body, chain)
                    walk(s.orelse, chain)
                elif isinstance(s, (ast.For, ast.While)):
                    # seen from this block, a nested loop reads what its body takes from
                    # outside it and defines its loop names and counter (not its temps)
                    inside = assigned_names(s.body)
                    inner = [n for st_ in iter_stmts(s.body) for n in names_in(st_) if n not in inside]
                    for n in inner + names_in(s.iter if isinstance(s, ast.For) else s.test):
                        reads.setdefault(n, []).append(chain)
                    defined = self.carried_by(s)
                    if id(s) in self.counters:
                        defined.add(self.counters[id(s)])
                    for n in defined:
                        defs.setdefault(n, []).append(chain)
                        order.setdefault(n, len(order))
                else:
                    for n in names_in(s):
                        reads.setdefault(n, []).append(chain)

        walk(body, ())
        saves = {}
        for n, chains in defs.items():
            if n not in self.needed or n in unsaved:
                continue
            if n in loop_names_here:
                home = id(body)
            else:
                all_chains = chains + reads.get(n, [])
                prefix = all_chains[0]
                for c in all_chains[1:]:
                    k = 0
                    while k < min(len(prefix), len(c)) and prefix[k] == c[k]:
                        k += 1
                    prefix = prefix[:k]
                home = prefix[-1] if prefix else id(body)
            saves.setdefault(home, []).append(n)
        for home in saves:
            saves[home].sort(key=lambda n: (n in loop_names_here, order.get(n, 0)))
        return saves

    def push(self, names_) -> ast.stmt:
        if self.stack is None:
            self.stack = self.fresh("stack")
        value = name(names_[0]) if len(names_) == 1 else \
            ast.Tuple(elts=[name(n) for n in names_], ctx=ast.Load())
        return ast.Expr(value=call(f"{self.stack}.append", value))

    def fwd_block(self, stmts, loop, chain, tail=True) -> list:
        """The forward sweep of one block: ``loop`` is (body id, loop names of that loop) or None.

        A *tail* block's fall-through end is an exit of the loop body (the body
        itself, or a branch of a last ``if`` that may jump): there every block of
        the chain pushes its saved values, before the copy-backs.  Other blocks
        push their own saved values at their end.
        """
        out = []
        chain = chain + [id(stmts)] if loop else chain
        for k, s in enumerate(stmts):
            if isinstance(s, ast.If):
                last_jumps = k == len(stmts) - 1 and (may_jump(s.body) or may_jump(s.orelse))
                out.append(ast.If(test=s.test, body=self.fwd_block(s.body, loop, chain, tail and last_jumps),
                                  orelse=self.fwd_block(s.orelse, loop, chain, tail and last_jumps)))
            elif isinstance(s, (ast.For, ast.While)):
                out.extend(self.fwd_loop(s))
            elif isinstance(s, (ast.Break, ast.Continue)):
                self.insert_exit_pushes(out, loop, chain)
                out.append(s)
            else:
                if id(s) in self.slots:
                    out.append(self.save_slot(s))
                out.append(self.saved_view_copied(s) if loop else s)
        ends_in_branches = bool(stmts) and isinstance(stmts[-1], ast.If) and \
            (may_jump(stmts[-1].body) or may_jump(stmts[-1].orelse))
        if loop and not terminates(stmts) and not (tail and ends_in_branches):
            if tail:
                self.insert_exit_pushes(out, loop, chain)
            else:
                names_ = self.saves.get(id(stmts))
                if names_:
                    out.append(self.push(names_))
        if not out:
            out = [ast.Pass()]
        return out

    def saved_view_copied(self, s) -> ast.stmt:
        """``t = np.copy(A[i, :])`` for ``t = A[i, :]`` in a loop when ``t`` is saved for the
        reverse sweep and ``A`` is written in place: the saved value must not change with
        ``A`` (nor its tangent with ``A``'s, when the derivative is differentiated again).
        The effects analysis has checked nothing reads ``t`` after ``A`` changes, so a copy
        is the same value."""
        if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
                and isinstance(s.value, ast.Subscript) and isinstance(s.value.value, ast.Name)):
            return s
        t, a = s.targets[0].id, s.value.value.id
        if t not in self.needed or a not in self.written or self.nd.of(s.value) == 0 \
                or a in self.seqs or not self.basic_index(s.value.slice):
            return s
        return ast.Assign(targets=s.targets, value=call("np.copy", s.value))

    def save_slot(self, s) -> ast.stmt:
        """``A_old = A[idx]`` before an in-place write (a copy where the slot is an array)."""
        target = s.targets[0]
        slot = ast.Subscript(value=name(target.value.id), slice=copy.deepcopy(target.slice), ctx=ast.Load())
        if (self.nd.get(s.value) != 0 or self.nd.of(slot) != 0) and target.value.id not in self.seqs:
            slot = call("np.copy", slot)          # a row is a view: copy it (a list's slot is rebound)
        return assign(self.slots[id(s)], slot)

    def insert_exit_pushes(self, out, loop, chain) -> None:
        """Push every enclosing block's saved values, before the exit's copy-backs."""
        k = len(out)
        while k > 0 and isinstance(out[k - 1], ast.Assign) and isinstance(out[k - 1].targets[0], ast.Name) \
                and out[k - 1].targets[0].id in loop[1]:
            k -= 1
        pushes = []
        for block_id in reversed(chain):
            names_ = self.saves.get(block_id)
            if names_:
                pushes.append(self.push(names_))
        out[k:k] = pushes

    def fwd_loop(self, s) -> list:
        loop_names_here = self.carried_by(s)
        unsaved = set()
        if id(s) in self.read_before:
            # a top-level loop: a loop name need not be restored when only code after the
            # loop reads it (its reverse runs before the loop's, on the final value)
            reread = self.body_reads.get(id(s), set()) | self.read_before[id(s)]
            unsaved = {n for n in loop_names_here if n not in reread}
        self.saves.update(self.plan_saves(s.body, loop_names_here, unsaved))
        body = self.fwd_block(s.body, (id(s.body), loop_names_here), [], tail=True)
        counter = self.counters.get(id(s))
        pre = []
        if counter and counter in self.needed:
            pre.append(assign(counter, ast.Constant(value=0)))
            body.insert(0, assign(counter, ast.BinOp(left=name(counter), op=ast.Add(),
                                                      right=ast.Constant(value=1))))
        if isinstance(s, ast.For):
            loop = ast.For(target=s.target, iter=s.iter, body=body, orelse=[], type_comment=None)
        else:
            loop = ast.While(test=s.test, body=body, orelse=[])
        return pre + [loop]

    def fill_pops(self, stmts) -> list:
        out = []
        for s in stmts:
            if isinstance(s, _PopSlot):
                names_ = self.saves.get(s.block_id)
                if names_:
                    value = call(f"{self.stack}.pop")
                    if len(names_) == 1:
                        out.append(assign(names_[0], value))
                    else:
                        out.append(ast.Assign(targets=[ast.Tuple(elts=[store(n) for n in names_],
                                                                 ctx=ast.Store())], value=value))
                continue
            for field in ("body", "orelse"):
                sub = getattr(s, field, None)
                if isinstance(sub, list):
                    setattr(s, field, self.fill_pops(sub))
            if isinstance(s, ast.If) and _empty(s.body) and _empty(s.orelse):
                continue
            if isinstance(s, ast.If) and _empty(s.body):
                s.test = negate(s.test)
                s.body, s.orelse = s.orelse, []
            if isinstance(s, ast.If) and _empty(s.orelse):
                s.orelse = []
            if isinstance(s, (ast.For, ast.While)) and _empty(s.body):
                s.body = [ast.Pass()]
            out.append(s)
        return out

    # --- the whole function ------------------------------------------------------------------
    def transform(self) -> ast.FunctionDef:
        body = list(self.fn.body)
        ret = body.pop()
        assert isinstance(ret, ast.Return)
        st = State()
        rev = []
        if self.result in self.act.active:
            bar = self.adj(self.result)
            if bar != self.seed:
                rev.append(assign(bar, name(self.seed) if self.seed else ast.Constant(value=1.0)))
            st.init.add(bar)
        rev += self.rev_block(body, st, in_loop=False)
        grads = []
        for x in self.wrt:
            bar = self.adj(x)
            if bar not in st.init:
                rev.append(assign(bar, self.zero(x)))
            grads.append(name(bar))
        seen = set()
        for stmt in body:
            if isinstance(stmt, (ast.For, ast.While)):
                self.read_before[id(stmt)] = set(seen)
            seen.update(n.id for n in walk(stmt) if isinstance(n, ast.Name)
                        and isinstance(n.ctx, ast.Load))
            seen.update(self.stmt_reads.get(id(stmt), ()))
        fwd = self.fwd_block(body, None, [])
        value = None
        if self.with_value:
            value = name(self.result)
            if self.result in self.loop_names and self.stack is not None:
                keep = self.fresh("value")
                fwd.append(assign(keep, name(self.result)))
                value = name(keep)
        rev = self.fill_pops(rev)
        new_body = []
        if self.stack is not None:
            new_body.append(assign(self.stack, ast.List(elts=[], ctx=ast.Load())))
        new_body.append(comment("forward sweep"))
        new_body += [s for s in fwd if not isinstance(s, ast.Pass)]
        new_body.append(comment("reverse sweep"))
        new_body += rev
        result = grads[0] if len(grads) == 1 and not self.multi else \
            ast.Tuple(elts=grads, ctx=ast.Load())
        if self.with_value:
            result = ast.Tuple(elts=[value, result], ctx=ast.Load())
        new_body.append(ast.Return(value=result))
        args = copy.deepcopy(self.fn.args)
        if self.seed:
            args.kwonlyargs.append(ast.arg(arg=self.seed, annotation=None))
            args.kw_defaults.append(None)
        fn = ast.FunctionDef(name=self.out_name, args=args, body=new_body, decorator_list=[],
                             returns=None, type_comment=None)
        if "type_params" in ast.FunctionDef._fields:
            fn.type_params = []
        self.annotate(fn)
        fn._s2sad_callees = self.callees
        fix_locations(fn)
        return fn

    multi = False



def _empty(block) -> bool:
    return all(isinstance(s, ast.Pass) for s in block)


def _index_value(index):
    """An index expression usable as a value (slices become slice(...) calls)."""
    if isinstance(index, ast.Slice):
        return call("slice", *(p if p is not None else ast.Constant(value=None)
                               for p in (index.lower, index.upper, index.step)))
    if isinstance(index, ast.Tuple):
        return ast.Tuple(elts=[_index_value(e) for e in index.elts], ctx=ast.Load())
    return copy.deepcopy(index)


@pause_gc
def reverse(norm: Normalized, wrt, arg_ndims=None, with_value=False, seed=None, multi=False,
            name=None) -> ast.FunctionDef:
    """The adjoint program of ``norm`` with respect to the parameters ``wrt``."""
    t = ReverseTransformer(norm, wrt, arg_ndims, with_value, seed, name)
    t.multi = multi
    return t.transform()
