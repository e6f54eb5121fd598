"""Random programs: straight-line code, branches on values, loops and in-place
writes, generated from a seed; s2sad's gradient must match central finite
differences, optimized and not."""
import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import s2sad
from random_oracle import EFFECT_HEADER, check_program, seed_sample, smooth_source
from util import load_function

UNARY = ["math.sin({})", "math.cos({})", "math.tanh({})", "math.exp(-{0} * {0} / 4)",
         "({} ** 2)", "(-{})", "math.atan({})"]
BINARY = ["({} + {})", "({} - {})", "({} * {})", "({} / (1.0 + {} ** 2))", "({} * 0.5 + {})"]


class ProgramWriter:
    def __init__(self, rng: random.Random, effects: bool = False):
        self.rng = rng
        self.lines = []
        self.names = ["x", "y"]
        self.count = 0
        self.effects = effects            # also list aliases, mutating calls, displays, decorators
        self.used = []                    # the labels of the effect statements written
        self.effect_names = []            # the values they define

    def expr(self, depth=0):
        r = self.rng.random()
        if depth > 2 or r < 0.3:
            return self.rng.choice(self.names + [f"{self.rng.uniform(-2, 2):.3f}"])
        if r < 0.55:
            return self.rng.choice(UNARY).format(self.expr(depth + 1))
        if r < 0.65:
            # a module-level helper (its own derivative), with and without keywords
            if self.rng.random() < 0.5:
                return f"helper({self.expr(depth + 1)})"
            return f"helper({self.expr(depth + 1)}, b={self.expr(depth + 1)})"
        if r < 0.7:
            return f"(lambda_sq({self.expr(depth + 1)}))"
        return self.rng.choice(BINARY).format(self.expr(depth + 1), self.expr(depth + 1))

    def fresh(self):
        self.count += 1
        return f"v{self.count}"

    def block(self, indent, depth, size):
        for _ in range(size):
            pad = "    " * indent
            if self.effects and self.rng.random() < 0.3:
                self.effect_statement(pad, indent)
                continue
            r = self.rng.random()
            if depth < 2 and r < 0.2:
                self.lines.append(f"{pad}if {self.expr()} > {self.expr()}:")
                self.block(indent + 1, depth + 1, self.rng.randint(1, 3))
                self.lines.append(f"{pad}else:")
                self.block(indent + 1, depth + 1, self.rng.randint(1, 3))
            elif depth < 2 and r < 0.35:
                k = self.rng.randint(0, 3)
                self.lines.append(f"{pad}for i in range({k}):")
                saved = list(self.names)
                self.names.append("i")
                self.block(indent + 1, depth + 1, self.rng.randint(1, 3))
                if self.rng.random() < 0.3:
                    self.lines.append(f"{pad}    if {self.expr()} > 1.5:")
                    self.lines.append(f"{pad}        break")
                self.names = saved
            elif depth < 2 and r < 0.4:
                # a while loop with a value-dependent condition and a bounded count
                k = self.fresh()
                self.lines.append(f"{pad}{k} = 0")
                self.lines.append(f"{pad}while {self.expr()} > 0.3 and {k} < 3:")
                self.lines.append(f"{pad}    {k} = {k} + 1")
                self.block(indent + 1, depth + 1, self.rng.randint(1, 2))
                if self.rng.random() < 0.3:
                    self.lines.append(f"{pad}    if {self.expr()} > 1.0:")
                    self.lines.append(f"{pad}        continue")
            elif depth < 2 and r < 0.43:
                # an early return on some path
                self.lines.append(f"{pad}if {self.expr()} > 1.8:")
                self.lines.append(f"{pad}    return {self.expr()} * x")
            elif r < 0.47:
                xs = self.fresh()
                self.lines.append(f"{pad}{xs} = []")
                self.lines.append(f"{pad}for i in range({self.rng.randint(1, 3)}):")
                self.lines.append(f"{pad}    {xs}.append({self.expr()} * (i + 1))")
                name = self.fresh()
                self.lines.append(f"{pad}{name} = sum({xs}) + {xs}[-1]")
                if indent > 1:
                    self.lines.insert(1, f"    {name} = 0.25")
                self.names.append(name)
            elif r < 0.5 and "buf" not in self.names:
                self.lines.append(f"{pad}buf = np.zeros(3)")
                self.lines.append(f"{pad}buf[{self.rng.randint(0, 2)}] = {self.expr()}")
                self.lines.append(f"{pad}buf[{self.rng.randint(0, 2)}] += {self.expr()}")
                name = self.fresh()
                self.lines.append(f"{pad}{name} = float(np.sum(buf * np.array([1.0, -0.5, 2.0])))")
                if indent > 1:
                    self.lines.insert(1, f"    {name} = 0.25")
                self.names.append(name)
            else:
                target = self.rng.choice(self.names[2:] + [self.fresh()]) \
                    if len(self.names) > 2 and self.rng.random() < 0.4 else self.fresh()
                self.lines.append(f"{pad}{target} = {self.expr()}")
                if target not in self.names:
                    # defined in a branch or loop only: give it a value on every path
                    if indent > 1:
                        self.lines.insert(1, f"    {target} = 0.25")
                    self.names.append(target)

    def effect_statement(self, pad, indent):
        """A list alias or mutating list call, an array display, a write through an
        alias of a local array, a mutating array call, or a call of a decorated helper
        or a method; it defines a new scalar."""
        n, a, b = self.fresh(), self.fresh(), self.fresh()
        label, template = self.rng.choice(SCALAR_EFFECTS)
        self.used.append(label)
        text = template.format(n=n, a=a, b=b, e=self.expr(1), e2=self.expr(1), e3=self.expr(1))
        self.lines.extend(pad + line for line in text.split("\n"))
        if indent > 1:
            self.lines.insert(1, f"    {n} = 0.25")
        self.names.append(n)
        self.effect_names.append(n)

    def program(self):
        self.lines = ["def f(x, y):", "    lambda_sq = lambda v: v * v / (1.0 + v * v)"]
        self.block(1, 0, self.rng.randint(2, 6))
        terms = " + ".join(self.rng.sample(self.names, min(3, len(self.names))))
        if self.effects:
            # every value an effect statement defined reaches the output, with a weight
            terms += "".join(f" + {0.5 + 0.25 * k} * {n}" for k, n in enumerate(self.effect_names))
        self.lines.append(f"    return {terms} + x * y")
        helper = ("def helper(a, b=0.5):\n"
                  "    if a > b:\n"
                  "        return math.sin(a) * b\n"
                  "    return a * a - b\n")
        extra = EFFECT_HEADER + "\n\n" if self.effects else ""
        return "import math\nimport numpy as np\n\n\n" + helper + "\n\n" + extra + "\n".join(self.lines) + "\n"


# statements with effects for the scalar programs; each defines the float {n}
SCALAR_EFFECTS = [
    ('list alias append', "{a} = [{e}, {e2}]\n{b} = {a}\n{b}.append({e3})\n{n} = sum({a})"),         # list alias
    ('list extend', "{a} = [{e}]\n{a}.extend([{e2}, {e3}])\n{n} = {a}[0] * {a}[-1] + sum({a})"),
    ('list insert', "{a} = [{e}, {e2}]\n{a}.insert(1, {e3})\n{n} = {a}[1] * 2.0 + {a}[0]"),
    ('list reverse', "{a} = [{e}, {e2}, {e3}]\n{a}.reverse()\n{n} = {a}[0] + 0.5 * {a}[1]"),
    ('list pop', "{a} = [{e}, {e2}]\n{n} = {a}.pop() * {a}[0]"),
    ('display', "{a} = np.array([{e}, {e2}])\n{n} = float({a}[0] * {a}[1])"),           # displays
    ('nested display', "{a} = np.array([[{e}, 1.0], [{e2}, {e3}]])\n{n} = float(np.sum({a} @ {a}))"),
    ('array alias write', "{a} = np.zeros(2)\n{b} = {a}\n{b}[1] = {e}\n{n} = float(np.sum({a} * {a}))"),  # array alias
    ('slice view write', "{a} = np.ones(3)\n{b} = {a}[1:]\n{b}[0] = {e}\n{n} = float(np.sum({a} * {a}))"),
    ('fill', "{a} = np.zeros(3)\n{a}.fill({e})\n{n} = float({a}[1] * {a}[2])"),    # mutating calls
    ('repeated fancy +=', "{a} = np.zeros(2)\n{a}[[0, 0]] += {e}\n{n} = float({a}[0])"),
    ('decorated (doubles)', "{n} = float(doubled({e}))"),                                          # decorated helpers
    ('decorated (keeps)', "{n} = float(shifted({e}))"),
    ('bound method', "{n} = float(SCALER.scale({e}))"),                                     # methods
    ('static/classmethod', "{n} = float(Ops.square({e}) + Ops.affine({e2}))"),
]


def scalar_effect_program(seed, effects=True, labels=False):
    """The generated scalar program (with effects) for ``seed``, its arguments, a
    generator of random directions (and the labels of its effect statements)."""
    writer = ProgramWriter(random.Random(seed), effects=effects)
    source = writer.program()
    rng = np.random.default_rng(seed)
    args = (float(rng.uniform(-1.5, 1.5)), float(rng.uniform(-1.5, 1.5)))
    return (source, args, rng, writer.used) if labels else (source, args, rng)


def load(source, tmp_path, seed):
    return load_function(source, tmp_path, f"random_program_{seed}")


def central(f, x, y, which, eps):
    if which == 0:
        return (f(x + eps, y) - f(x - eps, y)) / (2 * eps)
    return (f(x, y + eps) - f(x, y - eps)) / (2 * eps)


def one_sided(f, x, y, which, eps):
    base = f(x, y)
    if which == 0:
        return (f(x + eps, y) - base) / eps, (base - f(x - eps, y)) / eps
    return (f(x, y + eps) - base) / eps, (base - f(x, y - eps)) / eps


# Points are 0 or at least 1e-3 from it: with a tiny y (1e-235), a test like `-x > y - x`
# holds at x = 0 only, by rounding, so both neighbours of the point take the other branch
# and the finite difference measures a branch the program does not take (seed 3013).
POINT = st.floats(-1.5, 1.5).filter(lambda v: v == 0.0 or abs(v) >= 1e-3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10 ** 9), x=POINT, y=POINT)
def test_random_program_gradients(tmp_path, seed, x, y):
    source = ProgramWriter(random.Random(seed)).program()
    f = load(source, tmp_path, seed)
    try:
        value = f(x, y)
    except (OverflowError, ZeroDivisionError, ValueError, NameError):
        return
    if not math.isfinite(value) or abs(value) > 1e6:
        return
    for optimize in (True, False):
        gx, gy = s2sad.grad(f, argnums=(0, 1), optimize=optimize)(x, y)
        _, tx = s2sad.jvp(f, (x, y), (1.0, 0.0), optimize=optimize)
        _, ty = s2sad.jvp(f, (x, y), (0.0, 1.0), optimize=optimize)
        for which, g in ((0, gx), (1, gy), (0, tx), (1, ty)):
            fd1 = central(f, x, y, which, 1e-6)
            fd2 = central(f, x, y, which, 1e-7)
            forward, backward = one_sided(f, x, y, which, 1e-6)
            if abs(fd1 - fd2) > 1e-4 * max(1.0, abs(fd1)) or \
                    abs(forward - backward) > 1e-3 * max(1.0, abs(fd1)):
                continue          # a branch flips within the step: no derivative to compare
            assert abs(g - fd1) <= 1e-5 * max(1.0, abs(fd1)), (source, x, y, which, g, fd1)


# --------------------------------------------------------------------------
# programs with list aliases, mutating calls, displays, decorated helpers and methods:
# every mode must match finite differences or refuse before the program runs
# (tests/random_oracle.py); a fixed sample of seeds in CI, strict xfails for today's
# failures, tests/sweeps/sweep.py for many more.

EFFECT_SEEDS = range(6)
PLAIN_SEEDS = range(100, 104)       # the generators without effects, through the same oracle
PLAIN_FAILURES = {}
EFFECT_FAILURES = {}


@pytest.mark.parametrize("seed, effects", seed_sample(PLAIN_SEEDS, PLAIN_FAILURES, False)
                         + seed_sample(EFFECT_SEEDS, EFFECT_FAILURES, True))
def test_random_programs_with_effects(tmp_path, seed, effects):
    source, args, rng = scalar_effect_program(seed, effects=effects)
    name = f"random_effects_{effects}_{seed}"
    f = load_function(source, tmp_path, name)
    check_program(f, args, str(tmp_path / f"{name}.py"), rng, smooth=smooth_source(source))
