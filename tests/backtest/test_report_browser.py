"""The backtest report in a real headless Chromium (Debian's package, driven by Playwright), from
file:// with every network request refused: the equity and candle charts draw, and at a phone's
width the page does not scroll sideways and every money table fits.

Skipped only when /usr/bin/chromium is missing on a developer's machine; in CI (CI set) a missing
browser fails the test, as the dashboard's browser test does.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import choch
from app.backtest_inputs import symbol_from
from backtest.metrics import report
from backtest.report import write_report
from backtest.simulate import simulate
from fetchers.csv_files import read_candles
from tests.shared_data import REPO
from trading.rules import TradeRules

pytestmark = pytest.mark.slow
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SAMPLE = REPO / "samples" / "LTCUSDT-usdm-1m-2026-02-01_03.csv"
WIDTHS = {"desktop": (1280, 900), "phone": (375, 800)}


def _chromium() -> str:
    if CHROMIUM.is_file():
        return str(CHROMIUM)
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); CI runs this test")


@pytest.fixture(scope="module")
def page_path(tmp_path_factory) -> Path:
    data = read_candles(str(SAMPLE))
    tf = data.timeframe_ms
    events = choch.scan(data.candles, 5, 5, "close", tf)
    run = simulate(data.candles, events, TradeRules(), tf, symbol_from(str(SAMPLE)), "1m")
    folder = tmp_path_factory.mktemp("report")
    return write_report(folder, [run], [data.candles], report([run]), {"csv": SAMPLE.name},
                        5, 5, [tf])


FIGURES = """() => ({
  scroll: document.documentElement.scrollWidth, width: window.innerWidth,
  canvases: [...document.querySelectorAll('#chart-0 canvas')].map(c => c.width * c.height),
  equity: [...document.querySelectorAll('#equity canvas')].map(c => c.width * c.height),
  tables: [...document.querySelectorAll('table.money')].filter(t => t.offsetParent !== null)
    .map(t => Math.ceil(t.getBoundingClientRect().right)),
  visible: [...document.querySelectorAll('table.money th')].filter(t => t.offsetParent !== null)
    .map(t => t.textContent)})"""


@pytest.mark.parametrize("screen", list(WIDTHS))
async def test_the_report_draws_its_charts_and_fits_the_screen(page_path, screen, tmp_path):
    from playwright.async_api import async_playwright

    width, height = WIDTHS[screen]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=_chromium(), headless=True,
                                           args=["--no-sandbox", "--disable-gpu"])
        try:
            context = await browser.new_context(viewport={"width": width, "height": height},
                                                is_mobile=screen == "phone")
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            outside: list[str] = []
            await page.route("**/*", lambda route: route.continue_()
                             if route.request.url.startswith(("file:", "data:"))
                             else (outside.append(route.request.url), route.abort())[1])
            await page.goto(page_path.as_uri())
            await page.wait_for_selector("#chart-0[data-ready='1']", timeout=15_000)
            await page.wait_for_selector("#equity[data-ready='1']", timeout=15_000)
            got = await page.evaluate(FIGURES)
            await page.screenshot(path=str(tmp_path / f"{screen}.png"))
        finally:
            await browser.close()
    assert errors == [] and outside == []
    assert got["canvases"] and max(got["canvases"]) > 100 * 100  # the candles were drawn
    assert got["equity"] and max(got["equity"]) > 100 * 100
    assert got["scroll"] <= got["width"]  # no sideways scroll of the page
    assert got["tables"] and max(got["tables"]) <= got["width"]  # every money table fits
    assert "Net USDT" in got["visible"] and "PnL USDT" in got["visible"]
