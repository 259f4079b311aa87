// AED一张图, the public AED map: every AED in view from GET /v1/aeds (clustered at low zoom), marked by
// its state now (usable and open / closed now / out of service), a card with its placement, floor and
// hours in words; "near me" lists the 3 nearest usable AEDs (GET /v1/aeds/nearby) with walking time;
// a fault report from the card (sign-in required, as the API says). E-stations (救护E站: a site with an
// AED and trained staff, GET /v1/estations) in their own layer above the AEDs, never clustered with them: a
// card with their address, hours in words, whether they are staffed now and the AED they keep (never who
// their staff are: the API does not say).
/* global L */
import { api, currentSession, esc, explain, frame, loadConfig, localTime, showError, t } from "./core.js";
import { BaseMap } from "./basemap.js";
import { hoursInWords } from "./i18n.js";

const MAX_SIDE_DEG = 1; // GET /v1/aeds answers boxes of at most 1 degree a side
const MAX_BOXES = 9; // a wider view asks the person to zoom in rather than fetch a province
const WALK_M_PER_S = 1.4;
const DETOUR = 1.3; // streets are longer than the straight line: an estimate, and the page says "about"
const NEAR_RADII_M = [1000, 5000]; // the contract's largest radius is 5,000 m

const config = await loadConfig();
const base = new BaseMap(document.getElementById("map"), config);
const cluster = L.markerClusterGroup({ chunkedLoading: true, maxClusterRadius: 50, disableClusteringAtZoom: 17 });
base.map.addLayer(cluster);
const markers = new Map(); // aed_id → marker, for what is in view now
// E-stations: their own pane, over the AEDs' pins (markerPane 600) and under the cards (popupPane 700).
base.map.createPane("estations").style.zIndex = 640;
const stationLayer = L.layerGroup().addTo(base.map);
const stations = new Map(); // team_id → marker, for what is in view now
let shownStationIds = [];
let shownIds = [];
let loadedBox = null;
let here = null;
let sequence = 0;

const { signIn } = await frame({ title: "page.map", roles: [], defaultRoles: [], onSession: () => relabel() });
fillPlaces();
document.addEventListener("lang-changed", () => load());

// -- AEDs in view -------------------------------------------------------------------------------------
function boxes([minLng, minLat, maxLng, maxLat]) {
  const columns = Math.ceil((maxLng - minLng) / MAX_SIDE_DEG);
  const rows = Math.ceil((maxLat - minLat) / MAX_SIDE_DEG);
  if (columns * rows > MAX_BOXES) return null;
  const out = [];
  for (let i = 0; i < columns; i++) {
    for (let j = 0; j < rows; j++) {
      out.push([
        minLng + i * MAX_SIDE_DEG,
        minLat + j * MAX_SIDE_DEG,
        Math.min(maxLng, minLng + (i + 1) * MAX_SIDE_DEG),
        Math.min(maxLat, minLat + (j + 1) * MAX_SIDE_DEG),
      ].map((v) => Math.round(v * 1e6) / 1e6));
    }
  }
  return out;
}

async function load() {
  const mine = ++sequence;
  const view = base.viewBox();
  const parts = boxes(view);
  const count = document.querySelector("[data-testid=count]");
  if (!parts) {
    cluster.clearLayers();
    markers.clear();
    shownIds = [];
    stationLayer.clearLayers();
    stations.clear();
    shownStationIds = [];
    loadedBox = view;
    count.textContent = t("map.zoom_in");
    document.body.dataset.loaded = view.join(",");
    return;
  }
  try {
    // The E-stations for the same boxes, at the same time; if only they fail, the AEDs are drawn all the
    // same (the page says what went wrong).
    const [answers, stationAnswers] = await Promise.all([
      Promise.all(parts.map((b) => api(`/v1/aeds?bbox=${b.join(",")}`, { anonymous: true }))),
      Promise.all(parts.map((b) => api(`/v1/estations?bbox=${b.join(",")}`, { anonymous: true }))).catch(
        (error) => ({ error }),
      ),
    ]);
    if (mine !== sequence) return; // the view moved on while this was loading
    const features = new Map();
    for (const answer of answers) for (const f of answer.features) features.set(f.properties.aed_id, f);
    draw([...features.values()]);
    if (!stationAnswers.error) {
      const found = new Map();
      for (const answer of stationAnswers) for (const f of answer.features) found.set(f.properties.team_id, f);
      drawStations([...found.values()]);
    }
    loadedBox = view;
    count.textContent = shownStationIds.length
      ? t("map.count_with_estations", { count: features.size, stations: shownStationIds.length })
      : t("map.count", { count: features.size });
    showError(stationAnswers.error ? explain(stationAnswers.error) : "");
  } catch (error) {
    if (mine === sequence) showError(explain(error));
  } finally {
    if (mine === sequence) document.body.dataset.loaded = view.join(",");
  }
}

function icon(state) {
  return L.divIcon({ className: "", html: `<div class="aed-pin ${state}">AED</div>`, iconSize: [22, 22], iconAnchor: [11, 11] });
}

function draw(features) {
  // Markers that have not changed stay (an open card stays open when the view reloads: opening a card
  // pans the map, which reloads it); changed or gone ones are replaced or removed.
  const fresh = new Map(features.map((f) => [f.properties.aed_id, f]));
  const gone = [];
  for (const [id, marker] of markers) {
    const next = fresh.get(id);
    if (!next || JSON.stringify(next) !== JSON.stringify(marker.feature)) {
      gone.push(marker);
      markers.delete(id);
    }
  }
  cluster.removeLayers(gone);
  const added = [];
  for (const [id, feature] of fresh) {
    if (markers.has(id)) continue;
    const [lng, lat] = feature.geometry.coordinates;
    const p = feature.properties;
    const marker = L.marker(base.toMap(lat, lng), { icon: icon(p.state), title: p.name, keyboard: true });
    marker.feature = feature;
    marker.bindPopup(() => card(marker.feature), { maxWidth: 300, className: "aed-popup" });
    markers.set(id, marker);
    added.push(marker);
  }
  cluster.addLayers(added);
  shownIds = [...markers.keys()].sort();
}

function stateLine(p) {
  if (p.state === "out_of_service") {
    const why = p.suspended ? t("map.status.suspended") : t(`map.status.${p.status}`, {}, p.status);
    return `<span class="state out_of_service">${esc(t("map.state.out_of_service"))}</span> · ${esc(why)}`;
  }
  const when = p.next_change_at ? localTime(p.next_change_at, config.time_zone, true) : "";
  const change = when ? ` · ${esc(t(p.state === "open" ? "map.closes_at" : "map.opens_at", { when }))}` : "";
  return `<span class="state ${p.state}">${esc(t(`map.state.${p.state}`))}</span>${change}`;
}

function card(feature) {
  const p = feature.properties;
  const div = document.createElement("div");
  div.className = "aed-card";
  div.dataset.aedId = p.aed_id;
  div.innerHTML = `
    <h3>${esc(p.name)}</h3>
    <p data-testid="aed-state">${stateLine(p)}</p>
    <dl>
      ${p.placement ? `<dt>${esc(t("map.placement"))}</dt><dd>${esc(p.placement)}</dd>` : ""}
      ${p.floor ? `<dt>${esc(t("map.floor"))}</dt><dd>${esc(p.floor)}</dd>` : ""}
      <dt>${esc(t("map.hours"))}</dt><dd data-testid="aed-hours">${esc(hoursInWords(p.opening_hours))}</dd>
    </dl>
    <button type="button" data-action="report" data-testid="report">${esc(t("map.report"))}</button>
    <p class="hint" data-testid="report-done"></p>`;
  div.querySelector("[data-action=report]").addEventListener("click", () => report(feature, div));
  return div;
}

// -- E-stations in view ----------------------------------------------------------------------------------
function stationIcon() {
  // A badge just over its site, its tail's tip on the top of the pin of the AED it keeps (which stands at
  // the same place: both stay visible and clickable).
  return L.divIcon({
    className: "",
    html: `<div class="estation-pin"><span class="cross" aria-hidden="true">✚</span>${esc(t("map.estation.pin"))}</div>`,
    iconSize: [48, 24],
    iconAnchor: [24, 40],
    popupAnchor: [0, -39],
  });
}

function drawStations(features) {
  // As draw(): unchanged markers stay, so an open card stays open when the view reloads.
  const fresh = new Map(features.map((f) => [f.properties.team_id, f]));
  for (const [id, marker] of stations) {
    const next = fresh.get(id);
    if (!next || JSON.stringify(next) !== JSON.stringify(marker.feature)) {
      stationLayer.removeLayer(marker);
      stations.delete(id);
    }
  }
  for (const [id, feature] of fresh) {
    if (stations.has(id)) continue;
    const [lng, lat] = feature.geometry.coordinates;
    const p = feature.properties;
    const marker = L.marker(base.toMap(lat, lng), {
      icon: stationIcon(),
      title: p.name,
      keyboard: true,
      pane: "estations",
    });
    marker.feature = feature;
    marker.bindPopup(() => stationCard(marker.feature), { maxWidth: 300, className: "aed-popup estation-popup" });
    stations.set(id, marker);
    stationLayer.addLayer(marker);
  }
  shownStationIds = [...stations.keys()].sort();
}

function staffedLine(p) {
  const state = p.open_now ? "open" : "closed";
  const when = p.next_change_at ? localTime(p.next_change_at, config.time_zone, true) : "";
  const change = when
    ? ` · ${esc(t(p.open_now ? "map.estation.until" : "map.estation.from", { when }))}`
    : "";
  return `<span class="state ${state}">${esc(t(`map.estation.${state}`))}</span>${change}`;
}

function stationAedLine(p) {
  const aed = markers.get(p.aed_id)?.feature.properties;
  const state = aed ? ` · <span class="state ${aed.state}">${esc(t(`map.state.${aed.state}`))}</span>` : "";
  const show = aed
    ? ` <button type="button" class="link-button" data-action="show-aed" data-testid="estation-show-aed">${esc(t("map.estation.show_aed"))}</button>`
    : "";
  return `${esc(t("map.estation.keeps_aed"))}${state}${show}`;
}

function stationCard(feature) {
  const p = feature.properties;
  const div = document.createElement("div");
  div.className = "aed-card estation-card";
  div.dataset.teamId = p.team_id;
  div.innerHTML = `
    <p class="kind">${esc(t("map.estation.kind"))}</p>
    <h3>${esc(p.name)}</h3>
    <p data-testid="estation-state">${staffedLine(p)}</p>
    <dl>
      <dt>${esc(t("map.estation.organisation"))}</dt><dd data-testid="estation-organisation">${esc(p.organisation)}</dd>
      <dt>${esc(t("map.estation.address"))}</dt><dd data-testid="estation-address">${esc(p.address)}</dd>
      <dt>${esc(t("map.estation.hours"))}</dt><dd data-testid="estation-hours">${esc(hoursInWords(p.opening_hours))}</dd>
      <dt>AED</dt><dd data-testid="estation-aed">${stationAedLine(p)}</dd>
    </dl>
    <p class="hint">${esc(t("map.estation.about"))}</p>`;
  div.querySelector("[data-action=show-aed]")?.addEventListener("click", () => showStationAed(p.aed_id));
  return div;
}

function showStationAed(aedId) {
  const marker = markers.get(aedId);
  if (!marker) return;
  base.map.closePopup();
  cluster.zoomToShowLayer(marker, () => marker.openPopup());
}

// -- a fault report (signed in) -------------------------------------------------------------------------
const dialog = document.querySelector("dialog.report");
const reportForm = dialog.querySelector("form");
let reporting = null;

function report(feature, cardElement) {
  if (!currentSession()) {
    showError(t("signin.required"));
    signIn();
    return;
  }
  reporting = { feature, cardElement };
  reportForm.reset();
  reportForm.querySelector(".error").textContent = "";
  dialog.querySelector(".aed-name").textContent = feature.properties.name;
  dialog.showModal();
}

reportForm.addEventListener("submit", async (event) => {
  if (event.submitter?.value !== "ok" || !reporting) return;
  event.preventDefault();
  const body = { kind: reportForm.kind.value };
  if (reportForm.note.value.trim()) body.note = reportForm.note.value.trim();
  try {
    await api(`/v1/aeds/${encodeURIComponent(reporting.feature.properties.aed_id)}/reports`, { method: "POST", body });
    dialog.close();
    // The card may have been drawn again meanwhile (a sign-in or language switch redraws an open card).
    const id = CSS.escape(reporting.feature.properties.aed_id);
    const shown = document.querySelector(`.aed-card[data-aed-id="${id}"]`) || reporting.cardElement;
    shown.querySelector("[data-testid=report-done]").textContent = t("map.report.sent");
    showError("");
  } catch (error) {
    reportForm.querySelector(".error").textContent = explain(error);
  }
});

// -- near me ------------------------------------------------------------------------------------------------
function fillPlaces() {
  const list = document.getElementById("places");
  list.replaceChildren(
    ...(config.places || []).map((place) => {
      const option = document.createElement("option");
      option.value = place.name;
      return option;
    }),
  );
}

function parsePlace(text) {
  const match = text.match(/^\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*$/);
  if (match) {
    const lat = Number(match[1]);
    const lng = Number(match[2]);
    if (Math.abs(lat) <= 90 && Math.abs(lng) <= 180) return { lat, lng };
  }
  const wanted = text.trim().toLowerCase();
  const place = (config.places || []).find((p) => p.name.toLowerCase() === wanted)
    || (config.places || []).find((p) => wanted && p.name.toLowerCase().includes(wanted));
  return place ? { lat: place.lat, lng: place.lng } : null;
}

async function nearest(point) {
  const section = document.querySelector("[data-testid=nearest]");
  section.hidden = false;
  section.textContent = t("common.loading");
  if (here) base.map.removeLayer(here);
  here = L.circleMarker(base.toMap(point.lat, point.lng), { radius: 8, color: "#0969da", fillOpacity: 0.6 }).addTo(base.map);
  base.map.setView(base.toMap(point.lat, point.lng), Math.max(base.map.getZoom(), 15));
  try {
    let found = [];
    let radius = NEAR_RADII_M[0];
    for (radius of NEAR_RADII_M) {
      const answer = await api(`/v1/aeds/nearby?lat=${point.lat}&lng=${point.lng}&radius_m=${radius}&limit=3`, { anonymous: true });
      found = answer.items;
      if (found.length) break;
    }
    section.innerHTML = `<h2>${esc(t("map.nearest_title"))}</h2>`;
    if (!found.length) {
      section.insertAdjacentHTML("beforeend", `<p class="error">${esc(t("map.nearest_none", { radius }))}</p>`);
      return;
    }
    const list = document.createElement("ol");
    for (const aed of found) {
      const minutes = Math.max(1, Math.ceil((aed.distance_m * DETOUR) / WALK_M_PER_S / 60));
      const item = document.createElement("li");
      item.dataset.aedId = aed.aed_id;
      item.innerHTML = `<a href="#" data-testid="nearest-aed">${esc(aed.name)}</a>
        ${aed.placement ? `<span class="hint"> · ${esc(aed.placement)}</span>` : ""}
        <div class="hint">${esc(t("map.walk", { minutes, metres: Math.round(aed.distance_m) }))}</div>`;
      item.querySelector("a").addEventListener("click", (event) => {
        event.preventDefault();
        focusAed(aed);
      });
      list.append(item);
    }
    section.append(list);
  } catch (error) {
    section.textContent = explain(error);
  }
}

function focusAed(aed) {
  base.map.setView(base.toMap(aed.lat, aed.lng), 18);
  base.map.once("moveend", () => setTimeout(() => markers.get(aed.aed_id)?.openPopup(), 0));
}

document.querySelector("[data-action=near-me]").addEventListener("click", () => {
  if (!navigator.geolocation) {
    showError(t("map.geo_denied", { reason: "no geolocation" }));
    return;
  }
  showError(t("map.locating"));
  navigator.geolocation.getCurrentPosition(
    (position) => {
      showError("");
      // Browsers report WGS-84, as the API takes it.
      nearest({ lat: position.coords.latitude, lng: position.coords.longitude });
    },
    (error) => showError(t("map.geo_denied", { reason: error.message })),
    { enableHighAccuracy: true, timeout: 10_000, maximumAge: 30_000 },
  );
});

document.querySelector("[data-testid=find]").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = event.target.place.value;
  const point = parsePlace(text);
  if (!point) {
    showError(t("map.place_unknown", { place: text }));
    return;
  }
  showError("");
  nearest(point);
});

function relabel() {
  for (const marker of markers.values()) if (marker.isPopupOpen()) marker.setPopupContent(card(marker.feature));
  for (const marker of stations.values()) {
    marker.setIcon(stationIcon()); // its badge is in words
    if (marker.isPopupOpen()) marker.setPopupContent(stationCard(marker.feature));
  }
}

// For the browser tests and for people debugging in devtools: what the map shows now.
window.rescueNearbyMap = {
  map: base.map,
  shownAedIds: () => shownIds,
  shownStationIds: () => shownStationIds,
  loadedBox: () => loadedBox,
  viewBox: () => base.viewBox(),
  toMap: (lat, lng) => base.toMap(lat, lng),
  markerLatLng: (id) => markers.get(id)?.getLatLng(),
  stationLatLng: (id) => stations.get(id)?.getLatLng(),
};
let timer = null;
base.map.on("moveend", () => {
  clearTimeout(timer);
  timer = setTimeout(load, 200);
});
load();
