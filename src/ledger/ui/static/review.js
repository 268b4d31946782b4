// The `ledger diff BASE HEAD` review as a page: pick two branches, see what HEAD adds.
"use strict";

function branchSelect(id, branches, current) {
  const s = L.h("select", {id: id});
  for (const b of branches) { const o = L.h("option", {value: b}, b); o.selected = b === current; s.append(o); }
  return s;
}

function verdict(v) {
  return L.h("span", {class: "verdict " + String(v).replace(/\s+/g, "-")}, v);
}

function render(rv) {
  const metric = rv.metric || "metric";
  const rows = rv.runs.map((r) => L.h("tr", {class: r.id === rv.best_new ? "best" : null},
    L.h("td", {}, L.h("a", {href: L.runHref(r.id), title: r.id}, r.name || r.id)), L.h("td", {}, L.chip(r.status)), L.h("td", {}, r.change),
    L.h("td", {class: "num"}, L.fmt(r.value)), L.h("td", {class: "num"}, L.fmt(r.vs_best)), L.h("td", {class: "num"}, L.fmt(r.vs_baseline)),
    L.h("td", {}, verdict(r.verdict)), L.h("td", {}, r.warnings.join("; "))));
  const parts = [
    L.h("p", {class: rv.regression ? "summary bad" : "summary"}, rv.summary),
    L.h("p", {class: "muted"}, rv.base + " at " + String(rv.base_commit).slice(0, 8) + " → " + rv.head + " at " + String(rv.head_commit).slice(0, 8) +
      (rv.best_on_base ? " · best on base: " + (rv.best_on_base.name || rv.best_on_base.id) + " (" + L.fmt(rv.best_on_base.value) + ")" : "") +
      (rv.baseline ? " · baseline: " + (rv.baseline.name || rv.baseline.id) + " (" + L.fmt(rv.baseline.value) + ")" : "")),
  ];
  parts.push(rows.length ? L.h("table", {id: "review-table"}, L.h("thead", {}, L.h("tr", {}, ["run", "status", "change", metric, "vs best", "vs baseline", "verdict", "warnings"].map((t) => L.h("th", {}, t)))), L.h("tbody", {}, rows))
                         : L.h("p", {class: "muted"}, "no runs added or changed"));
  for (const bad of rv.invalid) parts.push(L.h("p", {class: "error"}, "unreadable record, skipped: " + bad));
  for (const gone of rv.removed) parts.push(L.h("p", {class: "muted"}, "record removed on this branch: " + gone));
  L.fill(document.getElementById("review"), ...parts);
}

async function show(base, head) {
  history.replaceState(null, "", "/review?base=" + encodeURIComponent(base) + "&head=" + encodeURIComponent(head));
  try {
    render(await L.getJSON("/api/review?base=" + encodeURIComponent(base) + "&head=" + encodeURIComponent(head)));
  } catch (e) {
    L.fill(document.getElementById("review"), L.h("p", {class: "error"}, e.message));
  }
  document.body.dataset.loaded = String(Date.now());
}

document.addEventListener("DOMContentLoaded", async () => {
  L.project();
  try {
    const b = await L.getJSON("/api/branches");
    const head = L.param("head") || b.current || b.branches[0];
    const others = b.branches.filter((x) => x !== head);
    const base = L.param("base") || (others.includes("main") ? "main" : others.includes("origin/main") ? "origin/main" : others[0] || head);
    const baseSel = branchSelect("base", b.branches, base), headSel = branchSelect("head", b.branches, head);
    const go = () => show(baseSel.value, headSel.value);
    baseSel.addEventListener("change", go);
    headSel.addEventListener("change", go);
    L.fill(document.getElementById("main"), 
      L.h("h1", {}, "Review"),
      L.h("p", {class: "chart-controls"}, "runs that ", headSel, " adds or changes since ", baseSel, L.h("span", {class: "muted"}, " (as ledger diff BASE HEAD)")),
      L.h("div", {id: "review"}));
    await go();
  } catch (e) { L.showError(e.message); }
});
