"""The three-address form: it states its grammar, follows it, and computes what
the original computes (run both on many inputs, require identical results)."""
import ast
import math

import numpy as np
import pytest

from s2sad.emit import compile_function, to_source
from s2sad.normalize import normalize
from s2sad.parse import parse_function


def straight(x, y):
    a = x * y + np.sin(x) ** 2
    a, b = a * 2, a - y
    a, b = b, a
    a += b
    a *= 0.5
    return a / (1.0 + b * b)


def branches(x, y):
    if x > y and x > 0:
        z = x * x
    elif 0 < y < 1 or x < -2:
        z = -y
    else:
        z = x + y
    w = z if z > 0.5 else -z
    return w * (x if not y > 0 else y)


def loops(x, n):
    s = 0.0
    for i in range(n):
        if i % 3 == 0:
            continue
        s = s + x * i
        if s > 50:
            break
    k = 0
    while s > 1.0 and k < 100:
        s = s / 2.0
        k += 1
    for i, v in enumerate([x, x * 2, x * 3], 1):
        s = s + v * i
    return s


def returns(x, n):
    for i in range(n):
        for j in range(i):
            if x * i * j > 3:
                return x * i - j
    if x < 0:
        return -x
    return x * x


def lists(x):
    xs = [x * i for i in range(4) if i != 2]
    ys = []
    for v in xs:
        ys.append(math.sin(v))
    out = np.zeros(3)
    for i in range(3):
        out[i] = ys[i] * 2
    out[0] += sum(v * v for v in ys)
    return float(np.sum(out)) + ys[-1]


def local_functions(x, y):
    sq = lambda v: v * v  # noqa: E731

    def affine(v, a=2.0, b=0.5):
        if v > 0:
            return a * v + b
        return -v * y
    return sq(affine(x, b=y)) + affine(sq(y))


CASES = [
    (straight, lambda rng: (rng.normal(), rng.normal())),
    (branches, lambda rng: (rng.normal() * 2, rng.normal())),
    (loops, lambda rng: (rng.normal() * 3, int(rng.integers(0, 12)))),
    (returns, lambda rng: (rng.normal() * 2, int(rng.integers(0, 6)))),
    (lists, lambda rng: (rng.normal(),)),
    (local_functions, lambda rng: (rng.normal(), rng.normal())),
]


def normalized_function(fn):
    norm = normalize(parse_function(fn))
    compiled, _ = compile_function(norm.node, fn.__globals__, label="anf")
    return norm, compiled


@pytest.mark.parametrize("fn, draw", CASES, ids=[c[0].__name__ for c in CASES])
def test_normalized_computes_the_same(fn, draw):
    _, compiled = normalized_function(fn)
    rng = np.random.default_rng(1)
    for _ in range(200):
        args = draw(rng)
        assert compiled(*args) == fn(*args), args


# --- the grammar stated in s2sad/normalize.py ---------------------------------------------

def is_atom(e):
    if isinstance(e, (ast.Name, ast.Constant)):
        return True
    return isinstance(e, ast.Attribute) and is_atom(e.value) and not isinstance(e.value, ast.Constant)


def is_arg(e):
    return is_atom(e) or (isinstance(e, (ast.Tuple, ast.List)) and all(is_atom(x) for x in e.elts))


def is_index(e):
    if isinstance(e, ast.Slice):
        return all(p is None or is_atom(p) for p in (e.lower, e.upper, e.step))
    if isinstance(e, ast.Tuple):
        return all(is_index(p) for p in e.elts)
    return is_atom(e)


def is_test(e):
    if isinstance(e, ast.Compare):
        return is_atom(e.left) and all(is_atom(c) for c in e.comparators)
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
        return is_atom(e.operand) or is_test(e.operand)
    if isinstance(e, ast.BoolOp):
        return all(is_test(v) for v in e.values)
    return is_atom(e)


def is_call(e):
    return isinstance(e, ast.Call) and (is_atom(e.func) or isinstance(e.func, ast.Attribute)) \
        and all(is_arg(a) for a in e.args) and all(is_arg(k.value) for k in e.keywords)


def is_rhs(e):
    if is_atom(e) or is_call(e):
        return True
    if isinstance(e, ast.BinOp):
        return is_atom(e.left) and is_atom(e.right)
    if isinstance(e, ast.UnaryOp):
        return is_atom(e.operand)
    if isinstance(e, (ast.Compare, ast.BoolOp)):
        return is_test(e)
    if isinstance(e, ast.Attribute):
        return is_atom(e.value)
    if isinstance(e, ast.Subscript):
        return is_atom(e.value) and is_index(e.slice)
    if isinstance(e, (ast.Tuple, ast.List)):
        return all(is_atom(x) for x in e.elts)
    return False


def check_block(block, assigned, in_loop):
    for s in block:
        if isinstance(s, ast.Assign):
            assert len(s.targets) == 1
            t = s.targets[0]
            if isinstance(t, ast.Name):
                assert is_rhs(s.value), ast.unparse(s)
                assigned.append(t.id)
            else:
                assert isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) \
                    and is_index(t.slice) and is_atom(s.value), ast.unparse(s)
        elif isinstance(s, ast.Expr):
            assert is_call(s.value), ast.unparse(s)
        elif isinstance(s, ast.If):
            assert is_test(s.test), ast.unparse(s.test)
            check_block(s.body, assigned, in_loop)
            check_block(s.orelse, assigned, in_loop)
        elif isinstance(s, ast.For):
            assert isinstance(s.target, ast.Name) and isinstance(s.iter, ast.Call) \
                and s.iter.func.id == "range" and all(is_atom(a) for a in s.iter.args), ast.unparse(s)
            check_block(s.body, assigned, True)
        elif isinstance(s, ast.While):
            assert is_test(s.test)
            check_block(s.body, assigned, True)
        elif isinstance(s, (ast.Break, ast.Continue)):
            assert in_loop and s is block[-1], "a jump ends its block"
        else:
            assert isinstance(s, (ast.Pass, ast.Raise, ast.Assert)), ast.dump(s)


@pytest.mark.parametrize("fn", [c[0] for c in CASES], ids=[c[0].__name__ for c in CASES])
def test_output_follows_the_grammar(fn):
    norm, _ = normalized_function(fn)
    body = norm.node.body
    assert isinstance(body[-1], ast.Return) and isinstance(body[-1].value, ast.Name)
    assert not any(isinstance(n, ast.Return) for s in body[:-1] for n in ast.walk(s)), \
        "one return, at the end"
    assigned = []
    check_block(body[:-1], assigned, in_loop=False)


def test_straight_line_code_is_single_assignment():
    norm, _ = normalized_function(straight)
    targets = [s.targets[0].id for s in norm.node.body if isinstance(s, ast.Assign)]
    assert len(targets) == len(set(targets))
    assert "a_1" in targets, "a reassigned variable gets a new version"


def test_elif_becomes_a_nested_if():
    norm, _ = normalized_function(branches)
    ifs = [s for s in norm.node.body if isinstance(s, ast.If)]
    first = ifs[0]
    assert len(first.orelse) >= 1 and isinstance(first.orelse[-1], ast.If) or \
        any(isinstance(s, ast.If) for s in first.orelse)


def test_augmented_assignment_becomes_a_binary_operation():
    norm, _ = normalized_function(straight)
    assert not any(isinstance(n, ast.AugAssign) for n in ast.walk(norm.node))
