"""Error tables keyed by numbers or labels, each failure translated once, one retry path."""
from __future__ import annotations

import dataclasses

import pytest

from exchanges import retry as retry_module
from exchanges.binance import BINANCE
from exchanges.ccxt_lean import ccxt
from exchanges.errors import Rejected, TransientExchangeError, translate, venue_code
from exchanges.retry import RetryPolicy, with_retry
from exchanges.venue import TRANSIENT, Reason, rejected

LABELLED = dataclasses.replace(
    BINANCE, name="labelled", error_code_keys=("label",),
    error_codes={"ORDER_NOT_FOUND": rejected(Reason.NOT_FOUND), "SERVER_ERROR": TRANSIENT})


def test_a_label_code_is_read_and_looked_up_as_a_string():
    error = ccxt.ExchangeError('gate {"label":"ORDER_NOT_FOUND","message":"Order not found"}')
    ours = translate(error, LABELLED)
    assert isinstance(ours, Rejected) and ours.reason is Reason.NOT_FOUND
    assert ours.code == "ORDER_NOT_FOUND"


def test_a_quoted_number_is_still_a_number_and_success_codes_are_passed_over():
    error = ccxt.ExchangeError('okx {"code":"1","data":[{"sCode":"51280","sMsg":"x"}]}')
    assert venue_code(error, ("sCode", "code")) == 51280
    assert venue_code(ccxt.ExchangeError('{"sCode":"0","code":"50001"}'), ("sCode", "code")) \
        == 50001


def test_a_label_the_table_does_not_hold_falls_back_to_ccxts_class():
    error = ccxt.InsufficientFunds('{"label":"BALANCE_NOT_ENOUGH"}')
    ours = translate(error, LABELLED)
    assert isinstance(ours, Rejected) and ours.reason is Reason.INSUFFICIENT_FUNDS


async def test_each_failure_is_translated_once_on_the_way_to_the_caller(monkeypatch):
    calls: list[Exception] = []
    real = retry_module.translate

    def counting(error, venue=None):
        calls.append(error)
        return real(error, venue)

    monkeypatch.setattr(retry_module, "translate", counting)
    failures = [ccxt.ExchangeError('{"label":"SERVER_ERROR"}') for _ in range(3)]

    async def call():
        if failures:
            raise failures.pop()
        return "ok"

    async def no_sleep(_):
        return None

    policy = RetryPolicy(attempts=5, base_s=0.0, cap_s=0.0, sleep=no_sleep)
    assert await with_retry(call, policy, "read", venue=LABELLED) == "ok"
    assert len(calls) == 3  # once per failure, not once to decide and again to raise


async def test_the_caller_gets_our_error_with_the_venue_error_as_its_cause():
    async def call():
        raise ccxt.ExchangeError('{"label":"SERVER_ERROR"}')

    async def no_sleep(_):
        return None

    with pytest.raises(TransientExchangeError) as raised:
        await with_retry(call, RetryPolicy(attempts=2, sleep=no_sleep), "read", venue=LABELLED)
    assert isinstance(raised.value.__cause__, ccxt.ExchangeError)
