/*
 * The signature board's count beside the threshold, kept current on the open page. The board
 * changes when a batch is published (every few minutes): the portal then pushes
 * "initiative.board" to the initiative's room (Socket.IO namespace /initiatives,
 * portal/initiatives/events.py) and the page fetches the count at once. The page also polls
 * the count once a minute (not while the tab is hidden), connected or not: without a socket (no
 * Socket.IO client, a proxy that drops it, a reconnect) the poll keeps the count current, and
 * with one it makes good a push that never came (a publication by a process that cannot reach
 * the other processes' sockets). The server
 * sends the sentences already translated; this script only swaps the text of the marked
 * elements.
 */
(function () {
  "use strict";

  var source = document.querySelector("[data-board-poll]");
  if (!source || !window.fetch) {
    return;
  }
  var url = source.getAttribute("data-board-poll");
  var initiativeId = Number(source.getAttribute("data-initiative-id"));
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
      .catch(function () { /* offline for a moment: the next poll or push tries again */ });
  }

  window.setInterval(refresh, EVERY_MS);
  document.addEventListener("visibilitychange", refresh);

  if (window.io && initiativeId > 0) {
    var socket = window.io("/initiatives", {withCredentials: true});
    socket.on("connect", function () {
      socket.emit("join", {initiative_id: initiativeId}, function (answer) {
        var joined = Boolean(answer && answer.ok);
        // Marks the page as following the board (tests wait for it before publishing).
        source.setAttribute("data-joined", joined ? "yes" : "no");
        if (joined) {
          refresh();  // a batch published while the socket was away
        }
      });
    });
    socket.on("disconnect", function () {
      source.setAttribute("data-joined", "no");
    });
    socket.on("initiative.board", function (event) {
      if (event && event.initiative_id === initiativeId) {
        refresh();
      }
    });
  }
})();
