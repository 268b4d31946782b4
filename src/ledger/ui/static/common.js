// ledger ui: helpers shared by every page. Record text only ever reaches the page as text
// (textContent / text nodes), never as markup: see h() below.
"use strict";

const L = {};

// An element: h("td", {class: "num", title: "x"}, "text", otherNode). Strings become text
// nodes, so record text is shown as typed, never parsed as HTML.
L.h = function (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "onclick" || key === "oninput" || key === "onchange" || key === "onsubmit") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "href") {
      node.setAttribute("href", L.safeHref(value));
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  return L.fill(node, ...children, true);
};

// Control characters (terminal escapes, bidirectional overrides that reorder text) are
// shown as "?", as the CLI shows them.
L.clean = (text) => String(text).replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g, "?");

// Replace a node's children (or append, with a final `true`): nested arrays are flattened,
// null/undefined/false skipped, strings become text nodes.
L.fill = function (node, ...children) {
  const append = children.length && children[children.length - 1] === true;
  if (append) children.pop();
  const nodes = children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(L.clean(c))));
  if (append) node.append(...nodes); else node.replaceChildren(...nodes);
  return node;
};

// Only links into this app: anything else (javascript:, data:, other hosts) becomes "#".
L.safeHref = function (value) {
  const text = String(value);
  return text.startsWith("/") && !text.startsWith("//") ? text : "#";
};

L.runHref = (id) => "/run/" + encodeURIComponent(id);

L.getJSON = async function (url) {
  const response = await fetch(url, {credentials: "same-origin", cache: "no-store"});
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const error = new Error((body && body.error) || ("HTTP " + response.status));
    error.status = response.status;
    throw error;
  }
  return body;
};

L.showError = function (message) {
  const box = document.getElementById("error");
  if (!message) { box.hidden = true; box.textContent = ""; return; }
  box.hidden = false;
  box.textContent = message;
};

L.fmt = function (value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return Number(value.toPrecision(6)).toString();
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
};

L.when = (ts) => (typeof ts === "string" ? ts.slice(0, 19).replace("T", " ") : "");

L.duration = function (seconds) {
  if (typeof seconds !== "number") return "";
  if (seconds < 60) return seconds.toFixed(1) + " s";
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  if (m < 60) return m + " min " + s + " s";
  return Math.floor(m / 60) + " h " + (m % 60) + " min";
};

L.chip = (status) => L.h("span", {class: "chip " + String(status || "unknown")}, status || "?");

L.flatten = function (obj, prefix, out) {
  out = out || {};
  for (const [key, value] of Object.entries(obj || {})) {
    const name = prefix ? prefix + "." + key : key;
    if (value && typeof value === "object" && !Array.isArray(value)) L.flatten(value, name, out);
    else out[name] = value;
  }
  return out;
};

// A two-column table of key/value pairs.
L.kvTable = function (pairs, cls) {
  const rows = pairs.map(([k, v]) => L.h("tr", {}, L.h("th", {}, k), L.h("td", {class: typeof v === "number" ? "num" : null}, L.fmt(v))));
  return L.h("table", {class: "kv " + (cls || "")}, L.h("tbody", {}, rows));
};

L.section = (title, ...body) => L.h("section", {}, L.h("h2", {}, title), ...body);

// A unified diff, line by line, coloured by its first character.
L.diff = function (text) {
  const pre = L.h("pre", {class: "diff"});
  for (const line of String(text || "").split("\n")) {
    let cls = "ctx";
    if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ") || line.startsWith("index ")) cls = "file";
    else if (line.startsWith("@@")) cls = "hunk";
    else if (line.startsWith("+")) cls = "add";
    else if (line.startsWith("-")) cls = "del";
    pre.append(L.h("span", {class: cls}, line + "\n"));
  }
  return pre;
};

// Exponential moving average, debiased (as TensorBoard smooths); gaps stay gaps.
L.smooth = function (values, weight) {
  if (!weight) return values;
  let last = 0, count = 0;
  return values.map((v) => {
    if (v === null || v === undefined) return null;
    count += 1;
    last = last * weight + (1 - weight) * v;
    return last / (1 - Math.pow(weight, count));
  });
};

// Plotly is 4.8 MB: loaded (from this server) only by the pages that draw charts.
L.plotly = function () {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!L._plotly) {
    L._plotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/static/plotly.min.js";
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error("could not load the chart library"));
      document.head.append(script);
    });
  }
  return L._plotly;
};

L.plotConfig = {displaylogo: false, responsive: true, showLink: false, showSendToCloud: false,
                modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"]};
L.plotLayout = function (extra) {
  return Object.assign({margin: {l: 56, r: 16, t: 32, b: 44}, height: 300, font: {size: 12},
                        hovermode: "closest", paper_bgcolor: "#fff", plot_bgcolor: "#fff"}, extra || {});
};

// Live updates: every 2 s ask for the repository's token (a few stat calls on the server);
// when it changes, the page reloads its data.
L.live = function (onChange) {
  const badge = document.getElementById("live");
  let token = null, busy = false;
  async function tick() {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const state = await L.getJSON("/api/state");
      badge.textContent = "● live";
      badge.className = "live on";
      if (token !== null && state.token !== token) await onChange(state);
      token = state.token;
    } catch (e) {
      badge.textContent = "○ offline";
      badge.className = "live off";
    } finally {
      busy = false;
    }
  }
  tick();
  return setInterval(tick, 2000);
};

L.project = async function () {
  try {
    const meta = await L.getJSON("/api/meta");
    const where = meta.rev ? "rev " + meta.rev : meta.all ? "all branches" : (meta.branch || "detached HEAD");
    const project = document.getElementById("project");
    L.fill(project, meta.experiment + " · " + where + " · " + meta.runs.toLocaleString() + " runs");
    if (meta.skipped_count) {
      project.append(" · ", L.h("span", {class: "error", title: meta.skipped.join("\n")}, meta.skipped_count + " bad records skipped"));
    }
    return meta;
  } catch (e) {
    L.showError(e.message);
    return null;
  }
};

L.param = (name) => new URLSearchParams(window.location.search).get(name);

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  for (const link of document.querySelectorAll("nav a[data-nav]")) {
    if (link.dataset.nav === page) link.classList.add("here");
  }
});

// Plotly reads a few tags (<b>, <br>, <a href>) in its labels: record text goes in escaped,
// so a name like "<b>x</b>" is drawn as typed.
L.plotText = (text) => String(text === null || text === undefined ? "" : text)
  .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
