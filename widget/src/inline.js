// Inline feedback: the tab of anchored comments, the passages' badges, the comment box under a passage.

import { SITE, UI, els, state, view } from "./state.js";
import { t } from "./strings.js";
import { ICON_BUBBLE, h, reduceMotion, svg } from "./dom.js";
import { api, errorText } from "./api.js";
import { quoteOf } from "./format.js";
import { commentForm } from "./forms.js";
import { renderComment } from "./comments.js";
import { addTopLevel, selectTab } from "./thread.js";

/* ---------- inline feedback: the tab ---------- */

export async function loadInline() {
  els.inlineStatus.hidden = false;
  els.inlineStatus.textContent = t("loading");
  try {
    const found = [];
    let cursor = null;
    do {
      // passage "*" asks for every anchored comment (anchors sit on top-level comments only)
      const { data } = await api("GET", "/api/v1/comments", {
        query: { site: SITE, page: state.pageKey, sort: "oldest", passage: "*", limit: 100, cursor },
      });
      found.push(...(data.comments || []).filter((c) => c.anchor));
      cursor = data.next_cursor;
    } while (cursor);
    state.inline = found;
    els.inlineStatus.hidden = true;
    renderInlineTab();
  } catch (err) {
    els.inlineStatus.textContent = `${t("loadFailed")} ${errorText(err)}`;
  }
}

export function renderInlineTab() {
  if (state.inline === null) return;
  els.tabInlineCount.textContent = String(state.inline.length);
  els.tabInlineCount.hidden = false;
  els.inlineEmpty.hidden = state.inline.length > 0;
  els.inlineList.replaceChildren(...state.inline.map((c) => renderComment(c, 0, { withIds: false })));
}

export function addInline(c) {
  if (state.inline && !state.inline.some((x) => x.id === c.id)) {
    state.inline.push(c);
    renderInlineTab();
  }
  if (c.anchor?.passage) bumpPassage(c.anchor.passage, 1);
}

/* ---------- inline feedback: passages in the article ---------- */
/** The badges' numbers: published comments per marked passage, replies included. */
export async function loadPassageCounts() {
  if (!document.querySelector("[data-engagement-passage]")) return;
  try {
    const { data } = await api("GET", "/api/v1/passages", { query: { site: SITE, page: state.pageKey } });
    state.passages = data.passages || {};
    renderBadges();
  } catch {
    /* the badges stay, without numbers */
  }
}

export function bumpPassage(id, by) {
  state.passages[id] = Math.max(0, (state.passages[id] || 0) + by);
  renderBadges();
}

export function renderBadges() {
  for (const passage of document.querySelectorAll("[data-engagement-passage]")) {
    const id = passage.dataset.engagementPassage;
    let badge = passage.querySelector(`:scope > .eg-badge`);
    if (!badge) {
      badge = h("button", { type: "button", class: `${UI} eg-root eg-badge`, "aria-expanded": "false", "data-eg-theme": view.theme, onclick: () => togglePassage(passage, badge) });
      passage.append(badge);
    }
    const n = state.passages[id] || 0;
    badge.classList.toggle("eg-badge-empty", n === 0);
    badge.setAttribute("aria-label", n ? t("passageBadge", { n }) : t("commentOnPassage"));
    badge.replaceChildren(svg(ICON_BUBBLE), h("span", {}, n ? String(n) : "+"));
  }
}

let openBox = null;

export function closeBox(restoreFocus) {
  if (!openBox) return;
  const { box, opener } = openBox;
  openBox = null;
  box.remove();
  opener?.setAttribute?.("aria-expanded", "false");
  if (restoreFocus && opener?.isConnected) opener.focus();
}

export function togglePassage(passage, badge) {
  if (openBox?.opener === badge) return closeBox(true);
  const id = passage.dataset.engagementPassage;
  openPassageBox(passage, { passage: id }, badge);
}

/** The comment box under a passage: what others said of it, and a form that anchors to it. */
export function openPassageBox(after, anchor, opener) {
  closeBox(false);
  const list = h("ol", { class: "eg-box-list" });
  const quote = quoteOf(anchor);
  const box = h(
    "div",
    { class: `${UI} eg-root eg-box`, role: "region", "aria-label": t("passageBox"), "data-eg-theme": view.theme },
    h(
      "div",
      { class: "eg-box-head" },
      h("strong", {}, t("passageBox")),
      h("button", { type: "button", class: "eg-close", "aria-label": t("close"), onclick: () => closeBox(true) }, "×"),
    ),
    quote && h("blockquote", { class: "eg-quote" }, quote.exact),
    list,
  );
  const form = commentForm({
    anchor,
    label: t("commentOnPassage"),
    placeholder: t("passagePlaceholder"),
    onCancel: () => closeBox(true),
    onPosted: (c) => {
      list.append(renderComment(c, 0, { withIds: false }));
      addTopLevel(c);
    },
  });
  box.append(
    form,
    h("button", { type: "button", class: "eg-link eg-viewall", onclick: () => viewAll() }, t("viewAll")),
  );
  box.addEventListener("keydown", (ev) => ev.key === "Escape" && closeBox(true));
  after.after(box);
  opener?.setAttribute?.("aria-expanded", "true");
  openBox = { box, opener };
  form.focusFirst();
  if (anchor.passage && !quote) fillPassageList(list, anchor.passage);
}

export async function fillPassageList(list, passage) {
  try {
    const { data } = await api("GET", "/api/v1/comments", {
      query: { site: SITE, page: state.pageKey, passage, sort: "oldest", limit: 50 },
    });
    list.replaceChildren(...(data.comments || []).map((c) => renderComment(c, 0, { withIds: false })));
  } catch (err) {
    list.replaceChildren(h("li", { class: "eg-muted" }, errorText(err)));
  }
}

export function viewAll() {
  closeBox(false);
  selectTab("all");
  view.root.scrollIntoView({ block: "start", behavior: reduceMotion() ? "auto" : "smooth" });
  els.heading.focus({ preventScroll: true });
}
