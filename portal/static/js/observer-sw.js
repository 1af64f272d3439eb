/* Service worker of the observer app (scope /observe/): the app page and its scripts and styles
 * are kept so the app opens without a connection; everything else goes to the network. The
 * entries themselves never pass through here: the page keeps them in IndexedDB, sealed. */
"use strict";
var CACHE = "observer-app-v1";

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.cache) || [];
  var scope = new URL(self.registration.scope);
  urls = urls.filter(function (u) { return new URL(u, scope).origin === scope.origin; });
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(urls); }));
});

function kept(request) {
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return false; }
  var scope = new URL(self.registration.scope).pathname;
  return (request.mode === "navigate" && url.pathname === scope) ||
    url.pathname.indexOf("/static/") === 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (!kept(request)) { return; }
  event.respondWith(fetch(request).then(function (response) {
    // Not a redirect: signed out, the answer is the sign-in page, never kept as the app's.
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request, { ignoreSearch: true }).then(function (found) {
      return found || Response.error();
    });
  }));
});
