// The model registry: models, versions, stages, and every decision with its rationale.
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  L.project();
  try {
    const reg = await L.getJSON("/api/registry");
    const models = reg.models.map((m) => L.h("tr", {}, L.h("td", {}, m.model), L.h("td", {}, m.versions.join(", ")),
      L.h("td", {}, Object.entries(m.stages).map(([s, v]) => s + ": " + v).join(", ")),
      L.h("td", {}, L.h("a", {href: L.runHref(m.latest.run)}, m.latest.name || m.latest.run), " (" + m.latest.version + ")")));
    const decisions = reg.decisions.map((d) => L.h("article", {class: "decision"},
      L.h("h3", {}, d.model + " " + d.version + (d.stage ? " → " + d.stage : "")),
      L.h("p", {class: "muted"}, L.when(d.selected_at) + " by " + ((d.selected_by || {}).name || "?") + " · run ", L.h("a", {href: L.runHref(d.run.id)}, d.run.name || d.run.id)),
      L.h("blockquote", {}, d.rationale || ""),
      d.metric ? L.kvTable(Object.entries(L.flatten(d.metric))) : null));
    L.fill(document.getElementById("main"), 
      L.h("h1", {}, "Registry"),
      reg.models.length ? L.h("table", {}, L.h("thead", {}, L.h("tr", {}, ["model", "versions", "stages", "latest"].map((t) => L.h("th", {}, t)))), L.h("tbody", {}, models))
                        : L.h("p", {class: "muted"}, "no model selected yet: ledger select RUN --rationale TEXT"),
      decisions.length ? L.section("Decisions, newest first", ...decisions) : null);
    document.body.dataset.loaded = String(Date.now());
  } catch (e) { L.showError(e.message); }
});
