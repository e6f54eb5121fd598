"""The command line: ``python -m s2sad FILE.py FUNC [--argnums 0,1] [--stage ...]``.

The CLI reads the file as text and must never execute it: the target files here
write a sentinel file and exit with status 3 at their top level.
"""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return subprocess.run([sys.executable, "-m", "s2sad", *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def target(tmp_path):
    """A module that must not be run: it writes a sentinel and exits with 3."""
    sentinel = tmp_path / "SENTINEL"
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(f"""\
        import numpy as np

        open({str(sentinel)!r}, "w").write("x")
        raise SystemExit(3)


        def f(x1, x2, x3):
            return 3 * (x1 ** 2 + x2 * x3)


        def g(x, M):
            return np.sum(M @ x) - 2 * np.log(np.sum(np.exp(x)))
        """))
    return path, sentinel


def assert_printed_python(result):
    assert result.returncode == 0, result.stderr
    assert "def " in result.stdout
    compile(result.stdout, "<s>", "exec")


def test_prints_derivative_without_running_the_file(target, tmp_path):
    path, sentinel = target
    result = run_cli(path, "f", cwd=tmp_path)
    assert_printed_python(result)
    assert not sentinel.exists(), "the CLI executed the file"


def test_numpy_function(target, tmp_path):
    path, sentinel = target
    result = run_cli(path, "g", cwd=tmp_path)
    assert_printed_python(result)
    assert not sentinel.exists()


@pytest.mark.parametrize("argnums", ["0", "0,1", "0,1,2", "2,0"])
def test_argnums(target, tmp_path, argnums):
    path, sentinel = target
    result = run_cli(path, "f", "--argnums", argnums, cwd=tmp_path)
    assert_printed_python(result)
    assert not sentinel.exists()


@pytest.mark.parametrize("stage", ["anf", "raw", "optimized"])
def test_stages(target, tmp_path, stage):
    path, sentinel = target
    result = run_cli(path, "f", "--stage", stage, cwd=tmp_path)
    assert_printed_python(result)
    assert not sentinel.exists()


def test_relative_path(target, tmp_path):
    path, sentinel = target
    result = run_cli(path.name, "f", cwd=tmp_path)
    assert_printed_python(result)
    assert not sentinel.exists()


def assert_one_line_error(result):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].strip()
    assert "Traceback" not in result.stderr


def test_missing_file(tmp_path):
    result = run_cli(tmp_path / "does_not_exist.py", "f", cwd=tmp_path)
    assert_one_line_error(result)
    assert "does_not_exist.py" in result.stderr


def test_missing_function(target, tmp_path):
    path, sentinel = target
    result = run_cli(path, "no_such_function", cwd=tmp_path)
    assert_one_line_error(result)
    assert "no_such_function" in result.stderr
    assert not sentinel.exists()


def test_syntax_error_in_file(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def f(x):\n    return x *\n")
    result = run_cli(path, "f", cwd=tmp_path)
    assert_one_line_error(result)
    assert "broken.py" in result.stderr


def test_console_script_entry_point_is_callable():
    from s2sad.cli import main  # what pyproject's [project.scripts] s2sad points at
    assert callable(main)


@pytest.mark.skipif(shutil.which("s2sad") is None, reason="console script not installed")
def test_console_script(target, tmp_path):
    path, sentinel = target
    result = subprocess.run(["s2sad", str(path), "f"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert_printed_python(result)
    assert not sentinel.exists()


# --- the CLI never imports the user's modules (issue 7, item 9) ----------------------------------

def _shadowing_dir(directory, marker):
    """A directory holding a local numpy.py, scipy.py and math.py that write ``marker``."""
    directory.mkdir(exist_ok=True)
    for name in ("numpy", "scipy", "math"):
        (directory / f"{name}.py").write_text(f"open({str(marker)!r}, 'a').write({name!r})\n")
    path = directory / "model.py"
    path.write_text("import numpy as np\nimport scipy\nimport scipy.special\nimport math\n\n\n"
                    "def f(x):\n    return np.sin(x) * math.cos(x)\n")
    return path


@pytest.mark.parametrize("module", ["s2sad", "s2sad.cli"])
def test_local_modules_in_cwd_are_never_imported(tmp_path, module):
    marker = tmp_path / "MARKER"
    path = _shadowing_dir(tmp_path / "user", marker)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    result = subprocess.run([sys.executable, "-m", module, path.name, "f"], cwd=path.parent,
                            env=env, capture_output=True, text=True, timeout=60)
    assert_printed_python(result)
    assert "np.cos" in result.stdout          # numpy was the real one
    assert not marker.exists(), "the CLI imported a module from the user's directory"


def test_local_modules_on_pythonpath_are_never_imported(tmp_path):
    marker = tmp_path / "MARKER"
    path = _shadowing_dir(tmp_path / "user", marker)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(path.parent)])
    result = subprocess.run([sys.executable, "-c", "import sys; from s2sad.cli import main; "
                             "sys.exit(main())", str(path), "f"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    # s2sad's own `import numpy` found the real NumPy first (site-packages precedes nothing here:
    # the user's dir is last on the path); what matters is that the file's scipy is never run
    assert not marker.exists() or "scipy" not in marker.read_text(), result.stderr


def test_safe_import_refuses_modules_from_the_files_directory(tmp_path, monkeypatch):
    from s2sad.parse import _safe_import
    marker = tmp_path / "MARKER"
    path = _shadowing_dir(tmp_path / "user", marker)
    monkeypatch.syspath_prepend(str(path.parent))
    monkeypatch.delitem(sys.modules, "scipy", raising=False)
    assert _safe_import("scipy", str(path)) is None
    assert not marker.exists()


@pytest.mark.parametrize("header,encoding", [
    ("\ufeff", "utf-8"),
    ("# -*- coding: latin-1 -*-\n", "latin-1"),
])
def test_encodings(tmp_path, header, encoding):
    path = tmp_path / "enc.py"
    text = header + "import numpy as np\n\n\ndef f(x):\n    s = 'caf\u00e9'\n    return np.exp(x)\n"
    path.write_bytes(text.encode(encoding))
    result = run_cli(path, "f", cwd=tmp_path)
    assert_printed_python(result)


@pytest.mark.parametrize("content", [b"def f(x):\n    return x *\n", b"\x00\x01\x02 binary",
                                     b"# -*- coding: no-such-codec -*-\ndef f(x):\n    return x\n",
                                     b"def f(x):\n    return '\xff\xfe'\n"])
def test_not_python_is_one_line_error(tmp_path, content):
    path = tmp_path / "bad.py"
    path.write_bytes(content)
    result = run_cli(path, "f", cwd=tmp_path)
    assert_one_line_error(result)


def test_decorators_in_a_file(tmp_path):
    path = tmp_path / "deco.py"
    path.write_text("import functools\nimport numpy as np\nimport s2sad\nfrom mylib import twice\n\n\n"
                    "@functools.lru_cache(maxsize=None)\ndef cached(x):\n    return np.sin(x)\n\n\n"
                    "@s2sad.grad\ndef graded(x):\n    return x * x\n\n\n"
                    "@twice\ndef doubled(x):\n    return x * x\n\n\n"
                    "def calls_doubled(x):\n    return doubled(x) + x\n")
    for name in ("cached", "graded"):
        assert_printed_python(run_cli(path, name, cwd=tmp_path))
    for name in ("doubled", "calls_doubled"):
        result = run_cli(path, name, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert f"{path}:17:" in result.stderr and "twice" in result.stderr
