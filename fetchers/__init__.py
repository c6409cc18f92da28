"""Market data: the Binance fetcher, the timeframe adapter, candle files and history.

Nothing is re-exported here: import from the submodule (fetchers.binance, fetchers.adapter, ...),
so that reading a candle file (fetchers.csv_files) never loads ccxt.
"""
