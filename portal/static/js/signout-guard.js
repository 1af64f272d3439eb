/*
 * Signing out from any page while the observer app (observer.js) still keeps entries on this
 * phone that were never sent: the sign-out's answer clears the phone (Clear-Site-Data), so the
 * person is asked first, naming how many would be lost. The app's own page asks by itself
 * (observer.js); a browser with no such entries (everyone but observers) is never asked.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var urls = script ? script.dataset.signOutUrls.split(" ") : [];
  var forms = Array.prototype.filter.call(document.querySelectorAll("form[action]"),
    function (f) { return urls.indexOf(f.getAttribute("action")) >= 0; });
  // Only the signed-in observer's own entries count: nobody else is asked about them.
  var me = script && script.dataset.user;
  if (!forms.length || !me || !window.indexedDB || !indexedDB.databases) {
    return;
  }
  var onApp = !!document.getElementById("observer-app");  // observer.js asks there itself

  function waiting() {
    return indexedDB.databases().then(function (all) {
      if (!all.some(function (d) { return d.name === "observer-outbox"; })) { return 0; }
      return new Promise(function (resolve) {
        var req = indexedDB.open("observer-outbox");
        req.onerror = function () { resolve(0); };
        req.onsuccess = function () {
          var db = req.result;
          if (!db.objectStoreNames.contains("outbox")) { db.close(); resolve(0); return; }
          var all = db.transaction("outbox", "readonly").objectStore("outbox").getAll();
          all.onsuccess = function () {
            db.close();
            resolve(all.result.filter(function (e) { return String(e.observer) === me; }).length);
          };
          all.onerror = function () { db.close(); resolve(0); };
        };
      });
    }).catch(function () { return 0; });
  }

  forms.forEach(function (form) {
    if (onApp && form.getAttribute("action") === urls[0]) { return; }
    var asked = false;
    form.addEventListener("submit", function (event) {
      if (asked) { return; }  // answered: the form goes
      event.preventDefault();
      waiting().then(function (n) {
        if (n && !window.confirm(script.dataset.text.replace("{n}", String(n)))) { return; }
        asked = true;
        form.submit();
      });
    });
  });
})();
