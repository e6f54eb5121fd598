"""Declarative derivative rules.  Importing this package registers them all."""
from . import math_, numpy_, operators, runtime_  # noqa: F401  (registration side effects)
from .registry import (ARRAY, ELEMENTWISE, NONDIFFERENTIABLE, RULES, SAME, SCALAR, Rule,  # noqa: F401
                       INPLACE, is_nondifferentiable, lookup)
