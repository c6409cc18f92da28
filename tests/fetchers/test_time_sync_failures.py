"""A failed clock sync fails every caller that queued behind it, at once; check says why."""
from __future__ import annotations

import asyncio
import socket

from exchanges.errors import ExchangeUnavailable

from .conftest import fast_retry


async def test_callers_waiting_on_a_failed_time_sync_fail_at_once_without_retrying_it(
        fake_binance, make_fetcher):
    fake = await fake_binance()
    fetcher = await make_fetcher(fake, retry=fast_retry(attempts=3))
    fake.fail("/fapi/v1/time", 503, times=1000)
    results = await asyncio.gather(*(fetcher.server_time_ms() for _ in range(8)),
                                   return_exceptions=True)
    assert all(isinstance(r, ExchangeUnavailable) for r in results)
    # One sync with its 3 attempts, not 3 attempts for each of the 8 callers, one after another.
    assert fake.paths().count("/fapi/v1/time") == 3
    # A later call is a new sync (the exchange may be back), not the stale error.
    fake.faults.clear()
    assert await fetcher.server_time_ms() > 0


async def test_check_names_why_the_venue_was_not_reached(make_fetcher, fake_binance):
    fake = await fake_binance()
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fetcher = await make_fetcher(fake, env={"BINANCE_DATA_URL": f"http://127.0.0.1:{port}"},
                                 retry=fast_retry(attempts=1))
    [(label, ok, detail)] = await fetcher.check()
    assert not ok and label == "binance server time"
    assert detail.startswith("connection refused (127.0.0.1:")


