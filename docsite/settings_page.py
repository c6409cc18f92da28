"""The configuration reference, generated from config.settings (KEYS, defaults, parsers)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import MISSING, fields
from pathlib import Path

from config.settings import KEYS, VENUE_KEY_SUFFIXES, Settings, venue_env_keys
from config.values import parse_confirmation
from exchanges.registry import VENUES

REPO = Path(__file__).resolve().parents[1]
ENV_EXAMPLE = REPO / ".env.example"
# Keys whose default is worked out at start rather than stored on Settings.
DERIVED_DEFAULTS = {
    "TRADING_EXCHANGE": "the value of `DATA_EXCHANGE`",
    "STATE_DB": "`$STATE_DIRECTORY/choch.db` under systemd, else `state/choch.db`",
}
SECRET_SUFFIXES = {"API_KEY", "SECRET", "PASSPHRASE", "API_KEY_DEMO", "SECRET_DEMO",
                   "PASSPHRASE_DEMO"}


def _defaults() -> dict[str, object]:
    """Settings field -> its default value."""
    out: dict[str, object] = {}
    for f in fields(Settings):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return out


def _secret_fields() -> set[str]:
    return {f.name for f in fields(Settings) if f.metadata.get("secret")}


def shown_default(key: str, value: object) -> str:
    """A default as it would be written in .env."""
    if key in DERIVED_DEFAULTS:
        return DERIVED_DEFAULTS[key]
    if KEYS[key][1] is parse_confirmation:
        text = "yes" if value else "no"
    elif isinstance(value, bool):
        text = "1" if value else "0"
    elif isinstance(value, tuple):
        text = ",".join(str(v) for v in value)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    return f"`{text}`" if text else "empty"


def allowed(parser: Callable) -> str:
    """What a parser accepts, in its own words: the message it raises, else its docstring."""
    probe = "\x00not:a value\x00"
    try:
        parser(probe)
    except ValueError as e:
        text = str(e)
    else:  # accepts anything
        return "any text (spaces around it removed)"
    if "supported:" in text:  # a venue name: the registry's list
        return "one of " + text.split("supported:", 1)[1].strip()
    if repr(probe) in text:  # the message quotes the input: the parser's docstring says more
        text = re.sub(r"\s*\(->.*?\)\)?", "", (parser.__doc__ or "").strip())
    return text.replace("|", "\\|")


def env_comments(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """Key -> the comment block right above it in .env.example (its meaning, in prose)."""
    out: dict[str, str] = {}
    block: list[str] = []
    after_key = False
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        m = re.fullmatch(r"#?\s*([A-Z][A-Z0-9_]*)=\S*", line)
        if m:
            out.setdefault(m.group(1), " ".join(block))
            after_key = True  # consecutive keys share the block above the first of them
        elif line.startswith("# ---") or not line:
            block, after_key = [], False
        elif line.startswith("#"):
            if after_key:
                block, after_key = [], False
            block.append(line.lstrip("#").strip())
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_table() -> str:
    """One row per KEYS entry: key, default, what is allowed, meaning."""
    defaults, secrets, notes = _defaults(), _secret_fields(), env_comments()
    rows = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
    for key, (name, parser) in KEYS.items():
        secret = " **Secret**: never logged, shown as `***`." if name in secrets else ""
        rows.append(f"| `{key}` | {shown_default(key, defaults[name])} | {allowed(parser)} | "
                    f"{_cell(notes.get(key, ''))}{secret} |")
    return "\n".join(rows)


def venue_keys_table() -> str:
    """One row per venue: the keys it reads (the {NAME}_* pattern, as config builds it)."""
    rows = ["| venue | keys | passphrase | demo |", "|---|---|---|---|"]
    for venue in VENUES.values():
        keys = ", ".join(f"`{k}`" for k in venue_env_keys(venue))
        demo = "yes" if venue.has_demo else "no: `DEMO_TRADING=1` is refused"
        if not venue.trades:
            demo = "data only"
        rows.append(f"| {venue.label} (`{venue.name}`) | {keys} | "
                    f"{'yes' if venue.needs_passphrase else 'no'} | {demo} |")
    return "\n".join(rows)


def key_pattern() -> str:
    """The per-venue suffixes, with which of them are secret."""
    items = [f"`{{NAME}}_{suffix}`" + (" (secret)" if suffix in SECRET_SUFFIXES else "")
             for suffix, _ in VENUE_KEY_SUFFIXES]
    return ", ".join(items)


def every_key() -> list[str]:
    """Every env key the configuration reads: KEYS and each venue's keys."""
    return [*KEYS, *(k for v in VENUES.values() for k in venue_env_keys(v))]
