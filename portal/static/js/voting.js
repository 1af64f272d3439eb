/*
 * The voting page: fetch the frozen election, encrypt the choice in the browser with ballot.js,
 * optionally audit (Benaloh: open one encryption, publish it, encrypt afresh), then cast.
 * The server receives only the encrypted ballot. Status goes to a polite live region.
 */
(function () {
  "use strict";

  var section = document.getElementById("ballot");
  if (!section || !window.RefBallot) {
    return;
  }
  var form = document.getElementById("ballot-form");
  var status = document.getElementById("vote-status");
  var castButton = document.getElementById("cast-button");
  var auditButton = document.getElementById("audit-button");
  var texts = document.getElementById("vote-messages").dataset;
  var election = null;
  var busy = false;

  function say(text) {
    status.textContent = text;
  }

  function choice() {
    var checked = form.querySelector("input[name=choice]:checked");
    if (!checked) {
      return null;
    }
    return checked.value === "yes" ? [1, 0] : [0, 1];
  }

  function setBusy(value) {
    busy = value;
    castButton.disabled = value || !election;
    auditButton.disabled = value || !election;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": section.dataset.csrf },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var err = new Error(data.error || String(response.status));
          err.data = data;
          throw err;
        }
        return data;
      });
    });
  }

  function encrypt() {
    var plaintext = choice();
    if (!plaintext) {
      say(texts.choose);
      form.querySelector("input[name=choice]").focus();
      return null;
    }
    return window.RefBallot.encryptBallot(
      { election_hash: election.election_hash, manifest: election.manifest },
      election.alias,
      plaintext
    );
  }

  function cast(event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    var encrypted = encrypt();
    if (!encrypted) {
      return;
    }
    setBusy(true);
    say(texts.sending);
    post(section.dataset.castUrl, encrypted.ballot)
      .then(function (data) {
        if (data.tracker !== encrypted.tracker) {
          throw new Error("tracker mismatch");
        }
        say(texts.cast);
        window.location.assign(data.receipt_url);
      })
      .catch(function (err) {
        say(texts.failed + " " + err.message);
        setBusy(false);
      });
  }

  function audit() {
    if (busy) {
      return;
    }
    var encrypted = encrypt();
    if (!encrypted) {
      return;
    }
    setBusy(true);
    say(texts.encrypting);
    var revealed = window.RefBallot.auditBallot(encrypted);
    var checked = window.RefBallot.verifyAudited(
      { election_hash: election.election_hash, manifest: election.manifest },
      revealed
    );
    post(section.dataset.auditUrl, revealed)
      .then(function (data) {
        document.getElementById("audit-choice").textContent =
          checked.plaintext[0] === 1 ? texts.yes : texts.no;
        document.getElementById("audit-tracker").textContent = data.tracker;
        document.getElementById("audit-result").hidden = false;
        say(texts.audited);
        setBusy(false);
      })
      .catch(function (err) {
        say(texts.failed + " " + err.message);
        setBusy(false);
      });
  }

  form.addEventListener("submit", cast);
  auditButton.addEventListener("click", audit);

  window.RefBallot.ready
    .then(function () {
      return fetch(section.dataset.electionUrl, { credentials: "same-origin" });
    })
    .then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          throw new Error(data.error || String(response.status));
        }
        return data;
      });
    })
    .then(function (data) {
      election = data;
      setBusy(false);
      say(texts.ready);
    })
    .catch(function (err) {
      say(texts.loadFailed + " " + err.message);
    });
})();

/*
 * Live turnout and board head on the results and bulletin-board pages (progressive
 * enhancement: without JS the page shows the figures as of its loading). Joins the
 * referendum's rooms over Socket.IO (namespace /voting) and writes the pushed figures into the
 * elements marked data-live="<name>". Pushes are debounced on the server, so shortly after
 * each one the figures are fetched once more over HTTP (same access rule as the page).
 */
(function () {
  "use strict";

  var live = document.getElementById("live");
  if (!live || typeof window.io !== "function") {
    return;
  }
  var referendumId = Number(live.dataset.referendumId);
  var refreshTimer = null;

  function show(figures) {
    if (!figures || Number(figures.referendum_id || referendumId) !== referendumId) {
      return;
    }
    var fields = live.querySelectorAll("[data-live]");
    for (var i = 0; i < fields.length; i += 1) {
      var name = fields[i].dataset.live;
      if (Object.prototype.hasOwnProperty.call(figures, name)) {
        fields[i].textContent = String(figures[name]);
      }
    }
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      fetch(live.dataset.turnoutUrl, { credentials: "same-origin" })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(show)
        .catch(function () {});
    }, 1500);
  }

  function received(figures) {
    show(figures);
    refreshSoon();
  }

  var socket = window.io("/voting", { withCredentials: true });
  socket.on("connect", function () {
    socket.emit("join", { referendum_id: referendumId });
  });
  socket.on("referendum.head", received);
  socket.on("referendum.turnout", received);
})();
