// The entry: one widget per page; at start the strings, the page, the style, the skeleton, then the site and the thread.
//
//   <script src="https://comments.example.org/widget.js" data-site="KEY" async></script>
//   <div id="engagement-thread"></div>
//
// No framework, no cookie, no third-party request: every call goes to the script's own origin.
// Only the server-sanitised `html` of a comment is ever inserted as HTML; everything else is text.
// A feature is a module of its own that registers through hooks.js (or imports thread.js, strings.js, api.js);
// files in features/ are bundled before this one without being listed here (see widget/build.mjs).

import { BASE, SITE, els, script, state, view } from "./state.js";
import { setStrings } from "./strings.js";
import { h } from "./dom.js";
import { api, errorText } from "./api.js";
import { parseJSON } from "./format.js";
import { runHooks } from "./hooks.js";
import { renderReactions } from "./reactions.js";
import { loadThread, showLinked } from "./thread.js";
import { loadInline, loadPassageCounts, renderBadges } from "./inline.js";
import { setupSelection } from "./quotes.js";
import { build, renderSupport } from "./layout.js";

if (script && !window.EngagementWidget) {
  window.EngagementWidget = { version: "1", ready: false };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
}

function pageKey() {
  const explicit = view.root.dataset.pageId || script.dataset.pageId;
  if (explicit) return explicit;
  const url = new URL(location.href);
  url.hash = "";
  return url.href;
}

async function start() {
  const root = document.getElementById(script.dataset.container || "engagement-thread");
  if (!root) return;
  view.root = root;
  setStrings(window.EngagementStrings, parseJSON(script.dataset.strings), parseJSON(root.dataset.strings));
  view.theme = ["light", "dark"].includes(root.dataset.theme) ? root.dataset.theme : null;
  state.pageKey = pageKey();
  state.pageTitle = root.dataset.pageTitle || document.title || "";
  state.sort = ["newest", "oldest", "top"].includes(root.dataset.sort) ? root.dataset.sort : "newest";
  state.limit = Math.min(Math.max(Number(root.dataset.limit) || 20, 1), 100);
  view.article = document.querySelector("[data-engagement-article]");
  const context = { script, root, dataset: script.dataset };
  await runHooks("start", context);
  // Ask for the site while the stylesheet loads; build once it is there (no unstyled flash).
  const site = api("GET", `/api/v1/sites/${encodeURIComponent(SITE)}`);
  site.catch(() => {});
  await loadStyle();
  build();
  if (view.article) setupSelection();
  renderBadges();
  try {
    state.site = (await site).data;
    renderSupport();
    renderReactions();
  } catch (err) {
    els.reactionStatus.textContent = errorText(err);
  }
  await Promise.all([loadThread(), loadPassageCounts()]);
  if (state.inline === null) loadInline(); // the tab shows its count before it is opened
  await showLinked();
  window.addEventListener("hashchange", showLinked);
  await runHooks("ready", context);
  window.EngagementWidget.ready = true;
  root.setAttribute("data-engagement-ready", "true"); // for CSS, and for tests under a strict CSP
  root.dispatchEvent(new CustomEvent("engagement:ready", { bubbles: true }));
}

/** Load widget.css from beside the script (a <link>, so a strict style-src CSP can allow it). */
function loadStyle() {
  if (script.dataset.style === "none" || document.getElementById("engagement-style")) return Promise.resolve();
  return new Promise((resolve) => {
    const link = h("link", { id: "engagement-style", rel: "stylesheet", href: `${BASE}/static/widget.css` });
    link.addEventListener("load", resolve);
    link.addEventListener("error", resolve); // unstyled beats absent
    document.head.append(link);
  });
}
