"""Keys of the Post-training tab (``annotator.ui.tasks_tab``): one ``keydown`` listener.

- preference: ``1`` left is better, ``2`` right, ``3`` tie, ``4`` both bad; ``Enter`` submits;
- rating: a number key scores the highlighted criterion and moves to the next one; ``Enter`` submits;
- correction: type in the box; ``Ctrl+Enter`` (or ⌘+Enter) submits.

Keys act only while the tab's card (``#task-card [data-task]``) is visible, and (except
Ctrl+Enter) never while the focus is in a text box (Esc leaves it). The choice keys click the
radio inputs by position, so the keyboard and the mouse run the same Gradio events. After a
submit, further submits wait until the card shows another item or 1.5 s pass.
"""

from __future__ import annotations

TASK_KEYS_JS = r"""
(() => {
  if (window.__annotatorTaskKeys) return;
  window.__annotatorTaskKeys = true;
  const WAIT_MS = 1500;
  let pending = null, crit = 0, lastItem = null;
  const shown = (el) => !!el && el.offsetParent !== null;
  const card = () => { const c = document.querySelector("#task-card [data-task]"); return shown(c) ? c : null; };
  const TEXT_TYPES = /^(text|search|email|number|password|url|tel)$/i;
  const typing = (t) => !!t && (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT" ||
    (t.tagName === "INPUT" && TEXT_TYPES.test(t.type || "text")));
  const radios = (id) => { const root = document.getElementById(id); return shown(root) ? [...root.querySelectorAll("input[type=radio]")] : []; };
  const mark = (c) => {
    document.querySelectorAll(".task-rate").forEach((el, i) => el.classList.toggle("task-rate-current", i === crit));
  };
  const submit = (item) => {
    const btn = document.getElementById("task-submit");
    if (!shown(btn)) return false;
    if (pending && pending.item === item && Date.now() - pending.at < WAIT_MS) return true;
    pending = { item, at: Date.now() };
    btn.click();
    return true;
  };
  document.addEventListener("keydown", (e) => {
    const c = card();
    if (!c || e.isComposing) return;
    const kind = c.getAttribute("data-task"), item = c.getAttribute("data-item-id");
    if (item !== lastItem) { lastItem = item; crit = 0; mark(c); }
    let done = false;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      done = submit(item);
    } else if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey || e.repeat) {
      if (e.key === "Escape" && typing(e.target)) e.target.blur();
      return;
    } else if (e.key === "Enter" && kind !== "correction") {
      done = submit(item);
    } else if (kind === "preference" && /^[1-4]$/.test(e.key)) {
      const input = radios("pref-choice")[Number(e.key) - 1];
      if (input) { input.click(); done = true; }
    } else if (kind === "rating" && /^[0-9]$/.test(e.key)) {
      const n = Number(c.getAttribute("data-criteria") || "0"), lo = Number(c.getAttribute("data-lo") || "1");
      const input = radios("rate-" + crit)[Number(e.key) - lo];
      if (input) { input.click(); crit = (crit + 1) % Math.max(n, 1); mark(c); done = true; }
    }
    if (done) { e.preventDefault(); e.stopPropagation(); }
  }, true);
})();
"""
