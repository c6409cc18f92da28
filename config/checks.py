"""Rules that involve more than one key (pairs, demo, trading, the API), and the signing pair
picked once they pass."""
from __future__ import annotations

from collections.abc import Mapping

from exchanges.registry import VENUES
from exchanges.venue import Venue

from .problems import Problem
from .settings import KEYS, Settings, VenueKeys, _api_problems, venue_env_keys
from .values import parse_url, plain_text


def venue_keys_table() -> dict[str, tuple[str, str]]:
    """Every registered venue's env keys: env key -> (venue name, VenueKeys field)."""
    return {key: (venue.name, name) for venue in VENUES.values()
            for key, name in venue_env_keys(venue).items()}


def _venue_secret(key: str) -> bool:
    """True for another venue's key or secret (shown redacted in a problem)."""
    entry = venue_keys_table().get(key)
    return bool(entry and VenueKeys.__dataclass_fields__[entry[1]].metadata.get("secret"))


VENUE_KEYS = venue_keys_table()  # as registered at import; config reads the registry again
SECRET_KEYS = frozenset(
    [k for k, (name, _) in KEYS.items()
     if Settings.__dataclass_fields__[name].metadata.get("secret")]
    + [k for k in VENUE_KEYS if _venue_secret(k)])


def _venue_keys_given(raw: Mapping[str, str], problems: list[Problem]
                      ) -> tuple[dict[str, dict[str, str]], set[str]]:
    """Every venue's keys from the raw environment: venue -> field -> value, and the keys set."""
    out: dict[str, dict[str, str]] = {}
    given: set[str] = set()
    for key, (venue, name) in venue_keys_table().items():
        text = raw.get(key, "")
        if not text.strip():
            continue
        given.add(key)
        try:
            value = parse_url(text) if name.endswith("_url") else plain_text(text)
        except ValueError as e:
            problems.append(Problem(key, text, str(e), secret=_venue_secret(key)))
            continue
        out.setdefault(venue, {})[name] = value
    return out, given


def _keys_of(s: dict, venue: Venue) -> VenueKeys:
    """The (merged, not yet resolved) keys of `venue`."""
    return VenueKeys(**s["_venues"].get(venue.name, {}))


def _pair_problems(given: set[str], key_env: str, secret_env: str) -> list[Problem]:
    """A key without its secret (or the reverse) is ambiguous: name the missing one."""
    has_key, has_secret = key_env in given, secret_env in given
    if has_key == has_secret:
        return []
    missing, other = (secret_env, key_env) if has_key else (key_env, secret_env)
    return [Problem(missing, "", f"must be set together with {other}", secret=True)]


def _venue_pair_problems(given: set[str]) -> list[Problem]:
    """Every venue's key/secret pairs (and passphrase, where the venue needs one)."""
    problems: list[Problem] = []
    for venue in VENUES.values():
        p = venue.env_prefix
        for suffix in ("", "_DEMO"):
            problems += _pair_problems(given, f"{p}_API_KEY{suffix}", f"{p}_SECRET{suffix}")
            if venue.needs_passphrase and f"{p}_API_KEY{suffix}" in given \
                    and f"{p}_PASSPHRASE{suffix}" not in given:
                problems.append(Problem(f"{p}_PASSPHRASE{suffix}", "", f"{venue.label} keys "
                                        f"need their passphrase: set it with {p}_API_KEY{suffix}",
                                        secret=True))
    return problems


def _demo_problems(s: dict) -> list[Problem]:
    """A demo environment asked of a venue that has none."""
    problems: list[Problem] = []
    trading, data = VENUES[s["trading_exchange"]], VENUES[s["data_exchange"]]
    if s["enable_trading"] and trading.trades and s["demo_trading"] and not trading.has_demo:
        problems.append(Problem("DEMO_TRADING", "1", f"{trading.label} has no demo "
                                "environment: trade on the paper broker (ENABLE_TRADING=0) or "
                                "live (DEMO_TRADING=0 with CONFIRM_LIVE_TRADING=yes)"))
    if not s["use_realtime_data"] and not data.has_demo:
        problems.append(Problem("USE_REALTIME_DATA", "0", f"{data.label} has no demo "
                                "environment to read market data from"))
    return problems


def _tradable_problems(s: dict, given: set[str]) -> list[Problem]:
    """A data-only venue named for trading, or traded on through DATA_EXCHANGE's default."""
    venue = VENUES[s["trading_exchange"]]
    if venue.trades or not ("TRADING_EXCHANGE" in given or s["enable_trading"]):
        return []
    tradable = ", ".join(sorted(v.name for v in VENUES.values() if v.trades))
    how = "" if "TRADING_EXCHANGE" in given else " (TRADING_EXCHANGE defaults to DATA_EXCHANGE)"
    return [Problem("TRADING_EXCHANGE", venue.name, f"{venue.label} serves market data only"
                    f"{how}: trade on one of {tradable}, or leave ENABLE_TRADING=0 for the "
                    "paper broker")]


def _trading_problems(s: dict, given: set[str]) -> list[Problem]:
    """Live trading needs the confirmation and the production pair; demo needs some pair."""
    venue = VENUES[s["trading_exchange"]]
    if not s["enable_trading"] or not venue.trades:
        return []
    p = venue.env_prefix
    url = _keys_of(s, venue).trading_url
    if s["demo_trading"] and not venue.real_money_url(url):
        if f"{p}_API_KEY_DEMO" in given or f"{p}_API_KEY" in given:
            return []
        return [Problem(f"{p}_API_KEY_DEMO", "", "required for demo trading "
                        f"(or {p}_API_KEY as a fallback)", secret=True)]
    problems: list[Problem] = []
    if not s["confirm_live_trading"]:
        if s["demo_trading"]:  # DEMO_TRADING=1 but the orders would reach production
            problems.append(Problem(
                f"{p}_TRADING_URL", url,
                "a production host: orders there are REAL even with DEMO_TRADING=1; use the demo "
                f"host (https://{venue.trading_spec().hosts[1]}) or set CONFIRM_LIVE_TRADING=yes "
                f"and {p}_API_KEY/{p}_SECRET to trade live"))
        else:
            problems.append(Problem(
                "CONFIRM_LIVE_TRADING", "",
                "ENABLE_TRADING=1 with DEMO_TRADING=0 places real orders; set "
                "CONFIRM_LIVE_TRADING=yes to confirm, or DEMO_TRADING=1"))
    if f"{p}_API_KEY" not in given:
        problems.append(Problem(f"{p}_API_KEY", "", "required for live trading (the "
                                "production pair; demo keys are never used there)", secret=True))
    return problems


def _replay_problems(s: dict, given: set[str]) -> list[Problem]:
    """The replay venue serves the candles REPLAY_SOURCE names: it has no default."""
    if s["data_exchange"] != "replay" or "REPLAY_SOURCE" in given:
        return []
    return [Problem("REPLAY_SOURCE", "", "required with DATA_EXCHANGE=replay: candle files "
                    "(comma-separated, or a directory of them, named like BTCUSDT-1m.csv) or "
                    "store:<venue> for the history store under DATA_DIR")]


def _cross_checks(s: dict, given: set[str]) -> list[Problem]:
    """Rules that involve more than one key; a value that was given counts even when invalid."""
    problems = _venue_pair_problems(given)
    problems += _tradable_problems(s, given)
    problems += _demo_problems(s)
    problems += _trading_problems(s, given)
    problems += _pair_problems(given, "TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID")
    problems += _api_problems(s, given)
    problems += _replay_problems(s, given)
    return problems


def _resolve_keys(s: dict) -> None:
    """Pick the pair that signs orders, once the rules above have passed."""
    trading = VENUES[s["trading_exchange"]]
    if s["enable_trading"] and s["demo_trading"] and \
            trading.real_money_url(_keys_of(s, trading).trading_url):
        s["demo_trading"] = False  # confirmed above: this is live trading, with the live pair
    # Each venue's demo keys fall back to its production pair, unless its trading URL is a
    # production host (demo keys never sign there, and production keys never go unasked).
    for name, keys in s["_venues"].items():
        if not keys.get("api_key_demo") and not VENUES[name].real_money_url(
                keys.get("trading_url", "")):
            for part in ("api_key", "secret", "passphrase"):
                if keys.get(part):
                    keys[f"{part}_demo"] = keys[part]
