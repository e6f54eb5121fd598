"""``s2sad FILE.py FUNC``: print the derivative source of a function in a file.

The file is parsed, never imported or executed: names are resolved from its
own imports (NumPy, math and other numeric modules only) and top-level
definitions.  Exit status: 0 on success, 1 when s2sad cannot differentiate the
function (the message says where and why), 2 for a bad command line, a missing
file or function, or a file that is not valid Python.
"""
from __future__ import annotations

import argparse
import sys

from .errors import S2SADError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="s2sad", description="Print the derivative of a Python function as Python source. "
        "The file is read, never executed.")
    p.add_argument("file", help="a Python source file")
    p.add_argument("func", help="the name of a function defined at the top level of FILE")
    p.add_argument("--argnums", default="0",
                   help="comma-separated positions of the arguments to differentiate (default 0)")
    p.add_argument("--stage", choices=("anf", "raw", "optimized"), default="optimized",
                   help="anf: the three-address form; raw: the derivative before optimization; "
                        "optimized (default): the derivative as grad() runs it")
    p.add_argument("--mode", choices=("reverse", "forward"), default="reverse",
                   help="reverse (gradient, default) or forward (jvp: the tangent program, "
                        "which takes one tangent per differentiated argument)")
    p.add_argument("--ndim", action="append", default=[], metavar="NAME=N",
                   help="declare an argument's number of dimensions (0 for a float), for leaner "
                        "code: --ndim x=1 --ndim M=2")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the derivative as a module that runs without s2sad (imports, the "
                        "runtime helpers it calls, a header naming the function) instead of "
                        "printing its source")
    p.add_argument("--graph", metavar="FILE",
                   help="write the computation graph of the three-address form to FILE as Graphviz "
                        "DOT (FILE.dot), or rendered by Graphviz's dot when it is installed "
                        "(FILE.svg, FILE.png, FILE.pdf); nothing runs, so the graph has no values "
                        "(s2sad.graph(f, *args) adds them)")
    return p


def _write_graph(norm, path: str) -> int:
    """The --graph option: DOT text, or a picture of it drawn by Graphviz."""
    import os
    import shutil
    import subprocess
    from .graphs import to_dot
    text = to_dot(norm)
    suffix = os.path.splitext(path)[1].lower()
    if suffix in (".svg", ".png", ".pdf"):
        dot = shutil.which("dot")
        if dot is None:
            return _fail(f"Graphviz's `dot` is not installed, so {path} cannot be drawn: write "
                         f"--graph {os.path.splitext(path)[0]}.dot, or install Graphviz")
        done = subprocess.run([dot, f"-T{suffix[1:]}", "-o", path], input=text, text=True,
                              capture_output=True)
        if done.returncode != 0:
            return _fail(f"Graphviz's dot failed on the graph: {done.stderr.strip()}")
        return 0
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        return _fail(f"cannot write {path}: {exc}")
    return 0


def _write_module(args, text: str, parsed) -> int:
    """-o FILE: the derivative as a module that imports the file's own names from it."""
    import os
    from . import __version__
    from .export import module_text, static_resolver
    module = os.path.splitext(os.path.basename(args.file))[0]
    kind = "jvp (tangent program)" if args.mode == "forward" else "gradient"
    header = (f"The {kind} of {module}.{args.func} (argnums {args.argnums}), from {args.file}.\n\n"
              f"Written by s2sad {__version__} (s2sad {os.path.basename(args.file)} {args.func} -o); "
              f"it runs without s2sad installed, where {module} can be imported.")
    try:
        out = module_text(text, static_resolver(parsed.namespace, module), header)
    except S2SADError as exc:
        print(f"s2sad: {exc}", file=sys.stderr)
        return 1
    try:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(out)
    except OSError as exc:
        return _fail(f"cannot write {args.output}: {exc}")
    return 0


def _fail(message: str) -> int:
    print(f"s2sad: {message}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from .emit import to_source
    from .normalize import normalize
    from .optimize import optimize
    from .parse import parse_file
    from .reverse import reverse
    try:
        parsed = parse_file(args.file, args.func)
    except FileNotFoundError:
        return _fail(f"no such file: {args.file}")
    except IsADirectoryError:
        return _fail(f"{args.file} is a directory, not a Python file")
    except SyntaxError as exc:
        return _fail(f"{args.file}:{exc.lineno}: not valid Python: {exc.msg}")
    except LookupError as exc:
        return _fail(str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"cannot read {args.file}: {exc}")
    try:
        argnums = [int(a) for a in args.argnums.split(",") if a.strip()]
        ndims = {}
        for item in args.ndim:
            key, _, value = item.partition("=")
            ndims[key.strip()] = int(value)
    except ValueError:
        return _fail("--argnums takes integers like 0,2 and --ndim takes NAME=N")
    try:
        norm = normalize(parsed)
        if args.graph:
            return _write_graph(norm, args.graph)
        if args.stage == "anf":
            sys.stdout.write(to_source(norm.node))
            return 0
        params = norm.params
        if any(not -len(params) <= i < len(params) for i in argnums):
            return _fail(f"--argnums {args.argnums} out of range: {args.func} has "
                         f"{len(params)} parameters")
        wrt = [params[i] for i in argnums]
        if args.mode == "forward":
            from .forward import forward
            tree = forward(norm, wrt, ndims, name=f"jvp_{args.func}")
        else:
            tree = reverse(norm, wrt, ndims, multi=len(wrt) > 1, name=f"grad_{args.func}")
        trees = [tree] + [entry[1] for entry in getattr(tree, "_s2sad_callees", {}).values()
                          if entry[1] is not None]
        if args.stage == "optimized":
            trees = [optimize(t) for t in trees]
        text = "\n\n".join(to_source(t) for t in trees)
        if args.output:
            return _write_module(args, text, parsed)
        sys.stdout.write(text)
        return 0
    except S2SADError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except Exception as exc:          # a bug in s2sad: say so in one line
        print(f"s2sad: internal error while transforming {args.func}: {type(exc).__name__}: {exc} "
              f"(a bug in s2sad; please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":          # pragma: no cover
    sys.exit(main())
