// Dry run: what would happen to a sample payload, field by field, and why.
import { get, post, enc } from "./api.js";
import { h, field, checkbox, select, announce, errorBox, showError, table, busy, page, actionBadge } from "./ui.js";
import { samples } from "./samples.js";

export async function dryRunView(s, id) {
  let list;
  try {
    list = (await get("/connectors")).connectors || [];
  } catch (err) {
    return page("Dry run", null, errorBox(err));
  }
  if (!list.length) return page("Dry run", null, h("p", {}, "No connectors yet. ", h("a", { href: "#/connectors/new" }, "Create one"), " first."));
  const current = list.find((c) => c.id === id) || list[0];
  const conn = select(list.map((c) => [c.id, `${c.name || c.id} (${c.platform})`]), current.id, { id: "dry-connector" });
  const payload = h("textarea", { id: "dry-payload", spellcheck: "false", rows: 16 });
  const sampleBox = h("div", { class: "row" });
  const ledger = checkbox("Also use the consent already recorded for this person (read-only)");
  const gpc = checkbox("Browser sent a do-not-sell signal (Sec-GPC: 1)");
  const headers = h("textarea", { spellcheck: "false", rows: 3, class: "short" });
  const slot = h("div", {});
  const results = h("div", { id: "dry-results", "aria-live": "polite" });

  const platformOf = () => (list.find((c) => c.id === conn.value) || {}).platform;
  const showSamples = () => {
    const ss = samples[platformOf()] || [];
    sampleBox.replaceChildren(...ss.map((x) => h("button", { type: "button", class: "secondary small", onclick: () => {
      payload.value = JSON.stringify(x.payload, null, 2);
      announce(`Sample “${x.name}” loaded`);
    } }, "Load sample: ", x.name)));
    if (!payload.value && ss.length) payload.value = JSON.stringify(ss[0].payload, null, 2);
  };
  conn.addEventListener("change", () => { payload.value = ""; showSamples(); history.replaceState(null, "", `#/dry-run/${enc(conn.value)}`); });
  showSamples();

  const form = h("form", { class: "card", "aria-label": "Dry run" },
    field("Connector", conn),
    h("div", { class: "field" }, h("label", { for: payload.id }, "Sample payload (JSON, as the platform sends it)"),
      h("span", { class: "hint", id: "dry-payload-hint" }, "Nothing is forwarded or stored: this only shows what would happen."),
      sampleBox, payload),
    ledger.el, gpc.el,
    h("details", {}, h("summary", {}, "Request headers"),
      field("Headers, one per line (Name: value)", headers, "Only when the platform puts something the payload needs in a header, e.g. webhook-id.")),
    slot,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Run dry run")));
  payload.setAttribute("aria-describedby", "dry-payload-hint");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    slot.replaceChildren();
    const body = { use_ledger: ledger.box.checked };
    try { body.payload = JSON.parse(payload.value); } catch { body.payload_text = payload.value; }
    const hs = {};
    for (const line of headers.value.split("\n")) {
      const i = line.indexOf(":");
      if (i > 0) hs[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    if (gpc.box.checked) hs["Sec-GPC"] = "1";
    if (Object.keys(hs).length) body.headers = hs;
    await busy(form.querySelector("button[type=submit]"), async () => {
      try {
        const ex = await post(`/connectors/${enc(conn.value)}/dry-run`, body);
        results.replaceChildren(...explanation(ex));
        announce(summary(ex));
      } catch (err) {
        results.replaceChildren();
        showError(slot, err);
      }
    });
  });
  return page("Dry run", "Paste or load a sample delivery and see, field by field, what consentgate would forward, hash, mask or remove — and the rule and consent behind each decision.",
    form, results, legend());
}

function legend() {
  return h("section", { "aria-labelledby": "legend-title" }, h("h2", { id: "legend-title", class: "sr-only" }, "Colour legend"),
    h("ul", { class: "legend-list" },
      h("li", {}, actionBadge("keep"), " forwarded as is"),
      h("li", {}, actionBadge("hash"), " / ", actionBadge("mask"), " forwarded disguised"),
      h("li", {}, actionBadge("redact"), " / ", actionBadge("drop"), " not forwarded")));
}

function summary(ex) {
  const recs = ex.records || [];
  if (!recs.length) return ex.fetch_jobs ? `No record yet: ${ex.fetch_jobs} lead(s) would be fetched from the platform.` : "The payload holds no record.";
  const n = recs.reduce((a, r) => { a[r.outcome] = (a[r.outcome] || 0) + 1; return a; }, {});
  return "Dry run done: " + Object.entries(n).map(([k, v]) => `${v} ${k}`).join(", ");
}

function explanation(ex) {
  const out = [h("h2", {}, "Result"), h("p", {}, summary(ex), ex.policy_version ? ` (policy ${ex.policy_version})` : "")];
  if (ex.fetch_jobs) out.push(h("p", { class: "notice" }, `This delivery only announces ${ex.fetch_jobs} lead(s): the connector understood it, and consentgate would now fetch the answers from the platform. To check what happens to the answers, send a test lead from the platform (Meta: the Lead Ads Testing Tool) and find it under Decisions.`));
  if (ex.ignored) out.push(h("p", { class: "hint" }, `${ex.ignored} event(s) in the payload are of a kind consentgate ignores.`));
  for (const r of ex.records || []) out.push(record(r));
  return out;
}

function record(r) {
  const fields = (r.fields || []).map((f) => h("tr", { class: "act-row-" + f.action },
    h("td", {}, h("code", {}, f.platform_field)),
    h("td", {}, f.canonical || "—"),
    h("td", {}, f.category || "—"),
    h("td", {}, actionBadge(f.action)),
    h("td", {}, h("code", {}, f.rule)),
    h("td", {}, (f.purposes || []).join(", ") || "—")));
  const purposes = Object.entries(r.purposes || {}).sort().map(([name, p]) => h("tr", {},
    h("td", {}, name), h("td", {}, p.status || ""), h("td", {}, h("code", {}, p.rule || "")),
    h("td", {}, (r.payload_consent && r.payload_consent[name]) || "—")));
  const dropped = r.outcome === "dropped" || !!r.drop_rule;
  return h("section", { class: "card record", "aria-label": `Record ${r.event_id}` },
    h("h3", {}, "Record ", h("code", {}, r.event_id || "(no id)"), " — ",
      h("span", { class: "badge " + (dropped ? "act-drop" : r.outcome === "test" ? "act-mask" : "act-keep") }, r.outcome || "")),
    h("dl", { class: "kv" },
      h("dt", {}, "Type"), h("dd", {}, `${r.type || ""} (${r.kind || ""})`),
      h("dt", {}, "Jurisdiction"), h("dd", {}, `${r.jurisdiction || "?"} — ${r.regime === "opt_out" ? "opt-out (allowed unless refused)" : "opt-in (needs a grant)"}`),
      r.drop_rule ? [h("dt", {}, "Dropped by"), h("dd", {}, h("code", {}, r.drop_rule))] : null,
      r.topic ? [h("dt", {}, "Would go to"), h("dd", {}, h("code", {}, r.topic))] : null,
      r.gpc ? [h("dt", {}, "Do-not-sell"), h("dd", {}, "yes")] : null),
    table("Decision per field", ["Platform field", "Canonical", "Category", "Decision", "Rule", "Consented purposes"], fields, { class: "fields" }),
    purposes.length ? table("Consent per purpose", ["Purpose", "Status", "Rule", "In this payload"], purposes) : null,
    r.output ? h("details", {}, h("summary", {}, "What would be forwarded"), h("pre", {}, JSON.stringify(r.output, null, 2))) : null);
}
