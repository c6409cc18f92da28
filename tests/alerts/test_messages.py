"""Alert texts: every field a trader acts on, HTML escaping, LATE marking, TradingView links."""
from __future__ import annotations

import io
import json

import matplotlib.image
import numpy as np
import pytest

import choch
from alerts.chart import render_chart
from alerts.messages import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    clip,
    notice_text,
    plain,
    price,
    signal_text,
    tradingview_interval,
    tradingview_url,
)
from app import components
from tests.alerts.signals import DF, EVENTS, payload


@pytest.mark.parametrize("tf, interval", [("1m", "1"), ("15m", "15"), ("25m", "25"),
                                          ("1h", "60"), ("4h", "240"), ("1d", "D"),
                                          ("3d", "3D"), ("1w", "W"), ("1M", "M")])
def test_timeframes_map_to_tradingview_intervals(tf, interval):
    assert tradingview_interval(tf) == interval


def test_tradingview_link_points_at_the_binance_perpetual():
    assert tradingview_url("BTC/USDT", "15m") == \
        "https://www.tradingview.com/chart/?symbol=BINANCE:BTCUSDT.P&interval=15"
    assert tradingview_url("1000PEPE/USDT", "4h").endswith("BINANCE:1000PEPEUSDT.P&interval=240")


def test_signal_text_carries_every_field_a_trader_needs():
    p = payload(mode="live")
    ev = p["event"]
    text = signal_text(p, ev["confirmed_at"] + 1000, late_after_s=120)
    flat = plain(text)
    kind = "CHoCH" if ev["kind"] == "CHOCH" else "BOS"
    for expected in ("BTC/USDT", "15m", f"{kind} {ev['direction']}", price(ev["level"]),
                     price(ev["close"]), price(ev["extreme"]), "UTC", "Mode: live",
                     "symbol=BINANCE:BTCUSDT.P&interval=15"):
        assert expected in flat, expected
    assert "&amp;interval=15" in text  # the link is escaped inside the HTML attribute
    assert "LATE" not in text


def test_signal_text_is_marked_late_only_past_the_threshold():
    p = payload()
    close = p["event"]["confirmed_at"]
    assert "LATE" not in signal_text(p, close + 120_000, late_after_s=120)
    late = signal_text(p, close + 3_600_000, late_after_s=120)
    assert late.startswith("⚠️ <b>LATE</b>") and "60 min after the candle close" in late


def test_values_from_outside_are_escaped():
    p = payload(mode="<b>demo</b> & co")
    text = signal_text(p, p["event"]["confirmed_at"], 120)
    assert "&lt;b&gt;demo&lt;/b&gt; &amp; co" in text
    notice = notice_text("trade", {"event": "stop <hit>", "symbol": "BTC/USDT",
                                   "text": "PnL < 0 & closed",
                                   "fields": {"pnl": -1.5, "<x>": "a&b"}},
                         now_ms=1000, created_ms=1000, late_after_s=120)
    assert "stop &lt;hit&gt;" in notice and "PnL &lt; 0 &amp; closed" in notice
    assert "&lt;x&gt;: <code>a&amp;b</code>" in notice and "<code>-1.5</code>" in notice


def test_a_delayed_trade_notice_is_marked_late():
    text = notice_text("notice", {"event": "stop moved", "symbol": None, "text": "x"},
                       now_ms=1_000_000, created_ms=0, late_after_s=120)
    assert "LATE" in text and "None" not in text


def test_prices_are_written_without_exponent_or_float_noise():
    assert price(0.00001234) == "0.00001234"
    assert price(64250.5) == "64250.5"
    assert price(100.0) == "100"
    assert price(0.1 + 0.2) == "0.30000000000000004"  # exactly the stored value, not rounded


def test_clip_keeps_messages_within_telegrams_limit_without_breaking_entities():
    long = "\n".join(["<b>head</b>"] + ["a &amp; b " * 50] * 20)
    out = clip(long)
    assert len(out) <= TEXT_LIMIT and out.endswith("…") and out.startswith("<b>head</b>")
    one_line = "x&amp;" * 2000
    cut = clip(one_line, 100)
    assert len(cut) <= 100 and not cut.split("\n")[0].endswith("&amp")


def test_signal_caption_fits_a_photo_caption():
    p = payload(mode="paper")
    assert len(signal_text(p, p["event"]["confirmed_at"] + 10**8, 120, resent=True)) < CAPTION_LIMIT


def test_payload_holds_at_most_120_candles_up_to_the_break_and_is_json():
    ev = EVENTS[len(EVENTS) // 2]  # a break well before the end of the data
    p = payload(len(EVENTS) // 2)
    rows = p["candles"]
    assert 0 < len(rows) <= 120
    assert rows[-1][0] == ev.break_time  # nothing after the break: no hindsight on the chart
    assert json.loads(json.dumps(p)) == p
    assert p["event"]["level"] == ev.level and p["mode"] == "paper"


def test_payload_pivots_are_the_confirmed_pivots_inside_the_window():
    p = payload(len(EVENTS) // 2)
    upto = DF[DF["timestamp"] <= p["event"]["break_time"]].reset_index(drop=True)
    highs, lows = choch.pivots(upto, 5, 5)
    first_ts = p["candles"][0][0]
    index = {ts: i for i, (ts, *_ignored) in enumerate(p["candles"])}
    expected_highs = [index[t] for t in upto["timestamp"].iloc[highs] if t >= first_ts]
    expected_lows = [index[t] for t in upto["timestamp"].iloc[lows] if t >= first_ts]
    assert p["pivot_highs"] == expected_highs and p["pivot_lows"] == expected_lows
    assert p["pivot_highs"] or p["pivot_lows"]


def test_chart_renders_a_png():
    png = render_chart(payload())
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and 5_000 < len(png) < 1_000_000
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (500, 900)  # 900 x 500, what Telegram shows without cropping
    rgb = pixels[..., :3].reshape(-1, 3)
    colours = np.unique(np.round(rgb * 255).astype(np.uint8), axis=0)
    assert len(colours) > 20  # candles, levels and text, not a blank or single-colour image
    background = np.mean(np.all(rgb == rgb[0], axis=1))
    assert 0.3 < background < 0.99  # mostly background, with a real share of drawing


def test_chart_refuses_a_payload_without_candles():
    with pytest.raises(ValueError):
        render_chart({**payload(), "candles": []})


def _notice(event, fields, text="t"):
    return plain(notice_text("trade", {"event": event, "symbol": "BTC/USDT", "text": text,
                                       "fields": fields}, 0, 0, 120))


@pytest.mark.parametrize("event, fields, title", [
    ("position_opened", {"entry": 50000.0}, "Position opened"),
    ("position_closed", {"reason": "stop"}, "Stop hit"),
    ("position_closed", {"reason": "target"}, "Target hit"),
    ("position_closed", {"reason": "closed by command"}, "Position closed"),
    ("trade_skipped", {}, "Signal not traded"),
    ("some_new_event", {}, "Some new event"),
])
def test_trade_notices_have_a_human_title_not_the_event_name(event, fields, title):
    assert _notice(event, fields).split("\n")[0] == f"💼 {title} · BTC/USDT"


def test_unknown_fees_are_left_out_in_every_mode():
    paper = _notice("position_closed", {"pnl": 80.0, "fees": None, "mode": "paper"})
    assert "fees:" not in paper and "None" not in paper
    demo = _notice("position_closed", {"pnl": 80.0, "fees": None, "mode": "demo"})
    assert "fees:" not in demo and "None" not in demo
    known = _notice("position_closed", {"pnl": 78.0, "fees": 1.98, "mode": "demo"})
    assert "fees: 1.98" in known.split("\n")
    opened = _notice("position_opened", {"stop": 49000.0, "target": None})
    assert "target: none" in opened.split("\n") and "None" not in opened


async def test_a_paper_stop_exit_is_announced_as_stop_hit_without_a_raw_none(store):
    import pandas as pd

    from tests.trading.conftest import TF_MS, make_settings, make_signal, notices

    settings = make_settings("", ENABLE_TRADING="0")
    manager = components.position_manager(settings, store, components.make_broker(settings, store))
    await manager.start(list(settings.symbols))
    signal = make_signal(store)
    await manager.on_signal(signal, TF_MS)
    gap = pd.DataFrame([(signal.event.confirmed_at, 48500, 48700, 48000, 48200, 1.0)],
                       columns=["timestamp", "open", "high", "low", "close", "volume"])
    await manager.on_candles("BTC/USDT", gap)
    [closed] = [n for n in notices(store) if n["event"] == "position_closed"]
    text = plain(notice_text("trade", closed, 0, 0, 120))
    assert text.split("\n")[0] == "💼 Stop hit · BTC/USDT"
    # PAPER_FEE_RATE 0.0005 on both legs: 0.0005 x (0.04 x 50000 + 0.04 x 48500)
    assert "fees: 1.97" in text.split("\n") and "None" not in text
    assert "PnL -61.97 USDT after 1.97 USDT fees" in text
    assert "mode: paper" in text.split("\n")


def test_pnl_and_fees_are_shown_to_the_satoshi_without_float_noise():
    lines = _notice("position_closed", {"exit": 59.52, "pnl": 8.034952889999905,
                                        "fees": 1.99494711, "mode": "paper"}).split("\n")
    assert "pnl: 8.03495289" in lines and "fees: 1.99494711" in lines
    assert "exit: 59.52" in lines
