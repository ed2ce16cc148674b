/* "Convert": choosing a track shows its contract (data-contract on each option) and hides the shapes
   typed by hand, which only apply without a track; full-integer INT8 needs a track's calibration data.
   The server checks all of it again. */
(function () {
  var track = document.getElementById("id_track");
  var contract = document.getElementById("track-contract");
  if (!track || !contract) { return; }
  var manual = ["id_input_shape", "id_output_shape"].map(function (id) {
    var input = document.getElementById(id);
    return input ? input.closest("div") : null;
  }).filter(Boolean);
  function update() {
    var option = track.options[track.selectedIndex];
    var words = option ? option.getAttribute("data-contract") || "" : "";
    contract.textContent = words ? "The track's contract: " + words + "." : "";
    manual.forEach(function (box) { box.hidden = Boolean(words); });
  }
  track.addEventListener("change", update);
  update();
})();
