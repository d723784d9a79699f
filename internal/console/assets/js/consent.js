// Consent lookup and withdrawal by e-mail, for privacy officers.
import { post } from "./api.js";
import { h, field, select, announce, errorBox, showError, table, timeEl, busy, page } from "./ui.js";
import { loadPolicy } from "./policy.js";

export async function consentView() {
  let pol;
  try { pol = await loadPolicy(); } catch (err) { return page("Consent", null, errorBox(err)); }
  const email = h("input", { type: "email", autocomplete: "off", required: true, spellcheck: "false", id: "consent-email" });
  const slot = h("div", {});
  const results = h("div", { id: "consent-results", "aria-live": "polite" });
  const form = h("form", { class: "card row", role: "search", "aria-label": "Look up consent" },
    field("E-mail address", email, "Exactly as the person gave it; case and spaces do not matter."),
    h("div", { class: "field" }, h("button", { type: "submit" }, "Look up")));

  const lookup = async (quiet) => {
    const subject = { email: email.value.trim() };
    const r = await post("/consent/lookup", { subject });
    results.replaceChildren(...render(r, subject));
    if (!quiet) announce(summary(r));
  };

  const withdraw = async (button, subject, purpose) => {
    if (!confirm(`Record that this person withdraws consent for ${purpose}? From now on the gateway treats it as refused.`)) return;
    await busy(button, async () => {
      try {
        await post("/consent/withdraw", { subject, purpose });
        await lookup(true);
        announce(`Consent for ${purpose} withdrawn`);
      } catch (err) { showError(slot, err); }
    });
  };

  const render = (r, subject) => {
    const cur = Object.entries(r.current || {}).sort();
    const rows = cur.map(([purpose, c]) => {
      const eff = c.effective_status || c.status;
      const active = eff === "granted";
      return h("tr", {},
        h("td", {}, purpose),
        h("td", {}, h("span", { class: "badge " + (active ? "act-keep" : "act-drop") }, eff)),
        h("td", {}, timeEl(c.obtained_at)), h("td", {}, timeEl(c.expires_at)),
        h("td", {}, active ? h("button", { type: "button", class: "danger small", "aria-label": `Withdraw ${purpose}`,
          onclick: (ev) => withdraw(ev.currentTarget, subject, purpose) }, "Withdraw") : "—"));
    });
    const other = pol.purposes.map((p) => p.name);
    const pick = select(other, other[0]);
    const extra = h("form", { class: "row", "aria-label": "Record a withdrawal for any purpose" },
      field("Purpose", pick), h("div", { class: "field" }, h("button", { type: "submit", class: "secondary" }, "Record withdrawal")));
    extra.addEventListener("submit", (ev) => { ev.preventDefault(); withdraw(extra.querySelector("button"), subject, pick.value); });
    const hist = (r.history || []).map((e) => h("tr", {},
      h("td", {}, timeEl(e.obtained_at || e.at)), h("td", {}, e.purpose), h("td", {}, e.status),
      h("td", {}, e.source || e.connector || ""), h("td", {}, e.notice_id ? `${e.notice_id} v${e.notice_version || "?"}` : "")));
    return [
      h("h2", {}, "Consent of this person"),
      h("p", { class: "hint" }, "Subject key ", h("code", {}, r.subject_key || "")),
      rows.length ? table("Current consent per purpose", ["Purpose", "Status", "Obtained", "Expires", "Action"], rows)
        : h("p", { class: "empty" }, "Nothing recorded for this address."),
      h("h3", {}, "Record a withdrawal"),
      h("p", { class: "hint" }, "Also when nothing is recorded yet: the refusal is kept and wins over older grants."),
      extra,
      hist.length ? [h("h3", {}, "History"), table("Every statement, newest first", ["When", "Purpose", "Status", "Source", "Notice"], hist)] : null,
    ];
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    slot.replaceChildren();
    if (!email.checkValidity()) {
      email.setAttribute("aria-invalid", "true");
      showError(slot, { message: "Enter an e-mail address." });
      email.focus();
      return;
    }
    email.removeAttribute("aria-invalid");
    await busy(form.querySelector("button"), async () => {
      try { await lookup(false); } catch (err) { results.replaceChildren(); showError(slot, err); }
    });
  });
  return page("Consent", "Look up what a person agreed to, and record a withdrawal when they ask. The ledger is keyed by a pseudonymous subject key computed from the address; the console keeps nothing.",
    form, slot, results);
}

function summary(r) {
  const cur = Object.values(r.current || {});
  const granted = cur.filter((c) => (c.effective_status || c.status) === "granted").length;
  return cur.length ? `${cur.length} purposes on record, ${granted} granted` : "Nothing recorded for this address";
}
