// Charts over many runs: metric vs param, parallel coordinates, progress with best so far
// and the baseline, distributions by a grouping param.
"use strict";

const opts = {where: L.param("where") || "", metric: L.param("metric") || "", param: L.param("param") || "", group: L.param("group") || ""};
const BIN_COLORS = ["#d7dde8", "#b4c3de", "#7f9ccc", "#4a72b4", "#1d3f8a"];

function select(name, values, current) {
  const s = L.h("select", {name: name, id: "pick-" + name});
  for (const v of values) { const o = L.h("option", {value: v}, v); o.selected = v === current; s.append(o); }
  s.addEventListener("change", () => { opts[name] = s.value; load(); });
  return s;
}

function controls(d) {
  const input = L.h("input", {type: "search", placeholder: "filter (the --where grammar)", spellcheck: "false"});
  input.value = opts.where;
  const error = L.h("span", {class: "where-error", id: "where-error"});
  return L.h("form", {class: "filter", onsubmit: (e) => { e.preventDefault(); opts.where = input.value.trim(); load(); }},
    input, L.h("button", {type: "submit"}, "Filter"), error,
    L.h("label", {}, " metric ", select("metric", d.metrics, d.metric)),
    L.h("label", {}, " param ", select("param", d.params, d.param)),
    L.h("label", {}, " group by ", select("group", d.params, d.group)));
}

async function draw(d) {
  const Plotly = await L.plotly();
  const metric = L.plotText(d.metric);
  const hover = (names) => names.map(L.plotText);
  const s = d.scatter;
  await Plotly.react("chart-scatter", [{x: s.x, y: s.y, mode: "markers", type: "scatter", text: hover(s.names),
    marker: {size: 7, opacity: 0.75, color: s.color || "#2c5aa0"}, hovertemplate: "%{text}<br>%{x} → %{y}<extra></extra>"}],
    L.plotLayout({title: {text: metric + " vs " + L.plotText(d.param)}, xaxis: {title: {text: L.plotText(d.param)}}, yaxis: {title: {text: metric}}}), L.plotConfig);
  const p = d.parallel;
  await Plotly.react("chart-parallel", p.traces.map((t) => ({x: t.x, y: t.y, mode: "lines", type: "scatter", hoverinfo: "skip",
    line: {width: 1, color: BIN_COLORS[t.bin]}, name: "quintile " + (t.bin + 1) + " (" + t.runs + " runs)"})),
    L.plotLayout({title: {text: "Parallel coordinates (darker: better " + metric + ")"}, height: 360, showlegend: false,
      xaxis: {tickvals: p.axes.map((_, i) => i), ticktext: p.axes.map((a) => L.plotText(a.name.replace(/^params\./, ""))), range: [-0.2, p.axes.length - 0.8]},
      yaxis: {visible: false, range: [-0.05, 1.05]},
      annotations: p.axes.flatMap((a, i) => a.ticks.slice(0, 12).map(([y, label]) => ({x: i, y: y, text: L.plotText(label), showarrow: false, xanchor: "left", xshift: 4, font: {size: 10, color: "#5b6475"}})))}), L.plotConfig);
  const g = d.progress;
  const traces = [
    {x: g.x, y: g.y, mode: "markers", name: "run", text: hover(g.names), marker: {size: 6, color: g.status.map((st) => (st === "finished" ? "#2c5aa0" : "#b2182b"))}, hovertemplate: "%{text}<br>%{x}<br>%{y}<extra></extra>"},
    {x: g.best_x, y: g.best_y, mode: "lines", name: "best so far", line: {shape: "hv", width: 2, color: "#1b7837"}},
  ];
  const shapes = g.baseline === null ? [] : [{type: "line", xref: "paper", x0: 0, x1: 1, y0: g.baseline, y1: g.baseline, line: {dash: "dash", color: "#d95f02"}}];
  await Plotly.react("chart-progress", traces, L.plotLayout({title: {text: "Progress: " + metric + " over time"}, shapes: shapes, legend: {orientation: "h"}}), L.plotConfig);
  const dist = d.distribution.groups;
  await Plotly.react("chart-distribution", dist.map((row) => ({y: row.values, type: "box", name: L.plotText(row.group) + " (n=" + row.n + ")", boxmean: "sd", boxpoints: "all", jitter: 0.3, pointpos: 0, marker: {size: 4}})),
    L.plotLayout({title: {text: metric + " by " + L.plotText(d.group) + " (mean ± sd)"}, showlegend: false}), L.plotConfig);
  for (const id of ["chart-scatter", "chart-parallel", "chart-progress", "chart-distribution"]) document.getElementById(id).dataset.drawn = "1";
}

async function load() {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(opts)) if (v) q.set(k, v);
  history.replaceState(null, "", "/charts" + (q.toString() ? "?" + q : ""));
  let d;
  try {
    d = await L.getJSON("/api/charts?" + q);
  } catch (e) {
    const error = document.getElementById("where-error");
    if (e.status === 400 && error) { error.textContent = e.message; return; }
    L.showError(e.message);
    return;
  }
  if (!d.metric) { L.fill(document.getElementById("main"), L.h("p", {class: "muted"}, "no run has a metric yet")); return; }
  const note = d.charted < d.runs ? "the newest " + d.charted.toLocaleString() + " of " + d.runs.toLocaleString() + " matching runs" : d.runs.toLocaleString() + " runs";
  L.fill(document.getElementById("main"), 
    L.h("h1", {}, "Charts"), controls(d), L.h("p", {class: "muted"}, note + (d.baseline ? " · baseline: " + (d.baseline.name || d.baseline.id) : "")),
    L.h("div", {class: "chart-grid"}, ["scatter", "parallel", "progress", "distribution"].map((k) => L.h("div", {class: "chart", id: "chart-" + k}))));
  await draw(d);
  document.body.dataset.loaded = String(Date.now());
}

document.addEventListener("DOMContentLoaded", () => { L.project(); load(); });
