// N runs side by side, differences first; overlaid curves with smoothing; the code diff
// between two of them.
"use strict";

const ids = (L.param("ids") || "").split(",").filter(Boolean);
const cmp = {smoothing: 0, onlyDiff: false, series: {}, data: null};
const COLORS = ["#2c5aa0", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666", "#1f78b4", "#b2182b", "#35978f"];

function table(data) {
  const head = L.h("tr", {}, L.h("th", {}, "field"), data.runs.map((r) => L.h("th", {}, L.h("a", {href: L.runHref(r.id), title: r.id}, r.name || r.id), " ", L.chip(r.status))));
  const rows = data.rows.filter((row) => row.differs || !cmp.onlyDiff).map((row) =>
    L.h("tr", {class: row.differs ? "differs" : "same"}, L.h("th", {}, row.field), row.values.map((v) => L.h("td", {class: typeof v === "number" ? "num" : null}, L.fmt(v)))));
  return L.h("table", {id: "compare-table", class: "compare"}, L.h("thead", {}, head), L.h("tbody", {}, rows));
}

async function curves(data) {
  const holder = document.getElementById("curves");
  if (!data.series.length) { L.fill(holder, L.h("p", {class: "muted"}, "none of these runs logged step series")); return; }
  const width = Math.max(200, Math.round((holder.clientWidth || 900) / 2));
  for (const run of data.runs) {
    if (!cmp.series[run.id]) {
      const answer = await L.getJSON("/api/run/" + encodeURIComponent(run.id) + "/series?width=" + width + "&metrics=" + data.series.map(encodeURIComponent).join(","));
      cmp.series[run.id] = answer.series;
    }
  }
  const Plotly = await L.plotly();
  if (!holder.children.length) holder.append(...data.series.map((m) => L.h("div", {class: "chart", "data-metric": m})));
  for (const div of holder.querySelectorAll(".chart")) {
    const metric = div.dataset.metric;
    const traces = data.runs.map((run, i) => {
      const s = (cmp.series[run.id] || {})[metric];
      if (!s) return null;
      return {x: s.steps, y: L.smooth(s.values, cmp.smoothing), mode: "lines", name: L.plotText(run.name || run.id), line: {width: 1.5, color: COLORS[i % COLORS.length]}};
    }).filter(Boolean);
    await Plotly.react(div, traces, L.plotLayout({title: {text: L.plotText(metric), font: {size: 13}}, xaxis: {title: {text: "step"}}, legend: {orientation: "h"}}), L.plotConfig);
    div.dataset.drawn = "1";
  }
}

function codeDiffControls(data) {
  const pick = (chosen) => {
    const select = L.h("select", {});
    data.runs.forEach((r, i) => { const o = L.h("option", {value: r.id}, r.name || r.id); o.selected = i === chosen; select.append(o); });
    return select;
  };
  const a = pick(0), b = pick(1);
  const out = L.h("div", {id: "codediff"});
  const show = async () => {
    L.fill(out, L.h("p", {class: "muted"}, "loading…"));
    try {
      const d = await L.getJSON("/api/codediff?a=" + encodeURIComponent(a.value) + "&b=" + encodeURIComponent(b.value));
      const parts = [L.h("p", {}, "commits: ", L.h("code", {}, String(d.commits[0] || "?").slice(0, 12)), " → ", L.h("code", {}, String(d.commits[1] || "?").slice(0, 12)),
        d.same_commit ? " (same commit)" : "")];
      if (!d.same_commit) parts.push(d.diff === null ? L.h("p", {class: "muted"}, "one of the commits is not in this clone (git fetch)") : d.diff ? L.diff(d.diff) : L.h("p", {class: "muted"}, "no code change between the commits"));
      d.patches.forEach((p, i) => parts.push(L.h("h3", {}, "uncommitted patch of " + (i ? "B" : "A")), p ? L.diff(p) : L.h("p", {class: "muted"}, "none (clean working tree)")));
      L.fill(out, ...parts);
    } catch (e) { L.fill(out, L.h("p", {class: "error"}, e.message)); }
  };
  a.addEventListener("change", show);
  b.addEventListener("change", show);
  show();
  return L.section("Code diff", L.h("div", {class: "chart-controls"}, "A ", a, " B ", b), out);
}

async function load() {
  const data = await L.getJSON("/api/compare?ids=" + ids.map(encodeURIComponent).join(","));
  cmp.data = data;
  const only = L.h("input", {type: "checkbox"});
  only.checked = cmp.onlyDiff;
  only.addEventListener("change", () => { cmp.onlyDiff = only.checked; document.getElementById("compare-table").replaceWith(table(data)); });
  const slider = L.h("input", {type: "range", min: "0", max: "0.99", step: "0.01", value: String(cmp.smoothing), id: "smoothing"});
  slider.addEventListener("input", () => { cmp.smoothing = Number(slider.value); curves(data); });
  const differing = data.rows.filter((r) => r.differs).length;
  L.fill(document.getElementById("main"), 
    L.h("h1", {}, "Compare " + data.runs.length + " runs"),
    L.section("Side by side", L.h("p", {class: "muted"}, differing + " of " + data.rows.length + " fields differ (shown first) ", L.h("label", {}, only, " only differences")), L.h("div", {class: "scroll"}, table(data))),
    L.section("Curves", L.h("div", {class: "chart-controls"}, L.h("label", {}, "smoothing ", slider)), L.h("div", {id: "curves", class: "chart-grid"})),
    codeDiffControls(data));
  await curves(data);
  document.body.dataset.loaded = String(Date.now());
}

document.addEventListener("DOMContentLoaded", async () => {
  L.project();
  try { await load(); } catch (e) { L.showError(e.message); }
});
