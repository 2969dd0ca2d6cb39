// Sign-in from the publisher's site.
//
// The page gives a token its server signed (HS256 JWT): `data-sso-token` on the script tag, or
// `Engagement.signIn(token)` / `Engagement.signOut()` from its own script. The token travels in
// `X-Engagement-SSO` with every request (edit tokens keep `Authorization`); `GET /api/v1/me` says
// whom it signs in. While signed in, comment forms have no name or e-mail fields (the token's
// are used) and a line says who is signed in; otherwise that line offers "Sign in"
// (`data-sso-login-url`, or the site's setting) when there is a link for it.

import { SITE, state } from "../state.js";
import { defineStrings, t } from "../strings.js";
import { h } from "../dom.js";
import { addHeaders, api } from "../api.js";
import { identity } from "../identity.js";
import { onReady, onStart } from "../hooks.js";
import { loadThread } from "../thread.js";

defineStrings({
  signIn: "Sign in",
  signInToWrite: "Sign in to comment",
  signedInAs: "Signed in as {name}",
  verified: "Verified",
  verifiedTitle: "Signed in by the site",
});

const HEADER = "X-Engagement-SSO";
let token = "";
let me = null; // what GET /api/v1/me answered for `token`
let pageLogin = ""; // the page's `data-sso-login-url`
let started = false;
let pending = null; // a token the page gave before the widget started

/** Only http(s) links: a `javascript:` URL in an attribute or a setting must not become a link. */
const safeUrl = (value) => {
  try {
    const url = new URL(value, location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : "";
  } catch {
    return "";
  }
};

const signedIn = () => Boolean(token && me?.signed_in);
const loginUrl = () => pageLogin || safeUrl(state.site?.sign_in?.login_url || "");

addHeaders(() => (token ? { [HEADER]: token } : {}));

Object.assign(identity, {
  signedIn,

  field(el) {
    el.setAttribute("data-eg-identity", "");
    el.hidden = signedIn();
    return el;
  },

  line() {
    const el = h("p", { class: "eg-hint eg-signin", "data-eg-signin": "" });
    render(el);
    return el;
  },

  mark(c) {
    if (!c.author?.verified) return null;
    return h("span", { class: "eg-badge eg-verified", title: t("verifiedTitle") }, `✓ ${t("verified")}`);
  },

  // The server checks authorship by the token's subject and lists the page's comments still
  // open to it (`editable`): on this device no edit token is needed.
  entryFor(id) {
    const c = state.index.get(Number(id))?.c;
    if (!c || !signedIn() || !(me.editable || []).includes(c.id)) return null;
    const expires = Date.parse(c.created_at) + (state.site?.edit_window_seconds ?? 900) * 1000;
    return expires > Date.now() ? { token: null, expires, body: "" } : null;
  },

  // A token the server no longer takes (expired, say) signs nobody in: go on as a guest.
  retry(status, data) {
    if (status !== 401 || !token || data?.code !== "unauthenticated") return false;
    token = "";
    me = null;
    update();
    return true;
  },
});

function render(el) {
  el.replaceChildren();
  const link = loginUrl();
  if (signedIn()) el.append(t("signedInAs", { name: me.name }));
  else if (link) el.append(h("a", { href: link, class: "eg-link" }, t(state.site?.sign_in?.required ? "signInToWrite" : "signIn")));
  el.hidden = !el.childNodes.length;
}

function update() {
  for (const el of document.querySelectorAll("[data-eg-identity]")) {
    el.hidden = signedIn();
    // "Notify of" needs an address: the form's own check runs again, now knowing who is signed in.
    el.querySelector("input[type=email]")?.dispatchEvent(new Event("input"));
  }
  for (const el of document.querySelectorAll("[data-eg-signin]")) render(el);
}

async function use(value) {
  token = typeof value === "string" ? value.trim() : "";
  me = null;
  if (token) {
    try {
      me = (await api("GET", "/api/v1/me", { query: { site: SITE, page: state.pageKey } })).data;
    } catch {
      token = ""; // refused: the reader stays a guest
    }
  }
  update();
}

/** Signs the reader in with a token the page's server signed; the thread reloads as theirs. */
async function signIn(value) {
  if (!started) {
    pending = String(value || "");
    return false;
  }
  await use(String(value || ""));
  await loadThread();
  return signedIn();
}

async function signOut() {
  pending = null;
  if (!started) return;
  await use("");
  await loadThread();
}

window.Engagement = Object.assign(window.Engagement || {}, { signIn, signOut });

onStart(async ({ script, root }) => {
  pageLogin = safeUrl(script.dataset.ssoLoginUrl || root.dataset.ssoLoginUrl || "");
  const given = pending ?? script.dataset.ssoToken ?? root.dataset.ssoToken ?? "";
  pending = null;
  if (given) await use(given);
  started = true;
});

onReady(() => update()); // the site's own "Sign in" link is known now
