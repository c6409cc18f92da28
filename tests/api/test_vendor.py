"""The vendored chart library is the npm release its README names, unchanged, and credited."""
from __future__ import annotations

import hashlib
import re

from api.routes import STATIC

VENDOR = STATIC / "vendor" / "lightweight-charts"


def test_the_vendored_files_match_the_hashes_and_version_their_readme_names():
    readme = (VENDOR / "README.md").read_text()
    version = re.search(r"Lightweight Charts™ ([0-9.]+)", readme).group(1)
    for name in ("lightweight-charts.standalone.production.js", "LICENSE"):
        digest = hashlib.sha256((VENDOR / name).read_bytes()).hexdigest()
        assert f"`{name}`" in readme and digest in readme, name
    script = (VENDOR / "lightweight-charts.standalone.production.js").read_text()
    assert f"Lightweight Charts™ v{version}" in script[:300]
    assert "Apache License" in (VENDOR / "LICENSE").read_text()


def test_the_dashboard_loads_it_from_our_server_and_credits_tradingview():
    page = (STATIC / "index.html").read_text()
    version = re.search(r"Lightweight Charts™ ([0-9.]+)", (VENDOR / "README.md").read_text())
    assert 'src="/static/vendor/lightweight-charts/lightweight-charts.standalone.production.js"' \
        in page
    assert "https://www.tradingview.com/" in page and f"</a> {version.group(1)}," in page
    assert not re.search(r"""src=["']https?:""", page)  # nothing from the internet
