"""Derivative rules of NumPy's elementwise functions (ufuncs) and of ``x.clip``.

Each rule says ``elementwise=True``: the transformer undoes broadcasting of each
contribution once, outside the rule.  Conventions at kinks and ties (JAX's):
``maximum``/``minimum``/``fmax``/``fmin`` split the derivative evenly at ties; ``abs``,
``fabs`` and ``sign``-like factors give 0 at 0; ``clip`` passes the derivative to ``x``
on the closed interval; ``sinc`` has derivative 0 at 0.
"""
from .registry import jvp, nondifferentiable, note, vjp

E = dict(elementwise=True)

# --- elementwise functions of one argument ------------------------------------------------
vjp("np.sin(x)", **E, x="y_bar * np.cos(x)")
jvp("np.sin(x)", **E, x="x_dot * np.cos(x)")
vjp("np.cos(x)", **E, x="-(y_bar * np.sin(x))")
jvp("np.cos(x)", **E, x="-(x_dot * np.sin(x))")
vjp("np.tan(x)", **E, x="y_bar * (1.0 + y * y)")
jvp("np.tan(x)", **E, x="x_dot * (1.0 + y * y)")
vjp("np.exp(x)", **E, x="y_bar * y")
jvp("np.exp(x)", **E, x="x_dot * y")
vjp("np.log(x)", **E, x="y_bar / x")
jvp("np.log(x)", **E, x="x_dot / x")
vjp("np.log1p(x)", **E, x="y_bar / (1.0 + x)")
jvp("np.log1p(x)", **E, x="x_dot / (1.0 + x)")
vjp("np.expm1(x)", **E, x="y_bar * (y + 1.0)")
jvp("np.expm1(x)", **E, x="x_dot * (y + 1.0)")
vjp("np.sqrt(x)", **E, x="y_bar / (2.0 * y)")
jvp("np.sqrt(x)", **E, x="x_dot / (2.0 * y)")
vjp("np.tanh(x)", **E, x="y_bar * (1.0 - y * y)")
jvp("np.tanh(x)", **E, x="x_dot * (1.0 - y * y)")
vjp("np.sinh(x)", **E, x="y_bar * np.cosh(x)")
jvp("np.sinh(x)", **E, x="x_dot * np.cosh(x)")
vjp("np.cosh(x)", **E, x="y_bar * np.sinh(x)")
jvp("np.cosh(x)", **E, x="x_dot * np.sinh(x)")
vjp("np.arcsin(x)", **E, x="y_bar / np.sqrt(1.0 - x * x)")
jvp("np.arcsin(x)", **E, x="x_dot / np.sqrt(1.0 - x * x)")
vjp("np.arccos(x)", **E, x="-(y_bar / np.sqrt(1.0 - x * x))")
jvp("np.arccos(x)", **E, x="-(x_dot / np.sqrt(1.0 - x * x))")
vjp("np.arctan(x)", **E, x="y_bar / (1.0 + x * x)")
jvp("np.arctan(x)", **E, x="x_dot / (1.0 + x * x)")
vjp("np.abs(x)", **E, x="y_bar * np.sign(x)")
jvp("np.abs(x)", **E, x="x_dot * np.sign(x)")
vjp("np.square(x)", **E, x="y_bar * (2.0 * x)")
jvp("np.square(x)", **E, x="x_dot * (2.0 * x)")
vjp("np.negative(x)", **E, x="-y_bar")
jvp("np.negative(x)", **E, x="-x_dot")

# --- elementwise functions of several arguments (broadcasting) ----------------------------
vjp("np.add(a, b)", **E, a="y_bar", b="y_bar")
jvp("np.add(a, b)", **E, a="a_dot", b="b_dot")
vjp("np.subtract(a, b)", **E, a="y_bar", b="-y_bar")
jvp("np.subtract(a, b)", **E, a="a_dot", b="-b_dot")
vjp("np.multiply(a, b)", **E, a="y_bar * b", b="y_bar * a")
jvp("np.multiply(a, b)", **E, a="a_dot * b", b="a * b_dot")
vjp("np.divide(a, b)", **E, a="y_bar / b", b="-(y_bar * y / b)")
jvp("np.divide(a, b)", **E, a="a_dot / b", b="-(b_dot * y / b)")
vjp("np.power(a, b)", **E, a="y_bar * (b * a ** (b - 1))", b="y_bar * (y * np.log(a))")
jvp("np.power(a, b)", **E, a="a_dot * (b * a ** (b - 1))", b="b_dot * (y * np.log(a))")
vjp("np.arctan2(a, b)", **E, a="y_bar * b / (a * a + b * b)", b="-(y_bar * a / (a * a + b * b))")
jvp("np.arctan2(a, b)", **E, a="a_dot * b / (a * a + b * b)", b="-(b_dot * a / (a * a + b * b))")
vjp("np.hypot(a, b)", **E, a="y_bar * a / y", b="y_bar * b / y")
jvp("np.hypot(a, b)", **E, a="a_dot * a / y", b="b_dot * b / y")
vjp("np.maximum(a, b)", **E, a="y_bar * ((a > b) + 0.5 * (a == b))", b="y_bar * ((b > a) + 0.5 * (a == b))")
jvp("np.maximum(a, b)", **E, a="a_dot * ((a > b) + 0.5 * (a == b))", b="b_dot * ((b > a) + 0.5 * (a == b))")
vjp("np.minimum(a, b)", **E, a="y_bar * ((a < b) + 0.5 * (a == b))", b="y_bar * ((b < a) + 0.5 * (a == b))")
jvp("np.minimum(a, b)", **E, a="a_dot * ((a < b) + 0.5 * (a == b))", b="b_dot * ((b < a) + 0.5 * (a == b))")
vjp("np.where(condition, a, b)", **E, a="np.where(condition, y_bar, 0.0)", b="np.where(condition, 0.0, y_bar)")
jvp("np.where(condition, a, b)", **E, a="np.where(condition, a_dot, 0.0)", b="np.where(condition, 0.0, b_dot)")
vjp("np.clip(x, lo, hi)", **E, x="y_bar * (y == x)", lo="y_bar * (x < lo)", hi="y_bar * (x > hi)")
jvp("np.clip(x, lo, hi)", **E, x="x_dot * (y == x)", lo="lo_dot * (x < lo)", hi="hi_dot * (x > hi)")
# heaviside(x1, x2) is x2 where x1 == 0: its value there is x2's (a step elsewhere)
vjp("np.heaviside(x1, x2)", **E, x2="y_bar * (x1 == 0)")
jvp("np.heaviside(x1, x2)", **E, x2="x2_dot * (x1 == 0)")
vjp("np.logaddexp(a, b)", **E, a="y_bar * np.exp(a - y)", b="y_bar * np.exp(b - y)")
jvp("np.logaddexp(a, b)", **E, a="a_dot * np.exp(a - y)", b="b_dot * np.exp(b - y)")

# --- more functions of one argument: the derivative's factor in x and y (the result) ---------
LN2, LN10 = "0.6931471805599453", "2.302585092994046"
ONE_ARGUMENT = {
    "np.log2(x)": f"1.0 / (x * {LN2})",
    "np.log10(x)": f"1.0 / (x * {LN10})",
    "np.exp2(x)": f"{LN2} * y",
    "np.cbrt(x)": "1.0 / (3.0 * (y * y))",
    "np.reciprocal(x)": "-(y * y)",
    "np.arcsinh(x)": "1.0 / np.sqrt(x * x + 1.0)",
    "np.arccosh(x)": "1.0 / np.sqrt(x * x - 1.0)",
    "np.arctanh(x)": "1.0 / (1.0 - x * x)",
    "np.deg2rad(x)": "0.017453292519943295",
    "np.radians(x)": "0.017453292519943295",
    "np.rad2deg(x)": "57.29577951308232",
    "np.degrees(x)": "57.29577951308232",
    "np.fabs(x)": "np.sign(x)",
    # (cos(pi x) - sinc(x)) / x, and 0 at x == 0 (the inner where keeps the division finite)
    "np.sinc(x)": "np.where(x == 0, 0.0, (np.cos(3.141592653589793 * x) - y) / np.where(x == 0, 1.0, x))",
    "np.nan_to_num(x)": "np.isfinite(x)",
}
for pattern, factor in ONE_ARGUMENT.items():
    vjp(pattern, **E, x=f"y_bar * ({factor})")
    jvp(pattern, **E, x=f"x_dot * ({factor})")
vjp("np.positive(x)", **E, x="y_bar")
jvp("np.positive(x)", **E, x="x_dot")
vjp("np.ldexp(x, i)", **E, x="y_bar * np.ldexp(1.0, i)")
jvp("np.ldexp(x, i)", **E, x="x_dot * np.ldexp(1.0, i)")
note("np.cbrt(x)", "infinite derivative at 0")
note("np.sinc(x)", "derivative 0 at 0 (exact); second derivative there is not")
note("np.fabs(x)", "derivative 0 at 0")
note("np.nan_to_num(x)", "derivative 0 where x is nan or infinite")

# --- more functions of two arguments ---------------------------------------------------------
TWO_ARGUMENTS = {
    "np.float_power(a, b)": ("b * np.float_power(a, b - 1.0)", "y * np.log(a)"),
    "np.logaddexp2(a, b)": ("np.exp2(a - y)", "np.exp2(b - y)"),
    # fmax/fmin ignore a nan operand: all of the derivative goes to the other one
    "np.fmax(a, b)": ("(a > b) + 0.5 * (a == b) + np.isnan(b)", "(b > a) + 0.5 * (a == b) + np.isnan(a)"),
    "np.fmin(a, b)": ("(a < b) + 0.5 * (a == b) + np.isnan(b)", "(b < a) + 0.5 * (a == b) + np.isnan(a)"),
    # a - floor(a / b) * b (np.mod is np.remainder) and a - trunc(a / b) * b
    "np.remainder(a, b)": ("1.0", "-np.floor(a / b)"),
    "np.fmod(a, b)": ("1.0", "-np.trunc(a / b)"),
}
for pattern, (da, db) in TWO_ARGUMENTS.items():
    vjp(pattern, **E, a=f"y_bar * ({da})", b=f"y_bar * ({db})")
    jvp(pattern, **E, a=f"a_dot * ({da})", b=f"b_dot * ({db})")
# copysign(a, b) is |a| with b's sign: piecewise constant in b
vjp("np.copysign(a, b)", **E, a="y_bar * (np.copysign(1.0, a) * np.copysign(1.0, b))")
jvp("np.copysign(a, b)", **E, a="a_dot * (np.copysign(1.0, a) * np.copysign(1.0, b))")
note("np.maximum(a, b)", "ties: half the derivative to each argument (as JAX)")
note("np.minimum(a, b)", "ties: half the derivative to each argument (as JAX)")
note("np.fmax(a, b)", "ties split evenly; a nan argument gets none")
note("np.fmin(a, b)", "ties split evenly; a nan argument gets none")
note("np.remainder(a, b)", "jumps where a / b is an integer")
note("np.fmod(a, b)", "jumps where a / b is an integer")
note("np.copysign(a, b)", "zero derivative in b; derivative in a is 0 at a == 0")
note("np.abs(x)", "derivative 0 at 0 (as JAX)")
note("np.clip(x, lo, hi)", "x gets the derivative where lo <= x <= hi (bounds included)")
note("np.power(a, b)", "derivative in b needs a > 0")
note("np.float_power(a, b)", "derivative in b needs a > 0")

# x.clip(lo, hi) is np.clip(x, lo, hi)
vjp("x.clip(lo=None, hi=None)", **E, x="y_bar * (y == x)", lo="y_bar * (x < lo)", hi="y_bar * (x > hi)")
jvp("x.clip(lo=None, hi=None)", **E, x="x_dot * (y == x)", lo="lo_dot * (x < lo)", hi="hi_dot * (x > hi)")

nondifferentiable("np.signbit", "np.isclose", "np.allclose", "np.array_equal", "np.isreal",
                  "np.isneginf", "np.isposinf", "np.logical_xor", "np.searchsorted", "np.digitize",
                  ".round")
