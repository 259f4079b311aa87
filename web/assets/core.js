// What every page shares: the deployment's /config.json, the API client, the signed-in session,
// and the page language (Chinese first, English on a switch). Plain ES modules, no build step.
import { t, currentLang, setLang, translatePage } from "./i18n.js";

let configPromise = null;

/** The deployment's settings: API origin, time zone, base map, identity (docs/web.md). */
export function loadConfig() {
  if (!configPromise) {
    configPromise = fetch("/config.json", { cache: "no-store" }).then((r) => {
      if (!r.ok) throw new Error(`/config.json: HTTP ${r.status}`);
      return r.json();
    });
  }
  return configPromise;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API: JSON in and out, the session's token when there is one, errors as ApiError. */
export async function api(path, { method = "GET", body, headers = {}, anonymous = false } = {}) {
  const config = await loadConfig();
  const session = anonymous ? null : currentSession();
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (session) sent.Authorization = `Bearer ${session.token}`;
  const response = await fetch(`${config.api_url || ""}${path}`, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && session) signOut();
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code, error.message);
  }
  return data;
}

// -- the session ------------------------------------------------------------------------------------
const SESSION_KEY = "rescue-nearby.session";

function claims(token) {
  const part = token.split(".")[1] || "";
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
}

/** The roles in a token: the configured claim, a dotted path for nested claims (realm_access.roles). */
export function rolesOf(tokenClaims, rolesClaim) {
  let value = tokenClaims[rolesClaim];
  if (value === undefined && rolesClaim.includes(".")) {
    value = rolesClaim.split(".").reduce((node, key) => (node == null ? undefined : node[key]), tokenClaims);
  }
  if (typeof value === "string") value = value.split(/[\s,]+/).filter(Boolean);
  return Array.isArray(value) ? value.map(String) : [];
}

export function currentSession() {
  const raw = sessionStorage.getItem(SESSION_KEY);
  if (!raw) return null;
  const session = JSON.parse(raw);
  if (session.expires_at * 1000 <= Date.now() + 30_000) {
    sessionStorage.removeItem(SESSION_KEY);
    return null;
  }
  return session;
}

async function keep(token) {
  const config = await loadConfig();
  const c = claims(token);
  const session = {
    token,
    sub: c.sub,
    roles: rolesOf(c, config.identity.roles_claim || "cognito:groups"),
    expires_at: c.exp,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export function signOut() {
  sessionStorage.removeItem(SESSION_KEY);
  document.dispatchEvent(new CustomEvent("session-changed"));
}

/** Local runtime only: a token from /dev/token for this name and these roles. */
export async function devSignIn(sub, roles) {
  const answer = await api("/dev/token", { method: "POST", body: { sub, roles }, anonymous: true });
  const session = await keep(answer.token);
  document.dispatchEvent(new CustomEvent("session-changed"));
  return session;
}

function randomText(bytes) {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...data)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The deployment's sign-in: OpenID Connect, authorization code with PKCE (Cognito or the cn issuer). */
export async function oidcSignIn() {
  const { identity } = await loadConfig();
  const verifier = randomText(48);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const challenge = btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const state = randomText(16);
  sessionStorage.setItem("rescue-nearby.pkce", JSON.stringify({ verifier, state }));
  const url = new URL(identity.authorize_url);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: identity.client_id,
    redirect_uri: location.origin + location.pathname,
    scope: identity.scopes || "openid",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

/** Back from the identity provider with ?code=…: trade it for tokens, once. */
export async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (!code) return null;
  const pending = JSON.parse(sessionStorage.getItem("rescue-nearby.pkce") || "null");
  sessionStorage.removeItem("rescue-nearby.pkce");
  history.replaceState(null, "", location.pathname);
  if (!pending || pending.state !== params.get("state")) throw new Error(t("signin.state_mismatch"));
  const { identity } = await loadConfig();
  const response = await fetch(identity.token_url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: identity.client_id,
      code,
      redirect_uri: location.origin + location.pathname,
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new Error(t("signin.failed"));
  const tokens = await response.json();
  // The API's authorizers read the ID token (Cognito's groups claim is in it).
  const session = await keep(tokens.id_token);
  document.dispatchEvent(new CustomEvent("session-changed"));
  return session;
}

// -- the page's frame: header, language switch, sign-in box ---------------------------------------
/**
 * Mounts the shared header. ``roles`` are the roles this page is for: the local sign-in offers them,
 * and the page learns whether the caller holds one (``allowed``).
 */
export async function frame({ title, roles = [], defaultRoles = roles.slice(0, 1), onSession }) {
  const config = await loadConfig();
  document.documentElement.lang = currentLang() === "zh" ? "zh-CN" : "en";
  const header = document.querySelector("header.top");
  header.innerHTML = `
    <a class="brand" href="/" data-i18n="brand"></a>
    <span class="page-title" data-i18n="${title}"></span>
    <nav>
      <a href="/map/" data-i18n="nav.map"></a>
      <a href="/console/" data-i18n="nav.console"></a>
      <a href="/cockpit/" data-i18n="nav.cockpit"></a>
    </nav>
    <span class="who" data-testid="who"></span>
    <button type="button" class="link" data-action="signin" data-i18n="signin.button"></button>
    <button type="button" class="link" data-action="signout" data-i18n="signin.signout" hidden></button>
    <button type="button" class="lang" data-action="lang" data-testid="lang"></button>`;
  if (config.folder_urls === false) pageLinksToIndex(document);
  const dialog = document.createElement("dialog");
  dialog.className = "signin";
  dialog.innerHTML = `
    <form method="dialog">
      <h2 data-i18n="signin.title"></h2>
      <p class="hint" data-i18n="signin.dev_hint"></p>
      <label><span data-i18n="signin.name"></span><input name="sub" required maxlength="64"></label>
      <fieldset><legend data-i18n="signin.roles"></legend>
        ${["dispatcher", "admin", "responder", "aed_manager", "trainer"]
          .map((r) => `<label class="inline"><input type="checkbox" name="role" value="${r}"> <span data-i18n="role.${r}"></span></label>`)
          .join("")}
      </fieldset>
      <p class="error" role="alert"></p>
      <menu><button value="cancel" formnovalidate data-i18n="common.cancel"></button>
      <button value="ok" class="primary" data-testid="signin-submit" data-i18n="signin.submit"></button></menu>
    </form>`;
  document.body.append(dialog);
  const form = dialog.querySelector("form");
  for (const box of form.querySelectorAll("input[name=role]")) box.checked = defaultRoles.includes(box.value);
  form.sub.value = `${(defaultRoles[0] || "user").replace("_", "-")}-${Math.floor(Math.random() * 900 + 100)}`;
  form.addEventListener("submit", async (event) => {
    if (event.submitter?.value !== "ok") return;
    event.preventDefault();
    const chosen = [...form.querySelectorAll("input[name=role]:checked")].map((b) => b.value);
    try {
      await devSignIn(form.sub.value.trim(), chosen);
      dialog.close();
    } catch (error) {
      form.querySelector(".error").textContent = error.message;
    }
  });
  header.querySelector("[data-action=signin]").addEventListener("click", () => signIn());
  header.querySelector("[data-action=signout]").addEventListener("click", () => signOut());
  header.querySelector("[data-action=lang]").addEventListener("click", () => {
    setLang(currentLang() === "zh" ? "en" : "zh");
    document.documentElement.lang = currentLang() === "zh" ? "zh-CN" : "en";
    render();
    document.dispatchEvent(new CustomEvent("lang-changed"));
  });

  function signIn() {
    if (config.identity.kind === "dev") dialog.showModal();
    else oidcSignIn();
  }

  function render() {
    const session = currentSession();
    header.querySelector("[data-action=lang]").textContent = currentLang() === "zh" ? "English" : "中文";
    header.querySelector("[data-action=signin]").hidden = Boolean(session);
    header.querySelector("[data-action=signout]").hidden = !session;
    header.querySelector(".who").textContent = session
      ? `${session.sub} · ${session.roles.map((r) => t(`role.${r}`)).join(", ") || t("role.public")}`
      : "";
    translatePage(document);
    const allowed = Boolean(session) && (roles.length === 0 || session.roles.some((r) => roles.includes(r)));
    onSession?.({ session, allowed, signIn });
  }

  document.addEventListener("session-changed", render);
  try {
    await completeSignIn();
  } catch (error) {
    showError(error.message);
  }
  render();
  return { config, signIn };
}

/** Where folder URLs are not served (the China regions' CloudFront has no functions to rewrite them),
 * links to /map/ become /map/index.html. */
export function pageLinksToIndex(root) {
  for (const link of root.querySelectorAll("a[href]")) {
    const href = link.getAttribute("href");
    if (/^\/(map|console|cockpit)\/$/.test(href)) link.setAttribute("href", `${href}index.html`);
  }
}

/** A message bar at the top of the page (errors the person should see, in their language). */
export function showError(message) {
  let bar = document.querySelector(".message-bar");
  if (!bar) {
    bar = document.createElement("div");
    bar.className = "message-bar";
    bar.setAttribute("role", "alert");
    document.body.prepend(bar);
  }
  bar.textContent = message;
  bar.hidden = !message;
}

export function explain(error) {
  if (error instanceof ApiError) {
    const known = t(`error.${error.code}`, {}, "");
    return known || `${t("error.generic")} (${error.status}${error.code ? ` ${error.code}` : ""}): ${error.message}`;
  }
  return `${t("error.network")}: ${error.message}`;
}

/** Escapes text for HTML built with template strings. */
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** A time as the deployment's people read it (its time zone, the page's language). */
export function localTime(iso, timeZone, withDate = false) {
  if (!iso) return "";
  const options = { timeZone, hour: "2-digit", minute: "2-digit", second: withDate ? undefined : "2-digit", hour12: false };
  if (withDate) Object.assign(options, { month: "2-digit", day: "2-digit", weekday: "short" });
  return new Intl.DateTimeFormat(currentLang() === "zh" ? "zh-CN" : "en-GB", options).format(new Date(iso));
}

export { t, currentLang };
