// hunch ui: the little the pages need beyond HTML. Charts (uPlot), zoom refetch, live
// updates, selection for compare. No build step. User data is only ever set with
// textContent (never innerHTML), so text from a run cannot become markup.
"use strict";

const COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
const HEIGHT = 220;

function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  const body = await response.json();
  if (!response.ok || body.ok === false) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function chartWidth(el) {
  return Math.max(240, Math.floor(el.clientWidth - 14));
}

function showError(el, err) {
  const p = document.createElement("p");
  p.className = "note";
  p.textContent = `could not draw: ${err.message}`;
  el.appendChild(p);
}

function markDrawn(el) {
  el.dataset.drawn = String(Math.round(performance.now()));
}

// ------------------------------------------------------------------ run metric charts

function withParams(url, params) {
  const u = new URL(url, location.href);
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) u.searchParams.set(k, v);
  return u.pathname + u.search;
}

function metricChart(el) {
  const base = el.dataset.series;
  const caption = el.querySelector("[data-points]");
  const state = { plot: null, zoomed: false, seq: 0 };

  function describe(s) {
    const of = s.in_range === null ? "more than 100,000" : s.in_range.toLocaleString();
    if (caption) caption.textContent = s.downsampled
      ? `${s.shown.toLocaleString()} of ${of} points in view (M4: first, last, min, max per pixel)`
      : `${s.shown.toLocaleString()} points`;
  }

  async function load(lo, hi) {
    const seq = ++state.seq;
    const width = state.plot ? state.plot.width : chartWidth(el);
    const s = await getJSON(withParams(base, { lo, hi, buckets: width }));
    if (seq !== state.seq) return; // a newer zoom superseded this one
    describe(s);
    const data = [s.x, s.y];
    if (!state.plot) {
      state.plot = new uPlot({
        width, height: HEIGHT,
        scales: { x: { time: false } },
        series: [{ label: "step" }, { label: el.dataset.title, stroke: COLORS[0], width: 1.25, points: { show: false } }],
        legend: { live: true },
        cursor: {
          drag: { x: true, y: false },
          bind: { dblclick: () => () => { state.zoomed = false; load(null, null); return null; } },
        },
        hooks: {
          setSelect: [u => {
            if (u.select.width < 2) return;
            const lo = u.posToVal(u.select.left, "x"), hi = u.posToVal(u.select.left + u.select.width, "x");
            state.zoomed = true;
            load(Math.floor(lo), Math.ceil(hi));
          }],
        },
      }, data, el);
    } else {
      state.plot.setData(data, !state.zoomed);
      if (state.zoomed && lo !== null) state.plot.setScale("x", { min: lo, max: hi });
    }
    markDrawn(el);
  }

  load(null, null).catch(err => showError(el, err));
  return { refresh: () => state.zoomed ? Promise.resolve() : load(null, null) };
}

// ------------------------------------------------------------------ compare curves

function bandChart(el, chart, labels) {
  const data = [chart.x];
  const series = [{ label: "step" }];
  const bands = [];
  chart.groups.forEach((g, i) => {
    const color = COLORS[i % COLORS.length];
    const at = data.length;
    data.push(g.mean, g.lo, g.hi);
    series.push({ label: g.label, stroke: color, width: 1.5, points: { show: false } },
                { label: `${g.label} low`, stroke: alpha(color, 0.35), width: 0.5, points: { show: false } },
                { label: `${g.label} high`, stroke: alpha(color, 0.35), width: 0.5, points: { show: false } });
    bands.push({ series: [at + 2, at + 1], fill: alpha(color, 0.15) });
  });
  const fig = document.createElement("figure");
  fig.className = "chart";
  const cap = document.createElement("figcaption");
  cap.textContent = chart.metric;
  fig.appendChild(cap);
  el.appendChild(fig);
  new uPlot({ width: chartWidth(fig), height: HEIGHT, scales: { x: { time: false } }, series, bands,
              cursor: { drag: { x: true, y: false } } }, data, fig);
  markDrawn(fig);
}

async function compareCurves(el) {
  try {
    const r = await getJSON(el.dataset.curves);
    if (!r.charts.length) {
      const p = document.createElement("p");
      p.className = "empty";
      p.textContent = "no metric logged per step on these runs";
      el.appendChild(p);
    }
    for (const chart of r.charts) bandChart(el, chart, r.labels);
  } catch (err) { showError(el, err); }
}

// ------------------------------------------------------------------ calibration

async function calibrationCharts() {
  const rel = document.querySelector("[data-reliability]");
  const trend = document.querySelector("[data-trend]");
  if (!rel && !trend) return;
  const { report } = await getJSON((rel || trend).dataset.reliability || trend.dataset.trend);
  if (rel) {
    const bins = report.reliability;
    const x = bins.map(b => b.mean_p);
    new uPlot({
      width: chartWidth(rel), height: 260,
      scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
      series: [{ label: "stated p" },
               { label: "perfect", stroke: "#9aa4ae", dash: [4, 4], width: 1, points: { show: false } },
               { label: "observed", stroke: COLORS[0], width: 1.5, points: { show: true, size: 8 } },
               { label: "low", stroke: alpha(COLORS[0], 0.3), width: 0.5, points: { show: false } },
               { label: "high", stroke: alpha(COLORS[0], 0.3), width: 0.5, points: { show: false } }],
      bands: [{ series: [4, 3], fill: alpha(COLORS[0], 0.12) }],
    }, [x, x, bins.map(b => b.observed), bins.map(b => b.observed_low), bins.map(b => b.observed_high)], rel);
    markDrawn(rel);
  }
  if (trend) {
    const points = report.trend;
    new uPlot({
      width: chartWidth(trend), height: 260, scales: { x: { time: false } },
      series: [{ label: "prediction #" },
               { label: "rolling Brier", stroke: COLORS[1], width: 1.5, points: { show: points.length < 60 } },
               { label: "always 50%", stroke: "#9aa4ae", dash: [4, 4], width: 1, points: { show: false } }],
    }, [points.map(p => p.index), points.map(p => p.brier), points.map(() => report.chance_brier)], trend);
    markDrawn(trend);
  }
}

// ------------------------------------------------------------------ live run page

function liveRun(section, charts) {
  const url = section.dataset.live;
  const tick = async () => {
    let page;
    try { page = await getJSON(url); } catch (err) { return setTimeout(tick, 5000); }
    const run = page.run;
    if (run.status !== "running") { location.reload(); return; }
    for (const stream of ["stdout", "stderr"]) {
      const pre = document.getElementById(`log-${stream}`);
      if (pre) pre.textContent = page.logs[stream] || "";
    }
    const shownSummary = [...document.querySelectorAll("[data-summary]")].map(td => td.dataset.summary);
    const shownMetrics = document.querySelectorAll("[data-series]").length;
    if (Object.keys(run.summary).length !== shownSummary.length || Object.keys(run.metrics).length !== shownMetrics) {
      location.reload(); // a new metric or summary key: the page's layout changes
      return;
    }
    for (const td of document.querySelectorAll("[data-summary]")) {
      const v = run.summary[td.dataset.summary];
      td.textContent = typeof v === "number" ? String(Number(v.toPrecision(4))) : JSON.stringify(v);
    }
    await Promise.all(charts.map(c => c.refresh()));
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
}

// ------------------------------------------------------------------ runs table selection

function compareSelection(form) {
  const button = document.getElementById("compare-button");
  const update = () => {
    const n = form.querySelectorAll("input[name=s]:checked").length;
    button.disabled = n < 2;
    button.textContent = n ? `Compare selected (${n})` : "Compare selected";
  };
  form.addEventListener("change", update);
  update();
}

// ------------------------------------------------------------------ failure triage keys

function triageKeys(root) {
  const form = document.getElementById("tag-form");
  const input = document.getElementById("category");
  const position = Number(root.dataset.position), count = Number(root.dataset.count);
  const go = p => { if (p >= 0 && p < count) location.search = `?pos=${p}`; };
  const submit = (action, category) => {
    document.getElementById("action").value = action;
    if (category !== undefined) input.value = category;
    form.submit();
  };
  const keys = [...document.querySelectorAll("#category-keys li")].map(li => li.textContent);
  document.addEventListener("keydown", e => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.matches("input, textarea, select")) {
      if (e.key === "Escape") e.target.blur();
      return; // typing a category or a note: Enter submits the form as usual
    }
    if (e.key === "j" || e.key === "ArrowRight") go(position + 1);
    else if (e.key === "k" || e.key === "ArrowLeft") go(position - 1);
    else if (e.key === "t" || e.key === "/") { e.preventDefault(); input.focus(); }
    else if (e.key === "s") submit("skip");
    else if (e.key === "x") submit("clear");
    else if (/^[1-9]$/.test(e.key) && keys[Number(e.key) - 1] !== undefined) submit("tag", keys[Number(e.key) - 1]);
    else return;
    e.preventDefault();
  });
}

// ------------------------------------------------------------------ start

document.addEventListener("DOMContentLoaded", () => {
  const charts = [...document.querySelectorAll("[data-series]")].map(metricChart);
  document.querySelectorAll("[data-curves]").forEach(compareCurves);
  calibrationCharts().catch(err => showError(document.querySelector("main"), err));
  const live = document.querySelector("[data-live]");
  if (live) liveRun(live, charts);
  const form = document.getElementById("compare-form");
  if (form) compareSelection(form);
  const triage = document.getElementById("triage");
  if (triage) triageKeys(triage);
});
