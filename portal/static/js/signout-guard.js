/*
 * Signing out from any page while the observer app (observer.js) still keeps entries on this
 * phone that were never sent: the sign-out's answer clears the phone (Clear-Site-Data), so the
 * person is asked first, naming how many would be lost. The app's own page asks by itself
 * (observer.js); a browser with no such entries (everyone but observers) is never asked.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var form = script && document.querySelector('form[action="' + script.dataset.signOutUrl + '"]');
  if (!form || document.getElementById("observer-app") || !window.indexedDB ||
      !indexedDB.databases) {
    return;
  }

  function waiting() {
    return indexedDB.databases().then(function (all) {
      if (!all.some(function (d) { return d.name === "observer-outbox"; })) { return 0; }
      return new Promise(function (resolve) {
        var req = indexedDB.open("observer-outbox");
        req.onerror = function () { resolve(0); };
        req.onsuccess = function () {
          var db = req.result;
          if (!db.objectStoreNames.contains("outbox")) { db.close(); resolve(0); return; }
          var count = db.transaction("outbox", "readonly").objectStore("outbox").count();
          count.onsuccess = function () { db.close(); resolve(count.result); };
          count.onerror = function () { db.close(); resolve(0); };
        };
      });
    }).catch(function () { return 0; });
  }

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
})();
