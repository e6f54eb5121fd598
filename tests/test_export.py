"""Standalone derivatives (s2sad.export, the CLI's -o) that run where s2sad is not installed,
and derivative objects that pickle."""
import importlib.util
import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sad
from s2sad import cli

MODEL = textwrap.dedent("""\
    import math
    import numpy as np

    M = np.arange(6.0).reshape(2, 3)
    SCALE = 2.0


    def normal_pdf(x, mu, sigma):
        return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


    def loss(w, X):
        z = X @ w + np.sum(M @ w)
        return np.sum(normal_pdf(z, 0.5, SCALE)) + math.log(1.0 + w[0] ** 2)


    def broadcast(x, b):
        return np.sum(np.tanh(x + b))


    def loopy(x, n):
        y = x
        for i in range(n):
            if y < 2:
                y = 3 * y * y - y + 1
            else:
                y = math.sin(y) * y
        return y
    """)

W = np.array([0.1, 0.2, 0.3])
X = np.linspace(-1.0, 1.0, 12).reshape(4, 3)


@pytest.fixture
def model(tmp_path, monkeypatch):
    """The model as an importable module (``exported_model``), its directory on sys.path."""
    directory = tmp_path / "mods"
    directory.mkdir()
    (directory / "exported_model.py").write_text(MODEL)
    monkeypatch.syspath_prepend(str(directory))
    sys.modules.pop("exported_model", None)
    import exported_model
    yield exported_model
    sys.modules.pop("exported_model", None)


def run_without_s2sad(directory, code, tmp_path):
    """Run ``code`` in a fresh Python where ``import s2sad`` fails."""
    block = tmp_path / "block"
    block.mkdir(exist_ok=True)
    (block / "s2sad.py").write_text("raise ImportError('s2sad is not installed here')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(block), str(directory)]))
    done = subprocess.run([sys.executable, "-c", code], cwd=directory, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_exported_gradient_runs_without_s2sad(model, tmp_path):
    df = s2sad.grad(model.loss)
    expected = df(W, X)
    directory = tmp_path / "mods"
    text = s2sad.export(df, directory / "grad_loss.py")
    assert "grad of exported_model.loss" in text and f"s2sad {s2sad.__version__}" in text
    assert "from exported_model import M" in text and "from exported_model import normal_pdf" in text
    assert "def vjp_normal_pdf" in text                  # the helper's derivative comes along
    out = run_without_s2sad(directory, textwrap.dedent(f"""\
        import sys
        import numpy as np
        from grad_loss import grad_loss
        w = np.array({W.tolist()}); X = np.array({X.tolist()})
        print(repr(grad_loss(w, X).tolist()))
        assert "s2sad" not in sys.modules
        """), tmp_path)
    np.testing.assert_allclose(eval(out), expected, rtol=1e-15)


def test_runtime_helpers_are_copied(model, tmp_path):
    df = s2sad.grad(model.broadcast, argnums=(0, 1))
    x = np.array([[0.1, 0.2], [0.3, 0.4]])
    expected = df(x, np.array([0.5, -0.5]))
    directory = tmp_path / "mods"
    text = s2sad.export(df, directory / "grad_broadcast.py")
    assert "def unbroadcast(" in text and "import numpy as np" in text
    out = run_without_s2sad(directory, textwrap.dedent("""\
        import numpy as np
        from grad_broadcast import grad_broadcast
        gx, gb = grad_broadcast(np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([0.5, -0.5]))
        print(repr((gx.tolist(), gb.tolist())))
        """), tmp_path)
    gx, gb = eval(out)
    np.testing.assert_allclose(gx, expected[0], rtol=1e-15)
    np.testing.assert_allclose(gb, expected[1], rtol=1e-15)


def test_loops_export(model, tmp_path):
    df = s2sad.value_and_grad(model.loopy)
    expected = df(0.5, 3)
    directory = tmp_path / "mods"
    s2sad.export(df, directory / "vg_loopy.py")
    out = run_without_s2sad(directory, "from vg_loopy import value_and_grad_loopy as f\n"
                                       "print(repr(f(0.5, 3)))\n", tmp_path)
    value, grad = eval(out)
    assert value == expected[0] and grad == pytest.approx(expected[1], rel=1e-15)


def test_cli_output_module(model, tmp_path):
    directory = tmp_path / "mods"
    target = directory / "grad_loss_cli.py"
    assert cli.main([str(directory / "exported_model.py"), "loss", "-o", str(target)]) == 0
    text = target.read_text()
    assert "exported_model.loss" in text and f"s2sad {s2sad.__version__}" in text
    out = run_without_s2sad(directory, textwrap.dedent(f"""\
        import numpy as np
        from grad_loss_cli import grad_loss
        print(repr(grad_loss(np.array({W.tolist()}), np.array({X.tolist()})).tolist()))
        """), tmp_path)
    np.testing.assert_allclose(eval(out), s2sad.grad(model.loss)(W, X), rtol=1e-15)


def test_cli_output_never_runs_the_file(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    path = tmp_path / "model.py"
    path.write_text(f"import numpy as np\nopen({str(sentinel)!r}, 'w').write('x')\nraise SystemExit(3)\n\n\n"
                    "def f(x):\n    return np.sum(np.sin(x))\n")
    assert cli.main([str(path), "f", "-o", str(tmp_path / "grad_f.py")]) == 0
    assert not sentinel.exists()
    assert "def grad_f(x):" in (tmp_path / "grad_f.py").read_text()


def test_export_refusals(tmp_path):
    with pytest.raises(s2sad.ArgumentError, match="made by s2sad.grad"):
        s2sad.export(s2sad.jacfwd(np.sin), tmp_path / "j.py")
    scale = np.array([1.0, 2.0])

    def closes_over_an_array(x):
        return np.sum(x * scale)
    df = s2sad.grad(closes_over_an_array)
    df(np.ones(2))
    with pytest.raises(s2sad.ArgumentError, match="'scale'"):
        s2sad.export(df, tmp_path / "c.py")
    assert not (tmp_path / "c.py").exists()


def test_a_closure_number_is_written_in(tmp_path, model):
    k = 3.0

    def closes_over_a_number(x):
        return np.sum(x * k)
    df = s2sad.grad(closes_over_a_number)
    df(np.ones(2))
    text = s2sad.export(df, tmp_path / "k.py")
    assert "k = 3.0" in text


def test_derivatives_pickle(model):
    for d, args in [(s2sad.grad(model.loopy), (0.5, 3)), (s2sad.value_and_grad(model.loopy), (0.5, 3)),
                    (s2sad.grad(s2sad.grad(model.loopy)), (0.5, 3)), (s2sad.hessian(model.loss), (W, X)),
                    (s2sad.jacrev(model.loss, argnums=(0,)), (W, X)),
                    (s2sad.grad(model.loss, argnums=(0, 1)), (W, X))]:
        again = pickle.loads(pickle.dumps(d))
        expected, got = d(*args), again(*args)
        for e, g in zip(np.atleast_1d(np.asarray(expected, dtype=object)),
                        np.atleast_1d(np.asarray(got, dtype=object))):
            np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(e, dtype=float), rtol=1e-15)


def test_multiprocessing(model):
    df = s2sad.grad(model.loopy)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        got = pool.starmap(df, [(0.5, 3), (1.5, 2)])
    assert got == [df(0.5, 3), df(1.5, 2)]
