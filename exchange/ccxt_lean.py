"""ccxt with only the exchange this daemon talks to (binanceusdm): about 50 MB less resident memory.

ccxt's package `__init__` (sync and async) imports all of its ~100 exchange modules, about 95 MB
of RSS on a small server for classes the daemon never uses. Here ccxt's own `__init__` source
runs with those imports left out, except binance and binanceusdm; everything else in it (errors,
Exchange, precision helpers, the `exchanges` list) is kept as is. Should that ever fail, say a
ccxt upgrade changed the layout, the normal full import runs instead: more memory, same
behaviour. Project code imports ccxt from here (`from exchange.ccxt_lean import ccxt,
ccxt_async`) so that whichever module comes first, the lean import is the one made.
"""
from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import warnings
from types import ModuleType

KEPT = ("binance", "binanceusdm")
# One exchange per line in ccxt's __init__: 'from ccxt[.async_support].okx import okx  # noqa'.
_EXCHANGE_IMPORT = re.compile(r"^from (ccxt(?:\.async_support)?)\.(\w+) import (\w+)\b.*$", re.M)


def _keep(match: re.Match) -> str:
    """The line itself unless it imports an exchange class we do not use."""
    module, name = match.group(2), match.group(3)
    return match.group(0) if module != name or name in KEPT else ""


def _lean_package(name: str) -> ModuleType:
    """Import package `name` running its __init__ source without the unused exchange imports."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ImportError(f"{name} is not installed")
    with open(spec.origin, encoding="utf-8") as f:
        source = _EXCHANGE_IMPORT.sub(_keep, f.read())
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
            if not isinstance(getattr(lean, "binanceusdm", None), type):
                raise ImportError("ccxt.async_support.binanceusdm is not a class")
        except Exception as e:  # noqa: BLE001 - any surprise: fall back to the plain import
            _forget_ccxt()
            warnings.warn(f"lean ccxt import failed ({type(e).__name__}: {e}); importing all "
                          f"of ccxt", RuntimeWarning, stacklevel=2)
    return importlib.import_module("ccxt"), importlib.import_module("ccxt.async_support")


def is_lean() -> bool:
    """True when ccxt was imported without its other exchanges."""
    others = [name for name in ccxt.exchanges if name not in KEPT]
    return not any(f"ccxt.async_support.{name}" in sys.modules or f"ccxt.{name}" in sys.modules
                   for name in others)


ccxt, ccxt_async = load()
