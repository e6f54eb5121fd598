"""Derivative rules of Python's arithmetic operators (on floats and arrays alike)."""
from .registry import ELEMENTWISE, vjp

vjp("a + b", elementwise=True, a="y_bar", b="y_bar")
vjp("a - b", elementwise=True, a="y_bar", b="-y_bar")
vjp("a * b", elementwise=True, a="y_bar * b", b="y_bar * a")
vjp("a / b", elementwise=True, a="y_bar / b", b="-(y_bar * y / b)")
vjp("a ** b", elementwise=True, a="y_bar * (b * a ** (b - 1))", b="y_bar * (y * np.log(a))")
vjp("a % b", elementwise=True, a="y_bar", b="-(y_bar * (a // b))")
vjp("a @ b", out="array", a="matmul_vjp_a(y_bar, a, b)", b="matmul_vjp_b(y_bar, a, b)")
vjp("a @ b", ndim=(2, 1), a="np.outer(y_bar, b)", b="a.T @ y_bar")
vjp("a @ b", ndim=(1, 2), a="b @ y_bar", b="np.outer(a, y_bar)")
vjp("a @ b", ndim=(2, 2), a="y_bar @ b.T", b="a.T @ y_bar")
vjp("a @ b", ndim=(1, 1), a="y_bar * b", b="y_bar * a")
vjp("-x", out=ELEMENTWISE, x="-y_bar")
vjp("+x", out=ELEMENTWISE, x="y_bar")
