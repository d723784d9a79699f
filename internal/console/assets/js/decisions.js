// Decision log: counts per outcome over time, and the latest decisions.
import { get } from "./api.js";
import { h, field, select, errorBox, table, timeEl, page, announce, actionBadge } from "./ui.js";

const OUTCOMES = ["forwarded", "dropped", "test", "queued", "duplicate"];
const COLOURS = { forwarded: "#3c9a4a", dropped: "#d64545", test: "#d99a00", queued: "#1f4fbf", duplicate: "#8a94a3" };
const RANGES = [["24h", "Last 24 hours", 24 * 3600e3, "1h"], ["7d", "Last 7 days", 7 * 24 * 3600e3, "6h"], ["30d", "Last 30 days", 30 * 24 * 3600e3, "24h"]];

export async function decisionsView() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const range = RANGES.find((r) => r[0] === params.get("range")) || RANGES[0];
  const connector = params.get("connector") || "";
  const outcome = params.get("outcome") || "";
  const since = new Date(Date.now() - range[2]).toISOString();

  let conns = [];
  try { conns = (await get("/connectors")).connectors || []; } catch { /* privacy officers may not list connectors */ }
  const rangeSel = select(RANGES.map((r) => [r[0], r[1]]), range[0]);
  const connSel = select([["", "All connectors"], ...conns.map((c) => [c.id, c.name || c.id])], connector);
  const outSel = select([["", "All outcomes"], ...OUTCOMES.map((o) => [o, o])], outcome);
  const form = h("form", { class: "card row", "aria-label": "Filter decisions" },
    field("Period", rangeSel), field("Connector", connSel), field("Outcome", outSel),
    h("div", { class: "field" }, h("button", { type: "submit" }, "Show")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ range: rangeSel.value });
    if (connSel.value) q.set("connector", connSel.value);
    if (outSel.value) q.set("outcome", outSel.value);
    location.hash = "#/decisions?" + q;
    announce("Filter applied");
  });

  const q = new URLSearchParams({ since, limit: "100" });
  if (connector) q.set("connector", connector);
  if (outcome) q.set("outcome", outcome);
  const sq = new URLSearchParams({ since, bucket: range[3] });
  if (connector) sq.set("connector", connector);
  const [stats, list] = await Promise.allSettled([get("/decisions/stats?" + sq), get("/decisions?" + q)]);

  return page("Decisions", "What the gateway decided for each record it received: forwarded, dropped (and by which rule), test traffic, queued for Kafka or a duplicate.",
    form,
    h("section", { "aria-labelledby": "chart-title" }, h("h2", { id: "chart-title" }, "Records per outcome"),
      stats.status === "fulfilled" ? chart(stats.value.buckets || []) : errorBox(stats.reason)),
    h("section", { "aria-labelledby": "log-title" }, h("h2", { id: "log-title" }, "Latest decisions"),
      list.status === "fulfilled" ? decisionTable(list.value.decisions || []) : errorBox(list.reason)));
}

// chart draws stacked bars per time bucket; the same numbers follow as a table.
function chart(buckets) {
  if (!buckets.length) return h("p", { class: "empty" }, "No records in this period.");
  const seen = new Set();
  for (const b of buckets) for (const [k, n] of Object.entries(b.counts || {})) if (n > 0) seen.add(k);
  const outcomes = [...OUTCOMES.filter((o) => seen.has(o)), ...[...seen].filter((o) => !OUTCOMES.includes(o)).sort()];
  const total = (b) => Object.values(b.counts || {}).reduce((a, n) => a + n, 0);
  const max = Math.max(1, ...buckets.map(total));
  const W = 900, H = 220, left = 40, right = 40, bottom = 24, top = 10;
  const bw = (W - left - right) / buckets.length;
  const y = (n) => (H - bottom - top) * n / max;
  const ns = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs, ...kids) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    for (const k of kids) el.appendChild(typeof k === "string" ? document.createTextNode(k) : k);
    return el;
  };
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-labelledby": "chart-desc" },
    svg("title", { id: "chart-desc" }, `Records per outcome in ${buckets.length} time slots; the table below has the numbers.`));
  root.appendChild(svg("line", { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom, stroke: "#8a94a3" }));
  root.appendChild(svg("text", { x: left - 6, y: top + 10, "text-anchor": "end" }, String(max)));
  root.appendChild(svg("text", { x: left - 6, y: H - bottom, "text-anchor": "end" }, "0"));
  const every = Math.ceil(buckets.length / 8);
  buckets.forEach((b, i) => {
    let base = H - bottom;
    const x = left + i * bw + 1;
    for (const o of outcomes) {
      const n = (b.counts || {})[o] || 0;
      if (!n) continue;
      const hgt = y(n);
      base -= hgt;
      root.appendChild(svg("rect", { x, y: base, width: Math.max(1, bw - 2), height: hgt, fill: COLOURS[o] || "#6b4aa5" },
        svg("title", {}, `${label(b.start)}: ${n} ${o}`)));
    }
    if (i % every === 0) root.appendChild(svg("text", { x: x + bw / 2, y: H - 6, "text-anchor": "middle" }, label(b.start, true)));
  });
  const legend = h("ul", { class: "legend-list", "aria-label": "Legend" }, outcomes.map((o) =>
    h("li", {}, h("span", { class: "swatch", "aria-hidden": "true", dataset: { colour: o } }, "■ "), o)));
  for (const sw of legend.querySelectorAll(".swatch")) sw.style.color = COLOURS[sw.dataset.colour] || "#6b4aa5";
  const rows = buckets.filter((b) => total(b) > 0).map((b) => h("tr", {}, h("td", {}, label(b.start)), outcomes.map((o) => h("td", {}, String((b.counts || {})[o] || 0)))));
  return h("div", {}, root, legend,
    h("details", {}, h("summary", {}, "Show the numbers as a table"),
      table("Records per outcome and time slot", ["From", ...outcomes], rows)));
}

function label(s, short) {
  const d = new Date(s);
  return short ? d.toLocaleString(undefined, { month: "numeric", day: "numeric", hour: "2-digit" })
    : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function decisionTable(ds) {
  if (!ds.length) return h("p", { class: "empty" }, "No decisions match.");
  const rows = ds.map((d) => {
    const counts = {};
    // "(unmapped: 3)" stands for three dropped fields the decision does not name.
    for (const [f, a] of Object.entries(d.fields || {})) {
      const m = /^\(unmapped: (\d+)\)$/.exec(f);
      counts[a] = (counts[a] || 0) + (m ? Number(m[1]) : 1);
    }
    return h("tr", {},
      h("td", {}, timeEl(d.at)), h("td", {}, d.connector), h("td", {}, h("code", {}, d.event_id)),
      h("td", {}, h("span", { class: "badge " + (d.outcome === "dropped" ? "act-drop" : d.outcome === "forwarded" ? "act-keep" : "act-mask") }, d.outcome)),
      h("td", {}, (d.rules || []).map((r) => h("code", {}, r, " "))),
      h("td", {}, Object.keys(counts).length ? h("details", {},
        h("summary", {}, Object.entries(counts).map(([a, n]) => `${n} ${a}`).join(", ")),
        h("ul", { class: "plain" }, Object.entries(d.fields || {}).sort().map(([f, a]) => h("li", {}, h("code", {}, f), " ", actionBadge(a))))) : "—"));
  });
  return table(`${ds.length} most recent`, ["When", "Connector", "Event", "Outcome", "Rules", "Fields"], rows);
}

