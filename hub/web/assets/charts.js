// Charts as SVG built in the page (no library, nothing fetched): bars, stacked or grouped,
// and lines. Each chart is an image with a text label; the panel's table next to it holds
// the same numbers for anyone who cannot see it.
const NS = "http://www.w3.org/2000/svg";
export const COLOURS = ["#2952cc", "#1d8acb", "#e07a1f", "#2e9b5f", "#b3261e", "#7a4cc2", "#5b6475"];
const W = 640, H = 220, PAD = { left: 48, right: 12, top: 12, bottom: 40 };

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

function frame(label, labels, max, format) {
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, class: "chart" }, s("title", {}, label));
  const plotH = H - PAD.top - PAD.bottom;
  for (let i = 0; i <= 4; i += 1) {
    const y = PAD.top + plotH - (plotH * i) / 4;
    svg.append(s("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }),
      s("text", { x: PAD.left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, format((max * i) / 4)));
  }
  const every = Math.max(1, Math.ceil(labels.length / 10));
  const slot = (W - PAD.left - PAD.right) / Math.max(1, labels.length);
  labels.forEach((text, i) => {
    if (i % every) return;
    svg.append(s("text", { x: PAD.left + slot * (i + 0.5), y: H - PAD.bottom + 16, "text-anchor": "middle", class: "tick" }, text));
  });
  return { svg, slot, y: (v) => PAD.top + plotH - (plotH * v) / max, plotH };
}

function legend(svg, series) {
  let x = PAD.left;
  series.forEach((serie, i) => {
    svg.append(s("rect", { x, y: H - 14, width: 10, height: 10, fill: COLOURS[i % COLOURS.length] }),
      s("text", { x: x + 14, y: H - 5, class: "tick" }, serie.name));
    // CJK characters take about twice the width of Latin ones at this size.
    x += 24 + [...serie.name].reduce((w, ch) => w + (ch.codePointAt(0) > 0x2e80 ? 11 : 6.5), 0);
  });
}

// series: [{ name, values: [number|null per label] }]
export function barChart(label, labels, series, { stacked = false, format = String } = {}) {
  const totals = labels.map((_, i) => stacked
    ? series.reduce((sum, serie) => sum + (serie.values[i] || 0), 0)
    : Math.max(0, ...series.map((serie) => serie.values[i] || 0)));
  const max = niceMax(Math.max(0, ...totals));
  const { svg, slot, y } = frame(label, labels, max, format);
  const width = stacked ? slot * 0.7 : (slot * 0.8) / series.length;
  labels.forEach((_, i) => {
    let base = 0;
    series.forEach((serie, k) => {
      const value = serie.values[i] || 0;
      const x = PAD.left + slot * i + slot * (stacked ? 0.15 : 0.1) + (stacked ? 0 : width * k);
      const top = y(base + value);
      svg.append(s("rect", { x, y: top, width: Math.max(1, width - 1), height: Math.max(0, y(base) - top),
        fill: COLOURS[k % COLOURS.length] }, s("title", {}, `${labels[i]} · ${serie.name}: ${format(value)}`)));
      if (stacked) base += value;
    });
  });
  legend(svg, series);
  return svg;
}

export function lineChart(label, labels, series, { format = String } = {}) {
  const max = niceMax(Math.max(0, ...series.flatMap((serie) => serie.values.filter((v) => v !== null))));
  const { svg, slot, y } = frame(label, labels, max, format);
  series.forEach((serie, k) => {
    const colour = COLOURS[k % COLOURS.length];
    const points = serie.values.map((v, i) => (v === null ? null : [PAD.left + slot * (i + 0.5), y(v)]));
    const d = points.map((p, i) => (p ? `${i && points[i - 1] ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}` : "")).join("");
    if (d) svg.append(s("path", { d, fill: "none", stroke: colour, "stroke-width": 2 }));
    points.forEach((p, i) => {
      if (p) svg.append(s("circle", { cx: p[0], cy: p[1], r: 3, fill: colour }, s("title", {}, `${labels[i]} · ${serie.name}: ${format(serie.values[i])}`)));
    });
  });
  legend(svg, series);
  return svg;
}
