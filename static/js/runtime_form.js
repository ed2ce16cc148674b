/* "Check my runtime": the accelerator select offers exactly the accelerators of the chosen device (each
   device option lists them in data-accelerators). The server refuses anything else as well. */
(function () {
  var device = document.getElementById("id_device");
  var accelerator = document.getElementById("id_accelerator");
  if (!device || !accelerator) { return; }
  var labels = JSON.parse(document.getElementById("accelerator-labels").textContent);
  function update() {
    var option = device.options[device.selectedIndex];
    var codes = option ? (option.getAttribute("data-accelerators") || "").split(" ").filter(Boolean) : [];
    var current = accelerator.value;
    while (accelerator.options.length) { accelerator.remove(0); }
    codes.forEach(function (code) {
      var item = document.createElement("option");
      item.value = code;
      item.textContent = labels[code] || code;
      if (code === current) { item.selected = true; }
      accelerator.appendChild(item);
    });
  }
  device.addEventListener("change", update);
  update();
})();
