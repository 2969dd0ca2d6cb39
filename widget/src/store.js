// Storage: the reader's id, edit tokens, the author's name (localStorage, never a cookie).

import { identity } from "./identity.js";

export const store = (() => {
  const memory = {};
  let ls = null;
  try {
    ls = window.localStorage;
    ls.setItem("engagement.probe", "1");
    ls.removeItem("engagement.probe");
  } catch {
    ls = null; // storage blocked: the session still works, it just forgets on reload
  }
  return {
    get(key) {
      try {
        return JSON.parse((ls ? ls.getItem(key) : memory[key]) ?? "null");
      } catch {
        return null;
      }
    },
    set(key, value) {
      const text = JSON.stringify(value);
      try {
        if (ls) return ls.setItem(key, text);
      } catch {
        /* quota: keep it in memory */
      }
      memory[key] = text;
    },
  };
})();

export const readerId = () => {
  let id = store.get("engagement.reader");
  if (typeof id !== "string" || !/^[0-9a-f]{32}$/.test(id)) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    store.set("engagement.reader", id);
  }
  return id;
};

export const TOKENS = "engagement.tokens";
export const tokens = {
  all() {
    const all = store.get(TOKENS) || {};
    const now = Date.now();
    for (const id of Object.keys(all)) if (!(all[id]?.expires > now)) delete all[id];
    return all;
  },
  get(id) {
    return this.all()[id] || identity.entryFor(id) || null;
  },
  put(id, entry) {
    const all = this.all();
    all[id] = entry;
    store.set(TOKENS, all);
  },
  drop(id) {
    const all = this.all();
    delete all[id];
    store.set(TOKENS, all);
  },
};
