"""ccxt with only the venues this daemon talks to: about 50 MB less resident memory.

ccxt's package `__init__` (sync and async) imports all of its ~100 exchange modules, about 95 MB
of RSS on a small server for classes the daemon never uses. Here ccxt's own `__init__` source
runs with those imports left out, except the configured venues' (DATA_EXCHANGE and
TRADING_EXCHANGE as the process environment gives them, binance when unset); everything else
in it (errors, Exchange, precision helpers, the `exchanges` list) is kept as is. A venue named
only in a .env file is imported when first asked for (`exchange_class`), so the set loaded is
still exactly the configured one. Should the lean import ever fail, say a ccxt upgrade changed
the layout, the normal full import runs instead: more memory, same behaviour. Project code
imports ccxt from here (`from exchanges.ccxt_lean import ccxt, ccxt_async`) so that whichever
module comes first, the lean import is the one made.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import warnings
from pathlib import Path
from types import ModuleType


def configured_ids(env: os._Environ[str] | dict[str, str] = os.environ) -> tuple[str, ...]:
    """ccxt ids of the venues DATA_EXCHANGE and TRADING_EXCHANGE name (unknown names skipped:
    configuration reports them)."""
    from .registry import DEFAULT, VENUES  # pure data, no ccxt

    data = (env.get("DATA_EXCHANGE") or "").strip().lower() or DEFAULT
    trading = (env.get("TRADING_EXCHANGE") or "").strip().lower() or data
    # A venue served without ccxt (CoinDCX's own client, the replay: ccxt_id '') needs no
    # ccxt exchange class.
    return tuple(sorted({VENUES[n].ccxt_id for n in (data, trading)
                         if n in VENUES and VENUES[n].ccxt_id}))


KEPT: tuple[str, ...] = configured_ids()
_asked: set[str] = set()  # venues imported on demand by exchange_class
# One exchange per line in ccxt's __init__: 'from ccxt[.async_support].okx import okx' + a marker.
_EXCHANGE_IMPORT = re.compile(r"^from (ccxt(?:\.async_support)?)\.(\w+) import (\w+)\b.*$", re.M)


def _keep(match: re.Match[str]) -> str:
    """The line itself unless it imports an exchange class we do not use."""
    module, name = match.group(2), match.group(3)
    return match.group(0) if module != name or name in KEPT else ""


def _lean_package(name: str) -> ModuleType:
    """Import package `name` running its __init__ source without the unused exchange imports."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ImportError(f"{name} is not installed")
    source = _EXCHANGE_IMPORT.sub(_keep, Path(spec.origin).read_text(encoding="utf-8"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    exec(compile(source, spec.origin, "exec"), module.__dict__)  # noqa: S102 - ccxt's own code
    return module


def _forget_ccxt() -> None:
    """Drop a half-made lean import so that the full one starts clean."""
    for name in [n for n in sys.modules if n == "ccxt" or n.startswith("ccxt.")]:
        del sys.modules[name]


def load() -> tuple[ModuleType, ModuleType]:
    """(ccxt, ccxt.async_support): lean if ccxt is not imported yet, else what is there."""
    if "ccxt.async_support" not in sys.modules:
        try:
            if "ccxt" not in sys.modules:
                _lean_package("ccxt")
            lean = _lean_package("ccxt.async_support")
            if not all(isinstance(getattr(lean, n, None), type) for n in KEPT):
                raise ImportError(f"ccxt.async_support lacks one of {', '.join(KEPT)}")
        except Exception as e:  # noqa: BLE001 - any surprise: fall back to the plain import
            _forget_ccxt()
            warnings.warn(f"lean ccxt import failed ({type(e).__name__}: {e}); importing all "
                          f"of ccxt", RuntimeWarning, stacklevel=2)
    return importlib.import_module("ccxt"), importlib.import_module("ccxt.async_support")


def exchange_class(ccxt_id: str) -> type:
    """ccxt's async class `ccxt_id`, importing its module now when the lean import left it out."""
    found = getattr(ccxt_async, ccxt_id, None)
    if isinstance(found, type):
        return found
    if ccxt_id not in ccxt.exchanges:
        raise ValueError(f"ccxt has no exchange {ccxt_id!r}")
    cls = getattr(importlib.import_module(f"ccxt.async_support.{ccxt_id}"), ccxt_id)
    setattr(ccxt_async, ccxt_id, cls)
    _asked.add(ccxt_id)
    return cls


def loaded() -> list[str]:
    """ccxt exchange modules imported so far (sync or async), sorted."""
    return sorted(name for name in ccxt.exchanges
                  if f"ccxt.async_support.{name}" in sys.modules or f"ccxt.{name}" in sys.modules)


def _wanted() -> set[str]:
    """Modules the kept and asked-for classes need: theirs and their ccxt base classes'."""
    names: set[str] = set()
    for ccxt_id in set(KEPT) | _asked:
        cls = getattr(ccxt_async, ccxt_id, None)
        for base in getattr(cls, "__mro__", ()):
            names.add(base.__module__.rpartition(".")[2])
    return names


def is_lean() -> bool:
    """True when no ccxt exchange module is loaded beyond the configured (or asked) venues'."""
    return set(loaded()) <= _wanted()


ccxt, ccxt_async = load()
