"""The shared value types: timeframes, trade states, the retry backoff (pure, nothing of ours)."""
