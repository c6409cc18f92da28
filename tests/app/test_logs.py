"""Logs: JSON lines off a terminal, library loggers in the same pipeline, secrets never shown."""
from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from app.logs import LIBRARY_LOGGERS, configure

SECRET = "s3cr3t-api-key-value"
TOKEN = "123456789:" + "AAExample" * 4  # token-shaped, made up


@pytest.fixture(autouse=True)
def _restore_logging():
    """configure() changes process-wide logging: put it back so other tests see the default."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level,
             {n: (logging.getLogger(n).level, logging.getLogger(n).handlers[:],
                  logging.getLogger(n).propagate) for n in LIBRARY_LOGGERS})
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    for name, (level, handlers, propagate) in saved[2].items():
        lib = logging.getLogger(name)
        lib.setLevel(level)
        lib.handlers[:] = handlers
        lib.propagate = propagate
    structlog.reset_defaults()


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_structlog_events_are_json_with_fields_and_secrets_redacted():
    out = io.StringIO()
    configure("INFO", [SECRET], json=True, stream=out)
    structlog.get_logger("t").info("choch_detected", symbol="BTC/USDT", key=SECRET,
                                   nested={"k": [f"x{SECRET}y"]})
    [line] = _lines(out)
    assert line["event"] == "choch_detected" and line["symbol"] == "BTC/USDT"
    assert line["level"] == "info" and "timestamp" in line
    assert SECRET not in out.getvalue() and line["key"] == "***"


def test_library_loggers_go_through_the_same_pipeline_and_redaction():
    out = io.StringIO()
    configure("INFO", [SECRET], json=True, stream=out)
    logging.getLogger("ccxt.base.exchange").warning("GET https://fapi?signature=1&key=%s", SECRET)
    logging.getLogger("telegram.ext").error("POST https://api.telegram.org/bot%s/sendMessage",
                                            TOKEN)
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    lines = _lines(out)
    assert [l["logger"] for l in lines] == ["ccxt.base.exchange", "telegram.ext",
                                           "apscheduler.scheduler"]
    text = out.getvalue()
    assert SECRET not in text and TOKEN not in text and "/bot***" in text


def test_a_traceback_with_a_secret_is_redacted():
    out = io.StringIO()
    configure("INFO", [SECRET], json=True, stream=out)
    try:
        raise RuntimeError(f"auth failed for {SECRET}")
    except RuntimeError:
        structlog.get_logger("t").exception("boom")
    assert SECRET not in out.getvalue() and "auth failed for ***" in out.getvalue()


def test_console_output_on_a_terminal_is_readable_not_json():
    out = io.StringIO()
    configure("INFO", [], json=False, stream=out)
    structlog.get_logger("t").info("slot_done", tf="15m")
    text = out.getvalue()
    assert "slot_done" in text and "tf=15m" in text and not text.lstrip().startswith("{")


def test_level_filters_debug_lines():
    out = io.StringIO()
    configure("WARNING", [], json=True, stream=out)
    structlog.get_logger("t").info("hidden")
    structlog.get_logger("t").warning("shown")
    assert [l["event"] for l in _lines(out)] == ["shown"]


def test_a_recorded_signal_logs_its_price_level_as_a_json_field(store):
    from app.pipeline import Freshness, Stream

    from ..choch.candles import random_candles

    tf_ms = 60_000
    candles = random_candles(11, 400)
    candles["volume"] = 1.0
    stream = Stream(store, "BTC/USDT", "1m", 2, 2, "close", Freshness(tf_ms, 2 * tf_ms, 30_000),
                    lambda *a: {}, venue="binance")
    stream.feed(candles.iloc[:300], now_ms=0)
    out = io.StringIO()
    configure("INFO", json=True, stream=out)
    recorded = []
    for i in range(300, len(candles)):
        recorded += stream.feed(candles.iloc[i:i + 1], int(candles["timestamp"].iloc[i]) + tf_ms)
    lines = [l for l in _lines(out) if l["event"] == "signal_recorded"]
    assert recorded and len(lines) == len(recorded)
    assert [l["price_level"] for l in lines] == [r.event.level for r in recorded]
    assert all(l["level"] == "info" for l in lines)


# Keys structlog's own processors write (add_log_level, add_logger_name, TimeStamper, the event
# name): a field of the same name is silently overwritten or clashes with the call itself.
_RESERVED = {"level", "event", "timestamp", "logger", "logger_name"}
_LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "msg",
                "bind", "new"}


def _log_calls_with_reserved_fields(path) -> list[str]:
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
        if node.func.attr in _LOG_METHODS and "log" in name.lower():
            found += [f"{path.name}:{node.lineno} {k.arg}=" for k in node.keywords
                      if k.arg in _RESERVED]
    return found


def test_no_production_log_call_uses_a_field_name_structlog_reserves():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    files = [p for d in ("alerts", "api", "app", "backtest", "choch", "config", "domain",
                         "exchanges", "fetchers", "store", "trading")
             for p in (root / d).rglob("*.py")] + [root / "main.py"]
    assert len(files) > 30
    assert [hit for p in files for hit in _log_calls_with_reserved_fields(p)] == []


@pytest.mark.parametrize("level,shown", [("INFO", ["missed"]), ("WARNING", ["missed"]),
                                         ("DEBUG", ["running", "executed", "missed"])])
def test_apscheduler_routine_lines_are_hidden_unless_debug(level, shown):
    out = io.StringIO()
    configure(level, [], json=True, stream=out)
    executor = logging.getLogger("apscheduler.executors.default")
    executor.info('Running job "candles 1m"')
    executor.info('Job "candles 1m" executed successfully')
    executor.warning('Run time of job "candles 1m" was missed by 0:00:05')
    words = {"Running": "running", "executed": "executed", "missed": "missed"}
    seen = [next(w for k, w in words.items() if k in l["event"]) for l in _lines(out)]
    assert seen == shown
