/* Offline mode on the device: the service worker, the send queue and sign-out clean-up.
 *
 * The queue lives in IndexedDB ("crm-offline", store "queue"), one item per idempotency key:
 *   {key, kind: "contact"|"done", url, fields: [[name, value], ...], draft, label, user,
 *    status: "waiting"|"needs-you", reason, message, errors, created_at, tries}
 * An item leaves the device only when the server confirms it (200/201); a refusal (422, 404,
 * 403, 409) keeps it as "needs you" with the server's message; a signed-out answer keeps it
 * until the officer signs in; no network keeps it waiting and retries with back-off, on the
 * `online` event and on the next page load. The server's idempotency key makes a repeat
 * harmless, so a flapping network cannot make a second contact.
 *
 * window.crmOffline = {enqueue, flush, items, get, remove, count, clearDevice, pick, ready}
 * No inline script, no eval: CSP script-src 'self'.
 */
(function () {
  "use strict";
  var script = document.getElementById("offline-script");
  if (!script) { return; }
  var cfg = {
    sw: script.getAttribute("data-sw"), token: script.getAttribute("data-token"),
    queue: script.getAttribute("data-queue"), user: script.getAttribute("data-user") || "",
    warm: (script.getAttribute("data-warm") || "").split(" ").filter(Boolean)
  };
  var DB_NAME = "crm-offline";
  var STORE = "queue";
  var WARM_EVERY = 10 * 60 * 1000;
  var hasIdb = !!window.indexedDB;

  /* ---- IndexedDB, promise-wrapped ---- */
  var dbPromise = null;
  var clearing = false;  // signing out: nothing may reopen the queue
  function openDb() {
    if (!hasIdb || clearing) { return Promise.reject(new Error("no IndexedDB")); }
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = window.indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(STORE, {keyPath: "key"}); };
        req.onsuccess = function () {
          var db = req.result;
          db.onversionchange = function () { db.close(); dbPromise = null; };
          resolve(db);
        };
        req.onerror = function () { dbPromise = null; reject(req.error); };
      });
    }
    return dbPromise;
  }
  function tx(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function items() { return tx("readonly", function (s) { return s.getAll(); }).then(function (all) { return all || []; }); }
  function get(key) { return tx("readonly", function (s) { return s.get(key); }); }
  function put(item) { return tx("readwrite", function (s) { return s.put(item); }); }
  function remove(key) { return tx("readwrite", function (s) { return s.delete(key); }).then(refresh); }

  /* ---- the header count ---- */
  function refresh() {
    // Signed out, the phone must not start a queue: open it only if one was left.
    var kept = cfg.user || !window.indexedDB.databases ? Promise.resolve(true)
      : window.indexedDB.databases().then(function (dbs) {
        return dbs.some(function (d) { return d.name === DB_NAME; });
      });
    return kept.then(function (yes) { return yes ? items() : []; }).then(function (all) {
      var mine = all.filter(function (i) { return !cfg.user || !i.user || i.user === cfg.user; });
      var needs = mine.filter(function (i) { return i.status === "needs-you"; }).length;
      var badge = document.getElementById("offline-count");
      if (badge) {
        badge.hidden = mine.length === 0;
        badge.textContent = mine.length + " waiting" + (needs ? " \u00b7 " + needs + " need" + (needs === 1 ? "s" : "") + " you" : "");
        badge.setAttribute("data-count", String(mine.length));
        badge.setAttribute("data-needs", String(needs));
      }
      renderQueuePage(mine);
      signedOutNotice(mine.length);
      return mine.length;
    }, function () { return 0; });
  }

  /* ---- sending ---- */
  var flushing = null;
  var backoff = 0;
  var timer = null;

  function schedule() {
    clearTimeout(timer);
    backoff = Math.min(backoff ? backoff * 2 : 2000, 60000);
    timer = setTimeout(function () { flush(); }, backoff);
  }

  function isLogin(response) {
    return response.status === 401 || (response.redirected && /\/login$/.test(new URL(response.url).pathname));
  }

  function freshToken() {
    return fetch(cfg.token, {credentials: "same-origin", cache: "no-store",
                             headers: {"Accept": "application/json"}}).then(function (r) {
      if (isLogin(r)) { return {signedOut: true}; }
      if (!r.ok) { throw new Error("token " + r.status); }
      return r.json();
    });
  }

  function mark(item, status, reason, message, errors) {
    item.status = status;
    item.reason = reason || "";
    item.message = message || "";
    item.errors = errors || null;
    return put(item);
  }

  function sendOne(item, token) {
    var body = new URLSearchParams();
    item.fields.forEach(function (pair) { if (pair[0] !== "csrf_token") { body.append(pair[0], pair[1]); } });
    body.append("csrf_token", token);
    item.tries = (item.tries || 0) + 1;
    return fetch(item.url, {
      method: "POST", body: body, credentials: "same-origin", cache: "no-store",
      headers: {"Accept": "application/json", "X-CSRFToken": token}
    }).then(function (r) {
      if (r.ok && !r.redirected) { return tx("readwrite", function (s) { return s.delete(item.key); }).then(function () { return "sent"; }); }
      if (isLogin(r)) {
        return mark(item, "needs-you", "signin", "Not sent: you were signed out. Sign in and it sends.").then(function () { return "signin"; });
      }
      if (r.status >= 500) { return "retry"; }
      return r.json().catch(function () { return {}; }).then(function (data) {
        var msg = data.message || ("Refused by the server (" + r.status + ").");
        var errors = data.errors && data.errors.json ? data.errors.json : data.errors;
        return mark(item, "needs-you", "refused", msg, errors).then(function () { return "refused"; });
      });
    });
  }

  function flushNow() {
    if (!cfg.user) { return Promise.resolve("idle"); }  // signed out: sign in first
    return items().then(function (all) {
      var todo = all.filter(function (i) {
        return (i.status === "waiting" || i.reason === "signin") && (!i.user || i.user === cfg.user);
      });
      if (!todo.length || !cfg.user) { return "idle"; }
      return freshToken().then(function (tok) {
        if (tok.signedOut) {
          return Promise.all(todo.map(function (i) {
            return mark(i, "needs-you", "signin", "Not sent: you were signed out. Sign in and it sends.");
          })).then(function () { return "signin"; });
        }
        // One at a time, in the order they were kept.
        todo.sort(function (a, b) { return a.created_at < b.created_at ? -1 : 1; });
        return todo.reduce(function (chain, item) {
          return chain.then(function (state) {
            if (state === "retry") { return state; }
            return sendOne(item, tok.csrf_token).then(function (s) { return s === "retry" ? "retry" : "ok"; });
          });
        }, Promise.resolve("ok"));
      });
    }).then(function (state) {
      if (state === "retry") { schedule(); } else { backoff = 0; }
      return state;
    }, function () { schedule(); return "offline"; });
  }

  function flush() {
    // One flush at a time in this page; across tabs too where the browser has Web Locks.
    if (flushing) { return flushing; }
    var run = navigator.locks && navigator.locks.request
      ? navigator.locks.request("crm-offline-flush", flushNow) : flushNow();
    flushing = Promise.resolve(run).then(function (s) { flushing = null; refresh(); return s; },
                                         function () { flushing = null; refresh(); return "error"; });
    return flushing;
  }

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    var a = new Uint8Array(16);
    window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function enqueue(kind, url, fields, opts) {
    opts = opts || {};
    var key = opts.key || uuid();
    var item = {key: key, kind: kind, url: url, fields: fields, draft: opts.draft || null,
                label: opts.label || kind, user: cfg.user, status: "waiting", reason: "",
                message: "", errors: null, created_at: new Date().toISOString(), tries: 0};
    return put(item).then(refresh).then(function () { return item; });
  }

  /* ---- signed out with items waiting (an expired session): sign in, then they send ---- */
  function signedOutNotice(n) {
    var old = document.getElementById("offline-signin");
    if (old) { old.remove(); }
    if (cfg.user || !n) { return; }
    var bar = document.createElement("div");
    bar.className = "flash offline-saved";
    bar.id = "offline-signin";
    bar.setAttribute("role", "status");
    bar.textContent = n + (n === 1 ? " item is" : " items are") +
      " kept on this phone, waiting to send: sign in and " + (n === 1 ? "it sends." : "they send.");
    var main = document.querySelector("main") || document.body;
    main.insertBefore(bar, main.firstChild);
  }

  /* ---- a page served from the phone ---- */
  function hhmm(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ""; }
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }
  function offlineBanner() {
    var at = document.body.getAttribute("data-offline-copy");
    if (at === null) { return; }
    var bar = document.createElement("div");
    bar.className = "flash offline-copy";
    bar.setAttribute("role", "status");
    bar.id = "offline-copy";
    var d = new Date(at);
    var day = isNaN(d.getTime()) || d.toDateString() === new Date().toDateString() ? "" : d.toISOString().slice(0, 10) + " ";
    bar.textContent = "No network: this is the copy kept on this phone, as of " + day + hhmm(at) + ". ";
    [["/contacts/new", "Log contact"], ["/contacts/follow-ups", "Follow-ups"],
     ["/offline/beat", "My beat"], [cfg.queue || "/offline/queue", "Kept on this phone"]]
      .forEach(function (link, i) {
        if (i) { bar.appendChild(document.createTextNode(" \u00b7 ")); }
        var a = document.createElement("a");
        a.href = link[0];
        a.textContent = link[1];
        bar.appendChild(a);
      });
    var main = document.querySelector("main") || document.body;
    main.insertBefore(bar, main.firstChild);
  }

  /* ---- the queue page ---- */
  function renderQueuePage(all) {
    var list = document.getElementById("ofl-queue");
    if (!list) { return; }
    list.textContent = "";
    document.getElementById("ofl-queue-empty").hidden = all.length > 0;
    document.getElementById("ofl-send-now").hidden = all.length === 0;
    all.forEach(function (i) {
      var li = document.createElement("li");
      li.className = "card ofl-item " + i.status;
      li.setAttribute("data-key", i.key);
      var head = document.createElement("strong");
      head.textContent = i.label;
      li.appendChild(head);
      var state = document.createElement("span");
      state.className = "pill ofl-state";
      state.textContent = i.status === "needs-you" ? "needs you" : "waiting to send";
      li.appendChild(document.createTextNode(" "));
      li.appendChild(state);
      if (i.message) {
        var p = document.createElement("p");
        p.className = "ofl-message";
        p.textContent = i.message;
        li.appendChild(p);
      }
      var actions = document.createElement("p");
      if (i.reason === "signin") {
        var a = document.createElement("a");
        a.href = "/login?next=" + encodeURIComponent(cfg.queue);
        a.textContent = "Sign in";
        actions.appendChild(a);
      } else if (i.status === "needs-you" && i.kind === "contact") {
        var open = document.createElement("a");
        open.href = "/contacts/new?queued=" + encodeURIComponent(i.key);
        open.className = "ofl-open";
        open.textContent = "Open in the form";
        actions.appendChild(open);
      }
      if (i.status === "needs-you") {
        var del = document.createElement("button");
        del.type = "button";
        del.className = "link ofl-delete";
        del.textContent = "Delete from this phone";
        del.addEventListener("click", function () {
          if (window.confirm("Delete this item from the phone? It was never saved on the server.")) { remove(i.key); }
        });
        actions.appendChild(document.createTextNode(" "));
        actions.appendChild(del);
      }
      li.appendChild(actions);
      list.appendChild(li);
    });
  }
  var sendNow = document.getElementById("ofl-send-now");
  if (sendNow) { sendNow.addEventListener("click", function () { backoff = 0; flush(); }); }

  /* ---- "Done" on the follow-ups: kept when it cannot go ----
   * Offline it goes straight to the queue. Online it is posted as the form would post it; if
   * that request fails (no answer, a server error, a stale form), it goes to the queue too, and
   * the queue sends it with a fresh token. The server's answer to a plain post is a redirect
   * (read without following it): then the page goes where the form would have gone. */
  function keepDone(form, id) {
    var li = form.closest("li");
    var link = li && li.querySelector(".fu-main a");
    var label = "Follow-up done: " + (link ? link.textContent : "#" + id);
    return enqueue("done", "/offline/send/done/" + id, [], {key: "done-" + id, label: label}).then(function () {
      var note = document.createElement("p");
      note.className = "offline-saved small";
      note.setAttribute("role", "status");
      note.textContent = "Saved on this phone, waiting to send.";
      form.replaceWith(note);
      if (navigator.onLine !== false) { schedule(); }
    });
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("fu-done") || !hasIdb || ev.defaultPrevented) { return; }
    var m = /\/contacts\/(\d+)\/follow-up\/done$/.exec(new URL(form.action).pathname);
    if (!m) { return; }
    ev.preventDefault();
    var button = form.querySelector("button[type=submit], button:not([type])");
    if (button) { button.disabled = true; }
    if (navigator.onLine === false) { keepDone(form, m[1]); return; }
    var next = form.querySelector("input[name=next]");
    fetch(form.action, {method: "POST", body: new URLSearchParams(new FormData(form)),
                        credentials: "same-origin", redirect: "manual", cache: "no-store"})
      .then(function (r) {
        if (r.type === "opaqueredirect" || (r.ok && !r.redirected)) {
          window.location.assign(next && next.value ? next.value : window.location.href);
          return;
        }
        return keepDone(form, m[1]);
      }, function () { return keepDone(form, m[1]); });
  });

  /* ---- signing out: one last attempt, a warning, then forget everything ---- */
  function clearDevice() {
    var steps = [];
    clearing = true;
    clearTimeout(timer);
    steps.push(new Promise(function (resolve) {
      if (!hasIdb) { resolve(); return; }
      var close = dbPromise ? dbPromise.then(function (db) { db.close(); }, function () {}) : Promise.resolve();
      dbPromise = null;
      close.then(function () {
        var req = window.indexedDB.deleteDatabase(DB_NAME);
        req.onsuccess = req.onerror = function () { resolve(); };
        req.onblocked = function () { setTimeout(resolve, 3000); };  // another tab: it goes when that closes
      });
    }));
    if (window.caches) {
      steps.push(window.caches.keys().then(function (keys) {
        return Promise.all(keys.map(function (k) { return window.caches.delete(k); }));
      }));
    }
    try {
      Object.keys(window.localStorage).forEach(function (k) {
        if (k.indexOf("crm.") === 0) { window.localStorage.removeItem(k); }
      });
    } catch (e) { /* storage disabled */ }
    return Promise.all(steps);
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.action || !/\/logout$/.test(new URL(form.action).pathname) || form.getAttribute("data-offline-cleared")) { return; }
    ev.preventDefault();
    var go = function () { form.setAttribute("data-offline-cleared", "1"); form.submit(); };
    var attempt = hasIdb ? flush().then(function () { return refresh(); }) : Promise.resolve(0);
    attempt.then(function (left) {
      if (left && !window.confirm(left + (left === 1 ? " item is" : " items are") +
          " not sent and will be deleted from this phone when you sign out. Sign out anyway?")) {
        return;
      }
      return clearDevice().then(go);
    }, function () { clearDevice().then(go); });
  }, true);

  /* ---- person picking offline: first names of my beats' groups ---- */
  var pickList = null;
  function pick(query) {
    if (!pickList) {
      pickList = fetch("/offline/pick.json", {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .catch(function () { pickList = null; return {groups: []}; });
    }
    var q = (query || "").trim().toLowerCase();
    return pickList.then(function (data) {
      var people = {};
      (data.groups || []).forEach(function (g) {
        (g.members || []).forEach(function (m) {
          if (q && m.first_name.toLowerCase().indexOf(q) !== 0) { return; }
          var p = people[m.id] || (people[m.id] = {id: m.id, name: m.first_name, groups: []});
          p.groups.push({id: g.id, name: g.name});
        });
      });
      return Object.keys(people).map(function (k) { return people[k]; }).slice(0, 20);
    });
  }

  /* ---- the service worker ---- */
  function postToWorker(worker, message) {
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      var done = setTimeout(resolve, 15000);
      channel.port1.onmessage = function () { clearTimeout(done); resolve(); };
      worker.postMessage(message, [channel.port2]);
    });
  }

  function warm() {
    if (!cfg.user || navigator.onLine === false || document.body.hasAttribute("data-offline-copy")) {
      return Promise.resolve();
    }
    var stamp = "crm.offline.warmed." + cfg.user;
    var last = 0;
    try { last = parseInt(window.localStorage.getItem(stamp) || "0", 10); } catch (e) { /* none */ }
    if (Date.now() - last < WARM_EVERY) { return Promise.resolve(); }
    return navigator.serviceWorker.ready.then(function (reg) {
      return postToWorker(reg.active, {type: "warm", urls: cfg.warm});
    }).then(function () {
      try { window.localStorage.setItem(stamp, String(Date.now())); } catch (e) { /* none */ }
    });
  }

  var ready = Promise.resolve();
  if ("serviceWorker" in navigator && cfg.sw) {
    ready = navigator.serviceWorker.register(cfg.sw, {scope: "/"}).then(warm).catch(function () {});
  }
  ready.then(function () { document.documentElement.setAttribute("data-offline-ready", "1"); });

  window.crmOffline = {enqueue: enqueue, flush: flush, items: items, get: get, remove: remove,
                       count: refresh, clearDevice: clearDevice, pick: pick, ready: ready,
                       uuid: uuid, user: cfg.user};

  /* ---- start ---- */
  offlineBanner();
  if (hasIdb) {
    refresh();
    if (navigator.onLine !== false && !document.body.hasAttribute("data-offline-copy")) { flush(); }
  }
  window.addEventListener("online", function () { backoff = 0; flush(); });
}());
