"""The dashboard in a real headless Chromium (Debian's package, driven by Playwright).

Skipped only when /usr/bin/chromium is missing on a developer's machine; in CI (CI set) a missing
browser fails the test, so the check cannot silently vanish.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import pytest_asyncio

from .scenario import PASSWORD, USER

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


def _chromium() -> str:
    if CHROMIUM.is_file():
        return str(CHROMIUM)
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); CI runs this test")


@pytest_asyncio.fixture(loop_scope="module")
async def page(tmp_path):
    """A fresh browser page; a screenshot of it lands in tmp_path when the test fails."""
    from playwright.async_api import async_playwright

    executable = _chromium()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, headless=True,
                                           args=["--no-sandbox", "--disable-gpu"])
        context = await browser.new_context(viewport={"width": 1280, "height": 1000})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # The first visit's 401 (the login form) is logged as a failed load: not a page error.
        page.on("console", lambda m: errors.append(m.text) if m.type == "error"
                and "status of 401" not in m.text else None)
        page.errors = errors
        try:
            yield page
        finally:
            await browser.close()


async def _screenshot_on_failure(page, tmp_path, name: str):
    path = tmp_path / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def _log_in(page, run) -> None:
    await page.goto(run.url + "/")
    await page.fill("#username", USER)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#signals tbody tr[data-id]", timeout=10_000)


async def test_the_dashboard_shows_the_scripted_run_and_opens_a_signal_chart(run, page, tmp_path):
    newest = run.daemon.store.recent_signals(1)[0]
    try:
        await _log_in(page, run)
        first = page.locator("#signals tbody tr").first
        cells = await first.locator("td").all_inner_texts()
        assert cells[1:4] == [newest.symbol, newest.timeframe, newest.event.kind]
        assert await page.locator("#signals tbody tr[data-id]").count() == \
            len(run.daemon.store.recent_signals(50))
        data = page.locator("#panel-data")
        trading = page.locator("#panel-trading")
        assert await data.is_visible() and await trading.is_visible()
        assert "binanceusdm" in await data.inner_text() and "1m" in await data.inner_text()
        assert "paper" in await trading.inner_text() and "one-way" in await trading.inner_text()
        assert await page.locator("#positions tbody tr").count() == 1
        assert await page.locator("#trades tbody tr").count() == \
            len(run.daemon.store.closed_positions(20))
        await first.click()
        chart = page.locator("#chart-img")
        await chart.wait_for(state="visible")
        await page.wait_for_function(
            "() => { const i = document.getElementById('chart-img');"
            " return i.complete && i.naturalWidth > 0; }", timeout=10_000)
        assert await chart.evaluate("i => i.naturalWidth") == 900
        assert f"#{newest.id} {newest.symbol}" in await page.inner_text("#chart-title")
        assert page.errors == []
        await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    except BaseException:
        shot = await _screenshot_on_failure(page, tmp_path, "dashboard-failure")
        print(f"screenshot of the failing dashboard: {shot}")
        raise


async def test_a_wrong_password_keeps_the_browser_on_the_login_form(run, page, tmp_path):
    try:
        await page.goto(run.url + "/")
        await page.fill("#username", USER)
        await page.fill("#password", "not-the-password")
        await page.click("button[type=submit]")
        await page.wait_for_selector("p.error")
        assert "Wrong user name or password" in await page.inner_text("p.error")
        assert await page.locator("#signals").count() == 0
    except BaseException:
        print(f"screenshot: {await _screenshot_on_failure(page, tmp_path, 'login-failure')}")
        raise


async def test_on_a_phone_the_instance_panels_stack_and_nothing_overflows(run, page, tmp_path):
    try:
        await page.set_viewport_size({"width": 390, "height": 844})
        await _log_in(page, run)
        data = await page.locator("#panel-data").bounding_box()
        trading = await page.locator("#panel-trading").bounding_box()
        assert trading["y"] >= data["y"] + data["height"]  # one column
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390  # wide tables scroll inside their panel, not the page
        await page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    except BaseException:
        print(f"screenshot: {await _screenshot_on_failure(page, tmp_path, 'phone-failure')}")
        raise



DESKTOP, PHONE = {"width": 1280, "height": 1000}, {"width": 390, "height": 844}


def _accept_dialogs(page) -> None:
    """Say yes to the dashboard's confirm() questions and dismiss its alert() answers."""
    page.on("dialog", lambda dialog: dialog.accept())


async def _inside_viewport(page, selector: str, width: int) -> None:
    """Every cell matched is on screen without scrolling sideways (page or table)."""
    boxes = [await cell.bounding_box() for cell in await page.locator(selector).all()]
    assert boxes, f"nothing matches {selector}"
    for box in boxes:
        assert box is not None and box["width"] > 0, selector
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (selector, box)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_trader_sees_pnl_the_chart_with_levels_the_skip_reasons_and_logs(
        run, page, tmp_path, viewport):
    store = run.daemon.store
    closed = [p for p in store.closed_positions(1000) if p.mode == "paper"]
    total = sum(p.pnl for p in closed)
    wins = sum(p.pnl > 0 for p in closed)
    held = store.open_positions()[0]
    skipped = next(s for s in store.recent_signals(50) if s.trade_state == "skipped")
    from app.log_ring import LogRing

    run.daemon.log_ring = ring = LogRing()
    ring(None, "warning", {"event": "venue_slow", "level": "warning", "symbol": "LTC/USDT",
                           "timestamp": "2026-01-01T05:00:00Z"})
    try:
        await page.set_viewport_size(viewport)
        await _log_in(page, run)
        await page.wait_for_function(
            "() => document.getElementById('pnl-total').textContent !== '–'", timeout=10_000)
        assert await page.inner_text("#pnl-total") == f"{total:+.2f}"
        assert await page.inner_text("#pnl-today") == f"{total:+.2f}"  # every trade closed today
        assert await page.inner_text("#win-rate") == f"{100 * wins / len(closed):.1f} %"
        assert f"{wins} won · {len(closed) - wins} lost" in await page.inner_text("#win-loss")
        # The candle chart: a drawn canvas, and the open position's three levels.
        canvas = page.locator("#candles-chart canvas").first
        await canvas.wait_for(state="visible")
        box = await canvas.bounding_box()
        assert box["width"] > 200 and box["height"] > 200 and box["x"] + box["width"] <= \
            viewport["width"]
        await page.wait_for_selector("#chart-levels .level-target")
        levels = {await x.get_attribute("data-level"): float(await x.get_attribute("data-price"))
                  for x in await page.locator("#chart-levels .level").all()}
        assert levels == {"entry": held.entry_price, "stop": held.stop, "target": held.target}
        assert "LTC/USDT 1m" in await page.locator("#chart-stream option").first.inner_text()
        # Why a signal was not traded: in its row, or on a phone in a line under it.
        why = page.locator(f"#signals tbody tr[data-id='{skipped.id}'] td.why") \
            if viewport is DESKTOP else page.locator(f"#signals tr[data-for='{skipped.id}'] .note")
        assert await why.is_visible() and await why.inner_text() == skipped.trade_note
        await _inside_viewport(page, "#signals tr.note-row .note" if viewport is PHONE
                               else "#signals tr[data-id] td.why", viewport["width"])
        log_row = await page.locator("#logs tbody tr").first.locator("td").all_inner_texts()
        assert log_row == ["2026-01-01 05:00:00", "warning", "venue_slow", "symbol=LTC/USDT"]
        # Money in view without scrolling sideways; the page itself never scrolls sideways.
        await _inside_viewport(page, "#summary .value", viewport["width"])
        await _inside_viewport(page, "#positions tbody td:nth-child(8)", viewport["width"])
        await _inside_viewport(page, "#trades tbody td:nth-child(6), #trades tbody td:nth-child(7)",
                               viewport["width"])
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= \
            viewport["width"]
        assert page.errors == []
        await page.screenshot(path=str(tmp_path / "trader.png"), full_page=True)
    except BaseException:
        print(f"screenshot: {await _screenshot_on_failure(page, tmp_path, 'trader-failure')}")
        raise
    finally:
        del run.daemon.log_ring


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_pause_and_resume_are_shown_by_the_trading_state(run, page, tmp_path, viewport):
    manager = run.daemon.manager
    _accept_dialogs(page)
    try:
        await page.set_viewport_size(viewport)
        await _log_in(page, run)
        await page.wait_for_selector("#pause", state="visible")
        assert await page.locator("#resume").is_hidden()
        assert await page.inner_text("#state") == "entries active"
        await page.click("#pause")
        await page.wait_for_selector("#resume", state="visible")
        assert manager.paused and await page.locator("#pause").is_hidden()
        assert await page.inner_text("#state") == "entries paused"
        await page.click("#resume")
        await page.wait_for_selector("#pause", state="visible")
        assert not manager.paused and await page.locator("#resume").is_hidden()
        assert await page.inner_text("#state") == "entries active"
        assert page.errors == []
    except BaseException:
        print(f"screenshot: {await _screenshot_on_failure(page, tmp_path, 'pause-failure')}")
        raise
    finally:
        if manager.paused:
            manager.resume()


def _history_of(store, at_least: int) -> list:
    """At least `at_least` closed trades (extra ones made up after the run's), newest first."""
    from domain.trade import Direction, ExitReason

    made = at_least - len(store.closed_positions(1000))
    newest = store.closed_positions(1)[0].closed_at
    for n in range(made):
        pid = store.add_position("paper", "LTC/USDT", Direction.LONG, 1.0, 100.0, 99.0, 102.0,
                                 None, newest - 3_600_000, venue="paper")
        store.close_position(pid, 100.5, 0.5, ExitReason.TARGET, newest - 3_600_000 + n)
    return store.closed_positions(1000)


# Last in the module: it adds closed trades to the run's store.
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_trade_history_pages_through_every_closed_trade(run, page, tmp_path, viewport):
    history = _history_of(run.daemon.store, 27)
    try:
        await page.set_viewport_size(viewport)
        await _log_in(page, run)
        rows = page.locator("#trades tbody tr")
        await page.wait_for_function("() => document.querySelectorAll('#trades tbody tr')"
                                     ".length === 20", timeout=10_000)
        assert await page.inner_text("#trades-page") == f"page 1 of 2 · {len(history)} closed"
        assert await page.locator("#trades-newer").is_disabled()
        await page.click("#trades-older")
        await page.wait_for_function("n => document.querySelectorAll('#trades tbody tr')"
                                     ".length === n", arg=len(history) - 20, timeout=10_000)
        assert await page.inner_text("#trades-page") == f"page 2 of 2 · {len(history)} closed"
        assert await page.locator("#trades-older").is_disabled()
        pnls = [await r.locator("td").nth(5).inner_text() for r in await rows.all()]
        assert pnls == [f"{p.pnl:.2f}" for p in history[20:]]
        await page.click("#trades-newer")
        await page.wait_for_function("() => document.querySelectorAll('#trades tbody tr')"
                                     ".length === 20", timeout=10_000)
        assert await page.inner_text("#trades-page") == f"page 1 of 2 · {len(history)} closed"
        assert page.errors == []
    except BaseException:
        print(f"screenshot: {await _screenshot_on_failure(page, tmp_path, 'paging-failure')}")
        raise
