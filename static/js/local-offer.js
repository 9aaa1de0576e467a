// Enhancements only: every page works without this file.
// GOV.UK Frontend's components are started by the page itself (base.html), from the
// library's fingerprinted address, so the browser keeps one cached copy of it.

// "Print this page" buttons appear only when JavaScript can print.
for (const button of document.querySelectorAll('[data-module="lo-print"]')) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}

// "Use my location": fills the form with the browser's position and searches.
for (const button of document.querySelectorAll('[data-module="lo-locate"]')) {
  if (!("geolocation" in navigator)) continue;
  button.hidden = false;
  const form = button.closest("form");
  const status = form.querySelector(".lo-locate-status");
  button.addEventListener("click", () => {
    status.textContent = button.dataset.finding || "Finding your location…";
    navigator.geolocation.getCurrentPosition((position) => {
      for (const [name, value] of [["lat", position.coords.latitude], ["lng", position.coords.longitude]]) {
        let input = form.querySelector(`input[name="${name}"]`);
        if (!input) {
          input = document.createElement("input");
          input.type = "hidden";
          input.name = name;
          form.appendChild(input);
        }
        input.value = value.toFixed(5);
      }
      form.querySelector('input[name="where"]').value = "";
      form.submit();
    }, () => {
      status.textContent = button.dataset.failed || "We could not find your location. Enter a postcode or a town instead.";
    }, { timeout: 10000, maximumAge: 60000 });
  });
}

// Radios with follow-up boxes ("How often"): only the chosen answer's boxes show; checkboxes with
// one (accessibility features): each shows while its box is ticked. Without JavaScript all show.
for (const group of document.querySelectorAll("[data-lo-reveal]")) {
  const show = () => {
    for (const box of group.querySelectorAll("[data-reveal-for]")) {
      const value = CSS.escape(box.dataset.revealFor);
      const input = group.querySelector(`input[type="radio"][value="${value}"], input[type="checkbox"][value="${value}"]`);
      const hidden = box.classList.contains("govuk-checkboxes__conditional")
        ? "govuk-checkboxes__conditional--hidden" : "govuk-radios__conditional--hidden";
      box.classList.toggle(hidden, !(input && input.checked));
    }
  };
  group.addEventListener("change", show);
  show();
}
