"""API settings: off by default, the configuration errors (exit 2, key named), a busy address."""
from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from app.daemon import Daemon
from config import Settings
from tests.config_env import load, problems
from tests.shared_data import REPO

LONG = "a-password-of-24-chars!!"


def test_the_api_is_off_by_default_and_control_too():
    s = load()
    assert (s.api_listen, s.api_username, s.api_password, s.api_control) == ("", "", "", False)


def test_api_listen_needs_a_username_and_a_password():
    found = problems(API_LISTEN="127.0.0.1:8080")
    assert set(found) == {"API_USERNAME", "API_PASSWORD"}
    assert "required when API_LISTEN is set" in found["API_PASSWORD"]
    assert set(problems(API_LISTEN="127.0.0.1:8080", API_USERNAME="op")) == {"API_PASSWORD"}


@pytest.mark.parametrize("listen", ["0.0.0.0:8080", "[::]:8080", "192.168.1.10:80"])
def test_a_short_password_is_refused_off_loopback_and_never_shown(listen):
    found = problems(API_LISTEN=listen, API_USERNAME="op", API_PASSWORD="short-secret-15")
    assert list(found) == ["API_PASSWORD"] and "at least 16 characters" in found["API_PASSWORD"]
    assert "short-secret" not in found["API_PASSWORD"]
    assert load(API_LISTEN=listen, API_USERNAME="op", API_PASSWORD="x" * 16).api_listen == listen


@pytest.mark.parametrize("listen", ["127.0.0.1:8080", "[::1]:8080", "localhost:8080",
                                    "127.1.2.3:9000"])
def test_a_loopback_address_accepts_a_short_password(listen):
    s = load(API_LISTEN=listen, API_USERNAME="op", API_PASSWORD="pw")
    assert s.api_listen == listen


@pytest.mark.parametrize("listen", ["8080", ":8080", "127.0.0.1", "127.0.0.1:0",
                                    "127.0.0.1:65536", "::1:8080", "[127.0.0.1]:80",
                                    "example.com:80", "http://127.0.0.1:8080", "256.1.1.1:80",
                                    "127.0.0.1:80 x"])
def test_an_unparsable_address_is_refused(listen):
    found = problems(API_LISTEN=listen, API_USERNAME="op", API_PASSWORD=LONG)
    assert list(found) == ["API_LISTEN"] and "host:port" in found["API_LISTEN"]


def test_a_username_with_a_colon_is_refused():
    assert "API_USERNAME" in problems(API_LISTEN="127.0.0.1:1", API_USERNAME="a:b",
                                      API_PASSWORD=LONG)


def test_the_password_is_a_secret_everywhere():
    s = load(API_LISTEN="127.0.0.1:8080", API_USERNAME="op", API_PASSWORD=LONG)
    assert s.redacted()["api_password"] == "***" and LONG not in repr(s)


@pytest.mark.parametrize("env,key", [
    ({"API_LISTEN": "0.0.0.0:8080", "API_USERNAME": "op", "API_PASSWORD": "tooshort"},
     "API_PASSWORD"),
    ({"API_LISTEN": "127.0.0.1:8080"}, "API_USERNAME"),
    ({"API_LISTEN": "nonsense", "API_USERNAME": "op", "API_PASSWORD": LONG}, "API_LISTEN"),
])
def test_main_exits_2_naming_the_key_before_anything_starts(tmp_path, env, key):
    done = subprocess.run([sys.executable, str(REPO / "main.py"), "run"], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "STATE_DB": str(tmp_path / "s.db"), **env})
    assert done.returncode == 2 and key in done.stderr
    assert "tooshort" not in done.stderr + done.stdout
    assert not (tmp_path / "s.db").exists()  # nothing started


@contextlib.contextmanager
def busy_port() -> Iterator[int]:
    """A loopback port bound and listening while the block runs: an address already in use."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def listening_on(port: int, tmp_path) -> Settings:
    """Settings whose API listens on `port` (data at a dead loopback address)."""
    return load(API_LISTEN=f"127.0.0.1:{port}", API_USERNAME="op", API_PASSWORD="pw",
                STATE_DB=str(tmp_path / "state.db"), BINANCE_DATA_URL="http://127.0.0.1:9")


async def test_a_busy_api_address_stops_the_daemon_with_status_1(tmp_path):
    with busy_port() as port:
        settings = listening_on(port, tmp_path)
        daemon = Daemon(settings)
        with capture_logs() as logs:
            assert await asyncio.wait_for(daemon.serve(), 30) == 1
    failed = [e for e in logs if e["event"] == "api_listen_failed"]
    assert failed and failed[0]["listen"] == f"127.0.0.1:{port}"
    assert not any(e["event"] == "daemon_ready" for e in logs)


async def test_a_busy_api_address_says_so_on_stderr_and_logs_exit_status_1(tmp_path, capsys):
    with busy_port() as port:
        settings = listening_on(port, tmp_path)
        with capture_logs() as logs:
            assert await asyncio.wait_for(Daemon(settings).serve(), 30) == 1
    stopped = [e for e in logs if e["event"] == "daemon_stopped"]
    assert stopped and stopped[0]["exit_status"] == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"start-up failed: API_LISTEN=127.0.0.1:{port}: ")
    assert "address already in use" in err[0]


def test_trusted_proxies_and_public_names_are_off_by_default():
    s = load()
    assert (s.api_trusted_proxy, s.api_public_name) == ((), ())


def test_trusted_proxies_are_ip_addresses():
    s = load(API_TRUSTED_PROXY=" 10.0.0.2 , ::1,10.0.0.2")
    assert s.api_trusted_proxy == ("10.0.0.2", "::1")
    for bad in ("proxy.example", "10.0.0.0/8", "10.0.0.256", "10.0.0.2;10.0.0.3"):
        found = problems(API_TRUSTED_PROXY=bad)
        assert list(found) == ["API_TRUSTED_PROXY"] and "IP address" in found["API_TRUSTED_PROXY"]


def test_public_names_are_hosts_with_an_optional_port():
    s = load(API_PUBLIC_NAME="Choch.Example.com, choch.example.com:8443,10.0.0.5,[::1]:80")
    assert s.api_public_name == ("choch.example.com", "choch.example.com:8443", "10.0.0.5",
                                 "[::1]:80")
    for bad in ("http://choch.example.com", "choch.example.com:0", "choch.example.com:99999",
                "choch example.com", "::1", "[choch.example.com]", "a/b"):
        found = problems(API_PUBLIC_NAME=bad)
        assert list(found) == ["API_PUBLIC_NAME"], bad
        assert "host names" in found["API_PUBLIC_NAME"]
