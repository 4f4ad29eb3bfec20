/* Alliance CRM service worker (served from /sw.js so its scope is the whole app).
 *
 * Pages: network first. A page the server marks `X-Offline-Cacheable: 1` is kept (with the
 * time it was fetched); nothing else is, and a page that stops being cacheable is dropped.
 * Offline, a kept page is served with `data-offline-copy="<fetched at>"` on <body>, so the page
 * says "as of 14:02". Static files: network first, kept for offline.
 * Messages: {type: "warm", urls} fetches the field pages once; {type: "clear"} empties the
 * cache (sign-out). Never caches POSTs, never answers another origin.
 */
"use strict";
var CACHE = "crm-offline-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (ev) {
  ev.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isStatic(url) { return url.pathname.indexOf("/static/") === 0; }

function keep(request, response) {
  // Only complete, same-origin answers; pages only when the server says so.
  var url = new URL(request.url);
  if (!response || response.status !== 200 || response.type !== "basic" || response.redirected) {
    return Promise.resolve(false);
  }
  if (isStatic(url)) {
    return caches.open(CACHE).then(function (c) { return c.put(url.href, response); })
      .then(function () { return true; });
  }
  if (response.headers.get("X-Offline-Cacheable") !== "1") {
    return caches.open(CACHE).then(function (c) { return c.delete(url.href); })
      .then(function () { return false; });
  }
  var headers = new Headers(response.headers);
  if (!headers.get("X-Offline-Fetched-At")) { headers.set("X-Offline-Fetched-At", new Date().toISOString()); }
  return response.blob().then(function (body) {
    var copy = new Response(body, {status: 200, statusText: "OK", headers: headers});
    return caches.open(CACHE).then(function (c) { return c.put(url.href, copy); });
  }).then(function () { return true; });
}

function fromCache(request) {
  return caches.open(CACHE).then(function (c) { return c.match(request.url); }).then(function (hit) {
    if (!hit) { return null; }
    var type = hit.headers.get("Content-Type") || "";
    if (type.indexOf("text/html") !== 0) { return hit; }
    var at = hit.headers.get("X-Offline-Fetched-At") || "";
    return hit.text().then(function (html) {
      html = html.replace("<body", '<body data-offline-copy="' + at.replace(/[^0-9T:.+\-Z]/g, "") + '"');
      return new Response(html, {status: 200, headers: hit.headers});
    });
  });
}

function offlinePage() {
  var html = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
    "<title>Offline</title><body style='font-family:sans-serif;padding:1rem'>" +
    "<h1>No network</h1><p>This page was not kept on this phone. The contact form, your " +
    "follow-ups and your beat open offline once you have opened the app online.</p>" +
    "<p><a href='/contacts/new'>Log a contact</a> · <a href='/contacts/follow-ups'>Follow-ups</a>" +
    " · <a href='/offline/beat'>My beat</a> · <a href='/offline/queue'>Kept on this phone</a></p>";
  return new Response(html, {status: 503, headers: {"Content-Type": "text/html; charset=utf-8"}});
}

self.addEventListener("fetch", function (ev) {
  var request = ev.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname === "/sw.js" || url.pathname === "/offline/token") { return; }
  ev.respondWith(fetch(request).then(function (response) {
    ev.waitUntil(keep(request, response.clone()));
    return response;
  }, function () {
    return fromCache(request).then(function (hit) {
      if (hit) { return hit; }
      return request.mode === "navigate" ? offlinePage() : Response.error();
    });
  }));
});

function warm(urls) {
  return Promise.all((urls || []).map(function (u) {
    // Marked, so the page leaves the officer's flash messages for the page they are opening.
    var request = new Request(u, {credentials: "same-origin", headers: {"X-Offline-Warm": "1"}});
    return fetch(request).then(function (r) { return keep(request, r); }, function () { return false; });
  }));
}

self.addEventListener("message", function (ev) {
  var data = ev.data || {};
  var reply = function (msg) { if (ev.ports && ev.ports[0]) { ev.ports[0].postMessage(msg); } };
  if (data.type === "warm") {
    ev.waitUntil(warm(data.urls).then(function () { reply({ok: true}); }));
  } else if (data.type === "clear") {
    ev.waitUntil(caches.keys().then(function (keys) {
      return Promise.all(keys.map(function (k) { return caches.delete(k); }));
    }).then(function () { reply({ok: true}); }));
  }
});
