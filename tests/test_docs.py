"""The docs site: generated references cover the code, links resolve, the strict build passes."""
from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from docsite import hooks, settings_page
from exchanges.registry import VENUES
from tests.shared_data import REPO

DOCS = REPO / "docs"
# A markdown link or image: [text](target) with no space in the target.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _filled(page: str) -> str:
    return hooks.fill((DOCS / page).read_text(encoding="utf-8"), page)


def test_the_configuration_page_names_every_key_the_configuration_reads():
    page = _filled("configuration.md")
    missing = [key for key in settings_page.every_key() if f"`{key}`" not in page]
    assert not missing, f"not on docs/configuration.md: {missing}"


def test_every_setting_row_shows_the_default_from_settings():
    table = settings_page.settings_table()
    assert "| `LEVERAGE` | `20` | an integer >= 1 and <= 125 |" in table
    assert "| `CONFIRM_LIVE_TRADING` | `no` |" in table
    assert "| `TELEGRAM_BOT_TOKEN` | empty |" in table and "**Secret**" in table


def test_every_setting_has_its_meaning_from_env_example():
    notes = settings_page.env_comments()
    assert not [k for k in settings_page.KEYS if not notes.get(k)]


def test_every_registered_venue_is_in_the_venues_table_and_the_keys_table():
    venues_page = (DOCS / "venues.md").read_text(encoding="utf-8")
    keys = settings_page.venue_keys_table()
    for name in VENUES:
        assert f"(`{name}`) |" in venues_page, f"{name}: no row in docs/venues.md"
        assert f"(`{name}`) |" in keys


def test_the_api_reference_covers_every_operation_of_the_served_spec():
    spec = json.loads((REPO / "api" / "openapi.json").read_text())
    page = _filled("dashboard-api.md")
    for path, ops in spec["paths"].items():
        for method in ops:
            assert f"`{method.upper()} {path}`" in page
    for name in spec["components"]["schemas"]:
        assert f"#### `{name}`" in page


def test_no_page_keeps_an_unfilled_marker():
    for page in DOCS.glob("*.md"):
        assert "<!-- generated:" not in _filled(page.name), page.name


def test_an_unknown_marker_is_a_warning(caplog):
    with caplog.at_level(logging.WARNING, "mkdocs.hooks.choch"):
        assert hooks.fill("<!-- generated: nope -->", "x.md") == "<!-- generated: nope -->"
    assert "unknown generated section 'nope'" in caplog.text


def test_a_link_to_a_repository_file_is_checked_and_shown_as_its_path(caplog):
    text = "[the port](../exchanges/port.py) and [`x`](../exchanges/nope.py) and [p](index.md)"
    with caplog.at_level(logging.WARNING, "mkdocs.hooks.choch"):
        out = hooks.repo_links(text, "a.md", DOCS)
    assert out.startswith("the port (`exchanges/port.py`) and [`x`](../exchanges/nope.py)")
    assert out.endswith("[p](index.md)")  # a page link is left to mkdocs
    assert "exchanges/nope.py, which does not exist" in caplog.text
    linked = hooks.repo_links("[d](../tests/)", "a.md", DOCS, "https://example.org/r")
    assert linked == "[d](https://example.org/r/tree/main/tests)"


def _relative_links(path: Path) -> list[str]:
    links = LINK.findall(path.read_text(encoding="utf-8"))
    return [t for t in links if not re.match(r"[a-z][a-z0-9+.-]*:|#", t)]


def test_every_relative_link_of_the_readme_resolves_from_the_repository_root():
    links = _relative_links(REPO / "README.md")
    assert links, "README.md: no relative link found"
    broken = [t for t in links if not (REPO / t.partition("#")[0]).exists()]
    assert not broken, f"README.md: links to missing files: {broken}"


@pytest.mark.slow
def test_the_site_builds_in_strict_mode(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    config = (tmp_path / "configuration" / "index.html").read_text()
    assert "MAX_DAILY_LOSS" in config and "BITGET_PASSPHRASE" in config
    assert "/api/v1/signals" in (tmp_path / "dashboard-api" / "index.html").read_text()


def _dry_run(*args: str) -> str:
    done = subprocess.run(["make", "-n", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_make_test_builds_the_site_strictly_before_the_tests():
    lines = _dry_run("-W", ".venv/.dev-installed", "test").splitlines()
    docs = [i for i, ln in enumerate(lines) if "-m mkdocs build --strict" in ln]
    tests = [i for i, ln in enumerate(lines) if ln.endswith("-m pytest")]
    assert docs and tests and docs[0] < tests[-1]


MAKEFILE = (REPO / "Makefile").read_text()
DAEMON_TARGETS = ["run"] + (["demo"] if re.search(r"^demo:", MAKEFILE, re.M) else [])


@pytest.mark.parametrize("target", DAEMON_TARGETS)
def test_the_daemon_targets_install_the_runtime_requirements_only(target):
    installs = [ln for ln in _dry_run("-W", "requirements.txt", target).splitlines()
                if "pip install" in ln]
    assert installs and all(ln.endswith("-r requirements.txt") for ln in installs), installs
