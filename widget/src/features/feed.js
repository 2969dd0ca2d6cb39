// "Follow in a feed reader": the page's Atom feed, linked next to the comment form's "Notify of".

import { BASE, SITE, state, view } from "../state.js";
import { defineStrings, t } from "../strings.js";
import { h } from "../dom.js";
import { onReady } from "../hooks.js";

defineStrings({
  followFeed: "Follow in a feed reader",
});

onReady(({ root }) => {
  const notify = root.querySelector(".eg-widget > form.eg-form select[name=notify]");
  if (!notify || view.root !== root) return;
  const href = `${BASE}/feeds/${encodeURIComponent(SITE)}/page.atom?page=${encodeURIComponent(state.pageKey)}`;
  notify.closest(".eg-field").append(
    h("a", { class: "eg-hint eg-feed", href, type: "application/atom+xml", target: "_blank", rel: "noopener" }, t("followFeed")),
  );
});
