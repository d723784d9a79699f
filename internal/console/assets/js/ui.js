// Small DOM helpers. Data is only ever set as text, never parsed as HTML.

// h builds an element: h("a", {href: "#"}, "text", child, [more]).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (k === "checked" || k === "selected" || k === "disabled" || k === "hidden") el[k] = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

let uid = 0;
export const newId = (p) => `${p || "f"}-${++uid}`;

// field wraps a control with its label and an optional hint tied by aria-describedby.
export function field(label, control, hint) {
  if (!control.id) control.id = newId("in");
  const parts = [h("label", { for: control.id }, label), control];
  if (hint) {
    const hid = newId("hint");
    control.setAttribute("aria-describedby", hid);
    parts.push(h("span", { class: "hint", id: hid }, hint));
  }
  return h("div", { class: "field" }, parts);
}

export function checkbox(label, attrs) {
  const box = h("input", Object.assign({ type: "checkbox", id: newId("cb") }, attrs || {}));
  return { box, el: h("div", { class: "field check" }, box, h("label", { for: box.id }, label)) };
}

export function select(options, value, attrs) {
  const s = h("select", attrs || {});
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    s.appendChild(h("option", { value: v, selected: v === value }, text));
  }
  if (value && !options.some((o) => (Array.isArray(o) ? o[0] : o) === value)) {
    s.appendChild(h("option", { value, selected: true }, value + " (unknown)"));
  }
  return s;
}

// announce tells screen-reader users (and everyone) what just happened.
export let announcedAt = 0;

export function announce(msg) {
  announcedAt = Date.now();
  const s = document.getElementById("status");
  s.textContent = "";
  // A fresh text node makes assistive tech read a repeated message again.
  setTimeout(() => { s.textContent = msg; }, 30);
}

// errorBox renders an API error with its per-field problems.
export function errorBox(err) {
  const items = Object.entries((err && err.fields) || {}).map(([k, v]) => h("li", {}, h("code", {}, k), ": ", v));
  const box = h("div", { class: "error", role: "alert" },
    h("strong", {}, messageOf(err)), items.length ? h("ul", {}, items) : null,
    err && err.requestId ? h("div", { class: "hint" }, "Request id: ", err.requestId) : null);
  return box;
}

export function messageOf(err) {
  if (!err) return "Something went wrong.";
  if (err.status === 403) return "Your role may not do this. " + (err.message || "");
  if (err.status === 404 && err.code === "not_found") return "Not found: " + err.message;
  return err.message || String(err);
}

// showError replaces the content of slot with an error box and announces it.
export function showError(slot, err) {
  slot.replaceChildren(errorBox(err));
  announce("Error: " + messageOf(err));
}

export function actionBadge(action) {
  const a = action || "drop";
  return h("span", { class: "badge act-" + a }, a);
}

export function table(caption, headers, rows, attrs) {
  return h("div", { class: "table-wrap" }, h("table", attrs || {},
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows)));
}

export function fmtTime(s) {
  if (!s) return "";
  const d = new Date(s);
  if (isNaN(d) || d.getFullYear() < 1971) return "";
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function timeEl(s) {
  const t = fmtTime(s);
  return t ? h("time", { datetime: s }, t) : "—";
}

// busy disables a button while fn runs.
export async function busy(button, fn) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try { return await fn(); } finally { button.disabled = false; button.removeAttribute("aria-busy"); }
}

export function page(title, intro, ...children) {
  document.title = title + " · consentgate";
  return [h("h1", {}, title), intro ? h("p", { class: "lead" }, intro) : null, ...children];
}
