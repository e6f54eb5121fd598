"""``python -m s2sad FILE.py FUNC``: see :mod:`s2sad.cli`."""
import os
import sys

# Never import from the current directory (the package's __init__ already dropped it when
# run with -m; this covers ``python s2sad/__main__.py`` style runs).
sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != os.getcwd()]

from .cli import main  # noqa: E402

sys.exit(main())
