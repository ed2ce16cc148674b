// Organiser console, track page: "Add a metric" clones the formset's empty row; the accelerator select
// offers only what the chosen target device has (data-accelerators on the device select). Milestones
// page: on a narrow screen the timeline picture scrolls sideways, and starts scrolled to "now".
(function () {
  "use strict";
  function metrics() {
    var add = document.getElementById("metric-add");
    var rows = document.getElementById("metric-rows");
    var template = document.getElementById("metric-empty");
    var total = document.getElementById("id_metrics-TOTAL_FORMS");
    if (!add || !rows || !template || !total) return;
    add.hidden = false;
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
    });
  }
  function accelerators() {
    var device = document.getElementById("id_scoring-device_slug");
    var accelerator = document.getElementById("id_scoring-accelerator");
    if (!device || !accelerator || !device.dataset.accelerators) return;
    var offered = {};
    device.dataset.accelerators.split("|").forEach(function (entry) {
      var parts = entry.split(":");
      offered[parts[0]] = (parts[1] || "").split(",");
    });
    function update() {
      var allowed = offered[device.value] || [];
      Array.prototype.forEach.call(accelerator.options, function (option) {
        option.disabled = allowed.indexOf(option.value) === -1;
      });
      if (accelerator.selectedOptions.length && accelerator.selectedOptions[0].disabled) {
        var first = Array.prototype.find.call(accelerator.options, function (o) { return !o.disabled; });
        if (first) accelerator.value = first.value;
      }
    }
    device.addEventListener("change", update);
    update();
  }
  function timelineToNow() {
    var now = document.getElementById("timeline-now");
    var box = now && now.closest(".chart-scroll");
    if (!box || box.scrollWidth <= box.clientWidth) return;
    var offset = now.getBoundingClientRect().left - box.getBoundingClientRect().left;
    box.scrollLeft = Math.max(0, offset - box.clientWidth / 2);
  }
  document.addEventListener("DOMContentLoaded", function () { metrics(); accelerators(); timelineToNow(); });
})();
