// Policy and platform lists, fetched once per page load.
import { get } from "./api.js";
import { h } from "./ui.js";

let policy, platforms;

export async function loadPolicy() {
  if (!policy) policy = await get("/policy");
  return policy;
}

export async function loadPlatforms() {
  if (!platforms) platforms = (await get("/platforms")).platforms || [];
  return platforms;
}

// categoryHint says what a canonical field is and what it needs.
export function categoryHint(pol, canonical) {
  if (!canonical) return h("span", { class: "empty" }, "never forwarded");
  const name = pol.fields[canonical];
  const cat = pol.categories.find((c) => c.name === name);
  if (!cat) return h("span", { class: "bad" }, "in no category: never forwarded");
  return h("span", {}, h("strong", {}, cat.name), " ",
    h("span", { class: "hint" }, `${cat.purposes.join(" or ")}; otherwise ${cat.otherwise.replace("_", " ")}`));
}
