"""Which symbols to watch: the configured list, or SYMBOLS=ALL filtered by volume (pure)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import structlog

log = structlog.get_logger(__name__)
ALL = "ALL"


def usdt_perpetual(market: Mapping[str, Any], quote: str = "USDT", settle: str = "USDT") -> bool:
    """True for an active linear perpetual quoted in `quote` and settled in `settle` (USDT by
    default), in ccxt's unified market fields."""
    return bool(market.get("swap") and market.get("linear") and market.get("quote") == quote
                and market.get("settle") == settle and market.get("active") is not False)


def tradable_perpetuals(markets: Mapping[str, dict[str, Any]],
                        tradable: Callable[[Mapping[str, Any]], bool] = usdt_perpetual
                        ) -> dict[str, str]:
    """'BTC/USDT' -> the venue's market id for every market `tradable` accepts."""
    return {f"{m['base']}/USDT": m["id"] for m in markets.values() if tradable(m)}


def quote_volumes(tickers: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Our symbol ('BTC/USDT') -> 24h quote volume (USDT) from ccxt's unified tickers."""
    out: dict[str, float] = {}
    for symbol, row in tickers.items():
        try:
            out[symbol.split(":")[0]] = float(row["quoteVolume"])
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
    ranked = sorted(((volumes.get(sym, 0.0), sym) for sym in perpetuals
                     if sym not in excluded and volumes.get(sym, 0.0) >= min_volume),
                    key=lambda vs: (-vs[0], vs[1]))
    return [sym for _, sym in ranked[:max_pairs]]
