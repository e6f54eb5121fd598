"""Declarative derivative rules.  Importing this package registers them all.

Users extend the same tables::

    import s2sad, scipy.special
    s2sad.rules.vjp("expit(x)", function=scipy.special.expit, elementwise=True,
                    x="y_bar * y * (1.0 - y)")
    s2sad.rules.jvp("expit(x)", function=scipy.special.expit, elementwise=True,
                    x="x_dot * y * (1.0 - y)")
    s2sad.rules.nondifferentiable(my_module.bucketize)
"""
from . import math_, numpy_, numpy_elementwise, numpy_reductions, operators, runtime_  # noqa: F401  (registration side effects)
# (after runtime_: their rules of np.take, np.swapaxes ... refine the ones derivatives need)
from . import linalg, numpy_shape, scipy_special  # noqa: F401,E402
from .registry import (ARRAY, ELEMENTWISE, INPLACE, LIST_VALUED, NONDIFFERENTIABLE, RULES,  # noqa: F401
                       SAME, SCALAR, Rule, is_list_valued, is_nondifferentiable, jvp, lookup, nondifferentiable, note, refuse,
                       refused, vjp)
