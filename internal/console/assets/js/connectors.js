// Connectors: the list, and the editor with its mapping and consent tables.
import { get, post, put, del, enc } from "./api.js";
import { h, field, checkbox, select, announce, errorBox, showError, table, timeEl, busy, page, newId } from "./ui.js";
import { loadPolicy, loadPlatforms, categoryHint } from "./policy.js";

const canEdit = (s) => s.who.role === "admin" || s.who.role === "marketer";

export async function connectorList(s) {
  let list;
  try {
    list = (await get("/connectors")).connectors || [];
  } catch (err) {
    return page("Connectors", null, errorBox(err));
  }
  const slot = h("div", {});
  const rows = list.map((c) => {
    const toggle = canEdit(s) ? h("button", {
      type: "button", class: "secondary small",
      "aria-label": `${c.enabled ? "Disable" : "Enable"} ${c.name || c.id}`,
      onclick: async (ev) => {
        await busy(ev.currentTarget, async () => {
          try {
            await post(`/connectors/${enc(c.id)}/${c.enabled ? "disable" : "enable"}`);
            announce(`${c.name || c.id} ${c.enabled ? "disabled" : "enabled"}`);
            window.dispatchEvent(new HashChangeEvent("hashchange"));
          } catch (err) { showError(slot, err); }
        });
      },
    }, c.enabled ? "Disable" : "Enable") : null;
    return h("tr", {},
      h("td", {}, h("a", { href: `#/connectors/${enc(c.id)}` }, c.name || c.id)),
      h("td", {}, h("code", {}, c.id)),
      h("td", {}, c.platform),
      h("td", {}, c.enabled ? h("span", { class: "ok" }, "Enabled") : h("span", { class: "bad" }, "Disabled")),
      h("td", {}, c.source === "file" ? "file (read-only here)" : c.source || ""),
      h("td", {}, timeEl(c.updated_at)),
      h("td", {}, h("div", { class: "row" }, toggle,
        canEdit(s) ? h("a", { class: "button secondary small", href: `#/dry-run/${enc(c.id)}` }, "Dry run", h("span", { class: "sr-only" }, " " + (c.name || c.id))) : null)));
  });
  return page("Connectors",
    "Each connector is one inbound integration: a platform account or a web form that sends webhooks to consentgate.",
    canEdit(s) ? h("p", {}, h("a", { class: "button", href: "#/connectors/new" }, "New connector")) : null,
    slot,
    list.length ? table("Connectors", ["Name", "Id", "Platform", "State", "Source", "Updated", "Actions"], rows)
      : h("p", { class: "empty" }, "No connectors yet."));
}

// connectorEditor edits one connector (id) or creates one (id null).
export async function connectorEditor(s, id) {
  let pol, platforms, conn = null;
  try {
    [pol, platforms, conn] = await Promise.all([loadPolicy(), loadPlatforms(), id ? get(`/connectors/${enc(id)}`) : null]);
  } catch (err) {
    return page(id ? "Connector" : "New connector", null, errorBox(err), h("p", {}, h("a", { href: "#/connectors" }, "Back to connectors")));
  }
  return new Editor(s, pol, platforms, conn).render();
}

class Editor {
  constructor(s, pol, platforms, conn) {
    this.s = s; this.pol = pol; this.platforms = platforms; this.conn = conn;
    this.readOnly = !canEdit(s);
    this.slot = h("div", {});
  }

  render() {
    const c = this.conn || { platform: "meta", enabled: true, default_jurisdiction: "EU", mapping: { fields: {} }, consent: { checkboxes: [] }, settings: {} };
    const title = this.conn ? `Connector: ${c.name || c.id}` : "New connector";

    this.id = h("input", { type: "text", value: c.id || "", required: true, pattern: "[a-z0-9_-]+", autocomplete: "off", readonly: !!this.conn, spellcheck: "false" });
    this.platform = select(this.platforms.map((p) => p.name), c.platform, { disabled: !!this.conn, required: true });
    this.name = h("input", { type: "text", value: c.name || "", autocomplete: "off" });
    this.jurisdiction = h("input", { type: "text", value: c.default_jurisdiction || "", autocomplete: "off", spellcheck: "false" });
    const en = checkbox("Enabled (the webhook URL accepts deliveries)", { checked: c.enabled !== false });
    this.enabled = en.box;
    this.secretsBox = h("div", {});
    this.platform.addEventListener("change", () => this.renderSecrets());

    const basics = h("fieldset", {}, h("legend", {}, "Basics"), h("div", { class: "grid" },
      field("Connector id", this.id, this.conn ? "Part of the webhook URL; it cannot change." : "Lower-case letters, digits, - and _. Becomes part of the webhook URL."),
      field("Platform", this.platform),
      field("Display name", this.name, "For people, e.g. “Brand A Facebook lead ads”."),
      field("Default jurisdiction", this.jurisdiction, "Where people are when a lead has no country: DE, US-CA, EU, …")),
      en.el);

    const secrets = h("fieldset", {}, h("legend", {}, "Secrets"),
      h("p", { class: "hint" }, "Secrets are stored encrypted and never shown again. Leave a box empty to keep the current value."),
      this.secretsBox);

    const form = h("form", { class: "editor", novalidate: true, "aria-label": title },
      basics, secrets, this.mappingSection(c), this.consentSection(c), this.advancedSection(c),
      this.slot,
      this.readOnly ? null : h("div", { class: "actions" },
        h("button", { type: "submit" }, this.conn ? "Save changes" : "Create connector"),
        this.conn ? h("a", { class: "button secondary", href: `#/dry-run/${enc(c.id)}` }, "Dry run") : null,
        this.conn && c.source !== "file" ? h("button", { type: "button", class: "danger", onclick: (ev) => this.remove(ev.currentTarget) }, "Delete connector") : null));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); this.save(form.querySelector("button[type=submit]")); });
    this.renderSecrets();
    if (this.readOnly) for (const el of form.querySelectorAll("input, select, textarea, button")) el.disabled = true;

    return page(title,
      this.conn ? null : "Choose the platform, name the connector, paste its secrets, then say which fields and checkboxes mean what.",
      h("p", {}, h("a", { href: "#/connectors" }, "← All connectors")),
      this.conn ? this.connectSection(c) : null,
      c.source === "file" ? h("p", { class: "notice" }, "This connector comes from a file on the server; saving here stores an API copy that replaces it.") : null,
      form);
  }

  renderSecrets() {
    const p = this.platforms.find((x) => x.name === this.platform.value) || { secrets: [] };
    const cur = (this.conn && this.conn.secrets) || {};
    this.secretInputs = {};
    const rows = p.secrets.map((name) => {
      const input = h("input", { type: "password", autocomplete: "new-password", spellcheck: "false", dataset: { secret: name } });
      this.secretInputs[name] = input;
      const st = cur[name];
      const state = st && st.set ? `Set (${st.source || "stored"}).` : "Not set.";
      return field(name, input, `${state} ${secretHint(p.name, name)}`);
    });
    this.secretsBox.replaceChildren(rows.length ? h("div", { class: "grid" }, rows) : h("p", { class: "empty" }, "This platform needs no secrets."));
  }

  mappingSection(c) {
    const explicit = (c.mapping && c.mapping.fields) || {};
    const canon = [["", "— not forwarded —"], ...Object.keys(this.pol.fields).sort().map((f) => [f, f])];
    this.mapBody = h("tbody", {});
    const addRow = (raw, to) => {
      const rawIn = h("input", { type: "text", value: raw || "", spellcheck: "false", autocomplete: "off", "aria-label": "Platform field", dataset: { role: "raw" } });
      const toSel = select(canon, to || "", { "aria-label": "Canonical field", dataset: { role: "canonical" } });
      const cat = h("td", { class: "cat" });
      const upd = () => {
        cat.replaceChildren(categoryHint(this.pol, toSel.value));
        toSel.setAttribute("aria-label", `Canonical field for ${rawIn.value || "new row"}`);
      };
      toSel.addEventListener("change", upd);
      rawIn.addEventListener("input", upd);
      const tr = h("tr", {}, h("td", {}, rawIn), h("td", {}, toSel), cat,
        h("td", {}, h("button", { type: "button", class: "secondary small", onclick: () => { tr.remove(); this.addMapBtn.focus(); } }, "Remove", h("span", { class: "sr-only" }, " mapping row"))));
      upd();
      this.mapBody.appendChild(tr);
      return rawIn;
    };
    for (const [raw, to] of Object.entries(explicit)) addRow(raw, to);
    this.addMapBtn = h("button", { type: "button", class: "secondary", onclick: () => addRow("", "").focus() }, "Add field");
    const rep = checkbox("Forward only the fields listed here (ignore the platform's standard fields)", { checked: !!(c.mapping && c.mapping.replace_defaults) });
    this.replaceDefaults = rep.box;

    const defaults = Object.entries(c.effective_mapping || {}).filter(([raw]) => !(raw in explicit)).sort();
    const defTable = defaults.length ? table("Standard fields of the platform, in effect unless listed above",
      ["Platform field", "Canonical field", "Category"],
      defaults.map(([raw, to]) => h("tr", {}, h("td", {}, h("code", {}, raw)), h("td", {}, to), h("td", {}, categoryHint(this.pol, to))))) : null;

    return h("fieldset", {}, h("legend", {}, "Field mapping"),
      h("p", { class: "hint" }, "Which field of the platform is which kind of personal data. Its category decides which consent it needs. A field that is not mapped never leaves consentgate."),
      h("div", { class: "table-wrap" }, h("table", { id: "mapping-table" },
        h("caption", {}, "Platform field → canonical field → category"),
        h("thead", {}, h("tr", {}, ["Platform field", "Canonical field", "Category (needs one of)", ""].map((x) => h("th", { scope: "col" }, x)))),
        this.mapBody)),
      h("div", { class: "actions" }, this.addMapBtn), rep.el, defTable);
  }

  consentSection(c) {
    const purposes = this.pol.purposes.map((p) => [p.name, p.description ? `${p.name} — ${p.description}` : p.name]);
    this.cbBody = h("tbody", {});
    const addRow = (cb) => {
      cb = cb || {};
      const n = cb.notice || {};
      const key = h("input", { type: "text", value: cb.key || "", spellcheck: "false", autocomplete: "off", "aria-label": "Checkbox key", dataset: { role: "key" } });
      const purpose = select([["", "— choose a purpose —"], ...purposes], cb.purpose || "", { "aria-label": "Purpose", dataset: { role: "purpose" } });
      const nid = h("input", { type: "text", value: n.id || "", autocomplete: "off", "aria-label": "Notice id", dataset: { role: "notice-id" } });
      const nver = h("input", { type: "text", value: n.version || "", autocomplete: "off", "aria-label": "Notice version", dataset: { role: "notice-version" } });
      key.addEventListener("input", () => purpose.setAttribute("aria-label", `Purpose for checkbox ${key.value}`));
      const tr = h("tr", {}, h("td", {}, key), h("td", {}, purpose), h("td", {}, nid), h("td", {}, nver),
        h("td", {}, h("button", { type: "button", class: "secondary small", onclick: () => { tr.remove(); this.addCbBtn.focus(); } }, "Remove", h("span", { class: "sr-only" }, " checkbox row"))));
      this.cbBody.appendChild(tr);
      return key;
    };
    for (const cb of (c.consent && c.consent.checkboxes) || []) addRow(cb);
    this.addCbBtn = h("button", { type: "button", class: "secondary", onclick: () => addRow().focus() }, "Add checkbox");
    return h("fieldset", {}, h("legend", {}, "Consent checkboxes"),
      h("p", { class: "hint" }, "Each consent checkbox on the form, and the purpose a tick agrees to. Ticked is a grant, unticked a refusal, missing is silence. For platform forms use the checkbox id the platform sends; for web forms the JSON path, e.g. consent.newsletter."),
      h("div", { class: "table-wrap" }, h("table", { id: "consent-table" },
        h("caption", {}, "Checkbox → purpose"),
        h("thead", {}, h("tr", {}, ["Checkbox key", "Purpose", "Notice id", "Notice version", ""].map((x) => h("th", { scope: "col" }, x)))),
        this.cbBody)),
      h("div", { class: "actions" }, this.addCbBtn));
  }

  advancedSection(c) {
    const t = c.topics || {};
    this.settings = h("textarea", { spellcheck: "false", rows: 8 }, JSON.stringify(c.settings || {}, null, 2));
    this.topics = {};
    for (const k of ["leads", "interactions", "test"]) this.topics[k] = h("input", { type: "text", value: t[k] || "", autocomplete: "off", spellcheck: "false" });
    this.gpc = h("input", { type: "text", value: (c.consent && c.consent.gpc_field) || "", autocomplete: "off", spellcheck: "false" });
    return h("details", { class: "card" }, h("summary", {}, "Advanced: platform settings, topics, do-not-sell field"),
      field("Platform settings (JSON)", this.settings, "Platform-specific; see docs/configuration.md. Leave {} for the platform's defaults."),
      h("div", { class: "grid" },
        field("Leads topic", this.topics.leads, "Empty: the gateway's default."),
        field("Interactions topic", this.topics.interactions, "Empty: the gateway's default."),
        field("Test leads topic", this.topics.test, "Empty: the gateway's default."),
        field("Do-not-sell field", this.gpc, "Payload field whose true value means “do not sell or share”.")));
  }

  connectSection(c) {
    const url = h("input", { type: "text", readonly: true, value: c.webhook_url || "", id: newId("url") });
    const copy = h("button", { type: "button", class: "secondary", onclick: () => copyText(url, "Webhook URL copied") }, "Copy", h("span", { class: "sr-only" }, " webhook URL"));
    const hs = Object.entries(c.handshake || {});
    const secretNames = Object.keys(c.secrets || {});
    return h("section", { class: "card", "aria-labelledby": "connect-title" },
      h("h2", { id: "connect-title" }, "Connect the platform"),
      h("div", { class: "field" }, h("label", { for: url.id }, "Webhook URL (callback URL)"), h("div", { class: "copy" }, url, copy),
        h("span", { class: "hint" }, "Paste this into the platform's webhook settings.")),
      hs.length ? h("dl", { class: "kv" }, hs.map(([what, secret]) => [
        h("dt", {}, labelOf(what)),
        h("dd", {}, "Paste the value you saved as secret ", h("code", {}, secret), (c.secrets && c.secrets[secret] && c.secrets[secret].set) ? "." : " — it is not set yet: add it below.")])) : null,
      signingNote(c.platform, secretNames));
  }

  spec() {
    const fields = {};
    for (const tr of this.mapBody.rows) {
      const raw = tr.querySelector("[data-role=raw]").value.trim();
      if (raw) fields[raw] = tr.querySelector("[data-role=canonical]").value;
    }
    const checkboxes = [];
    for (const tr of this.cbBody.rows) {
      const key = tr.querySelector("[data-role=key]").value.trim();
      const purpose = tr.querySelector("[data-role=purpose]").value;
      if (!key && !purpose) continue;
      const cb = { key, purpose };
      const nid = tr.querySelector("[data-role=notice-id]").value.trim();
      const nver = tr.querySelector("[data-role=notice-version]").value.trim();
      if (nid || nver) cb.notice = { id: nid, version: nver };
      checkboxes.push(cb);
    }
    const spec = {
      id: this.id.value.trim(), platform: this.platform.value, name: this.name.value.trim(),
      enabled: this.enabled.checked, default_jurisdiction: this.jurisdiction.value.trim(),
      mapping: { replace_defaults: this.replaceDefaults.checked, fields },
      consent: { checkboxes },
    };
    if (this.gpc.value.trim()) spec.consent.gpc_field = this.gpc.value.trim();
    const topics = {};
    for (const [k, el] of Object.entries(this.topics)) if (el.value.trim()) topics[k] = el.value.trim();
    if (Object.keys(topics).length) spec.topics = topics;
    const text = this.settings.value.trim();
    if (text) {
      try { spec.settings = JSON.parse(text); } catch {
        throw { message: "Platform settings are not valid JSON.", fields: { settings: "must be a JSON object, e.g. {}" } };
      }
    }
    // A secret left empty is sent back as the API described it, which the
    // API reads as "keep what is there"; a typed value replaces it.
    const secrets = {};
    const cur = (this.conn && this.conn.secrets) || {};
    for (const [name, input] of Object.entries(this.secretInputs)) {
      if (input.value) secrets[name] = { value: input.value };
      else if (cur[name] && cur[name].set) secrets[name] = cur[name];
    }
    if (Object.keys(secrets).length) spec.secrets = secrets;
    return spec;
  }

  async save(button) {
    this.clearInvalid();
    let spec;
    try { spec = this.spec(); } catch (err) { return this.fail(err); }
    await busy(button, async () => {
      try {
        if (!this.conn) {
          const created = await post("/connectors", spec);
          announce(`Connector ${created.id || spec.id} created`);
          location.hash = `#/connectors/${enc(created.id || spec.id)}`;
          return;
        }
        const r = await put(`/connectors/${enc(this.conn.id)}`, spec);
        this.conn = r.connector || this.conn;
        for (const input of Object.values(this.secretInputs)) input.value = "";
        const msg = r.changed === false ? "No changes: the connector was already like this." : "Saved. The change is live on every instance.";
        this.slot.replaceChildren(h("p", { class: "notice" }, msg));
        announce(msg);
      } catch (err) { this.fail(err); }
    });
  }

  fail(err) {
    showError(this.slot, err);
    this.markInvalid(err.fields || {});
  }

  // markInvalid flags the controls the API named, so the problem is found
  // where it is (and announced by screen readers as invalid).
  markInvalid(fields) {
    const byName = { id: this.id, platform: this.platform, name: this.name, default_jurisdiction: this.jurisdiction, settings: this.settings };
    for (const key of Object.keys(fields)) {
      let el = byName[key];
      let m;
      if (!el && (m = key.match(/^consent\.checkboxes\[(\d+)\]\.(key|purpose)/))) {
        const tr = this.cbBody.rows[+m[1]];
        el = tr && tr.querySelector(`[data-role=${m[2]}]`);
      } else if (!el && (m = key.match(/^mapping\.fields\.(.+)$/))) {
        for (const tr of this.mapBody.rows) if (tr.querySelector("[data-role=raw]").value.trim() === m[1]) el = tr.querySelector("[data-role=canonical]");
      } else if (!el && (m = key.match(/^secrets\.([^.]+)/))) {
        el = this.secretInputs[m[1]];
      }
      if (el) el.setAttribute("aria-invalid", "true");
    }
  }

  clearInvalid() {
    for (const el of document.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  async remove(button) {
    if (!confirm(`Delete connector ${this.conn.id}? Its webhook URL stops working at once.`)) return;
    await busy(button, async () => {
      try {
        await del(`/connectors/${enc(this.conn.id)}`);
        announce(`Connector ${this.conn.id} deleted`);
        location.hash = "#/connectors";
      } catch (err) { this.fail(err); }
    });
  }
}

function labelOf(what) {
  if (what === "verify_token_secret") return "Verify token";
  return what.replace(/_secret$/, "").replace(/_/g, " ");
}

function secretHint(platform, name) {
  const hints = {
    app_secret: "Meta app dashboard → App settings → Basic → App secret.",
    verify_token: "Any long random text; type the same into Meta's webhook “Verify token” box.",
    page_access_token: "A long-lived Page token with leads_retrieval, so leads can be fetched.",
    signing_secret: "The secret the sender signs with.",
  };
  return hints[name] || "";
}

function signingNote(platform, secretNames) {
  const signer = { meta: "app_secret", linkedin: "client_secret", x: "consumer_secret", tiktok: "client_secret", generic: "signing_secret", googleads: "google_key" }[platform];
  if (!signer || !secretNames.includes(signer)) return null;
  return h("p", { class: "hint" }, "Deliveries are checked against secret ", h("code", {}, signer),
    ": it must be the same value the platform signs with (you never paste it into the platform; you copy it from there).");
}

async function copyText(input, msg) {
  input.select();
  try { await navigator.clipboard.writeText(input.value); announce(msg); } catch { announce("Selected: press Ctrl+C to copy"); }
}
