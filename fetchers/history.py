"""History for `main.py scan --symbol`: the same market data and aggregation as the daemon, once."""
from __future__ import annotations

import pandas as pd
import structlog

from exchanges import factory
from exchanges.options import MarketDataConfig
from exchanges.retry import RetryPolicy
from exchanges.venue import Venue

from .aggregate import aggregate, bucket_end, bucket_start
from .columns import COLUMNS
from .timeframes import plan

log = structlog.get_logger(__name__)


async def fetch_history(config: MarketDataConfig, venue: Venue, symbol: str, timeframe: str,
                        since_ms: int, until_ms: int | None = None, *,
                        retry: RetryPolicy | None = None) -> pd.DataFrame:
    """Closed `timeframe` candles of `symbol` on `venue` opening in [since_ms, until_ms)
    (until: now).

    Columns timestamp, open, high, low, close, volume; paginated at the venue's page size.
    Raises exchanges.errors.TransientExchangeError / PermanentExchangeError when it fails.
    """
    p = plan(timeframe, venue.native_timeframes)
    since_ms = int(since_ms)
    async with factory.market_data(config, venue, retry=retry) as fetcher:
        now = await fetcher.server_time_ms()
        grid = not p.straight
        # Whole buckets: start at the bucket holding since_ms, stop after the one holding until.
        base_since = bucket_start(since_ms, p.bucket_ms, p.origin_ms) if grid else since_ms
        limit = None
        if until_ms is not None and grid:
            stop = bucket_end(bucket_start(int(until_ms) - 1, p.bucket_ms, p.origin_ms),
                              p.bucket_ms)
            limit = max(1, (stop - base_since) // p.base_ms)
        base = await fetcher.closed_candles(symbol, p.base, since_ms=base_since, limit=limit)
    closed_until = now - now % p.base_ms if grid else now
    frame = aggregate(base, p, closed_until)
    frame = frame.loc[frame["timestamp"] >= since_ms]
    if until_ms is not None:
        frame = frame.loc[frame["timestamp"] < int(until_ms)]
    log.info("history_fetched", symbol=symbol, tf=timeframe, candles=len(frame))
    return frame.loc[:, list(COLUMNS)].reset_index(drop=True)
