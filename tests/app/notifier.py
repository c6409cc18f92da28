"""A systemd notifier that records what the daemon tells systemd."""
from __future__ import annotations

from app.sdnotify import SystemdNotifier


class RecordingNotifier(SystemdNotifier):
    """systemd's side of the notify protocol, kept in a list."""

    def __init__(self) -> None:
        super().__init__(environ={})
        self.sent: list[str] = []

    def notify(self, state: str) -> bool:
        self.sent.append(state)
        return True
