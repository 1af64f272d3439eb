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

  // A cast whose answer is lost (connection cut, proxy error, server busy) may or may not have
  // reached the board. The page never guesses: it looks the tracker up on the public board,
  // and otherwise resends the *same* encrypted ballot, which the server can store only once (a
  // resend of a stored ballot is refused as a replay, spec section 5). Waits in seconds; a
  // Retry-After from the server takes precedence.
  var RETRY_DELAYS = [2, 4, 8];
  var pending = null; // {key, encrypted}: the ballot being cast, kept until it is confirmed

  function request(url, options) {
    return fetch(url, options).then(function (response) {
      var retryAfter = parseInt(response.headers.get("Retry-After") || "", 10);
      return response.json().then(
        function (data) {
          return { status: response.status, ok: response.ok, data: data, retryAfter: retryAfter };
        },
        function () {
          // Not JSON: an error page of a proxy or gateway, never the portal's answer.
          return { status: response.status, ok: false, data: null, retryAfter: retryAfter };
        }
      );
    });
  }

  // Every POST carries the CSRF token; a cast also its cast token (portal/voting/cast_token.py),
  // which lets the server check it on its fast path. Should that token have expired, the CSRF
  // token and the session still get the cast accepted.
  function post(url, body) {
    var headers = { "Content-Type": "application/json", "X-CSRFToken": section.dataset.csrf };
    if (url === section.dataset.castUrl && section.dataset.castToken) {
      headers["X-Cast-Token"] = section.dataset.castToken;
    }
    return request(url, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: JSON.stringify(body),
    });
  }

  function failure(answer) {
    var err = new Error(answer.data && answer.data.error ? answer.data.error : texts.unreachable);
    err.data = answer.data;
    return err;
  }

  function lookUp(tracker) {
    var url = section.dataset.boardEntryUrl.replace("TRACKER", tracker);
    return request(url, { credentials: "same-origin" }).then(
      function (answer) {
        return answer.ok && answer.data && answer.data.tracker === tracker ? answer.data : null;
      },
      function () {
        return null;
      }
    );
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

  // The ballot's randomness goes to the receipt in the URL's fragment, which the browser never
  // sends to a server: whoever holds it can read the vote, so only the voter's devices may.
  function base64url(hexes) {
    var binary = "";
    hexes.forEach(function (h) {
      for (var i = 0; i < h.length; i += 2) {
        binary += String.fromCharCode(parseInt(h.substr(i, 2), 16));
      }
    });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function confirmed(receipt, encrypted) {
    pending = null;
    say(texts.cast);
    var fragment = encrypted ? "#check=" + base64url(encrypted.randomness) : "";
    window.location.assign(receipt.receipt_url + fragment);
  }

  function refused(message) {
    pending = null; // a refused ballot is never resent: the next cast encrypts afresh
    say(texts.failed + " " + message);
    setBusy(false);
  }

  function unsure(encrypted, attempt, retryAfter) {
    lookUp(encrypted.tracker).then(function (receipt) {
      if (receipt) {
        confirmed(receipt, encrypted);
        return;
      }
      if (attempt >= RETRY_DELAYS.length) {
        // Kept: casting again (same choice) resends this very ballot.
        say(texts.unconfirmed);
        setBusy(false);
        return;
      }
      var delay = retryAfter > 0 ? Math.min(retryAfter, 60) : RETRY_DELAYS[attempt];
      say(texts.retrying.replace("{seconds}", String(delay)));
      setTimeout(function () {
        send(encrypted, attempt + 1);
      }, delay * 1000);
    });
  }

  function send(encrypted, attempt) {
    say(attempt ? texts.resending : texts.sending);
    post(section.dataset.castUrl, encrypted.ballot).then(
      function (answer) {
        if (answer.ok && answer.data) {
          if (answer.data.tracker !== encrypted.tracker) {
            refused("tracker mismatch");
            return;
          }
          confirmed(answer.data, encrypted);
        } else if (answer.data && answer.data.reason === "replay") {
          // An earlier send of this ballot got through after all (or it was audited).
          lookUp(encrypted.tracker).then(function (receipt) {
            if (receipt) {
              confirmed(receipt, encrypted);
            } else {
              refused(answer.data.error);
            }
          });
        } else if (answer.data && answer.status < 500) {
          refused(answer.data.error); // the portal's own answer, a rate limit's included
        } else {
          unsure(encrypted, attempt, answer.retryAfter);
        }
      },
      function () {
        unsure(encrypted, attempt, 0);
      }
    );
  }

  function cast(event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    var plaintext = choice();
    var key = plaintext ? plaintext.join(",") : null;
    if (!pending || pending.key !== key) {
      var encrypted = encrypt();
      if (!encrypted) {
        return;
      }
      pending = { key: key, encrypted: encrypted };
    }
    setBusy(true);
    send(pending.encrypted, 0);
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
      .then(function (answer) {
        if (!answer.ok || !answer.data) {
          throw failure(answer);
        }
        var data = answer.data;
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
 * Board checkpoints kept by this browser (bulletin-board and results pages): every signed
 * checkpoint shown on the page or pushed over Socket.IO (event referendum.checkpoint) is kept
 * in localStorage per referendum, so an observer's or CVK's page holds what it saw even if the
 * server later shows something else; "Download" saves them as JSON for referendum-verify
 * --checkpoints. The live module below passes pushed checkpoints to RefCheckpoints.keep.
 */
(function () {
  "use strict";

  var section = document.getElementById("checkpoints");
  var storage = null;
  try {
    storage = window.localStorage;
  } catch (e) {
    storage = null;
  }
  if (!section || !storage) {
    return;
  }
  var referendumId = Number(section.dataset.referendumId);
  var storageKey = "referendum-checkpoints:" + referendumId;
  var counter = section.querySelector("[data-kept-count]");
  var countForms = null;
  try {
    countForms = JSON.parse(counter.dataset.forms);
  } catch (e) {
    countForms = null;
  }

  function showCount(n) {
    // The sentence in the form the server's plural rule picks (js/counts.js).
    counter.dataset.count = String(n);
    counter.textContent = countForms && window.RefCounts
      ? window.RefCounts.text(countForms, n) : String(n);
  }
  var FIELDS = ["log", "seq", "head", "at", "key", "signature"];

  function load() {
    try {
      var kept = JSON.parse(storage.getItem(storageKey) || "[]");
      return Array.isArray(kept) ? kept : [];
    } catch (e) {
      return [];
    }
  }

  function keep(checkpoint) {
    if (!checkpoint || typeof checkpoint.signature !== "string") {
      return;
    }
    var kept = load();
    for (var i = 0; i < kept.length; i += 1) {
      if (kept[i].signature === checkpoint.signature) {
        return;
      }
    }
    var copy = {};
    FIELDS.forEach(function (name) {
      copy[name] = checkpoint[name];
    });
    kept.push(copy);
    try {
      storage.setItem(storageKey, JSON.stringify(kept));
    } catch (e) {
      return;
    }
    showCount(kept.length);
  }

  var rows = section.querySelectorAll("[data-checkpoint]");
  for (var i = 0; i < rows.length; i += 1) {
    try {
      keep(JSON.parse(rows[i].dataset.checkpoint));
    } catch (e) {
      /* a row that is not JSON is not kept */
    }
  }
  showCount(load().length);
  section.querySelector(".js-only").hidden = false;
  section.querySelector("[data-download-kept]").addEventListener("click", function () {
    var body = JSON.stringify({ key: section.dataset.key || null, checkpoints: load() }, null, 1);
    var url = URL.createObjectURL(new Blob([body], { type: "application/json" }));
    var link = document.createElement("a");
    link.href = url;
    link.download = "board-checkpoints-" + referendumId + "-received.json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 1000);
  });
  window.RefCheckpoints = {
    keep: function (checkpoint) {
      if (checkpoint && Number(checkpoint.referendum_id) === referendumId) {
        keep(checkpoint);
      }
    },
  };
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
    socket.emit("join", { referendum_id: referendumId }, function (answer) {
      // Marks the page as following the referendum (tests wait for it before pushing).
      live.dataset.joined = answer && answer.ok ? "yes" : "no";
    });
  });
  socket.on("referendum.head", received);
  socket.on("referendum.turnout", received);
  socket.on("referendum.checkpoint", function (checkpoint) {
    if (window.RefCheckpoints) {
      window.RefCheckpoints.keep(checkpoint);
    }
  });
})();
