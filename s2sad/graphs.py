"""``s2sad.graph(f, *args)``: the computation graph of ``f``'s three-address form as Graphviz DOT.

One node per parameter and per assignment of the three-address form (``t1 = math.log(x1)``),
an edge from every name a statement reads to the name it assigns, the returned name marked;
the statements of an ``if`` branch or a loop body are drawn inside a cluster labelled with
its test or loop header.  With arguments, each node also shows its value (``values=True``) and,
for a scalar output, its adjoint from the reverse sweep (``adjoints=True``), taken from
``s2sad.trace``; without arguments nothing runs.  It is the graph of the program, not of one
run: a loop body is drawn once (dashed edges carry values to the next iteration), and a name
assigned more than once or inside a loop shows no value (it has one per assignment).
"""
from __future__ import annotations

import ast

import numpy as np

from .errors import ArgumentError

__all__ = ["graph", "to_dot"]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class _Builder:
    def __init__(self, norm, values, adjoints):
        self.norm = norm
        self.values = values or {}
        self.adjoints = adjoints or {}
        self.lines = []
        self.edges = []
        self.defined = {}               # name -> the node ids that may have defined it last
        self.count = 0
        self.clusters = 0
        self.readers = []               # (node id, names it read) in order
        counts = {}
        in_loop = set()

        def walk(body, looped):
            for stmt in body:
                if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                    counts[stmt.targets[0].id] = counts.get(stmt.targets[0].id, 0) + 1
                    if looped:
                        in_loop.add(stmt.targets[0].id)
                loop = looped or isinstance(stmt, (ast.For, ast.While))
                for field in ("body", "orelse"):
                    if isinstance(getattr(stmt, field, None), list):
                        walk(getattr(stmt, field), loop)
        walk(norm.node.body, False)
        # a value shown only where a name has one: assigned once, outside any loop
        self.shown = {n for n, c in counts.items() if c == 1 and n not in in_loop} | set(norm.params)

    def node(self, label, name=None, shape="box", indent="  ", extra=""):
        self.count += 1
        node_id = f"n{self.count}"
        parts = [label]
        if name is not None and name not in self.shown:
            name = None
        if name is not None and name in self.values:
            parts.append(f"= {_short(self.values[name])}")
        if name is not None and name + "_bar" in self.adjoints:
            parts.append(f"{name}_bar = {_short(self.adjoints[name + '_bar'])}")
        self.lines.append(f"{indent}{node_id} [label={_quote(chr(10).join(parts))}, shape={shape}{extra}];")
        return node_id

    def reads(self, node):
        return [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]

    def link(self, target_id, expr_nodes):
        seen = set()
        for expr in expr_nodes:
            for name in self.reads(expr):
                if name in self.defined and name not in seen:
                    seen.add(name)
                    for source in sorted(self.defined[name]):
                        self.edges.append(f"  {source} -> {target_id};")
                    self.readers.append((target_id, name, self.defined[name]))

    def loop(self, label, body, indent):
        """A loop's cluster, and a dashed edge where the next iteration reads a value this one
        assigned (the first reader in the body that read the value from before the loop)."""
        before = dict(self.defined)
        start = len(self.readers)
        self.cluster(label, body, indent)
        done = set()
        for reader, name, source in self.readers[start:]:
            if source == before.get(name) and self.defined.get(name) != source and (reader, name) not in done:
                done.add((reader, name))
                for new in sorted(self.defined[name] - source):
                    self.edges.append(f"  {new} -> {reader} [style=dashed, label=\"next iteration\", "
                                      f"fontsize=9];")
        for name, ids in before.items():             # zero iterations: the value from before
            self.defined[name] = self.defined.get(name, frozenset()) | ids

    def block(self, body, indent):
        for stmt in body:
            self.statement(stmt, indent)

    def cluster(self, label, body, indent):
        self.clusters += 1
        self.lines.append(f"{indent}subgraph cluster_{self.clusters} {{")
        self.lines.append(f"{indent}  label={_quote(label)}; style=rounded; color=gray50;")
        self.block(body, indent + "  ")
        self.lines.append(f"{indent}}}")

    def statement(self, stmt, indent):
        if isinstance(stmt, ast.Assign):
            target = stmt.targets[0]
            text = f"{ast.unparse(target)} = {ast.unparse(stmt.value)}"
            if isinstance(target, ast.Name):
                nid = self.node(text, target.id, indent=indent)
                self.link(nid, [stmt.value])
                self.defined[target.id] = frozenset([nid])
            else:                          # an in-place write h[i] = v: a new version of h
                base = target
                while isinstance(base, (ast.Subscript, ast.Attribute)):
                    base = base.value
                nid = self.node(text, getattr(base, "id", None), indent=indent)
                self.link(nid, [target, stmt.value])
                if isinstance(base, ast.Name):
                    self.defined[base.id] = frozenset([nid])
        elif isinstance(stmt, ast.If):
            before = dict(self.defined)
            self.cluster(f"if {ast.unparse(stmt.test)}", stmt.body, indent)
            after_body, self.defined = self.defined, dict(before)
            if stmt.orelse:
                self.cluster(f"else (not {ast.unparse(stmt.test)})", stmt.orelse, indent)
            for name, ids in after_body.items():     # either side may have run
                self.defined[name] = self.defined.get(name, frozenset()) | ids
        elif isinstance(stmt, ast.For):
            self.loop(f"for {ast.unparse(stmt.target)} in {ast.unparse(stmt.iter)}", stmt.body, indent)
        elif isinstance(stmt, ast.While):
            self.loop(f"while {ast.unparse(stmt.test)}", stmt.body, indent)
        elif isinstance(stmt, ast.Return):
            nid = self.node(f"return {ast.unparse(stmt.value) if stmt.value else 'None'}", shape="doubleoctagon",
                            indent=indent)
            if stmt.value is not None:
                self.link(nid, [stmt.value])
        elif isinstance(stmt, ast.Expr):
            nid = self.node(ast.unparse(stmt), indent=indent, extra=", style=dashed")
            self.link(nid, [stmt.value])
        else:                              # break, continue, raise
            self.node(ast.unparse(stmt).splitlines()[0], shape="plaintext", indent=indent)

    def dot(self) -> str:
        fn = self.norm.node
        self.lines.append(f"digraph {_quote(fn.name)} {{")
        self.lines.append("  rankdir=TB; node [fontname=\"Helvetica\", fontsize=11];")
        for p in self.norm.params:
            self.defined[p] = frozenset([self.node(p, p, shape="ellipse")])
        self.block(fn.body, "  ")
        self.lines.extend(self.edges)
        self.lines.append("}")
        return "\n".join(self.lines) + "\n"


def _short(value) -> str:
    if np.ndim(value) == 0:
        try:
            return f"{float(value):.4g}"
        except (TypeError, ValueError):
            return repr(value)[:30]
    a = np.asarray(value)
    return f"array{a.shape}" if a.size > 4 else np.array2string(a, precision=3, separator=", ")


def to_dot(norm, values=None, adjoints=None) -> str:
    """The DOT text of a normalized function (``values``/``adjoints``: name -> value)."""
    return _Builder(norm, values, adjoints).dot()


def graph(fun, *args, values: bool = True, adjoints: bool = True, argnums=None) -> str:
    """The computation graph of ``fun``'s three-address form as Graphviz DOT text.

    Without ``args`` nothing runs: the graph of the program.  With ``args``, each node shows
    its value (``values``) and, when ``fun`` returns a number, its adjoint (``adjoints``;
    with respect to ``argnums``, default every float argument), from ``s2sad.trace``.
    Render with Graphviz: ``dot -Tsvg graph.dot -o graph.svg``.
    """
    from . import api
    from .traces import trace
    if not args:
        return to_dot(api._normalized(fun))
    full = api._full_args(fun, args)
    key = tuple(map(api._arg_key, full))
    norm = api._normalized_for(fun, key, full)
    if not (values or adjoints):
        return to_dot(norm)
    out = fun(*full)
    scalar = not isinstance(out, (tuple, list)) and np.ndim(out) == 0
    if adjoints and not scalar:
        raise ArgumentError(f"graph of {getattr(fun, '__name__', 'the function')}: adjoints need a "
                            f"scalar output", )
    rows = trace(fun, "reverse" if adjoints else "forward", argnums=argnums, style="names")(*args).rows
    vals, bars = {}, {}
    for r in rows:
        (bars if r.section == "adjoint" else vals if r.section == "primal" else {})[r.name] = r.value
    return to_dot(norm, vals if values else None, bars if adjoints else None)
