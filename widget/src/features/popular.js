// "More discussions": the site's most discussed pages of the last week, after the thread, the reader's own
// left out; hidden when the site turned it off or there are none (GET /api/v1/sites/KEY/popular).

import { SITE, state } from "../state.js";
import { t } from "../strings.js";
import { h } from "../dom.js";
import { api } from "../api.js";
import { addSection, onReady } from "../hooks.js";

const DAYS = 7;
const LIMIT = 5;
let section = null;

addSection(() => {
  section = h("nav", { class: "eg-popular", hidden: true });
  return section;
});

onReady(async () => {
  const setting = state.site?.popular;
  if (!section || !setting?.enabled) return;
  const query = { days: DAYS, limit: LIMIT, page: state.pageKey };
  const { data } = await api("GET", `/api/v1/sites/${encodeURIComponent(SITE)}/popular`, { query });
  // Links from the server are still only followed when they are http(s): never a javascript: URL.
  const pages = (data.pages || []).filter((p) => /^https?:\/\//i.test(p.url || ""));
  if (!data.enabled || !pages.length) return;
  const heading = h("h3", { class: "eg-h3" }, data.title || setting.title || t("popularHeading"));
  const items = pages.map((p) =>
    h(
      "li",
      {},
      h("a", { href: p.url }, p.title || p.url),
      " ",
      h("span", { class: "eg-muted" }, t("popularComments", { n: p.comments })),
    ),
  );
  section.setAttribute("aria-label", heading.textContent);
  section.replaceChildren(heading, h("ul", { class: "eg-popular-list" }, ...items));
  section.hidden = false;
});
