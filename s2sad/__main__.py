"""``python -m s2sad FILE.py FUNC``: see :mod:`s2sad.cli`."""
import sys

from .cli import main

sys.exit(main())
