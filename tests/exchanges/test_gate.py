"""Gate as a venue: its keys and hosts in the configuration, its contract maths, and the client's
quirks against the fake (ids on the wire, price-triggered stops, the candle horizon, check)."""
from __future__ import annotations

import re

import pytest

from app import banner, components
from exchanges.errors import PermanentExchangeError
from exchanges.gate import GATE, contract, oldest_served, stop_or_target, to_base, to_contracts
from exchanges.gate_client import HistoryOutOfReach
from exchanges.port import OrderIntent, PositionModeError
from exchanges.registry import get_venue
from tests.config_env import load, problems
from tests.fakes.gate import DEMO_API_KEY, DEMO_SECRET, FUT, FakeGate
from tests.shared_data import REPO

DEMO = dict(TRADING_EXCHANGE="gate", ENABLE_TRADING="1", DEMO_TRADING="1")
MIN = 60_000
NOW = 1_770_729_450_000


def test_gate_is_registered_with_its_venue_data():
    venue = get_venue("gate")
    assert venue is GATE and venue.has_demo and not venue.needs_passphrase
    ids = venue.trading_spec().client_ids
    assert ids is not None and not ids.refuses_duplicates
    assert ids.wire("chxabc") == "t-chxabc" and ids.unwire("t-chxabc") == "chxabc"
    assert ids.accepts("a" * 28) and not ids.accepts("a" * 29)
    assert venue.trading_spec().sltp_style.value == "separate"


def test_contract_maths_in_whole_contracts():
    assert contract("BTC/USDT") == contract("BTC/USDT:USDT") == "BTC_USDT"
    assert to_contracts(0.0003, 0.0001) == 3  # 2.9999999999999996 without the guard
    assert to_contracts(0.00039, 0.0001) == 3 and to_base(-7, 0.0001) == -0.0007
    assert stop_or_target(-5, 2) == "stop" and stop_or_target(-5, 1) == "target"
    assert stop_or_target(5, 1) == "stop" and stop_or_target(5, 2) == "target"
    assert oldest_served(NOW, MIN) == NOW - NOW % MIN - 10_000 * MIN


def test_testnet_hosts_are_demo_and_production_hosts_are_real_money():
    assert GATE.demo_by_host
    for host in ("https://api-testnet.gateapi.io", "https://fx-api-testnet.gateio.ws"):
        assert not GATE.is_production_host(host)
    for host in ("https://api.gateio.ws", "https://fx-api.gateio.ws", "https://api.gateapi.io"):
        assert GATE.real_money_url(host)
    found = problems(**DEMO, GATE_API_KEY_DEMO="k", GATE_SECRET_DEMO="s",
                     GATE_TRADING_URL="https://api.gateio.ws")
    assert "REAL" in found["GATE_TRADING_URL"] and "GATE_API_KEY" in found


def test_gate_demo_keys_sign_demo_orders_and_the_banner_names_the_testnet():
    s = load(**DEMO, DATA_EXCHANGE="gate", GATE_API_KEY_DEMO="dk-1234", GATE_SECRET_DEMO="ds-4321")
    assert s.signing_pair == "GATE_API_KEY_DEMO" and not s.live_trading
    assert "ds-4321" not in repr(s) + str(s.redacted())
    lines = "\n".join(banner.describe(s))
    assert "demo on api-testnet.gateapi.io, venue gate" in lines
    assert problems(**DEMO, GATE_API_KEY_DEMO="k").keys() == {"GATE_SECRET_DEMO"}


def test_env_example_lists_the_gate_keys_commented():
    text = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^# (GATE_[A-Z_]+)=$", text, flags=re.M))
    assert listed == {"GATE_API_KEY", "GATE_SECRET", "GATE_API_KEY_DEMO", "GATE_SECRET_DEMO",
                      "GATE_DATA_URL", "GATE_TRADING_URL"}


# -- the client against the fake ---------------------------------------------------------------

@pytest.fixture
async def fake():
    venue = FakeGate(demo=True)
    await venue.start()
    yield venue
    await venue.stop()


def _settings(fake: FakeGate, **extra: str):
    return load(**DEMO, DATA_EXCHANGE="gate", GATE_API_KEY_DEMO=DEMO_API_KEY,
                GATE_SECRET_DEMO=DEMO_SECRET, GATE_TRADING_URL=fake.url,
                GATE_DATA_URL=fake.url, SYMBOLS="BTC/USDT", **extra)


async def _trading(fake: FakeGate, **extra: str):
    broker = components.trading(_settings(fake, **extra), backoff_s=0.01, rate_limit=False)
    await broker.start(["BTC/USDT"])
    return broker


async def test_orders_carry_t_ids_in_whole_contracts_and_stops_are_price_orders(fake):
    broker = await _trading(fake, MARGIN_MODE="cross")
    try:
        assert fake.positions["BTC_USDT"].leverage == "0"  # cross: leverage 0 + a limit
        filled = await broker.market_order("BTC/USDT", "buy", 0.0003, "chxentry1e")
        assert filled.client_id == "chxentry1e" and filled.filled == pytest.approx(0.0003)
        [sent] = fake.calls("POST", FUT + "/orders")
        assert sent["text"] == "t-chxentry1e" and sent["size"] == 3
        stop = await broker.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "chxzab12s")
        assert (stop.kind, stop.trigger, stop.client_id) == ("stop", 49_000.0, "chxzab12s")
        target = await broker.protective_order("BTC/USDT", "sell", "target", 52_000.0,
                                               "chxzab12t")
        waiting = await broker.open_protective()
        assert sorted((o.kind, o.trigger, o.client_id) for o in waiting) == [
            ("stop", 49_000.0, "chxzab12s"), ("target", 52_000.0, "chxzab12t")]
        # Price orders keep no id of ours: found and cancelled by Gate's id recorded at placement.
        await broker.cancel_protective("BTC/USDT", "chxzab12t", target.exchange_id)
        fake.candle("BTC_USDT", 50_000, 48_000, 48_500)
        by_id = OrderIntent("chxzab12s", "BTC/USDT", "sell", None, 0, stop.exchange_id, "stop",
                            49_000.0)
        found = await broker.find_order("BTC/USDT", "chxzab12s", True, by_id)
        assert found is not None and found.status.value == "filled"
        lost = OrderIntent("chxnothere", "BTC/USDT", "sell", None, 0, None, "stop", 47_000.0)
        assert await broker.find_order("BTC/USDT", "chxnothere", True, lost) is None
    finally:
        await broker.close()


async def test_a_dual_mode_account_is_refused_at_start_and_in_check(fake):
    fake.dual_mode = True
    with pytest.raises(PositionModeError, match="One-way"):
        await _trading(fake)
    broker = components.trading(_settings(fake), backoff_s=0.01, rate_limit=False)
    try:
        lines = {line.what: line for line in await broker.check()}
        assert not lines["position mode"].ok and "dual" in lines["position mode"].detail
        assert "demo" in lines["trading host"].detail
        assert "GATE_API_KEY_DEMO" in lines["trading host"].detail
        assert "margin mode" in lines
    finally:
        await broker.close()


async def test_candles_older_than_gate_serves_fail_at_once_saying_how_far_back():
    venue = FakeGate(now_ms=NOW)
    await venue.start()
    data = components.market_data(_settings(venue))
    try:
        await data.start()
        with pytest.raises(HistoryOutOfReach, match="10,000 intervals back") as err:
            await data.closed_candles("BTC/USDT", "1m", since_ms=NOW - 8 * 86_400_000)
        assert isinstance(err.value, PermanentExchangeError)
        assert "candlesticks" not in " ".join(r.path for r in venue.requests)
        recent = await data.closed_candles("BTC/USDT", "1m", limit=3)
        assert len(recent) == 3 and int(recent["timestamp"].iloc[-1]) + MIN <= NOW
        [call] = venue.calls("GET", FUT + "/candlesticks")
        assert "limit" not in call and {"from", "to"} <= set(call)
    finally:
        await data.close()
        await venue.stop()


async def test_the_last_candles_end_at_gates_horizon_instead_of_failing():
    venue = FakeGate(now_ms=NOW)
    await venue.start()
    data = components.market_data(_settings(venue))
    try:
        await data.start()
        frame = await data.closed_candles("BTC/USDT", "1d", limit=20_000)
        assert len(frame) == 10_000  # the closed days Gate still serves, then the end
    finally:
        await data.close()
        await venue.stop()


async def test_a_price_order_listed_without_its_text_keeps_the_id_this_process_sent(fake):
    broker = await _trading(fake)
    try:
        await broker.market_order("BTC/USDT", "buy", 0.0002, "chxentry2e")
        await broker.protective_order("BTC/USDT", "sell", "stop", 49_000.0, "chxzab12s")
        fake.open_price_orders()[0]["initial"]["text"] = "api"  # the source, not our id
        [waiting] = await broker.open_protective()
        assert waiting.client_id == "chxzab12s"
    finally:
        await broker.close()


async def test_after_a_lost_state_db_a_hand_opened_position_with_its_own_stop_is_not_adopted(
        fake, tmp_path):
    """Price orders carry no id of ours, so a position is proved the daemon's by its entry's
    id: one opened by hand, with a stop set by hand, stays the user's."""
    from store import Store

    fake.h_post_order({"contract": "BTC_USDT", "size": 3, "price": "0", "tif": "ioc",
                       "text": "web"})
    fake.h_post_price_order({"initial": {"contract": "BTC_USDT", "size": -3, "price": "0",
                                         "tif": "ioc", "reduce_only": True, "text": "web"},
                             "trigger": {"price_type": 0, "price": "45000", "rule": 2}})
    settings = _settings(fake)
    store = Store(tmp_path / "state.db")
    broker = components.trading(settings, backoff_s=0.01, rate_limit=False)
    manager = components.position_manager(settings, store, broker)
    try:
        await manager.start(["BTC/USDT"])   # reconciles
        report = await manager.reconcile()
        assert store.open_positions() == [] and report.adopted == ()
        assert report.foreign == ("BTC/USDT",)
        assert len(fake.open_price_orders("BTC_USDT")) == 1   # the user's stop untouched
    finally:
        await manager.close_session()
        store.close()
