// Starts Redoc on /api/redoc/ (a file, not an inline script: the site's Content-Security-Policy).
// Redoc's styles are <style> elements; they carry this response's CSP nonce, given to Redoc here
// (a `nonce` attribute would read back empty: browsers hide nonce attributes from scripts).
(function () {
  var container = document.getElementById("redoc-container");
  Redoc.init(container.dataset.specUrl, { nonce: container.dataset.styleNonce }, container);
})();
