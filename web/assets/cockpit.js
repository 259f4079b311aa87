// The Red Cross cockpit (驾驶舱): a period's rescue figures, responders on duty by map cell (cells of 5
// or more only), a district's AED coverage over the week's 168 hours, the training funnel, sessions,
// instructors and the credits leaderboard, on one screen. Admins and dispatchers read it (dispatchers
// read-only); everyone else is told so. Figures come from the API as they are: nothing is recomputed here.
/* global L, echarts */
import { api, currentLang, esc, explain, frame, loadConfig, localTime, t } from "./core.js";
import { BaseMap } from "./basemap.js";

const ROLES = ["admin", "dispatcher"];
const OUTCOMES = ["rosc", "transported", "deceased", "false_alarm", "cancelled", "expired"];
const FUNNEL = ["registered", "attended", "passed", "certified", "on_duty"];
const DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const COVERAGE_POINTS = 4000; // sample points the heat map asks for at most: the grid widens for a big district

const config = await loadConfig();
const main = document.querySelector("main.cockpit");
const form = main.querySelector("form.cockpit-tools");
const refusal = document.querySelector("section.refusal");
const state = {
  who: null, // "sub|roles" of the session the page was loaded for
  districts: [],
  data: {}, // the last answers: rescues, onDuty, coverage, training, board
  generation: 0,
  charts: {},
  map: null,
  cells: null,
};

// -- dates in the deployment's time zone --------------------------------------------------------------
function today() {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: config.time_zone, year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(new Date());
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

function addDays(isoDate, days) {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function lastSevenDays() {
  const to = today();
  form.from.value = addDays(to, -6);
  form.to.value = to;
  boardPeriods();
}

// -- formatting -----------------------------------------------------------------------------------------
const number = (n) => new Intl.NumberFormat(currentLang() === "zh" ? "zh-CN" : "en-GB").format(n);

function minSec(seconds) {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function percent(share, digits = 1) {
  return `${(share * 100).toFixed(digits).replace(/\.0+$/, "")}%`;
}

function districtName(d) {
  return (currentLang() === "en" && d.name_en) || d.name;
}

function chosenDistrict() {
  return state.districts.find((d) => d.district_id === form.district.value) || null;
}

async function start() {
  if (!form.from.value) lastSevenDays();
  try {
    state.districts = (await api("/v1/districts")).items;
  } catch (error) {
    state.districts = [];
    form.querySelector("[data-testid=controls-error]").textContent = explain(error);
  }
  districtOptions();
  load();
}

function districtOptions() {
  const kept = form.district.value;
  form.district.innerHTML = `<option value="">${esc(t("cockpit.city"))}</option>${state.districts
    .map((d) => `<option value="${esc(d.district_id)}">${esc(districtName(d))}</option>`)
    .join("")}`;
  form.district.value = state.districts.some((d) => d.district_id === kept) ? kept : "";
  districtNote();
}

function districtNote() {
  const chosen = chosenDistrict();
  const notes = [...new Set((chosen ? [chosen] : state.districts).map((d) => d.note).filter(Boolean))];
  const element = form.querySelector("[data-testid=district-note]");
  element.textContent = notes.join(" ");
  element.hidden = notes.length === 0;
}

function boardPeriods() {
  const select = main.querySelector("select[name=board-period]");
  const kept = select.selectedIndex;
  const to = form.to.value || today();
  const periods = [to.slice(0, 7), to.slice(0, 4)];
  select.innerHTML = periods
    .map((p, i) => `<option value="${p}">${esc(t(i === 0 ? "cockpit.board_month" : "cockpit.board_year", { period: p }))}</option>`)
    .join("");
  select.selectedIndex = Math.max(0, kept);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  boardPeriods();
  load();
});
form.querySelector("[data-action=last7]").addEventListener("click", () => {
  lastSevenDays();
  load();
});
form.district.addEventListener("change", () => {
  districtNote();
  load();
});
main.querySelector("select[name=board-period]").addEventListener("change", () => loadBoard(state.generation));

// -- loading: every panel on its own, the page "ready" once all have answered ------------------------
function panelStatus(name, text) {
  const status = main.querySelector(`[data-testid=panel-${name}] .panel-status`);
  status.textContent = text;
  status.classList.toggle("error", Boolean(text) && text !== t("common.loading"));
}

function load() {
  const error = form.querySelector("[data-testid=controls-error]");
  const from = form.from.value;
  const to = form.to.value;
  if (!from || !to || from > to) {
    error.textContent = t("cockpit.period_invalid");
    return;
  }
  error.textContent = "";
  const generation = ++state.generation;
  const district = form.district.value;
  Object.assign(main.dataset, { state: "loading", from, to, district });
  const query = new URLSearchParams({ from, to });
  if (district) query.set("district", district);
  const area = chosenDistrict()?.area;
  const jobs = [
    fetchInto(generation, ["rescues", "outcomes"], "rescues", `/v1/cockpit/rescues?${query}`),
    fetchInto(generation, ["on-duty"], "onDuty", `/v1/cockpit/on-duty${district ? `?district=${encodeURIComponent(district)}` : ""}`),
    fetchInto(generation, ["training", "sessions", "instructors"], "training",
      `/v1/cockpit/training?${new URLSearchParams({ from, to })}`),
    loadBoard(generation),
  ];
  state.data.coverage = null;
  if (area) {
    jobs.push(fetchInto(generation, ["coverage"], "coverage", "/v1/aeds/coverage/week", {
      method: "POST", body: { area, grid_m: gridFor(area) },
    }));
  } else {
    renderCoverage();
  }
  Promise.allSettled(jobs).then(() => {
    if (generation === state.generation) main.dataset.state = "ready";
  });
}

function loadBoard(generation) {
  const period = main.querySelector("select[name=board-period]").value;
  return fetchInto(generation, ["leaderboard"], "board", `/v1/credits/leaderboard?period=${encodeURIComponent(period)}`);
}

async function fetchInto(generation, panels, key, path, options = {}) {
  for (const p of panels) panelStatus(p, t("common.loading"));
  try {
    const answer = await api(path, options);
    if (generation !== state.generation) return;
    state.data[key] = answer;
    for (const p of panels) panelStatus(p, "");
  } catch (error) {
    if (generation !== state.generation) return;
    state.data[key] = null;
    for (const p of panels) panelStatus(p, explain(error));
  }
  RENDER[key]();
}

/** A grid spacing that keeps the week's coverage to a few thousand sample points (the area's box). */
function gridFor(area) {
  const positions = JSON.stringify(area.coordinates).match(/-?\d+(\.\d+)?,-?\d+(\.\d+)?/g) || [];
  const lngs = [];
  const lats = [];
  for (const pair of positions) {
    const [lng, lat] = pair.split(",").map(Number);
    lngs.push(lng);
    lats.push(lat);
  }
  if (!lngs.length) return 100;
  const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  const width = (Math.max(...lngs) - Math.min(...lngs)) * 111_195 * Math.cos((midLat * Math.PI) / 180);
  const height = (Math.max(...lats) - Math.min(...lats)) * 111_195;
  const spacing = Math.sqrt((width * height) / COVERAGE_POINTS);
  return Math.min(5000, Math.max(100, Math.ceil(spacing / 50) * 50));
}

// -- rendering ------------------------------------------------------------------------------------------
const RENDER = {
  rescues: renderRescues,
  onDuty: renderOnDuty,
  coverage: renderCoverage,
  training: renderTraining,
  board: renderBoard,
};

function renderAll() {
  districtOptions();
  boardPeriods();
  for (const render of Object.values(RENDER)) render();
}

function figure(testid, value, sub, attributes = {}) {
  const element = main.querySelector(`[data-testid=${testid}]`);
  element.querySelector(".value").textContent = value;
  const subElement = element.querySelector(".sub");
  if (subElement) subElement.textContent = sub || "";
  for (const [name, raw] of Object.entries(attributes)) element.dataset[name] = raw ?? "";
}

function renderRescues() {
  const r = state.data.rescues;
  main.querySelector("[data-testid=period-shown]").textContent = r
    ? `${r.from} – ${r.to}${r.district ? ` · ${districtName(state.districts.find((d) => d.district_id === r.district) || { name: r.district })}` : ""}`
    : "";
  if (!r) {
    for (const id of ["rescues-incidents", "median-first-accept", "median-first-arrival", "median-aed-attached",
      "rescues-acceptance", "rescues-unanswered", "rescues-open"]) figure(id, "–", "", { value: "" });
    renderOutcomes();
    return;
  }
  const sources = Object.entries(r.by_source);
  figure("rescues-incidents", number(r.incidents),
    sources.map(([source, n]) => `${t(`console.source.${source}`, {}, source)} ${number(n)}`).join(" · "),
    { value: r.incidents });
  const bySource = main.querySelector("[data-testid=rescues-by-source]");
  for (const key of Object.keys(bySource.dataset)) if (key !== "testid") delete bySource.dataset[key];
  for (const [source, n] of sources) bySource.dataset[source] = n;
  for (const [key, testid] of [["first_accept", "median-first-accept"], ["first_arrival", "median-first-arrival"],
    ["aed_attached", "median-aed-attached"]]) {
    const seconds = r.median_s[key];
    const measured = r.measured[key];
    figure(testid, seconds == null ? "–" : minSec(seconds),
      seconds == null ? t("cockpit.not_measured") : t("cockpit.over", { n: number(measured) }),
      { seconds: seconds == null ? "" : String(seconds), measured: String(measured) });
  }
  figure("rescues-acceptance", r.acceptance_rate == null ? "–" : percent(r.acceptance_rate),
    t("cockpit.accepted_of", { accepted: number(r.accepted), alerted: number(r.alerted) }),
    { value: r.acceptance_rate == null ? "" : String(r.acceptance_rate), accepted: r.accepted, alerted: r.alerted });
  figure("rescues-unanswered", number(r.unanswered), "", { value: r.unanswered });
  figure("rescues-open", number(r.open), "", { value: r.open });
  renderOutcomes();
}

function renderOutcomes() {
  const r = state.data.rescues;
  const list = main.querySelector("[data-testid=outcomes]");
  if (!r) {
    list.innerHTML = "";
    return;
  }
  const most = Math.max(1, ...OUTCOMES.map((o) => r.outcomes[o] || 0));
  list.innerHTML = OUTCOMES.map((o) => `
    <li data-testid="outcome-${o}" data-value="${r.outcomes[o] || 0}" class="outcome-${o}">
      <span class="label">${esc(t(`outcome.${o}`))}</span>
      <span class="track"><span class="bar"></span></span>
      <span class="n">${number(r.outcomes[o] || 0)}</span>
    </li>`).join("");
  for (const o of OUTCOMES) {
    list.querySelector(`[data-testid=outcome-${o}] .bar`).style.width = `${((r.outcomes[o] || 0) / most) * 100}%`;
  }
}

function renderOnDuty() {
  const answer = state.data.onDuty;
  const element = main.querySelector("[data-testid=on-duty-map]");
  if (!state.map) {
    state.map = new BaseMap(element, config);
    state.cells = L.layerGroup().addTo(state.map.map);
    new ResizeObserver(() => state.map.map.invalidateSize()).observe(element);
  }
  const base = state.map;
  state.cells.clearLayers();
  const minCount = answer?.min_count ?? 5;
  main.querySelector("[data-testid=on-duty-rule]").textContent = t("cockpit.min_count_rule", { n: minCount });
  main.querySelector("[data-testid=on-duty-total]").textContent = answer
    ? answer.total == null ? t("cockpit.total_hidden", { n: minCount }) : t("cockpit.on_duty_total", { total: number(answer.total) })
    : "";
  main.querySelector("[data-testid=on-duty-hidden]").textContent = answer && answer.cells_hidden
    ? t("cockpit.hidden_cells", { count: number(answer.cells_hidden), n: minCount }) : "";
  // The district (or every district, for the whole city) outlined: the cells are counted inside them.
  const chosen = chosenDistrict();
  const outlined = chosen ? [chosen] : state.districts;
  const outline = outlined.length
    ? L.geoJSON({ type: "GeometryCollection", geometries: outlined.map((d) => d.area) }, {
      coordsToLatLng: ([lng, lat]) => L.latLng(...base.toMap(lat, lng)),
      style: { color: chosen ? "#c8102e" : "#6b7280", weight: chosen ? 2 : 1, fill: false, dashArray: "6 4" },
      interactive: false,
    }).addTo(state.cells)
    : null;
  const cells = answer?.cells || [];
  const most = Math.max(minCount, ...cells.map((c) => c.count));
  let box = null;
  for (const cell of cells) {
    if (cell.count < minCount) continue; // never anything under the rule, whatever the answer holds
    const [minLng, minLat, maxLng, maxLat] = cell.bounds;
    const bounds = L.latLngBounds([base.toMap(minLat, minLng), base.toMap(maxLat, maxLng)]);
    box = box ? box.extend(bounds) : L.latLngBounds(bounds.getSouthWest(), bounds.getNorthEast());
    L.rectangle(bounds, {
      color: "#c8102e", weight: 1, fillColor: "#c8102e", fillOpacity: 0.15 + 0.5 * (cell.count / most),
    }).addTo(state.cells);
    L.marker(bounds.getCenter(), {
      interactive: false,
      keyboard: false,
      icon: L.divIcon({
        className: "cell-count",
        iconSize: [36, 18],
        html: `<span data-testid="on-duty-cell" data-geohash="${esc(cell.geohash)}" data-count="${cell.count}">${number(cell.count)}</span>`,
      }),
    }).addTo(state.cells);
  }
  const target = outline ? outline.getBounds() : box;
  if (target && target.isValid()) base.map.fitBounds(target, { padding: [8, 8], maxZoom: 14 });
}

function chart(name, element) {
  if (!state.charts[name]) {
    state.charts[name] = echarts.init(element, null, { renderer: "canvas" });
    new ResizeObserver(() => state.charts[name].resize()).observe(element);
  }
  return state.charts[name];
}

function renderCoverage() {
  const answer = state.data.coverage;
  const chosen = chosenDistrict();
  const element = main.querySelector("[data-testid=coverage-heatmap]");
  const summary = main.querySelector("[data-testid=coverage-summary]");
  main.querySelector("[data-testid=coverage-needs-district]").hidden = Boolean(chosen);
  element.hidden = !answer;
  if (!answer) {
    summary.textContent = "";
    delete element.dataset.weekOf;
    return;
  }
  const data = [];
  let worst = { share: 2 };
  answer.hours.forEach((row, day) => row.forEach((share, hour) => {
    data.push([hour, day, Math.round(share * 1000) / 10]);
    if (share < worst.share) worst = { share, day, hour };
  }));
  const mean = answer.hours.flat().reduce((a, b) => a + b, 0) / (7 * 24);
  Object.assign(element.dataset, { weekOf: answer.week_of, samplePoints: answer.sample_points, worst: worst.share });
  summary.textContent = t("cockpit.coverage_summary", {
    mean: percent(mean),
    worst: percent(worst.share),
    when: `${t(`day.${DAYS[worst.day]}`)} ${String(worst.hour).padStart(2, "0")}:00`,
    points: number(answer.sample_points),
    week_of: answer.week_of,
  });
  chart("coverage", element).setOption({
    animation: false,
    tooltip: { renderMode: "richText", formatter: (p) => `${t(`day.${DAYS[p.value[1]]}`)} ${String(p.value[0]).padStart(2, "0")}:00  ${p.value[2]}%` },
    grid: { left: 44, right: 12, top: 8, bottom: 56 },
    xAxis: { type: "category", data: [...Array(24).keys()].map(String), splitArea: { show: true }, axisLabel: { interval: 2 } },
    yAxis: { type: "category", data: DAYS.map((d) => t(`day.${d}`)), inverse: true, splitArea: { show: true } },
    visualMap: {
      min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 120,
      text: ["100%", "0%"], inRange: { color: ["#c8102e", "#f0c36d", "#1a7f37"] },
    },
    series: [{ type: "heatmap", data, label: { show: false } }],
  }, true);
}

function renderTraining() {
  const answer = state.data.training;
  for (const step of FUNNEL) {
    const item = main.querySelector(`[data-testid=funnel-${step.replace("_", "-")}]`);
    item.querySelector(".n").textContent = answer ? number(answer.funnel[step]) : "–";
    item.dataset.value = answer ? answer.funnel[step] : "";
  }
  const expiring = main.querySelector("[data-testid=certificates-expiring]");
  expiring.textContent = answer
    ? t("cockpit.expiring", { d30: number(answer.certificates_expiring.within_30_days), d60: number(answer.certificates_expiring.within_60_days) })
    : "";
  if (answer) {
    expiring.dataset.within30 = answer.certificates_expiring.within_30_days;
    expiring.dataset.within60 = answer.certificates_expiring.within_60_days;
    chart("funnel", main.querySelector("[data-testid=funnel-chart]")).setOption({
      animation: false,
      tooltip: { renderMode: "richText" },
      series: [{
        type: "funnel", sort: "none", left: 8, right: 8, top: 6, bottom: 6, minSize: "12%", gap: 2,
        label: { show: true, position: "inside", formatter: (p) => `${p.name} ${number(p.value)}`, color: "#fff" },
        itemStyle: { borderWidth: 0 },
        color: ["#c8102e", "#d6454f", "#e07a5f", "#b26a00", "#1a7f37"],
        data: FUNNEL.map((s) => ({ name: t(`cockpit.funnel.${s}`), value: answer.funnel[s] })),
      }],
    }, true);
  }
  const sessions = main.querySelector("[data-testid=sessions] tbody");
  const rows = answer?.sessions || [];
  sessions.innerHTML = rows.length
    ? rows.map((s) => `<tr data-testid="session-row" data-session-id="${esc(s.session_id)}">
        <td>${esc(s.title || s.course_id)}</td>
        <td>${esc(localTime(s.starts_at, config.time_zone, true))}</td>
        <td class="who">${esc(s.trainer_id || "–")}</td>
        <td class="num">${number(s.registered)}${s.capacity ? ` / ${number(s.capacity)}` : ""}</td>
        <td class="num">${number(s.attended)}</td>
        <td class="num">${rating(s.rating_avg, s.ratings)}</td></tr>`).join("")
    : `<tr class="empty"><td colspan="6">${esc(answer ? t("cockpit.no_sessions") : "–")}</td></tr>`;
  const instructors = main.querySelector("[data-testid=instructors] tbody");
  const people = answer?.instructors || [];
  instructors.innerHTML = people.length
    ? people.map((i) => `<tr data-testid="instructor-row" data-trainer-id="${esc(i.trainer_id)}">
        <td class="who">${esc(i.trainer_id)}</td><td class="num">${number(i.sessions)}</td>
        <td class="num">${rating(i.rating_avg, i.ratings)}</td></tr>`).join("")
    : `<tr class="empty"><td colspan="3">${esc(answer ? t("cockpit.no_instructors") : "–")}</td></tr>`;
}

function rating(average, count) {
  if (average == null) return `<span class="hint">${esc(t("cockpit.no_ratings"))}</span>`;
  return `★ ${average.toFixed(1)} <span class="hint">${esc(t("cockpit.ratings", { n: number(count) }))}</span>`;
}

function renderBoard() {
  const answer = state.data.board;
  const body = main.querySelector("[data-testid=leaderboard] tbody");
  const rows = answer?.items || [];
  body.innerHTML = rows.length
    ? rows.map((r) => `<tr data-testid="leaderboard-row">
        <td class="num">${r.rank}</td><td class="name">${esc(r.display_name)}</td>
        <td class="num">${number(r.points)}</td><td class="num">${number(r.rescues)}</td></tr>`).join("")
    : `<tr class="empty"><td colspan="4">${esc(answer ? t("cockpit.board_empty") : "–")}</td></tr>`;
}

// -- the session: who may see the page -----------------------------------------------------------------
await frame({
  title: "page.cockpit",
  roles: ROLES,
  defaultRoles: ["admin"],
  onSession: ({ session, allowed, signIn }) => {
    refusal.querySelector("button").onclick = signIn;
    if (!allowed) {
      state.who = null;
      state.generation += 1; // answers still on their way are not shown
      main.hidden = true;
      refusal.hidden = false;
      refusal.querySelector(".refusal-text").textContent = session
        ? t("cockpit.refused")
        : t("cockpit.sign_in_first");
      return;
    }
    refusal.hidden = true;
    main.hidden = false;
    form.querySelector("[data-testid=read-only]").hidden = session.roles.includes("admin");
    const who = `${session.sub}|${session.roles.join(",")}`;
    if (who === state.who) {
      renderAll(); // the language changed: the same answers, in the other language
      return;
    }
    state.who = who;
    start();
  },
});
