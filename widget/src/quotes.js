// Quotes in the article: a selection becomes an anchor (the floating button), an anchor is found and highlighted.

import { UI, view } from "./state.js";
import { t } from "./strings.js";
import { ICON_BUBBLE, announce, h, reduceMotion, svg } from "./dom.js";
import { quoteOf } from "./format.js";
import { openPassageBox } from "./inline.js";

const CONTEXT = 32; // characters of prefix and suffix that pin a quote down in the article
const MAX_QUOTE = 1000;

export const passageSelector = (id) => `[data-engagement-passage="${CSS.escape(id)}"]`;

/* ---------- inline feedback: text selection and quotes ---------- */

/** The article's visible text, whitespace collapsed, with each character's node and offset. */
export function textIndex(rootEl) {
  const walker = document.createTreeWalker(rootEl, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) =>
      n.parentElement?.closest(`.${UI},script,style,noscript,template`)
        ? NodeFilter.FILTER_REJECT
        : NodeFilter.FILTER_ACCEPT,
  });
  const chars = [];
  const nodes = [];
  const offsets = [];
  let space = true;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const data = n.data;
    for (let i = 0; i < data.length; i++) {
      const ws = /\s/.test(data[i]);
      if (ws && space) continue;
      chars.push(ws ? " " : data[i]);
      nodes.push(n);
      offsets.push(i);
      space = ws;
    }
  }
  return { text: chars.join(""), nodes, offsets };
}

/** The index of the first character at or after a boundary point (binary search in document order). */
export function positionOf(idx, container, offset) {
  const point = document.createRange();
  point.setStart(container, offset);
  let lo = 0;
  let hi = idx.nodes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (point.comparePoint(idx.nodes[mid], idx.offsets[mid]) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const squash = (s) => (s || "").replace(/\s+/g, " ");

export function anchorFromRange(range) {
  if (!view.article || !view.article.contains(range.commonAncestorContainer)) return null;
  const idx = textIndex(view.article);
  let start = positionOf(idx, range.startContainer, range.startOffset);
  let end = positionOf(idx, range.endContainer, range.endOffset);
  while (start < end && idx.text[start] === " ") start++;
  while (end > start && idx.text[end - 1] === " ") end--;
  if (end - start < 2) return null;
  end = Math.min(end, start + MAX_QUOTE);
  const quote = {
    exact: idx.text.slice(start, end),
    prefix: idx.text.slice(Math.max(0, start - CONTEXT), start),
    suffix: idx.text.slice(end, end + CONTEXT),
  };
  const node = range.commonAncestorContainer;
  const passage = (node.nodeType === 1 ? node : node.parentElement).closest("[data-engagement-passage]");
  const anchor = { quote };
  if (passage && view.article.contains(passage)) anchor.passage = passage.dataset.engagementPassage;
  return anchor;
}

/** Where a quote is in the text: the occurrence whose neighbours best match prefix and suffix. */
export function findQuote(text, quote) {
  const exact = squash(quote.exact).trim();
  if (!exact) return -1;
  const prefix = squash(quote.prefix);
  const suffix = squash(quote.suffix);
  let best = -1;
  let bestScore = -1;
  for (let at = text.indexOf(exact); at !== -1; at = text.indexOf(exact, at + 1)) {
    let score = 0;
    while (score < prefix.length && text[at - 1 - score] === prefix[prefix.length - 1 - score]) score++;
    for (let i = 0; i < suffix.length && text[at + exact.length + i] === suffix[i]; i++) score++;
    if (score > bestScore) [best, bestScore] = [at, score];
  }
  return best;
}

export function clearHighlights() {
  for (const mark of document.querySelectorAll("mark.eg-mark")) {
    const parent = mark.parentNode;
    mark.replaceWith(...mark.childNodes);
    parent.normalize();
  }
  for (const el of document.querySelectorAll(".eg-highlight")) el.classList.remove("eg-highlight");
}

export function wrapQuote(scope, quote) {
  const idx = textIndex(scope);
  const at = findQuote(idx.text, quote);
  if (at < 0) return null;
  const last = at + squash(quote.exact).trim().length - 1;
  const range = document.createRange();
  range.setStart(idx.nodes[at], idx.offsets[at]);
  range.setEnd(idx.nodes[last], idx.offsets[last] + 1);
  const pieces = [...new Set(idx.nodes.slice(at, last + 1))].map((node) => [
    node,
    node === range.startContainer ? range.startOffset : 0,
    node === range.endContainer ? range.endOffset : node.length,
  ]);
  const marks = [];
  for (const [node, from, to] of pieces) {
    if (!node.data.slice(from, to).trim()) continue; // whitespace between blocks stays unwrapped
    node.splitText(to);
    const part = from > 0 ? node.splitText(from) : node;
    const mark = h("mark", { class: `${UI}-mark eg-mark` });
    part.replaceWith(mark);
    mark.append(part);
    marks.push(mark);
  }
  return marks[0] || null;
}

/** Highlight an anchor's passage (by its id, or by finding the quoted text) and scroll to it. */
export function showInArticle(anchor) {
  clearHighlights();
  const quote = quoteOf(anchor);
  const passage = anchor.passage ? document.querySelector(passageSelector(anchor.passage)) : null;
  let target = null;
  if (quote) target = wrapQuote(passage || view.article || document.body, quote);
  if (!target && quote && passage) target = wrapQuote(view.article || document.body, quote);
  if (!target && passage) {
    passage.classList.add("eg-highlight");
    target = passage;
  }
  if (!target) return announce(t("passageMissing"), true);
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.scrollIntoView({ block: "center", behavior: reduceMotion() ? "auto" : "smooth" });
  target.focus({ preventScroll: true });
  announce(t("highlighted"));
}

/* ---------- the floating "Comment on this passage" button ---------- */

let floating = null;
let pending = null;
let selectTimer = 0;
let pointerDown = false;

export function setupSelection() {
  floating = h(
    "button",
    { type: "button", class: `${UI} eg-root eg-float`, hidden: true, "data-eg-theme": view.theme },
    svg(ICON_BUBBLE),
    h("span", {}, t("commentOnPassage")),
  );
  // Keep the selection alive while the button is pressed.
  floating.addEventListener("mousedown", (ev) => ev.preventDefault());
  floating.addEventListener("click", () => {
    const { anchor, range } = pending || {};
    floating.hidden = true;
    if (!anchor) return;
    const block = blockOf(range.endContainer);
    window.getSelection()?.removeAllRanges();
    openPassageBox(block, anchor, null);
  });
  document.body.append(floating);
  document.addEventListener("pointerdown", (ev) => {
    pointerDown = !floating.contains(ev.target);
  });
  document.addEventListener("pointerup", () => {
    pointerDown = false;
    queueSelection(10);
  });
  document.addEventListener("selectionchange", () => queueSelection(pointerDown ? 9999 : 250));
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !floating.hidden) floating.hidden = true;
  });
}

export function queueSelection(delay) {
  clearTimeout(selectTimer);
  if (delay < 9999) selectTimer = setTimeout(checkSelection, delay);
}

export function blockOf(node) {
  const el = node.nodeType === 1 ? node : node.parentElement;
  const passage = el.closest("[data-engagement-passage]");
  if (passage) return passage;
  const block = el.closest("p,li,blockquote,pre,h1,h2,h3,h4,h5,h6,figure,table,div,section");
  return block && view.article.contains(block) && block !== view.article ? block : el;
}

export function checkSelection() {
  const sel = window.getSelection();
  if (!sel || sel.isCollapsed || !sel.rangeCount) {
    floating.hidden = true;
    return;
  }
  const range = sel.getRangeAt(0);
  const anchor = anchorFromRange(range);
  if (!anchor || floating.contains(range.commonAncestorContainer)) {
    floating.hidden = true;
    return;
  }
  pending = { anchor, range: range.cloneRange() };
  floating.hidden = false;
  const rect = range.getBoundingClientRect();
  const origin = (floating.offsetParent || document.body).getBoundingClientRect();
  const width = floating.offsetWidth;
  const left = Math.min(Math.max(rect.left + rect.width / 2 - width / 2, 8), window.innerWidth - width - 8);
  const above = rect.top - floating.offsetHeight - 10;
  const top = above > 4 ? above : rect.bottom + 10;
  floating.style.left = `${left - origin.left}px`;
  floating.style.top = `${top - origin.top}px`;
}
