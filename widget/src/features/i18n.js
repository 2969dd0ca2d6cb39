/* The widget's language: which one a page shows, its strings from our server, plurals and numbers.
 *
 * English is in the bundle; another language's strings come from GET /api/v1/strings/{locale}
 * (generated from the server's gettext catalogs, cached a day with an ETag), never from a third
 * party. Choice: data-lang on the script tag (or the container), else the browser's language when
 * we ship it, else the site's default language; anything unknown falls back, never an error.
 * Registered at start (hooks.js): the strings are in place before anything is drawn.
 */
import { onStart } from "../hooks.js";
import { BASE, SITE } from "../state.js";
import { defineStrings } from "../strings.js";

// Kept equal to engagement/i18n/locales.py SHIPPED (tests/core/test_languages.py checks it).
export const SHIPPED = ["en", "de", "fr", "es", "it", "pt-BR", "nl", "pl", "ar"];
const RTL = ["ar"];

/** The shipped locale a BCP 47 tag stands for ("de-AT" → "de", "pt" → "pt-BR"), or null. */
export function shippedLocale(tag) {
  if (typeof tag !== "string" || !/^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$/.test(tag.trim())) return null;
  const parts = tag.trim().replace(/_/g, "-").split("-");
  const language = parts[0].toLowerCase();
  for (const part of parts.slice(1)) {
    const exact = `${language}-${part.toUpperCase()}`;
    if (part.length === 2 && SHIPPED.includes(exact)) return exact;
  }
  return SHIPPED.find((locale) => locale.split("-")[0] === language) || null;
}

/** data-lang, else the browser's languages in their order; null when neither names a shipped one. */
export function requestedLocale(dataLang, browserLanguages) {
  for (const tag of [dataLang, ...(browserLanguages || [])]) {
    const locale = shippedLocale(tag);
    if (locale) return locale;
  }
  return null;
}

export const direction = (locale) => (RTL.includes(String(locale).split("-")[0]) ? "rtl" : "ltr");

/** The strings of a language other than English, or {} when they cannot be had (English shows). */
export async function fetchStrings(base, locale) {
  if (!locale || locale === "en") return {};
  try {
    const res = await fetch(`${base}/api/v1/strings/${encodeURIComponent(locale)}`, {
      headers: { Accept: "application/json" },
      credentials: "omit",
    });
    if (!res.ok) return {};
    const document = await res.json();
    return { ...document.strings, locale: document.locale };
  } catch {
    return {};
  }
}

/** The site's default language, asked only when neither the page nor the browser named one we ship. */
async function siteLanguage() {
  try {
    const res = await fetch(`${BASE}/api/v1/sites/${encodeURIComponent(SITE)}`, {
      headers: { Accept: "application/json" },
      credentials: "omit",
    });
    return res.ok ? shippedLocale((await res.json()).language) || "en" : "en";
  } catch {
    return "en";
  }
}

onStart(async ({ script, root }) => {
  const asked = requestedLocale(script.dataset.lang || root.dataset.lang, navigator.languages || [navigator.language]);
  const strings = await fetchStrings(BASE, asked || (await siteLanguage()));
  const shown = strings.locale || "en";
  defineStrings({ ...strings, locale: shown }); // under the publisher's own strings, which still win
  root.setAttribute("lang", shown);
  root.setAttribute("dir", direction(shown));
});
