/*
 * The signature board's count beside the threshold, kept current on the open page: a short
 * poll of the count (once a minute, not while the tab is hidden). The board changes only when
 * a batch is published (every few minutes), so a poll is as fresh as a push would be here,
 * and the initiative pages need no Socket.IO connection. The server sends the sentences
 * already translated; this script only swaps the text of the marked elements.
 */
(function () {
  "use strict";

  var source = document.querySelector("[data-board-poll]");
  if (!source || !window.fetch) {
    return;
  }
  var url = source.getAttribute("data-board-poll");
  var EVERY_MS = 60000;

  function refresh() {
    if (document.hidden) {
      return;
    }
    window.fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (figures) {
        if (!figures) {
          return;
        }
        document.querySelectorAll("[data-board-live]").forEach(function (element) {
          var text = figures[element.getAttribute("data-board-live")];
          if (typeof text === "string" && element.textContent !== text) {
            element.textContent = text;
          }
        });
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  window.setInterval(refresh, EVERY_MS);
  document.addEventListener("visibilitychange", refresh);
})();
