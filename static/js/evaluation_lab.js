/* Device lab: pausing or draining a device asks for confirmation first (forms with class "confirm" and
   their sentence in data-confirm). Without JavaScript the forms post at once. */
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form.confirm");
  if (form && !window.confirm(form.dataset.confirm || "Are you sure?")) {
    event.preventDefault();
  }
});
