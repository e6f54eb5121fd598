"""The faster internals of the transformation (issue 9, item 5) compute exactly what the
library functions they stand in for compute: the walks, the location fix-up, the
optimizer's fixed-point test, its in-place name replacement, dead-code elimination
(optimized and unoptimized derivatives give the same numbers), the lazy parsing of rule
templates and the paused garbage collector.  No timing is asserted here; the times are
in benchmarks/transform_time.py."""
import ast
import copy
import gc
import inspect
import subprocess
import sys

import numpy as np
import pytest

import s2sad
from s2sad import optimize as opt
from s2sad.analysis import pause_gc, walk
from s2sad.normalize import copy_tree, fix_locations, normalize
from s2sad.parse import parse_function
from s2sad.reverse import reverse
from s2sad.rules import registry
from util import check_grad

_SKIPPED = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def _program(x, s):
    a = x * s
    b = s + 1.0
    for i in range(3):
        a = np.sin(a) + 0.1 * x
        if b > 0.5:
            b = b * 0.9 + np.sum(a) * 0.01
        else:
            b = -b
    c = a * b - x
    c[0] = b * 2.0
    return np.sum(c) + b * s


def _trees():
    """The function, its normalized form and its reverse derivative (before optimizing)."""
    parsed = parse_function(_program)
    norm = normalize(parsed)
    derivative = reverse(norm, ["x", "s"], {"x": 1, "s": 0}, multi=True, name="grad_program")
    return [parsed.node, norm.node, derivative]


def test_walk_is_ast_walk_without_contexts_and_operators():
    for tree in _trees():
        expected = [n for n in ast.walk(tree) if not isinstance(n, _SKIPPED)]
        assert list(walk(tree)) == expected            # the same nodes, in the same order
        assert {id(n) for n in opt._walk(tree)} == {id(n) for n in expected}


def test_fix_locations_is_fix_missing_locations():
    for tree in _trees():
        for node in ast.walk(tree):                    # drop some positions to fill in again
            if isinstance(node, (ast.Assign, ast.Name, ast.Call)) and hash(id(node)) % 3 == 0:
                for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                    node.__dict__.pop(attr, None)
        ours, theirs = copy_tree(tree), copy_tree(tree)
        fix_locations(ours)
        ast.fix_missing_locations(theirs)
        assert ast.dump(ours, include_attributes=True) == ast.dump(theirs, include_attributes=True)


def test_fingerprint_tells_apart_what_ast_dump_tells_apart():
    sources = ["x = 1", "x = 1.0", "x = True", "x = 'None'", "x = None", "f(a, b)", "f(a)(b)",
               "x = [a, [b]]", "x = [[a], b]", "return", "return None", "a + b", "a - b",
               "x = -0.0", "x = 0.0", "x = float('nan')", "if a:\n    pass", "if a:\n    pass\nelse:\n    b"]
    trees = [ast.parse(s) for s in sources]
    for i, a in enumerate(trees):
        for b in trees[i:]:
            assert (opt._fingerprint(a) == opt._fingerprint(b)) == (ast.dump(a) == ast.dump(b))
    for tree in _trees():
        assert opt._fingerprint(tree) == opt._fingerprint(copy_tree(tree))


class _ReferenceReplace(ast.NodeTransformer):
    """What optimize._replace replaced: a NodeTransformer that leaves ``return`` alone."""

    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.mapping:
            return ast.copy_location(copy.deepcopy(self.mapping[node.id]), node)
        return node

    def visit_Return(self, node):
        return node


def test_replace_is_the_node_transformer_it_replaced():
    for tree in _trees():
        loads = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})
        mapping = {name: ast.Constant(value=float(k)) if k % 2 else ast.Name(id=f"r{k}", ctx=ast.Load())
                   for k, name in enumerate(loads) if k % 3 != 2}
        ours, theirs = copy_tree(tree), copy_tree(tree)
        opt._replace(ours, mapping)
        _ReferenceReplace(mapping).visit(theirs)
        assert ast.dump(ours, include_attributes=True) == ast.dump(theirs, include_attributes=True)


def _dead_code_reference(tree):
    """Dead-code elimination as it was: recompute everything until nothing changes."""
    while True:
        live, free = opt.live_names(tree), opt.free_reads(tree)
        sharing = opt._sharing([s for block in opt._blocks(tree) for s in block])
        changed = False
        for block in opt._blocks(tree):
            keep = [s for s in block if not opt._dead(s, live, free, sharing)]
            if len(keep) != len(block):
                changed = True
                block[:] = keep or [ast.Pass()]
        opt._tidy(tree.body)
        if not changed:
            return tree


def _dead_loops(x, n):
    t = x * 2.0
    for i in range(n):                # its body dies, then the loop, then what its range reads
        u = t * i
    for j in range(n):
        w = x * j
    k = j + 1                         # reads the loop variable after the loop: the loop stays
    if n > 1:
        z = t * 3.0
    return x * 3.0 + k


@pytest.mark.parametrize("fn", [_program, _dead_loops])
def test_dead_code_elimination_is_the_fixed_point_it_was(fn):
    parsed = parse_function(fn)
    norm = normalize(parsed)
    ndims = {"x": 1, "s": 0} if fn is _program else {"x": 0, "n": 0}
    wrt = ["x", "s"] if fn is _program else ["x"]
    tree = reverse(norm, wrt, ndims, multi=True, name="grad")
    ours, theirs = copy_tree(tree), copy_tree(tree)
    opt.eliminate_dead_code(ours)
    _dead_code_reference(theirs)
    assert ast.unparse(ours) == ast.unparse(theirs)


def test_dead_code_elimination_keeps_the_gradient():
    x = np.array([0.3, -0.7, 1.1, 0.2])
    for optimize in (True, False):
        assert abs(s2sad.grad(_dead_loops, optimize=optimize)(1.3, 3) - 3.0) < 1e-12
        check_grad(_program, x, 0.8, argnums=(0, 1), optimize=optimize)


def test_importing_s2sad_parses_no_rule_template():
    code = ("import s2sad, numpy as np\n"
            "from s2sad.rules import registry\n"
            "assert all(rule._pending is not None for rule in registry.RULES.values())\n"
            "rule = registry.lookup(np.tanh)\n"
            "assert rule.vjp and rule._pending is None\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_rule_registered_after_first_use_is_added():
    rule = registry.lookup(np.tanh)
    assert rule.vjp                                  # parsed: first use
    cases = len(rule.vjp_cases)
    registry.vjp("np.tanh(x)", ndim=(99,), x="y_bar * 0.0")
    try:
        assert len(rule.vjp_cases) == cases + 1
        assert ast.unparse(rule.vjp_cases[-1].templates["x"]) == "y_bar * 0.0"
    finally:
        rule.vjp_cases.pop()


def test_a_misnamed_template_parameter_is_refused_when_registered():
    with pytest.raises(ValueError, match="no parameter 'z'"):
        registry.vjp("np.tanh(x)", z="y_bar")
    with pytest.raises(ValueError, match="no parameter 'z'"):
        registry.jvp("np.tanh(x)", z_whole="y_bar")


def test_a_users_rule_is_parsed_when_registered():
    # only s2sad's own rule modules wait for first use: a typo in a user's template is
    # reported where the user registers it, not inside a later transformation
    code = ("import s2sad, numpy as np, pytest\n"
            "from s2sad.rules import registry\n"
            "with pytest.raises(SyntaxError):\n"
            "    s2sad.rules.vjp('np.sinh(x)', ndim=(7,), x='y_bar * (')\n"
            "rule = registry.lookup(np.sinh)\n"
            "assert rule._pending is not None\n"           # a failed registration parses nothing
            "s2sad.rules.vjp('np.sinh(x)', ndim=(7,), x='y_bar * 7.0')\n"
            "assert rule._pending is None and rule.vjp\n"  # the built-in templates first, then the user's
            "assert [c.ndim for c in rule.vjp_cases][-1] == (7,)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pause_gc_restores_the_collector():
    seen = []
    paused = pause_gc(lambda: seen.append(gc.isenabled()))
    assert gc.isenabled()
    paused()
    assert seen == [False] and gc.isenabled()

    def fails():
        raise RuntimeError("inside a stage")
    with pytest.raises(RuntimeError):
        pause_gc(fails)()
    assert gc.isenabled()
    gc.disable()
    try:
        paused()
        assert seen == [False, False] and not gc.isenabled()   # left off, as it was
    finally:
        gc.enable()
    assert inspect.signature(s2sad.optimize.optimize).parameters.keys() == {"tree"}


def test_flow_join_is_the_rebuilt_join():
    from s2sad.analysis import _Flow

    def holders(flow):
        return {o: ns for o, ns in flow.holders.items() if ns}

    a = _Flow({"x": frozenset({1}), "y": frozenset({2})}, {"xs": frozenset({3})}, {"y": ("w", "x", 0)})
    b = a.copy()
    b.bind("x", [1, 4])
    b.bind("z", [5], [6])
    b.bind("xs", None, [3, 7])
    b.stale["z"] = ("w2", "y", 1)
    b.stale["y"] = ("other", "z", 2)
    joined = a.join(b)
    top = {n: a.top.get(n, frozenset()) | b.top.get(n, frozenset()) for n in set(a.top) | set(b.top)}
    contents = {n: a.contents.get(n, frozenset()) | b.contents.get(n, frozenset())
                for n in set(a.contents) | set(b.contents)}
    rebuilt = _Flow(top, contents, {**b.stale, **a.stale})
    assert joined.top == rebuilt.top and joined.contents == rebuilt.contents
    assert joined.stale == rebuilt.stale and list(joined.top) == ["x", "y", "z"]
    assert holders(joined) == holders(rebuilt)
    assert holders(a) == holders(_Flow(a.top, a.contents))          # a is left as it was
