"""Keys and mouse of the span page (``annotator.ui.tabs.spans``): one ``keydown`` listener and one
``mouseup`` listener, loaded in the page head like the other key scripts.

The script reads the card ``annotator.ui.span_render.span_card`` wrote (tokens with
``data-start`` / ``data-end``, ``data-labels``, ``data-spans``, ``data-overlap``) and keeps the
current spans of the item in the page: a token cursor, an optional token selection, and the list
of ``{start, end, label}``. Each change repaints the tokens and writes the spans as JSON into the
hidden Gradio textbox ``#span-json`` (an ``input`` event, so Gradio holds the value); Enter, S
and U click the page's Accept / Skip / Undo buttons, so the keyboard and the mouse run the same
Gradio events.

- ``←`` / ``→`` move the cursor a token; with Shift they extend the selection token-wise;
  ``Home`` / ``End`` go to the first / last token;
- a mouse drag selects the tokens it touches (snapped to token boundaries); a click moves the
  cursor;
- ``1`` … ``9`` give the selection (or the token under the cursor) the n-th label; a selection
  that is exactly an existing span relabels it; one that overlaps another span is refused with a
  note unless the project allows overlapping spans (the service checks again);
- ``Backspace`` / ``Delete`` remove the span(s) under the cursor (or touching the selection);
- ``Esc`` clears the selection; ``Enter`` accepts; ``S`` skips; ``U`` or ``Ctrl+Z`` undoes the
  last accepted item.

Keys act only while the span card is visible and never while the focus is in a text box. After a
key that moves to another item, keys wait until the card shows a new ``data-view`` or 1.5 s pass.
"""

from __future__ import annotations

SPAN_KEYS_JS = r"""
(() => {
  if (window.__annotatorSpanKeys) return;
  window.__annotatorSpanKeys = true;
  const WAIT_MS = 1500;
  // Gradio morphs the card in place, so a new card is known by its data-view, not by the element.
  const S = { card: null, view: null, tokens: [], spans: [], labels: [], overlap: false, cursor: 0, anchor: null,
    pending: null };
  const shown = (el) => !!el && el.offsetParent !== null && !el.disabled;
  const TEXT_TYPES = /^(text|search|email|number|password|url|tel|date|time|datetime-local)$/i;
  const typing = (t) => !!t && (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT" ||
    (t.tagName === "INPUT" && TEXT_TYPES.test(t.type || "text")));
  const num = (el, name) => Number(el.getAttribute(name));
  const cardEl = () => {
    const c = document.querySelector("#span-card .sp-card");
    return shown(c) && c.getAttribute("data-item-id") !== "none" ? c : null;
  };
  const note = (msg) => { const n = S.card && S.card.querySelector(".sp-note"); if (n) n.textContent = msg || ""; };
  const sorted = (spans) => spans.slice().sort((a, b) => a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : 1));
  const touches = (s, lo, hi) => s.start < hi && lo < s.end;
  const colour = (label) => { const k = S.labels.indexOf(label); return k < 0 ? "sp-lx" : "sp-l" + (k % 10); };
  const clearClasses = (el) => {
    for (const c of [...el.classList]) if (/^sp-(l\d+|lx|in|multi|sel|cursor)$/.test(c)) el.classList.remove(c);
  };
  const paint = () => {
    const c = S.card;
    if (!c) return;
    c.querySelectorAll(".sp-badge").forEach((b) => b.remove());
    c.querySelectorAll(".sp-gap").forEach((g) => {
      clearClasses(g);
      const lo = num(g, "data-start"), hi = num(g, "data-end");
      const inside = S.spans.find((s) => s.start <= lo && hi <= s.end);
      if (inside) g.classList.add("sp-in", colour(inside.label));
    });
    const [selLo, selHi] = selection();
    S.tokens.forEach((t, k) => {
      clearClasses(t);
      const lo = num(t, "data-start"), hi = num(t, "data-end");
      const over = S.spans.filter((s) => touches(s, lo, hi));
      if (over.length) t.classList.add("sp-in", colour(over[0].label));
      if (over.length > 1) t.classList.add("sp-multi");
      if (S.anchor !== null && k >= selLo && k <= selHi) t.classList.add("sp-sel");
      if (k === S.cursor) t.classList.add("sp-cursor");
    });
    for (const s of S.spans) {  // the label badge after the span's last token
      const last = S.tokens.filter((t) => touches(s, num(t, "data-start"), num(t, "data-end"))).pop();
      if (!last) continue;
      const b = document.createElement("span");
      b.className = "sp-badge " + colour(s.label);
      b.setAttribute("data-start", s.start); b.setAttribute("data-end", s.end);
      b.textContent = s.label;
      last.after(b);
    }
  };
  const selection = () => {
    if (S.anchor === null) return [S.cursor, S.cursor];
    return [Math.min(S.anchor, S.cursor), Math.max(S.anchor, S.cursor)];
  };
  const push = () => {  // the spans into the hidden textbox, so Gradio sends them with Accept
    const box = document.querySelector("#span-json textarea, #span-json input");
    if (!box) return;
    box.value = JSON.stringify(sorted(S.spans));
    box.dispatchEvent(new Event("input", { bubbles: true }));
  };
  const sync = () => {  // a new card (next item, undo): start from its pre-filled spans
    const c = cardEl();
    if (!c) return null;
    if (c !== S.card || c.getAttribute("data-view") !== S.view) {
      S.card = c; S.view = c.getAttribute("data-view");
      S.tokens = [...c.querySelectorAll(".sp-tok")];
      try { S.spans = JSON.parse(c.getAttribute("data-spans") || "[]"); } catch (err) { S.spans = []; }
      try { S.labels = JSON.parse(c.getAttribute("data-labels") || "[]"); } catch (err) { S.labels = []; }
      S.overlap = c.getAttribute("data-overlap") === "1";
      S.cursor = 0; S.anchor = null;
      paint();
    }
    return c;
  };
  const busy = () => {
    if (!S.pending) return false;
    const c = cardEl();
    if (!c || c.getAttribute("data-view") !== S.pending.view || Date.now() - S.pending.at > WAIT_MS) {
      S.pending = null; return false;
    }
    return true;
  };
  const press = (id, advances) => {
    const btn = document.getElementById(id);
    if (!shown(btn)) return false;
    if (advances) S.pending = { view: S.view, at: Date.now() };
    btn.click();
    return true;
  };
  const label = (n) => {
    const name = S.labels[n];
    if (name === undefined || !S.tokens.length) return;
    const [lo, hi] = selection();
    const start = num(S.tokens[lo], "data-start"), end = num(S.tokens[hi], "data-end");
    const same = S.spans.find((s) => s.start === start && s.end === end);
    if (same) { same.label = name; }
    else {
      const other = S.spans.find((s) => touches(s, start, end));
      if (other && !S.overlap) {
        const text = Array.from([...S.card.querySelectorAll(".sp-tok, .sp-gap")].map((x) => x.textContent).join(""));
        note("Overlaps " + other.label + " “" + text.slice(other.start, other.end).join("") +
             "”: remove it first (Backspace on it); this project does not allow overlapping spans.");
        return;
      }
      S.spans.push({ start, end, label: name });
    }
    S.spans = sorted(S.spans);
    S.anchor = null; S.cursor = hi;
    note("");
    paint(); push();
  };
  const remove = () => {
    const [lo, hi] = selection();
    const start = num(S.tokens[lo], "data-start"), end = num(S.tokens[hi], "data-end");
    const kept = S.spans.filter((s) => !touches(s, start, end));
    if (kept.length === S.spans.length) { note("No span under the cursor."); return; }
    S.spans = kept; S.anchor = null;
    note("");
    paint(); push();
  };
  const move = (to, extend) => {
    if (!S.tokens.length) return;
    to = Math.max(0, Math.min(S.tokens.length - 1, to));
    if (extend) { if (S.anchor === null) S.anchor = S.cursor; }
    else S.anchor = null;
    S.cursor = to;
    paint();
  };
  document.addEventListener("keydown", (e) => {
    if (e.isComposing || !sync()) return;
    if (typing(e.target)) return;
    const undoKey = (e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "z" || e.key === "Z");
    if (!undoKey && (e.ctrlKey || e.metaKey || e.altKey)) return;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    let done = true;
    if (busy()) { /* the next item is on its way: swallow the key */ }
    else if (undoKey || key === "u") { done = !e.repeat && press("span-undo", true); }
    else if (key === "Enter") { done = !e.repeat && press("span-accept", true); }
    else if (key === "s") { done = !e.repeat && press("span-skip", true); }
    else if (key === "ArrowRight") move(S.cursor + 1, e.shiftKey);
    else if (key === "ArrowLeft") move(S.cursor - 1, e.shiftKey);
    else if (key === "Home") move(0, e.shiftKey);
    else if (key === "End") move(S.tokens.length - 1, e.shiftKey);
    else if (key === "Escape") { S.anchor = null; note(""); paint(); }
    else if (key === "Backspace" || key === "Delete") remove();
    else if (/^[1-9]$/.test(key) && !e.shiftKey) label(Number(key) - 1);
    else done = false;
    if (done) { e.preventDefault(); e.stopPropagation(); }
  }, true);
  const offsetOf = (node, offset, atEnd) => {  // a selection boundary → a character offset of the text
    const el = node.nodeType === 3 ? node.parentElement : node;
    if (!el) return null;
    const host = el.closest(".sp-tok, .sp-gap, .sp-badge");
    if (host && host.classList.contains("sp-badge")) return num(host, "data-end");
    if (host && node.nodeType === 3) return num(host, "data-start") + offset;
    if (host) return num(host, offset === 0 ? "data-start" : "data-end");
    const kids = [...el.childNodes];  // a boundary between children of the text block
    const next = kids[offset] || null, prev = kids[offset - 1] || null;
    if (!atEnd && next && next.getAttribute) return num(next, "data-start");
    if (prev && prev.getAttribute) return num(prev, "data-end");
    return null;
  };
  document.addEventListener("mouseup", (e) => {
    const c = sync();
    if (!c || busy()) return;
    const sel = window.getSelection();
    const inCard = c.contains(e.target) || (sel && sel.rangeCount && c.contains(sel.getRangeAt(0).commonAncestorContainer));
    if (!inCard) return;
    const tok = e.target.closest && e.target.closest(".sp-tok");
    if (!sel || sel.isCollapsed || !sel.rangeCount) {
      if (tok) move(num(tok, "data-i"), false);
      c.focus({ preventScroll: true });
      return;
    }
    const r = sel.getRangeAt(0);
    const start = offsetOf(r.startContainer, r.startOffset, false), end = offsetOf(r.endContainer, r.endOffset, true);
    if (start === null || end === null || end <= start) return;
    const hit = S.tokens.filter((t) => num(t, "data-start") < end && start < num(t, "data-end"));
    sel.removeAllRanges();
    c.focus({ preventScroll: true });
    if (!hit.length) return;
    S.anchor = num(hit[0], "data-i"); S.cursor = num(hit[hit.length - 1], "data-i");
    paint();
  });
  new MutationObserver(() => { const c = cardEl(); if (c && c.getAttribute("data-view") !== S.view) sync(); })
    .observe(document.documentElement, { childList: true, subtree: true, attributes: true,
      attributeFilter: ["data-view"] });
})();
"""
