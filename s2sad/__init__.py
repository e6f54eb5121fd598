"""s2sad: source-to-source automatic differentiation for Python and NumPy.

``grad(f)`` reads ``f``'s source, lowers it to three-address form and writes
a new Python function that computes the gradient; ``source(grad(f))`` shows it.
"""
import sys as _sys


def _drop_user_path() -> None:
    """``python -m s2sad FILE FUNC`` must never import modules from the current directory:
    Python put it first on ``sys.path``, and this package (then NumPy) is imported before
    ``__main__`` runs, so a local ``numpy.py`` would run.  Only when s2sad itself is run
    with ``-m`` (while ``-m`` locates it, ``sys.argv[0]`` is ``"-m"``)."""
    orig = getattr(_sys, "orig_argv", None) or []
    mine = (__name__, __name__ + ".cli", __name__ + ".__main__")
    run_as_main = any(a == "-m" and b in mine or a in ["-m" + m for m in mine]
                      for a, b in zip(orig, orig[1:] + [""]))
    if _sys.argv[:1] == ["-m"] and run_as_main:
        import os
        cwd = os.getcwd()
        _sys.path[:] = [p for p in _sys.path if p not in ("", ".") and
                        os.path.abspath(p) != cwd]


_drop_user_path()
from .api import grad, hessian, jacfwd, jacrev, jvp, source, value_and_grad, vjp
from .errors import (ArgumentError, GeneratedCodeError, MissingRuleError, NotDifferentiableError, S2SADError, SourceUnavailableError,
                     UnsupportedSyntaxError)
from .parse import transparent
from .check import check_grads
from .errors import GradientCheckError
from .runtime import stop_gradient
from .traces import Trace, trace
from .graphs import graph
from .export import export
from . import rules
from .custom import custom_jvp, custom_vjp
from . import tree
from .tree import register_pytree

__all__ = ["grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "hessian", "source", "rules", "transparent",
           "S2SADError", "UnsupportedSyntaxError", "MissingRuleError", "SourceUnavailableError", "NotDifferentiableError",
           "ArgumentError", "GeneratedCodeError"]
__all__ += ["tree", "register_pytree", "custom_vjp", "custom_jvp"]
__all__ += ["check_grads", "GradientCheckError", "stop_gradient", "trace", "Trace", "graph", "export"]
__version__ = "0.1.0"
