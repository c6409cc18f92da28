"""The layers of docs/architecture.md: each package imports only what its row allows."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OURS = ("app", "config", "api", "alerts", "backtest", "trading", "fetchers",
        "exchanges", "store", "choch", "domain", "main")
# Who may import whom (docs/architecture.md, "Layers"); a package may always import itself.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "config": frozenset({"domain", "exchanges.registry", "exchanges.venue"}),
    "api": frozenset({"trading", "fetchers", "store", "domain", "choch"}),
    "alerts": frozenset({"trading", "fetchers", "store", "domain", "choch"}),
    "backtest": frozenset({"trading", "fetchers", "store", "domain", "choch", "alerts.chart"}),
    "trading": frozenset({"exchanges", "store", "domain", "choch"}),
    "fetchers": frozenset({"exchanges", "domain"}),
    "exchanges": frozenset({"domain"}),
    "store": frozenset({"domain", "choch"}),
    "choch": frozenset(),
    "domain": frozenset(),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import of one of our packages in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return [(line, m) for line, m in found if m.split(".")[0] in OURS]


def _layer(path: Path) -> str:
    rel = path.relative_to(REPO)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _allowed(layer: str, module: str) -> bool:
    top = module.split(".")[0]
    if top == layer:
        return True
    return any(module == rule or module.startswith(rule + ".") or top == rule
               for rule in MAY_IMPORT[layer])


def _sources() -> list[Path]:
    return [p for p in REPO.rglob("*.py")
            if p.relative_to(REPO).parts[0] in MAY_IMPORT or p.stem in MAY_IMPORT
            and p.parent == REPO]


def test_every_import_follows_the_layers():
    broken = [f"{p.relative_to(REPO)}:{line} imports {m}" for p in _sources()
              for line, m in _imports(p) if not _allowed(_layer(p), m)]
    assert not broken, "\n".join(broken)


def test_no_package_below_app_imports_settings():
    offenders = []
    for p in _sources():
        if _layer(p) == "config":
            continue
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "config" and \
                    any(a.name == "Settings" for a in node.names):
                offenders.append(str(p.relative_to(REPO)))
    assert not offenders


@pytest.mark.parametrize("source, module, ok", [
    ("exchanges", "config", False), ("exchanges", "store.orders", False),
    ("exchanges", "domain.trade", True), ("trading", "exchanges.port", True),
    ("api", "app.daemon", False), ("store", "trading", False), ("domain", "choch", False),
    ("config", "exchanges.registry", True), ("config", "exchanges.ccxt_trading", False)])
def test_the_rule_itself_tells_allowed_from_broken(source, module, ok):
    assert _allowed(source, module) is ok
