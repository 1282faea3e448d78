// hunch ui: a sweep's two views, drawn as SVG from /sweep.json: the metric against each
// swept param (every run a dot, each config's mean with its 95% interval), and parallel
// coordinates (one line per config across every param, coloured by the metric). Legends
// are HTML beside the plots, never inside them. User text is set with textContent only.
"use strict";

const SweepCharts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const { COLORS, fmt, el } = Charts;
  const M = { top: 12, right: 14, bottom: 46, left: 62 };
  // Worse to better: Okabe-Ito vermillion through grey to blue (readable in greyscale too).
  const RAMP = [[213, 94, 0], [170, 170, 170], [0, 114, 178]];

  function svg(tag, attrs, parent, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function clip(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + "…" : s; }

  function niceTicks(lo, hi, count) {
    const span = hi - lo || Math.abs(hi) || 1;
    const raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw))), norm = raw / mag;
    const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
    return out;
  }

  // A scale for one axis: pos(value) in [a, b] pixels, and its ticks as [value, label].
  function scale(axis, values, a, b) {
    if (axis.kind === "category") {
      const cats = axis.values, w = (b - a) / cats.length;
      return { pos: v => a + w * (cats.indexOf(String(v)) + 0.5), band: w, ticks: cats.map(c => [c, clip(c, 14)]) };
    }
    const log = axis.log, f = log ? Math.log10 : (v => v);
    let lo = Math.min(...values.map(f)), hi = Math.max(...values.map(f));
    const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.1 || 0.5;
    lo -= pad; hi += pad;
    const pos = v => a + (f(v) - lo) / (hi - lo) * (b - a);
    let tickValues;
    if (axis.values && axis.values.length <= 8) tickValues = axis.values;   // a grid sweep: its own values
    else if (log) tickValues = niceTicks(lo, hi, 5).filter(Number.isInteger).map(p => Math.pow(10, p));
    else tickValues = niceTicks(lo, hi, 5);
    return { pos, band: 0, ticks: tickValues.map(v => [v, fmt(v)]) };
  }

  function color(t) {
    const k = Math.max(0, Math.min(1, t)) * (RAMP.length - 1), i = Math.min(RAMP.length - 2, Math.floor(k));
    const c = RAMP[i].map((v, j) => Math.round(v + (RAMP[i + 1][j] - v) * (k - i)));
    return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
  }

  function xAxis(g, sc, y0, x0, x1, title) {
    svg("line", { x1: x0, x2: x1, y1: y0, y2: y0, class: "axis" }, g);
    const step = Math.max(1, Math.ceil(sc.ticks.length / Math.max(1, Math.floor((x1 - x0) / 56))));
    sc.ticks.forEach(([v, label], i) => {
      if (i % step) return;
      const x = sc.pos(v);
      svg("line", { x1: x, x2: x, y1: y0, y2: y0 + 4, class: "tick" }, g);
      svg("text", { x, y: y0 + 16, "text-anchor": "middle", class: "tick-label" }, g, label);
    });
    svg("text", { x: (x0 + x1) / 2, y: y0 + 36, "text-anchor": "middle", class: "axis-title" }, g, clip(title, 40));
  }

  function yAxis(g, sc, x0, x1, y0, y1, title) {
    svg("line", { x1: x0, x2: x0, y1: y0, y2: y1, class: "axis" }, g);
    for (const [v, label] of sc.ticks) {
      const y = sc.pos(v);
      svg("line", { x1: x0 - 4, x2: x0, y1: y, y2: y, class: "tick" }, g);
      svg("line", { x1: x0, x2: x1, y1: y, y2: y, class: "grid" }, g);
      svg("text", { x: x0 - 7, y: y + 4, "text-anchor": "end", class: "tick-label" }, g, label);
    }
    const mid = (y0 + y1) / 2;
    svg("text", { x: 14, y: mid, transform: `rotate(-90 14 ${mid})`, "text-anchor": "middle", class: "axis-title" },
        g, clip(title, 30));
  }

  function describe(c, metric) {
    const spread = c.lo !== null ? ` [${fmt(c.lo)}, ${fmt(c.hi)}]` : "";
    return `${c.label}\n${metric} ${fmt(c.mean)}${spread}, n=${c.n}`;
  }

  // ------------------------------------------------------------------ metric against one param

  function scatter(fig, axis, view) {
    const width = Math.max(280, fig.querySelector(".plot-box").clientWidth), height = 260;
    const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
    const x0 = M.left, x1 = width - M.right, y0 = height - M.bottom, y1 = M.top;
    const params = view.configs.map(c => c.params[axis.name]);
    const ys = view.configs.flatMap(c => [...c.values, c.lo, c.hi].filter(v => v !== null));
    const sx = scale(axis, axis.kind === "category" ? [] : params, x0, x1);
    const sy = scale({ kind: "number", log: false, values: null }, ys, y0, y1);
    svg("rect", { x: x0, y: y1, width: x1 - x0, height: y0 - y1, class: "plot-area", "data-plot-area": "" }, root);
    const g = svg("g", {}, root);
    yAxis(g, sy, x0, x1, y0, y1, view.metric);
    xAxis(g, sx, y0, x0, x1, axis.name);
    const color = COLORS[0];
    view.configs.forEach((c, k) => {
      const cx = sx.pos(c.params[axis.name]);
      const spread = axis.kind === "category" ? sx.band * 0.3 : 8;
      const dots = svg("g", { class: "runs" }, g);
      c.values.forEach((v, i) => {
        const jitter = c.values.length > 1 ? (i / (c.values.length - 1) - 0.5) * spread : 0;
        svg("circle", { cx: cx + jitter, cy: sy.pos(v), r: 2.2, fill: color, "fill-opacity": 0.3 }, dots);
      });
      const mean = svg("g", { class: "config" }, g);
      svg("title", {}, mean, describe(c, view.metric));
      if (c.lo !== null) {
        svg("line", { x1: cx, x2: cx, y1: sy.pos(c.lo), y2: sy.pos(c.hi), stroke: "#1d232a", "stroke-width": 1.5 }, mean);
        for (const v of [c.lo, c.hi]) {
          svg("line", { x1: cx - 4, x2: cx + 4, y1: sy.pos(v), y2: sy.pos(v), stroke: "#1d232a", "stroke-width": 1.5 }, mean);
        }
      }
      svg("circle", { cx, cy: sy.pos(c.mean), r: 4.5, fill: "#1d232a", "data-config": k }, mean);
    });
    fig.querySelector(".plot-box").replaceChildren(root);
  }

  // ------------------------------------------------------------------ parallel coordinates

  function parallel(fig, view) {
    const axes = [...view.axes, { name: view.metric, kind: "number", log: false, values: null }];
    const width = Math.max(480, fig.querySelector(".plot-box").clientWidth), height = 320;
    const top = 34, bottom = height - 26, left = 70, right = width - 70;
    const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
    svg("rect", { x: left, y: top, width: right - left, height: bottom - top, class: "plot-area", "data-plot-area": "" },
        root);
    const xs = axes.map((_, i) => left + (right - left) * (axes.length === 1 ? 0.5 : i / (axes.length - 1)));
    const scales = axes.map((a, i) => {
      const values = i === axes.length - 1 ? view.configs.map(c => c.mean)
        : a.kind === "category" ? [] : view.configs.map(c => c.params[a.name]);
      return scale(a, values, bottom, top);
    });
    const means = view.configs.map(c => c.mean), lo = Math.min(...means), hi = Math.max(...means);
    const better = v => (hi === lo ? 1 : view.goal === "min" ? (hi - v) / (hi - lo) : (v - lo) / (hi - lo));
    const lines = svg("g", { class: "lines" }, root);
    const order = view.configs.map((c, k) => k).sort((a, b) => better(means[a]) - better(means[b]));
    for (const k of order) {  // the best drawn last, on top
      const c = view.configs[k];
      const points = axes.map((a, i) => `${xs[i]},${scales[i].pos(i === axes.length - 1 ? c.mean : c.params[a.name])}`);
      const line = svg("polyline", { points: points.join(" "), stroke: color(better(c.mean)), "data-config": k }, lines);
      svg("title", {}, line, describe(c, view.metric));
    }
    const g = svg("g", {}, root);
    axes.forEach((a, i) => {
      svg("line", { x1: xs[i], x2: xs[i], y1: top, y2: bottom, class: "axis" }, g);
      const name = svg("text", { x: xs[i], y: top - 12, "text-anchor": "middle", class: "axis-title" }, g, clip(a.name, 18));
      svg("title", {}, name, a.name);
      const ticks = scales[i].ticks, step = Math.max(1, Math.ceil(ticks.length / 6));
      ticks.forEach(([v, label], j) => {
        if (j % step && j !== ticks.length - 1) return;
        svg("text", { x: xs[i] - 5, y: scales[i].pos(v) + 4, "text-anchor": "end", class: "tick-label halo" }, g, label);
      });
    });
    fig.querySelector(".plot-box").replaceChildren(root);
    ramp(fig, view, lo, hi);
  }

  function ramp(fig, view, lo, hi) {
    const ul = Charts.legend(fig, []);
    const li = el("li", "ramp");
    const [worst, best] = view.goal === "min" ? [hi, lo] : [lo, hi];
    const bar = el("span", "ramp-bar");
    bar.style.setProperty("--ramp", `linear-gradient(to right, ${color(0)}, ${color(0.5)}, ${color(1)})`);
    li.append(el("bdi", "label", `${clip(view.metric, 40)}: worse ${fmt(worst)}`), bar, el("span", "label", `${fmt(best)} better`));
    ul.appendChild(li);
  }

  // ------------------------------------------------------------------ the page

  function figure(title, cls) {
    const fig = el("figure", `chart ${cls}`);
    fig.dataset.title = title;
    const cap = el("figcaption");
    cap.appendChild(el("span", "cap")).appendChild(el("bdi", "", title));
    fig.append(cap, el("div", "plot-box"));
    return fig;
  }

  async function draw(holder) {
    try {
      const view = await Charts.getJSON(holder.dataset.sweep);
      holder.replaceChildren();
      delete holder.dataset.loading;
      if (!view.configs.length || !view.axes.length) return;
      const grid = el("div", "charts sweep-scatter");
      holder.appendChild(grid);
      const figs = view.axes.map(a => {
        const f = figure(`${view.metric} against ${a.name}${a.log ? " (log axis)" : ""}`, "sweep-param");
        grid.appendChild(f);
        return f;
      });
      const key = Charts.legend(el("div"), [
        { label: "a run", color: Charts.alpha(COLORS[0], 0.5), kind: "points" },
        { label: "a config's mean", color: "#1d232a", kind: "points" },
        { label: `its 95% t-interval (configs with at least ${view.min_seeds_for_interval} seeds)`, color: "#1d232a",
          kind: "whisker" }]);
      holder.appendChild(key);
      const par = figure(`Parallel coordinates: ${view.configs.length} configs across ${view.axes.length} params and ${view.metric}`,
                         "sweep-parallel");
      holder.appendChild(par);
      const render = () => {
        view.axes.forEach((a, i) => scatter(figs[i], a, view));
        parallel(par, view);
        [...figs, par].forEach(Charts.loaded);
      };
      render();
      let width = holder.clientWidth;
      new ResizeObserver(() => { if (Math.abs(holder.clientWidth - width) > 4) { width = holder.clientWidth; render(); } })
        .observe(holder);
      holder.dataset.drawn = String(Math.round(performance.now()));
    } catch (err) {
      holder.replaceChildren(el("p", "chart-error", `could not draw: ${err.message}`));
    }
  }

  return { draw, niceTicks };
})();
