/* Sortable tables (class "sortable"): a click on a column heading, or Enter/Space on it, sorts the rows by
   that column, ascending then descending. Cells may carry the value to sort by in data-value; headings
   say how to compare with data-sort="number" or "text". The heading carries aria-sort. */
"use strict";
(function () {
  function cellValue(row, index, numeric) {
    const cell = row.cells[index];
    const raw = cell ? (cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim()) : "";
    if (!numeric) return raw.toLowerCase();
    const value = parseFloat(raw);
    return Number.isNaN(value) ? -Infinity : value;
  }

  function sortBy(table, heading) {
    const headings = Array.from(heading.parentElement.children);
    const index = headings.indexOf(heading);
    const numeric = heading.dataset.sort === "number";
    const ascending = heading.getAttribute("aria-sort") !== "ascending";
    headings.forEach((h) => h.removeAttribute("aria-sort"));
    heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = cellValue(a, index, numeric);
      const y = cellValue(b, index, numeric);
      if (x < y) return ascending ? -1 : 1;
      if (x > y) return ascending ? 1 : -1;
      return 0;
    });
    rows.forEach((row) => body.appendChild(row));
  }

  function setUp(root) {
    root.querySelectorAll("table.sortable th[data-sort]").forEach((heading) => {
      if (heading.dataset.sortReady) return;
      heading.dataset.sortReady = "1";
      heading.tabIndex = 0;
      heading.classList.add("sort-heading");
      const table = heading.closest("table");
      heading.addEventListener("click", () => sortBy(table, heading));
      heading.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, heading);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => setUp(document));
  // The job page's status section is replaced by htmx while the job runs: set up the new table too.
  document.addEventListener("htmx:load", (event) => setUp(event.target));
})();
