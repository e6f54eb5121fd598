"""Derivative rules of the ``math`` module (Python floats in, Python floats out)."""
from .registry import SCALAR, jvp, nondifferentiable, refuse, vjp

vjp("math.sin(x)", out=SCALAR, x="y_bar * math.cos(x)")
jvp("math.sin(x)", out=SCALAR, x="x_dot * math.cos(x)")
vjp("math.cos(x)", out=SCALAR, x="-(y_bar * math.sin(x))")
jvp("math.cos(x)", out=SCALAR, x="-(x_dot * math.sin(x))")
vjp("math.tan(x)", out=SCALAR, x="y_bar * (1.0 + y * y)")
jvp("math.tan(x)", out=SCALAR, x="x_dot * (1.0 + y * y)")
vjp("math.exp(x)", out=SCALAR, x="y_bar * y")
jvp("math.exp(x)", out=SCALAR, x="x_dot * y")
vjp("math.log(x)", out=SCALAR, x="y_bar / x")
jvp("math.log(x)", out=SCALAR, x="x_dot / x")
vjp("math.log1p(x)", out=SCALAR, x="y_bar / (1.0 + x)")
jvp("math.log1p(x)", out=SCALAR, x="x_dot / (1.0 + x)")
vjp("math.expm1(x)", out=SCALAR, x="y_bar * (y + 1.0)")
jvp("math.expm1(x)", out=SCALAR, x="x_dot * (y + 1.0)")
vjp("math.sqrt(x)", out=SCALAR, x="y_bar / (2.0 * y)")
jvp("math.sqrt(x)", out=SCALAR, x="x_dot / (2.0 * y)")
vjp("math.tanh(x)", out=SCALAR, x="y_bar * (1.0 - y * y)")
jvp("math.tanh(x)", out=SCALAR, x="x_dot * (1.0 - y * y)")
vjp("math.sinh(x)", out=SCALAR, x="y_bar * math.cosh(x)")
jvp("math.sinh(x)", out=SCALAR, x="x_dot * math.cosh(x)")
vjp("math.cosh(x)", out=SCALAR, x="y_bar * math.sinh(x)")
jvp("math.cosh(x)", out=SCALAR, x="x_dot * math.sinh(x)")
vjp("math.asin(x)", out=SCALAR, x="y_bar / math.sqrt(1.0 - x * x)")
jvp("math.asin(x)", out=SCALAR, x="x_dot / math.sqrt(1.0 - x * x)")
vjp("math.acos(x)", out=SCALAR, x="-(y_bar / math.sqrt(1.0 - x * x))")
jvp("math.acos(x)", out=SCALAR, x="-(x_dot / math.sqrt(1.0 - x * x))")
vjp("math.atan(x)", out=SCALAR, x="y_bar / (1.0 + x * x)")
jvp("math.atan(x)", out=SCALAR, x="x_dot / (1.0 + x * x)")
vjp("math.atan2(a, b)", out=SCALAR,
    a="y_bar * b / (a * a + b * b)", b="-(y_bar * a / (a * a + b * b))")
jvp("math.atan2(a, b)", out=SCALAR, a="a_dot * b / (a * a + b * b)", b="-(b_dot * a / (a * a + b * b))")
vjp("math.erf(x)", out=SCALAR, x="y_bar * (1.1283791670955126 * math.exp(-(x * x)))")
jvp("math.erf(x)", out=SCALAR, x="x_dot * (1.1283791670955126 * math.exp(-(x * x)))")
vjp("math.pow(a, b)", out=SCALAR, a="y_bar * (b * math.pow(a, b - 1.0))", b="y_bar * (y * math.log(a))")
jvp("math.pow(a, b)", out=SCALAR, a="a_dot * (b * math.pow(a, b - 1.0))", b="b_dot * (y * math.log(a))")
vjp("math.fabs(x)", out=SCALAR, x="y_bar * math.copysign(1.0, x)")
jvp("math.fabs(x)", out=SCALAR, x="x_dot * math.copysign(1.0, x)")
vjp("math.hypot(a, b)", out=SCALAR, a="y_bar * a / y", b="y_bar * b / y")
jvp("math.hypot(a, b)", out=SCALAR, a="a_dot * a / y", b="b_dot * b / y")
vjp("float(x)", out=SCALAR, x="y_bar")
jvp("float(x)", out=SCALAR, x="x_dot")
vjp("sum(xs)", out="array", xs="unreduce(y_bar, xs, 0, False)", xs_whole="fill_list(y_bar, xs)")
jvp("sum(xs)", xs="sum(xs_dot)")
jvp("sum(xs)", batched=True, xs="batch_sum(xs_dot)")
vjp("abs(x)", out="elementwise", x="y_bar * np.sign(x)")
jvp("abs(x)", out="elementwise", x="x_dot * np.sign(x)")

# more functions of one float: the derivative's factor in x and y (the result)
for pattern, factor in {
    "math.log2(x)": "1.0 / (x * 0.6931471805599453)",
    "math.log10(x)": "1.0 / (x * 2.302585092994046)",
    "math.exp2(x)": "0.6931471805599453 * y",
    "math.cbrt(x)": "1.0 / (3.0 * (y * y))",
    "math.asinh(x)": "1.0 / math.sqrt(x * x + 1.0)",
    "math.acosh(x)": "1.0 / math.sqrt(x * x - 1.0)",
    "math.atanh(x)": "1.0 / (1.0 - x * x)",
    "math.degrees(x)": "57.29577951308232",
    "math.radians(x)": "0.017453292519943295",
    "math.erfc(x)": "-1.1283791670955126 * math.exp(-(x * x))",
    "math.gamma(x)": "y * polygamma(0, x)",
    "math.lgamma(x)": "polygamma(0, x)",
}.items():
    vjp(pattern, out=SCALAR, x=f"y_bar * ({factor})")
    jvp(pattern, out=SCALAR, x=f"x_dot * ({factor})")
vjp("math.fmod(a, b)", out=SCALAR, a="y_bar", b="-(y_bar * math.trunc(a / b))")
jvp("math.fmod(a, b)", out=SCALAR, a="a_dot", b="-(b_dot * math.trunc(a / b))")
# (the rules of runtime.polygamma, the derivatives of lgamma to any order: rules/scipy_special.py)

# copysign(a, b) is |a| with the sign of b: a derivative in a, none in b (piecewise constant)
vjp("math.copysign(a, b)", out=SCALAR, a="y_bar * (math.copysign(1.0, a) * math.copysign(1.0, b))")
jvp("math.copysign(a, b)", out=SCALAR, a="a_dot * (math.copysign(1.0, a) * math.copysign(1.0, b))")

nondifferentiable(
    "math.floor", "math.ceil", "math.trunc", "math.isnan", "math.isinf", "math.isfinite",
    "math.factorial", "math.gcd",
    "len", "int", "bool", "round", "range", "print", "isinstance",
    # text: refused below when a differentiated value's text reaches the output
    "str", "repr", "format", "ascii", ".format",
)

# text round trips carry the value (float(str(x)) is x) but no rule can carry its derivative
refuse("str", "repr", "format", "ascii", ".format",
       hint="keep numbers as numbers inside the differentiated function; format them outside it")
refuse("reversed", hint="index the list backwards instead: xs[::-1]")
refuse("eval", "exec", "locals", "globals", "vars", always=True,
       hint="write the expression itself; s2sad cannot see what evaluated code reads")
