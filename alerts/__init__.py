"""Telegram alerts and commands (issue 5)."""
