"""The page's keyboard layer: one ``keydown`` listener that clicks the right Gradio button.

How it works: every action on the label page is an ordinary Gradio button (or, for multi-label
projects, a checkbox) with a known ``elem_id``; the script maps a key to that element and calls
``.click()``, so the keyboard and the mouse run exactly the same event handlers. Label buttons
carry their hotkey in their caption (``"1\u2002billing"``), so the script finds them without a
separate map that could drift from the buttons.

Rules:
- keys are ignored while the focus is in a text field, text area, select or dropdown search
  (Esc leaves such a box), and when Ctrl/Alt/Meta is held;
- only visible elements are clicked, so keys do nothing on the other tabs;
- after a key that moves to another item (a label in single-label mode, Enter, S, U/Backspace),
  further such keys wait until the page shows a new item (``data-item-id`` changes) or 1.5 s
  pass, so a fast typist never answers the same item twice.
"""

from __future__ import annotations

from annotator.ui.render import HOTKEY_SEP
from annotator.ui.review_keys import REVIEW_KEYS_JS
from annotator.ui.span_keys import SPAN_KEYS_JS
from annotator.ui.task_keys import TASK_KEYS_JS

KEYBOARD_JS = r"""
(() => {
  if (window.__annotatorKeys) return;
  window.__annotatorKeys = true;
  const SEP = "__SEP__";
  const WAIT_MS = 1500;
  let pending = null;
  const shown = (el) => !!el && el.offsetParent !== null && !el.disabled;
  const byId = (id) => { const el = document.getElementById(id); return shown(el) ? el : null; };
  const currentItem = () => {
    const el = document.querySelector("#item-card [data-item-id]");
    return el ? el.getAttribute("data-item-id") : null;
  };
  const TEXT_TYPES = /^(text|search|email|number|password|url|tel|date|time|datetime-local)$/i;
  const typing = (t) => !!t && (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT" ||
    (t.tagName === "INPUT" && TEXT_TYPES.test(t.type || "text")));
  const busy = () => {
    if (!pending) return false;
    if (currentItem() !== pending.item || Date.now() - pending.at > WAIT_MS) { pending = null; return false; }
    return true;
  };
  const fire = (el, advances) => {
    if (!el) return false;
    if (advances) {
      if (busy()) return true;  // swallow the key: the next item is on its way
      pending = { item: currentItem(), at: Date.now() };
    }
    el.click();
    return true;
  };
  const keyOf = (text) => {
    const t = (text || "").trim();
    const i = t.indexOf(SEP);
    return i > 0 ? t.slice(0, i).toLowerCase() : null;
  };
  const labelTarget = (key) => {
    for (const b of document.querySelectorAll("#label-bar button")) {
      if (shown(b) && keyOf(b.textContent) === key) return [b, true];
    }
    for (const lab of document.querySelectorAll("#multi-labels label")) {
      if (shown(lab) && keyOf(lab.textContent) === key) return [lab.querySelector("input") || lab, false];
    }
    return [null, false];
  };
  window.__annotatorPending = () => busy();
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (typing(e.target)) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.repeat) { return; }
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    let [el, advances] = labelTarget(key);
    if (!el) {
      if (key === "Enter") { el = byId("submit-btn"); advances = true; }
      else if (key === "s") { el = byId("skip-btn"); advances = true; }
      else if (key === "u" || key === "Backspace") { el = byId("undo-btn"); advances = true; }
      else if (key === "f") { el = byId("flag-btn"); advances = false; }
      else if (key === "c") {
        const box = document.querySelector("#comment-box textarea, #comment-box input");
        if (shown(box)) { box.focus(); e.preventDefault(); }
        return;
      }
    }
    if (fire(el, advances)) { e.preventDefault(); e.stopPropagation(); }
  }, true);
})();
""".replace("__SEP__", HOTKEY_SEP)

HEAD = (f"<script>{KEYBOARD_JS}</script><script>{REVIEW_KEYS_JS}</script><script>{TASK_KEYS_JS}</script>"
        f"<script>{SPAN_KEYS_JS}</script>")  # + the Review, Post-training and span pages' keys
