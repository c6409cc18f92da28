"""ccxt is imported with binanceusdm only, and falls back to the full import when that fails."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> dict:
    """Run `code` in a fresh interpreter (nothing imported yet); it prints one JSON object."""
    done = subprocess.run([sys.executable, "-W", "always", "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return {**json.loads(done.stdout), "stderr": done.stderr}


@pytest.mark.slow  # over a second: left out of make test-fast
def test_the_daemon_imports_binanceusdm_and_no_other_exchange():
    out = _run("""
        import json, sys
        import main, app.daemon, fetchers, trading  # everything the run command loads
        from exchanges.ccxt_lean import ccxt, ccxt_async, is_lean
        loaded = sorted(n for n in ccxt.exchanges
                        if f"ccxt.async_support.{n}" in sys.modules or f"ccxt.{n}" in sys.modules)
        print(json.dumps({"lean": is_lean(), "loaded": loaded, "n": len(ccxt.exchanges),
                          "cls": ccxt_async.binanceusdm.__name__,
                          "is_class": isinstance(ccxt_async.binanceusdm, type),
                          "errors": issubclass(ccxt.RateLimitExceeded, ccxt.NetworkError),
                          "exchange": ccxt_async.Exchange.__module__}))
    """)
    assert out["lean"] is True
    assert out["loaded"] == ["binance", "binanceusdm"]
    assert out["n"] > 50  # ccxt's list of exchange names is kept whole
    assert out["cls"] == "binanceusdm" and out["is_class"]
    assert out["errors"]
    assert out["exchange"] == "ccxt.async_support.base.exchange"
    assert "lean ccxt import failed" not in out["stderr"]


@pytest.mark.slow  # over a second: left out of make test-fast
def test_a_failed_lean_import_falls_back_to_all_of_ccxt_with_a_warning():
    out = _run("""
        import json, sys
        import exchanges.ccxt_lean as lean
        lean._forget_ccxt()
        lean.KEPT = ("binanceusdm_gone",)  # as if a ccxt upgrade no longer had the class
        ccxt, ccxt_async = lean.load()
        print(json.dumps({"lean": lean.is_lean(), "is_class": isinstance(ccxt_async.binanceusdm,
                                                                         type),
                          "okx": "ccxt.async_support.okx" in sys.modules}))
    """)
    assert out["is_class"]
    assert out["lean"] is False and out["okx"] is True
    assert "lean ccxt import failed" in out["stderr"]


@pytest.mark.slow  # over a second: left out of make test-fast
def test_ccxt_already_imported_is_used_as_it_is():
    out = _run("""
        import json
        import ccxt.async_support as full
        from exchanges.ccxt_lean import ccxt_async, is_lean
        print(json.dumps({"same": ccxt_async is full, "lean": is_lean()}))
    """)
    assert out == {"same": True, "lean": False, "stderr": ""}


def test_a_venue_asked_for_later_is_imported_alone_and_the_import_stays_lean():
    out = _run("""
        import json
        from exchanges.ccxt_lean import KEPT, exchange_class, is_lean, loaded
        before = loaded()
        cls = exchange_class("bybit")  # e.g. TRADING_EXCHANGE named only in a .env file
        print(json.dumps({"kept": list(KEPT), "before": before, "after": loaded(),
                          "lean": is_lean(), "name": cls.__name__,
                          "same": exchange_class("bybit") is cls}))
    """)
    assert out["kept"] == ["binanceusdm"]
    assert out["before"] == ["binance", "binanceusdm"]
    assert out["after"] == ["binance", "binanceusdm", "bybit"]
    assert out["lean"] is True and out["name"] == "bybit" and out["same"] is True


def test_the_configured_venues_are_the_ones_kept():
    from exchanges.ccxt_lean import configured_ids

    assert configured_ids({}) == ("binanceusdm",)
    assert configured_ids({"DATA_EXCHANGE": "BINANCE", "TRADING_EXCHANGE": "nope"}) == (
        "binanceusdm",)


def test_a_venue_served_without_ccxt_keeps_no_ccxt_exchange():
    from exchanges.ccxt_lean import configured_ids

    assert configured_ids({"DATA_EXCHANGE": "replay"}) == ()
    assert configured_ids({"DATA_EXCHANGE": "replay", "TRADING_EXCHANGE": "bybit"}) == ("bybit",)


@pytest.mark.slow  # over a second: left out of make test-fast
def test_the_daemon_on_the_replay_venue_imports_no_ccxt_exchange_and_stays_lean():
    out = _run("""
        import json, os, sys
        os.environ["DATA_EXCHANGE"] = "replay"
        import main, app.daemon, app.components, exchanges.replay_client, fetchers, trading
        from exchanges.ccxt_lean import ccxt, is_lean
        loaded = sorted(n for n in ccxt.exchanges
                        if f"ccxt.async_support.{n}" in sys.modules or f"ccxt.{n}" in sys.modules)
        print(json.dumps({"lean": is_lean(), "loaded": loaded}))
    """)
    assert out == {"lean": True, "loaded": [], "stderr": ""}
