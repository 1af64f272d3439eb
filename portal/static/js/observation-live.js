/* Live observation updates over Socket.IO (``observation.changed``, ids only):
 * - the commission's "needs action" part of the home page is fetched again over HTTP;
 * - a page with a live notice (a station's page, the polling-station table) says politely that
 *   new data arrived for a station it shows, with a link that reloads the page. */
(function () {
  "use strict";
  var box = document.getElementById("observation-attention");
  var notice = document.getElementById("observation-live-notice");
  if ((!box && !notice) || typeof window.io !== "function") { return; }
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
          if (box.dataset.joined) { fresh.dataset.joined = box.dataset.joined; }
          box.replaceWith(fresh);
          box = fresh;
        });
    }, 100);
  }

  function announce(event) {
    var wanted = (notice.dataset.stations || "").split(" ").filter(Boolean);
    var station = event && event.polling_station_id != null ? String(event.polling_station_id) : "";
    if (wanted.length && wanted.indexOf(station) < 0) { return; }
    if (notice.childElementCount) { return; }  // already said once; the link reloads all
    var link = document.createElement("a");
    link.href = window.location.href;
    link.textContent = notice.dataset.reload;
    link.setAttribute("data-testid", "live-reload");
    link.addEventListener("click", function (e) { e.preventDefault(); window.location.reload(); });
    notice.appendChild(document.createTextNode(notice.dataset.text + " — "));
    notice.appendChild(link);
    notice.classList.add("shown");
  }

  // Marks the page as following the observations (tests wait for it before sending any).
  function following(state) {
    [box, notice].forEach(function (el) { if (el) { el.dataset.joined = state; } });
  }

  socket.on("connect", function () {
    socket.emit("observation.watch", {}, function (answer) {
      following(answer && answer.ok ? "yes" : "no");
    });
  });
  socket.on("disconnect", function () { following("no"); });
  socket.on("observation.changed", function (event) {
    if (box) { refresh(); }
    if (notice) { announce(event); }
  });
}());
