"""BingX as a venue: its keys and hosts in the configuration, its code table, and the client's
quirks against the fake (positionSide BOTH, lower-cased ids, nameless stops found by BingX's
order id, a stop replaced by cancelling first, hedge mode refused, the stale timestamp)."""
from __future__ import annotations

import re

import pytest

from app import banner, components
from exchanges.bingx import BINGX, kind_of, swap_id
from exchanges.bingx_client import BingxTrading
from exchanges.errors import (
    PermanentExchangeError,
    Rejected,
    TransientExchangeError,
    reason_of,
    translate,
)
from exchanges.port import OrderIntent, PositionModeError
from exchanges.registry import get_venue
from exchanges.venue import Reason
from tests.config_env import load, problems
from tests.fakes.bingx import DEMO_API_KEY, DEMO_SECRET, ORDER, SWAP, FakeBingX
from tests.shared_data import REPO

DEMO = dict(TRADING_EXCHANGE="bingx", ENABLE_TRADING="1", DEMO_TRADING="1")
BTC = "BTC-USDT"


def test_bingx_is_registered_with_its_venue_data():
    venue = get_venue("bingx")
    assert venue is BINGX and venue.has_demo and not venue.needs_passphrase
    ids = venue.trading_spec().client_ids
    assert ids is not None and ids.lower_case and not ids.on_conditional
    assert ids.wire("ChxAbc") == "chxabc" and ids.accepts("a" * 40) and not ids.accepts("a" * 41)
    assert swap_id("BTC/USDT") == swap_id("BTC/USDT:USDT") == BTC
    assert kind_of("STOP_MARKET") == "stop" and kind_of("TAKE_PROFIT_MARKET") == "target"
    assert kind_of("MARKET") is None


def test_the_code_table_fixes_what_ccxt_maps_loosely():
    from exchanges.ccxt_lean import ccxt

    wrong_side = ccxt.ExchangeError('bingx {"code":110411,"msg":"wrong side"}')
    stale = ccxt.BadSymbol('bingx {"code":100421,"msg":"Null timestamp or timestamp mismatch"}')
    limited = ccxt.OperationFailed('bingx {"code":100410,"msg":"frequency limit"}')
    refused = translate(wrong_side, BINGX)
    assert isinstance(refused, Rejected) and refused.reason is Reason.WOULD_TRIGGER_IMMEDIATELY
    assert isinstance(translate(stale, BINGX), TransientExchangeError)
    assert type(translate(limited, BINGX)).__name__ == "RateLimited"
    assert reason_of(translate(ccxt.ExchangeError('{"code":101481}'), BINGX)) is \
        Reason.DUPLICATE_CLIENT_ID


def test_the_vst_host_is_demo_and_production_hosts_are_real_money():
    assert BINGX.demo_by_host and not BINGX.is_production_host("https://open-api-vst.bingx.com")
    assert BINGX.real_money_url("https://open-api.bingx.com")
    found = problems(**DEMO, BINGX_API_KEY_DEMO="k", BINGX_SECRET_DEMO="s",
                     BINGX_TRADING_URL="https://open-api.bingx.com")
    assert "REAL" in found["BINGX_TRADING_URL"] and "BINGX_API_KEY" in found


def test_demo_keys_sign_demo_orders_and_the_banner_names_the_vst_host():
    s = load(**DEMO, DATA_EXCHANGE="bingx", BINGX_API_KEY_DEMO="dk-1", BINGX_SECRET_DEMO="ds-2")
    assert s.signing_pair == "BINGX_API_KEY_DEMO" and not s.live_trading
    assert "ds-2" not in repr(s) + str(s.redacted())
    assert "demo on open-api-vst.bingx.com, venue bingx" in "\n".join(banner.describe(s))


def test_env_example_lists_the_bingx_keys_commented():
    text = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^# (BINGX_[A-Z_]+)=$", text, flags=re.M))
    assert listed == {"BINGX_API_KEY", "BINGX_SECRET", "BINGX_API_KEY_DEMO", "BINGX_SECRET_DEMO",
                      "BINGX_DATA_URL", "BINGX_TRADING_URL"}


# -- the client against the fake ---------------------------------------------------------------

@pytest.fixture
async def fake():
    venue = FakeBingX(demo=True)
    await venue.start()
    venue.set_price(BTC, 50_000)
    yield venue
    await venue.stop()


def _settings(fake: FakeBingX, **extra: str):
    return load(**DEMO, DATA_EXCHANGE="bingx", BINGX_API_KEY_DEMO=DEMO_API_KEY,
                BINGX_SECRET_DEMO=DEMO_SECRET, BINGX_TRADING_URL=fake.url,
                BINGX_DATA_URL=fake.url, SYMBOLS="BTC/USDT", **extra)


async def _trading(fake: FakeBingX, **extra: str) -> BingxTrading:
    broker = components.trading(_settings(fake, **extra), backoff_s=0.01, rate_limit=False)
    await broker.start(["BTC/USDT"])
    assert isinstance(broker, BingxTrading)
    return broker


async def test_entries_are_one_way_with_the_documented_client_id(fake):
    broker = await _trading(fake)
    try:
        [lev] = fake.calls("POST", SWAP + "/v2/trade/leverage")
        assert lev["side"] == "BOTH"
        filled = await broker.market_order("BTC/USDT", "buy", 0.002, "chxentry1e")
        assert filled.client_id == "chxentry1e" and filled.filled == pytest.approx(0.002)
        [sent] = fake.calls("POST", ORDER)
        assert sent["positionSide"] == "BOTH" and sent["clientOrderId"] == "chxentry1e"
        assert "clientOrderID" not in sent
        found = await broker.find_order("BTC/USDT", "chxentry1e", conditional=False)
        assert found is not None and found.exchange_id == filled.exchange_id
        [lookup] = fake.calls("GET", ORDER)
        assert "orderId" not in lookup  # never the text 'None'
    finally:
        await broker.close()


async def test_stops_are_nameless_and_found_and_cancelled_by_bingxs_id(fake):
    broker = await _trading(fake)
    try:
        await broker.market_order("BTC/USDT", "buy", 0.002, "chxentry2e")
        stop = await broker.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "chxzab12s")
        assert (stop.kind, stop.side, stop.trigger) == ("stop", "sell", 49_000.0)
        sent = fake.calls("POST", ORDER)[-1]
        assert sent["type"] == "STOP_MARKET" and sent["reduceOnly"] == "true"
        assert "clientOrderId" not in sent and "trigger" not in sent
        [waiting] = await broker.open_protective()
        assert waiting.client_id == "" and waiting.exchange_id == stop.exchange_id
        intent = OrderIntent("chxzab12s", "BTC/USDT", "sell", None, 0, None, "stop", 49_000.0)
        found = await broker.find_order("BTC/USDT", "chxzab12s", True, intent)
        assert found is not None and found.client_id == "chxzab12s"
        await broker.cancel_protective("BTC/USDT", "chxzab12s", stop.exchange_id)
        assert fake.open_orders() == []
        await broker.cancel_protective("BTC/USDT", "chxzab12s", stop.exchange_id)  # gone: fine
    finally:
        await broker.close()


async def test_a_stop_already_covering_the_position_is_replaced_not_refused(fake):
    """An adopted position's nameless stop (or one placed by hand) covers the whole position:
    BingX refuses a second one, so the new stop cancels it first and exactly one remains."""
    broker = await _trading(fake)
    try:
        await broker.market_order("BTC/USDT", "buy", 0.002, "chxentry3e")
        fake.h_post_order({"symbol": BTC, "side": "SELL", "type": "STOP_MARKET",
                           "positionSide": "BOTH", "quantity": "0.002", "stopPrice": "48000",
                           "reduceOnly": "true"})
        fake.h_post_order({"symbol": BTC, "side": "SELL", "type": "TAKE_PROFIT_MARKET",
                           "positionSide": "BOTH", "quantity": "0.002", "stopPrice": "53000",
                           "reduceOnly": "true"})
        await broker.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "chxzab12s")
        await broker.protective_order("BTC/USDT", "sell", "target", 52_000.0, "chxzab12t")
        assert sorted((o["type"], o["stopPrice"]) for o in fake.open_orders(BTC)) == [
            ("STOP_MARKET", "49000"), ("TAKE_PROFIT_MARKET", "52000")]
    finally:
        await broker.close()


async def test_a_stale_timestamp_is_resynced_and_sent_once_more(fake):
    broker = await _trading(fake)
    try:
        fake.reject(SWAP + "/v2/user/positions", 100421, "Null timestamp or timestamp mismatch")
        assert await broker.positions(["BTC/USDT"]) == {}
        assert len(fake.calls("GET", SWAP + "/v2/user/positions")) == 2
        assert len(fake.calls("GET", SWAP + "/v2/server/time")) >= 2  # start, then the resync
    finally:
        await broker.close()


async def test_a_hedge_mode_account_is_refused_at_start_and_in_check(fake):
    fake.hedge_mode = True
    broker = components.trading(_settings(fake), backoff_s=0.01, rate_limit=False)
    try:
        with pytest.raises(PositionModeError, match="One-way"):
            await broker.start(["BTC/USDT"])
        lines = {line.what: line for line in await broker.check()}
        assert not lines["position mode"].ok and "One-way" in lines["position mode"].detail
        assert "demo" in lines["trading host"].detail
        assert "BINGX_API_KEY_DEMO" in lines["trading host"].detail
        assert lines["margin mode"].ok and lines["trading balance"].ok
    finally:
        await broker.close()


async def test_short_positions_and_the_data_instance(fake):
    broker = await _trading(fake)
    data = components.market_data(_settings(fake))
    try:
        await broker.market_order("BTC/USDT", "sell", 0.003, "chxentry4e")
        [(symbol, held)] = (await broker.positions(["BTC/USDT"])).items()
        assert symbol == "BTC/USDT" and held.direction.value == "short"
        assert held.quantity == pytest.approx(0.003)
        await data.start()
        assert len(await data.closed_candles("BTC/USDT", "15m", limit=3)) == 3
        assert not fake.calls("GET", "/openApi/spot/v1/common/symbols")  # swap markets only
    finally:
        await data.close()
        await broker.close()


async def test_a_margin_mode_bingx_will_not_switch_stops_the_start_saying_what_to_change(fake):
    fake.reject(SWAP + "/v2/trade/marginType", 101212, "Failed. Please check if you have "
                "pending orders under the trading pair")
    broker = components.trading(_settings(fake), backoff_s=0.01, rate_limit=False)
    try:
        with pytest.raises(PermanentExchangeError, match="set MARGIN_MODE to the mode it has"):
            await broker.start(["BTC/USDT"])
    finally:
        await broker.close()


async def test_the_entry_that_proves_a_position_is_read_again_for_its_id(fake):
    broker = await _trading(fake)
    try:
        await broker.market_order("BTC/USDT", "buy", 0.002, "chxentry5e")
        await broker.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "chxzab12s")
        [newest, *_] = await broker.recent_entries("BTC/USDT")
        assert (newest.client_id, newest.side) == ("chxentry5e", "buy")
        [listing] = fake.calls("GET", SWAP + "/v2/trade/allOrders")
        assert listing["limit"] == "20"
    finally:
        await broker.close()
