"""Reverse mode on f(x1, x2, x3) = sin(x1) + cos(x2)·x3 − log(x3), and the lecture's
``for_each`` and ``if_else`` programs.

One reverse sweep gives the whole gradient ∇f = (cos x1, −x3 sin x2, cos x2 − 1/x3).  Loops
and branches stay loops and branches in the generated code (printed below): what the
reverse sweep needs from the forward one is kept on a list.

    python examples/reverse_mode.py [--small]
"""
import math

import numpy as np

from _common import central_difference, compare, finish, options, s2sad


def f(x1, x2, x3):
    return math.sin(x1) + math.cos(x2) * x3 - math.log(x3)


def for_each(x, n):
    """sin(x) + sin(sin(x)) + ... by a for loop over range(n)."""
    total = 0.0
    y = x
    for i in range(n):
        y = math.sin(y)
        total = total + y
    return total


def if_else(x):
    """A branch on the value: x² below 1, 2x − 1 (its tangent line) above."""
    if x < 1.0:
        y = x * x
    else:
        y = 2.0 * x - 1.0
    return y


def main():
    options(__doc__)
    x1, x2, x3 = 1.0, 2.0, 3.0
    df = s2sad.grad(f, argnums=(0, 1, 2))
    compare("∇f(1, 2, 3)", df(x1, x2, x3),
            (math.cos(x1), -x3 * math.sin(x2), math.cos(x2) - 1.0 / x3))
    print(s2sad.source(df))

    # for_each: compare with finite differences of the function itself
    d_for = s2sad.grad(for_each)
    for x in (0.3, 1.2, -2.0):
        compare(f"for_each'({x}) vs finite differences", d_for(x, 5),
                central_difference(lambda v: for_each(v, 5), x), rtol=1e-7)
    print(s2sad.source(d_for))

    # if_else: each side of the branch has its own derivative (2x, then 2)
    d_if = s2sad.grad(if_else)
    compare("if_else'(0.5) = 2x", d_if(0.5), 1.0)
    compare("if_else'(3.0) = 2", d_if(3.0), 2.0)
    print(s2sad.source(d_if))
    finish()


if __name__ == "__main__":
    main()
