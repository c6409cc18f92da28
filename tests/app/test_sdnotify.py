"""The systemd notify protocol reaches a real datagram socket, and is silent without one."""
from __future__ import annotations

import socket

from app.sdnotify import SystemdNotifier


def test_ready_watchdog_stopping_reach_the_notify_socket(tmp_path):
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        n = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "120000000"})
        assert n.ready() and n.watchdog() and n.stopping()
        assert [server.recv(100) for _ in range(3)] == [b"READY=1", b"WATCHDOG=1", b"STOPPING=1"]
        assert n.watchdog_s == 120.0


def test_without_systemd_nothing_is_sent_and_nothing_fails():
    n = SystemdNotifier({})
    assert not n.enabled and n.ready() is False and n.watchdog_s is None


def test_a_vanished_socket_is_not_an_error(tmp_path):
    assert SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).watchdog() is False
