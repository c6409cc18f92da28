"""config.py: defaults, parsing, errors collected together (exit 2), secrets never shown."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import pytest

from config import KEYS, SECRET_KEYS, ConfigError, Settings, load_settings
from tests.shared_data import REPO

VALID_SECRETS = {"TELEGRAM_BOT_TOKEN": "123456789:" + "AAtopsecretTokenXYZ" + "abcdefghijklmnopq",
                 "TELEGRAM_CHAT_ID": "-1009876543210"}
KEYS_PAIR = {"BINANCE_API_KEY": "prodKEY-1234567", "BINANCE_SECRET": "prodSECRET-7654321"}


def load(**env: str) -> Settings:
    """Settings from exactly these variables (no process environment, no .env)."""
    return load_settings(env=env, dotenv_path=None)


def problems(**env: str) -> dict[str, str]:
    """key -> the printed problem, for an environment that must be refused."""
    with pytest.raises(ConfigError) as err:
        load(**env)
    return {p.key: str(p) for p in err.value.problems}


def run_main(args, env: dict, cwd) -> subprocess.CompletedProcess:
    """main.py as a process with only `env` (plus PATH), in `cwd` (where .env is looked up)."""
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd, env={"PATH": "/usr/bin:/bin", **env})


def test_defaults_are_the_safe_seed_values():
    s = load()
    assert s == Settings()
    assert (s.use_realtime_data, s.enable_trading, s.demo_trading) == (True, False, True)
    assert (s.position_size, s.leverage) == (100.0, 20)
    assert (s.pivot_left, s.pivot_right, s.break_on) == (5, 5, "close")
    assert not s.live_trading


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        load().leverage = 50


@pytest.mark.parametrize("text, value", [
    ("1", True), ("0", False), ("true", True), ("FALSE", False), ("yes", True), ("No", False),
    (" yes ", True),
])
def test_booleans_accept_the_six_words_in_any_case(text, value):
    assert load(USE_REALTIME_DATA=text).use_realtime_data is value


@pytest.mark.parametrize("text", ["2", "on", "off", "y", "enabled", "tru"])
def test_other_boolean_words_are_refused(text):
    found = problems(USE_REALTIME_DATA=text)
    assert "1/0/true/false/yes/no" in found["USE_REALTIME_DATA"]


def test_empty_value_means_the_default():
    assert load(LEVERAGE="", BREAK_ON="  ").leverage == 20


def test_values_are_parsed():
    s = load(LEVERAGE="7", POSITION_SIZE="12.5", SYMBOLS="btcusdt, ETH/USDT:USDT,BTC/USDT",
             TIMEFRAMES="25m,1h", PIVOT_LEFT="3", BREAK_ON="WICK")
    assert (s.leverage, s.position_size, s.pivot_left, s.break_on) == (7, 12.5, 3, "wick")
    assert s.symbols == ("BTC/USDT", "ETH/USDT") and s.timeframes == ("25m", "1h")


def test_admin_ids_are_user_ids_and_anything_else_is_refused():
    assert load(TELEGRAM_ADMIN_IDS=" 111, 222,111 ").telegram_admin_ids == (111, 222)
    assert load().telegram_admin_ids == ()
    for bad in ("@someone", "-1001234", "12a", "0"):
        assert "Telegram user ids" in problems(TELEGRAM_ADMIN_IDS=bad)["TELEGRAM_ADMIN_IDS"]


def test_every_error_is_collected_not_just_the_first():
    found = problems(LEVERAGE="abc", PIVOT_LEFT="0", BREAK_ON="body", DEMO_TRADING="maybe",
                     POSITION_SIZE="-5", TIMEFRAMES="1x")
    assert set(found) == {"LEVERAGE", "PIVOT_LEFT", "BREAK_ON", "DEMO_TRADING", "POSITION_SIZE",
                          "TIMEFRAMES"}
    assert found["LEVERAGE"].startswith("LEVERAGE='abc': ") and "<= 125" in found["LEVERAGE"]
    assert "close/wick" in found["BREAK_ON"]


def test_repr_never_shows_a_secret():
    values = {k: f"topsecret{i}XYZ" for i, k in enumerate(sorted(SECRET_KEYS))}
    # Secrets with a checked shape get a valid one (the Telegram keys, when present).
    values.update({k: v for k, v in VALID_SECRETS.items() if k in SECRET_KEYS})
    s = load(**values)
    text = repr(s) + str(s) + str(s.redacted())
    assert [v for v in values.values() if v in text] == []
    assert "***" in text
    assert s.binance_api_key == values["BINANCE_API_KEY"]  # redacted for display only


def test_demo_keys_fall_back_to_the_production_pair():
    s = load(**KEYS_PAIR)
    assert (s.binance_api_key_demo, s.binance_secret_demo) == tuple(KEYS_PAIR.values())
    own = load(**KEYS_PAIR, BINANCE_API_KEY_DEMO="demoK", BINANCE_SECRET_DEMO="demoS")
    assert (own.binance_api_key_demo, own.binance_secret_demo) == ("demoK", "demoS")


def test_a_key_without_its_secret_is_refused():
    found = problems(BINANCE_API_KEY_DEMO="demoK")
    assert "BINANCE_SECRET_DEMO" in found


def test_live_trading_needs_the_explicit_confirmation():
    live = dict(KEYS_PAIR, ENABLE_TRADING="1", DEMO_TRADING="0")
    assert "CONFIRM_LIVE_TRADING" in problems(**live)
    assert "CONFIRM_LIVE_TRADING" in problems(**live, CONFIRM_LIVE_TRADING="true")
    assert "CONFIRM_LIVE_TRADING" in problems(**live, CONFIRM_LIVE_TRADING="no")
    assert load(**live, CONFIRM_LIVE_TRADING="yes").live_trading
    # Demo trading needs no confirmation.
    assert not load(**dict(live, DEMO_TRADING="1")).live_trading


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("LEVERAGE=10\nPIVOT_LEFT=3\n# a comment\nBREAK_ON=wick\n")
    s = load_settings(env={"LEVERAGE": "7"}, dotenv_path=dotenv)
    assert (s.leverage, s.pivot_left, s.break_on) == (7, 3, "wick")


def test_every_key_is_documented_in_env_example():
    text = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    assert set(KEYS) - documented == set()


def test_main_reports_all_errors_together_and_exits_2(tmp_path):
    res = run_main(["run"], {"LEVERAGE": "abc", "BREAK_ON": "body", "ENABLE_TRADING": "maybe"},
                   tmp_path)
    assert res.returncode == 2
    for key in ("LEVERAGE='abc'", "BREAK_ON='body'", "ENABLE_TRADING='maybe'"):
        assert key in res.stderr
    assert "3 problem(s)" in res.stderr and res.stdout == ""


def test_main_check_refuses_a_bad_configuration_too(tmp_path):
    res = run_main(["check"], {"PIVOT_RIGHT": "0"}, tmp_path)
    assert res.returncode == 2 and "PIVOT_RIGHT='0'" in res.stderr


def test_main_error_output_never_shows_a_secret(tmp_path):
    env = {"BINANCE_API_KEY": "prodKEY-1234567", "LEVERAGE": "abc",
           "ENABLE_TRADING": "1", "DEMO_TRADING": "0"}
    res = run_main(["run"], env, tmp_path)
    assert res.returncode == 2
    assert "BINANCE_SECRET" in res.stderr and "CONFIRM_LIVE_TRADING" in res.stderr
    assert "prodKEY-1234567" not in res.stderr + res.stdout


def test_main_reads_dotenv_from_the_working_directory_and_env_wins(tmp_path):
    # .env has two errors; the environment fixes one and adds another: exactly those show.
    (tmp_path / ".env").write_text("LEVERAGE=abc\nBREAK_ON=body\n")
    res = run_main(["run"], {"LEVERAGE": "10", "PIVOT_LEFT": "0"}, tmp_path)
    assert res.returncode == 2
    assert "BREAK_ON='body'" in res.stderr and "PIVOT_LEFT='0'" in res.stderr
    assert "LEVERAGE" not in res.stderr


def test_main_error_output_hides_an_invalid_secret_value(tmp_path):
    bad = "not a valid secret: leaked?"
    refused = [k for k in sorted(SECRET_KEYS) if _refuses(k, bad)]
    if not refused:
        pytest.skip("no secret key has a checked shape yet")
    res = run_main(["run"], {k: bad for k in refused}, tmp_path)
    assert res.returncode == 2
    assert all(f"{k}=***" in res.stderr for k in refused)
    assert bad not in res.stderr + res.stdout


def _refuses(key: str, text: str) -> bool:
    try:
        KEYS[key][1](text)
    except ValueError:
        return True
    return False
