"""Gate's candle stream as its documentation describes it: topics, one subscription a message,
the `w` flag, fractional contract volumes equal to the REST candles', refusals and bad frames."""
from __future__ import annotations

import json

import pytest

from exchanges import gate
from exchanges.gate_ws import DIALECT
from exchanges.registry import get_venue
from exchanges.stream import StreamProtocolError, dialect_for
from tests.fakes.ws_base import settle

from .conftest import T0, M, kline


def update(**row) -> str:
    base = {"t": T0 // 1000, "v": "12.5", "c": "101", "h": "103", "l": "99", "o": "100",
            "n": "1m_BTC_USDT", "a": "0.125", "w": True}
    return json.dumps({"time": 1, "time_ms": 1000, "channel": "futures.candlesticks",
                       "event": "update", "result": [{**base, **row}]})


def test_the_gate_venue_streams_from_its_documented_endpoint():
    venue = get_venue("gate")
    assert dialect_for(venue) is DIALECT
    assert venue.ws is not None and venue.ws.url == "wss://fx-ws.gateio.ws/v4/ws/usdt"


@pytest.mark.parametrize("symbol", ["BTC/USDT", "1000PEPE/USDT", "BTC/USDT:USDT"])
def test_topics_name_the_contract_as_the_gate_venue_does(symbol):
    assert DIALECT.topic(symbol, "15m") == f"15m_{gate.contract(symbol)}"


def test_each_subscription_is_one_documented_message():
    sent = [json.loads(m) for m in DIALECT.subscribe(["1m_BTC_USDT", "4h_ETH_USDT"])]
    assert [(m["channel"], m["event"], m["payload"]) for m in sent] == [
        ("futures.candlesticks", "subscribe", ["1m", "BTC_USDT"]),
        ("futures.candlesticks", "subscribe", ["4h", "ETH_USDT"])]
    assert all(isinstance(m["time"], int) for m in sent)
    with pytest.raises(ValueError):
        DIALECT.topic("BTC/USDT", "3m")  # not a Gate interval


def test_an_update_is_closed_only_with_w_true_and_its_volume_is_the_contracts():
    [closed] = DIALECT.parse(update()).updates
    assert (closed.symbol, closed.timeframe, closed.open_ms, closed.volume, closed.closed) == \
        ("BTC/USDT", "1m", T0, 12.5, True)
    assert not DIALECT.parse(update(w=False)).updates[0].closed
    assert not DIALECT.parse(update(w="true")).updates[0].closed
    missing = json.loads(update())
    del missing["result"][0]["w"]  # Gate may skip the closing update
    assert not DIALECT.parse(json.dumps(missing)).updates[0].closed


@pytest.mark.parametrize("row", [{"o": None}, {"n": "1m_BTC_USD"}, {"n": "10s_BTC_USDT"},
                                 {"t": "soon"}, {"n": "BTCUSDT"}])
def test_a_candle_of_the_wrong_shape_is_a_protocol_error(row):
    with pytest.raises(StreamProtocolError):
        DIALECT.parse(update(**row))


def test_pongs_and_answers_carry_no_candle_and_a_refusal_is_reported():
    assert DIALECT.parse(json.dumps({"time": 1, "channel": "futures.pong", "event": "",
                                     "result": None})) == DIALECT.parse(json.dumps({
                                         "channel": "futures.candlesticks", "event": "subscribe",
                                         "error": None, "result": {"status": "success"}}))
    refused = DIALECT.parse(json.dumps({"channel": "futures.candlesticks", "event": "subscribe",
                                        "error": {"code": 2, "message": "invalid argument"},
                                        "result": {"status": "fail"}}))
    assert refused.error and "invalid argument" in refused.error and not refused.updates
    with pytest.raises(StreamProtocolError):
        DIALECT.parse("[1]")


@pytest.mark.parametrize("rig", ["gate"], indirect=True)
async def test_fractional_contract_volumes_arrive_unrounded_as_on_rest(rig):
    fractional = kline(5)
    fractional = type(fractional)(**{**fractional.__dict__, "volume": 2.75})
    await rig.fake.push(fractional)
    await rig.until(lambda: rig.heard)
    await settle()
    got = rig.book.columns("BTC/USDT", "1m", T0 + 5 * M, None, T0 + 5 * M).frame()
    assert got["volume"].tolist() == [2.75]  # not 2: the upgrade asked for decimal sizes
