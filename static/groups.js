// Group page: a person search for "Add a member" (static/search.js); confirmations before
// ending records are static/confirm.js. Loaded as a file (CSP: script-src 'self'); the page
// works without it.
(function () {
  "use strict";

  var box = document.querySelector(".js-stakeholder-search");
  var select = document.getElementById("stakeholder_id");
  if (!box || !select || !window.crmSearch) { return; }
  var input = box.querySelector("input[type=search]");
  var status = box.querySelector(".search-status");
  var original = Array.prototype.map.call(select.options, function (o) { return o.cloneNode(true); });
  box.hidden = false;

  function restore() {
    select.innerHTML = "";
    original.forEach(function (o) { select.appendChild(o.cloneNode(true)); });
  }

  function itemsFrom(data) {
    var list = Array.isArray(data) ? data : (data && (data.results || data.items || data.stakeholders)) || [];
    return list.filter(function (p) { return p && p.id != null; });
  }

  function show(items) {
    select.innerHTML = "";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = items.length ? "Choose one of " + items.length : "No match";
    select.appendChild(first);
    items.forEach(function (p) {
      var o = document.createElement("option");
      o.value = p.id;
      o.textContent = (p.name || p.label || "member") + " (#" + p.id + ")";
      select.appendChild(o);
    });
    if (items.length === 1) { select.value = String(items[0].id); }
  }

  window.crmSearch(input, input.dataset.searchUrl, {
    delay: 250,
    onStart: function () { status.textContent = "Searching…"; },
    onResults: function (data) {
      var items = itemsFrom(data);
      show(items);
      status.textContent = items.length + " found";
    },
    onClear: function () { restore(); status.textContent = ""; },
    onError: function () { restore(); status.textContent = "Search is not available; choose from the list."; }
  });
}());
