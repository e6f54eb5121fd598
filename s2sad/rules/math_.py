"""Derivative rules of the ``math`` module (Python floats in, Python floats out)."""
from .registry import SCALAR, nondifferentiable, vjp

vjp("math.sin(x)", out=SCALAR, x="y_bar * math.cos(x)")
vjp("math.cos(x)", out=SCALAR, x="-(y_bar * math.sin(x))")
vjp("math.tan(x)", out=SCALAR, x="y_bar * (1.0 + y * y)")
vjp("math.exp(x)", out=SCALAR, x="y_bar * y")
vjp("math.log(x)", out=SCALAR, x="y_bar / x")
vjp("math.log1p(x)", out=SCALAR, x="y_bar / (1.0 + x)")
vjp("math.expm1(x)", out=SCALAR, x="y_bar * (y + 1.0)")
vjp("math.sqrt(x)", out=SCALAR, x="y_bar / (2.0 * y)")
vjp("math.tanh(x)", out=SCALAR, x="y_bar * (1.0 - y * y)")
vjp("math.sinh(x)", out=SCALAR, x="y_bar * math.cosh(x)")
vjp("math.cosh(x)", out=SCALAR, x="y_bar * math.sinh(x)")
vjp("math.asin(x)", out=SCALAR, x="y_bar / math.sqrt(1.0 - x * x)")
vjp("math.acos(x)", out=SCALAR, x="-(y_bar / math.sqrt(1.0 - x * x))")
vjp("math.atan(x)", out=SCALAR, x="y_bar / (1.0 + x * x)")
vjp("math.atan2(a, b)", out=SCALAR,
    a="y_bar * b / (a * a + b * b)", b="-(y_bar * a / (a * a + b * b))")
vjp("math.erf(x)", out=SCALAR, x="y_bar * (1.1283791670955126 * math.exp(-(x * x)))")
vjp("math.pow(a, b)", out=SCALAR, a="y_bar * (b * math.pow(a, b - 1.0))", b="y_bar * (y * math.log(a))")
vjp("math.fabs(x)", out=SCALAR, x="y_bar * math.copysign(1.0, x)")
vjp("math.hypot(a, b)", out=SCALAR, a="y_bar * a / y", b="y_bar * b / y")
vjp("float(x)", out=SCALAR, x="y_bar")
vjp("sum(xs)", out="array", xs="unreduce(y_bar, xs, 0, False)", xs_whole="[y_bar] * len(xs)")
vjp("abs(x)", out="elementwise", x="y_bar * np.sign(x)")

nondifferentiable(
    "math.floor", "math.ceil", "math.trunc", "math.isnan", "math.isinf", "math.isfinite",
    "math.copysign", "math.factorial", "math.gcd",
    "len", "int", "bool", "round", "range", "print", "isinstance", "str",
)
