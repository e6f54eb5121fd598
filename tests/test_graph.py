"""s2sad.graph: the computation graph of the three-address form as Graphviz DOT, with values and
adjoints when given arguments; the CLI's --graph writes it without running anything."""
import inspect
import math
import shutil
import subprocess
import textwrap

import numpy as np
import pytest

import s2sad
from s2sad import cli


def f(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


def h(x, n):
    y = x
    for i in range(n):
        if y < 2:
            y = 3 * y * y - y + 1
        else:
            y = math.sin(y) * y
    return y


def divides_by_zero(x):
    return x / 0.0                     # raises if it ever runs


def vector(x):
    return np.sin(x) * 2.0


ran = []


def unsupported(x):
    ran.append(1)
    with open("nothing") as fh:
        fh.read()
    return x


def labels(dot):
    return [line.split("label=", 1)[1].split('"')[1] for line in dot.splitlines()
            if "[label=" in line and "->" not in line]


def edges(dot):
    return [line.strip().rstrip(";") for line in dot.splitlines() if "->" in line]


def test_structure_without_running():
    dot = s2sad.graph(divides_by_zero)             # nothing runs: no ZeroDivisionError
    assert dot.startswith('digraph "divides_by_zero" {') and dot.rstrip().endswith("}")
    dot = s2sad.graph(f)
    assert labels(dot) == ["x1", "x2", "t1 = np.log(x1)", "t2 = x1 * x2", "t3 = t1 + t2",
                           "t4 = np.sin(x2)", "y = t3 - t4", "return y"]
    # x1 feeds log and *, x2 feeds * and sin: 9 edges in the DAG, the return included
    assert len(edges(dot)) == 9
    assert "= " not in "".join(labels(dot)).replace(" = ", "")   # no values


def test_values_and_adjoints_of_seed_003():
    dot = s2sad.graph(f, 2.0, 5.0)
    text = "\n".join(labels(dot)).replace("\\n", "\n")
    assert "t1 = np.log(x1)\n= 0.6931\nt1_bar = 1" in text
    assert "x1\n= 2\nx1_bar = 5.5" in text
    assert "x2\n= 5\nx2_bar = 1.716" in text
    assert "y = t3 - t4\n= 11.65\ny_bar = 1" in text
    plain = s2sad.graph(f, 2.0, 5.0, adjoints=False)
    assert "_bar" not in plain and "= 0.6931" in plain
    assert s2sad.graph(f, 2.0, 5.0, values=False, adjoints=False) == s2sad.graph(f)


def test_control_flow_as_clusters():
    dot = s2sad.graph(h, 0.5, 3)
    assert 'label="for i in range(n)"' in dot
    assert 'label="if y < 2"' in dot and 'label="else (not y < 2)"' in dot
    assert dot.count("subgraph cluster_") == 3
    assert "next iteration" in dot                 # the loop-carried y
    text = "\n".join(labels(dot))
    assert "x_bar = -28.17" in text                # an argument's adjoint is shown
    assert "y = y_3\\n" not in text                 # y has a value per iteration: none shown
    # y_3 is assigned on both sides of the branch: both reach y = y_3
    ids = {lab: line.split()[0] for line in dot.splitlines() if "[label=" in line and "->" not in line
           for lab in [line.split('"')[1]]}
    assert f"{ids['y_3 = t3 + 1']} -> {ids['y = y_3']}" in edges(dot)
    assert f"{ids['y_3 = t4 * y']} -> {ids['y = y_3']}" in edges(dot)


def test_adjoints_need_a_scalar_output():
    with pytest.raises(s2sad.ArgumentError, match="scalar output"):
        s2sad.graph(vector, np.ones(3))
    assert "= [" in s2sad.graph(vector, np.ones(3), adjoints=False)


def test_unsupported_code_is_refused_before_running():
    ran.clear()
    with pytest.raises(s2sad.UnsupportedSyntaxError) as info:
        s2sad.graph(unsupported, 1.0)
    lineno = inspect.getsourcelines(unsupported)[1] + 2
    assert f":{lineno}:" in str(info.value)
    assert not ran


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_reads_it(tmp_path):
    done = subprocess.run(["dot", "-Tsvg"], input=s2sad.graph(h, 0.5, 3), text=True, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert "<svg" in done.stdout


@pytest.fixture
def model(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(f"""\
        import numpy as np

        open({str(sentinel)!r}, "w").write("x")
        raise SystemExit(3)


        def f(x1, x2):
            return np.log(x1) + x1 * x2 - np.sin(x2)
        """))
    return path, sentinel


def test_cli_writes_dot_without_running_the_file(model, tmp_path):
    path, sentinel = model
    out = tmp_path / "f.dot"
    assert cli.main([str(path), "f", "--graph", str(out)]) == 0
    assert not sentinel.exists()
    assert labels(out.read_text())[2:5] == ["t1 = np.log(x1)", "t2 = x1 * x2", "t3 = t1 + t2"]


def test_cli_picture_needs_graphviz(model, tmp_path, monkeypatch, capsys):
    path, sentinel = model
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert cli.main([str(path), "f", "--graph", str(tmp_path / "f.svg")]) == 2
    assert "Graphviz" in capsys.readouterr().err and not (tmp_path / "f.svg").exists()
    assert not sentinel.exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_cli_renders_svg(model, tmp_path):
    path, sentinel = model
    assert cli.main([str(path), "f", "--graph", str(tmp_path / "f.svg")]) == 0
    assert "<svg" in (tmp_path / "f.svg").read_text()
    assert not sentinel.exists()
