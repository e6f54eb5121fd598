"""The documentation site (mkdocs.yml, docs/) stays consistent with the repository: every page
in the nav exists and every page is in the nav, every figure, snippet and local link a page
names exists, and each listing of docs/how-it-works.md is what the CLI command above it prints
today.  The build itself (``mkdocs build --strict``) runs in CI (.ci/run)."""
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from s2sad import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _nav_pages():
    """The .md files named in mkdocs.yml's nav (``  - Title: page.md``), without a YAML parser."""
    text = (ROOT / "mkdocs.yml").read_text()
    nav = text.split("\nnav:\n", 1)[1]
    pages = []
    for line in nav.splitlines():
        if line and not line.startswith(" "):
            break
        m = re.match(r"\s*-\s*(?:[^:]+:\s*)?(\S+\.md)\s*$", line)
        if m:
            pages.append(m.group(1))
    return pages


def test_every_nav_page_exists_and_every_page_is_in_the_nav():
    pages = _nav_pages()
    assert "index.md" in pages and len(pages) >= 10
    missing = [p for p in pages if not (DOCS / p).is_file()]
    assert not missing, f"in mkdocs.yml's nav but not in docs/: {missing}"
    orphans = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    orphans = [p for p in orphans if p not in pages]
    assert not orphans, f"pages in docs/ missing from mkdocs.yml's nav: {orphans}"


def _pages():
    return sorted(DOCS.glob("*.md"))


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_figures_snippets_and_local_links_exist(page):
    text = page.read_text()
    for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text):
        assert (page.parent / target).is_file(), f"{page.name}: figure {target} does not exist"
    for target in re.findall(r'^--8<-- "([^"]+)"', text, flags=re.M):
        assert (ROOT / target).is_file(), f"{page.name}: snippet {target} does not exist"
    for target in re.findall(r"(?<!!)\[[^\]]*\]\(([^)\s#]+)(?:#[^)]*)?\)", text):
        if "://" not in target:
            assert (page.parent / target).exists(), f"{page.name}: link {target} does not exist"


def _cli_listings():
    """(command, listing) for each ```sh block running s2sad followed by a ```python block."""
    text = (DOCS / "how-it-works.md").read_text()
    pairs = re.findall(r"```sh\n(s2sad [^\n]+)\n```\n\n```python\n(.*?)\n```", text, flags=re.S)
    assert len(pairs) >= 6
    return pairs


@pytest.mark.parametrize("command,listing", _cli_listings(), ids=lambda v: v if v.startswith("s2sad") else "")
def test_how_it_works_listings_are_the_cli_output(command, listing, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(shlex.split(command)[1:])
    assert status in (0, None)
    assert out.getvalue().rstrip("\n") == listing, \
        f"docs/how-it-works.md is stale for `{command}`: paste its output again"
