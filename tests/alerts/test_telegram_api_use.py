"""python-telegram-bot is used through its public API only, so a PTB upgrade cannot break it
silently."""
from __future__ import annotations

import datetime as dtm
import pathlib
import re
import warnings

import pytest
from telegram.error import RetryAfter

import alerts
from alerts.notifiers import RateLimited, delivery_error

PRIVATE_PTB = re.compile(r"\._(bot_user|retry_after|bot_initialized|requests_initialized"
                         r"|request)\b")


def test_alerts_read_no_private_python_telegram_bot_attribute():
    package = pathlib.Path(alerts.__file__).parent
    found = [f"{path.name}:{n}: {line.strip()}"
             for path in sorted(package.glob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), start=1)
             if PRIVATE_PTB.search(line)]
    assert found == []


def test_retry_after_is_read_publicly_and_without_a_deprecation_warning():
    exc = RetryAfter(7)  # PTB's own constructor warns; reading it must not
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        error = delivery_error(exc)
    assert isinstance(error, RateLimited) and error.retry_after == 7.0


@pytest.mark.parametrize("opt_in", ["1", "false"])
def test_retry_after_keeps_its_fraction_whichever_ptb_time_type(monkeypatch, opt_in):
    monkeypatch.setenv("PTB_TIMEDELTA", opt_in)  # 1: PTB hands out a timedelta, else a number
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exc = RetryAfter(dtm.timedelta(seconds=2.5))
    assert delivery_error(exc).retry_after == 2.5
