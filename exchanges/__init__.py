"""Exchanges: the port (market data, trading), venues as data, the registry, ccxt behind it.

Nothing is imported here, so that `exchanges.registry` and `exchanges.venue` (pure data, read
by config) never load ccxt. Code that talks to a venue imports `exchanges.errors`,
`exchanges.factory` or a venue's client module, each of which imports ccxt the lean way first.
"""
