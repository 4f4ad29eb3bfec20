/* Type-ahead pickers (the ARIA 1.2 combobox pattern) over plain text fields.
 *
 * Without this file every picker is a text field the server resolves: a name, a beat code,
 * or "Name (#12)". With it, typing two characters asks a JSON endpoint (need-to-know scoped
 * by the server) and offers a list: Up/Down move through it (aria-activedescendant), Enter
 * or a tap chooses, Escape closes, Tab leaves. Choosing writes the value the server reads
 * ("Name (#12)", or the code for beats); multi pickers (data-picker-multi) keep a
 * comma-separated list and complete its last entry.
 *
 *   <div class="picker" data-picker-url="/pick/groups.json" [data-picker-value="code"] [data-picker-multi]>
 *     <label for="x">Group</label> <input id="x" name="group_id" type="text"> ...
 *   </div>
 * or the same data- attributes on the input itself (crm.web.picker.PickerField).
 *
 * Answers are arrays of {id, name | label, code?, hint?, groups?}. No inline script (CSP).
 */
(function () {
  "use strict";
  var count = 0;

  function itemsFrom(data) {
    var list = Array.isArray(data) ? data : (data && (data.results || data.items)) || [];
    return list.filter(function (p) { return p && (p.id != null || p.code); });
  }

  function labelOf(p) { return p.name || p.label || p.code || ("#" + p.id); }

  function hintOf(p) {
    if (p.hint) { return p.hint; }
    if (Array.isArray(p.groups) && p.groups.length) {
      return p.groups.map(function (g) { return g.name || g; }).join(", ");
    }
    return "";
  }

  function setup(box) {
    var input = box.tagName === "INPUT" ? box
      : box.querySelector("input[type=text], input[type=search], input:not([type])");
    if (box === input && input.parentNode) { input.parentNode.classList.add("picker"); }
    var url = box.getAttribute("data-picker-url");
    if (!input || !url || !window.crmSearch || input.getAttribute("role") === "combobox") { return; }
    var valueKind = box.getAttribute("data-picker-value") || "id";
    var multi = box.hasAttribute("data-picker-multi");
    var n = ++count;
    var list = document.createElement("ul");
    list.id = "picker-list-" + n;
    list.className = "picker-list";
    list.setAttribute("role", "listbox");
    var labelEl = input.id ? document.querySelector("label[for='" + input.id + "']") : null;
    if (labelEl) {
      if (!labelEl.id) { labelEl.id = "picker-label-" + n; }
      list.setAttribute("aria-labelledby", labelEl.id);
    }
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "picker-status muted small";
    status.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");
    input.parentNode.classList.add("picker-ready");

    var items = [];
    var active = -1;

    function term() {
      if (!multi) { return input.value; }
      var parts = input.value.split(",");
      return parts[parts.length - 1];
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function mark(i) {
      var options = list.querySelectorAll("[role=option]");
      Array.prototype.forEach.call(options, function (o, k) {
        o.setAttribute("aria-selected", k === i ? "true" : "false");
        o.classList.toggle("active", k === i);
      });
      active = i;
      if (i >= 0 && options[i]) {
        input.setAttribute("aria-activedescendant", options[i].id);
        if (options[i].scrollIntoView) { options[i].scrollIntoView({block: "nearest"}); }
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function valueFor(p) {
      if (valueKind === "code") { return p.code || String(p.id); }
      return labelOf(p) + " (#" + p.id + ")";
    }

    function choose(i) {
      var p = items[i];
      if (!p) { return; }
      var v = valueFor(p);
      if (multi) {
        var parts = input.value.split(",").map(function (s) { return s.trim(); });
        parts[parts.length - 1] = v;
        input.value = parts.filter(Boolean).join(", ") + ", ";
      } else {
        input.value = v;
      }
      close();
      status.textContent = labelOf(p) + " chosen.";
      search.forget();
      input.dispatchEvent(new Event("change", {bubbles: true}));
    }

    function show(found) {
      items = found;
      list.innerHTML = "";
      found.forEach(function (p, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var main = document.createElement("span");
        main.textContent = labelOf(p);
        li.appendChild(main);
        var hint = hintOf(p);
        if (hint) {
          var small = document.createElement("small");
          small.className = "muted";
          small.textContent = " " + hint;
          li.appendChild(small);
        }
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        li.addEventListener("click", function () { choose(i); input.focus(); });
        list.appendChild(li);
      });
      list.hidden = found.length === 0;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      active = -1;
      input.removeAttribute("aria-activedescendant");
    }

    // crmSearch reads input.value; a multi picker searches its last entry through a shadow.
    var source = multi ? {value: "", addEventListener: function (t, f) { input.addEventListener(t, f); }} : input;
    if (multi) {
      Object.defineProperty(source, "value", {get: function () { return term().trim(); }});
    }
    var search = window.crmSearch(source, url, {
      delay: 200,
      min: parseInt(box.getAttribute("data-picker-min") || "2", 10),
      onStart: function () { status.textContent = "Searching…"; },
      onResults: function (data) {
        var found = itemsFrom(data);
        show(found);
        status.textContent = found.length ? found.length + " found: use the arrow keys to choose."
          : "Nothing found in the records you may see.";
      },
      onClear: function () { show([]); status.textContent = ""; },
      onError: function () {
        show([]);
        status.textContent = "Suggestions are not available; type the name or code and send.";
      }
    });

    input.addEventListener("keydown", function (e) {
      var open = !list.hidden && items.length > 0;
      if (e.key === "ArrowDown") {
        if (!open && items.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        if (items.length) { mark(active + 1 >= items.length ? 0 : active + 1); e.preventDefault(); }
      } else if (e.key === "ArrowUp") {
        if (open) { mark(active <= 0 ? items.length - 1 : active - 1); e.preventDefault(); }
      } else if (e.key === "Enter") {
        if (open && active >= 0) { choose(active); e.preventDefault(); }
      } else if (e.key === "Escape") {
        if (open) { close(); e.preventDefault(); }
      } else if (e.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function init(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(".picker[data-picker-url], input[data-picker-url]"), setup);
  }
  window.crmPicker = {init: init};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(); });
  } else {
    init();
  }
}());
