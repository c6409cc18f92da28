"""Market data: Binance fetcher, timeframe adapter, candle files."""
