// The skeleton: reactions, support call, form, heading, bell, tabs and panels, sections features add.

import { els, state, view } from "./state.js";
import { t } from "./strings.js";
import { ICON_HEART, h, nextId, svg } from "./dom.js";
import { commentForm } from "./forms.js";
import { sections } from "./hooks.js";
import { addTopLevel, focusComment, loadMore, loadThread, selectTab, tabKeys } from "./thread.js";
import { subscribePanel } from "./subscribe.js";

export function build() {
  const ids = { heading: nextId(), reactions: nextId() };
  els.live = h("div", { class: "eg-sr", "aria-live": "polite", role: "status" });
  els.toast = h("div", { class: "eg-toast", hidden: true, "aria-hidden": "true" });
  els.responses = h("p", { class: "eg-muted eg-responses" });
  els.reactionList = h("div", { class: "eg-reactions", role: "group", "aria-labelledby": ids.reactions });
  els.reactionStatus = h("p", { class: "eg-status", "aria-live": "polite" });
  els.support = h("aside", { class: "eg-support", hidden: true });
  els.heading = h("h2", { class: "eg-h2", id: ids.heading, tabindex: "-1" }, t("noComments"));
  const bell = subscribePanel();
  const mainForm = commentForm({ onPosted: (c) => { addTopLevel(c); focusComment(c.id); } });
  const { tablist, sort } = buildTabs(ids.heading);
  view.root.replaceChildren(
    h(
      "section",
      { class: "eg-root eg-widget", "aria-labelledby": ids.heading, "data-eg-theme": view.theme },
      h("div", { class: "eg-react" }, h("h2", { class: "eg-h2", id: ids.reactions }, t("reactionsHeading")), els.responses, els.reactionList, els.reactionStatus),
      els.support,
      h("h3", { class: "eg-h3" }, t("formHeading")),
      mainForm,
      h("div", { class: "eg-toolbar" }, els.heading, bell.toggle),
      bell.form,
      h("div", { class: "eg-tabsrow" }, tablist, sort),
      els.panelAll,
      els.panelInline,
      ...sections.map((render) => render()),
      els.live,
      els.toast,
    ),
  );
}

/** The two tabs (the thread, the inline feedback), their panels, and the sort choice. */
export function buildTabs(headingId) {
  const ids = { tabAll: nextId(), tabInline: nextId(), panelAll: nextId(), panelInline: nextId() };
  els.sort = h(
    "select",
    { id: nextId(), onchange: (ev) => { state.sort = ev.target.value; loadThread(); } },
    h("option", { value: "newest" }, t("sortNewest")),
    h("option", { value: "oldest" }, t("sortOldest")),
    h("option", { value: "top" }, t("sortTop")),
  );
  els.sort.value = state.sort;
  els.tabAllCount = h("span", { class: "eg-pill" }, "0");
  els.tabInlineCount = h("span", { class: "eg-pill", hidden: true });
  els.tabAll = h("button", { type: "button", role: "tab", id: ids.tabAll, "aria-controls": ids.panelAll, "aria-selected": "true", onclick: () => selectTab("all"), onkeydown: tabKeys }, t("tabAll"), " ", els.tabAllCount);
  els.tabInline = h("button", { type: "button", role: "tab", id: ids.tabInline, "aria-controls": ids.panelInline, "aria-selected": "false", tabindex: "-1", onclick: () => selectTab("inline"), onkeydown: tabKeys }, t("tabInline"), " ", els.tabInlineCount);
  els.threadStatus = h("p", { class: "eg-muted eg-loading" }, t("loading"));
  els.retry = h("button", { type: "button", class: "eg-btn", hidden: true, onclick: () => loadThread() }, t("retry"));
  els.thread = h("ol", { class: "eg-thread" });
  els.empty = h("p", { class: "eg-empty", hidden: true }, t("empty"));
  els.more = h(
    "div",
    { class: "eg-more", hidden: true },
    h("button", { type: "button", class: "eg-btn", onclick: () => loadMore(false) }, t("loadMore")),
    h("button", { type: "button", class: "eg-btn eg-ghost", onclick: () => loadMore(true) }, t("viewAll")),
  );
  els.panelAll = h("div", { role: "tabpanel", id: ids.panelAll, "aria-labelledby": ids.tabAll }, els.threadStatus, els.retry, els.thread, els.empty, els.more);
  els.inlineStatus = h("p", { class: "eg-muted", hidden: true });
  els.inlineEmpty = h("p", { class: "eg-empty", hidden: true }, t("inlineEmpty"));
  els.inlineList = h("ol", { class: "eg-inline-list" });
  els.panelInline = h("div", { role: "tabpanel", id: ids.panelInline, "aria-labelledby": ids.tabInline, hidden: true }, els.inlineStatus, els.inlineEmpty, els.inlineList);
  return {
    tablist: h("div", { role: "tablist", class: "eg-tabs", "aria-labelledby": headingId }, els.tabAll, els.tabInline),
    sort: h("div", { class: "eg-sort" }, h("label", { for: els.sort.id }, t("sortLabel")), els.sort),
  };
}

export function renderSupport() {
  const support = state.site?.support;
  if (!support?.text) return;
  // The publisher's own words as written; our default call in the widget's language.
  const words = support.custom === false ? t("supportCall", { site: state.site.name }) : support.text;
  const text = /^https?:\/\//i.test(support.url || "")
    ? h("a", { href: support.url, target: "_blank", rel: "noopener" }, words)
    : h("span", {}, words);
  els.support.replaceChildren(svg(ICON_HEART), text);
  els.support.hidden = false;
}
