// hunch ui: line charts on uPlot (vendored). Axis titles, whole-number step ticks, log y,
// EMA smoothing with the raw line faint behind, drag-zoom in x and y, and a legend of our
// own below the plot (one entry per line or group, never on top of the data). No build
// step; user text is only ever set with textContent.
"use strict";

const Charts = (() => {
  const COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
  const HEIGHT = 240;
  // Tick steps for axes that count steps: whole numbers only (no 0.5, 1.5 ...).
  const INT_INCRS = [];
  for (let p = 1; p <= 1e15; p *= 10) INT_INCRS.push(p, 2 * p, 5 * p);

  function alpha(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
  }

  // Every URL asked for ends in .json, so errors come back as JSON too; no extra headers, so a
  // request can be served from the page's <link rel=preload as=fetch>.
  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    let body;
    try { body = await response.json(); } catch (e) { throw new Error(`HTTP ${response.status}`); }
    if (!response.ok || body.ok === false) throw new Error(body.error || `HTTP ${response.status}`);
    return body;
  }

  // Numbers as people read them: whole numbers with separators, the rest to 4 significant digits.
  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return v.toLocaleString("en-US");
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2).replace("e+", "e");
    return String(Number(v.toPrecision(4)));
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // TensorBoard's smoothing: an exponential moving average, debiased so the start is not
  // pulled towards zero; a missing value leaves the average where it was.
  function ema(ys, weight) {
    if (!weight) return ys;
    let last = 0, count = 0;
    return ys.map(y => {
      if (y === null || y === undefined || !Number.isFinite(y)) return null;
      last = last * weight + (1 - weight) * y;
      count += 1;
      return last / (1 - Math.pow(weight, count));
    });
  }

  function onlyPositive(ys) { return ys.map(y => (y !== null && y > 0 ? y : null)); }

  // ------------------------------------------------------------------ a figure's states

  function box(fig) { return fig.querySelector(".plot-box") || fig; }

  function loading(fig, text) {
    fig.dataset.loading = "";
    const b = box(fig);
    let p = b.querySelector(".loading");
    if (!p) { p = el("p", "loading"); b.appendChild(p); }
    p.textContent = text || "loading…";
  }

  function loaded(fig) {
    delete fig.dataset.loading;
    fig.querySelectorAll(".loading").forEach(p => p.remove());
    fig.dataset.drawn = String(Math.round(performance.now()));
  }

  function failed(fig, err) {
    delete fig.dataset.loading;
    fig.querySelectorAll(".loading").forEach(p => p.remove());
    const p = el("p", "chart-error", `could not draw: ${err.message}`);
    box(fig).appendChild(p);
    fig.dataset.failed = "";
  }

  // ------------------------------------------------------------------ legend and readout

  // entries: [{label, color, kind: "line" | "band" | "dashed" | "points", note}]
  function legend(fig, entries) {
    let ul = fig.querySelector("ul.legend");
    if (!ul) { ul = el("ul", "legend"); fig.appendChild(ul); }
    ul.replaceChildren();
    for (const e of entries) {
      const li = el("li");
      const sw = el("span", `swatch swatch-${e.kind || "line"}`);
      sw.style.setProperty("--c", e.color);
      li.appendChild(sw);
      const name = el("bdi", "label", e.label);
      if (e.label.length > 60) { name.textContent = e.label.slice(0, 59) + "…"; name.title = e.label; }
      li.appendChild(name);
      if (e.note) li.appendChild(el("span", "note", ` ${e.note}`));
      ul.appendChild(li);
    }
    return ul;
  }

  function readout(fig) {
    let p = fig.querySelector(".readout");
    if (!p) { p = el("p", "readout", "\u00a0"); box(fig).before(p); }
    return p;
  }

  // ------------------------------------------------------------------ the plot

  function axisSize(u, values) {
    const longest = Math.max(3, ...(values || []).map(v => String(v).length));
    return Math.ceil(longest * 6.6) + 14;
  }

  function ticks(u, splits) { return splits.map(fmt); }

  // The step axis's tick labels, also kept on the figure where the page (and its tests) can read them.
  function stepTicks(fig) {
    return (u, splits) => {
      const labels = ticks(u, splits);
      fig.dataset.xTicks = labels.join(" ");
      return labels;
    };
  }

  // The selection just dragged, as a zoom: sideways sets the steps (spec.onZoomX refetches
  // them), up or down the values, diagonally both; `state` keeps it across redraws.
  function zoomer(spec, state) {
    return u => {
      const s = { ...u.select };  // a copy: clearing the selection below resets u.select
      if (s.width < 3 && s.height < 3) return;
      const dpr = devicePixelRatio || 1;
      const xPart = s.width < u.bbox.width / dpr - 2, yPart = s.height < u.bbox.height / dpr - 2;
      u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      // Steps first: a change of x re-ranges an automatic y, which would undo a y zoom.
      const y = yPart ? [u.posToVal(s.top + s.height, "y"), u.posToVal(s.top, "y")] : null;
      if (xPart) {
        state.x = [u.posToVal(s.left, "x"), u.posToVal(s.left + s.width, "x")];
        if (spec.onZoomX) spec.onZoomX(state.x[0], state.x[1]);
        else u.setScale("x", { min: state.x[0], max: state.x[1] });
      }
      if (y) {
        state.y = y;
        u.setScale("y", { min: y[0], max: y[1] });
      }
    };
  }

  // The values under the cursor, in a line above the plot (the legend below stays still).
  function reader(spec, read) {
    return u => {
      const i = u.cursor.idx;
      if (i === null || i === undefined) { read.textContent = "\u00a0"; return; }
      const parts = [`${spec.xLabel} ${fmt(u.data[0][i])}`];
      spec.lines.forEach((line, k) => {
        const v = u.data[k + 1][i];
        if (line.main && v !== null && v !== undefined) parts.push(`${line.label}: ${fmt(v)}`);
      });
      read.textContent = parts.join(" · ");
    };
  }

  function seriesOf(spec) {
    return [{ label: spec.xLabel }, ...spec.lines.map(line => ({
      label: line.label,
      stroke: line.invisible ? "rgba(0, 0, 0, 0)" : line.faint ? alpha(line.color, line.faint) : line.color,
      width: line.width || 1.5, dash: line.dash, spanGaps: true, show: line.show !== false,
      points: { show: !!line.points, size: line.points || 0, fill: line.color },
    }))];
  }

  // spec: {x, lines: [{y, color, width, faint, invisible, dash, main, label, points, show}],
  //        bands: [[hiIndex, loIndex, color]], xLabel, yLabel, logY, xRange, yRange, wholeX,
  //        onZoomX(lo, hi), onReset(), draw(u)}; `previous` is the zoom of the chart this replaces.
  function plot(fig, spec, previous) {
    const target = box(fig), state = previous || { x: null, y: null };
    const data = [spec.x, ...spec.lines.map(line => (spec.logY ? onlyPositive(line.y) : line.y))];
    let u = null;
    const reset = () => {
      state.x = state.y = null;
      if (spec.onReset) spec.onReset();
      else { u.setScale("x", { min: spec.x[0], max: spec.x[spec.x.length - 1] }); u.redraw(); }
    };
    u = new uPlot({
      width: Math.max(240, Math.floor(target.clientWidth)), height: spec.height || HEIGHT, legend: { show: false },
      bands: (spec.bands || []).map(([hi, lo, color]) => ({ series: [hi, lo], fill: alpha(color, 0.16) })),
      scales: { x: { time: false, range: spec.xRange }, y: spec.logY ? { distr: 3, log: 10 } : { range: spec.yRange } },
      axes: [
        { label: spec.xLabel, labelSize: 16, incrs: spec.wholeX ? INT_INCRS : undefined, values: stepTicks(fig), space: 60 },
        { label: spec.yLabel, labelSize: 16, values: ticks, size: axisSize },
      ],
      series: seriesOf(spec),
      cursor: { drag: { x: true, y: true, uni: 24, setScale: false }, bind: { dblclick: () => () => { reset(); return null; } } },
      hooks: {
        setSelect: [zoomer(spec, state)],
        setCursor: [reader(spec, readout(fig))],
        setScale: [(u, key) => {  // what is in view, readable from the page (and by its tests)
          fig.dataset[`${key}Range`] = `${fmt(u.scales[key].min)} to ${fmt(u.scales[key].max)}`;
        }],
        draw: spec.draw ? [spec.draw] : [],
      },
    }, data, target);
    if (state.y) u.setScale("y", { min: state.y[0], max: state.y[1] });
    const observer = new ResizeObserver(() => {
      const w = Math.max(240, Math.floor(target.clientWidth));
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: u.height });
    });
    observer.observe(target);
    u.forget = () => { observer.disconnect(); u.destroy(); };
    return u;
  }

  // ------------------------------------------------------------------ controls

  // A page's chart tools: one smoothing slider for every chart on the page (as TensorBoard).
  function tools(onSmooth) {
    const holder = document.querySelector("[data-chart-tools]");
    if (!holder) return () => 0;
    holder.hidden = false;
    const label = el("label", "smoothing", "smoothing ");
    const range = el("input");
    Object.assign(range, { type: "range", min: "0", max: "0.99", step: "0.01", value: "0", id: "smoothing" });
    range.setAttribute("aria-label", "smoothing (exponential moving average weight)");
    const shown = el("output", "", "0");
    label.append(range, shown);
    holder.append(label, el("span", "hint", " exponential moving average; the raw line stays faint behind"));
    range.addEventListener("input", () => { shown.textContent = range.value; onSmooth(Number(range.value)); });
    return () => Number(range.value);
  }

  // A chart's own toggle: log y (refused with a note when nothing is positive).
  function logToggle(fig, onChange) {
    const cap = fig.querySelector("figcaption");
    const button = el("button", "toggle", "log y");
    button.type = "button";
    button.setAttribute("aria-pressed", "false");
    button.title = "logarithmic y axis (points at or below zero are left out)";
    button.addEventListener("click", () => {
      const on = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", String(on));
      onChange(on);
    });
    (cap || fig).appendChild(button);
    return button;
  }

  return { COLORS, HEIGHT, alpha, getJSON, fmt, el, ema, loading, loaded, failed, legend, plot, tools, logToggle };
})();
