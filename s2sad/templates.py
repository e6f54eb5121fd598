"""Instantiating rule templates: substitute names, then fold what became constant.

Shared by the forward and reverse transformers (and by rules/control.py): a
rule's template is an expression over ``y``, ``y_bar``, its parameters and
their tangents; :func:`instantiate` replaces those names by the atoms of one
call site and simplifies the result (``y_bar * 1.0`` -> ``y_bar``,
``2 - 1`` -> ``1``, ``a ** 1`` -> ``a``), so generated code carries no
arithmetic on constants.
"""
from __future__ import annotations

import ast
import numbers
import operator

from .analysis import child_fields
from .normalize import copy_tree

_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
         ast.Div: operator.truediv, ast.Pow: operator.pow, ast.FloorDiv: operator.floordiv,
         ast.Mod: operator.mod}


def _num(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, numbers.Number) \
        and not isinstance(node.value, bool)


def _is(node, value):
    return _num(node) and node.value == value and type(node.value) is not complex


class _Substitute(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping:
            return copy_tree(self.mapping[node.id])
        return node


class Simplifier(ast.NodeTransformer):
    """Constant folding and the identities of float arithmetic that are exact.

    Only applied to derivative expressions (adjoints and tangents are floats),
    never to the user's own primal code, whose integer or boolean dtypes must
    not change.
    """

    def generic_visit(self, node):
        """``ast.NodeTransformer.generic_visit`` over the fields that may hold an
        expression (contexts and operators, which it would visit to no effect, are skipped)."""
        for field in child_fields(node.__class__):
            old = getattr(node, field, None)
            if old.__class__ is list:
                values = []
                for value in old:
                    if isinstance(value, ast.AST):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, ast.AST):
                            values.extend(value)
                            continue
                    values.append(value)
                old[:] = values
            elif isinstance(old, ast.AST):
                new = self.visit(old)
                if new is None:
                    delattr(node, field)
                else:
                    setattr(node, field, new)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        a, b, op = node.left, node.right, node.op
        if _num(a) and _num(b) and type(op) in _FOLD:
            try:
                value = _FOLD[type(op)](a.value, b.value)
            except (ArithmeticError, ValueError, OverflowError):
                value = None
            if isinstance(value, (int, float)) and abs(value) < 1e15:
                return ast.copy_location(ast.Constant(value=value), node)
        if isinstance(op, ast.Mult):
            if _is(a, 1):
                return b
            if _is(b, 1):
                return a
            if _is(a, -1):
                return ast.copy_location(ast.UnaryOp(op=ast.USub(), operand=b), node)
            if _is(b, -1):
                return ast.copy_location(ast.UnaryOp(op=ast.USub(), operand=a), node)
            # c * (d * e) -> (c * d) * e with c, d constants
            if _num(a) and isinstance(b, ast.BinOp) and isinstance(b.op, ast.Mult) and _num(b.left):
                return self.visit(ast.copy_location(ast.BinOp(
                    left=ast.BinOp(left=a, op=ast.Mult(), right=b.left), op=ast.Mult(), right=b.right), node))
        if isinstance(op, ast.Div) and _is(b, 1):
            return a
        if isinstance(op, ast.Pow) and _is(b, 1):
            return a
        if isinstance(op, ast.Add):
            if _is(a, 0):
                return b
            if _is(b, 0):
                return a
            if isinstance(b, ast.UnaryOp) and isinstance(b.op, ast.USub):
                return ast.copy_location(ast.BinOp(left=a, op=ast.Sub(), right=b.operand), node)
        if isinstance(op, ast.Sub):
            if _is(b, 0):
                return a
            if _is(a, 0):
                return ast.copy_location(ast.UnaryOp(op=ast.USub(), operand=b), node)
            if isinstance(b, ast.UnaryOp) and isinstance(b.op, ast.USub):
                return ast.copy_location(ast.BinOp(left=a, op=ast.Add(), right=b.operand), node)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        operand = node.operand
        if isinstance(node.op, ast.USub):
            if _num(operand):
                return ast.copy_location(ast.Constant(value=-operand.value), node)
            if isinstance(operand, ast.UnaryOp) and isinstance(operand.op, ast.USub):
                return operand.operand
        if isinstance(node.op, ast.UAdd):
            return operand
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)) \
                and isinstance(node.left, ast.Constant) and isinstance(node.comparators[0], ast.Constant):
            same = node.left.value is node.comparators[0].value
            return ast.copy_location(ast.Constant(value=same if isinstance(node.ops[0], ast.Is) else not same), node)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        # the runtime's cast_derivative(g, None) is g (no cast given)
        if isinstance(node.func, ast.Name) and node.func.id == "cast_derivative" \
                and len(node.args) == 2 and not node.keywords \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value is None:
            return node.args[0]
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        return node


def simplify(expr: ast.expr) -> ast.expr:
    """Fold constants and exact float identities in a derivative expression."""
    return Simplifier().visit(expr)


def instantiate(template: ast.expr, mapping: dict) -> ast.expr:
    """``template`` with names replaced per ``mapping`` (name -> AST), simplified."""
    expr = _Substitute(mapping).visit(copy_tree(template))
    return simplify(expr)


def bind(rule, args: list, keywords: dict) -> dict:
    """Match call-site atoms to a rule's parameters (positional, starred, keyword, default).

    Raises TypeError when the call does not fit the rule's pattern.
    """
    params = rule.params
    bound = {}
    positional = [p for p in params if p not in rule.defaults]
    i = 0
    for p in params:
        if p.startswith("*"):
            bound[p[1:]] = ast.Tuple(elts=list(args[i:]), ctx=ast.Load())
            i = len(args)
            continue
        if i < len(args):
            bound[p] = args[i]
            i += 1
    if i < len(args):
        raise TypeError(f"too many positional arguments for {rule.pattern}")
    for k, v in keywords.items():
        if k not in rule.params:
            raise TypeError(f"unexpected keyword argument {k!r} for {rule.pattern}")
        if k in bound:
            raise TypeError(f"argument {k!r} given twice for {rule.pattern}")
        bound[k] = v
    for p in params:
        name = p.lstrip("*")
        if name not in bound:
            if p in rule.defaults:
                bound[p] = copy_tree(rule.defaults[p])
            elif p.startswith("*"):
                bound[name] = ast.Tuple(elts=[], ctx=ast.Load())
            elif p in positional:
                raise TypeError(f"missing argument {p!r} for {rule.pattern}")
    return bound


_NEGATE = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt,
           ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
           ast.In: ast.NotIn, ast.NotIn: ast.In}


def negate(test):
    """``not test``, written the way a person would (``a != b`` for ``not a == b``)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return test.operand
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _NEGATE:
        return ast.Compare(left=test.left, ops=[_NEGATE[type(test.ops[0])]()], comparators=test.comparators)
    return ast.UnaryOp(op=ast.Not(), operand=test)
