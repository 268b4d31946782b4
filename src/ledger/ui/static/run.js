// One run: what it recorded, its step series as interactive charts, artifacts with
// previews, the code patch; a running run refreshes itself.
"use strict";

const runId = decodeURIComponent(window.location.pathname.replace(/^\/run\//, ""));
const state = {smoothing: 0, log: false, series: null, shownFor: null};

function header(rec, detail) {
  const author = rec.author || {};
  const code = rec.code || {};
  const facts = [
    ["id", rec.id], ["experiment", rec.experiment], ["started", L.when(rec.started_at)],
    [rec.status === "running" ? "elapsed" : "duration", L.duration(detail.elapsed_s)],
    ["author", [author.name, author.email].filter(Boolean).join(" ")], ["branch", code.branch],
    ["found in", detail.where.origin === "worktree" ? "working tree (uncommitted)" : "commit " + String(detail.where.origin)],
  ];
  return L.h("div", {class: "run-head"},
    L.h("h1", {}, L.h("span", {id: "run-name"}, rec.name || rec.id), " ", L.chip(rec.status), rec.baseline ? L.h("span", {class: "chip baseline"}, "baseline") : null),
    L.h("dl", {class: "facts"}, facts.filter(([, v]) => v).map(([k, v]) => [L.h("dt", {}, k), L.h("dd", {}, v)])));
}

function liveBox(detail) {
  if (!detail.live) return null;
  const last = Object.entries(detail.live.last).map(([k, v]) => L.h("li", {}, k + ": ", L.h("b", {}, L.fmt(v))));
  return L.h("div", {id: "live-box", class: "live-box"},
    L.h("strong", {}, "Running"), " · step ", L.h("b", {id: "live-step"}, L.fmt(detail.live.step)),
    " · elapsed ", L.duration(detail.elapsed_s), L.h("ul", {}, last));
}

function textBlock(title, text) {
  return text ? L.section(title, L.h("div", {class: "prose"}, String(text))) : null;
}

function dataTable(data) {
  if (!data.length) return null;
  const rows = data.map((d) => L.h("tr", {}, L.h("td", {}, d.role || ""), L.h("td", {}, d.path), L.h("td", {}, L.h("code", {}, String(d.hash || "").slice(0, 12))),
    L.h("td", {class: "num"}, L.fmt(d.size)), L.h("td", {}, d.source || ""), L.h("td", {}, d.matches === false ? "differs" : d.matches ? "yes" : "")));
  return L.section("Data versions (inputs first)", L.h("table", {}, L.h("thead", {}, L.h("tr", {}, ["role", "path", "hash", "size", "source", "matched workspace"].map((t) => L.h("th", {}, t)))), L.h("tbody", {}, rows)));
}

function codeSection(rec, detail) {
  const code = rec.code || {};
  const body = [L.kvTable([["commit", code.commit], ["branch", code.branch], ["dirty", code.dirty], ["tree", code.tree], ["remote", code.remote]].filter(([, v]) => v !== undefined && v !== null))];
  if (rec.command) body.push(L.h("pre", {class: "command"}, (rec.command.argv || []).join(" ")));
  if (detail.has_patch) {
    const holder = L.h("div", {id: "patch"});
    body.push(L.h("button", {type: "button", onclick: async (e) => {
      e.target.disabled = true;
      try {
        const answer = await L.getJSON("/api/run/" + encodeURIComponent(runId) + "/patch");
        L.fill(holder, L.diff(answer.patch));
      } catch (err) { holder.textContent = err.message; }
    }}, "Show the uncommitted patch"), holder);
  }
  return L.section("Code", ...body);
}

async function previewArtifact(art, holder) {
  const url = "/api/run/" + encodeURIComponent(runId);
  const name = encodeURIComponent(art.name).replace(/%2F/g, "/");
  if (art.kind === "image") {
    L.fill(holder, L.h("img", {src: url + "/artifact/" + name, alt: art.name, class: "artifact-image"}));
    return;
  }
  try {
    const p = await L.getJSON(url + "/preview/" + name);
    if (p.kind === "table") {
      const [first, ...rest] = p.rows;
      L.fill(holder, L.h("table", {class: "csv"}, L.h("thead", {}, L.h("tr", {}, (first || []).map((c) => L.h("th", {}, c)))),
        L.h("tbody", {}, rest.map((r) => L.h("tr", {}, r.map((c) => L.h("td", {}, c)))))), p.truncated ? L.h("p", {class: "muted"}, "first rows only") : null);
    } else if (p.kind === "text" || p.kind === "json") {
      L.fill(holder, L.h("pre", {class: "preview"}, p.text), p.truncated ? L.h("p", {class: "muted"}, "truncated") : null);
    } else {
      L.fill(holder, L.h("p", {class: "muted"}, p.reason || "no preview for this kind of file"));
    }
  } catch (e) {
    L.fill(holder, L.h("p", {class: "muted"}, e.message));
  }
}

function artifactsSection(detail) {
  if (!detail.artifacts.length) return null;
  const list = detail.artifacts.map((art) => {
    const holder = L.h("div", {class: "artifact-preview"});
    const item = L.h("div", {class: "artifact"}, L.h("div", {}, L.h("b", {}, art.name), " ", L.h("span", {class: "muted"}, [art.artifact_kind, art.store, art.size != null ? art.size.toLocaleString() + " B" : ""].filter(Boolean).join(" · "))), holder);
    if (art.store === "dvc") holder.append(L.h("p", {class: "muted"}, "kept in DVC's cache: ledger artifact get " + runId + " " + art.name));
    else if (art.kind !== "binary") previewArtifact(art, holder);
    return item;
  });
  return L.section("Artifacts", ...list);
}

function errorSection(rec) {
  const err = rec.error;
  if (!err) return null;
  return L.section("Error", L.h("p", {}, String(err.type || "") + ": " + String(err.message || "")), err.traceback ? L.h("pre", {class: "traceback"}, err.traceback) : null);
}

function chartsSection(detail) {
  if (!detail.series.length) return null;
  const slider = L.h("input", {type: "range", min: "0", max: "0.99", step: "0.01", value: String(state.smoothing), id: "smoothing"});
  slider.addEventListener("input", () => { state.smoothing = Number(slider.value); drawSeries(); });
  const log = L.h("input", {type: "checkbox", id: "logscale"});
  log.checked = state.log;
  log.addEventListener("change", () => { state.log = log.checked; drawSeries(); });
  return L.section("Step series",
    L.h("div", {class: "chart-controls"}, L.h("label", {}, "smoothing ", slider), L.h("label", {}, log, " log scale")),
    L.h("div", {id: "series", class: "chart-grid"}, detail.series.map((m) => L.h("div", {class: "chart", "data-metric": m}))));
}

async function loadSeries(detail) {
  if (!detail.series.length) return;
  const width = Math.max(200, Math.round((document.getElementById("series").clientWidth || 900) / (detail.series.length > 1 ? 2 : 1)));
  const answer = await L.getJSON("/api/run/" + encodeURIComponent(runId) + "/series?width=" + width + "&metrics=" + detail.series.map(encodeURIComponent).join(","));
  state.series = answer.series;
  await drawSeries();
}

async function drawSeries() {
  if (!state.series) return;
  const Plotly = await L.plotly();
  for (const holder of document.querySelectorAll("#series .chart")) {
    const metric = holder.dataset.metric;
    const s = state.series[metric];
    if (!s) continue;
    const traces = [{x: s.steps, y: s.values, name: L.plotText(metric), mode: "lines", line: {width: 1, color: state.smoothing ? "#b8c4dc" : "#2c5aa0"}, hovertemplate: "step %{x}<br>%{y}<extra></extra>"}];
    if (state.smoothing) traces.push({x: s.steps, y: L.smooth(s.values, state.smoothing), name: "smoothed", mode: "lines", line: {width: 2, color: "#2c5aa0"}});
    const title = L.plotText(metric) + (s.count > s.steps.length ? " (" + s.count.toLocaleString() + " points, " + s.steps.length.toLocaleString() + " drawn)" : "");
    await Plotly.react(holder, traces, L.plotLayout({title: {text: title, font: {size: 13}}, showlegend: false,
      xaxis: {title: {text: "step"}}, yaxis: {type: state.log ? "log" : "linear"}}), L.plotConfig);
    holder.dataset.drawn = "1";
  }
}

async function load() {
  const detail = await L.getJSON("/api/run/" + encodeURIComponent(runId));
  const rec = detail.record;
  document.title = (rec.name || rec.id) + " · ledger";
  const params = Object.entries(L.flatten(rec.params || {}));
  const metrics = Object.entries(rec.metrics || {});
  const main = document.getElementById("main");
  L.fill(main, 
    header(rec, detail),
    liveBox(detail),
    textBlock("Description", rec.description),
    L.h("div", {class: "columns"},
      L.section("Params", params.length ? L.kvTable(params) : L.h("p", {class: "muted"}, "none")),
      L.section("Metrics", metrics.length ? L.kvTable(metrics) : L.h("p", {class: "muted"}, "none")),
      L.section("Tags", Object.keys(rec.tags || {}).length ? L.kvTable(Object.entries(rec.tags)) : L.h("p", {class: "muted"}, "none"))),
    chartsSection(detail),
    textBlock("Notes", rec.notes),
    errorSection(rec),
    dataTable(detail.data),
    codeSection(rec, detail),
    artifactsSection(detail),
    L.h("div", {class: "columns"},
      rec.env ? L.section("Environment", L.kvTable(Object.entries(rec.env).filter(([k]) => k !== "packages"))) : null,
      rec.hardware ? L.section("Hardware", L.kvTable(Object.entries(L.flatten(rec.hardware)))) : null,
      rec.resources || rec.cost ? L.section("Resources and cost", L.kvTable([...Object.entries(rec.resources || {}), ...Object.entries(rec.cost || {}).map(([k, v]) => ["cost." + k, v])])) : null),
  );
  await loadSeries(detail);
  document.body.dataset.loaded = String(Date.now());
  document.body.dataset.status = rec.status;
}

document.addEventListener("DOMContentLoaded", async () => {
  L.project();
  try { await load(); } catch (e) { L.showError(e.message); }
  L.live(async () => { try { await load(); } catch (e) { L.showError(e.message); } });
});
