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
    logging.getLogger("telegram.ext").error("POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
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
