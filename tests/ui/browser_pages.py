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


def login(browser, url: str, name: str, password: str):  # noqa: ANN001, ANN201 - playwright objects
    """A fresh context (``open_page``) logged in as ``name`` through Gradio's login form, waiting until
    the app shows the login in the header: (context, page, dialogs)."""
    context, page, dialogs = open_page(browser)
    page.goto(url)
    page.locator("input[data-testid=textbox]").first.fill(name)
    page.locator("input[type=password]").first.fill(password)
    page.get_by_role("button", name="Login").click()
    page.wait_for_function(
        "name => { const el = document.querySelector('#user-box input, #user-box textarea');"
        " return el && el.value === name; }", arg=name, timeout=20_000)
    return context, page, dialogs


def item_id(page) -> str | None:  # noqa: ANN001 - a playwright page
    """The id of the item on the Label tab's card (None while there is none)."""
    return page.locator("#item-card [data-item-id]").get_attribute("data-item-id")


def wait_new_item(page, old: str | None, timeout: int = 15_000) -> str | None:  # noqa: ANN001
    """Wait until the Label tab shows another item than ``old``; its id."""
    page.wait_for_function(
        "old => { const el = document.querySelector('#item-card [data-item-id]');"
        " return el && el.getAttribute('data-item-id') !== old; }", arg=old, timeout=timeout)
    return item_id(page)
