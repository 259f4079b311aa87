// A Leaflet map on the deployment's tiles. Positions in the API are WGS-84; mainland China's tile
// providers (AMap, Tencent, Tianditu's GCJ-02 layers) draw in GCJ-02, ~300-600 m away from WGS-84 in
// Hangzhou, so when the tiles are GCJ-02 every point is converted (gcoord) before it is drawn, and
// every point read off the map is converted back before it is sent. With no tiles configured (tests,
// machines without network) the map is a blank plane with the same coordinates.
/* global L, gcoord */
import { t } from "./i18n.js";

export class BaseMap {
  constructor(element, config) {
    const tiles = config.map.tiles || {};
    this.gcj02 = tiles.crs === "gcj02";
    // maxZoom on the map itself: with no tile layer Leaflet has none, and clustering needs one.
    this.map = L.map(element, { zoomControl: true, maxZoom: tiles.max_zoom || 19, minZoom: 3 }).setView(
      this.toMap(config.map.center[0], config.map.center[1]),
      config.map.zoom || 12,
    );
    if (tiles.url) {
      L.tileLayer(tiles.url, {
        attribution: tiles.attribution || "",
        subdomains: tiles.subdomains || "abc",
        maxZoom: tiles.max_zoom || 18,
      }).addTo(this.map);
    } else {
      element.classList.add("blank-tiles");
      const note = L.control({ position: "bottomleft" });
      note.onAdd = () => {
        const div = L.DomUtil.create("div", "map-note");
        div.dataset.i18n = "map.no_tiles";
        div.textContent = t("map.no_tiles");
        return div;
      };
      note.addTo(this.map);
    }
  }

  /** A WGS-84 point as [lat, lng] in the tiles' datum. */
  toMap(lat, lng) {
    if (!this.gcj02) return [lat, lng];
    const [x, y] = gcoord.transform([lng, lat], gcoord.WGS84, gcoord.GCJ02);
    return [y, x];
  }

  /** A point read off the map, as WGS-84 {lat, lng}. */
  fromMap(latlng) {
    if (!this.gcj02) return { lat: latlng.lat, lng: latlng.lng };
    const [x, y] = gcoord.transform([latlng.lng, latlng.lat], gcoord.GCJ02, gcoord.WGS84);
    return { lat: y, lng: x };
  }

  /** The view as a WGS-84 box [minLng, minLat, maxLng, maxLat]. */
  viewBox() {
    const b = this.map.getBounds();
    const sw = this.fromMap(b.getSouthWest());
    const ne = this.fromMap(b.getNorthEast());
    return [sw.lng, sw.lat, ne.lng, ne.lat].map((v) => Math.round(v * 1e6) / 1e6);
  }
}
