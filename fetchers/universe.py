"""Which symbols to watch: the configured list, or SYMBOLS=ALL filtered by volume (pure)."""
from __future__ import annotations

from typing import Iterable, Mapping

import structlog

log = structlog.get_logger(__name__)
ALL = "ALL"


def tradable_perpetuals(markets: Mapping[str, dict]) -> dict[str, str]:
    """'BTC/USDT' -> Binance id 'BTCUSDT' for every TRADING USDT-margined perpetual."""
    out: dict[str, str] = {}
    for market in markets.values():
        info = market.get("info") or {}
        if (market.get("swap") and market.get("linear")
                and market.get("quote") == "USDT" and market.get("settle") == "USDT"
                and info.get("contractType") == "PERPETUAL"
                and info.get("status") == "TRADING"):
            out[f"{market['base']}/USDT"] = market["id"]
    return out


def quote_volumes(tickers: Iterable[dict]) -> dict[str, float]:
    """Binance id -> 24h quote volume (USDT) from raw /fapi/v1/ticker/24hr rows."""
    out: dict[str, float] = {}
    for row in tickers:
        try:
            out[str(row["symbol"])] = float(row["quoteVolume"])
        except (KeyError, TypeError, ValueError):
            continue  # a row we cannot read is a symbol we cannot rank: leave it out
    return out


def select(configured: tuple[str, ...], perpetuals: Mapping[str, str],
           volumes: Mapping[str, float], *, min_volume: float, max_pairs: int,
           exclude: Iterable[str]) -> list[str]:
    """The watch list: explicit symbols that trade, or the top ALL by 24h quote volume.

    ALL: drop EXCLUDE_SYMBOLS and pairs under MIN_VOLUME_24H, sort by volume (highest first,
    ties by symbol name so the choice is deterministic), keep the first MAX_PAIRS.
    """
    excluded = set(exclude)
    if tuple(configured) != (ALL,):
        chosen = [s for s in configured if s in perpetuals and s not in excluded]
        for s in configured:
            if s not in perpetuals:
                log.warning("symbol_not_tradable", symbol=s,
                            reason="not a trading USDT-margined perpetual")
        return chosen
    ranked = sorted(((volumes.get(pid, 0.0), sym) for sym, pid in perpetuals.items()
                     if sym not in excluded and volumes.get(pid, 0.0) >= min_volume),
                    key=lambda vs: (-vs[0], vs[1]))
    return [sym for _, sym in ranked[:max_pairs]]
