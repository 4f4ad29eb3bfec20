/* A form sent back with errors opens at its error summary (templates/_macros.html,
 * error_summary): the summary takes focus, so a screen reader reads it and nobody has to find a
 * message under the sticky Send button. Each link in it moves to its field and focuses it.
 * Loaded on every page; without JavaScript the summary is still the first thing in the form. */
(function () {
  "use strict";
  function focusSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) { return; }
    summary.focus({preventScroll: true});
    summary.scrollIntoView({block: "start"});
  }
  function fieldFor(link) {
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) { return null; }
    if (target.matches("input, select, textarea, button")) { return target; }
    return target.querySelector("input:not([type=hidden]), select, textarea") || target;
  }
  document.addEventListener("click", function (ev) {
    var link = ev.target.closest && ev.target.closest("[data-error-summary] a[href^='#']");
    if (!link) { return; }
    var field = fieldFor(link);
    if (!field) { return; }
    ev.preventDefault();
    if (!field.matches("input, select, textarea, button, [tabindex]")) { field.setAttribute("tabindex", "-1"); }
    field.scrollIntoView({block: "center"});
    field.focus({preventScroll: true});
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusSummary);
  } else {
    focusSummary();
  }
}());
