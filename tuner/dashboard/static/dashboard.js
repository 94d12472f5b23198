/* The dashboard's script: fills the pages from /dashboard-api and /api/v1, draws plotly figures, follows
   running experiments and runs with a back-off, and switches the theme. No framework, no network beyond
   this server. Ready markers for tests and benchmarks: body.dataset.figuresReady, tableReady, ... = "1". */
"use strict";

(function () {
  const body = document.body;
  const base = body.dataset.base || "";
  const RUNNING = new Set(["Created", "Running", "Restarting", "Pending"]);
  const GL_THRESHOLD = 1000; // scatter traces with more points are drawn with WebGL (scattergl)
  // Per-figure options: PED-ANOVA answers in a fraction of fANOVA's time on thousands of trials; parallel
  // coordinates draw 500 lines (the best and an even sample): WebGL lines cost ~1.5 ms each in software.
  const FIGURE_OPTIONS = { importance: "evaluator=ped-anova", parallel: "max_points=500" };

  // ---- helpers ------------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  class HttpError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function request(url, as) {
    const reply = await fetch(base + url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!reply.ok) {
      let detail = reply.statusText;
      try {
        const problem = await reply.json();
        detail = problem.detail || detail;
      } catch (e) { /* not JSON */ }
      throw new HttpError(reply.status, detail);
    }
    return as === "text" ? reply.text() : reply.json();
  }

  function pageData() {
    const node = document.getElementById("page-data");
    return node ? JSON.parse(node.textContent) : {};
  }

  function fmt(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
    return String(value);
  }

  function path(...parts) {
    return parts.map(encodeURIComponent).join("/");
  }

  // Follow something that changes: call `step` now and again after a delay that grows while nothing
  // changes (1 s up to 10 s) and resets when it does; stops when `step` answers "done".
  function follow(step) {
    let delay = 1000;
    const tick = async () => {
      let outcome = "same";
      try {
        outcome = await step();
      } catch (e) {
        outcome = "error";
      }
      if (outcome === "done") return;
      delay = outcome === "changed" ? 1000 : Math.min(delay * 1.6, 10000);
      setTimeout(tick, delay);
    };
    setTimeout(tick, delay);
  }

  // ---- theme ----------------------------------------------------------------------------------------
  function isDark() {
    const chosen = document.documentElement.dataset.theme;
    if (chosen) return chosen === "dark";
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }

  function themeLayout(layout) {
    const dark = isDark();
    const fg = dark ? "#d8dde6" : "#1f2933";
    const grid = dark ? "#3a4250" : "#e3e7ec";
    const update = {
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      "font.color": fg,
    };
    for (const key of Object.keys(layout || {})) {
      if (/^[xy]axis\d*$/.test(key)) {
        update[key + ".gridcolor"] = grid;
        update[key + ".zerolinecolor"] = grid;
        update[key + ".linecolor"] = grid;
      }
    }
    return update;
  }

  function applyUpdate(layout, update) {
    for (const [key, value] of Object.entries(update)) {
      const parts = key.split(".");
      let target = layout;
      for (const part of parts.slice(0, -1)) {
        if (typeof target[part] !== "object" || target[part] === null) target[part] = {};
        target = target[part];
      }
      target[parts[parts.length - 1]] = value;
    }
    return layout;
  }

  function setupTheme() {
    const button = document.getElementById("theme-toggle");
    if (!button) return;
    const show = () => {
      body.dataset.theme = isDark() ? "dark" : "light";
      button.setAttribute("aria-pressed", isDark() ? "true" : "false");
    };
    show();
    button.addEventListener("click", () => {
      const next = isDark() ? "light" : "dark";
      document.documentElement.dataset.theme = next;
      try { localStorage.setItem("tuner-theme", next); } catch (e) { /* private mode */ }
      show();
      if (window.Plotly) {
        for (const plot of document.querySelectorAll(".js-plotly-plot")) {
          window.Plotly.relayout(plot, themeLayout(plot.layout));
        }
      }
    });
  }

  // ---- figures --------------------------------------------------------------------------------------
  function pointCount(trace) {
    return Array.isArray(trace.x) ? trace.x.length : Array.isArray(trace.y) ? trace.y.length : 0;
  }

  function draw(target, figure) {
    const data = (figure.data || []).map((trace) => {
      if ((trace.type === "scatter" || trace.type === undefined) && pointCount(trace) > GL_THRESHOLD) {
        return Object.assign({}, trace, { type: "scattergl" });
      }
      return trace;
    });
    const layout = applyUpdate(Object.assign({ autosize: true }, figure.layout || {}), themeLayout(figure.layout));
    delete layout.template; // the theme comes from the page's colours
    target.textContent = "";
    const started = performance.now();
    return window.Plotly.react(target, data, layout, { responsive: true, displaylogo: false }).then((plot) => {
      performance.measure("tuner-draw-" + (target.id || "figure"), { start: started }); // for benchmarks
      return plot;
    });
  }

  // One figure at a time, the browser painting between two: each figure shows as soon as it is drawn
  // instead of all of them after the last (plotly's synchronous work for nine figures takes seconds).
  let drawing = Promise.resolve();
  function yieldToPaint() {
    return new Promise((resolve) => {
      const next = () => setTimeout(resolve, 0);
      if (document.hidden) next(); // no animation frames in a hidden tab
      else requestAnimationFrame(next);
    });
  }
  function drawInTurn(target, figure) {
    const turn = drawing.then(() => draw(target, figure));
    drawing = turn.then(yieldToPaint, yieldToPaint);
    return turn;
  }

  // plotly.min.js (4.5 MB, 1-3 s to parse) is loaded by this script, after the page's data requests have
  // left, so that the server draws the figures while the browser parses plotly (the <link rel=preload>
  // in the page has fetched it already; the browser keeps it a year).
  let plotlyLoading = null;
  function plotlyReady() {
    if (window.Plotly) return Promise.resolve();
    if (!plotlyLoading) {
      plotlyLoading = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = body.dataset.plotly;
        script.onload = () => {
          performance.mark("tuner-plotly-loaded");
          resolve();
        };
        script.onerror = () => reject(new Error("could not load plotly.min.js from this server"));
        document.head.append(script);
      });
    }
    return plotlyLoading;
  }

  function showError(target, error) {
    target.textContent = "";
    target.append(el("p", { class: "muted figure-note", text: error.message || String(error) }));
  }

  // ---- experiments list -----------------------------------------------------------------------------
  function experimentsPage() {
    const table = document.getElementById("experiments");
    if (!table || table.dataset.live !== "1") return;
    follow(async () => {
      const listing = await request("/dashboard-api/experiments");
      let running = false;
      let changed = false;
      for (const row of listing.items) {
        const tr = table.querySelector(`tr[data-ref="${CSS.escape(row.namespace + "/" + row.name)}"]`);
        if (!tr) continue;
        running = running || RUNNING.has(row.state);
        const state = tr.querySelector('[data-field="state"]');
        if (state.textContent !== row.state) changed = true;
        state.textContent = row.state;
        state.className = "state state-" + row.state;
        tr.querySelector(".progress .bar").style.width = ((row.progress || 0) * 100).toFixed(1) + "%";
        tr.querySelector('[data-field="progress"] .muted').textContent = `${row.done}/${row.maxTrials || "?"}`;
        tr.querySelector('[data-field="best"]').textContent = row.bestValue === null ? "" : fmt(row.bestValue);
      }
      return running ? (changed ? "changed" : "same") : "done";
    });
  }

  // ---- experiment page ------------------------------------------------------------------------------
  function experimentPage() {
    const info = pageData();
    const api = "/dashboard-api/experiments/" + path(info.namespace, info.name);
    const query = { page: 1, size: 50, sort: "number", order: "asc", states: [], filter: "" };
    let pages = 1;
    let tableShown = null; // the first table: plotly (seconds of parsing) is loaded once it is on screen

    function params(withPage) {
      const search = new URLSearchParams();
      for (const s of query.states) search.append("state", s);
      if (query.filter) search.set("filter", query.filter);
      search.set("sort", query.sort);
      search.set("order", query.order);
      if (withPage) {
        search.set("page", String(query.page));
        search.set("size", String(query.size));
      }
      return search.toString();
    }

    function header(table, result) {
      const columns = [["number", "#"], ["state", "State"]]
        .concat(result.params.map((p) => ["param:" + p, p]))
        .concat(result.metrics.map((m) => ["metric:" + m, m]));
      const row = el("tr");
      for (const [key, label] of columns) {
        const sorted = query.sort === key;
        const th = el("th", {
          "data-sort": key,
          class: "sortable" + (sorted ? " sorted" : ""),
          "aria-sort": sorted ? (query.order === "asc" ? "ascending" : "descending") : "none",
          title: "Sort by " + label,
        }, label + (sorted ? (query.order === "asc" ? " ▲" : " ▼") : ""));
        th.addEventListener("click", () => {
          if (query.sort === key) query.order = query.order === "asc" ? "desc" : "asc";
          else { query.sort = key; query.order = "asc"; }
          query.page = 1;
          loadTable();
        });
        row.append(th);
      }
      table.tHead.replaceChildren(row);
    }

    function bestCard(result) {
      const target = document.getElementById("best-body");
      const best = result.best;
      target.className = "";
      if (!best) {
        target.className = "muted";
        target.textContent = "No trial has reported the objective yet.";
        return;
      }
      const value = best.metrics[result.objective.name];
      const list = el("dl", { class: "pairs" });
      for (const [k, v] of Object.entries(best.params)) list.append(el("dt", { text: k }), el("dd", { text: fmt(v) }));
      target.replaceChildren(
        el("p", {},
          el("a", { href: `${base}/experiments/${path(info.namespace, info.name)}/trials/${encodeURIComponent(best.name)}`, id: "best-trial-link", text: best.name }),
          ` · ${result.objective.name} = `,
          el("b", { id: "best-value", text: fmt(value) }),
          ` (${result.objective.goal})`),
        list);
    }

    async function loadTable() {
      const table = document.getElementById("trials");
      const error = document.getElementById("filter-error");
      let result;
      try {
        result = await request(`${api}/trials?${params(true)}`);
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
        body.dataset.tableReady = "1";
        return;
      }
      error.hidden = true;
      header(table, result);
      const rows = result.rows.map((r) => {
        const link = el("a", { href: `${base}/experiments/${path(info.namespace, info.name)}/trials/${encodeURIComponent(r.name)}`, text: String(r.number) });
        const tr = el("tr", { "data-trial": r.name }, el("td", {}, link), el("td", {}, el("span", { class: "state state-" + r.state, text: r.state })));
        for (const p of result.params) tr.append(el("td", { class: "num", text: fmt(r.params[p]) }));
        for (const m of result.metrics) tr.append(el("td", { class: "num", text: fmt(r.metrics[m]) }));
        return tr;
      });
      table.tBodies[0].replaceChildren(...rows);
      pages = Math.max(1, Math.ceil(result.matched / result.size));
      document.getElementById("page-info").textContent = `Page ${result.page} of ${pages}`;
      document.getElementById("prev-page").disabled = result.page <= 1;
      document.getElementById("next-page").disabled = result.page >= pages;
      document.getElementById("trial-matched").textContent =
        result.matched === result.total ? `${result.total} trials` : `${result.matched} of ${result.total} trials match`;
      document.getElementById("csv-export").href = `${base}${api}/trials.csv?${params(false)}`;
      bestCard(result);
      if (!body.dataset.tableReady) performance.mark("tuner-table-ready");
      body.dataset.tableReady = "1";
      body.dataset.tableRows = String(result.rows.length);
    }

    // A figure's options: the page's defaults and the axis scales chosen above it (auto when unset).
    function figureQuery(kind) {
      const search = new URLSearchParams(FIGURE_OPTIONS[kind] || "");
      for (const select of document.querySelectorAll(`.figure-tools[data-for="${kind}"] select`)) {
        if (select.value) search.set(select.dataset.option, select.value);
      }
      const text = search.toString();
      return text ? "?" + text : "";
    }

    async function loadFigure(kind) {
      const target = document.getElementById("fig-" + kind);
      try {
        const [figure] = await Promise.all([
          request(`${api}/figures/${kind}${figureQuery(kind)}`),
          tableShown.then(plotlyReady),
        ]);
        if (figure.unavailable) {
          showError(target, new Error(`${kind}: ${figure.unavailable}`));
          target.dataset.drawn = "unavailable";
        } else {
          await drawInTurn(target, figure);
          target.dataset.drawn = "1";
        }
      } catch (e) {
        showError(target, e);
        target.dataset.drawn = "error";
      }
    }

    for (const tools of document.querySelectorAll(".figure-tools")) {
      tools.addEventListener("change", async () => {
        body.dataset.figuresReady = "0";
        await loadFigure(tools.dataset.for);
        body.dataset.figuresReady = "1";
      });
    }

    async function loadFigures() {
      const jobs = info.figures.map((kind) => loadFigure(kind));
      await Promise.allSettled(jobs);
      if (!body.dataset.figuresReady) performance.mark("tuner-figures-ready"); // first time: for benchmarks
      body.dataset.figuresReady = "1";
    }

    const form = document.getElementById("trial-query");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      query.states = Array.from(form.querySelectorAll('input[name="state"]:checked')).map((i) => i.value);
      query.filter = document.getElementById("trial-filter").value.trim();
      query.page = 1;
      body.dataset.tableReady = "0";
      loadTable();
    });
    for (const box of form.querySelectorAll('input[name="state"]')) {
      box.addEventListener("change", () => form.requestSubmit());
    }
    document.getElementById("prev-page").addEventListener("click", () => { query.page = Math.max(1, query.page - 1); loadTable(); });
    document.getElementById("next-page").addEventListener("click", () => { query.page = Math.min(pages, query.page + 1); loadTable(); });

    tableShown = loadTable();
    loadFigures();

    if (RUNNING.has(info.state)) {
      let version = null;
      const live = document.getElementById("live-status");
      live.textContent = "live";
      follow(async () => {
        const summary = await request(`${api}/summary`);
        document.getElementById("exp-state").textContent = summary.state;
        document.getElementById("exp-state").className = "state state-" + summary.state;
        document.getElementById("trial-count").textContent = String(summary.trialCount);
        const bar = document.querySelector("#exp-progress .bar");
        if (bar) bar.style.width = ((summary.progress || 0) * 100).toFixed(1) + "%";
        const finished = !RUNNING.has(summary.state);
        if (version !== null && summary.version === version && !finished) return "same";
        const first = version === null;
        version = summary.version;
        if (!first || finished) {
          await loadTable();
          await loadFigures();
        }
        body.dataset.liveVersion = version;
        if (finished) {
          live.textContent = "";
          body.dataset.liveDone = "1";
          return "done";
        }
        return "changed";
      });
    }
  }

  // ---- trial page -----------------------------------------------------------------------------------
  function trialPage() {
    const info = pageData();
    const api = "/api/v1/experiments/" + path(info.namespace, info.name) + "/trials/" + encodeURIComponent(info.trial);

    async function series() {
      await plotlyReady();
      const target = document.getElementById("fig-series");
      try {
        const reply = await request(`${api}/metrics`);
        const traces = reply.metrics.map((m) => ({
          type: m.points.length > GL_THRESHOLD ? "scattergl" : "scatter",
          mode: m.points.length > 1 ? "lines+markers" : "markers",
          name: m.name,
          x: m.points.map((p, i) => (p.step === null ? i : p.step)),
          y: m.points.map((p) => p.value),
        }));
        if (!traces.length) {
          target.textContent = "No metric reported yet.";
        } else {
          await draw(target, { data: traces, layout: { xaxis: { title: { text: "step" } }, yaxis: { title: { text: "value" } }, margin: { t: 30 } } });
        }
      } catch (e) {
        showError(target, e);
      }
      body.dataset.figuresReady = "1";
    }

    async function log() {
      const target = document.getElementById("trial-log");
      if (!info.hasLog && !info.running) {
        target.textContent = "This trial has no log (it was not run by this server's trial runner).";
        body.dataset.logReady = "1";
        return;
      }
      try {
        target.textContent = await request(`${api}/logs`, "text");
      } catch (e) {
        target.textContent = e.status === 404 ? e.message : "Could not read the log: " + e.message;
      }
      body.dataset.logReady = "1";
    }

    series();
    log();
    if (info.running) {
      follow(async () => {
        const trial = await request(api);
        const state = (trial.status && trial.status.conditions || []).filter((c) => c.status === "True").map((c) => c.type).pop();
        await series();
        await log();
        return state && !RUNNING.has(state) ? "done" : "changed";
      });
    }
  }

  // ---- compare page ---------------------------------------------------------------------------------
  async function comparePage() {
    const info = pageData();
    if (!info.experiments || !info.experiments.length) return;
    const search = new URLSearchParams();
    for (const e of info.experiments) search.append("e", e);
    const target = document.getElementById("fig-compare");
    try {
      const reply = await request(`/dashboard-api/compare?${search}`);
      const tbody = document.querySelector("#compare-table tbody");
      tbody.replaceChildren(...reply.rows.map((r) => el("tr", { "data-ref": `${r.namespace}/${r.name}` },
        el("td", {}, el("a", { href: `${base}/experiments/${path(r.namespace, r.name)}`, text: `${r.namespace}/${r.name}` })),
        el("td", {}, el("span", { class: "state state-" + r.state, text: r.state })),
        el("td", { text: r.algorithm }),
        el("td", { class: "num", text: String(r.trials) }),
        el("td", { class: "num", text: fmt(r.bestValue) }))));
      if (reply.missing.length) {
        const missing = document.getElementById("compare-missing");
        missing.textContent = "Not found: " + reply.missing.join(", ");
        missing.hidden = false;
      }
      await plotlyReady();
      await draw(target, reply.figure);
    } catch (e) {
      showError(target, e);
    }
    body.dataset.figuresReady = "1";
  }

  // ---- login page -----------------------------------------------------------------------------------
  function loginPage() {
    const form = document.getElementById("login-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = document.getElementById("login-error");
      const reply = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ token: document.getElementById("token").value.trim() }),
      });
      if (reply.ok) {
        window.location.assign(form.dataset.next || base + "/");
        return;
      }
      let detail = "Login failed";
      try { detail = (await reply.json()).detail || detail; } catch (e) { /* not JSON */ }
      error.textContent = detail;
      error.hidden = false;
    });
  }

  // ---- pipeline run page ----------------------------------------------------------------------------
  function runPage() {
    const info = pageData();
    const api = "/api/v1/runs/" + path(info.namespace, info.id);
    const SVG = "http://www.w3.org/2000/svg";
    let selected = null;

    function svg(tag, attrs, text) {
      const node = document.createElementNS(SVG, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      if (text !== undefined) node.textContent = text;
      return node;
    }

    function levels(run) {
      const groups = {};
      for (const t of run.tasks) (groups[t.task] = groups[t.task] || []).push(t);
      const parents = {};
      for (const e of run.edges) (parents[e.to] = parents[e.to] || []).push(e.from);
      const level = {};
      const depth = (name, seen) => {
        if (level[name] !== undefined) return level[name];
        if (seen.has(name)) return 0;
        seen.add(name);
        const ps = (parents[name] || []).filter((p) => groups[p]);
        level[name] = ps.length ? 1 + Math.max(...ps.map((p) => depth(p, seen))) : 0;
        return level[name];
      };
      for (const name of Object.keys(groups)) depth(name, new Set());
      return { groups, level };
    }

    function drawDag(run) {
      const { groups, level } = levels(run);
      const columns = {};
      for (const name of Object.keys(groups).sort()) {
        for (const task of groups[name]) (columns[level[name]] = columns[level[name]] || []).push(task);
      }
      const W = 190, H = 54, GX = 60, GY = 16;
      const at = {};
      let width = 0, height = 0;
      for (const [col, tasks] of Object.entries(columns)) {
        tasks.forEach((task, i) => {
          const x = Number(col) * (W + GX) + 10, y = i * (H + GY) + 10;
          at[task.name] = { x, y, task };
          width = Math.max(width, x + W + 10);
          height = Math.max(height, y + H + 10);
        });
      }
      const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Task graph" });
      for (const e of run.edges) {
        for (const a of groups[e.from] || []) {
          for (const b of groups[e.to] || []) {
            const p = at[a.name], q = at[b.name];
            root.append(svg("path", {
              d: `M${p.x + W},${p.y + H / 2} C${p.x + W + GX / 2},${p.y + H / 2} ${q.x - GX / 2},${q.y + H / 2} ${q.x},${q.y + H / 2}`,
              class: "edge edge-" + e.kind,
            }));
          }
        }
      }
      for (const { x, y, task } of Object.values(at)) {
        const g = svg("g", { class: "node state-" + task.state, transform: `translate(${x},${y})`, "data-task": task.name, tabindex: "0" });
        g.append(svg("rect", { width: W, height: H, rx: 6 }));
        g.append(svg("text", { x: 10, y: 21, class: "node-name" }, task.name));
        const duration = task.durationSeconds === null ? "" : ` · ${task.durationSeconds.toFixed(1)} s`;
        g.append(svg("text", { x: 10, y: 40, class: "node-state" }, task.state + duration));
        g.addEventListener("click", () => showTask(task));
        root.append(g);
      }
      const target = document.getElementById("dag");
      target.replaceChildren(root);
      const counts = Object.entries(run.taskCounts || {}).map(([k, v]) => `${v} ${k}`).join(", ");
      document.getElementById("run-info").textContent = `${run.message || ""} ${counts ? "· tasks: " + counts : ""}`;
      if (selected) {
        const again = run.tasks.find((t) => t.name === selected);
        if (again) showTask(again);
      }
    }

    async function showTask(task) {
      selected = task.name;
      const panel = document.getElementById("task-detail");
      panel.hidden = false;
      document.getElementById("task-title").textContent = `${task.name} · ${task.state}`;
      const rows = [
        ["component", task.component],
        ["attempts", task.attempts],
        ["started", task.startedAt],
        ["finished", task.finishedAt],
        ["duration", task.durationSeconds === null ? "" : task.durationSeconds + " s"],
        ["inputs", JSON.stringify(task.inputs)],
        ["outputs", JSON.stringify(task.outputs)],
        ["cached from", task.cachedFromTask],
        ["message", task.message],
      ];
      document.querySelector("#task-table tbody").replaceChildren(...rows.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: fmt(v) }))));
      const log = document.getElementById("task-log");
      if (!task.hasLog) {
        log.textContent = "No log yet.";
      } else {
        try {
          log.textContent = await request(`${api}/tasks/${encodeURIComponent(task.name)}/logs`, "text");
        } catch (e) {
          log.textContent = e.message;
        }
      }
      body.dataset.taskReady = task.name;
    }

    async function lineage() {
      const target = document.getElementById("lineage");
      try {
        const graph = await request(`/api/v1/lineage/${path(info.namespace, "run", info.id)}`);
        const table = el("table", { class: "grid", id: "lineage-table" },
          el("thead", {}, el("tr", {}, el("th", { text: "Depth" }), el("th", { text: "Kind" }), el("th", { text: "Record" }))));
        const tbody = el("tbody");
        for (const n of graph.nodes) {
          const where = n.depth < 0 ? "upstream " + -n.depth : n.depth > 0 ? "downstream " + n.depth : "this run";
          tbody.append(el("tr", { "data-kind": n.kind }, el("td", { text: where }), el("td", { text: n.kind }), el("td", { text: `${n.label || ""} #${n.id}` })));
        }
        table.append(tbody);
        target.replaceChildren(table, el("p", { class: "muted", text: `${graph.edges.length} edges` }));
      } catch (e) {
        showError(target, e);
      }
    }

    async function load() {
      const run = await request(api);
      document.getElementById("run-state").textContent = run.state;
      document.getElementById("run-state").className = "state state-" + run.state;
      drawDag(run);
      body.dataset.dagReady = "1";
      return run;
    }

    (async () => {
      let run;
      try {
        run = await load();
      } catch (e) {
        showError(document.getElementById("dag"), e);
        body.dataset.dagReady = "1";
        return;
      }
      await lineage();
      body.dataset.lineageReady = "1";
      if (RUNNING.has(run.state)) {
        let last = JSON.stringify(run.tasks.map((t) => t.state));
        follow(async () => {
          const now = await load();
          const states = JSON.stringify(now.tasks.map((t) => t.state));
          const changed = states !== last;
          last = states;
          if (!RUNNING.has(now.state)) { await lineage(); return "done"; }
          return changed ? "changed" : "same";
        });
      }
    })();
  }

  // ---- start --------------------------------------------------------------------------------------------
  setupTheme();
  const pages = { experiments: experimentsPage, experiment: experimentPage, trial: trialPage, compare: comparePage, login: loginPage, run: runPage };
  const start = pages[body.dataset.page];
  if (start) start();
  // other pages: plotly after their own requests have left (the experiment page waits for its table)
  if (body.dataset.plotly && body.dataset.page !== "experiment") plotlyReady().catch(() => {});
})();
