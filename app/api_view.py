"""The daemon side of api/: what the HTTP API reads and does, metrics hooks, server start/stop.

api/ never imports app/; this module implements its DaemonView and DaemonControls over a
running Daemon, and connects the daemon's metrics to the pipeline, the alert delivery, the
position manager and both ccxt instances.
"""
from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import structlog

from api import ApiConfig, ApiServer, Metrics, create_app
from api.connections import raise_fd_limit
from api.renders import Render
from config import KEYS, listen_address, venue_keys_table
from domain.candles import Candles
from domain.symbols import normalize_symbol
from exchanges.ccxt_lean import ccxt
from fetchers.timeframes import parse_timeframe

from . import banner
from .api_trader import TraderView
from .controller import DaemonController

log = structlog.get_logger(__name__)
CHART_CACHE = 16        # rendered PNGs kept (a dashboard re-opens the same few)
PENDING_SHOWN = 50


# -- metrics hooks ---------------------------------------------------------------------------------

class RequestStats:
    """One instance's requests: counts by outcome and the last success (for health)."""

    def __init__(self) -> None:
        self.outcomes: dict[str, int] = {}
        self.last_ok_ms: int | None = None
        self.last_error: str | None = None


def outcome_of(error: BaseException | None) -> str:
    """The outcome label of one ccxt request: ok, rate_limited, timeout, network or rejected."""
    if error is None:
        return "ok"
    if isinstance(error, (ccxt.DDoSProtection, ccxt.RateLimitExceeded)):
        return "rate_limited"
    if isinstance(error, ccxt.RequestTimeout):
        return "timeout"
    if isinstance(error, (ccxt.NetworkError, ccxt.OperationFailed, OSError)):
        return "network"
    return "rejected"


def request_observer(venue: str, instance: str, metrics: Metrics, stats: RequestStats,
                     clock: Callable[[], float] = time.time
                     ) -> Callable[[BaseException | None], None]:
    """What an exchange instance calls after each HTTP request: counts and metrics."""

    def observed(error: BaseException | None) -> None:
        outcome = outcome_of(error)
        stats.outcomes[outcome] = stats.outcomes.get(outcome, 0) + 1
        if error is None:
            stats.last_ok_ms = int(clock() * 1000)
        else:
            stats.last_error = f"{type(error).__name__}"
        metrics.exchange_request(instance, venue, outcome)

    return observed


def _venue(part: Any, fallback: str) -> str:
    """ccxt's id of the instance's exchange, else our venue name (a venue served without ccxt)."""
    return str(getattr(getattr(part, "exchange", None), "id", None)
               or getattr(getattr(part, "venue", None), "name", None) or fallback)


def instrument(daemon: Any) -> None:
    """Connect the metrics once both instances, the delivery and the manager exist."""
    m: Metrics = daemon.metrics
    daemon.request_stats = {"data": RequestStats(), "trading": RequestStats()}
    daemon.venues = {"data": _venue(daemon.fetcher, "unknown"),
                     "trading": _venue(daemon.broker, getattr(daemon.broker, "mode", "paper"))}
    for instance, part in (("data", daemon.fetcher), ("trading", daemon.broker)):
        hook = getattr(part, "observe_requests", None)  # the paper broker sends no request
        if hook is not None:
            hook(request_observer(daemon.venues[instance], instance, m,
                                  daemon.request_stats[instance], daemon.clock))
    data, trading = daemon.venues["data"], daemon.venues["trading"]

    def alert_sent(row: Any, now_ms: int) -> None:
        if row.topic == "signal":
            m.alert_sent(data, str(row.payload.get("timeframe", "")),
                         (now_ms - row.created_at) / 1000)

    def entry_sent(signal: Any, now_ms: int) -> None:
        m.order_sent(trading, signal.timeframe, (now_ms - signal.detected_at) / 1000)

    daemon.delivery.on_sent = alert_sent
    daemon.manager.on_entry_sent = entry_sent
    m.watch(lambda: gauges(daemon))


def signals_recorded(daemon: Any, rows: list) -> None:
    """Candle close -> signal recorded, for each signal just committed."""
    venue = getattr(daemon, "venues", {}).get("data", "unknown")
    live = getattr(daemon, "live", None)
    for row in rows:
        feed = live.source(row.symbol, row.timeframe) if live is not None else "rest"
        daemon.metrics.signal_recorded(venue, row.timeframe,
                                       (row.detected_at - row.event.confirmed_at) / 1000, feed)


def candle_ages(daemon: Any, now_ms: int) -> dict[str, dict]:
    """Per timeframe: the newest closed candle fed (close time), its age and the streams."""
    out: dict[str, dict] = {}
    for (_symbol, timeframe), open_ms in daemon.store.last_candles().items():
        try:
            close = int(open_ms) + parse_timeframe(timeframe)
        except ValueError:
            continue
        entry = out.setdefault(timeframe, {"last_close": close, "streams": 0})
        entry["last_close"] = max(entry["last_close"], close)
        entry["streams"] += 1
    for entry in out.values():
        entry["age_s"] = round(max(0, now_ms - entry["last_close"]) / 1000, 3)
    return out


def gauges(daemon: Any) -> dict:
    """What the state gauges show at a scrape."""
    now_ms = int(daemon.clock() * 1000)
    mode = getattr(getattr(daemon, "manager", None), "mode", None)
    live = getattr(daemon, "live", None)
    feed = live.counters() if live is not None else None
    if feed:  # the exchange as the other metrics name it
        feed["exchange"] = getattr(daemon, "venues", {}).get("data", feed["exchange"])
    return {"open_positions": len(daemon.store.open_positions(mode)),
            "outbox_pending": daemon.store.outbox_counts().get("pending", 0),
            "candle_age_s": {tf: x["age_s"] for tf, x in candle_ages(daemon, now_ms).items()},
            "feed": feed}


# -- the view --------------------------------------------------------------------------------------

class DaemonApiView(TraderView):
    """api.DaemonView over a Daemon: store reads and in-memory state, never an exchange call."""

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon
        self._charts: OrderedDict[int, bytes] = OrderedDict()

    def _now_ms(self) -> int:
        return int(self.daemon.clock() * 1000)

    def alive(self) -> bool:
        """The scheduler runs and the delivery task has not ended."""
        d = self.daemon
        delivery = next((t for t in d.tasks if t.get_name() == "delivery"), None)
        return (d.scheduler is not None and d.scheduler.running and delivery is not None
                and not delivery.done())

    def _instance(self, name: str, host: str) -> dict:
        stats = getattr(self.daemon, "request_stats", {}).get(name)
        outcomes = dict(stats.outcomes) if stats else {}
        return {"exchange": getattr(self.daemon, "venues", {}).get(name, "unknown"),
                "host": host, "last_success_at": stats.last_ok_ms if stats else None,
                "requests": sum(outcomes.values()),
                "errors": {k: v for k, v in outcomes.items() if k != "ok"},
                "last_error": stats.last_error if stats else None}

    def health(self) -> dict:
        """Both instances with their health; data freshness; trading mode, clock, position mode."""
        d, s = self.daemon, self.daemon.settings
        now = self._now_ms()
        failing = sum(x.lagging for x in d.last_slot.values())
        data = self._instance("data", banner.data_host(s))
        live = getattr(d, "live", None)
        data.update(feed=live.health() if live is not None else {"feed": "rest"})
        data.update(ok=bool(d.last_slot) and not failing, streams_behind=failing,
                    candles=candle_ages(d, now),
                    clock_offset_ms=getattr(getattr(d, "fetcher", None), "_offset_ms", None))
        mode = banner.trading_mode(s)
        manager = getattr(d, "manager", None)
        paper = mode == banner.PAPER
        trading = self._instance("trading", "local paper broker" if paper
                                 else banner.trading_host(s))
        options = getattr(getattr(getattr(d, "broker", None), "exchange", None), "options", {})
        unavailable = getattr(getattr(d, "trading", None), "unavailable", None)
        trading.update(ok=manager is not None and d.trading_error is None and not unavailable,
                       mode=mode, reconcile_error=d.trading_error, unavailable=unavailable,
                       clock_offset_ms=None if paper else options.get("timeDifference"),
                       position_mode="one-way" + (" (simulated)" if paper else ""),
                       paused=bool(manager.paused) if manager is not None else False,
                       open_positions=len(d.store.open_positions(getattr(manager, "mode", None))))
        return {"ok": data["ok"] and trading["ok"], "alive": self.alive(), "now": now,
                "uptime_s": int(d.host_clock() - d.started_at), "symbols": list(d.symbols),
                "timeframes": list(s.timeframes), "instances": {"data": data, "trading": trading}}

    def signals(self, limit: int, symbol: str | None, timeframe: str | None) -> list[dict]:
        """Recorded signals, newest first, with whether each was alerted and traded."""
        sql = ("SELECT s.*, o.status AS alert_status FROM signals s LEFT JOIN outbox o "
               "ON o.signal_id = s.id AND o.topic = 'signal' WHERE 1=1")
        args: list[Any] = []
        if symbol:
            try:
                args.append(normalize_symbol(symbol))
            except ValueError:
                return []
            sql += " AND s.symbol = ?"
        if timeframe:
            sql, args = sql + " AND s.timeframe = ?", args + [timeframe]
        sql += " ORDER BY s.confirmed_at DESC, s.id DESC LIMIT ?"
        return [_signal(r) for r in self.daemon.store.conn.execute(sql, args + [limit])]

    async def chart_png(self, signal_id: int, render: Render) -> bytes | None:
        """The alert's chart (rendered by `render`, never in the default executor the alerts
        use): from the alert's own payload, else from the candles in memory."""
        if signal_id in self._charts:
            self._charts.move_to_end(signal_id)
            return self._charts[signal_id]
        payload = self._chart_payload(signal_id)
        if payload is None:
            return None
        from alerts.chart import render_chart

        png = await render(render_chart, payload)
        self._charts[signal_id] = png
        while len(self._charts) > CHART_CACHE:
            self._charts.popitem(last=False)
        return png

    def _chart_payload(self, signal_id: int) -> dict | None:
        d = self.daemon
        row = d.store.conn.execute("SELECT payload FROM outbox WHERE signal_id = ? AND "
                                   "topic = 'signal' ORDER BY id LIMIT 1", (signal_id,)).fetchone()
        if row is not None:
            payload = json.loads(row["payload"])
            if payload.get("candles"):
                return payload
        signal = d.store.signal(signal_id)
        stream = getattr(getattr(d, "poller", None), "streams", {}).get(
            (signal.symbol, signal.timeframe)) if signal else None
        if signal is None or stream is None or not len(stream.recent):
            return None
        recent = Candles.of(stream.recent)
        if not (recent.ts == signal.event.break_time).any():
            return None  # the break candle is no longer in memory
        from alerts import signal_payload

        s = d.settings
        return signal_payload(signal.symbol, signal.timeframe, signal.event,
                              banner.trading_mode(s), signal.params, recent.frame(),
                              s.pivot_left, s.pivot_right, shown=s.data_venue.shown(signal.symbol),
                              chart=s.data_venue.chart_symbol(signal.symbol))

    async def positions(self) -> list[dict]:
        """Open positions with the last close as mark and the unrealised PnL from it."""
        if getattr(self.daemon, "manager", None) is None:
            return []
        out = []
        for p in await DaemonController(self.daemon).positions():
            mark = p.get("mark")
            sign = 1 if p["direction"] == "long" else -1
            upnl = (mark - p["entry_price"]) * p["quantity"] * sign if mark else None
            out.append({**p, "unrealised_pnl": upnl, **self._signal_of(p.get("signal_id"))})
        return out

    def _signal_of(self, signal_id: int | None) -> dict:
        signal = self.daemon.store.signal(signal_id) if signal_id else None
        if signal is None:
            return {"timeframe": None, "kind": None}
        return {"timeframe": signal.timeframe, "kind": signal.event.kind}

    def trades(self, limit: int, offset: int = 0) -> dict:
        """A page of closed positions, newest first: realised PnL (net of fees when known) and
        fees; with how many there are in all."""
        out = []
        for p in self.daemon.store.closed_positions(limit, offset):
            notice = self.daemon.store.conn.execute(
                "SELECT payload FROM outbox WHERE dedupe_key = ?", (f"close:{p.id}",)).fetchone()
            fees = (json.loads(notice["payload"]).get("fields") or {}).get("fees") \
                if notice else None
            out.append({**_plain(p), "realised_pnl": p.pnl, "fees": fees,
                        **self._signal_of(p.signal_id)})
        return {"trades": out, "total": self.daemon.store.closed_count()}

    def outbox(self) -> dict:
        """Counts per status, and the pending rows without their payloads."""
        store = self.daemon.store
        pending = [{"id": r.id, "topic": r.topic, "symbol": r.payload.get("symbol"),
                    "what": r.payload.get("event", {}).get("kind") if r.topic == "signal"
                    else r.payload.get("event"), "created_at": r.created_at,
                    "attempts": r.attempts, "next_attempt_at": r.next_attempt_at,
                    "error": r.error} for r in store.pending(PENDING_SHOWN)]
        counts = store.outbox_counts()
        return {"counts": {k: counts.get(k, 0) for k in ("pending", "sent", "failed")} | counts,
                "pending": pending}

    def config(self) -> dict:
        """Every setting by its environment key, each venue's keys included; secrets as ***
        (or '' when unset)."""
        s = self.daemon.settings
        shown = s.redacted()
        out = {key: shown[name] for key, (name, _) in KEYS.items()}
        for key, (venue, name) in venue_keys_table().items():
            out[key] = s.venue_keys(venue).redacted()[name]
        return out


def _plain(row: Any) -> dict:
    return {k: getattr(row, k) for k in row.__dataclass_fields__}


def _signal(r: Any) -> dict:
    """One signals row (joined with its alert's status) as the API shows it."""
    return {"id": r["id"], "symbol": r["symbol"], "timeframe": r["timeframe"],
            "kind": r["kind"], "direction": r["direction"], "level": r["level"],
            "extreme": r["extreme"], "close": r["close"], "pivot_time": r["pivot_time"],
            "break_time": r["break_time"], "confirmed_at": r["confirmed_at"],
            "detected_at": r["detected_at"], "late": bool(r["catch_up"]),
            "alerted": r["alert_status"] == "sent", "alert_status": r["alert_status"],
            "traded": r["trade_state"] == "done", "trade_state": r["trade_state"],
            "trade_note": r["trade_note"]}


# -- control ---------------------------------------------------------------------------------------

class DaemonApiControls:
    """api.DaemonControls through DaemonController: the Telegram commands' code paths."""

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon
        self.controller = DaemonController(daemon)

    def pause(self) -> None:
        """As /pause."""
        self.controller.pause()

    def resume(self) -> None:
        """As /resume."""
        self.controller.resume()

    async def close(self, symbol: str) -> str:
        """As /close SYMBOL."""
        return await self.controller.close(symbol)

    async def close_all(self) -> str:
        """As /closeall confirm."""
        return await self.controller.close_all()

    def announce(self, action: str, who: str, result: str) -> None:
        """Log the action and alert it through the outbox."""
        log.warning("api_control", action=action, by=who, result=result)
        d = self.daemon
        d.store.enqueue("notice", {"event": "api_control", "symbol": None,
                                   "text": f"{action} via the web API by {who}: {result}",
                                   "fields": {}}, int(d.clock() * 1000))
        delivery = getattr(d, "delivery", None)
        if delivery is not None:
            delivery.wake()


# -- the server's life -----------------------------------------------------------------------------

async def start_api(daemon: Any) -> str | None:
    """Serve the API when API_LISTEN is set; why not (logged) when its address cannot be used."""
    s = daemon.settings
    daemon.api = None
    if not s.api_listen:
        return None
    host, port = listen_address(s.api_listen)
    raise_fd_limit()  # before ApiConfig derives its connection cap from the limit
    config = ApiConfig(host, port, s.api_username, s.api_password, control=s.api_control,
                       trusted_proxies=s.api_trusted_proxy, public_names=s.api_public_name)
    app = create_app(config, DaemonApiView(daemon), daemon.metrics,
                     DaemonApiControls(daemon) if s.api_control else None)
    server = ApiServer(app, host, port)
    try:
        await server.start()
    except OSError as e:
        log.error("api_listen_failed", listen=s.api_listen, error=str(e))
        return str(e)
    daemon.api = server
    return None


async def stop_api(daemon: Any) -> None:
    """Stop serving (before the store closes)."""
    server = getattr(daemon, "api", None)
    if server is not None:
        daemon.api = None
        await server.stop()
