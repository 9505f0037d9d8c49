"""Keys of the Review tab: one ``keydown`` listener that clicks the tab's buttons (like
``annotator.ui.keyboard`` does for the Label tab; only visible buttons are clicked, so the keys do
nothing on other tabs, and nothing while the focus is in a text box).

``1``..``9`` the numbered choice buttons (accept an answer / correct to a label), ``B`` send back,
``N`` next, ``R`` refresh, ``C`` the note box. A key that settles the item waits until the page
shows another item (``data-item-id`` of ``#review-item`` changes) or 1.5 s pass, so a key pressed
twice never decides the next item by accident.
"""

from __future__ import annotations

REVIEW_KEYS_JS = r"""
(() => {
  if (window.__annotatorReviewKeys) return;
  window.__annotatorReviewKeys = true;
  const WAIT_MS = 1500;
  let pending = null;
  const shown = (el) => !!el && el.offsetParent !== null && !el.disabled;
  const byId = (id) => { const el = document.getElementById(id); return shown(el) ? el : null; };
  const current = () => {
    const el = document.querySelector("#review-item [data-item-id]");
    return el ? el.getAttribute("data-item-id") : null;
  };
  const TEXT_TYPES = /^(text|search|email|number|password|url|tel|date|time|datetime-local)$/i;
  const typing = (t) => !!t && (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT" ||
    (t.tagName === "INPUT" && TEXT_TYPES.test(t.type || "text")));
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing || e.repeat) return;
    if (!byId("review-item")) return;  // the Review tab is not the one shown
    if (typing(e.target)) return;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    let el = null, settles = false;
    if (/^[1-9]$/.test(key)) { el = byId("review-choice-" + (Number(key) - 1)); settles = true; }
    else if (key === "b") { el = byId("review-send-back"); settles = true; }
    else if (key === "n") { el = byId("review-skip"); settles = true; }
    else if (key === "r") { el = byId("review-refresh"); }
    else if (key === "c") {
      const box = document.querySelector("#review-comment textarea, #review-comment input");
      if (shown(box)) { box.focus(); e.preventDefault(); }
      return;
    }
    if (!el) return;
    if (settles) {
      if (pending && current() === pending.item && Date.now() - pending.at < WAIT_MS) { e.preventDefault(); return; }
      pending = { item: current(), at: Date.now() };
    }
    el.click();
    e.preventDefault();
    e.stopPropagation();
  }, true);
})();
"""
