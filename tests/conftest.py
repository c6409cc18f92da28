"""Suite-wide guards: no test reaches beyond this machine."""
from __future__ import annotations

import ipaddress
import socket

import pytest

import exchanges.ccxt_lean  # noqa: F401 - ccxt imported the lean way before any test

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_local(address) -> bool:
    """True for loopback addresses and Unix sockets."""
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may not connect to {address!r}: no network")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_local(address):
        raise ConnectionRefusedError(f"tests may not connect to {address!r}: no network")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host not in (None, "localhost") and not _is_local((host,)):
        raise socket.gaierror(f"tests may not resolve {host!r}: no network")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Refuse every non-loopback connection, so a test can never reach a real exchange."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)


@pytest.fixture
def store(tmp_path):
    """A state database in the test's temporary directory, closed afterwards."""
    from store import Store

    db = Store(tmp_path / "state.db")
    yield db
    db.close()


@pytest.fixture(autouse=True, scope="session")
def _no_ccxt_exit_pause():
    """ccxt sleeps 250 ms in every close() to let TLS transports finish closing; the fakes speak
    plain HTTP on loopback, so the tests close at once (production keeps ccxt's pause)."""
    from exchanges.ccxt_lean import ccxt_async

    base = ccxt_async.Exchange
    saved = base.timeout_on_exit
    base.timeout_on_exit = 0
    yield
    base.timeout_on_exit = saved


@pytest.fixture(autouse=True)
def _unfrozen_heap():
    """A daemon's start freezes the heap it built (app.memory); tests start many: thawed after
    each, so one test's objects are collected as usual."""
    yield
    import gc
    gc.unfreeze()
