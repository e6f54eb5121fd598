"""Every script in examples/ runs with --small and prints numbers that agree.

Each example prints every number next to an independent one (closed form, finite
differences, EM, ...) as an ``[ok]`` or ``[MISMATCH]`` line and exits 1 on a mismatch; here
each runs in a subprocess, with its figures written to a temporary directory (or skipped
when matplotlib is missing).
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None

# the figures each example writes into --figures
FIGURES = {
    "forward_mode.py": ["forward_mode.png"],
    "reverse_mode.py": [],
    "mle_gaussian.py": ["mle_gaussian.png"],
    "mixture_mle.py": ["mixture_mle.png"],
    "ridge_map.py": ["ridge_map.png"],
    "benchmark_table.py": [],
    "fd_error.py": ["fd_error.png", "fd_sine.png"],
    "expression_swell.py": ["expression_swell.png"],
    "piecewise.py": ["piecewise.png"],
    "jacobian_modes.py": ["jacobian_modes.png"],
    "gradient_descent.py": ["gradient_descent.png"],
    "logistic_unit.py": ["logistic_unit.png"],
    "neural_network.py": ["neural_network.png"],
    "pytree_mlp.py": ["pytree_mlp.png"],
}


def _run(args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_every_example_is_listed():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts - {"quickstart.py"} == set(FIGURES)


@pytest.mark.parametrize("script", sorted(FIGURES))
def test_example_small(script, tmp_path):
    figures = tmp_path / "figures"
    extra = ["--figures", str(figures)] if HAVE_MATPLOTLIB else ["--no-figures"]
    # run from another directory: the scripts must not depend on the current one
    done = _run([str(EXAMPLES / script), "--small", *extra], cwd=tmp_path)
    out = done.stdout
    assert done.returncode == 0, f"{script} failed:\n{out}\n{done.stderr}"
    assert "[MISMATCH]" not in out
    assert out.count("[ok]") >= 2, out
    assert "all numbers agree" in out
    if HAVE_MATPLOTLIB:
        written = sorted(p.name for p in figures.glob("*.png")) if figures.exists() else []
        assert written == sorted(FIGURES[script])


def test_quickstart(tmp_path):
    done = _run([str(EXAMPLES / "quickstart.py")], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("ok")


def test_a_mismatch_fails_the_example(tmp_path):
    code = ("import sys; sys.path.insert(0, %r); import _common; "
            "_common.compare('two is three', 2.0, 3.0); _common.finish()" % str(EXAMPLES))
    done = _run(["-c", code], cwd=tmp_path)
    assert done.returncode == 1
    assert "[MISMATCH] two is three" in done.stdout


def test_no_figure_without_matplotlib(tmp_path):
    """A machine without matplotlib runs the examples and says the figure was skipped."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "matplotlib.py").write_text("raise ImportError('matplotlib is blocked for this test')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(blocker), str(ROOT)]))
    done = subprocess.run([sys.executable, str(EXAMPLES / "piecewise.py"), "--small", "--figures",
                           str(tmp_path / "figures")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "figure piecewise.png skipped" in done.stdout
    assert not (tmp_path / "figures").exists()
