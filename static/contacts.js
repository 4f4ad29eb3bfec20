/* Log a contact in under 30 seconds, and never lose it.
 *
 * - person search as you type (GET data-search-url?q=), a tap adds the person and ticks
 *   their groups;
 * - the whole form is saved to localStorage on every input and restored on the next visit
 *   until the server confirms the save (the draft keeps the idempotency key, so a resend of
 *   something that did arrive finds the first contact instead of making a second);
 * - Send posts with fetch: a dropped connection keeps everything and says so.
 * No inline script, no eval: CSP script-src 'self'.
 */
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  if (!form) { return; }

  var DRAFT_KEY = form.getAttribute("data-draft-key") || "crm.contact-draft";
  var searchUrl = form.getAttribute("data-search-url");
  var hasErrors = form.getAttribute("data-has-errors") === "1";
  var searchInput = document.getElementById("person-search");
  var results = document.getElementById("person-results");
  var chips = document.getElementById("chosen-people");
  var groupList = document.getElementById("group-list");
  var sendStatus = document.getElementById("send-status");
  var draftStatus = document.getElementById("draft-status");
  var sendButton = document.getElementById("send");
  var NOT_SENT = "Not sent \u2014 will keep your entry; tap Send again";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  /* ---- storage (private browsing may refuse it: then we simply do not keep drafts) ---- */
  function store(key, value) {
    try {
      if (value === null) { window.localStorage.removeItem(key); }
      else { window.localStorage.setItem(key, value); }
    } catch (e) { /* storage full or disabled */ }
  }
  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }

  /* ---- chosen people and groups ---- */
  function chosenIds() {
    return Array.prototype.map.call(chips.querySelectorAll("li.chip"), function (li) {
      return li.getAttribute("data-id");
    });
  }

  function ensureGroup(group, check) {
    var box = groupList.querySelector('input[name="group_ids"][value="' + group.id + '"]');
    if (!box) {
      var empty = document.getElementById("no-groups");
      if (empty) { empty.remove(); }
      var label = el("label", {"class": "toggle"});
      box = el("input", {type: "checkbox", name: "group_ids", value: String(group.id)});
      label.appendChild(box);
      label.appendChild(el("span", {}, group.name));
      groupList.appendChild(label);
    }
    if (check) { box.checked = true; }
  }

  function addChip(person) {
    if (chosenIds().indexOf(String(person.id)) !== -1) { return; }
    var li = el("li", {"class": "chip", "data-id": String(person.id), "data-name": person.name});
    li.appendChild(el("input", {type: "hidden", name: "stakeholder_ids", value: String(person.id)}));
    li.appendChild(el("span", {}, person.name));
    li.appendChild(el("button", {type: "button", "class": "chip-remove",
                                 "aria-label": "Remove " + person.name}, "\u00d7"));
    chips.appendChild(li);
    (person.groups || []).forEach(function (g) { ensureGroup(g, true); });
  }

  chips.addEventListener("click", function (ev) {
    var btn = ev.target.closest(".chip-remove");
    if (btn) { btn.closest("li.chip").remove(); saveDraft(); }
  });

  /* ---- search as you type (static/search.js) ---- */
  function showResults(query, people) {
    results.textContent = "";
    people.forEach(function (p) {
      var li = el("li");
      var btn = el("button", {type: "button"});
      btn.appendChild(document.createTextNode(p.name));
      var groups = (p.groups || []).map(function (g) { return g.name; }).join(", ");
      btn.appendChild(el("small", {}, groups || "no group"));
      btn.addEventListener("click", function () {
        addChip(p);
        results.textContent = "";
        searchInput.value = "";
        saveDraft();
        searchInput.focus();
      });
      li.appendChild(btn);
      results.appendChild(li);
    });
    var li = el("li");
    var add = el("button", {type: "button", "class": "add-new"}, "+ Add \u201c" + query + "\u201d as a new person");
    add.addEventListener("click", function () {
      document.getElementById("new_name").value = query;
      document.getElementById("quick-add").open = true;
      results.textContent = "";
      searchInput.value = "";
      saveDraft();
      document.getElementById("new_phone").focus();
    });
    li.appendChild(add);
    results.appendChild(li);
  }

  if (searchInput && window.crmSearch) {
    window.crmSearch(searchInput, searchUrl, {
      delay: 180,
      onResults: function (people, query) { showResults(query, people); },
      onError: function (query) {  // offline: the first names kept on the phone; "add as new" anyway
        if (!window.crmOffline) { showResults(query, []); return; }
        window.crmOffline.pick(query).then(function (people) { showResults(query, people); });
      },
      onClear: function () { results.textContent = ""; }
    });
    searchInput.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") {  // Enter in the search box must not send the form
        ev.preventDefault();
        var first = results.querySelector("button");
        if (first) { first.click(); }
      }
    });
  }

  /* ---- follow-up quick dates ---- */
  Array.prototype.forEach.call(form.querySelectorAll(".quick-dates button"), function (btn) {
    btn.addEventListener("click", function () {
      var d = new Date();
      d.setDate(d.getDate() + parseInt(btn.getAttribute("data-days"), 10));
      var iso = d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" +
        String(d.getDate()).padStart(2, "0");
      document.getElementById("follow_up_on").value = iso;
      saveDraft();
    });
  });

  /* ---- the draft ---- */
  function collect() {
    var data = {saved_at: new Date().toISOString(), fields: {}, lists: {}, people: [], groups: []};
    Array.prototype.forEach.call(form.elements, function (f) {
      if (!f.name || f.name === "csrf_token" || f.name === "stakeholder_ids") { return; }
      if (f.type === "checkbox") {
        data.lists[f.name] = data.lists[f.name] || [];
        if (f.checked) { data.lists[f.name].push(f.value); }
      } else if (f.type === "radio") {
        if (f.checked) { data.fields[f.name] = f.value; }
      } else if (f.type !== "submit" && f.type !== "button") {
        data.fields[f.name] = f.value;
      }
    });
    Array.prototype.forEach.call(chips.querySelectorAll("li.chip"), function (li) {
      data.people.push({id: li.getAttribute("data-id"), name: li.getAttribute("data-name")});
    });
    Array.prototype.forEach.call(groupList.querySelectorAll("input[name=group_ids]:checked"),
      function (box) {
        data.groups.push({id: box.value, name: box.parentNode.textContent.trim()});
      });
    return data;
  }

  function saveDraft() { store(DRAFT_KEY, JSON.stringify(collect())); }
  function clearDraft() { store(DRAFT_KEY, null); }

  function restore(data) {
    (data.people || []).forEach(function (p) { addChip({id: p.id, name: p.name, groups: []}); });
    (data.groups || []).forEach(function (g) { ensureGroup(g, false); });
    Array.prototype.forEach.call(form.elements, function (f) {
      if (!f.name || f.name === "csrf_token" || f.name === "stakeholder_ids") { return; }
      if (f.type === "checkbox") {
        if (data.lists && data.lists[f.name]) { f.checked = data.lists[f.name].indexOf(f.value) !== -1; }
      } else if (f.type === "radio") {
        if (data.fields[f.name] !== undefined) { f.checked = data.fields[f.name] === f.value; }
      } else if (data.fields[f.name] !== undefined && f.type !== "submit" && f.type !== "button") {
        f.value = data.fields[f.name];
      }
    });
    var q = document.getElementById("quick-add");
    if (q && data.fields.new_name) { q.open = true; }
  }

  var saved = load(DRAFT_KEY);
  if (saved && !hasErrors) {
    try {
      restore(JSON.parse(saved));
      draftStatus.hidden = false;
    } catch (e) { clearDraft(); }
  } else if (hasErrors) {
    saveDraft();  // what the server sent back is the entry now
  }
  var keyField = document.getElementById("idempotency_key");
  function newKey() {
    keyField.value = window.crmOffline ? window.crmOffline.uuid()
      : String(Date.now()) + Math.random().toString(16).slice(2);
  }
  // A copy kept on the phone carries the key it was fetched with: every contact needs its own.
  if (document.body.hasAttribute("data-offline-copy") && !(saved && !hasErrors)) { newKey(); }

  // Opened from the phone's queue ("needs you"): the kept entry and the server's message.
  var queuedKey = new URLSearchParams(window.location.search).get("queued");
  document.addEventListener("DOMContentLoaded", function () {
    if (!queuedKey || !window.crmOffline || hasErrors) { return; }
    window.crmOffline.get(queuedKey).then(function (item) {
      if (!item || item.kind !== "contact") { queuedKey = null; return; }
      if (item.draft) { restore(item.draft); }
      keyField.value = item.key;
      saveDraft();
      notSent(item.message || "Kept on this phone: check it and tap Send.");
    });
  });

  document.getElementById("draft-discard").addEventListener("click", function () {
    clearDraft();
    window.location.replace(form.getAttribute("action"));
  });

  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);

  /* ---- sending ---- */
  function notSent(message) {
    sendStatus.textContent = message;
    sendStatus.hidden = false;
    sendButton.disabled = false;
    sendButton.textContent = "Send";
    sendStatus.scrollIntoView({block: "center"});
  }

  function showPage(html, url) {
    document.open();
    document.write(html);
    document.close();
    if (url) { window.history.replaceState(null, "", url); }
  }

  function resetForm() {
    form.reset();
    chips.textContent = "";
    newKey();
    sendButton.disabled = false;
    sendButton.textContent = "Send";
  }

  // No network (or the request failed): keep it on the phone; it sends by itself later.
  function keepOnPhone() {
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token") { fields.push([name, String(value)]); }
    });
    var draft = collect();
    var groups = draft.groups.map(function (g) { return g.name; }).join(", ");
    var label = "Contact" + (groups ? " \u00b7 " + groups : "") + " \u00b7 " +
      (document.getElementById("occurred_at").value || "").replace("T", " ");
    return window.crmOffline.enqueue("contact", "/offline/send/contact", fields,
                                     {key: keyField.value, draft: draft, label: label})
      .then(function () {
        clearDraft();
        queuedKey = null;
        resetForm();
        draftStatus.hidden = true;
        sendStatus.textContent = "Saved on this phone, waiting to send. It sends by itself when the network is back.";
        sendStatus.className = "flash offline-saved";
        sendStatus.id = "send-status";
        sendStatus.hidden = false;
        sendStatus.scrollIntoView({block: "center"});
      }, function () { notSent(NOT_SENT); });
  }

  form.addEventListener("submit", function (ev) {
    if (!window.fetch || !window.FormData) { return; }  // plain form post still works
    ev.preventDefault();
    saveDraft();
    sendStatus.className = "flash flash-error";
    if (window.crmOffline && navigator.onLine === false) { keepOnPhone(); return; }
    sendStatus.hidden = true;
    sendButton.disabled = true;
    sendButton.textContent = "Sending\u2026";
    fetch(form.getAttribute("action"), {
      method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "follow"
    }).then(function (response) {
      var path = new URL(response.url, window.location.href).pathname;
      if (response.ok && response.redirected && /\/contacts\/\d+$/.test(path)) {
        clearDraft();
        // Sent from the form after the queue kept it: the phone's copy goes too.
        var gone = queuedKey && window.crmOffline ? window.crmOffline.remove(queuedKey) : Promise.resolve();
        // fetch followed the redirect already (and took the "saved" message): show that page.
        return gone.then(function () { return response.text(); })
          .then(function (html) { showPage(html, response.url); });
      }
      if (response.redirected && /\/login$/.test(path)) {
        notSent("Not sent \u2014 your session ended. Your entry is kept: sign in, then tap Send again.");
        window.location.assign(response.url);
        return null;
      }
      // The server answered with the form and its messages (422) or an error page: show it.
      return response.text().then(function (html) { showPage(html, null); });
    }).catch(function () {
      if (window.crmOffline) { keepOnPhone(); } else { notSent(NOT_SENT); }
    });
  });
}());
