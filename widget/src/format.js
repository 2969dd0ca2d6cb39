// Formatting: comment HTML checked again, dates, labels, colours, anchors' quotes, JSON from attributes.

import { locale, t } from "./strings.js";

export const parseJSON = (text) => {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {};
  }
};

/* ---------- defence in depth for comment HTML (the server already sanitised it) ---------- */

export const FORBIDDEN = "script,style,iframe,frame,frameset,object,embed,link,meta,base,form,input,button,textarea,select,svg,math,template,img,video,audio,source";
export const SAFE_URL = /^(https?:|mailto:|#|\/|\.|[^:]*$)/i;

export function commentHTML(html) {
  const tpl = document.createElement("template"); // parsed inert: nothing loads, nothing runs
  tpl.innerHTML = html || "";
  for (const el of tpl.content.querySelectorAll(FORBIDDEN)) el.remove();
  for (const el of tpl.content.querySelectorAll("*")) {
    for (const attr of [...el.attributes]) {
      const name = attr.name.toLowerCase();
      const url = ["href", "src", "xlink:href", "action", "formaction"].includes(name);
      // eslint-disable-next-line no-control-regex
      const value = attr.value.replace(/[\u0000-\u0020]/g, "");
      if (name.startsWith("on") || name === "style" || name === "srcdoc" || (url && !SAFE_URL.test(value))) {
        el.removeAttribute(attr.name);
      }
    }
    if (el.tagName === "A") el.setAttribute("rel", "nofollow ugc noopener");
  }
  return tpl.content;
}

/* ---------- formatting ---------- */

export const UNITS = [
  ["year", 31536000],
  ["month", 2592000],
  ["week", 604800],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];

export function ago(iso) {
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  try {
    const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
    for (const [unit, size] of UNITS) {
      if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
    }
  } catch {
    /* an old browser: the date alone will do */
  }
  return t("justNow");
}

export const fullDate = (iso) => {
  try {
    return new Date(iso).toLocaleString(locale(), { dateStyle: "long", timeStyle: "short" });
  } catch {
    return iso;
  }
};

/** "👍 Like" → ["👍", "Like"]: the emoji shows large, the word stays readable. */
export const splitLabel = (label) => {
  const m = /^([^\p{L}\p{N}\s]+)\s+(.+)$/u.exec(label || "");
  return m ? [m[1], m[2]] : ["", label || ""];
};

export const hue = (name) => {
  let x = 0;
  for (const ch of name) x = (x * 31 + ch.codePointAt(0)) % 360;
  return x;
};

/** The anchor as the API shows it: {passage, exact, prefix, suffix} or {passage, quote: {…}}. */
export const quoteOf = (anchor) => (anchor ? anchor.quote || (anchor.exact ? anchor : null) : null);
