/* Sign-in from the publisher's site.
 *
 * The page gives a token its server signed (HS256 JWT): `data-sso-token` on the script tag, or
 * `Engagement.signIn(token)` / `Engagement.signOut()` from its own script. The token travels in
 * `X-Engagement-SSO` with every request (edit tokens keep `Authorization`); `GET /api/v1/me` says
 * whom it signs in. While signed in, comment forms have no name or e-mail fields (the token's
 * are used) and a line says who is signed in; otherwise that line offers "Sign in"
 * (`data-sso-login-url`, or the site's setting) when the site has a link for it.
 */

const HEADER = "X-Engagement-SSO";
const STRINGS = {
  signIn: "Sign in",
  signInToWrite: "Sign in to comment",
  signedInAs: "Signed in as {name}",
  verified: "Verified",
  verifiedTitle: "Signed in by the site",
};

let token = "";
let me = null; // what GET /api/v1/me answered for `token`
let loginUrl = "";
let required = false;
let env = null; // {site, api, t, h, refresh}, given by `setupSignIn`
let pending = null; // a token the page gave before the widget started

const text = (key, vars) => {
  const s = env?.t(key, vars);
  return s && s !== key ? s : STRINGS[key].replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
};

/** Only http(s) links: a `javascript:` URL in a data attribute must not become a link. */
const safeUrl = (value) => {
  try {
    const url = new URL(value, location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : "";
  } catch {
    return "";
  }
};

export const sso = {
  /** Adds the token's header to a request's headers. */
  addHeader(headers) {
    if (token) headers[HEADER] = token;
  },

  signedIn() {
    return Boolean(token && me?.signed_in);
  },

  /** After a 401 for the token itself (expired, revoked), forget it; true: send the request again as a guest. */
  dropOn(status, data) {
    if (status !== 401 || !token || data?.code !== "unauthenticated") return false;
    token = "";
    me = null;
    update();
    return true;
  },

  /** The site's settings: its "Sign in" link unless the page gave one, and whether guests may write. */
  useSite(site) {
    loginUrl = loginUrl || safeUrl(site?.sign_in?.login_url || "");
    required = Boolean(site?.sign_in?.required);
    update();
  },

  /**
   * An edit entry for a comment the signed-in reader wrote, while the site's window is open: the
   * server checks authorship by the token's subject, so no edit token is needed on this device.
   */
  entryFor(c, site) {
    if (!c || !this.signedIn() || !c.author?.verified || c.author.name !== me.name) return null;
    const expires = Date.parse(c.created_at) + (site?.edit_window_seconds ?? 900) * 1000;
    return expires > Date.now() ? { token: null, expires, body: "" } : null;
  },

  /** Marks a form's name and e-mail fields: hidden while signed in. */
  identity(el) {
    el.setAttribute("data-eg-identity", "");
    el.hidden = this.signedIn();
    return el;
  },

  /** The "Signed in as …" / "Sign in" line of a comment form, kept in step. */
  line() {
    const el = env.h("p", { class: "eg-hint eg-signin", "data-eg-signin": "" });
    render(el);
    return el;
  },

  /** The "Verified" mark of a comment whose author the site signed in. */
  mark(c) {
    if (!c.author?.verified) return null;
    return env.h("span", { class: "eg-badge eg-verified", title: text("verifiedTitle") }, `✓ ${text("verified")}`);
  },
};

function render(el) {
  el.replaceChildren();
  if (sso.signedIn()) {
    el.append(text("signedInAs", { name: me.name }));
  } else if (loginUrl) {
    el.append(env.h("a", { href: loginUrl, class: "eg-link" }, text(required ? "signInToWrite" : "signIn")));
  }
  el.hidden = !el.childNodes.length;
}

function update() {
  if (!env) return;
  const signedIn = sso.signedIn();
  for (const el of document.querySelectorAll("[data-eg-identity]")) {
    el.hidden = signedIn;
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
      me = (await env.api("GET", "/api/v1/me", { query: { site: env.site } })).data;
    } catch {
      token = ""; // a token the server refuses signs nobody in: the reader stays a guest
    }
  }
  update();
}

/** Sign a reader in with a token the page's server signed; the thread reloads as theirs. */
async function signIn(value) {
  if (!env) {
    pending = String(value || "");
    return false;
  }
  await use(String(value || ""));
  await env.refresh();
  return sso.signedIn();
}

async function signOut() {
  pending = null;
  if (!env) return;
  await use("");
  await env.refresh();
}

window.Engagement = Object.assign(window.Engagement || {}, { signIn, signOut });

/** Read the script tag's token and link; called once the widget's helpers exist, before the first read. */
export async function setupSignIn({ script, root, site, api, t, h, refresh }) {
  env = { site, api, t, h, refresh };
  loginUrl = safeUrl(script.dataset.ssoLoginUrl || root.dataset.ssoLoginUrl || "");
  const given = pending ?? script.dataset.ssoToken ?? root.dataset.ssoToken ?? "";
  pending = null;
  if (given) await use(given);
}
