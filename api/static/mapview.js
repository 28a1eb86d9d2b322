// Leaflet maps with no tiles: the base map is drawn from the server's own GeoJSON (GET /map).
/* global L */
import { edStatusText, kindLabel, kindTag, priorityClass, priorityLabel, statusCode, statusLabel } from "./format.js";

const BASE_STYLES = {
  area: { color: "#475569", weight: 2, fillColor: "#f8fafc", fillOpacity: 1, dashArray: "8 5" },
  zone: { color: "#64748b", weight: 1.2, fillOpacity: 0.55 },
  roads: { color: "#9ca3af", weight: 1, opacity: 0.9 },
  buildings: { color: "#cbd5e1", weight: 0.5, fillColor: "#e2e8f0", fillOpacity: 0.9 },
  street: { color: "#94a3b8", weight: 2, opacity: 0.9 },
};
/** Pale fills that tell neighbouring zones apart (each zone is also labelled by its code). */
const ZONE_FILLS = ["#fef3c7", "#dcfce7", "#e0e7ff", "#fce7f3", "#ccfbf1", "#fee2e2", "#ede9fe", "#f1f5f9"];

function zoneStyle(feature) {
  const code = String(feature.properties.code);
  let hash = 0;
  for (const c of code) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return { ...BASE_STYLES.zone, fillColor: ZONE_FILLS[hash % ZONE_FILLS.length] };
}

/** A map in `container`, without any tile layer (nothing is fetched from elsewhere). */
export function createMap(container, { zoomControl = true } = {}) {
  const map = L.map(container, {
    zoomControl,
    attributionControl: false,
    preferCanvas: true,
    keyboard: true,
    zoomSnap: 0.25,
  });
  map.setView([0, 0], 2);
  return map;
}

/** Draw the base map (area, zones, roads, stations and, unless `hospitals` is false, hospitals);
 * resolves to its bounds or null. */
export function drawBaseMap(map, geojson, { hospitals = true } = {}) {
  const layer = L.geoJSON(geojson, {
    filter: (f) => hospitals || f.properties.kind !== "hospital",
    style: (f) => (f.properties.kind === "zone" ? zoneStyle(f) : BASE_STYLES[f.properties.kind] || {}),
    pointToLayer: (f, latlng) => {
      const kind = f.properties.kind;
      if (kind === "place") return placeMarker(f, latlng);
      const text = kind === "hospital" ? "H" : "S";
      const icon = L.divIcon({
        className: `place place-${kind}`,
        html: `<span aria-hidden="true">${text}</span>`,
        iconSize: [18, 18],
      });
      return L.marker(latlng, { icon, keyboard: false, interactive: true, zIndexOffset: -1000 })
        // Leaflet renders a tooltip string as HTML: names and codes are text, always escaped.
        .bindTooltip(escapeHtml(`${kind === "hospital" ? "Hospital" : "Station"} ${f.properties.code}: ${f.properties.name}`));
    },
    onEachFeature: (f, l) => {
      if (f.properties.kind === "street") l.bindTooltip(`${f.properties.name}, ${f.properties.municipality}`, { sticky: true });
      if (f.properties.kind !== "zone") return;
      l.bindTooltip(escapeHtml(f.properties.code), { permanent: true, direction: "center", className: "zone-label", interactive: false });
    },
    interactive: true,
  }).addTo(map); // area first, then zones and roads over it: features come in drawing order
  if (geojson.attribution) {
    L.control.attribution({ prefix: false }).addAttribution(escapeHtml(geojson.attribution)).addTo(map);
  }
  if (!geojson.bbox) return null;
  const [w, s, e, n] = geojson.bbox;
  return L.latLngBounds([s, w], [n, e]);
}

/** A town or village (labelled) or a smaller place (named on hover). */
function placeMarker(f, latlng) {
  const { name, place, label } = f.properties;
  const dot = L.circleMarker(latlng, { radius: label ? 3 : 2, color: "#334155", weight: 1, fillOpacity: 0.8, interactive: false });
  return dot.bindTooltip(escapeHtml(name), label
    ? { permanent: true, direction: "right", className: "place-label", interactive: false }
    : { direction: "right", className: `place-label place-${place}` });
}

/** The HTML of a unit marker: shape by kind, colour AND text by status, a stale flag. */
function unitHtml(unit) {
  const stale = unit.stale ? `<b class="stale-flag" title="no report for a while">STALE</b>` : "";
  return (
    `<div class="unit-shape kind-${escapeHtml(unit.kind)}"><span class="unit-tag">${escapeHtml(kindTag(unit.kind))}</span></div>` +
    `<div class="unit-label"><span class="cs">${escapeHtml(unit.call_sign)}</span>` +
    `<span class="st">${escapeHtml(statusCode(unit.status))}</span>${stale}</div>`
  );
}

export function unitLabel(unit) {
  return `${unit.call_sign}, ${kindLabel(unit.kind)}, ${statusLabel(unit.status)}${unit.stale ? ", stale" : ""}`;
}

/** Place or update a unit's marker; `stack` lifts it above others at the very same point. */
export function unitMarker(map, marker, unit, onClick, stack = 0) {
  const icon = L.divIcon({
    className: `unit-marker status-${escapeHtml(unit.status)}${unit.stale ? " is-stale" : ""}${stack ? " stacked" : ""}`,
    html: unitHtml(unit),
    iconSize: [26, 26],
    iconAnchor: [13, 13 + 27 * stack],
  });
  if (!marker) {
    marker = L.marker([unit.lat, unit.lon], { icon, title: unitLabel(unit), keyboard: false, riseOnHover: true }).addTo(map);
    if (onClick) marker.on("click", onClick);
  } else {
    marker.setLatLng([unit.lat, unit.lon]);
    marker.setIcon(icon);
  }
  const node = marker.getElement();
  if (node) {
    node.dataset.unit = unit.call_sign;
    node.dataset.status = unit.status;
    node.setAttribute("aria-label", unitLabel(unit));
    node.title = unitLabel(unit);
  }
  return marker;
}

/** Place or update an incident's marker: priority letter in a pin, coloured by priority. */
export function incidentMarker(map, marker, incident, selected, onClick) {
  const p = incident.priority;
  const icon = L.divIcon({
    className: `incident-marker prio-${priorityClass(p)}${selected ? " selected" : ""}${incident.assignments.some((a) => a.active) ? "" : " unassigned"}`,
    html: `<span class="prio-letter"><b>${escapeHtml(p)}</b></span>`,
    iconSize: [30, 30],
    iconAnchor: [15, 15],
  });
  const label = `Incident ${priorityLabel(p)}: ${incident.nature}${incident.address ? ", " + incident.address : ""}`;
  if (!marker) {
    marker = L.marker([incident.lat, incident.lon], { icon, title: label, zIndexOffset: 1000, keyboard: false }).addTo(map);
    if (onClick) marker.on("click", onClick);
  } else {
    marker.setLatLng([incident.lat, incident.lon]);
    marker.setIcon(icon);
    marker.setZIndexOffset(selected ? 2000 : 1000);
  }
  const node = marker.getElement();
  if (node) {
    node.dataset.incident = incident.id;
    node.setAttribute("aria-label", label);
    node.title = label;
  }
  return marker;
}

/** Short words drawn on a hospital marker for an ED that is not normal (text, not colour only). */
const ED_TAG = { advisory: "ADVISORY", closed: "CLOSED" };

/** Place or update a hospital's marker: "H", and its ED status written when not normal. */
export function hospitalMarker(map, marker, hospital) {
  const ed = hospital.status ? hospital.status.ed_status : "normal";
  const tag = ED_TAG[ed] ? `<span class="ed-tag">${ED_TAG[ed]}</span>` : "";
  const icon = L.divIcon({
    className: `place place-hospital hospital-marker ed-${ed}`,
    html: `<span aria-hidden="true">H</span>${tag}`,
    iconSize: [18, 18],
  });
  const label = `Hospital ${hospital.code}: ${hospital.name}, ${edStatusText(hospital.status)}`;
  if (!marker) {
    marker = L.marker([hospital.lat, hospital.lon], { icon, title: label, keyboard: false, zIndexOffset: -500 }).addTo(map);
  } else {
    marker.setLatLng([hospital.lat, hospital.lon]);
    marker.setIcon(icon);
  }
  const node = marker.getElement();
  if (node) {
    node.dataset.code = hospital.code;
    node.dataset.ed = ed;
    node.setAttribute("aria-label", label);
    node.title = label;
  }
  return marker;
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
