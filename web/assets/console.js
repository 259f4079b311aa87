// The dispatcher console: open and closed incidents (GET /v1/incidents), one incident live (GET
// /v1/incidents/{id} + /timeline) with its responders and the AED being fetched on the map, raising an
// incident for a caller (POST /v1/incidents, one Idempotency-Key per raise), the ambulance on scene and
// the close. Polled every POLL_S seconds, one round of requests at a time, paused while the tab is hidden.
/* global L */
import { api, currentLang, esc, explain, frame, loadConfig, localTime, showError, t } from "./core.js";
import { BaseMap } from "./basemap.js";

const POLL_S = 1;
const ROLES = ["dispatcher", "admin"];
const PAGE = { open: 50, closed: 20 };
const STATE_ORDER = { accepted: 0, alerted: 1, declined: 2, stood_down: 3 };
const RING = { cpr: "#c8102e", aed: "#1a7f37" };

const config = await loadConfig();
const zone = config.time_zone;
const el = (id) => document.querySelector(`[data-testid="${id}"]`);

const state = {
  allowed: false,
  list: "open",
  rows: [],
  selected: decodeURIComponent(location.hash.slice(1)) || null,
  incident: null,
  timeline: [],
  busy: false,
  timer: null,
  updatedAt: null,
  raiseKey: null,
  raising: false,
  fitted: null, // the incident the map was last fitted to
  drawn: { list: "", detail: "", map: "" }, // what is on screen, to redraw only on a change
};

let baseMap = null;
let listLayer = null;
let detailLayer = null;
let pickMarker = null;
let signInNow = () => {};

// -- helpers ----------------------------------------------------------------------------------------
const short = (id) => (id ? `…${String(id).slice(-6)}` : "");
const metres = (m) => t("console.metres", { m: Math.round(m) });
const word = (prefix, value) => t(`${prefix}.${value}`, {}, value ?? "");

function rolesFill(roles) {
  return t("console.roles_fill", {
    cpr: roles.cpr.filled, cpr_slots: roles.cpr.slots, aed: roles.aed.filled, aed_slots: roles.aed.slots,
  });
}

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

// -- the session: dispatchers (and admins) only --------------------------------------------------------
await frame({
  title: "page.console",
  roles: ROLES,
  onSession({ session, allowed, signIn }) {
    signInNow = signIn;
    state.allowed = allowed;
    el("refusal").hidden = allowed;
    el("console").hidden = !allowed;
    el("refusal-who").textContent = session
      ? t("console.signed_in_as", {
        who: `${session.sub} · ${session.roles.map((r) => t(`role.${r}`)).join(", ") || t("role.public")}`,
      })
      : "";
    if (!allowed) {
      clearTimeout(state.timer);
      return;
    }
    if (!baseMap) startMap();
    baseMap.map.invalidateSize();
    state.drawn = { list: "", detail: "", map: "" }; // the language may have changed: draw again
    renderAll();
    poll();
  },
});

document.querySelector("[data-action=console-signin]").addEventListener("click", () => signInNow());

// -- polling ----------------------------------------------------------------------------------------
/** One round (the list, and the open incident with its timeline), then the next in POLL_S seconds. */
async function poll() {
  clearTimeout(state.timer);
  if (!state.allowed || state.busy) return; // the round under way schedules the next
  if (document.hidden) {
    renderRefreshNote();
    return; // visibilitychange starts it again
  }
  state.busy = true;
  try {
    await refresh();
    showError("");
  } catch (error) {
    showError(explain(error));
  } finally {
    state.busy = false;
  }
  if (state.allowed && !document.hidden) state.timer = setTimeout(poll, POLL_S * 1000);
}

document.addEventListener("visibilitychange", () => (document.hidden ? renderRefreshNote() : poll()));

async function refresh() {
  const list = state.list;
  const id = state.selected;
  const path = `/v1/incidents/${encodeURIComponent(id || "")}`;
  const [page, detail] = await Promise.all([
    api(`/v1/incidents?status=${list}&limit=${PAGE[list]}`),
    id ? Promise.all([api(path), api(`${path}/timeline`)]).catch((error) => ({ error })) : null,
  ]);
  if (list !== state.list || id !== state.selected) return; // the dispatcher moved on meanwhile
  state.rows = page.items;
  if (detail && detail.error) {
    if (detail.error.status !== 404) throw detail.error;
    select(null); // not an incident (an old link)
  } else if (detail) {
    [state.incident, { items: state.timeline }] = detail;
  }
  state.updatedAt = new Date().toISOString();
  renderAll();
}

// -- drawing ----------------------------------------------------------------------------------------
function renderAll() {
  renderTabs();
  renderList();
  renderDetail();
  renderMap();
  renderRefreshNote();
}

function renderRefreshNote() {
  el("refresh-note").textContent = document.hidden
    ? t("console.paused")
    : t("console.refresh_every", { seconds: POLL_S });
  el("updated").textContent = state.updatedAt
    ? ` · ${t("console.updated", { time: localTime(state.updatedAt, zone) })}`
    : "";
}

function renderTabs() {
  for (const tab of document.querySelectorAll("[data-list]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.list === state.list));
  }
  el("list-note").textContent = t(state.list === "open" ? "console.list_note" : "console.closed_note");
}

function renderList() {
  const closed = state.list === "closed";
  const html = state.rows
    .map((row) => {
      const status = closed
        ? `${esc(word("status", row.status))} · <span data-testid="row-outcome">${esc(word("outcome", row.outcome))}</span>`
        : esc(word("status", row.status));
      const unanswered = row.unanswered
        ? ` <span class="badge warn" data-testid="row-unanswered">${esc(t("console.unanswered"))}</span>`
        : "";
      return `<tr data-testid="incident-row" data-incident-id="${esc(row.incident_id)}"
          class="${row.incident_id === state.selected ? "selected" : ""}" tabindex="0">
        <td><time datetime="${esc(row.created_at)}">${esc(localTime(row.created_at, zone, closed))}</time></td>
        <td><span class="badge source-${esc(row.source)}" data-testid="row-source">${esc(word("console.source", row.source))}</span>${
          row.cad_incident_no ? ` <span class="hint">${esc(row.cad_incident_no)}</span>` : ""}</td>
        <td data-testid="row-status">${status}${unanswered}</td>
        <td data-testid="row-alerted">${row.alerted}</td>
        <td data-testid="row-accepted">${row.accepted} <span class="hint fill">${esc(rolesFill(row.roles))}</span></td>
      </tr>`;
    })
    .join("");
  if (html !== state.drawn.list) {
    el("incident-rows").innerHTML = html;
    state.drawn.list = html;
  }
  const empty = el("list-empty");
  empty.hidden = state.rows.length > 0 || !state.updatedAt;
  empty.textContent = t(closed ? "console.closed_empty" : "console.empty");
}

function timelineWords(entry, incident) {
  const who = (id) => short(id);
  const staff = (what) => (entry.by_id ? t("tl.by_staff", { what, who: entry.by_id }) : what);
  switch (entry.type) {
    case "created": {
      const text = t("tl.created", { source: word("console.source", entry.source) });
      return entry.by_id ? `${text}；${t("tl.created_by", { who: entry.by_id })}` : text;
    }
    case "merged":
      return t("tl.merged", { id: short(entry.merged_into) });
    case "alerted":
      return t("tl.alerted", { who: who(entry.responder_id), m: Math.round(entry.distance_m), wave: entry.wave });
    case "accepted":
      if (entry.role === "aed") {
        const aed = incident.aed && incident.aed.aed_id === entry.aed_id ? incident.aed.name : entry.aed_id;
        return t("tl.accepted_aed", { who: who(entry.responder_id), aed });
      }
      return t("tl.accepted", { who: who(entry.responder_id), role: word("role", entry.role) });
    case "declined":
    case "stood_down":
      return t(`tl.${entry.type}`, { who: who(entry.responder_id) });
    case "closed":
      return staff(t("tl.closed", { outcome: word("outcome", entry.outcome) }));
    case "credited":
      return t("tl.credited", { who: who(entry.responder_id), points: entry.points, reason: word("event", entry.reason) });
    case "caller_joined":
      return t("tl.caller_joined", { id: short(entry.detail) });
    case "aed_rerouted":
      return entry.to_cpr
        ? t("tl.aed_rerouted_cpr", { from: entry.from_aed_id })
        : t("tl.aed_rerouted", { from: entry.from_aed_id, to: entry.to_aed_id });
    case "aed_reported":
      return t("tl.aed_reported", { aed: entry.aed_id, kind: word("map.kind", entry.kind) });
    default: {
      const what = word("event", entry.type);
      return entry.responder_id ? t("tl.step", { who: who(entry.responder_id), what }) : staff(what);
    }
  }
}

function renderDetail() {
  const incident = state.selected && state.incident?.incident_id === state.selected ? state.incident : null;
  el("pick-one").hidden = Boolean(incident);
  el("detail").hidden = !incident;
  if (!incident) return;
  const closed = incident.status === "closed";
  const created = state.timeline.find((e) => e.type === "created") || {};
  const facts = [
    ["console.created_at", localTime(incident.created_at, zone, true)],
    ["console.col.source", word("console.source", created.source || "app")],
    ["console.place", `${incident.lat.toFixed(5)}, ${incident.lng.toFixed(5)}`],
    created.by_id ? ["console.raised_by", created.by_id] : null,
    created.cad_incident_no ? ["console.cad_no", created.cad_incident_no] : null,
    incident.caller_phone
      ? ["console.caller", incident.caller_phone + (incident.caller_phone_unverified ? ` ${t("console.unverified")}` : "")]
      : null,
    incident.note ? ["console.note", incident.note] : null,
    incident.address ? ["console.place", `${incident.address}${incident.floor ? ` · ${incident.floor}` : ""}`] : null,
  ].filter(Boolean);
  const responders = [...incident.alerts].sort(
    (a, b) => (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) || a.distance_m - b.distance_m,
  );
  const parts = {
    title: t("console.incident", { id: short(incident.incident_id) }),
    facts: facts.map(([k, v]) => `<dt>${esc(t(k))}</dt><dd>${esc(v)}</dd>`).join(""),
    responders: responders
      .map((a) => `<tr data-testid="responder-row" data-responder-id="${esc(a.responder_id)}" data-state="${esc(a.state)}">
          <td title="${esc(a.responder_id)}">${esc(short(a.responder_id))}</td>
          <td>${esc(word("alert", a.state))}</td>
          <td data-testid="responder-role">${a.role ? `<span class="role role-${esc(a.role)}">${esc(word("role", a.role))}</span>` : ""}</td>
          <td>${esc(metres(a.distance_m))}</td></tr>`)
      .join("") || `<tr><td colspan="4" class="hint">${esc(t("console.no_responders"))}</td></tr>`,
    timeline: state.timeline
      .map((e) => `<li data-testid="timeline-entry" data-type="${esc(e.type)}">
          <time datetime="${esc(e.at)}">${esc(localTime(e.at, zone))}</time> <span>${esc(timelineWords(e, incident))}</span></li>`)
      .join(""),
  };
  const html = JSON.stringify([parts, incident.status, incident.unanswered, incident.outcome, incident.aed, currentLang()]);
  if (html === state.drawn.detail) return;
  state.drawn.detail = html;
  el("detail-title").textContent = parts.title;
  el("detail-title").title = incident.incident_id;
  el("detail-status").textContent = word("status", incident.status);
  el("detail-unanswered").hidden = !incident.unanswered;
  el("facts").innerHTML = parts.facts;
  el("responder-rows").innerHTML = parts.responders;
  el("timeline").innerHTML = parts.timeline;
  el("aed-line").textContent = incident.aed
    ? `${t("console.aed_fetched")}: ${incident.aed.name}${incident.aed.placement ? ` (${incident.aed.placement})` : ""}`
    : t("console.no_aed");
  const emsDone = state.timeline.some((e) => e.type === "ems_arrived");
  const ems = el("ems-arrived");
  ems.disabled = emsDone || closed;
  ems.textContent = t(emsDone ? "console.ems_done" : "console.ems_arrived");
  el("actions").hidden = closed;
  if (closed) el("close-confirm").hidden = true;
  el("closed-as").hidden = !closed;
  el("closed-as").textContent = closed ? t("console.closed_as", { outcome: word("outcome", incident.outcome) }) : "";
}

// -- the map: open incidents as dots; the chosen one's patient, AED and responders' rings -------------
function startMap() {
  baseMap = new BaseMap(el("console-map"), config);
  listLayer = L.layerGroup().addTo(baseMap.map);
  detailLayer = L.layerGroup().addTo(baseMap.map);
  baseMap.map.on("click", (event) => {
    if (!el("raise").open) return;
    const { lat, lng } = baseMap.fromMap(event.latlng);
    const form = document.querySelector(".raise-form");
    form.place.value = `${lat.toFixed(6)},${lng.toFixed(6)}`;
    form.place.dispatchEvent(new Event("input", { bubbles: true }));
  });
}

function renderMap() {
  if (!baseMap) return;
  const incident = state.selected && state.incident?.incident_id === state.selected ? state.incident : null;
  const openRows = state.list === "open" ? state.rows : [];
  const signature = JSON.stringify([
    openRows.map((r) => [r.incident_id, r.lat, r.lng]),
    state.selected,
    incident && [incident.lat, incident.lng, incident.aed, incident.alerts.map((a) => [a.state, a.role, a.distance_m])],
    currentLang(),
  ]);
  if (signature === state.drawn.map) return;
  state.drawn.map = signature;
  listLayer.clearLayers();
  for (const row of openRows) {
    if (row.incident_id === state.selected) continue;
    L.circleMarker(baseMap.toMap(row.lat, row.lng), { radius: 6, color: "#7a4100", weight: 2, fillOpacity: 0.6 })
      .bindTooltip(esc(`${word("status", row.status)} · ${localTime(row.created_at, zone)}`))
      .on("click", () => select(row.incident_id))
      .addTo(listLayer);
  }
  detailLayer.clearLayers();
  if (!incident) return;
  const patient = baseMap.toMap(incident.lat, incident.lng);
  const bounds = L.latLngBounds([patient]);
  for (const alert of incident.alerts.filter((a) => a.state === "accepted")) {
    const ring = L.circle(patient, {
      radius: Math.max(alert.distance_m, 5),
      color: RING[alert.role] || "#6b7280",
      weight: 2,
      dashArray: "6 6",
      fill: false,
    })
      .bindTooltip(esc(`${short(alert.responder_id)} · ${word("role", alert.role)} · ${metres(alert.distance_m)}`))
      .addTo(detailLayer);
    bounds.extend(ring.getBounds());
  }
  if (incident.aed) {
    const at = baseMap.toMap(incident.aed.lat, incident.aed.lng);
    L.marker(at, {
      icon: L.divIcon({ className: "aed-pin open", html: "AED", iconSize: [22, 22], iconAnchor: [11, 11] }),
      title: incident.aed.name,
    })
      .bindTooltip(`${t("console.aed_fetched")}: ${esc(incident.aed.name)}`)
      .addTo(detailLayer);
    bounds.extend(at);
  }
  L.circleMarker(patient, { radius: 9, color: "#fff", weight: 3, fillColor: "#c8102e", fillOpacity: 1 })
    .bindTooltip(esc(t("console.patient")))
    .addTo(detailLayer);
  if (state.fitted !== incident.incident_id) {
    // Once per incident chosen: a ring that grows later does not move the dispatcher's view.
    baseMap.map.fitBounds(bounds.pad(0.2), { maxZoom: 16 });
    state.fitted = incident.incident_id;
  }
}

// -- choosing ---------------------------------------------------------------------------------------
function select(id) {
  state.selected = id;
  state.incident = null;
  state.timeline = [];
  state.fitted = null;
  el("close-confirm").hidden = true;
  el("action-error").textContent = "";
  el("outcome").value = "";
  history.replaceState(null, "", id ? `#${encodeURIComponent(id)}` : location.pathname);
  renderAll();
  poll();
}

el("incident-rows").addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-incident-id]");
  if (row) select(row.dataset.incidentId);
});
el("incident-rows").addEventListener("keydown", (event) => {
  const row = event.target.closest("tr[data-incident-id]");
  if (row && (event.key === "Enter" || event.key === " ")) {
    event.preventDefault();
    select(row.dataset.incidentId);
  }
});

for (const tab of document.querySelectorAll("[data-list]")) {
  tab.addEventListener("click", () => {
    if (state.list === tab.dataset.list) return;
    state.list = tab.dataset.list;
    state.rows = [];
    state.updatedAt = null;
    renderAll();
    poll();
  });
}

// -- acting on the incident -------------------------------------------------------------------------
async function act(button, call) {
  el("action-error").textContent = "";
  button.disabled = true;
  try {
    await call();
  } catch (error) {
    el("action-error").textContent = explain(error);
  } finally {
    button.disabled = false;
    state.drawn.detail = "";
    poll();
  }
}

el("ems-arrived").addEventListener("click", () =>
  act(el("ems-arrived"), () =>
    api(`/v1/incidents/${encodeURIComponent(state.selected)}/events`, { method: "POST", body: { type: "ems_arrived" } }),
  ),
);

el("close").addEventListener("click", () => {
  const outcome = el("outcome").value;
  el("action-error").textContent = outcome ? "" : t("console.choose_outcome");
  if (!outcome) return;
  el("close-question").textContent = t("console.close_confirm", { outcome: word("outcome", outcome) });
  el("close-confirm").hidden = false;
});
el("close-no").addEventListener("click", () => {
  el("close-confirm").hidden = true;
});
el("close-yes").addEventListener("click", () => {
  const outcome = el("outcome").value;
  const id = state.selected;
  el("close-confirm").hidden = true;
  act(el("close-yes"), () => api(`/v1/incidents/${encodeURIComponent(id)}/close`, { method: "POST", body: { outcome } }));
});

// -- raising an incident for a caller ---------------------------------------------------------------
const raiseForm = document.querySelector(".raise-form");

function parsePlace(text) {
  const value = text.trim();
  const named = (config.places || []).find((p) => p.name === value);
  if (named) return { lat: named.lat, lng: named.lng };
  const match = value.match(/^(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)$/);
  if (!match) return null;
  const [lat, lng] = [Number(match[1]), Number(match[2])];
  return Math.abs(lat) <= 90 && Math.abs(lng) <= 180 ? { lat, lng } : null;
}

raiseForm.addEventListener("input", () => {
  state.raiseKey = null; // another body: another raise
  el("raise-result").textContent = "";
  const place = parsePlace(raiseForm.place.value);
  if (pickMarker) pickMarker.remove();
  pickMarker = null;
  if (place && baseMap) {
    pickMarker = L.circleMarker(baseMap.toMap(place.lat, place.lng), {
      radius: 8, color: "#c8102e", weight: 2, dashArray: "3 3", fillOpacity: 0.2,
    }).addTo(baseMap.map);
  }
});

raiseForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (state.raising) return; // a double click: the first is on its way (and its key makes it one anyway)
  const error = el("raise-error");
  error.textContent = "";
  const place = parsePlace(raiseForm.place.value);
  if (!place) {
    error.textContent = t("console.raise.bad_place");
    return;
  }
  const phone = raiseForm.phone.value.trim();
  if (phone && !/^\+[1-9]\d{6,14}$/.test(phone)) {
    error.textContent = t("console.raise.bad_phone");
    return;
  }
  const body = { lat: place.lat, lng: place.lng };
  if (phone) body.caller_phone = phone;
  if (raiseForm.note.value.trim()) body.note = raiseForm.note.value.trim();
  state.raiseKey = state.raiseKey || newKey();
  const known = new Set(state.rows.map((r) => r.incident_id));
  state.raising = true;
  el("raise-send").disabled = true;
  try {
    const answer = await api("/v1/incidents", {
      method: "POST", body, headers: { "Idempotency-Key": state.raiseKey },
    });
    el("raise-result").textContent = known.has(answer.incident_id) && state.list === "open"
      ? t("console.raise.joined", { id: short(answer.incident_id) })
      : t("console.raise.sent", { id: short(answer.incident_id) });
    raiseForm.reset();
    state.raiseKey = null;
    if (pickMarker) pickMarker.remove();
    pickMarker = null;
    if (state.list !== "open") {
      state.list = "open";
      state.rows = [];
    }
    select(answer.incident_id);
  } catch (failure) {
    error.textContent = explain(failure);
  } finally {
    state.raising = false;
    el("raise-send").disabled = false;
  }
});
