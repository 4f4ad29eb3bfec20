// Briefing pages: a Print button (shown only when this file runs; Ctrl+P works without it).
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll(".js-print"), function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
}());
