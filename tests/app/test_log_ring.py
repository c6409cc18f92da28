"""The dashboard's recent warnings and errors: kept after redaction, bounded, info left out."""
from __future__ import annotations

import io
import logging

import structlog

from app.log_ring import VALUE_CHARS, LogRing
from app.logs import configure

from .test_logs import SECRET, TOKEN, _restore_logging  # noqa: F401 - the fixture is autouse


def _configured(size: int = 200) -> LogRing:
    ring = LogRing(size)
    configure("INFO", [SECRET], json=True, stream=io.StringIO(), ring=ring)
    return ring


def test_warnings_and_errors_are_kept_newest_first_and_info_is_not():
    ring = _configured()
    log = structlog.get_logger("trading.manager")
    log.info("routine", symbol="BTC/USDT")
    log.warning("order_rejected", symbol="BTC/USDT", code=-2019)
    log.error("reconcile_failed", attempts=3)
    lines = ring.recent(10)
    assert [(x["event"], x["level"], x["logger"]) for x in lines] == \
        [("reconcile_failed", "error", "trading.manager"),
         ("order_rejected", "warning", "trading.manager")]
    assert lines[1]["fields"] == {"symbol": "BTC/USDT", "code": "-2019"}
    assert lines[0]["at"].endswith("Z") and ring.recent(1) == lines[:1]


def test_no_kept_line_holds_a_secret_from_our_events_library_lines_or_exceptions():
    ring = _configured()
    log = structlog.get_logger("t")
    log.warning(f"failed with key {SECRET}", url=f"https://x/?key={SECRET}",
                nested={"k": [SECRET]})
    logging.getLogger("telegram.ext").error("POST https://api.telegram.org/bot%s/send", TOKEN)
    logging.getLogger("ccxt.base.exchange").warning("GET ?signature=1&key=%s", SECRET)
    try:
        raise RuntimeError(f"venue said: bad key {SECRET}")
    except RuntimeError:
        log.exception("order_failed")
    lines = ring.recent(10)
    text = str(lines)
    assert len(lines) == 4 and SECRET not in text and TOKEN not in text
    assert lines[0]["fields"]["error"] == "RuntimeError: venue said: bad key ***"
    assert "/bot***/send" in lines[2]["event"] and lines[2]["logger"] == "telegram.ext"
    assert lines[3]["fields"] == {"url": "https://x/?key=***", "nested": "{'k': ['***']}"}


def test_the_ring_is_bounded_in_lines_and_in_each_value():
    ring = _configured(size=3)
    log = structlog.get_logger("t")
    for n in range(10):
        log.warning("slow", n=n, blob="x" * 5000)
    lines = ring.recent(50)
    assert [x["fields"]["n"] for x in lines] == ["9", "8", "7"]
    assert len(lines[0]["fields"]["blob"]) == VALUE_CHARS
    ring.clear()
    assert ring.recent(5) == []


def test_every_venue_key_and_secret_is_among_the_secrets_redacted():
    from app.logs import settings_secrets
    from config import load_settings

    env = {"BINANCE_API_KEY": "binanceKey0123456789", "BINANCE_SECRET": "binanceSecret98765",
           "BYBIT_API_KEY_DEMO": "bybitDemoKey4242", "BYBIT_SECRET_DEMO": "bybitDemoSecret77",
           "API_LISTEN": "127.0.0.1:8080", "API_USERNAME": "u", "API_PASSWORD": "pw" * 8}
    secrets = settings_secrets(load_settings(env, dotenv_path=None))
    assert set(env.values()) - {"127.0.0.1:8080", "u"} <= set(secrets)
    ring = _configured()
    configure("INFO", secrets, json=True, stream=io.StringIO(), ring=ring)
    structlog.get_logger("t").warning("auth_failed", sent=f"key={env['BYBIT_API_KEY_DEMO']}")
    assert ring.recent(1)[0]["fields"] == {"sent": "key=***"}
