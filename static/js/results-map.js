// The results map: an enhancement over the text list, which always stays on the page.
// Each result carries its public position (masked venues use their postcode sector's centre).
const button = document.querySelector('[data-module="lo-map"]');
const container = document.getElementById("results-map");
const results = [...document.querySelectorAll(".lo-result[data-lat]")];

function whenLeafletReady(callback) {
  if (window.L) { callback(); return; }
  window.addEventListener("load", () => window.L && callback(), { once: true });
}

if (button && container && results.length) {
  whenLeafletReady(() => {
    button.hidden = false;
    let map = null;
    button.addEventListener("click", () => {
      const opening = container.hidden;
      container.hidden = !opening;
      button.setAttribute("aria-expanded", String(opening));
      button.textContent = opening ? button.dataset.hide : button.dataset.show;
      if (!opening || map) { if (map) map.invalidateSize(); return; }
      map = L.map(container, { keyboard: true, scrollWheelZoom: false });
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
    });
  });
}
