"""The CoinDCX fake answers as the docs say: statuses and error bodies, signed bodies, the
forming candle served, spot without pcode=f, 'initial' on create, per-leg TP/SL flags, faults."""
from __future__ import annotations

import time

import aiohttp
import pytest

from exchanges.coindcx_http import compact, sign
from tests.fakes.coindcx import API_KEY, CANDLES, CAP, CREATE, ORDERS, SECRET, TPSL, FakeCoindcx

NOW = 1_770_729_450_000
PAIR = "B-BTC_USDT"


@pytest.fixture
async def fake():
    f = FakeCoindcx(now_ms=NOW)
    await f.start()
    yield f
    await f.stop()


async def signed(fake, path: str, fields: dict, *, secret: str = SECRET, stamp: int | None = None,
                 key: str = API_KEY) -> tuple[int, object]:
    body = compact({"timestamp": stamp or int(time.time() * 1000), **fields})
    headers = {"Content-Type": "application/json", "X-AUTH-APIKEY": key,
               "X-AUTH-SIGNATURE": sign(secret, body)}
    async with aiohttp.ClientSession() as s, s.post(fake.url + path, data=body,
                                                    headers=headers) as r:
        return r.status, await r.json(content_type=None)


async def get(fake, path: str, params: dict) -> tuple[int, object, dict]:
    async with aiohttp.ClientSession() as s, s.get(fake.url + path, params=params) as r:
        return r.status, await r.json(content_type=None), dict(r.headers)


async def test_candles_in_seconds_with_the_forming_one_and_a_date_header(fake):
    lo = NOW // 1000 - 600
    status, body, headers = await get(fake, CANDLES, {"pair": PAIR, "from": lo, "to": NOW // 1000,
                                                      "resolution": "1", "pcode": "f"})
    assert status == 200 and body["s"] == "ok"
    times = [row["time"] for row in body["data"]]
    assert times == sorted(times) and times[-1] == NOW - NOW % 60_000  # the forming one
    assert headers["Date"] == "Tue, 10 Feb 2026 13:17:30 GMT"
    _, spot, _ = await get(fake, CANDLES, {"pair": PAIR, "from": lo, "to": NOW // 1000,
                                           "resolution": "1"})
    assert spot["data"][0]["close"] != body["data"][0]["close"]  # no pcode: the spot market
    _, many, _ = await get(fake, CANDLES, {"pair": PAIR, "from": lo - 86_400 * 3,
                                           "to": NOW // 1000, "resolution": "1", "pcode": "f"})
    assert len(many["data"]) == CAP
    bad, error, _ = await get(fake, CANDLES, {"pair": PAIR, "from": lo, "to": NOW // 1000,
                                              "resolution": "15", "pcode": "f"})
    assert bad == 400 and error["status"] == "error" and error["code"] == 400


async def test_keys_signature_and_time_window(fake):
    assert (await signed(fake, ORDERS, {}, key="nope"))[0] == 401
    status, body = await signed(fake, ORDERS, {}, secret="wrong")
    assert status == 401 and body == {"code": 401, "message": "Invalid signature",
                                      "status": "error"}
    assert (await signed(fake, ORDERS, {}, stamp=int(time.time() * 1000) - 11_000))[0] == 400


async def test_create_answers_initial_and_the_list_shows_the_fill(fake):
    order = {"side": "buy", "pair": PAIR, "order_type": "market_order", "total_quantity": 0.004,
             "leverage": 5, "notification": "no_notification"}
    status, created = await signed(fake, CREATE, {"order": order})
    assert status == 200 and created[0]["status"] == "initial" and created[0]["avg_price"] == 0
    _, listed = await signed(fake, ORDERS, {"status": "filled", "side": "buy", "page": "1",
                                            "size": "10"})
    assert listed[0]["id"] == created[0]["id"] and listed[0]["avg_price"] == 50_000.0
    refused, why = await signed(fake, CREATE, {"order": {**order, "leverage": 10}})
    assert refused == 422 and "leverage" in why["message"]


async def test_tpsl_legs_carry_their_own_success_flags(fake):
    fake.execute(PAIR, "buy", 0.004)
    pid = fake.positions[PAIR].id
    status, body = await signed(fake, TPSL, {"id": pid, "stop_loss": {
        "stop_price": "49000", "order_type": "stop_market"}, "take_profit": {
        "stop_price": "49500", "order_type": "take_profit_market"}})
    assert status == 200 and body["stop_loss"]["status"] == "untriggered"
    assert body["take_profit"] == {"success": False, "error": "Trigger price should be greater "
                                                              "than the current price"}
    _, again = await signed(fake, TPSL, {"id": pid, "stop_loss": {
        "stop_price": "48000", "order_type": "stop_market"}})
    assert again["stop_loss"] == {"success": False, "error": "SL already exists"}


async def test_faults_lost_answers_and_rate_limits(fake):
    fake.fail(CREATE, 504, lost=True)
    order = {"side": "buy", "pair": PAIR, "order_type": "market_order", "total_quantity": 0.004,
             "leverage": 5, "notification": "no_notification"}
    body = compact({"timestamp": int(time.time() * 1000), "order": order})
    headers = {"X-AUTH-APIKEY": API_KEY, "X-AUTH-SIGNATURE": sign(SECRET, body)}
    async with aiohttp.ClientSession() as s, s.post(fake.url + CREATE, data=body,
                                                    headers=headers) as r:
        assert r.status == 504 and "html" in r.headers["Content-Type"]
    assert fake.position(PAIR) == 0.004  # processed, the answer lost
    fake.rate_limit(ORDERS)
    status, limited = await signed(fake, ORDERS, {"status": "open", "side": "buy"})
    assert status == 429 and limited["message"] == "Too Many Requests"
