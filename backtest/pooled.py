"""The metrics of several runs pooled (backtest.metrics.summarize_arrays), in one compiled pass.

A sweep pools every file's trades once per combination; numpy would take a mask, a copy and a
pass per figure. This loop walks the trades once in exit order and once in the order given,
adding in the same order as summarize_arrays (left to right from the first value), so every
figure has the same bits.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from domain.timeframe import DAY_MS

from .kernel import compiled
from .metrics import sharpe_sortino


def _exit_order(t: np.ndarray) -> np.ndarray:
    """A stable argsort of `t`: its ascending runs (one per file in a sweep) merged pairwise."""
    n = t.size
    cuts = np.empty(n + 1, np.int64)
    runs = 1
    cuts[0] = 0
    for k in range(1, n):
        if t[k] < t[k - 1]:
            cuts[runs] = k
            runs += 1
    cuts[runs] = n
    order, spare = np.arange(n), np.empty(n, np.int64)
    while runs > 1:
        merged = 0
        for r in range(0, runs, 2):
            a, b = cuts[r], cuts[r + 1]
            c = cuts[r + 2] if r + 2 <= runs else b
            i, j, k = a, b, a
            while i < b and j < c:  # the left run first on a tie: stable
                if t[order[j]] < t[order[i]]:
                    spare[k] = order[j]
                    j += 1
                else:
                    spare[k] = order[i]
                    i += 1
                k += 1
            spare[k:k + b - i] = order[i:b]
            k += b - i
            spare[k:k + c - j] = order[j:c]
            cuts[merged] = a
            merged += 1
        cuts[merged] = n
        runs = merged
        order, spare = spare, order
    return order


def _gcd(a: int, b: int) -> int:
    """Greatest common divisor (Euclid)."""
    while b:
        a, b = b, a % b
    return a


def _grid_order(t: np.ndarray) -> np.ndarray:
    """A stable argsort of `t` by counting, when its values lie on a grid of at most a few times
    as many steps as values (exits at candle ends); else by merging its ascending runs."""
    n = t.size
    if n == 0:
        return np.arange(0)
    lo, hi = t.min(), t.max()
    step = 0
    for k in range(min(n, 64)):  # the grid, guessed from the first values, checked below
        step = _gcd(t[k] - lo, step)
    if step == 0 or (hi - lo) // step + 1 > 4 * n + 4096:
        return _exit_order(t)
    steps = (hi - lo) // step + 1
    key = np.empty(n, np.int64)
    at = np.zeros(steps + 1, np.int64)
    for k in range(n):
        q = (t[k] - lo) // step
        if q * step != t[k] - lo:  # off the guessed grid
            return _exit_order(t)
        key[k] = q
        at[q + 1] += 1
    for k in range(1, steps + 1):
        at[k] += at[k - 1]
    order = np.empty(n, np.int64)
    for k in range(n):
        order[at[key[k]]] = k
        at[key[k]] += 1
    return order


def _pass(exit_time: np.ndarray, pnl: np.ndarray, fees: np.ndarray,
          days: np.ndarray) -> tuple[Any, ...]:
    """(wins, losses, net, gross profit, -gross loss, fees, max drawdown, daily sums)."""
    n = pnl.size
    order = _grid_order(exit_time)  # ties keep the given order
    wins = losses = 0
    net = gp = gl = dd = peak = 0.0
    for k in range(n):
        p = pnl[order[k]]
        net = p if k == 0 else net + p
        if p > 0:
            gp = p if wins == 0 else gp + p
            wins += 1
        elif p < 0:
            gl = p if losses == 0 else gl + p
            losses += 1
        top = net if net > 0.0 else 0.0
        if top > peak:
            peak = top
        if peak - net > dd:
            dd = peak - net
    paid = 0.0
    for k in range(n):
        paid = fees[k] if k == 0 else paid + fees[k]
    out = np.zeros(days.size)
    if days.size:
        first, last = days[0], days[days.size - 1]
        table = np.searchsorted(days, np.arange(first, last + 1), side="right") - 1
        for k in range(n):
            day = exit_time[k] // DAY_MS
            at = 0 if day < first else table[min(day, last) - first]
            out[at] += pnl[k]
    return wins, losses, net, gp, gl, paid, dd, out


_exit_order = compiled(_exit_order)
_gcd = compiled(_gcd)
_grid_order = compiled(_grid_order)
_pooled: Any = compiled(_pass)


def _gathered(exit_time: np.ndarray, pnl: np.ndarray, fees: np.ndarray, starts: np.ndarray,
              stops: np.ndarray, days: np.ndarray) -> tuple[Any, ...]:
    """_pass over the trades [starts[r], stops[r]) of the arrays, one range after another."""
    n = 0
    for r in range(starts.size):
        n += stops[r] - starts[r]
    t, p, f = np.empty(n, np.int64), np.empty(n), np.empty(n)
    at = 0
    for r in range(starts.size):
        a, b = starts[r], stops[r]
        t[at:at + b - a] = exit_time[a:b]
        p[at:at + b - a] = pnl[a:b]
        f[at:at + b - a] = fees[a:b]
        at += b - a
    return _pooled(t, p, f, days)


_gathered_pass: Any = compiled(_gathered)


def pooled(exit_time: np.ndarray, pnl: np.ndarray, fees: np.ndarray, held: int, start_ms: int,
           end_ms: int, days: np.ndarray) -> dict:
    """summarize_arrays(exit_time, pnl, fees, held, start_ms, end_ms, days), the same figures."""
    return _figures(int(pnl.size), _pooled(
        np.ascontiguousarray(exit_time, np.int64), np.ascontiguousarray(pnl, np.float64),
        np.ascontiguousarray(fees, np.float64), np.ascontiguousarray(days, np.int64)),
        held, start_ms, end_ms)


def pooled_ranges(exit_time: np.ndarray, pnl: np.ndarray, fees: np.ndarray, starts: np.ndarray,
                  stops: np.ndarray, held: int, start_ms: int, end_ms: int,
                  days: np.ndarray) -> dict:
    """pooled() of the trades [starts[r], stops[r]) of the arrays, joined in that order: one
    compiled call that holds no lock, so that threads can pool several sets at once."""
    ints = [np.require(a, np.int64, ("C", "W")) for a in (exit_time, starts, stops, days)]
    money = [np.require(a, np.float64, ("C", "W")) for a in (pnl, fees)]
    return _figures(int((ints[2] - ints[1]).sum()), _gathered_pass(ints[0], *money, *ints[1:]),
                    held, start_ms, end_ms)


def _figures(n: int, passed: tuple[Any, ...], held: int, start_ms: int, end_ms: int) -> dict:
    """The metrics dict from _pass's sums."""
    wins, losses, net, gp, gl, paid, dd, daily = passed
    sharpe, sortino = sharpe_sortino(daily)
    gross_loss = -gl
    span = end_ms - start_ms
    return {
        "trades": n, "wins": wins, "losses": losses,
        "win_rate": wins / n if n else 0.0,
        "net_pnl": net, "fees": paid,
        "gross_profit": gp, "gross_loss": gross_loss,
        "profit_factor": gp / gross_loss if gross_loss > 0 else None,
        "max_drawdown": dd,
        "expectancy": net / n if n else 0.0,
        "sharpe": sharpe, "sortino": sortino,
        "exposure": held / span if span > 0 else 0.0,
    }
