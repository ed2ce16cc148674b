// Shows every workshop time also in the viewer's own time zone, and runs countdowns.
(function () {
  function fill(root) {
    root.querySelectorAll(".local-time[data-utc]").forEach(function (el) {
      var d = new Date(el.dataset.utc);
      if (isNaN(d)) return;
      var text = d.toLocaleString(undefined, {
        weekday: "short", day: "numeric", month: "long", year: "numeric",
        hour: "numeric", minute: "2-digit", timeZoneName: "short"
      });
      el.textContent = "(your time: " + text + ")";
    });
    root.querySelectorAll("[data-countdown]").forEach(function (el) {
      var target = new Date(el.dataset.countdown);
      function tick() {
        var s = Math.max(0, Math.floor((target - new Date()) / 1000));
        var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
            m = Math.floor(s % 3600 / 60), sec = s % 60;
        el.textContent = (d ? d + "d " : "") + h + "h " + m + "m " + sec + "s";
      }
      tick();
      if (!el.dataset.ticking) { el.dataset.ticking = "1"; setInterval(tick, 1000); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { fill(document); });
  document.addEventListener("htmx:afterSwap", function (e) { fill(e.target); });
})();
