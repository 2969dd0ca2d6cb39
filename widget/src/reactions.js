// Reactions: the bar over the thread, one reaction per reader, tallies.

import { SITE, els, state } from "./state.js";
import { t } from "./strings.js";
import { announce, h } from "./dom.js";
import { api, errorText } from "./api.js";
import { splitLabel } from "./format.js";

export function renderReactions() {
  const reactions = state.site?.reactions || [];
  const tallies = state.page.reactions || {};
  const total = Object.values(tallies).reduce((a, b) => a + (Number(b) || 0), 0);
  els.responses.textContent = t("responses", { n: total });
  els.reactionList.replaceChildren(
    ...reactions.map((r) => {
      const [emoji, label] = splitLabel(r.label);
      const mine = state.page.my_reaction === r.key;
      return h(
        "button",
        {
          type: "button",
          class: "eg-reaction",
          "aria-pressed": String(mine),
          "data-key": r.key,
          onclick: () => react(mine ? null : r.key),
        },
        emoji && h("span", { class: "eg-emoji", "aria-hidden": "true" }, emoji),
        h("span", { class: "eg-rlabel" }, label),
        h("span", { class: "eg-rcount" }, String(tallies[r.key] || 0)),
      );
    }),
  );
}

export async function react(key) {
  const buttons = els.reactionList.querySelectorAll("button");
  const focused = document.activeElement?.dataset?.key; // disabling the buttons drops focus
  buttons.forEach((b) => (b.disabled = true));
  try {
    const { data } = await api("PUT", "/api/v1/reactions", {
      body: { site: SITE, page: state.pageKey, page_title: state.pageTitle, reaction: key },
    });
    state.page.reactions = data.reactions || {};
    state.page.my_reaction = data.my_reaction ?? null;
    renderReactions();
    if (focused) els.reactionList.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  } catch (err) {
    buttons.forEach((b) => (b.disabled = false));
    if (focused) els.reactionList.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
    announce(errorText(err), true);
  }
}
