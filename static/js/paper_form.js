/* The paper form: "Add an author" adds a row from the template; "↑" moves a row up (row order is the
   author order). Loaded with defer, so the form exists when it runs. */
document.getElementById("add-author").addEventListener("click", function () {
  var total = document.getElementById("id_authors-TOTAL_FORMS");
  var n = parseInt(total.value, 10);
  var html = document.getElementById("author-template").innerHTML.replace(/__prefix__/g, n).replace(/__n__/g, n + 1);
  document.getElementById("author-rows").insertAdjacentHTML("beforeend", html);
  total.value = n + 1;
});
// "↑" swaps a row's name, e-mail and affiliation with the row above: the row order is the author order.
document.getElementById("author-rows").addEventListener("click", function (event) {
  var button = event.target.closest(".move-up");
  if (!button) { return; }
  var row = button.closest("tr"), above = row.previousElementSibling;
  if (!above) { return; }
  var mine = row.querySelectorAll("input"), theirs = above.querySelectorAll("input");
  for (var i = 0; i < mine.length; i++) {
    var value = mine[i].value; mine[i].value = theirs[i].value; theirs[i].value = value;
  }
});
