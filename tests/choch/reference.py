"""A literal, slow reading of docs/choch-spec.md, written apart from choch/ to cross-check it."""
from __future__ import annotations


def reference_events(ts, o, h, l, c, left, right, break_on="close", tf=None):
    """Events as plain dicts, computed bar by bar straight from the spec's wording."""
    n = len(ts)
    active = {"high": None, "low": None}  # [level, pivot bar, armed]
    trend = None
    events = []
    for t in range(n):
        step = tf if tf is not None else (min(ts[i] - ts[i - 1] for i in range(1, t + 1))
                                          if t else 0)
        found = []
        hi, lo = active["high"], active["low"]
        if hi and hi[2] and (h[t] if break_on == "wick" else c[t]) > hi[0]:
            found.append(("bullish", hi))
        if lo and lo[2] and (l[t] if break_on == "wick" else c[t]) < lo[0]:
            found.append(("bearish", lo))
        if len(found) == 2 and c[t] >= o[t]:
            found.reverse()  # an up bar: the bearish break is emitted first
        for direction, piv in found:
            piv[2] = False
            p = piv[1]
            extreme = (min(l[p + 1:t + 1]) if direction == "bullish" else max(h[p + 1:t + 1]))
            kind = "CHOCH" if trend is not None and trend != direction else "BOS"
            trend = direction
            events.append(dict(kind=kind, direction=direction, level=piv[0], pivot_time=ts[p],
                               break_time=ts[t], confirmed_at=ts[t] + step, extreme=extreme,
                               close=c[t]))
        p = t - right
        if p >= left:
            if all(h[p] > h[j] for j in range(p - left, p)) and all(
                    h[p] >= h[j] for j in range(p + 1, p + right + 1)):
                active["high"] = [h[p], p, True]
            if all(l[p] < l[j] for j in range(p - left, p)) and all(
                    l[p] <= l[j] for j in range(p + 1, p + right + 1)):
                active["low"] = [l[p], p, True]
    return events
