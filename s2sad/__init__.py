"""s2sad: source-to-source automatic differentiation for Python and NumPy.

``grad(f)`` reads ``f``'s source, lowers it to three-address form and writes
a new Python function that computes the gradient; ``source(grad(f))`` shows it.
"""
from .api import grad, hessian, jacfwd, jacrev, jvp, source, value_and_grad, vjp
from .errors import (MissingRuleError, NotDifferentiableError, S2SADError, SourceUnavailableError,
                     UnsupportedSyntaxError)
from . import rules

__all__ = ["grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "hessian", "source", "rules",
           "S2SADError", "UnsupportedSyntaxError", "MissingRuleError", "SourceUnavailableError", "NotDifferentiableError"]
__version__ = "0.1.0"
