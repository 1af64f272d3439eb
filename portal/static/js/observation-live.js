/* The commission's "needs action" part of the home page, refreshed live: an
 * ``observation.changed`` event (ids only) makes the page fetch the part again over HTTP. */
(function () {
  "use strict";
  var box = document.getElementById("observation-attention");
  if (!box || typeof window.io !== "function") { return; }
  var socket = window.io({ withCredentials: true });
  var timer = null;

  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(box.dataset.url, { credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var tpl = document.createElement("template");
          tpl.innerHTML = html.trim();
          var fresh = tpl.content.firstElementChild;
          box.replaceWith(fresh);
          box = fresh;
        });
    }, 100);
  }

  socket.on("connect", function () { socket.emit("observation.watch", {}, function () {}); });
  socket.on("observation.changed", refresh);
}());
