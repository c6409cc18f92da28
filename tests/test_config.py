"""config.py: defaults, parsing, errors collected together (exit 2), secrets never shown."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import pytest

from app import banner
from config import (
    KEYS,
    SECRET_KEYS,
    VENUE_KEYS,
    ConfigError,
    Settings,
    VenueKeys,
    is_production_host,
    lint_environment,
    load_settings,
)
from config.values import plain_text
from tests.config_env import load, problems
from tests.shared_data import REPO

VALID_SECRETS = {"TELEGRAM_BOT_TOKEN": "123456789:" + "AAtopsecretTokenXYZ" + "abcdefghijklmnopq",
                 "TELEGRAM_CHAT_ID": "-1009876543210"}
KEYS_PAIR = {"BINANCE_API_KEY": "prodKEY-1234567", "BINANCE_SECRET": "prodSECRET-7654321"}


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
    assert s.venue_keys("binance").api_key == values["BINANCE_API_KEY"]  # redacted for display only


def test_demo_keys_fall_back_to_the_production_pair():
    s = load(**KEYS_PAIR)
    keys = s.venue_keys("binance")
    assert (keys.api_key_demo, keys.secret_demo) == tuple(KEYS_PAIR.values())
    own = load(**KEYS_PAIR, BINANCE_API_KEY_DEMO="demoK", BINANCE_SECRET_DEMO="demoS")
    keys = own.venue_keys("binance")
    assert (keys.api_key_demo, keys.secret_demo) == ("demoK", "demoS")


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
    # Another venue's keys are not Settings fields: they are read as plain text.
    parse = KEYS[key][1] if key in KEYS else plain_text
    try:
        parse(text)
    except ValueError:
        return True
    return False


# -- a trading URL on a production host is live trading ---------------------------------------

PRODUCTION_URLS = ["https://fapi.binance.com", "https://fapi1.binance.com/",
                   "https://fapi2.binance.com", "https://FAPI3.Binance.com:443",
                   "https://fapi.binance.com."]
DEMO_ON_PRODUCTION = dict(ENABLE_TRADING="1", DEMO_TRADING="1")


@pytest.mark.parametrize("url", PRODUCTION_URLS)
def test_demo_trading_against_a_production_host_is_refused_without_confirmation(url):
    found = problems(**DEMO_ON_PRODUCTION, **KEYS_PAIR, BINANCE_TRADING_URL=url)
    assert set(found) == {"BINANCE_TRADING_URL"}
    assert "REAL" in found["BINANCE_TRADING_URL"]


@pytest.mark.parametrize("url", PRODUCTION_URLS)
def test_a_confirmed_production_host_is_live_with_the_production_pair(url):
    s = load(**DEMO_ON_PRODUCTION, **KEYS_PAIR, BINANCE_TRADING_URL=url,
             CONFIRM_LIVE_TRADING="yes")
    assert s.live_trading and not s.demo_trading and s.signing_pair == "BINANCE_API_KEY"
    assert banner.trading_mode(s) == "live"
    trading_line = banner.describe(s)[1]
    assert "live on" in trading_line and "(REAL MONEY)" in trading_line
    assert "BINANCE_API_KEY pair" in trading_line


def test_demo_keys_never_sign_on_a_production_host():
    demo_only = dict(DEMO_ON_PRODUCTION, BINANCE_API_KEY_DEMO="demoK", BINANCE_SECRET_DEMO="demoS",
                     BINANCE_TRADING_URL="https://fapi.binance.com", CONFIRM_LIVE_TRADING="yes")
    assert set(problems(**demo_only)) == {"BINANCE_API_KEY"}
    # No fallback copy towards a production host, even with trading off.
    s = load(**KEYS_PAIR, BINANCE_TRADING_URL="https://fapi.binance.com")
    keys = s.venue_keys("binance")
    assert (keys.api_key_demo, keys.secret_demo) == ("", "")


@pytest.mark.parametrize("url", ["", "https://demo-fapi.binance.com", "http://127.0.0.1:8080"])
def test_demo_hosts_keep_the_fallback_and_say_which_pair_signs(url):
    env = dict(DEMO_ON_PRODUCTION, **KEYS_PAIR, BINANCE_TRADING_URL=url)
    s = load(**env)
    assert not s.live_trading and s.demo_trading
    assert s.venue_keys("binance").api_key_demo == KEYS_PAIR["BINANCE_API_KEY"]
    assert s.signing_pair == "BINANCE_API_KEY" and "signed with the BINANCE_API_KEY pair" in (
        banner.describe(s)[1])
    own = load(**env, BINANCE_API_KEY_DEMO="demoK", BINANCE_SECRET_DEMO="demoS")
    assert own.signing_pair == "BINANCE_API_KEY_DEMO" and banner.trading_mode(own) == "demo"


def test_settings_built_directly_count_a_production_host_as_live():
    s = Settings(enable_trading=True, demo_trading=True, venue_credentials=(
        ("binance", VenueKeys(trading_url="https://fapi2.binance.com")),))
    assert s.live_trading and banner.trading_mode(s) == "live"
    assert not is_production_host("https://demo-fapi.binance.com")
    assert not is_production_host("https://fapi.binance.com.example.org")


@pytest.mark.parametrize("text", ["YES", "Yes", " yes", "yes ", "y", "true", "1", "no "])
def test_confirm_live_trading_accepts_exactly_yes_or_no(text):
    assert "CONFIRM_LIVE_TRADING" in problems(CONFIRM_LIVE_TRADING=text)


def test_confirm_live_trading_yes_and_no_are_read():
    assert load(CONFIRM_LIVE_TRADING="yes").confirm_live_trading is True
    assert load(CONFIRM_LIVE_TRADING="no").confirm_live_trading is False


# -- numbers: plain ASCII, finite, bounded ------------------------------------------------------

NUMERIC_KEYS = [k for k, (name, _) in KEYS.items()
                if Settings.__dataclass_fields__[name].type in ("int", "float")]
NOT_A_PLAIN_NUMBER = ["inf", "-inf", "nan", "Infinity", "1e400", "9" * 5000, "1_0", "\uff11\uff10",
                      "\u0663", "0x10", "1 0", ".5", "5.", "1e", "--1", "\u00b2"]


@pytest.mark.parametrize("key", NUMERIC_KEYS)
def test_every_numeric_key_refuses_what_is_not_a_plain_finite_number(key):
    for text in NOT_A_PLAIN_NUMBER:
        assert key in problems(**{key: text}), text


@pytest.mark.parametrize("key, largest, too_large", [
    ("POSITION_SIZE", "10000000", "10000000.5"),
    ("MIN_VOLUME_24H", "1e13", "1.0001e13"),
    ("MAX_DAILY_LOSS", "1000000000", "1e9000"),
])
def test_amounts_have_an_upper_bound(key, largest, too_large):
    assert getattr(load(**{key: largest}), KEYS[key][0]) == float(largest)
    assert f"<= {int(float(largest))}" in problems(**{key: too_large})[key]


def test_integers_refuse_decimals_and_plain_numbers_keep_signs_exponents_and_spaces():
    assert set(problems(LEVERAGE="10.0", PIVOT_LEFT="1e1")) == {"LEVERAGE", "PIVOT_LEFT"}
    s = load(POSITION_SIZE=" +1.5e2 ", LEVERAGE=" +7 ", MAX_DAILY_LOSS="0")
    assert (s.position_size, s.leverage, s.max_daily_loss) == (150.0, 7, 0.0)


# -- the env file ---------------------------------------------------------------------------------

def file_problems(path, env=None) -> list[str]:
    """The printed problems of loading `path` (which must be refused)."""
    with pytest.raises(ConfigError) as err:
        load_settings(env=env or {}, dotenv_path=path)
    return [str(p) for p in err.value.problems]


def test_an_unclosed_quote_in_the_env_file_names_the_file_and_line(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text('LEVERAGE=3\nMAX_DAILY_LOSS="50\nPIVOT_LEFT=4\n')
    found = file_problems(dotenv)
    assert len(found) == 1 and found[0].startswith(f"{dotenv} line 2: ")
    assert "MAX_DAILY_LOSS" in found[0]


def test_env_file_lines_around_a_broken_one_still_count_and_a_bom_is_no_key(tmp_path, caplog):
    dotenv = tmp_path / ".env"
    dotenv.write_bytes('\ufeffLEVERAGE=3\nBREAK_ON="wick\nPIVOT_LEFT=0\n'.encode())
    found = file_problems(dotenv)
    assert [p.split(":")[0] for p in found] == [f"{dotenv} line 2", "PIVOT_LEFT='0'"]
    assert "could not parse" not in caplog.text  # reported once, by us
    dotenv.write_bytes(b"\xef\xbb\xbfLEVERAGE=3\n")  # as some Windows editors save UTF-8
    assert load_settings(env={}, dotenv_path=dotenv).leverage == 3


def test_env_file_problems_are_reported_with_the_other_problems(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("LEVERAGE=3\nthis is not a setting\n")
    found = file_problems(dotenv, env={"PIVOT_LEFT": "0"})
    assert [p.split(":")[0] for p in found] == [f"{dotenv} line 2", "PIVOT_LEFT='0'"]


@pytest.mark.parametrize("content, line, why", [
    ("LEVERAGE=3\n".encode("utf-16"), 1, "NUL byte"),
    (b"LEVERAGE=3\nSYMBOLS=BTC\x00USDT\n", 2, "NUL byte"),
    ("LEVERAGE=3\nPIVOT_LEFT=4\n# caf\u00e9\n".encode("latin-1"), 3, "not UTF-8"),
], ids=["utf16", "nul", "latin1"])
def test_a_binary_or_non_utf8_env_file_is_a_problem_not_a_crash(tmp_path, content, line, why):
    dotenv = tmp_path / ".env"
    dotenv.write_bytes(content)
    found = file_problems(dotenv)
    assert len(found) == 1 and found[0].startswith(f"{dotenv} line {line}: ") and why in found[0]


def test_an_env_file_named_explicitly_must_exist(tmp_path, monkeypatch):
    missing = tmp_path / "prod.env"
    assert file_problems(missing) == [f"{missing}: no such env file"]
    assert load_settings(env={}, dotenv_path=missing, required=False) == Settings()
    monkeypatch.chdir(tmp_path)  # the default .env of the working directory is optional
    assert load_settings(env={}) == Settings()
    with pytest.raises(ConfigError, match=r"\.env: no such env file"):
        load_settings(env={}, dotenv_path=".env", required=True)
    assert file_problems(tmp_path) == [f"{tmp_path}: not a file"]


def test_env_example_is_a_valid_env_file():
    assert load_settings(env={}, dotenv_path=REPO / ".env.example") == Settings()


def test_lint_warns_about_look_alike_keys_only(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("ENABLE_TRADNG=1\nenable_trading=1\nLEVERAGE=3\nMY_OWN_THING=1\n")
    env = {"PATH": "/usr/bin", "HOME": "/root", "CHARSET": "utf8", "LOGNAME": "me",
           "USER": "me", "TELEGRAM_BOT_TOKN": "x", "STATE_DIRECTORY": "/var/lib/choch",
           "MAX_PAIR": "3", "leverage": "3"}
    warnings = lint_environment(env, dotenv)
    meant = [re.match(r"warning: (\S+) .*did you mean (\S+)\?$", w).groups() for w in warnings]
    assert meant == [("ENABLE_TRADNG", "ENABLE_TRADING"), ("enable_trading", "ENABLE_TRADING"),
                     ("TELEGRAM_BOT_TOKN", "TELEGRAM_BOT_TOKEN"), ("MAX_PAIR", "MAX_PAIRS"),
                     ("leverage", "LEVERAGE")]
    assert str(dotenv) in warnings[0] and str(dotenv) not in warnings[2]


def test_lint_never_raises_on_a_broken_env_file(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_bytes("ENABLE_TRADNG=1\n".encode("utf-16"))
    assert lint_environment({}, dotenv) == []
    assert lint_environment({}, tmp_path / "missing.env") == []


# -- one problem never hides another --------------------------------------------------------------

def test_an_invalid_telegram_token_still_reports_the_missing_chat_id():
    assert set(problems(TELEGRAM_BOT_TOKEN="not-a-token")) == {"TELEGRAM_BOT_TOKEN",
                                                               "TELEGRAM_CHAT_ID"}
    assert set(problems(TELEGRAM_CHAT_ID="#chat")) == {"TELEGRAM_CHAT_ID", "TELEGRAM_BOT_TOKEN"}


# -- URLs ---------------------------------------------------------------------------------------

BAD_URLS = ["http://127.0.0.1:99999", "http://127.0.0.1:0", "http://127.0.0.1:8o80",
            "http://:8080", "http://user:secret@example.com", "http://exa mple.com",
            "http://a..b", "ftp://example.com", "http://example.com:-1"]


@pytest.mark.parametrize("key", ["BINANCE_DATA_URL", "BINANCE_TRADING_URL", "TELEGRAM_API_URL"])
def test_urls_need_a_host_and_a_port_in_range(key):
    for url in BAD_URLS:
        assert key in problems(**{key: url}), url
    for url in ["http://127.0.0.1:65535", "http://127.0.0.1:1", "https://[::1]:8080",
                "https://demo-fapi.binance.com/", "http://localhost", "http://fake_host:80"]:
        s = load(**{key: url})
        got = getattr(s, KEYS[key][0]) if key in KEYS else \
            getattr(s.venue_keys("binance"), VENUE_KEYS[key][1])
        assert got == url.rstrip("/")


def test_main_reports_a_port_out_of_range_as_a_configuration_error(tmp_path):
    res = run_main(["run"], {"BINANCE_DATA_URL": "http://127.0.0.1:99999"}, tmp_path)
    assert res.returncode == 2 and "BINANCE_DATA_URL='http://127.0.0.1:99999'" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("content", [b'LEVERAGE=3\nMAX_DAILY_LOSS="50\n',
                                     "LEVERAGE=3\n".encode("utf-16")],
                         ids=["unclosed-quote", "utf16"])
def test_main_reports_a_broken_env_file_and_exits_2(tmp_path, content):
    (tmp_path / ".env").write_bytes(content)
    res = run_main(["run"], {}, tmp_path)
    assert res.returncode == 2 and res.stdout == ""
    assert "  .env line " in res.stderr and "Traceback" not in res.stderr


# -- the state database ---------------------------------------------------------------------------

def test_state_db_defaults_into_systemds_state_directory():
    assert load().state_db == "state/choch.db"
    assert load(STATE_DIRECTORY="/var/lib/choch").state_db == "/var/lib/choch/choch.db"
    assert load(STATE_DIRECTORY="/var/lib/a:/var/lib/b").state_db == "/var/lib/a/choch.db"
    blank = load(STATE_DIRECTORY="/var/lib/choch", STATE_DB=" ")
    assert blank.state_db == "/var/lib/choch/choch.db"
    assert load(STATE_DIRECTORY="/var/lib/choch", STATE_DB=":memory:").state_db == ":memory:"


def test_env_example_leaves_state_db_to_the_state_directory(tmp_path):
    s = load_settings(env={"STATE_DIRECTORY": str(tmp_path)}, dotenv_path=REPO / ".env.example")
    assert s.state_db == str(tmp_path / "choch.db")


@pytest.mark.parametrize("key", ["TELEGRAM_API_URL", "BINANCE_DATA_URL", "OKX_TRADING_URL"])
def test_a_url_with_user_and_password_is_refused_without_showing_the_password(key):
    shown = problems(**{key: "https://bot:hunter2@proxy.example/tg?x=1"})[key]
    assert "hunter2" not in shown and "'https://bot:***@proxy.example/tg?x=1'" in shown
    shown = problems(**{key: "https://tok3n@proxy.example"})[key]
    assert "tok3n" not in shown and "'https://***@proxy.example'" in shown


def test_main_never_prints_the_password_of_a_url(tmp_path):
    res = run_main(["run"], {"TELEGRAM_API_URL": "https://bot:hunter2@proxy.example"}, tmp_path)
    assert res.returncode == 2 and "TELEGRAM_API_URL='https://bot:***@proxy.example'" in res.stderr
    assert "hunter2" not in res.stderr + res.stdout
