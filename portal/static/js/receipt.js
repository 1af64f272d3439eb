/*
 * The receipt's check on a second device. Right after casting, the voting page hands the
 * ballot's randomness over in this page's URL fragment (#check=…), which browsers never send
 * to a server. This script takes it out of the address bar at once (so it is not left in the
 * history) and shows the verification link as a QR code and as a shorter link for typing,
 * both drawn here: the server never sees the randomness, since whoever holds it can read the
 * vote.
 *
 * Link: <check page>#<tracker or its first 12 characters>.<base64url of r_0 ‖ r_1 ‖ …>
 */
(function () {
  "use strict";

  var box = document.getElementById("second-device");
  var match = /^#check=([A-Za-z0-9_-]{43,})$/.exec(window.location.hash);
  if (!box || !match || typeof window.qrcode !== "function") {
    return;
  }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  var tracker = box.dataset.tracker;
  var full = box.dataset.checkUrl + "#" + tracker + "." + match[1];
  var short = box.dataset.checkUrl + "#" + tracker.slice(0, 12) + "." + match[1];

  var qr = window.qrcode(0, "M");
  qr.addData(full);
  qr.make();
  var n = qr.getModuleCount();
  var quiet = 4;
  var ns = "http://www.w3.org/2000/svg";
  var svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + (n + 2 * quiet) + " " + (n + 2 * quiet));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-labelledby", "second-device-qr-caption");
  svg.setAttribute("shape-rendering", "crispEdges");
  var background = document.createElementNS(ns, "rect");
  background.setAttribute("width", String(n + 2 * quiet));
  background.setAttribute("height", String(n + 2 * quiet));
  background.setAttribute("fill", "#ffffff");
  svg.appendChild(background);
  var d = "";
  for (var row = 0; row < n; row++) {
    for (var col = 0; col < n; col++) {
      if (qr.isDark(row, col)) {
        d += "M" + (col + quiet) + " " + (row + quiet) + "h1v1h-1z";
      }
    }
  }
  var modules = document.createElementNS(ns, "path");
  modules.setAttribute("d", d);
  modules.setAttribute("fill", "#000000");
  svg.appendChild(modules);
  document.getElementById("second-device-qr").appendChild(svg);

  var link = document.getElementById("second-device-link");
  link.href = short;
  link.textContent = short;
  box.dataset.fullLink = full; // what the QR code holds (read by the browser tests)
  box.hidden = false;
})();
