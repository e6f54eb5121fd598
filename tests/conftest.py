"""Test configuration: in CI, property-based tests run a fixed set of examples
(``derandomize``), so a run is reproducible; locally every run explores new ones."""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
