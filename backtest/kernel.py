"""The trade rules' event loop, compiled: trading/rules.py over arrays, one pass over the bars.

The same decisions as the reference simulator (backtest/simulate.py, trading/rules.py), in the
same floating-point operations, so both give the same trades to the last bit. Entry, stop,
target and quantity are computed before (numpy, per signal) and fees and pnl after; this loop
only decides when and at what price each position closes.

Compiled by numba with its on-disk cache: the first run after an install compiles (a few
seconds, offline) and stores the machine code; every later process, a CLI run or a sweep worker,
loads it. The cache lives where numba puts it: NUMBA_CACHE_DIR when set, else __pycache__ next to
this file when writable, else the user's cache directory (~/.cache/numba). With none writable the
loop is compiled in memory once per process. Without numba the same code runs as plain Python.
"""
from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

STOP, TARGET, REVERSE, CLOSE, END = range(5)  # positions in trading.rules.EXIT_REASONS
OPPOSITE = ("reverse", "close", "ignore")  # codes 0, 1, 2 of on_opposite
COUNTS = ("signals", "skipped", "detail_target_first", "detail_stop_first", "detail_undecided")
_said: list[bool] = []  # the missing-numba note is printed once per process


def compiled(func: Callable) -> Callable:
    """numba.njit(cache=True), or in-memory without a writable cache, or plain Python."""
    try:
        import numba
    except ImportError:  # the pinned dependency is missing: slower, same results
        if not _said:
            _said.append(True)
            print("backtest: numba is not installed; the backtest loops run as plain Python",
                  file=sys.stderr)
        return func
    try:
        return numba.njit(cache=True, nogil=True)(func)
    except RuntimeError as e:  # no writable cache location: compile per process
        warnings.warn(f"backtest: numba cache unavailable ({e}); compiling in memory",
                      stacklevel=2)
        return numba.njit(nogil=True)(func)


def contiguous(arrays: tuple[np.ndarray, ...]) -> Any:
    """Read-only C-contiguous views of the input columns (a copy only of one that is not
    contiguous): one array type whatever the source (pandas hands out read-only views, other
    sources writable ones), so one compiled version of each loop."""
    out = []
    for a in arrays:
        view = np.ascontiguousarray(a).view()
        view.flags.writeable = False
        out.append(view)
    return tuple(out)


def _first_touch(lo_px: np.ndarray, hi_px: np.ndarray, down: float, up: float,
                 start: int, stop: int) -> int:
    """First bar in [start, stop) whose low reaches `down` or high reaches `up`, else -1."""
    for j in range(start, stop):
        if lo_px[j] <= down or hi_px[j] >= up:
            return j
    return -1


def _detail_target_first(dts: np.ndarray, dh: np.ndarray, dl: np.ndarray, is_long: bool,
                         stop: float, target: float, open_ms: int, close_ms: int,
                         counts: np.ndarray) -> bool:
    """True when the first detail candle in [open_ms, close_ms) touching either level touches
    only the target (counted in counts[2..4])."""
    lo = np.searchsorted(dts, open_ms)
    hi = np.searchsorted(dts, close_ms)
    for k in range(lo, hi):
        if is_long:
            hit_stop, hit_target = dl[k] <= stop, dh[k] >= target
        else:
            hit_stop, hit_target = dh[k] >= stop, dl[k] <= target
        if hit_stop or hit_target:
            if hit_target and not hit_stop:
                counts[2] += 1
                return True
            counts[3] += 1
            return False
    counts[4] += 1
    return False


def _loop(ts: np.ndarray, o: np.ndarray, h: np.ndarray, lo_px: np.ndarray, c: np.ndarray,
          tf: int, bar: np.ndarray, is_long: np.ndarray, entry: np.ndarray, stop: np.ndarray,
          target: np.ndarray, valid: np.ndarray, opposite: int, slippage_bps: float,
          dts: np.ndarray, dh: np.ndarray, dl: np.ndarray, use_detail: bool) -> tuple:
    """(opener, exit_time, exit_price, reason, counts) of the trades the signals make.

    The signals are the tradable events in detector order: their break bar, side, slipped
    entry, stop, target and whether they may open (valid). opener[i] is the signal that
    opened trade i; trades are in opening order.
    """
    m, n = bar.size, ts.size
    opener = np.empty(m, np.int64)
    exit_time = np.empty(m, np.int64)
    exit_price = np.empty(m, np.float64)
    reason = np.empty(m, np.int8)
    counts = np.zeros(5, np.int64)
    down_slip, up_slip = 1 - slippage_bps / 1e4, 1 + slippage_bps / 1e4
    k, pos, scanned = 0, -1, 0
    for e in range(m + 1):
        last = e == m  # after the last signal: the open position's exit up to the data's end
        b = n - 1 if last else bar[e]
        if pos >= 0:
            long_ = is_long[pos]
            s, t = stop[pos], target[pos]
            j = _first_touch(lo_px, h, s if long_ else t, t if long_ else s, scanned, b + 1)
            if j >= 0:
                close_ms = ts[j] + tf
                both = (lo_px[j] <= s and h[j] >= t) if long_ else (h[j] >= s and lo_px[j] <= t)
                hit_stop = lo_px[j] <= s if long_ else h[j] >= s
                if both and use_detail and _detail_target_first(
                        dts, dh, dl, long_, s, t, ts[j], close_ms, counts):
                    hit_stop = False
                opener[k], exit_time[k] = pos, close_ms
                if hit_stop:
                    exit_price[k] = min(s, o[j]) * down_slip if long_ else max(s, o[j]) * up_slip
                    reason[k] = STOP
                else:
                    exit_price[k], reason[k] = t, TARGET
                k, pos = k + 1, -1
            elif last:
                opener[k], exit_time[k], exit_price[k], reason[k] = pos, ts[b] + tf, c[b], END
                k, pos = k + 1, -1
            else:
                scanned = b + 1
        if last:
            break
        counts[0] += 1
        if not valid[e]:
            counts[1] += 1
            continue  # a skipped signal neither reverses nor closes
        if pos >= 0:
            if is_long[pos] == is_long[e] or opposite == 2:
                continue  # same side, or on_opposite=ignore
            opener[k], exit_time[k], exit_price[k] = pos, ts[b] + tf, entry[e]
            reason[k] = REVERSE if opposite == 0 else CLOSE
            k, pos = k + 1, -1
            if opposite == 1:
                continue
        pos, scanned = e, b + 1
    return opener[:k], exit_time[:k], exit_price[:k], reason[:k], counts


_first_touch = compiled(_first_touch)
_detail_target_first = compiled(_detail_target_first)
trade_loop: Any = compiled(_loop)
