// The reports page: one range and channel filter over six panels, each with its charts,
// the tables behind them (the charts' text alternative) and a CSV download per table.
import { announce, h } from "./dom.js";
import { api, apiBlob, current } from "./session.js";
import { barChart, lineChart } from "./charts.js";
import { language, setLanguage, t } from "./strings.js";

const CHANNELS = ["web", "slack", "telegram", "twitter", "wechat", "api"];
const state = { range: "7d", since: "", until: "", channel: "" };

const minutes = (seconds) => (seconds === null ? null : Math.round(seconds / 6) / 10);
const short = (day) => day.slice(5);

function query() {
  const params = new URLSearchParams({ range: state.range });
  if (state.range === "custom") { params.set("since", state.since); params.set("until", state.until); }
  if (state.channel) params.set("channel", state.channel);
  return params;
}

function table(panel, name, rows, { sortable = false } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, t("noData"));
  const columns = Object.keys(rows[0]);
  const body = h("tbody", {});
  const fill = (list) => body.replaceChildren(...list.map((row) => h("tr", {},
    columns.map((c) => h("td", { "data-col": c }, row[c] === null ? "—" : String(row[c]))))));
  let order = { column: null, up: true };
  const head = columns.map((c) => {
    const th = h("th", { scope: "col", "aria-sort": sortable ? "none" : null }, t(c));
    if (sortable) {
      th.append(" ", h("button", { type: "button", class: "link sort", "aria-label": `${t("sortBy")} ${t(c)}`, onclick: () => {
        order = { column: c, up: order.column === c ? !order.up : true };
        head.forEach((other) => other.setAttribute("aria-sort", "none"));
        th.setAttribute("aria-sort", order.up ? "ascending" : "descending");
        const key = (r) => (r[c] === null ? -Infinity : r[c]);
        fill([...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (order.up ? 1 : -1)));
      } }, "↕"));
    }
    return th;
  });
  fill(rows);
  return h("table", { class: "report-table", "data-table": `${panel}.${name}` },
    h("caption", { class: "sr-only" }, `${t(panel)} · ${name}`),
    h("thead", {}, h("tr", {}, head)), body);
}

function csvButton(path, name) {
  return h("button", { type: "button", class: "link csv", "data-csv": `${path}.${name}`, onclick: async () => {
    const params = query();
    params.set("format", "csv");
    params.set("table", name);
    const blob = await apiBlob(`/reports/${path}?${params}`);
    const link = h("a", { href: URL.createObjectURL(blob), download: `chorus-${path}-${name}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    announce(t("csv"));
  } }, `${t("csv")} (${t(name)})`);
}

function tables(path, data, options = {}) {
  const downloads = h("p", { class: "downloads" }, Object.keys(data).map((name) => csvButton(path, name)));
  return [downloads, ...Object.entries(data).map(([name, rows]) => h("details", { class: "report-data", open: options.open },
    h("summary", {}, `${t("table")}: ${t(name)}`), table(path, name, rows, options)))];
}

const PANELS = [
  { path: "conversations", title: "conversations", charts: ({ days }) => {
    const labels = [...new Set(days.map((d) => d.day))];
    const channels = [...new Set(days.map((d) => d.channel))];
    const value = (day, channel, key) => days.filter((d) => d.day === day && (!channel || d.channel === channel))
      .reduce((sum, d) => sum + d[key], 0);
    const series = channels.map((c) => ({ name: `${c} · ${t("newConv")}`, values: labels.map((d) => value(d, c, "new")) }));
    series.push({ name: t("reopened"), values: labels.map((d) => value(d, null, "reopened")) });
    return [barChart(t("conversations"), labels.map(short), series, { stacked: true })];
  } },
  { path: "response-times", title: "responseTimes", charts: ({ days, histogram }) => {
    const labels = days.map((d) => short(d.day));
    const line = lineChart(`${t("responseTimes")} (${t("minutes")})`, labels, [
      { name: t("frtMedian"), values: days.map((d) => minutes(d.first_response_median_seconds)) },
      { name: t("frtP90"), values: days.map((d) => minutes(d.first_response_p90_seconds)) },
      { name: t("resMedian"), values: days.map((d) => minutes(d.resolution_median_seconds)) },
      { name: t("resP90"), values: days.map((d) => minutes(d.resolution_p90_seconds)) },
    ]);
    const bins = [...new Set(histogram.map((b) => b.bin))];
    const of = (kind) => bins.map((bin) => histogram.find((b) => b.kind === kind && b.bin === bin).count);
    const bars = barChart(t("histogram"), bins, [
      { name: t("firstResponse"), values: of("first_response") },
      { name: t("resolution"), values: of("resolution") },
    ]);
    return [line, bars];
  } },
  { path: "bot", title: "bot", admin: true, charts: ({ days, handoff_reasons: reasons }) => [
    lineChart(`${t("containment")} (%)`, days.map((d) => short(d.day)), [
      { name: t("containment"), values: days.map((d) => (d.containment_rate === null ? null : Math.round(d.containment_rate * 1000) / 10)) },
    ]),
    barChart(t("handoffReasons"), reasons.map((r) => r.reason), [{ name: t("count"), values: reasons.map((r) => r.count) }]),
    barChart(t("webhookFailures"), days.map((d) => short(d.day)), [{ name: t("webhookFailures"), values: days.map((d) => d.webhook_failures) }]),
  ] },
  { path: "ratings", title: "ratings", charts: ({ distribution, days }) => [
    barChart(t("distribution"), distribution.map((r) => `★${r.score}`), [{ name: t("count"), values: distribution.map((r) => r.count) }]),
    lineChart(t("average"), days.map((d) => short(d.day)), [{ name: t("average"), values: days.map((d) => d.average) }]),
  ] },
  { path: "agents", title: "agents", sortable: true, charts: () => [] },
  { path: "moderation", title: "moderation", admin: true, charts: ({ days }) => [
    barChart(t("moderation"), days.map((d) => short(d.day)), ["approved", "held", "rejected"].map((k) => ({
      name: t(k), values: days.map((d) => d[k]) })), { stacked: true }),
  ] },
];

function controls(main) {
  const range = h("select", { id: "report-range", "aria-label": t("range") },
    ["today", "7d", "30d", "custom"].map((r) => h("option", { value: r, selected: state.range === r }, t(r))));
  const since = h("input", { id: "report-since", type: "date", value: state.since, "aria-label": t("since") });
  const until = h("input", { id: "report-until", type: "date", value: state.until, "aria-label": t("until") });
  const channel = h("select", { id: "report-channel", "aria-label": t("channel") },
    h("option", { value: "" }, t("all")),
    CHANNELS.map((c) => h("option", { value: c, selected: state.channel === c }, c)));
  const custom = h("span", { class: "custom", hidden: state.range !== "custom" }, since, until);
  range.addEventListener("change", () => { custom.hidden = range.value !== "custom"; });
  const form = h("form", { class: "report-controls", "aria-label": t("reports") },
    h("label", { for: "report-range" }, t("range")), range, custom,
    h("label", { for: "report-channel" }, t("channel")), channel,
    h("button", { type: "submit" }, t("apply")),
    h("button", { type: "button", class: "link", lang: language() === "en" ? "zh-CN" : "en", onclick: () => {
      setLanguage(language() === "en" ? "zh-CN" : "en");
      renderReports(main);
    } }, t("language")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(state, { range: range.value, since: since.value, until: until.value, channel: channel.value });
    renderReports(main);
  });
  return form;
}

export async function renderReports(main) {
  document.documentElement.lang = language();
  const admin = current().agent.role === "admin";
  const panels = PANELS.filter((p) => admin || !p.admin);
  const sections = panels.map((panel) => h("section", { class: "panel report", id: `report-${panel.path}`,
    "aria-labelledby": `h-report-${panel.path}`, "aria-busy": "true" },
  h("h2", { id: `h-report-${panel.path}` }, t(panel.title)), h("p", { class: "meta" }, t("loading"))));
  main.replaceChildren(h("div", { class: "admin reports" }, h("h1", { class: "sr-only" }, t("reports")),
    controls(main), h("div", { class: "report-grid" }, sections)));
  await Promise.all(panels.map(async (panel, i) => {
    const section = sections[i];
    try {
      const report = await api("GET", `/reports/${panel.path}?${query()}`);
      section.replaceChildren(section.firstChild,
        h("p", { class: "meta range" }, `${report.range.since} – ${report.range.until}`),
        h("div", { class: "charts" }, panel.charts(report.tables)),
        ...tables(panel.path, report.tables, { sortable: panel.sortable, open: panel.sortable }));
    } catch (err) {
      section.replaceChildren(section.firstChild, h("p", { class: "error", role: "alert" }, err.message));
    }
    section.setAttribute("aria-busy", "false");
  }));
}
