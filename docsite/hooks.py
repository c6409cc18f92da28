"""MkDocs hook: fills the generated sections of the pages and checks links to the repository.

A page asks for a generated section with a marker line `<!-- generated: NAME -->`, replaced at
build time from the code's own definitions (so the reference cannot drift from the code). A
link that leaves docs/ for a file of the repository (`../exchanges/port.py`) must name a file
that exists: otherwise a warning, which `mkdocs build --strict` turns into a failure. Such a
link points at `repo_url` when mkdocs.yml sets one, else it is shown as the path in code.
"""
from __future__ import annotations

import logging
import posixpath
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # mkdocs loads this file by path: make the project importable
    sys.path.insert(0, str(REPO))

from app.banner import describe  # noqa: E402
from config import Settings  # noqa: E402
from docsite import openapi_page, settings_page  # noqa: E402
from store.schema import MIGRATIONS  # noqa: E402

log = logging.getLogger("mkdocs.hooks.choch")
MARKER = re.compile(r"<!-- generated: ([a-z-]+) -->")
LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)\)")

GENERATORS: dict[str, Callable[[], str]] = {
    "settings": settings_page.settings_table,
    "venue-keys": settings_page.venue_keys_table,
    "venue-key-pattern": settings_page.key_pattern,
    "api-reference": openapi_page.api_reference,
    "schema-version": lambda: f"{len(MIGRATIONS)}",
    "default-banner": lambda: "```\n" + "\n".join(describe(Settings())) + "\n```",
}


def fill(markdown: str, where: str = "") -> str:
    """Every marker replaced by its generated text; an unknown one is a warning."""
    def generated(m: re.Match[str]) -> str:
        make = GENERATORS.get(m.group(1))
        if make is None:
            log.warning("%s: unknown generated section %r", where, m.group(1))
            return m.group(0)
        return make()
    return MARKER.sub(generated, markdown)


def repo_links(markdown: str, page_path: str, docs_dir: Path, repo_url: str = "",
               repo: Path = REPO) -> str:
    """Links from the page at `page_path` (relative to docs_dir) to repository files outside
    docs_dir: checked to exist, then pointed at repo_url or shown as code."""
    def rewrite(m: re.Match[str]) -> str:
        text, target = m.group(1), m.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:|#|/", target):  # a URL, an anchor or an absolute path
            return m.group(0)
        path, _, anchor = target.partition("#")
        rel = posixpath.normpath(posixpath.join(posixpath.dirname(page_path), path))
        if not rel.startswith("../"):  # inside docs/: mkdocs checks it itself
            return m.group(0)
        file = (docs_dir / rel).resolve()
        try:
            shown = file.relative_to(repo).as_posix()
        except ValueError:
            log.warning("%s: link %r leaves the repository", page_path, target)
            return m.group(0)
        if not file.exists():
            log.warning("%s: link %r names %s, which does not exist", page_path, target, shown)
            return m.group(0)
        if repo_url:
            kind = "tree" if file.is_dir() else "blob"
            url = f"{repo_url.rstrip('/')}/{kind}/main/{shown}" + (f"#{anchor}" if anchor else "")
            return f"{text}({url})"
        label = text[1:-1] if text.startswith("[") else text
        return label if label.startswith("`") else f"{label} (`{shown}`)"
    return LINK.sub(rewrite, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs event: generated sections filled, repository links checked."""
    where = page.file.src_uri
    markdown = fill(markdown, where)
    return repo_links(markdown, where, Path(config["docs_dir"]), config.get("repo_url") or "")
