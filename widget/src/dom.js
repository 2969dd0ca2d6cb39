// DOM helpers: elements from data (strings are text, never HTML), icons, ids, labelled fields, announcements.

import { els } from "./state.js";

/** An element with attributes, listeners (on…) and children; strings become text, never HTML. */
export const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c);
  return el;
};

export const svg = (d) => {
  const ns = "http://www.w3.org/2000/svg";
  const el = document.createElementNS(ns, "svg");
  el.setAttribute("viewBox", "0 0 24 24");
  el.setAttribute("aria-hidden", "true");
  el.setAttribute("class", "eg-icon");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  el.append(path);
  return el;
};
export const ICON_BUBBLE = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
export const ICON_HEART =
  "M12 21s-7.5-4.6-9.5-9.3C1.1 8.4 3.3 5 6.6 5c2 0 3.4 1.1 4.4 2.6h2C14 6.1 15.4 5 17.4 5c3.3 0 5.5 3.4 4.1 6.7C19.5 16.4 12 21 12 21z";
export const ICON_BELL = "M12 22a2.5 2.5 0 0 0 2.5-2.5h-5A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5-6.7V3.5a2 2 0 0 0-4 0v.8A7 7 0 0 0 5 11v5l-2 2v1h18v-1z";

let uid = 0;
export const nextId = () => `eg-${++uid}`;
export const reduceMotion = () => window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;

export function field(label, control, hint) {
  const hintId = hint ? nextId() : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "eg-field" },
    h("label", { for: control.id }, label),
    control,
    hint && h("small", { id: hintId, class: "eg-hint" }, hint),
  );
}

let liveTimer = 0;
let toastTimer = 0;

/** Say something to screen readers; ``visible`` also shows it for a while (errors, mostly). */
export function announce(message, visible = false) {
  // Clear first so the same message said twice is read twice.
  els.live.textContent = "";
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => {
    els.live.textContent = message;
  }, 50);
  if (!visible) return;
  els.toast.textContent = message;
  els.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (els.toast.hidden = true), 6000);
}
