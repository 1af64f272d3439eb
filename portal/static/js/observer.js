/* The observer app: checklist answers and reports are sealed on the phone (AES-GCM, with the
 * key the portal issued for this observer) into an IndexedDB outbox and sent when there is a
 * connection, each under an idempotency key chosen here, so a retry is never a second entry.
 * The page lists what is waiting on the phone and what the portal has received. */
(function () {
  "use strict";
  var root = document.getElementById("observer-app");
  if (!root || !window.crypto || !window.crypto.subtle || !window.indexedDB) { return; }
  var text = root.dataset;
  var observer = root.dataset.observer;
  var AAD = new TextEncoder().encode("referendum-portal/observer-outbox/v1/" + observer);
  var csrf = null;
  var current = null; // {kid, key}
  var flushing = false;
  var signInNeeded = false;

  // --- IndexedDB ------------------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open("observer-outbox", 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore("keys");
        req.result.createObjectStore("outbox", { keyPath: "key" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function store(name, mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(name, mode);
        var req = action(t.objectStore(name));
        t.oncomplete = function () { db.close(); resolve(req ? req.result : undefined); };
        t.onerror = function () { db.close(); reject(t.error); };
      });
    });
  }

  function entries() {
    return store("outbox", "readonly", function (s) { return s.getAll(); }).then(function (all) {
      return all.filter(function (e) { return e.observer === observer; })
        .sort(function (a, b) { return a.created < b.created ? -1 : 1; });
    });
  }

  // --- the key ----------------------------------------------------------------------------
  function b64(bytes) {
    var s = "";
    bytes.forEach(function (b) { s += String.fromCharCode(b); });
    return btoa(s);
  }

  function fetchKey() {
    return fetch(root.dataset.keyUrl, { credentials: "same-origin", cache: "no-store",
      headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.redirected || r.status === 401) { signInNeeded = true; }
        if (!r.ok || signInNeeded) { throw new Error("key " + r.status); }
        return r.json();
      })
      .then(function (body) {
        csrf = body.csrf_token;
        var raw = Uint8Array.from(atob(body.key), function (c) { return c.charCodeAt(0); });
        return crypto.subtle.digest("SHA-256", raw).then(function (digest) {
          var kid = b64(new Uint8Array(digest)).slice(0, 16);
          return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false,
            ["encrypt", "decrypt"]).then(function (key) {
            current = { kid: kid, key: key };
            root.dataset.ready = "yes";
            return store("keys", "readwrite", function (s) {
              s.put(kid, observer + ":current");
              return s.put(key, observer + ":" + kid);
            });
          });
        });
      });
  }

  function loadKey() {
    if (current) { return Promise.resolve(current); }
    return store("keys", "readonly", function (s) { return s.get(observer + ":current"); })
      .then(function (kid) {
        if (!kid) { return null; }
        return keyFor(kid).then(function (key) {
          current = key ? { kid: kid, key: key } : null;
          return current;
        });
      });
  }

  function keyFor(kid) {
    return store("keys", "readonly", function (s) { return s.get(observer + ":" + kid); });
  }

  // --- sealing ----------------------------------------------------------------------------
  function seal(payload) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    var data = new TextEncoder().encode(JSON.stringify(payload));
    return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: AAD }, current.key,
      data).then(function (ct) { return { iv: iv, ct: ct, kid: current.kid }; });
  }

  function open(entry) {
    return keyFor(entry.kid).then(function (key) {
      if (!key) { throw new Error("key gone"); }
      return crypto.subtle.decrypt({ name: "AES-GCM", iv: entry.iv, additionalData: AAD }, key,
        entry.ct);
    }).then(function (plain) { return JSON.parse(new TextDecoder().decode(plain)); });
  }

  // --- the lists ----------------------------------------------------------------------------
  function label(kind) { return kind === "report" ? text.textReport : text.textChecklist; }

  function when(iso) {
    var d = new Date(iso);
    return d.toLocaleString(document.documentElement.lang || "lv", { dateStyle: "short",
      timeStyle: "short" });
  }

  function render() {
    var status = document.getElementById("connection");
    status.textContent = signInNeeded ? text.textSignin
      : navigator.onLine ? text.textOnline : text.textOffline;
    status.classList.toggle("offline", !navigator.onLine);
    return entries().then(function (all) {
      var list = document.getElementById("outbox-waiting");
      list.textContent = "";
      all.forEach(function (e) {
        var li = document.createElement("li");
        li.dataset.key = e.key;
        li.textContent = label(e.kind) + " — " + when(e.created) + " — " +
          (e.error ? text.textRefused + ": " + e.error : text.textWaiting);
        if (e.error) { li.className = "refused"; }
        list.appendChild(li);
      });
      document.getElementById("waiting-count").textContent = String(all.length);
    });
  }

  function markReceived(answer) {
    var list = document.getElementById("outbox-received");
    if (list.querySelector('[data-key="' + answer.key + '"]')) { return; }
    var li = document.createElement("li");
    li.dataset.key = answer.key;
    li.textContent = label(answer.kind) + " — " + when(answer.received_at) +
      (answer.reference ? " — " + answer.reference : "");
    list.insertBefore(li, list.firstChild);
  }

  // --- sending ------------------------------------------------------------------------------
  function send(entry) {
    return open(entry).then(function (payload) {
      var url = entry.kind === "report" ? root.dataset.reportUrl : root.dataset.checklistUrl;
      return fetch(url, { method: "POST", credentials: "same-origin", headers: {
        "Content-Type": "application/json", "Accept": "application/json",
        "X-CSRFToken": csrf }, body: JSON.stringify(payload) });
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.redirected || r.status === 401) {
          // Signed out meanwhile (the answer is the sign-in page): kept until signed in again.
          signInNeeded = true;
          throw new Error("sign in");
        }
        if ((r.status === 200 || r.status === 201) && body.key === entry.key) {
          markReceived(body);
          return store("outbox", "readwrite", function (s) { return s.delete(entry.key); });
        }
        // Only a clash of the same moment is mended by sending again (409 send_again); another
        // 409 (a key used for another entry, a report corrected already) is shown, not retried.
        var later = r.status === 409 && body.code === "send_again";
        if (later || r.status === 429 || r.status >= 500 || !body.error) {
          throw new Error("later");  // kept; sent again on the next attempt
        }
        entry.error = body.error || String(r.status);
        return store("outbox", "readwrite", function (s) { return s.put(entry); });
      });
    });
  }

  function flush() {
    if (flushing || !navigator.onLine) { return Promise.resolve(); }
    flushing = true;
    signInNeeded = false;
    return fetchKey().then(entries).then(function (all) {
      var chain = Promise.resolve();
      all.filter(function (e) { return !e.error; }).forEach(function (e) {
        chain = chain.then(function () { return send(e); });
      });
      return chain;
    }).catch(function () { /* offline or refused for now: kept for the next attempt */ })
      .then(function () { flushing = false; return render(); });
  }

  // --- the forms ----------------------------------------------------------------------------
  function readPhoto(input) {
    var file = input && input.files && input.files[0];
    if (!file) { return Promise.resolve(null); }
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(String(reader.result)); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsDataURL(file);
    });
  }

  function checklistPayload(form) {
    var items = Array.prototype.slice.call(form.querySelectorAll(".item"));
    return Promise.all(items.map(function (item) {
      var value = null;
      if (item.dataset.kind === "yes_no") {
        var checked = item.querySelector("input[type=radio]:checked");
        if (checked) { value = checked.value === "yes"; }
      } else {
        var number = item.querySelector("input[type=number]");
        if (number.value !== "") { value = parseInt(number.value, 10); }
      }
      if (value === null) { return null; }
      return readPhoto(item.querySelector("input.photo")).then(function (photo) {
        return { item: item.dataset.item, value: value, photo: photo };
      });
    })).then(function (answers) {
      return { answers: answers.filter(function (a) { return a !== null; }) };
    });
  }

  function reportPayload(form) {
    var input = form.querySelector("input.photo");
    var files = Array.prototype.slice.call(input.files || []);
    return Promise.all(files.map(function (f) {
      return readPhoto({ files: [f] });
    })).then(function (photos) {
      return { category: form.elements.category.value, severity: form.elements.severity.value,
        description: form.elements.description.value,
        corrects_case_id: Number(form.elements.corrects_case_id.value) || null,
        photos: photos };
    });
  }

  function submit(event) {
    event.preventDefault();
    var form = event.target;
    var section = form.closest("[data-referendum]");
    var error = form.querySelector(".form-error");
    error.hidden = true;
    var kind = form.dataset.kind;
    (kind === "report" ? reportPayload(form) : checklistPayload(form)).then(function (body) {
      if ((kind === "checklist" && !body.answers.length) ||
          (kind === "report" && !body.description.trim())) {
        throw new Error(text.textEmpty);
      }
      return loadKey().then(function (key) {
        if (!key) { throw new Error(text.textNokey); }
        body.key = crypto.randomUUID();
        body.referendum_id = Number(section.dataset.referendum);
        body.polling_station_id = Number(section.querySelector(".station-choice").value);
        body.filled_at = new Date().toISOString();
        return seal(body).then(function (sealed) {
          return store("outbox", "readwrite", function (s) {
            return s.put({ key: body.key, observer: observer, kind: kind, created: body.filled_at,
              kid: sealed.kid, iv: sealed.iv, ct: sealed.ct });
          });
        });
      });
    }).then(function () {
      form.reset();
      error.textContent = text.textSaved;
      error.hidden = false;
      return render().then(flush);
    }).catch(function (err) {
      error.textContent = err.message;
      error.hidden = false;
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".checklist-form, .report-form"),
    function (form) { form.addEventListener("submit", submit); });
  window.addEventListener("online", flush);
  window.addEventListener("offline", render);
  setInterval(flush, 15000);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.swUrl, { scope: root.dataset.scope })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        var assets = Array.prototype.map.call(
          document.querySelectorAll("script[src], link[rel=stylesheet], link[rel=icon]"),
          function (el) { return el.src || el.href; });
        registration.active.postMessage({ cache: [location.pathname].concat(assets) });
      }).catch(function () { /* the page still works, online only */ });
  }
  render().then(flush);
}());
