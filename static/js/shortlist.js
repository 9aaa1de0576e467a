// Shortlist enhancements: save and remove in place, and copy the share link. Every button works without this file.

const status = document.getElementById("lo-shortlist-status");
const countSlot = document.querySelector("[data-shortlist-count]");
const saveForm = document.getElementById("lo-save-form");

function announce(message) {
  if (!status) return;
  status.textContent = "";
  // Cleared first, so a repeated message is read out again.
  window.setTimeout(() => { status.textContent = message; }, 50);
}

function showCount(count) {
  if (!countSlot) return;
  countSlot.textContent = String(count);
  countSlot.closest(".lo-shortlist-link__count").hidden = false;
  // The header link shows once something is saved (it is not there for a visitor with nothing saved).
  countSlot.closest(".lo-shortlist-link").hidden = count === 0;
}

for (const button of document.querySelectorAll('button[data-module="lo-save"]')) {
  const text = button.querySelector(".lo-save__text");
  button.addEventListener("click", async (event) => {
    if (!saveForm || !window.fetch) return;  // the plain form does the work
    event.preventDefault();
    if (button.dataset.busy) return;
    button.dataset.busy = "1";
    const body = new FormData(saveForm);
    body.set("listing_id", button.value);
    try {
      const response = await fetch(button.formAction, {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", Accept: "application/json" },
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        announce(answer.error || saveForm.dataset.failedText || "That did not work. Try again.");
        return;
      }
      const words = saveForm.dataset;  // the form carries both addresses and both wordings, once a page
      button.setAttribute("formaction", answer.saved ? words.removeUrl : words.saveUrl);
      text.textContent = answer.saved ? words.savedText : words.saveText;
      showCount(answer.count);
      announce(answer.message);
      button.focus();  // the same button stays, with its new words
    } catch (error) {
      saveForm.action = button.formAction;  // no answer from the network: send the plain form
      saveForm.appendChild(Object.assign(document.createElement("input"), { type: "hidden", name: "listing_id", value: button.value }));
      saveForm.submit();
    } finally {
      delete button.dataset.busy;
    }
  });
}

for (const button of document.querySelectorAll('[data-module="lo-copy"]')) {
  if (!navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      announce(button.dataset.copied);
    } catch (error) {
      const url = document.getElementById("share-url");
      if (url) window.getSelection().selectAllChildren(url);
      announce(url ? url.textContent : "");
    }
  });
}
