// Dead letters: lead fetches that failed for good, to retry or discard.
import { get, post, del } from "./api.js";
import { h, announce, errorBox, showError, table, timeEl, busy, page } from "./ui.js";

export async function deadLettersView(s) {
  const canAct = s.who.role === "admin" || s.who.role === "marketer";
  let jobs;
  try {
    jobs = (await get("/deadletters?limit=200")).jobs || [];
  } catch (err) {
    return page("Dead letters", null, errorBox(err));
  }
  const slot = h("div", {});
  const act = (label, job, fn, danger) => h("button", {
    type: "button", class: "small " + (danger ? "danger" : "secondary"), "aria-label": `${label} job ${job.id}`,
    onclick: async (ev) => {
      if (danger && !confirm(`Discard job ${job.id}? The lead will not be fetched again.`)) return;
      await busy(ev.currentTarget, async () => {
        try {
          await fn();
          ev.target.closest("tr").remove();
          announce(`Job ${job.id} ${label === "Retry" ? "queued again" : "discarded"}`);
        } catch (err) { showError(slot, err); }
      });
    },
  }, label);
  const rows = jobs.map((j) => h("tr", {},
    h("td", {}, String(j.id)), h("td", {}, j.connector), h("td", {}, h("code", {}, j.event_id)),
    h("td", {}, j.form || "—"), h("td", {}, String(j.attempts)), h("td", {}, j.last_error || ""), h("td", {}, timeEl(j.updated_at)),
    canAct ? h("td", {}, h("div", { class: "row" },
      act("Retry", j, () => post(`/deadletters/${j.id}/retry`)),
      act("Discard", j, () => del(`/deadletters/${j.id}`), true))) : null));
  return page("Dead letters",
    "Leads the gateway was told about but could not fetch from the platform, even after retries. Fix the cause (usually a token), then retry.",
    slot,
    jobs.length ? table("Dead-lettered fetch jobs", ["Job", "Connector", "Event", "Form", "Attempts", "Last error", "Updated", canAct ? "Actions" : null].filter(Boolean), rows)
      : h("p", { class: "empty" }, "No dead letters. Every announced lead was fetched."));
}
