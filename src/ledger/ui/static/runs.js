// The runs table: filter (the --where grammar), sort, columns, paging on the server, select
// runs to compare; refreshes itself when the repository changes.
"use strict";

const view = {
  where: L.param("where") || "",
  sort: L.param("sort") || "",
  order: L.param("order") || "desc",
  columns: (L.param("columns") || "").split(",").filter(Boolean),
  offset: Number(L.param("offset") || 0),
  limit: 50,
  selected: new Set(),
  defaults: [],
};

function remember() {
  const q = new URLSearchParams();
  if (view.where) q.set("where", view.where);
  if (view.sort) { q.set("sort", view.sort); q.set("order", view.order); }
  if (view.columns.length) q.set("columns", view.columns.join(","));
  if (view.offset) q.set("offset", String(view.offset));
  const text = q.toString();
  history.replaceState(null, "", text ? "/?" + text : "/");
}

function columnLabel(column) {
  return column.replace(/^metrics\./, "").replace(/^params\./, "params.").replace("started_at", "started").replace("duration_s", "duration");
}

function cell(column, value) {
  if (column === "status") return L.h("td", {}, L.chip(value));
  if (column === "started_at") return L.h("td", {class: "nowrap"}, L.when(value));
  if (column === "duration_s") return L.h("td", {class: "num"}, L.duration(value));
  return L.h("td", {class: typeof value === "number" ? "num" : null}, L.fmt(value));
}

function build() {
  const main = document.getElementById("main");
  L.fill(main);
  const input = L.h("input", {type: "search", id: "where", placeholder: "filter: metrics.auc > 0.9 and params.model.type = 'xgb'",
                               value: view.where, spellcheck: "false", autocomplete: "off"});
  input.value = view.where;
  const form = L.h("form", {class: "filter", onsubmit: (e) => { e.preventDefault(); view.where = input.value.trim(); view.offset = 0; load(); }},
    input, L.h("button", {type: "submit"}, "Filter"), L.h("span", {id: "where-error", class: "where-error", role: "status"}));
  input.addEventListener("search", () => { if (!input.value) { view.where = ""; view.offset = 0; load(); } });
  const tools = L.h("div", {class: "tools"},
    L.h("div", {id: "chips", class: "chips"}),
    L.h("details", {id: "picker", class: "picker"}, L.h("summary", {}, "Columns"), L.h("div", {id: "picker-body"}, "…")),
    L.h("button", {id: "compare", type: "button", disabled: true, onclick: compareSelected}, "Compare selected"),
    L.h("a", {href: "/charts", class: "button"}, "Charts"));
  main.append(form, tools, L.h("div", {class: "scroll"}, L.h("table", {id: "runs", class: "runs"})),
              L.h("div", {id: "pager", class: "pager"}));
  document.getElementById("picker").addEventListener("toggle", fillPicker, {once: true});
}

function compareSelected() {
  window.location.href = "/compare?ids=" + [...view.selected].map(encodeURIComponent).join(",");
}

function updateCompare() {
  const button = document.getElementById("compare");
  button.disabled = view.selected.size < 2;
  button.textContent = view.selected.size ? "Compare " + view.selected.size + " selected" : "Compare selected";
}

async function fillPicker() {
  const body = document.getElementById("picker-body");
  try {
    const offered = await L.getJSON("/api/columns");
    L.fill(body);
    const current = view.columns.length ? view.columns : view.defaults;
    for (const [group, names] of Object.entries(offered)) {
      const box = L.h("fieldset", {}, L.h("legend", {}, group));
      for (const name of names) {
        const check = L.h("input", {type: "checkbox", value: name});
        check.checked = current.includes(name);
        check.addEventListener("change", () => {
          const base = view.columns.length ? view.columns : [...view.defaults];
          view.columns = check.checked ? [...base, name] : base.filter((c) => c !== name);
          load();
        });
        box.append(L.h("label", {}, check, " " + name));
      }
      body.append(box);
    }
    const extra = L.h("input", {type: "text", placeholder: "any column, e.g. params.model.depth"});
    body.append(L.h("form", {class: "add-column", onsubmit: (e) => {
      e.preventDefault();
      if (!extra.value.trim()) return;
      view.columns = [...(view.columns.length ? view.columns : view.defaults), extra.value.trim()];
      extra.value = "";
      load();
    }}, extra, L.h("button", {type: "submit"}, "Add")));
  } catch (e) {
    body.textContent = e.message;
  }
}

function render(page) {
  const table = document.getElementById("runs");
  const head = L.h("tr", {}, L.h("th", {class: "pick"}, ""));
  for (const column of page.columns) {
    const sorted = view.sort === column || (!view.sort && column === "started_at");
    const arrow = sorted ? ((view.sort ? view.order : "desc") === "desc" ? " ▼" : " ▲") : "";
    head.append(L.h("th", {class: "sortable", title: "sort by " + column, "data-column": column, onclick: () => {
      if (view.sort === column) view.order = view.order === "desc" ? "asc" : "desc";
      else { view.sort = column; view.order = column === "name" ? "asc" : "desc"; }
      view.offset = 0;
      load();
    }}, columnLabel(column) + arrow));
  }
  const rows = page.rows.map((row) => {
    const check = L.h("input", {type: "checkbox", "aria-label": "select " + row.id});
    check.checked = view.selected.has(row.id);
    check.addEventListener("change", () => { if (check.checked) view.selected.add(row.id); else view.selected.delete(row.id); updateCompare(); });
    const tr = L.h("tr", {class: "status-" + row.status, "data-id": row.id}, L.h("td", {class: "pick"}, check));
    page.columns.forEach((column, i) => {
      if (column === "name") tr.append(L.h("td", {}, L.h("a", {href: L.runHref(row.id), title: row.id}, L.fmt(row.cells[i] || row.id))));
      else tr.append(cell(column, row.cells[i]));
    });
    return tr;
  });
  if (!page.columns.includes("name")) {
    rows.forEach((tr, i) => tr.children[0].append(" ", L.h("a", {href: L.runHref(page.rows[i].id)}, "open")));
  }
  L.fill(table, L.h("thead", {}, head), L.h("tbody", {}, rows));
  const chips = document.getElementById("chips");
  L.fill(chips, L.h("span", {class: "muted"}, page.total.toLocaleString() + " of " + page.runs.toLocaleString() + " runs"));
  for (const [status, count] of Object.entries(page.counts)) {
    chips.append(L.h("button", {type: "button", class: "chip " + status, title: "only " + status + " runs", onclick: () => {
      const clause = "status = '" + status + "'";
      view.where = view.where ? "(" + view.where + ") and " + clause : clause;
      document.getElementById("where").value = view.where;
      view.offset = 0;
      load();
    }}, status + " " + count.toLocaleString()));
  }
  const pager = document.getElementById("pager");
  const last = Math.min(page.offset + page.limit, page.total);
  L.fill(pager, 
    L.h("button", {type: "button", disabled: page.offset === 0, onclick: () => { view.offset = Math.max(0, page.offset - view.limit); load(); }}, "← newer"),
    L.h("span", {}, page.total ? (page.offset + 1).toLocaleString() + "–" + last.toLocaleString() + " of " + page.total.toLocaleString() : "no runs match"),
    L.h("button", {type: "button", disabled: last >= page.total, onclick: () => { view.offset = page.offset + view.limit; load(); }}, "older →"));
  updateCompare();
}

let loading = 0;
async function load() {
  const mine = ++loading;
  remember();
  const q = new URLSearchParams({offset: String(view.offset), limit: String(view.limit)});
  if (view.where) q.set("where", view.where);
  if (view.sort) { q.set("sort", view.sort); q.set("order", view.order); }
  if (view.columns.length) q.set("columns", view.columns.join(","));
  const error = document.getElementById("where-error");
  try {
    const page = await L.getJSON("/api/runs?" + q.toString());
    if (mine !== loading) return;
    error.textContent = "";
    document.getElementById("where").classList.remove("bad");
    render(page);
    document.body.dataset.loaded = String(mine);
  } catch (e) {
    if (mine !== loading) return;
    if (e.status === 400) {
      error.textContent = e.message;
      document.getElementById("where").classList.add("bad");
    } else {
      L.showError(e.message);
    }
    document.body.dataset.loaded = String(mine);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  build();
  const meta = await L.project();
  view.defaults = meta ? meta.default_columns : [];
  await load();
  L.live(async () => { await L.project(); await load(); });
});
