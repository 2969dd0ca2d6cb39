// Server-rendered comments (GET /api/v1/comments.html, `data-engagement-ssr`) stay on show until the
// live thread is drawn, then give way to it; their JSON-LD stays in the page for search engines.

import { SITE } from "../state.js";
import { onReady, onStart } from "../hooks.js";

let rendered = null;

onStart(({ root }) => {
  rendered = root.querySelector("[data-engagement-ssr]") || document.querySelector(`[data-engagement-ssr][data-site="${CSS.escape(SITE)}"]`);
  if (!rendered) return;
  // Out of the container the widget redraws, so readers keep seeing comments while it loads.
  if (root.contains(rendered)) root.before(rendered);
  for (const data of rendered.querySelectorAll('script[type="application/ld+json"]')) rendered.before(data);
  // Its copies must not answer for the live comments (permalinks, votes find comments by id).
  for (const el of rendered.querySelectorAll("[id]")) el.removeAttribute("id");
  for (const el of rendered.querySelectorAll("[data-id]")) el.removeAttribute("data-id");
  rendered.setAttribute("aria-busy", "true");
});

onReady(() => {
  rendered?.remove();
  rendered = null;
});
