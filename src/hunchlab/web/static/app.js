// hunch ui: the little the pages need beyond HTML: the charts of each page (drawn with
// charts.js and sweep.js), live updates of a running run, selection for compare, and the
// triage keys. No build step. User data is only ever set with textContent (never
// innerHTML), so text from a run cannot become markup.
"use strict";

const { COLORS, fmt } = Charts;
const FIRST_BUCKETS = 1000; // run.html preloads each chart's first request with the same count

function withParams(url, params) {
  const u = new URL(url, location.href);
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) u.searchParams.set(k, v);
  return u.pathname + u.search;
}

// ------------------------------------------------------------------ run metric charts

// One logged metric: fetched at the chart's width (M4-downsampled by the server), refetched
// for the dragged range down to every point.
function metricChart(fig, smoothing) {
  const base = fig.dataset.series, name = fig.dataset.title;
  const caption = fig.querySelector("[data-points]");
  const state = { data: null, zoom: { x: null, y: null }, logY: false, weight: smoothing(), plot: null, seq: 0 };

  function describe(s) {
    const of = s.in_range === null ? "more than 100,000" : fmt(s.in_range);
    if (caption) caption.textContent = s.downsampled
      ? `${fmt(s.shown)} of ${of} points in view (M4: first, last, min, max per pixel)`
      : `${fmt(s.shown)} points`;
  }

  function draw() {
    if (!state.data) return;
    if (state.plot) state.plot.forget();
    const [x, y] = state.data;
    const smooth = state.weight > 0;
    const lines = [
      { label: name, y, color: COLORS[0], width: smooth ? 1 : 1.5, faint: smooth ? 0.3 : 0, main: !smooth },
      { label: `${name} (smoothed)`, y: Charts.ema(y, state.weight), color: COLORS[0], width: 1.75,
        main: smooth, show: smooth },
    ];
    state.plot = Charts.plot(fig, {
      x, lines, xLabel: "step", yLabel: name, logY: state.logY, wholeX: x.every(Number.isInteger),
      onZoomX: (lo, hi) => load(Math.floor(lo), Math.ceil(hi)).catch(err => Charts.failed(fig, err)),
      onReset: () => { state.zoom.x = state.zoom.y = null; load(null, null).catch(err => Charts.failed(fig, err)); },
    }, state.zoom);
    Charts.legend(fig, [{ label: name, color: COLORS[0],
                          note: smooth ? `smoothed (EMA ${state.weight}), raw line faint` : "" }]);
    Charts.loaded(fig);
  }

  async function load(lo, hi) {
    const seq = ++state.seq;
    if (!state.plot) Charts.loading(fig);
    // The whole metric: the URL the page preloads (1,000 buckets: up to 4,000 points, enough
    // for a chart 1,000 pixels wide); a zoomed range: as many buckets as the chart has pixels.
    const url = lo === null && hi === null ? `${base}&buckets=${FIRST_BUCKETS}`
      : withParams(base, { lo, hi, buckets: Math.max(100, Math.round(state.plot ? state.plot.width : fig.clientWidth)) });
    const s = await Charts.getJSON(url);
    if (seq !== state.seq) return; // a newer zoom superseded this one
    describe(s);
    state.data = [s.x, s.y];
    draw();
  }

  const button = Charts.logToggle(fig, on => { state.logY = on; draw(); });
  load(null, null).catch(err => Charts.failed(fig, err));
  return {
    refresh: () => (state.zoom.x ? Promise.resolve() : load(null, null)),
    smooth: w => { state.weight = w; draw(); },
    button,
  };
}

// ------------------------------------------------------------------ compare: overlaid curves

// A band never stretches the axis far past the lines themselves (a 95% interval of few,
// spread seeds can reach well outside anything observed): it is clipped to the lines'
// range widened by half of it.
function clipBands(groups) {
  const seen = groups.flatMap(g => [g.mean, ...g.seeds.map(s => s.y)].flat()).filter(v => v !== null);
  if (!seen.length) return (ys) => ys;
  const a = Math.min(...seen), b = Math.max(...seen), pad = (b - a) / 2 || Math.abs(a) / 2 || 1;
  return ys => ys.map(v => (v === null ? null : Math.min(b + pad, Math.max(a - pad, v))));
}

function curveChart(fig, chart, weight) {
  const state = { zoom: { x: null, y: null }, logY: false, weight, plot: null };

  function draw() {
    if (state.plot) state.plot.forget();
    const lines = [], bands = [], entries = [], smooth = state.weight > 0, clip = clipBands(chart.groups);
    chart.groups.forEach((g, i) => {
      const color = COLORS[i % COLORS.length];
      for (const s of g.seeds) {
        lines.push({ label: `${g.label} seed ${s.seed ?? s.run_id}`, y: Charts.ema(s.y, state.weight), color,
                     width: 1, faint: 0.35 });
      }
      if (g.band) {
        lines.push({ label: `${g.label} high`, y: clip(Charts.ema(g.hi, state.weight)), color, invisible: true });
        lines.push({ label: `${g.label} low`, y: clip(Charts.ema(g.lo, state.weight)), color, invisible: true });
        bands.push([lines.length - 1, lines.length, color]); // series indices are 1-based: hi, lo
      }
      if (smooth) lines.push({ label: `${g.label} raw`, y: g.mean, color, width: 1, faint: 0.3 });
      lines.push({ label: g.label, y: Charts.ema(g.mean, state.weight), color, width: 2, main: true });
      const note = g.band ? `mean; shaded: ${g.band}`
        : g.n > 1 ? `mean of ${g.n} seeds, each seed faint (too few for an interval)` : "one run";
      entries.push({ label: g.label, color, kind: g.band ? "band" : "line", note });
    });
    state.plot = Charts.plot(fig, {
      x: chart.x, lines, bands, xLabel: "step", yLabel: chart.metric, logY: state.logY,
      wholeX: chart.x.every(Number.isInteger),
    }, state.zoom);
    Charts.legend(fig, entries);
    Charts.loaded(fig);
  }

  Charts.logToggle(fig, on => { state.logY = on; draw(); });
  draw();
  return { smooth: w => { state.weight = w; draw(); } };
}

function figure(title) {
  const fig = Charts.el("figure", "chart");
  fig.dataset.title = title;
  const cap = Charts.el("figcaption");
  cap.appendChild(Charts.el("span", "cap")).appendChild(Charts.el("bdi", "", title));
  fig.append(cap, Charts.el("div", "plot-box"));
  return fig;
}

async function compareCurves(holder, smoothing) {
  const charts = [];
  try {
    const r = await Charts.getJSON(holder.dataset.curves);
    holder.replaceChildren();
    delete holder.dataset.loading;
    if (!r.charts.length) holder.appendChild(Charts.el("p", "empty", "no metric logged per step on these runs"));
    // Every figure is in the grid before any is measured, so each is drawn at its column's width.
    const figs = r.charts.map(chart => { const f = figure(chart.metric); holder.appendChild(f); return f; });
    r.charts.forEach((chart, i) => charts.push(curveChart(figs[i], chart, smoothing())));
    holder.dataset.drawn = String(Math.round(performance.now()));
  } catch (err) {
    holder.replaceChildren(Charts.el("p", "chart-error", `could not draw: ${err.message}`));
  }
  return charts;
}

// ------------------------------------------------------------------ calibration

function reliabilityChart(fig, report) {
  const bins = report.reliability;
  const x = [0, ...bins.map(b => b.mean_p), 1];
  const pad = ys => [null, ...ys, null];
  const counts = bins.map(b => b.count);
  Charts.plot(fig, {
    x, xLabel: "stated probability", yLabel: "observed frequency", xRange: [0, 1], yRange: [0, 1],
    lines: [
      { label: "perfect", y: x, color: "#8a949e", width: 1, dash: [4, 4] },
      { label: "high", y: pad(bins.map(b => b.observed_high)), color: COLORS[0], invisible: true },
      { label: "low", y: pad(bins.map(b => b.observed_low)), color: COLORS[0], invisible: true },
      { label: "observed", y: pad(bins.map(b => b.observed)), color: COLORS[0], width: 1.5, points: 7, main: true },
    ],
    bands: [[2, 3, COLORS[0]]],
    draw: u => {  // each bin's count beside its point
      const ctx = u.ctx, dpr = devicePixelRatio || 1;
      ctx.save();
      ctx.fillStyle = "#39424c";
      ctx.font = `${11 * dpr}px system-ui, sans-serif`;
      bins.forEach((b, i) => {
        const px = u.valToPos(b.mean_p, "x", true), py = u.valToPos(b.observed, "y", true);
        ctx.textAlign = b.mean_p > 0.85 ? "right" : "left";
        ctx.fillText(`n=${fmt(counts[i])}`, px + (b.mean_p > 0.85 ? -8 : 8) * dpr, py - 6 * dpr);
      });
      ctx.restore();
    },
  });
  Charts.legend(fig, [
    { label: "perfect calibration", color: "#8a949e", kind: "dashed" },
    { label: "observed", color: COLORS[0], kind: "band", note: `per bin, n beside each point; shaded: ${report.interval_method}` },
  ]);
  Charts.loaded(fig);
}

function trendChart(fig, report) {
  const points = report.trend;
  Charts.plot(fig, {
    x: points.map(p => p.index), xLabel: "prediction (in order resolved)", yLabel: "Brier score", wholeX: true,
    lines: [
      { label: "rolling Brier", y: points.map(p => p.brier), color: COLORS[1], width: 1.5, main: true,
        points: points.length < 60 ? 5 : 0 },
      { label: "always 50%", y: points.map(() => report.chance_brier), color: "#8a949e", width: 1, dash: [4, 4] },
    ],
  });
  Charts.legend(fig, [{ label: `rolling mean of the last ${report.window}`, color: COLORS[1] },
                      { label: "always saying 50%", color: "#8a949e", kind: "dashed" }]);
  Charts.loaded(fig);
}

async function calibrationCharts() {
  const rel = document.querySelector("[data-reliability]"), trend = document.querySelector("[data-trend]");
  if (!rel && !trend) return;
  try {
    const { report } = await Charts.getJSON((rel || trend).dataset.reliability || trend.dataset.trend);
    if (rel) reliabilityChart(rel, report);
    if (trend) trendChart(trend, report);
  } catch (err) {
    [rel, trend].filter(Boolean).forEach(fig => Charts.failed(fig, err));
  }
}

// ------------------------------------------------------------------ live run page

function liveRun(section, charts) {
  const url = section.dataset.live;
  const tick = async () => {
    let page;
    try { page = await Charts.getJSON(url); } catch (err) { return setTimeout(tick, 5000); }
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
      td.textContent = typeof v === "number" ? fmt(v) : JSON.stringify(v);
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
  const keys = [...document.querySelectorAll("#category-keys li")].map(li => li.dataset.category);
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

document.addEventListener("DOMContentLoaded", async () => {
  const charts = [];
  const smoothing = Charts.tools(w => charts.forEach(c => c.smooth(w)));
  charts.push(...[...document.querySelectorAll("[data-series]")].map(fig => metricChart(fig, smoothing)));
  const curves = document.querySelector("[data-curves]");
  const sweep = document.querySelector("[data-sweep]");
  if (sweep) SweepCharts.draw(sweep);
  calibrationCharts();
  const live = document.querySelector("[data-live]");
  if (live) liveRun(live, charts);
  const form = document.getElementById("compare-form");
  if (form) compareSelection(form);
  const triage = document.getElementById("triage");
  if (triage) triageKeys(triage);
  if (curves) charts.push(...await compareCurves(curves, smoothing));
});
