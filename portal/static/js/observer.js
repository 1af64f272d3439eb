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
  var current = null; // {kid, key, tag}
  var flushing = false;
  var signInNeeded = false;
  // The tag of this page's session, as the portal said it (never read from the phone): an
  // entry sealed under another tag, in an earlier session, is sent only when the observer sends
  // it. ``ended``: the portal said the session has ended; nothing more is sealed in this tab.
  var sessionTag = null;
  var ended = false;
  var leaving = false;  // signing out: nothing more is stored or sent from this page

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
      headers: { "Accept": "application/json", "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (r.redirected || r.status === 401) { signInNeeded = true; endSession(); }
        if (r.status === 403) {
          // No observer's rights now (observer_rights_ended): nothing waiting can be sent.
          return r.json().catch(function () { return {}; }).then(function (body) {
            var err = new Error("key 403");
            err.refusal = body.error || text.textRefused;
            throw err;
          });
        }
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
            current = { kid: kid, key: key, tag: body.session_tag };
            sessionTag = body.session_tag;
            resumeSession();
            root.dataset.ready = "yes";
            return store("keys", "readwrite", function (s) {
              s.put(kid, observer + ":current");
              s.put(body.session_tag, observer + ":tag");
              return s.put(key, observer + ":" + kid);
            });
          });
        });
      });
  }

  // The key to seal with, read from the phone each time: signing out in another tab deletes
  // it, and then this tab seals nothing either. Nothing once the session has ended here.
  function loadKey() {
    if (ended || leaving) { return Promise.resolve(null); }
    return store("keys", "readonly", function (s) { return s.get(observer + ":current"); })
      .then(function (kid) {
        if (!kid) { current = null; return null; }
        return Promise.all([keyFor(kid), store("keys", "readonly", function (s) {
          return s.get(observer + ":tag");
        })]).then(function (found) {
          current = found[0] && !ended ? { kid: kid, key: found[0], tag: found[1] } : null;
          return current;
        });
      });
  }

  // The session has ended (a 401 or the sign-in page for the key, or signed out in another
  // tab): this tab seals nothing more, the forms say so; what waits stays, with its keys.
  function endSession() {
    ended = true;
    current = null;
    sessionTag = null;
    Array.prototype.forEach.call(root.querySelectorAll(".checklist-form, .report-form"),
      function (form) {
        form.querySelector("button[type=submit]").disabled = true;
        var note = form.querySelector(".form-error");
        note.textContent = text.textSigninForm;
        note.dataset.signin = "yes";
        note.hidden = false;
      });
    store("keys", "readwrite", function (s) { return s.delete(observer + ":current"); })
      .catch(function () { return null; });
  }

  // Signed in again (the key answered): the forms may seal again, under the new session's tag.
  function resumeSession() {
    if (!ended) { return; }
    ended = false;
    Array.prototype.forEach.call(root.querySelectorAll(".checklist-form, .report-form"),
      function (form) {
        form.querySelector("button[type=submit]").disabled = false;
        var note = form.querySelector(".form-error");
        if (note.dataset.signin) { note.hidden = true; delete note.dataset.signin; }
      });
  }

  function keyFor(kid) {
    return store("keys", "readonly", function (s) { return s.get(observer + ":" + kid); });
  }

  // --- sealing ----------------------------------------------------------------------------
  function seal(payload, sealer) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    var data = new TextEncoder().encode(JSON.stringify(payload));
    return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: AAD }, sealer.key,
      data).then(function (ct) { return { iv: iv, ct: ct, kid: sealer.kid }; });
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

  // The server's one style for a moment (``|riga``: 08.12.2026 20:21, Riga time), whatever
  // the phone's own time zone and locale.
  var MOMENT = new Intl.DateTimeFormat(
    /^en/.test(document.documentElement.lang || "") ? "en-GB" : "lv-LV",
    { timeZone: "Europe/Riga", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

  function when(iso) {
    var parts = {};
    MOMENT.formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    return parts.day + "." + parts.month + "." + parts.year + " " + parts.hour + ":" +
      parts.minute;
  }

  function button(caption, testid, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "link-button";
    b.textContent = caption;
    b.dataset.testid = testid;
    b.addEventListener("click", action);
    return b;
  }

  function forget(entry) {
    return store("outbox", "readwrite", function (s) { return s.delete(entry.key); });
  }

  // What a refused entry said, so that its observer sees what was not accepted.
  function summary(kind, payload) {
    if (kind === "report") { return payload.description; }
    return text.textAnswers.replace("{n}", String((payload.answers || []).length));
  }

  function refused(li, e) {
    li.className = "refused";
    var why = document.createElement("p");
    why.textContent = label(e.kind) + " — " + when(e.created) + " — " + text.textRefused +
      ": " + e.error;
    li.appendChild(why);
    return open(e).then(function (payload) {
      var content = document.createElement("blockquote");
      content.textContent = summary(e.kind, payload);
      li.appendChild(content);
      li.appendChild(button(text.textEdit, "edit-entry", function () {
        refill(e.kind, payload).then(function () { return forget(e); }).then(render);
      }));
      li.appendChild(document.createTextNode(" "));
      return payload;
    }).catch(function () { return null; }).then(function () {
      li.appendChild(button(text.textRemove, "remove-entry", function () {
        forget(e).then(render);
      }));
    });
  }

  // An entry sealed in an earlier session: its content, to be sent or deleted by the observer.
  function review(li, e) {
    var what = document.createElement("p");
    what.textContent = label(e.kind) + " — " + when(e.created);
    li.appendChild(what);
    return open(e).then(function (payload) {
      var content = document.createElement("blockquote");
      content.textContent = summary(e.kind, payload);
      li.appendChild(content);
      li.appendChild(button(text.textSendHeld, "send-held", function (event) {
        event.target.disabled = true;
        sendHeld(e).then(render, render);
      }));
      li.appendChild(document.createTextNode(" "));
    }).catch(function () { return null; }).then(function () {
      li.appendChild(button(text.textRemove, "remove-entry", function () {
        forget(e).then(render);
      }));
    });
  }

  // A held entry goes only on the observer's own "Send": the key request first proves a live
  // session and brings the CSRF token the sending needs.
  function sendHeld(entry) {
    if (leaving || !navigator.onLine) { return Promise.resolve(); }
    return fetchKey().then(function () {
      if (ended || !sessionTag) { throw new Error("sign in"); }
      return send(entry);
    }).catch(function () { return null; });
  }

  function render() {
    var status = document.getElementById("connection");
    status.textContent = signInNeeded ? text.textSignin
      : navigator.onLine ? text.textOnline : text.textOffline;
    status.classList.toggle("offline", !navigator.onLine);
    return entries().then(function (all) {
      var list = document.getElementById("outbox-waiting");
      var heldList = document.getElementById("outbox-held");
      list.textContent = "";
      heldList.textContent = "";
      var held = all.filter(function (e) { return e.held && !e.error; });
      document.getElementById("waiting-count").textContent = String(all.length - held.length);
      document.getElementById("held-count").textContent = String(held.length);
      document.getElementById("outbox-held-section").hidden = !held.length;
      return Promise.all(all.map(function (e) {
        var li = document.createElement("li");
        li.dataset.key = e.key;
        if (e.held && !e.error) {
          heldList.appendChild(li);
          return review(li, e);
        }
        list.appendChild(li);
        if (e.error) { return refused(li, e); }
        li.textContent = label(e.kind) + " — " + when(e.created) + " — " + text.textWaiting;
        return null;
      }));
    });
  }

  // A refused entry back in its form (the photos excepted: a page cannot fill a file input),
  // to be edited and sent again as a new entry.
  function refill(kind, payload) {
    var section = root.querySelector('[data-referendum="' + payload.referendum_id + '"]');
    if (!section) { return Promise.reject(new Error("no form")); }
    var choice = section.querySelector(".station-choice");
    if (choice.querySelector('option[value="' + payload.polling_station_id + '"]')) {
      choice.value = String(payload.polling_station_id);
    }
    var form = section.querySelector(kind === "report" ? ".report-form" : ".checklist-form");
    if (kind === "report") {
      form.elements.category.value = payload.category;
      form.elements.severity.value = payload.severity;
      form.elements.description.value = payload.description;
      var corrects = form.elements.corrects_case_id;
      corrects.value = corrects.querySelector('option[value="' + payload.corrects_case_id +
        '"]') ? String(payload.corrects_case_id) : "";
    } else {
      (payload.answers || []).forEach(function (a) {
        var item = form.querySelector('.item[data-item="' + a.item + '"]');
        if (!item) { return; }
        if (item.dataset.kind === "yes_no") {
          var radio = item.querySelector('input[value="' + (a.value ? "yes" : "no") + '"]');
          if (radio) { radio.checked = true; }
        } else {
          item.querySelector("input[type=number]").value = String(a.value);
        }
      });
    }
    var note = form.querySelector(".form-error");
    note.textContent = text.textRefilled;
    note.hidden = false;
    form.scrollIntoView();
    (form.elements.description || form.querySelector("input")).focus();
    return Promise.resolve();
  }

  function markReceived(answer, payload) {
    var list = document.getElementById("outbox-received");
    if (list.querySelector('[data-key="' + answer.key + '"]')) { return; }
    var li = document.createElement("li");
    li.dataset.key = answer.key;
    li.textContent = label(answer.kind) + " — " + when(answer.received_at);
    if (answer.reference && answer.case_id) {
      li.appendChild(document.createTextNode(" — "));
      var a = document.createElement("a");
      a.href = root.dataset.caseUrl.replace(/0$/, String(answer.case_id));
      a.textContent = answer.reference;
      li.appendChild(a);
    }
    list.insertBefore(li, list.firstChild);
    var none = document.getElementById("outbox-received-none");
    if (none) { none.hidden = true; }
    if (answer.kind !== "report" || !answer.case_id || !payload) { return; }
    // Only the latest version of a report may be corrected: the new one is offered, the one it
    // corrects no longer.
    var section = root.querySelector('[data-referendum="' + payload.referendum_id + '"]');
    var corrects = section && section.querySelector("select[name=corrects_case_id]");
    if (!corrects) { return; }
    if (payload.corrects_case_id) {
      var old = corrects.querySelector('option[value="' + payload.corrects_case_id + '"]');
      if (old) { old.remove(); }
    }
    var option = document.createElement("option");
    option.value = String(answer.case_id);
    option.textContent = answer.reference + " — " + when(answer.received_at);
    corrects.insertBefore(option, corrects.options[1] || null);
  }

  // --- sending ------------------------------------------------------------------------------
  function send(entry) {
    var sent = null;
    return open(entry).then(function (payload) {
      sent = payload;
      var url = entry.kind === "report" ? root.dataset.reportUrl : root.dataset.checklistUrl;
      return fetch(url, { method: "POST", credentials: "same-origin", headers: {
        "Content-Type": "application/json", "Accept": "application/json",
        "X-Requested-With": "fetch", "X-CSRFToken": csrf }, body: JSON.stringify(payload) });
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.redirected || r.status === 401) {
          // Signed out meanwhile (the answer is the sign-in page): kept until signed in again.
          signInNeeded = true;
          throw new Error("sign in");
        }
        if ((r.status === 200 || r.status === 201) && body.key === entry.key) {
          markReceived(body, sent);
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
    if (leaving || flushing || !navigator.onLine) { return Promise.resolve(); }
    flushing = true;
    signInNeeded = false;
    return fetchKey().then(entries).then(function (all) {
      var chain = Promise.resolve();
      all.filter(function (e) { return !e.error && !e.held; }).forEach(function (e) {
        chain = chain.then(function () {
          if (e.tag === sessionTag) { return send(e); }
          // Sealed in an earlier session: held for the observer to check, never sent by itself.
          e.held = true;
          return store("outbox", "readwrite", function (s) { return s.put(e); });
        });
      });
      return chain;
    }).catch(function (err) {
      // Offline or signed out for now: kept for the next attempt. Refused as a whole (the
      // observer's rights have ended): each waiting entry says so, to be removed or kept.
      if (!err || !err.refusal) { return null; }
      return entries().then(function (all) {
        return Promise.all(all.filter(function (e) { return !e.error; }).map(function (e) {
          e.error = err.refusal;
          return store("outbox", "readwrite", function (s) { return s.put(e); });
        }));
      });
    }).catch(function () { return null; })
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
    if (leaving) { return; }
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
      if (kind === "report" && (!body.category || !body.severity)) {
        throw new Error(text.textChoose);  // nothing is chosen for the observer
      }
      return loadKey().then(function (key) {
        if (ended) { throw new Error(text.textSigninForm); }
        if (!key) { throw new Error(text.textNokey); }
        body.key = crypto.randomUUID();
        body.referendum_id = Number(section.dataset.referendum);
        body.polling_station_id = Number(section.querySelector(".station-choice").value);
        body.filled_at = new Date().toISOString();
        return seal(body, key).then(function (sealed) {
          return store("outbox", "readwrite", function (s) {
            return s.put({ key: body.key, observer: observer, kind: kind, created: body.filled_at,
              kid: sealed.kid, tag: key.tag, iv: sealed.iv, ct: sealed.ct });
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

  // --- signing out ----------------------------------------------------------------------------
  // Signing out leaves nothing of the observer on the phone: the outbox (its key and what
  // waits), the app's copy and its service worker. The sign-out answer clears the site's
  // storage too (Clear-Site-Data); this is the same done here first, after asking whether
  // entries still waiting may be lost.
  function wipe() {
    var gone = [new Promise(function (resolve) {
      var req = indexedDB.deleteDatabase("observer-outbox");
      req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
    })];
    if (window.caches) {
      gone.push(caches.keys().then(function (names) {
        return Promise.all(names.map(function (n) { return caches.delete(n); }));
      }));
    }
    if ("serviceWorker" in navigator) {
      gone.push(navigator.serviceWorker.getRegistrations().then(function (all) {
        return Promise.all(all.map(function (r) { return r.unregister(); }));
      }));
    }
    return Promise.all(gone).catch(function () { return null; });
  }

  // Signing out ends the session on the server first; only then is the phone cleared (the
  // answer's Clear-Site-Data does it too). Without a connection nothing is cleared: the session
  // would stay alive while the observer believed it ended.
  function signOut(event) {
    var form = event.target;
    event.preventDefault();
    if (!navigator.onLine) {
      document.getElementById("connection").textContent = text.textSignoutOffline;
      return;
    }
    entries().catch(function () { return []; }).then(function (all) {
      if (all.length && !window.confirm(text.textSignoutLoses.replace("{n}",
          String(all.length)))) { return; }
      leaving = true;
      var data = new FormData(form);
      if (csrf) { data.set("csrf_token", csrf); }  // the page may be older than its form's token
      return fetch(form.action, { method: "POST", body: data,
        credentials: "same-origin", redirect: "manual" }).then(function (r) {
        // Signed out: the answer is the redirect that follows it. Anything else (a refused
        // token, an error, too many requests) leaves the session, so the phone keeps all.
        if (r.type !== "opaqueredirect" && !r.redirected) { throw new Error("not signed out"); }
        if (signOuts) { signOuts.postMessage({ signedOut: observer }); }
        return wipe();
      }).then(function () {
        window.location.assign(root.dataset.signedOutUrl);
      }, function () {
        leaving = false;  // not signed out: nothing was cleared
        document.getElementById("connection").textContent = navigator.onLine
          ? text.textSignoutRefused : text.textSignoutOffline;
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[action]"), function (form) {
    if (form.getAttribute("action") === root.dataset.signOutUrl) {
      form.addEventListener("submit", signOut);
    }
  });
  // Signed out in another tab of this browser: this one seals nothing more either.
  var signOuts = window.BroadcastChannel ? new BroadcastChannel("observer-sign-out") : null;
  if (signOuts) {
    signOuts.onmessage = function (event) {
      if (event.data && event.data.signedOut === observer) {
        signInNeeded = true;  // the status line says so too, not "connected"
        endSession();
        render();
      }
    };
  }
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
