// The dashboard: polls the read-only API every few seconds and draws it. No build step; the one
// dependency is the vendored candle chart (trader.js). Every value goes through textContent,
// never innerHTML.
"use strict";

const REFRESH_MS = 5000;
const HEADERS = { "X-Requested-With": "choch-dashboard" };
let csrf = null;
let selected = null;

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function utc(ms) {
  if (ms === null || ms === undefined) return "–";
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

// A time cell whose year a phone leaves out (style.css hides .yr), to keep money columns in view.
function when(ms) {
  const text = utc(ms);
  const node = el("span");
  if (text.length === 16) node.append(el("span", text.slice(0, 5), "yr"), text.slice(5));
  else node.textContent = text;
  return node;
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

function num(x, digits) {
  if (x === null || x === undefined) return "–";
  const n = Number(x);
  if (digits !== undefined) return n.toFixed(digits);
  return Math.abs(n) >= 1000 ? n.toFixed(2) : String(Number(n.toPrecision(6)));
}

async function getJSON(path) {
  const response = await fetch(path, { headers: HEADERS, credentials: "same-origin", cache: "no-store" });
  if (response.status === 401) {
    window.location.assign("/login");
    throw new Error("signed out");
  }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function fill(tbody, rows, columns, empty, onRow) {
  tbody.replaceChildren();
  if (!rows.length) {
    const tr = el("tr", null, "empty");
    const td = el("td", empty);
    td.colSpan = columns;
    tr.append(td);
    tbody.append(tr);
    return;
  }
  for (const row of rows) tbody.append(onRow(row));
}

function cells(tr, values) {
  for (const [value, cls] of values) {
    const td = el("td", value instanceof Node ? null : value, cls);
    if (value instanceof Node) td.append(value);
    tr.append(td);
  }
  return tr;
}

function facts(panel, pairs) {
  const dl = panel.querySelector("dl.facts");
  dl.replaceChildren();
  for (const [name, value, cls] of pairs) {
    dl.append(el("dt", name));
    const dd = el("dd");
    if (value instanceof Node) dd.append(value); else dd.textContent = value;
    if (cls) dd.className = cls;
    dl.append(dd);
  }
}

function badge(ok, yes = "ok", no = "degraded") {
  return el("span", ok ? yes : no, `badge ${ok ? "ok" : "bad"}`);
}

function errorsText(errors) {
  const parts = Object.entries(errors || {}).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(", ") : "none";
}

function drawHealth(h) {
  const overall = $("overall");
  overall.textContent = h.alive ? (h.ok ? "healthy" : "degraded") : "starting / stopped";
  overall.className = `badge ${h.alive && h.ok ? "ok" : h.alive ? "warn" : "bad"}`;
  const data = h.instances.data;
  const trading = h.instances.trading;
  $("mode").textContent = `mode: ${trading.mode}`;
  $("mode").className = `badge ${trading.mode === "live" ? "bad" : ""}`;
  drawState(trading.paused);
  facts($("panel-data"), [
    ["Venue", data.exchange], ["Host", data.host], ["Health", badge(data.ok)],
    ["Last success", utc(data.last_success_at)], ["Requests", data.requests],
    ["Errors", errorsText(data.errors)], ["Streams behind", data.streams_behind],
    ["Watching", `${h.symbols.length} symbol${h.symbols.length === 1 ? "" : "s"} × ${h.timeframes.join(", ")}`],
  ]);
  const rows = Object.entries(data.candles).sort();
  fill($("candles"), rows, 4, "no candle yet", ([tf, c]) =>
    cells(el("tr"), [[tf], [utc(c.last_close)], [age(c.age_s)], [c.streams, "num"]]));
  facts($("panel-trading"), [
    ["Venue", trading.exchange], ["Host", trading.host], ["Health", badge(trading.ok)],
    ["Trading", trading.unavailable ? `unavailable: ${trading.unavailable}` : "up",
     trading.unavailable ? "neg" : ""],
    ["Mode", trading.mode, trading.mode === "live" ? "neg" : ""],
    ["Position mode", trading.position_mode],
    ["Clock offset", trading.clock_offset_ms === null ? "–" : `${trading.clock_offset_ms} ms`],
    ["Open positions", trading.open_positions], ["Entries", trading.paused ? "paused" : "active"],
    ["Last success", utc(trading.last_success_at)], ["Errors", errorsText(trading.errors)],
    ["Reconciliation", trading.reconcile_error || "ok"],
  ]);
  $("updated").textContent = `updated ${utc(h.now)} UTC · up ${age(h.uptime_s)}`;
}

function openChart(signal, tr) {
  selected = signal.id;
  for (const row of document.querySelectorAll("#signals tbody tr")) row.classList.remove("selected");
  tr.classList.add("selected");
  $("chart-title").textContent =
    `#${signal.id} ${signal.symbol} ${signal.timeframe} ${signal.kind} ${signal.direction}`;
  const img = $("chart-img");
  img.src = `/api/v1/signals/${encodeURIComponent(signal.id)}/chart.png`;
  img.alt = `chart of ${signal.symbol} ${signal.timeframe} ${signal.kind}`;
  $("chart").hidden = false;
}

function drawSignals(list) {
  fill(document.querySelector("#signals tbody"), list, 10, "no signal recorded yet", (s) => {
    const tr = cells(el("tr"), [
      [when(s.confirmed_at)], [s.symbol], [s.timeframe], [s.kind],
      [s.direction, `opt ${s.direction === "bullish" ? "up" : "down"}`], [num(s.level), "num opt"],
      [num(s.extreme), "num opt"], [s.alerted ? "yes" : (s.alert_status || "no"), "opt"],
      [s.traded ? "yes" : s.trade_state.replace("_", " "), s.trade_state === "skipped" ? "warn" : ""],
      [s.traded ? "" : (s.trade_note || ""), "why opt"],
    ]);
    tr.dataset.id = s.id;
    if (s.id === selected) tr.classList.add("selected");
    tr.addEventListener("click", () => openChart(s, tr));
    if (s.traded || !s.trade_note) return tr;
    // A phone shows why under the row (the Why column would be off screen).
    const note = el("tr", null, "note-row");
    note.dataset.for = s.id;
    const td = el("td");
    td.colSpan = 10;
    td.append(el("div", s.trade_note, "note"));
    note.append(td);
    const both = document.createDocumentFragment();
    both.append(tr, note);
    return both;
  });
}

function pnlClass(x) { return x === null || x === undefined ? "num" : `num ${x >= 0 ? "pos" : "neg"}`; }

function drawPositions(list, control) {
  fill(document.querySelector("#positions tbody"), list, 10, "no open position", (p) => {
    const tr = cells(el("tr"), [
      [p.symbol], [p.direction, p.direction === "long" ? "up" : "down"], [num(p.quantity), "num opt"],
      [num(p.entry_price), "num"], [num(p.stop), "num"], [num(p.target), "num"],
      [num(p.mark), "num opt"], [num(p.unrealised_pnl, 2), pnlClass(p.unrealised_pnl)], [p.mode, "opt"],
    ]);
    const td = el("td");
    if (control) {
      const button = el("button", "Close", "danger");
      button.type = "button";
      button.addEventListener("click", () => act("close", { symbol: p.symbol }, `Close ${p.symbol} at market?`));
      td.append(button);
    }
    tr.append(td);
    return tr;
  });
}

function drawTrades(list) {
  fill(document.querySelector("#trades tbody"), list, 8, "no closed trade yet", (t) => cells(el("tr"), [
    [when(t.closed_at)], [t.symbol], [t.direction, `opt ${t.direction === "long" ? "up" : "down"}`],
    [num(t.entry_price), "num opt"], [num(t.exit_price), "num opt"],
    [num(t.realised_pnl, 2), pnlClass(t.realised_pnl)],
    [t.fees === null ? (t.mode === "paper" ? "none" : "–") : num(t.fees, 4), "num"],
    [t.exit_reason || ""],
  ]));
}

function drawOutbox(o) {
  const c = o.counts;
  $("outbox-counts").textContent = `pending ${c.pending} · sent ${c.sent} · failed ${c.failed}`;
  fill(document.querySelector("#outbox tbody"), o.pending, 6, "nothing pending", (r) => cells(el("tr"), [
    [utc(r.created_at)], [r.topic], [r.symbol || ""], [r.what || ""], [r.attempts, "num"], [r.error || ""],
  ]));
}

function showError(text) {
  $("error").hidden = !text;
  $("error").textContent = text || "";
}

async function refresh() {
  try {
    const [health, signals, positions, trades, outbox, summary, logs] = await Promise.all([
      getJSON("/api/v1/health"), getJSON("/api/v1/signals?limit=50"),
      getJSON("/api/v1/positions"), getJSON(tradesPath()), getJSON("/api/v1/outbox"),
      getJSON("/api/v1/summary"), getJSON("/api/v1/logs?limit=50"),
    ]);
    drawHealth(health);
    drawSignals(signals.signals);
    drawPositions(positions.positions, !$("controls").hidden);
    drawTrades(trades.trades);
    drawPager(trades);
    drawOutbox(outbox);
    drawSummary(summary, positions.positions);
    drawLogs(logs.lines);
    await drawChart(positions.positions, signals.signals, health);
    showError("");
  } catch (e) {
    showError(`Cannot refresh: ${e.message}`);
  }
}

async function act(action, body, question) {
  if (question && !window.confirm(question)) return;
  const headers = { ...HEADERS, "Content-Type": "application/json" };
  if (csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(`/api/v1/control/${action}`, {
    method: "POST", headers, credentials: "same-origin", body: JSON.stringify(body || {}),
  });
  const answer = await response.json().catch(() => ({}));
  showError(response.ok ? "" : `${action}: ${answer.error || response.status}`);
  if (response.ok) window.alert(answer.result);
  refresh();
}

async function start() {
  try {
    const session = await getJSON("/api/v1/session");
    csrf = session.csrf;
    $("csrf").value = csrf || "";
    $("logout").hidden = !csrf;
    $("controls").hidden = !session.control;
  } catch (e) {
    showError(`Cannot start: ${e.message}`);
  }
  $("pause").addEventListener("click", () => act("pause", {}, "Pause new entries?"));
  $("resume").addEventListener("click", () => act("resume", {}, "Resume new entries?"));
  $("closeall").addEventListener("click", () =>
    act("closeall", { confirm: true }, "Close ALL open positions at market?"));
  $("chart-close").addEventListener("click", () => { $("chart").hidden = true; selected = null; });
  startTrader(refresh);
  await refresh();
  setInterval(refresh, REFRESH_MS);
}

document.addEventListener("DOMContentLoaded", start);
