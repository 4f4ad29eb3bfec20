// Beat map (coverage page): each beat's figures in a tip under the map on hover, keyboard
// focus or a tap. On a touch screen the first tap shows the tip, a second tap on the same
// beat opens it; a mouse click or Enter opens it at once. Without this file the beats are
// plain links with a <title> and the table beside the map has every figure.
(function () {
  "use strict";
  var svg = document.getElementById("beat-map");
  var tip = document.getElementById("map-tip");
  if (!svg || !tip) { return; }
  var links = Array.prototype.slice.call(svg.querySelectorAll("a.beat"));
  var current = null;
  var lastPointer = "mouse";

  function show(a, extra) {
    if (current && current !== a) { current.classList.remove("tipped"); }
    current = a;
    a.classList.add("tipped");
    tip.textContent = a.getAttribute("data-summary") + (extra || "");
    tip.hidden = false;
  }

  function hide() {
    if (current) { current.classList.remove("tipped"); }
    current = null;
    tip.hidden = true;
  }

  links.forEach(function (a) {
    // The tip replaces the hover-only <title> (which touch screens never show); its text
    // stays the link's name.
    var title = a.querySelector("title");
    var summary = title ? title.textContent : (a.getAttribute("aria-label") || "");
    a.setAttribute("data-summary", summary);
    if (!a.getAttribute("aria-label")) {
      a.setAttribute("aria-label", summary + (a.classList.contains("selected") ? " (shown; open to see every beat)" : ""));
    }
    if (title) { title.remove(); }
    a.addEventListener("pointerdown", function (e) { lastPointer = e.pointerType || "mouse"; });
    a.addEventListener("mouseenter", function () { show(a); });
    a.addEventListener("mouseleave", function () { if (document.activeElement !== a) { hide(); } });
    a.addEventListener("focus", function () {
      show(a, lastPointer === "touch" ? " · tap again to open" : " · press Enter to open");
    });
    a.addEventListener("blur", function () { if (current === a) { hide(); } });
    a.addEventListener("click", function (e) {
      if (lastPointer === "touch" && !a.classList.contains("armed")) {
        e.preventDefault();
        links.forEach(function (b) { b.classList.remove("armed"); });
        a.classList.add("armed");
        show(a, " · tap again to open");
      }
      lastPointer = "mouse";
    });
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { hide(); } });
}());
