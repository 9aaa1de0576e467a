// Enhancements only: every page works without this file.
import { initAll } from "/static/dist/govuk-frontend.min.js";

initAll();

// "Print this page" buttons appear only when JavaScript can print.
for (const button of document.querySelectorAll('[data-module="lo-print"]')) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
