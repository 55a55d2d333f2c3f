// The main menu folds behind one button on a narrow screen (app.css, "Phones"). A file
// rather than inline script: the Content-Security-Policy runs no script written in a page.
// Without this script the menu simply stays open.
(function () {
  var header = document.querySelector("header.top");
  var button = header ? header.querySelector("[data-menu-toggle]") : null;
  if (!button) {
    return;
  }
  header.classList.add("js-menu");
  button.addEventListener("click", function () {
    var open = header.classList.toggle("menu-open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
