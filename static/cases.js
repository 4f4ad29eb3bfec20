// Owner / participant forms: show only the field that matches the chosen kind.
// Without JavaScript every field stays visible and the server checks the match.
(function () {
  "use strict";
  function sync(form) {
    var kindSelect = form.querySelector("[data-owner-kind]");
    if (!kindSelect) { return; }
    var kind = kindSelect.value;
    form.querySelectorAll("[data-owner]").forEach(function (input) {
      var wrap = input.closest(".field") || input;
      wrap.classList.toggle("is-hidden", input.getAttribute("data-owner") !== kind);
    });
  }
  document.querySelectorAll("form.owner-form").forEach(function (form) {
    var kindSelect = form.querySelector("[data-owner-kind]");
    if (!kindSelect) { return; }
    kindSelect.addEventListener("change", function () { sync(form); });
    sync(form);
  });
})();
