"""systemd's notify protocol (READY=1, WATCHDOG=1, STOPPING=1) without a dependency."""
from __future__ import annotations

import os
import socket


class SystemdNotifier:
    """Sends state lines to $NOTIFY_SOCKET; does nothing when not started by systemd."""

    def __init__(self, environ=os.environ) -> None:
        address = environ.get("NOTIFY_SOCKET", "")
        # '@name' is an abstract socket: a leading NUL byte on Linux.
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = environ.get("WATCHDOG_USEC", "")
        self.watchdog_s = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 else None

    @property
    def enabled(self) -> bool:
        """True when systemd listens."""
        return bool(self.address)

    def notify(self, state: str) -> bool:
        """Send one state line; returns False (never raises) when it could not be sent."""
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self.address)
                sock.sendall(state.encode())
            return True
        except OSError:
            return False

    def ready(self) -> bool:
        """READY=1: start-up finished."""
        return self.notify("READY=1")

    def watchdog(self) -> bool:
        """WATCHDOG=1: the event loop is alive."""
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        """STOPPING=1: shutdown has begun."""
        return self.notify("STOPPING=1")

    def status(self, text: str) -> bool:
        """STATUS=...: one line shown by `systemctl status`."""
        return self.notify(f"STATUS={text}")
