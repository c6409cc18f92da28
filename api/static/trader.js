// The trader's parts of the dashboard: PnL figures, the candle chart with the open positions'
// entry/stop/target (TradingView Lightweight Charts, vendored), the trade history's pages,
// recent warnings and errors, and Pause/Resume by state. Uses app.js's helpers ($, el, cells...).
"use strict";

const PAGE = 20;             // trades per page
const CANDLES = 300;         // candles asked for the chart
const WATCHED_SHOWN = 40;    // watched symbols offered in the chart's list at most
const LEVEL_COLORS = { entry: "#2f81f7", stop: "#ef5350", target: "#26a69a" };
let tradesOffset = 0;
let tradesTotal = 0;
let chosenStream = null;     // "SYMBOL|TF" the user picked; null: follow the first position
let chart = null;
let series = null;
let markers = null;
let priceLines = [];
let shownKey = null;         // stream + last candle drawn, to skip redrawing the same data

function tradesPath() {
  return `/api/v1/trades?limit=${PAGE}&offset=${tradesOffset}`;
}

function money(x) {
  if (x === null || x === undefined) return "–";
  const n = Number(x);
  return `${n > 0 ? "+" : ""}${n.toFixed(2)}`;
}

function signClass(x) {
  return x === null || x === undefined || Number(x) === 0 ? "value" : `value ${x > 0 ? "pos" : "neg"}`;
}

function percent(x) {
  return x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)} %`;
}

function drawState(paused) {
  const state = $("state");
  state.textContent = paused ? "entries paused" : "entries active";
  state.className = `badge ${paused ? "warn" : "ok"}`;
  $("pause").hidden = paused;
  $("resume").hidden = !paused;
}

function drawSummary(s, positions) {
  $("pnl-total").textContent = money(s.total_pnl);
  $("pnl-total").className = signClass(s.total_pnl);
  $("pnl-trades").textContent = `${s.trades} trade${s.trades === 1 ? "" : "s"} · ${s.mode}`;
  $("pnl-today").textContent = money(s.today_pnl);
  $("pnl-today").className = signClass(s.today_pnl);
  const today = (s.days || []).find((d) => d.day === s.today);
  $("pnl-day").textContent = `${s.today} · ${today ? today.trades : 0} closed`;
  $("win-rate").textContent = percent(s.win_rate);
  $("win-loss").textContent = `${s.wins} won · ${s.losses} lost`;
  const known = positions.filter((p) => p.unrealised_pnl !== null && p.unrealised_pnl !== undefined);
  const upnl = known.length ? known.reduce((a, p) => a + p.unrealised_pnl, 0) : null;
  $("open-upnl").textContent = money(upnl);
  $("open-upnl").className = signClass(upnl);
  $("open-count").textContent = `${s.open_positions} position${s.open_positions === 1 ? "" : "s"} · unrealised`;
  drawState(s.paused);
  const days = (s.days || []).slice().reverse();
  fill(document.querySelector("#days tbody"), days, 4, "no closed trade yet", (d) => cells(el("tr"), [
    [d.day], [d.trades, "num"], [percent(d.trades ? d.wins / d.trades : null), "num"],
    [money(d.pnl), `num ${d.pnl >= 0 ? "pos" : "neg"}`],
  ]));
}

function drawPager(page) {
  tradesTotal = page.total;
  if (tradesOffset > 0 && tradesOffset >= tradesTotal) tradesOffset = Math.max(0, tradesTotal - PAGE);
  const pages = Math.max(1, Math.ceil(tradesTotal / PAGE));
  const at = Math.floor(tradesOffset / PAGE) + 1;
  $("trades-page").textContent = `page ${at} of ${pages} · ${tradesTotal} closed`;
  $("trades-newer").disabled = tradesOffset === 0;
  $("trades-older").disabled = tradesOffset + PAGE >= tradesTotal;
}

function drawLogs(lines) {
  fill(document.querySelector("#logs tbody"), lines, 4, "no warning or error since start", (l) => {
    const details = Object.entries(l.fields || {}).map(([k, v]) => `${k}=${v}`).join(" ");
    return cells(el("tr"), [
      [(l.at || "").slice(0, 19).replace("T", " ")], [l.level, l.level === "warning" ? "warn" : "neg"],
      [l.event], [details, "why"],
    ]);
  });
}

// -- the candle chart ------------------------------------------------------------------------

// Open positions' streams first, then those of recent signals, then every watched one.
function streamsOf(positions, signals, health) {
  const seen = new Map();
  for (const p of positions) {
    if (p.timeframe) seen.set(`${p.symbol}|${p.timeframe}`, `${p.symbol} ${p.timeframe} · open ${p.direction}`);
  }
  for (const s of signals) {
    const key = `${s.symbol}|${s.timeframe}`;
    if (!seen.has(key)) seen.set(key, `${s.symbol} ${s.timeframe}`);
  }
  for (const symbol of (health.symbols || []).slice(0, WATCHED_SHOWN)) {
    for (const timeframe of health.timeframes || []) {
      const key = `${symbol}|${timeframe}`;
      if (!seen.has(key)) seen.set(key, `${symbol} ${timeframe}`);
    }
  }
  return seen;
}

function fillStreams(streams) {
  const select = $("chart-stream");
  const wanted = [...streams.keys()];
  const have = [...select.options].map((o) => o.value);
  if (wanted.join("\n") !== have.join("\n")) {
    select.replaceChildren(...wanted.map((key) => {
      const option = el("option", streams.get(key));
      option.value = key;
      return option;
    }));
  }
  const key = chosenStream && streams.has(chosenStream) ? chosenStream : wanted[0] || null;
  if (key) select.value = key;
  return key;
}

function decimals(price) {
  if (price >= 1000) return 2;
  if (price >= 10) return 3;
  if (price >= 1) return 4;
  return Math.min(8, 2 + Math.ceil(-Math.log10(Math.max(price, 1e-8))) + 2);
}

function ensureChart() {
  if (chart || !window.LightweightCharts) return;
  const lc = window.LightweightCharts;
  chart = lc.createChart($("candles-chart"), {
    autoSize: true,
    // Its logo adds a <style> element, which the CSP refuses: the footer carries the attribution.
    layout: { background: { type: "solid", color: "#182029" }, textColor: "#d9e1e8", attributionLogo: false },
    grid: { vertLines: { color: "#22303d" }, horzLines: { color: "#22303d" } },
    timeScale: { timeVisible: true, secondsVisible: false, borderColor: "#263241" },
    rightPriceScale: { borderColor: "#263241" },
  });
  series = chart.addSeries(lc.CandlestickSeries, {
    upColor: "#26a69a", downColor: "#ef5350", wickUpColor: "#26a69a", wickDownColor: "#ef5350",
    borderVisible: false,
  });
  markers = lc.createSeriesMarkers(series, []);
}

function drawLevels(data) {
  for (const line of priceLines) series.removePriceLine(line);
  priceLines = [];
  const legend = $("chart-levels");
  legend.replaceChildren();
  for (const p of data.positions) {
    for (const name of ["entry", "stop", "target"]) {
      const price = name === "entry" ? p.entry_price : p[name];
      if (price === null || price === undefined) continue;
      priceLines.push(series.createPriceLine({
        price, color: LEVEL_COLORS[name], lineWidth: name === "entry" ? 2 : 1,
        lineStyle: name === "entry" ? 0 : 2, axisLabelVisible: true, title: `${name} ${p.direction}`,
      }));
      const item = el("span", `${name} ${num(price)}`, `level level-${name}`);
      item.dataset.level = name;
      item.dataset.price = price;
      legend.append(item);
    }
  }
}

function drawMarkers(data) {
  const times = new Set(data.candles.map((c) => c.time));
  const list = data.signals.filter((s) => times.has(s.break_time)).map((s) => {
    const up = s.direction === "bullish";
    return { time: s.break_time / 1000, position: up ? "belowBar" : "aboveBar", shape: up ? "arrowUp" : "arrowDown",
             color: up ? "#26a69a" : "#ef5350", text: s.kind };
  });
  for (const p of data.positions) {
    const at = data.candles.filter((c) => c.time <= p.opened_at).pop();
    if (at) list.push({ time: at.time / 1000, position: "inBar", shape: "circle", color: LEVEL_COLORS.entry, text: "entry" });
  }
  list.sort((a, b) => a.time - b.time);
  markers.setMarkers(list);
}

async function drawChart(positions, signals, health) {
  const key = fillStreams(streamsOf(positions, signals, health));
  $("chart-panel").hidden = !key;
  if (!key) return;
  ensureChart();
  if (!chart) return;
  const [symbol, timeframe] = key.split("|");
  const response = await fetch(`/api/v1/candles?symbol=${encodeURIComponent(symbol)}&timeframe=${encodeURIComponent(timeframe)}&limit=${CANDLES}`,
    { headers: HEADERS, credentials: "same-origin", cache: "no-store" });
  $("chart-empty").hidden = response.status !== 404;
  if (response.status === 404) {
    series.setData([]);
    shownKey = null;
    return;
  }
  if (!response.ok) throw new Error(`candles: HTTP ${response.status}`);
  const data = await response.json();
  const last = data.candles[data.candles.length - 1];
  const drawn = `${key}|${last.time}|${data.candles.length}`;
  if (drawn !== shownKey) {
    const digits = decimals(last.close);
    series.applyOptions({ priceFormat: { type: "price", precision: digits, minMove: 10 ** -digits } });
    series.setData(data.candles.map((c) => ({ time: c.time / 1000, open: c.open, high: c.high, low: c.low, close: c.close })));
    if (!shownKey || !shownKey.startsWith(`${key}|`)) chart.timeScale().fitContent();
    shownKey = drawn;
  }
  drawLevels(data);
  drawMarkers(data);
}

function startTrader(refresh) {
  $("trades-newer").addEventListener("click", () => { tradesOffset = Math.max(0, tradesOffset - PAGE); refresh(); });
  $("trades-older").addEventListener("click", () => {
    if (tradesOffset + PAGE < tradesTotal) tradesOffset += PAGE;
    refresh();
  });
  $("chart-stream").addEventListener("change", (e) => { chosenStream = e.target.value; refresh(); });
}
