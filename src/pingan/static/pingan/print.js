// Print buttons (<button type="button" data-print>). A file rather than onclick="…": the
// Content-Security-Policy runs no script written inside a page.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-print]") : null;
  if (button) {
    event.preventDefault();
    window.print();
  }
});
