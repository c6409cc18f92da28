"""Market data over any venue: the timeframe adapter, aggregation, candle files and history.

Nothing is re-exported here: import from the submodule (fetchers.adapter, fetchers.history, ...),
so that reading a candle file (fetchers.csv_files) never loads ccxt. No venue is named here:
venues live in exchanges/.
"""
