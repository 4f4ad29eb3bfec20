// Group pages: a person search for "Add a member" and confirmations before ending records.
// Loaded as a file (CSP: script-src 'self'); the page works without it.
(function () {
  "use strict";

  document.querySelectorAll("button.js-confirm").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.dataset.confirm || "Are you sure?")) { event.preventDefault(); }
    });
  });

  var box = document.querySelector(".js-stakeholder-search");
  var select = document.getElementById("stakeholder_id");
  if (!box || !select) { return; }
  var input = box.querySelector("input[type=search]");
  var status = box.querySelector(".search-status");
  var url = input.dataset.searchUrl;
  var original = Array.prototype.map.call(select.options, function (o) { return o.cloneNode(true); });
  var timer = null;
  var seq = 0;
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

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2) { restore(); status.textContent = ""; return; }
    timer = setTimeout(function () {
      var mine = ++seq;
      status.textContent = "Searching…";
      fetch(url + "?q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          if (mine !== seq) { return; }
          var items = itemsFrom(data);
          show(items);
          status.textContent = items.length + " found";
        })
        .catch(function () {
          if (mine !== seq) { return; }
          restore();
          status.textContent = "Search is not available; choose from the list.";
        });
    }, 250);
  });
}());
