// Entry point: sign-in, navigation by URL hash, one view at a time.
import { get, token, ApiError } from "./api.js";
import { h, field, announce, errorBox, announcedAt } from "./ui.js";
import { connectorList, connectorEditor } from "./connectors.js";
import { dryRunView } from "./dryrun.js";
import { deadLettersView } from "./deadletters.js";
import { decisionsView } from "./decisions.js";
import { consentView } from "./consent.js";

const main = document.getElementById("main");
export const session = { who: null };

const views = [
  { re: /^\/connectors\/?$/, roles: "admin marketer auditor", view: () => connectorList(session) },
  { re: /^\/connectors\/new$/, roles: "admin marketer", view: () => connectorEditor(session, null) },
  { re: /^\/connectors\/([^/]+)$/, roles: "admin marketer auditor", view: (m) => connectorEditor(session, decodeURIComponent(m[1])) },
  { re: /^\/dry-run(?:\/([^/]+))?$/, roles: "admin marketer", view: (m) => dryRunView(session, m[1] ? decodeURIComponent(m[1]) : "") },
  { re: /^\/dead-letters$/, roles: "admin marketer auditor", view: () => deadLettersView(session) },
  { re: /^\/decisions$/, roles: "admin marketer privacy auditor", view: () => decisionsView(session) },
  { re: /^\/consent$/, roles: "admin privacy", view: () => consentView(session) },
];

function home(role) {
  return role === "privacy" ? "#/consent" : role === "auditor" ? "#/decisions" : "#/connectors";
}

async function whoami() {
  try {
    session.who = await get("/whoami");
    return null;
  } catch (err) {
    session.who = null;
    return err;
  }
}

function signInView(err) {
  document.title = "Sign in · consentgate";
  const input = h("input", { type: "password", name: "token", autocomplete: "current-password", required: true, spellcheck: "false" });
  const slot = h("div", {});
  if (err) slot.appendChild(errorBox(err));
  const form = h("form", { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", {}, "Paste the API token you were given. It stays in this browser tab only and is forgotten when you close it."),
    field("API token", input, "consentgate dev prints an admin token; an admin can create one for you with consentgate tokens create."),
    slot,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Sign in")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    token.set(input.value.trim());
    const e = await whoami();
    if (e) {
      token.clear();
      slot.replaceChildren(errorBox(explainSignIn(e)));
      announce("Sign-in failed");
      input.focus();
      return;
    }
    announce(`Signed in as ${session.who.name} (${session.who.role})`);
    location.hash = home(session.who.role);
    render();
  });
  main.replaceChildren(form);
  input.focus();
}

function explainSignIn(e) {
  if (e instanceof ApiError && e.status === 401) return { message: "That token is unknown or revoked." };
  if (e instanceof ApiError && e.status === 404) return { message: "The admin API is off on this gateway: set admin_token in its configuration and restart it." };
  return e;
}

function chrome() {
  const who = session.who;
  const nav = document.getElementById("nav");
  const box = document.getElementById("who");
  nav.hidden = !who;
  box.hidden = !who;
  if (!who) return;
  document.getElementById("who-name").textContent = who.name;
  document.getElementById("who-role").textContent = who.role;
  for (const li of nav.querySelectorAll("li")) li.hidden = !li.dataset.roles.split(" ").includes(who.role);
  const path = location.hash.slice(1);
  for (const a of nav.querySelectorAll("a")) {
    const here = path === a.getAttribute("href").slice(1) || path.startsWith(a.getAttribute("href").slice(1) + "/");
    if (here) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
}

let rendering = 0;
async function render() {
  const n = ++rendering;
  if (!token.get()) {
    session.who = null;
    chrome();
    return signInView();
  }
  if (!session.who) {
    const e = await whoami();
    if (e) {
      token.clear();
      chrome();
      return signInView(explainSignIn(e));
    }
  }
  const path = location.hash.replace(/^#/, "").split("?")[0];
  const route = views.find((v) => v.re.test(path));
  if (!route || !route.roles.split(" ").includes(session.who.role)) {
    location.replace(home(session.who.role));
    return;
  }
  chrome();
  // A message from the previous view (e.g. "created", just before moving
  // to the new connector) stays; older ones would describe another page.
  if (Date.now() - announcedAt > 2000) document.getElementById("status").textContent = "";
  main.replaceChildren(h("p", { class: "empty" }, "Loading…"));
  let nodes;
  try {
    nodes = await route.view(path.match(route.re));
  } catch (err) {
    nodes = [h("h1", {}, "Something went wrong"), errorBox(err)];
  }
  if (n !== rendering) return; // a newer navigation won
  main.replaceChildren(...[].concat(nodes).filter(Boolean));
  main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", render);
window.addEventListener("cg:unauthenticated", () => {
  if (session.who) { session.who = null; token.clear(); render(); }
});
document.getElementById("sign-out").addEventListener("click", () => {
  token.clear();
  session.who = null;
  location.hash = "";
  announce("Signed out");
  render();
});
render();
