"""Client ids fit each venue's room: the same deterministic ids, the hash cut short where a venue
allows fewer characters (Gate: 't-' + 28), still recognised as ours and as this instance's."""
from __future__ import annotations

import pytest

from exchanges.venue import ClientIdRule
from trading.client_ids import VALID, client_id, is_ours, tag_of

IDENTITY = "gate|BTC/USDT|15m|L5R5close|bullish|1700000000000"
GATE = ClientIdRule(30, "A-Za-z0-9_.-", prefix="t-", refuses_duplicates=False)
ROOM = GATE.max_length - len(GATE.prefix)


@pytest.mark.parametrize("role", ["entry", "stop", "target", "close"])
@pytest.mark.parametrize("generation", [0, 1, 99, 9999])
def test_every_id_fits_a_venue_with_28_characters_after_its_prefix(role, generation):
    if role == "entry" and generation:
        return  # an entry is sent once, always generation 0
    cid = client_id(IDENTITY, role, generation, tag="ab12", room=ROOM)
    assert len(cid) <= ROOM and GATE.accepts(cid) and GATE.wire(cid) == "t-" + cid
    assert VALID.match(cid) and is_ours(cid)
    assert tag_of(cid) == (None if role == "entry" else "ab12")


def test_where_the_room_allows_it_the_ids_are_the_ones_made_before():
    for role in ("entry", "stop"):
        assert client_id(IDENTITY, role, 3, tag="ab12", room=36) == \
            client_id(IDENTITY, role, 3, tag="ab12")
    assert len(client_id(IDENTITY, "stop", 9999, tag="ab12")) == 32


def test_a_shortened_id_is_deterministic_and_generations_stay_apart():
    ids = {client_id(IDENTITY, "stop", g, tag="ab12", room=ROOM) for g in range(50)}
    assert len(ids) == 50
    assert client_id(IDENTITY, "stop", 7, tag="ab12", room=ROOM) == \
        client_id(IDENTITY, "stop", 7, tag="ab12", room=ROOM)


def test_a_venue_too_short_for_any_id_is_refused_by_name():
    with pytest.raises(ValueError, match="allowing 20 characters"):
        client_id(IDENTITY, "stop", 9999, tag="ab12", room=20)


async def test_the_venue_gets_its_prefix_and_the_daemon_reads_back_its_own_id():
    import dataclasses

    from app import components
    from config import load_settings
    from exchanges.binance import BINANCE
    from exchanges.ccxt_trading import CcxtTrading

    spec = dataclasses.replace(BINANCE.trading_spec(), client_ids=GATE)
    venue = dataclasses.replace(BINANCE, trading=spec)
    settings = load_settings({"ENABLE_TRADING": "1", "BINANCE_API_KEY": "k",
                              "BINANCE_SECRET": "s", "BINANCE_TRADING_URL":
                              "http://127.0.0.1:9"}, dotenv_path=None)
    trading = CcxtTrading(components.trading_config(settings, venue), venue)
    sent: list[dict] = []

    async def create_order(symbol, kind, side, amount, price, params):
        sent.append(params)
        return {"id": "1", "clientOrderId": params["clientOrderId"], "status": "closed",
                "filled": amount, "average": 100.0, "side": side}

    trading.exchange.create_order = create_order
    trading._contract_size = lambda symbol: 1.0  # no markets loaded in this test
    try:
        cid = client_id(IDENTITY, "entry", room=trading.client_id_room)
        result = await trading.market_order("BTC/USDT", "buy", 1.0, cid)
        assert trading.client_id_room == 28 and sent[0]["clientOrderId"] == "t-" + cid
        assert result.client_id == cid and is_ours(result.client_id)
        assert trading._lookup_params(cid, conditional=True)["clientOrderId"] == "t-" + cid
    finally:
        await trading.close()
