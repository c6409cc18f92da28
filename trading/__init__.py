"""Order execution: Binance futures adapter, position manager, paper broker (issue 6)."""
