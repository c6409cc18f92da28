"""Paper broker fills/stops/targets with PnL in the state DB; sizing and client-id rules."""
from __future__ import annotations

import pandas as pd
import pytest

from app import components
from domain.trade import Direction, ExitReason
from store import Store
from trading import PaperBroker
from trading.client_ids import VALID, client_id, is_ours
from trading.models import MarketRules
from trading.notices import close_text
from trading.outcomes import CloseKind, SizeLimit, SizeProblem, SkipReason
from trading.risk import levels, size
from trading.rules import floor_to

from .conftest import TF_MS, is_opened, make_settings, make_signal, notices


def candles(start_ms: int, rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([(start_ms + i * TF_MS, *r, 1.0) for i, r in enumerate(rows)],
                        columns=["timestamp", "open", "high", "low", "close", "volume"])


async def paper_manager(store, **env):
    settings = make_settings("", ENABLE_TRADING="0", **env)
    broker = components.make_broker(settings, store)
    assert isinstance(broker, PaperBroker)
    manager = components.position_manager(settings, store, broker)
    await manager.start(list(settings.symbols))
    return manager


async def test_paper_fill_then_target_on_a_later_candle(store):
    manager = await paper_manager(store)
    signal = make_signal(store)
    t = signal.event.confirmed_at
    await manager.on_candles("BTC/USDT", candles(t - TF_MS, [(49900, 50100, 49800, 50000)]))
    assert is_opened(await manager.on_signal(signal, TF_MS), quantity=0.04, price=50000)
    await manager.on_candles("BTC/USDT", candles(t - TF_MS, [(49900, 50100, 49800, 50000),
                                                            (50000, 51000, 49500, 50800)]))
    assert len(store.open_positions("paper")) == 1   # neither level reached yet
    await manager.on_candles("BTC/USDT", candles(t + TF_MS, [(50800, 52500, 50700, 52300)]))
    pos, = store.closed_positions()
    assert (pos.mode, pos.exit_reason, pos.exit_price) == ("paper", ExitReason.TARGET, 52000.0)
    assert pos.pnl == pytest.approx(80.0 - 0.0005 * (0.04 * 50000 + 0.04 * 52000))  # 77.96


async def test_paper_gap_through_stop_fills_at_the_open(store):
    manager = await paper_manager(store)
    signal = make_signal(store)
    t = signal.event.confirmed_at
    await manager.on_signal(signal, TF_MS)
    await manager.on_candles("BTC/USDT", candles(t, [(48500, 48700, 48000, 48200)]))
    pos, = store.closed_positions()
    assert (pos.exit_reason, pos.exit_price) == (ExitReason.STOP, 48500.0)
    assert pos.pnl == pytest.approx(-60.0 - 0.0005 * (0.04 * 50000 + 0.04 * 48500))  # -61.97


async def test_paper_position_survives_restart(store, tmp_path):
    manager = await paper_manager(store)
    signal = make_signal(store, direction="bearish", close=50000, extreme=50500)
    t = signal.event.confirmed_at
    await manager.on_signal(signal, TF_MS)
    store.close()
    again = Store(tmp_path / "state.db")
    try:
        restarted = await paper_manager(again)
        assert len(again.open_positions("paper")) == 1
        await restarted.on_candles("BTC/USDT", candles(t, [(50000, 50600, 49900, 50550)]))
        pos, = again.closed_positions()
        assert (pos.direction, pos.exit_reason, pos.exit_price) == (
            Direction.SHORT, ExitReason.STOP, 50500.0)
        assert pos.pnl == pytest.approx(-20.0 - 0.0005 * (0.04 * 50000 + 0.04 * 50500))
    finally:
        again.close()


async def test_paper_close_command_and_positions(store):
    manager = await paper_manager(store)
    await manager.on_signal(make_signal(store), TF_MS)
    assert [p["symbol"] for p in await manager.positions()] == ["BTC/USDT"]
    closed = await manager.close_position("BTC/USDT")
    assert closed.kind is CloseKind.CLOSED and closed.price == 50000
    assert "Closed LONG BTC/USDT @ 50000: PnL -2.00 USDT after 2.00 USDT fees" in close_text(closed)
    assert await manager.positions() == []
    assert (await manager.close_position("BTC/USDT")).kind is CloseKind.NO_POSITION
    # The closed position's fill was consumed: a later stop is recorded at its own price only.
    again = make_signal(store, pivot_time=7)
    await manager.on_signal(again, TF_MS)
    t = again.event.confirmed_at
    await manager.on_candles("BTC/USDT", candles(t, [(48500, 48700, 48000, 48200)]))
    stopped = [p for p in store.closed_positions() if p.exit_reason is ExitReason.STOP]
    assert [(p.exit_price, round(p.pnl, 6)) for p in stopped] == [(48500.0, -61.97)]


async def test_pause_blocks_new_positions(store):
    manager = await paper_manager(store)
    manager.pause()
    assert (await manager.on_signal(make_signal(store), TF_MS)).reason is SkipReason.PAUSED
    manager.resume()
    assert is_opened(await manager.on_signal(make_signal(store, pivot_time=5), TF_MS))


BTC = MarketRules("BTC/USDT", step=0.001, min_qty=0.001, min_notional=100, tick=0.1,
                  brackets=((50000, 125), (600000, 100), (3000000, 75)))


def test_size_floors_to_step_without_float_noise():
    assert floor_to(0.6666666, 0.001) == 0.666 and floor_to(0.3, 0.1) == 0.3
    assert size(100, 20, 3000, BTC) == (0.666, None)


@pytest.mark.parametrize("margin,lev,price,why", [
    (0.01, 1, 50000, SizeProblem(SizeLimit.BELOW_MIN_QTY, 0.0, 0.001, wanted=2e-7)),
    (60, 1, 50000, SizeProblem(SizeLimit.BELOW_MIN_NOTIONAL, 50.0, 100)),  # 0.001 BTC: 50 USDT
    (40000, 100, 50000,                                     # 4M notional > 600k cap at 100x
     SizeProblem(SizeLimit.ABOVE_BRACKET, 4_000_000.0, 600_000, leverage=100)),
])
def test_size_skips_with_the_reason(margin, lev, price, why):
    assert size(margin, lev, price, BTC) == (None, why)


def test_levels_need_a_stop_beyond_the_entry():
    long, short = Direction.LONG, Direction.SHORT
    assert levels(long, 50000, 49000, 2, 0.1) == (49000, 52000)
    assert levels(short, 50000, 50500, 1.5, 0.1) == (50500, 49250)
    assert levels(long, 50000, 50010, 2, 0.1) is None
    assert levels(short, 50000, 49990, 2, 0.1) is None


def test_client_ids_are_deterministic_short_and_valid():
    ident = "binance|BTC/USDT|15m|L5R5close|bullish|1700000000000"
    ids = [client_id(ident, r, g) for r in ("entry", "stop", "target", "close")
           for g in (0, 12, 9999)]
    # One format for every venue: OKX takes 1-32 alphanumerics, no '-'.
    assert all(VALID.match(c) and len(c) <= 32 and c.isalnum() and is_ours(c) for c in ids)
    assert len(set(ids)) == len(ids)
    assert client_id(ident, "entry") == client_id(ident, "entry")
    assert client_id(ident, "entry") != client_id(ident.replace("15m", "1h"), "entry")
    # The same signal on another venue: other ids.
    assert client_id(ident, "entry") != client_id(ident.replace("binance", "bybit"), "entry")


def test_ids_of_the_format_before_venues_are_still_ours():
    assert is_ours("chx0123456789abcdef01234567-e") and is_ours("chx0123456789abcdef01234567-s2")
    assert not is_ours("users-own") and not is_ours(None) and not is_ours("")


# -- parity: the paper broker and a backtest over the same candles -------------------------------
PARITY_CASES = {
    # name: (direction, close, extreme, later candles (open, high, low, close))
    "target": ("bullish", 50000.0, 49000.0, [(50100, 50900, 49900, 50500),
                                             (50500, 53000, 50400, 52900)]),
    "gap through the stop": ("bullish", 50000.0, 49000.0, [(48500, 48700, 48000, 48200)]),
    "stop and target on one candle": ("bearish", 50000.0, 50500.0,
                                      [(50000, 50600, 48000, 49000)]),
    "stop touched exactly": ("bearish", 50000.0, 50500.0, [(50100, 50500, 49900, 50200)]),
    "stop inside the slippage": ("bullish", 50000.0, 49990.0, [(50030, 50050, 49950, 49960)]),
}


def _backtest_trade(signal, bars: pd.DataFrame, fee_rate: float, slippage_bps: float):
    """The backtest's trade for `signal` over `bars` (the break candle first), the reference
    simulator and the compiled one agreeing."""
    from backtest.columnar import simulate_columns
    from backtest.simulate import simulate
    from trading.rules import TradeRules
    rules = TradeRules(fee_rate=fee_rate, slippage_bps=slippage_bps, position_size=100,
                       leverage=20, risk_reward=2.0, step=0.001)
    run = simulate_columns(bars, [signal.event], rules, TF_MS)
    assert run.trades == simulate(bars, [signal.event], rules, TF_MS).trades
    return run.trades


@pytest.mark.parametrize("case", list(PARITY_CASES))
@pytest.mark.parametrize("fee_rate,slippage_bps", [(0.0005, 0.0), (0.0004, 5.0)])
async def test_paper_position_and_backtest_agree_on_entry_exit_fees_and_pnl(
        store, case, fee_rate, slippage_bps):
    direction, close, extreme, later = PARITY_CASES[case]
    manager = await paper_manager(store, PAPER_FEE_RATE=str(fee_rate),
                                  PAPER_SLIPPAGE_BPS=str(slippage_bps))
    signal = make_signal(store, direction=direction, close=close, extreme=extreme)
    break_at = signal.event.break_time
    bars = candles(break_at, [(close, max(close, extreme) + 10, min(close, extreme) - 10, close),
                              *later])
    trades = _backtest_trade(signal, bars, fee_rate, slippage_bps)
    await manager.on_candles("BTC/USDT", bars.iloc[:1])
    outcome = await manager.on_signal(signal, TF_MS)
    if not trades or trades[0].exit_reason == "end":
        pytest.fail(f"the case must close in the backtest: {trades}")
    t = trades[0]
    assert is_opened(outcome, Direction.from_event(direction), t.quantity, t.entry_price)
    await manager.on_candles("BTC/USDT", bars.iloc[1:])
    pos, = store.closed_positions()
    [closed] = [n for n in notices(store) if n["event"] == "position_closed"]
    assert (pos.entry_price, pos.quantity, pos.stop) == (t.entry_price, t.quantity, t.stop_price)
    assert pos.target == pytest.approx(t.target_price, rel=1e-12)  # paper rounds to a 1e-8 tick
    assert (str(pos.exit_reason), pos.exit_price) == (t.exit_reason, t.exit_price)
    assert (closed["fields"]["fees"], pos.pnl) == (t.fees, t.pnl)


async def test_paper_market_orders_are_slipped_against_the_trader(store):
    broker = PaperBroker(store, slippage_bps=10)
    broker.on_candles("BTC/USDT", candles(0, [(50000, 50000, 50000, 50000)]))
    buy = await broker.market_order("BTC/USDT", "buy", 0.04, "b1")
    sell = await broker.market_order("BTC/USDT", "sell", 0.04, "s1", reduce_only=True)
    assert (buy.average, sell.average) == (50000 * (1 + 10 / 1e4), 50000 * (1 - 10 / 1e4))
    fill = await broker.closing_fill("BTC/USDT", Direction.LONG, 0)
    assert fill.fees == 0.0 and fill.pnl == pytest.approx(-0.04 * 100)


def test_live_paper_and_backtest_size_with_the_one_quantity_rule():
    from trading.models import MarketRules
    from trading.rules import quantity

    rules = MarketRules(symbol="BTC/USDT", step=0.001, min_qty=0.001, min_notional=5.0,
                        tick=0.1)
    qty, problem = size(100.0, 20, 30_000.0, rules)
    assert problem is None and qty == quantity(100.0, 20, 30_000.0, 0.001) == 0.066
    assert quantity(100.0, 20, 30_000.0) == pytest.approx(2000 / 30_000)  # backtest: no step


async def test_a_check_line_is_a_named_value(store):
    from domain.checks import CheckLine

    [line] = await PaperBroker(store).check()
    assert isinstance(line, CheckLine) and line.ok and line.what == "trading"
    assert "no exchange account" in line.detail
