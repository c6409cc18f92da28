"""`main.py demo`: the real daemon offline, over the replay venue and the shipped sample."""
from __future__ import annotations

import base64
import json
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from app import demo
from app.cli import build_parser

REPO = Path(__file__).resolve().parents[2]


def _args(*argv: str):
    return build_parser().parse_args(["demo", *argv])


def test_the_demo_takes_only_the_telegram_keys_of_the_users_configuration(tmp_path, monkeypatch):
    for key in ("DATA_EXCHANGE", "ENABLE_TRADING", "SYMBOLS", "STATE_DB", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    dotenv = tmp_path / ".env"
    dotenv.write_text("ENABLE_TRADING=1\nBINANCE_API_KEY=k\nBINANCE_SECRET=s\nSYMBOLS=ETH/USDT\n"
                      "STATE_DB=/var/lib/choch/choch.db\nTELEGRAM_BOT_TOKEN=123456:"
                      + "A" * 30 + "\nTELEGRAM_CHAT_ID=42\n")
    s = demo.settings(_args("--speed", "300"), tmp_path / "d", 8123, "pw", str(dotenv))
    assert (s.data_exchange, s.symbols, s.enable_trading) == ("replay", ("LTC/USDT",), False)
    assert s.state_db == str(tmp_path / "d" / "choch.db") and s.replay_speed == 300
    assert s.telegram_chat_id == "42" and s.telegram_bot_token.startswith("123456:")
    assert (s.api_listen, s.api_username, s.api_password) == ("127.0.0.1:8123", "demo", "pw")


@pytest.mark.parametrize("flag", [["--speed", "0"], ["--speed", "fast"], ["--port", "70000"]])
def test_bad_demo_flags_exit_2(flag, capsys):
    with pytest.raises(SystemExit) as stopped:
        _args(*flag)
    assert stopped.value.code == 2


def test_a_taken_port_is_replaced_by_a_free_one():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert demo.free_port(port) != port
    assert demo.free_port(0) > 0


def _count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
            return int(c.execute(sql).fetchone()[0])
    except sqlite3.Error:
        return 0  # not created yet


@pytest.mark.slow  # the daemon for about half a minute
def test_the_demo_alerts_and_paper_trades_a_signal_from_open_to_exit(tmp_path):
    state = tmp_path / "state"
    out: list[str] = []
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), "demo", "--speed", "600", "--port", "0",
         "--state-dir", str(state)], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)
    reader.start()
    db = state / "choch.db"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if _count(db, "SELECT COUNT(*) FROM positions WHERE status = 'closed'"):
                break
            time.sleep(0.5)
        assert proc.poll() is None, proc.stderr.read()
        signals = _count(db, "SELECT COUNT(*) FROM signals")
        closed = _count(db, "SELECT COUNT(*) FROM positions WHERE status = 'closed' "
                            "AND mode = 'paper'")
        intro = proc.stderr.readline() and "".join(proc.stderr.readline() for _ in range(4))
        found = re.search(r"http://(127\.0\.0\.1:\d+)/\s+user demo\s+password (\S+)", intro)
        assert found, intro
        listen, password = found.groups()
        auth = {"Authorization": "Basic " + base64.b64encode(f"demo:{password}".encode()).decode()}

        def get(path: str):
            request = urllib.request.Request(f"http://{listen}{path}", headers=auth)
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.load(answer)

        api_signals, health = get("/api/v1/signals?limit=5"), get("/api/v1/health")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    reader.join(5)
    text = "".join(out)
    assert signals >= 1 and closed >= 1 and api_signals
    assert health["instances"]["data"]["exchange"] == "replay"
    assert health["uptime_s"] < 150  # host seconds, though the market's clock ran 600x
    assert health["now"] < 1_770_163_200_000  # the market's time: inside the sample
    assert re.search(r"(CHoCH|BOS) (bullish|bearish) · LTC/USDT", text)  # a console alert
    assert "Position opened · LTC/USDT" in text
    assert re.search(r"(Target hit|Stop hit|Position closed)", text), text[-2000:]
    assert password not in text and password not in err  # printed once, never logged
    assert proc.returncode == 130
    assert state.is_dir()  # --state-dir is kept; the default temporary one is removed
