// The results map: an enhancement over the text list, which always stays on the page.
// Each result carries its public position (masked venues use their postcode sector's centre).
// Leaflet (about 150 KB) is fetched only when someone opens the map, from the fingerprinted
// addresses the page gives, so a page whose map is never opened never downloads it.
const button = document.querySelector('[data-module="lo-map"]');
const container = document.getElementById("results-map");
const status = document.querySelector(".lo-map-status");
const results = [...document.querySelectorAll(".lo-result[data-lat]")];

let leaflet = null;

function loadLeaflet() {
  if (window.L) return Promise.resolve(window.L);
  if (leaflet) return leaflet;
  leaflet = new Promise((resolve, reject) => {
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = button.dataset.leafletCss;
    document.head.appendChild(style);
    const script = document.createElement("script");
    script.src = button.dataset.leafletJs;
    script.onload = () => (window.L ? resolve(window.L) : reject(new Error("Leaflet did not start")));
    script.onerror = () => reject(new Error("Leaflet could not be loaded"));
    document.head.appendChild(script);
  }).catch((error) => { leaflet = null; throw error; });
  return leaflet;
}

function draw(L) {
  // Leaflet's own controls speak English: their words come from the page, in the reader's language.
  const map = L.map(container, { keyboard: true, scrollWheelZoom: false, zoomControl: false });
  L.control.zoom({ zoomInTitle: button.dataset.zoomIn || "Zoom in", zoomOutTitle: button.dataset.zoomOut || "Zoom out" }).addTo(map);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" hreflang="en" lang="en">Leaflet</a>');
  map.on("popupopen", (event) => {
    const close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
    if (close && button.dataset.closePopup) close.setAttribute("aria-label", button.dataset.closePopup);
  });
  if (button.dataset.tiles) {
    L.tileLayer(button.dataset.tiles, { attribution: button.dataset.attribution, maxZoom: 18 }).addTo(map);
  }
  // Results at the same place share one pin, whose popup lists them all.
  const places = new Map();
  results.forEach((result, index) => {
    const key = `${result.dataset.lat},${result.dataset.lng}`;
    if (!places.has(key)) places.set(key, []);
    places.get(key).push({ result, number: index + 1 });
  });
  const bounds = [];
  for (const [key, entries] of places) {
    const point = key.split(",").map(Number);
    bounds.push(point);
    const icon = L.divIcon({ className: "lo-map-pin", html: `<span>${entries[0].number}</span>`, iconSize: [32, 32] });
    const names = entries.map((entry) => `${entry.number}. ${entry.result.dataset.name}`).join("; ");
    const marker = L.marker(point, { icon, keyboard: true, title: names, alt: names });
    const list = document.createElement("ul");
    list.className = "govuk-list";
    for (const entry of entries) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = entry.result.dataset.url;
      link.textContent = `${entry.number}. ${entry.result.dataset.name}`;
      link.className = "govuk-link";
      item.appendChild(link);
      list.appendChild(item);
    }
    marker.bindPopup(list).addTo(map);
  }
  map.fitBounds(bounds, { padding: [24, 24], maxZoom: 14 });
  return map;
}

function show(opening) {
  container.hidden = !opening;
  button.setAttribute("aria-expanded", String(opening));
  button.textContent = opening ? button.dataset.hide : button.dataset.show;
}

if (button && container && results.length) {
  button.hidden = false;
  let map = null;
  button.addEventListener("click", () => {
    const opening = container.hidden;
    if (!opening || map) {
      show(opening);
      if (map) map.invalidateSize();
      return;
    }
    show(true);
    if (status) status.textContent = button.dataset.loading || "";
    loadLeaflet().then((L) => {
      if (!map && !container.hidden) map = draw(L);  // closed again while loading: drawn when next opened
      if (status) status.textContent = "";
    }).catch(() => {
      show(false);
      if (status) status.textContent = button.dataset.failed || "";
    });
  });
}
