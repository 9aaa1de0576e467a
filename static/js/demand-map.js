// The districts' map on "What families looked for and did not find": an enhancement over the table,
// which always stays on the page and says everything the map shows. Each district is a circle at the
// centre of its postcode districts, sized by its searches. Leaflet is fetched only when the map is opened.
const button = document.querySelector('[data-module="lo-demand-map"]');
const container = document.getElementById("demand-map");
const status = document.querySelector(".lo-map-status");
const districts = [...document.querySelectorAll(".lo-demand-district[data-lat]")];

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
  const map = L.map(container, { keyboard: true, scrollWheelZoom: false });
  if (button.dataset.tiles) {
    L.tileLayer(button.dataset.tiles, { attribution: button.dataset.attribution, maxZoom: 18 }).addTo(map);
  }
  const biggest = Math.max(1, ...districts.map((row) => Number(row.dataset.searches) || 0));
  const bounds = [];
  for (const row of districts) {
    const point = [Number(row.dataset.lat), Number(row.dataset.lng)];
    bounds.push(point);
    const searches = Number(row.dataset.searches) || 0;
    const radius = 6 + 30 * Math.sqrt(searches / biggest);
    L.circleMarker(point, { radius, color: "#0b0c0c", weight: 2, fillColor: "#1d70b8", fillOpacity: 0.45 })
      .bindTooltip(row.dataset.label, { permanent: false })
      .addTo(map);
  }
  if (bounds.length) map.fitBounds(bounds, { padding: [32, 32], maxZoom: 11 });
  return map;
}

function show(opening) {
  container.hidden = !opening;
  button.setAttribute("aria-expanded", String(opening));
  button.textContent = opening ? button.dataset.hide : button.dataset.show;
}

if (button && container && districts.length) {
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
      if (!map && !container.hidden) map = draw(L);
      if (status) status.textContent = "";
    }).catch(() => {
      show(false);
      if (status) status.textContent = button.dataset.failed || "";
    });
  });
}
