// "Copy BibTeX": copies the text of the element named by the button's data-copy-target.
(function () {
  function copied(button, ok) {
    var status = button.parentElement.querySelector(".copy-status");
    if (status) status.textContent = ok ? "Copied." : "Select the text and copy it.";
  }
  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var target = document.getElementById(button.dataset.copyTarget);
    if (!target) return;
    var text = target.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copied(button, true); },
        function () { copied(button, fallback(text)); }
      );
    } else {
      copied(button, fallback(text));
    }
  });
})();
