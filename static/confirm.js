/* Ask before an action that cannot be undone in one tap: any form or button that carries
 * data-confirm="question". Loaded on every page; without JavaScript the action just runs. */
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    var button = ev.submitter;
    if (button && button.hasAttribute("data-confirm")) { question = button.getAttribute("data-confirm"); }
    if (question && !window.confirm(question)) { ev.preventDefault(); }
  });
}());
