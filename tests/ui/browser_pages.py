"""Helpers shared by the browser tests (Playwright objects in, Playwright objects out)."""

from __future__ import annotations


def open_page(browser):  # noqa: ANN001, ANN201 - playwright objects
    """A fresh browser context (downloads on, 1400×1000) and page, and the list that collects the
    message of every JavaScript dialog the page opens (an XSS would fire one): (context, page, dialogs)."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return context, page, dialogs


def download_export(page) -> bytes:  # noqa: ANN001 - a playwright page
    """Open the Export tab, press Export with the page's current choices, and download the file."""
    page.get_by_role("tab", name="Export").click()
    page.locator("#export-btn").click()
    link = page.locator("#export-file a").first
    link.wait_for(timeout=20_000)
    with page.expect_download() as info:
        link.click()
    return info.value.path().read_bytes()
