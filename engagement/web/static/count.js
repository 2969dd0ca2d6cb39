/* engagement count.js: fills every [data-engagement-count] element of a listing page with one request.
 *
 *   <span data-engagement-count="https://news.example.org/2026/11/harbour"></span>
 *   <script src="https://comments.example.org/count.js" data-site="KEY" async></script>
 *
 * The attribute names the page (URL, path or data-page-id). Empty means the link the element
 * sits in, else the first link of its list item, row or article, else this page.
 * The element gets the bare number; data-engagement-format="reactions" counts reactions instead,
 * and data-engagement-text writes a phrase ("3 comments", strings overridable) instead of a number,
 * in data-lang's (else the browser's) language when shipped.
 */
(() => {
  "use strict";

  const script = document.currentScript || document.querySelector("script[data-site][src*='count.js']");
  if (!script) return;
  const BASE = new URL(script.src, location.href).origin;
  const SITE = script.dataset.site || "";
  const MAX_GET_URL = 1800; // beyond this a GET risks proxies' URL limits: POST instead
  const MAX_PAGES = 500; // the API's batch limit

  let own = {};
  try {
    own = JSON.parse(script.dataset.strings || "{}");
  } catch {}
  const STRINGS = {
    countComments: "{n} comment|{n} comments",
    countReactions: "{n} reaction|{n} reactions",
  };
  own = { ...window.EngagementStrings, ...own };
  let words = { ...STRINGS, ...own };
  let lang = "en";
  const tag = script.dataset.lang || navigator.language || lang;

  async function loadWords() {
    if (tag.startsWith(lang)) return;
    try {
      const res = await fetch(`${BASE}/api/v1/strings/${encodeURIComponent(tag)}`, { credentials: "omit" });
      if (!res.ok) return;
      const { strings: s, locale } = await res.json();
      words = { ...STRINGS, countComments: s.countComments, countReactions: s.countReactions, ...own };
      lang = locale;
    } catch {}
  }

  // Plurals: {one, few, many, other…} by Intl.PluralRules, or English "one|many".
  const format = (key, n) => {
    const v = words[key];
    const [one, many] = String(v).split("|");
    const text = v.other ? v[new Intl.PluralRules(lang).select(n)] ?? v.other : n === 1 || !many ? one : many;
    return text.replace("{n}", n.toLocaleString(lang));
  };

  /** The page an element counts for, without its fragment (one page, one key). */
  function refOf(el) {
    let ref =
      el.getAttribute("data-engagement-count") ||
      el.closest("a[href]")?.href ||
      el.closest("li, tr, article")?.querySelector("a[href]")?.href ||
      location.href;
    const hash = ref.indexOf("#");
    if (hash >= 0) ref = ref.slice(0, hash);
    return ref || "/";
  }

  async function fetchCounts(refs) {
    const query = new URLSearchParams({ site: SITE });
    for (const ref of refs) query.append("page", ref);
    const getUrl = `${BASE}/api/v1/counts?${query}`;
    // A GET is a "simple" cross-origin request: no preflight, one round trip.
    const res =
      getUrl.length <= MAX_GET_URL
        ? await fetch(getUrl, { credentials: "omit" })
        : await fetch(`${BASE}/api/v1/counts`, {
            method: "POST",
            credentials: "omit",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ site: SITE, pages: refs }),
          });
    if (!res.ok) throw new Error(`engagement counts: HTTP ${res.status}`);
    return (await res.json()).counts || {};
  }

  async function fill() {
    const elements = [...document.querySelectorAll("[data-engagement-count]")];
    const loaded = elements.some((el) => el.hasAttribute("data-engagement-text")) && loadWords();
    const refs = [...new Set(elements.map(refOf))];
    const counts = {};
    for (let i = 0; i < refs.length; i += MAX_PAGES) {
      Object.assign(counts, await fetchCounts(refs.slice(i, i + MAX_PAGES)));
    }
    await loaded;
    for (const el of elements) {
      const found = counts[refOf(el)] || { comments: 0, reactions: 0 };
      const kind = el.getAttribute("data-engagement-format") === "reactions" ? "reactions" : "comments";
      const n = Number(found[kind]) || 0;
      el.textContent = el.hasAttribute("data-engagement-text")
        ? format(kind === "reactions" ? "countReactions" : "countComments", n)
        : String(n);
      el.setAttribute("data-engagement-value", String(n));
    }
    document.dispatchEvent(new CustomEvent("engagement:counts", { detail: counts }));
  }

  const run = () => fill().catch((err) => console.warn(err)); // a listing page works without counts
  window.EngagementCounts = { refresh: run };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run, { once: true });
  else run();
})();
