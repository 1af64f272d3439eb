/*
 * The verification page on a voter's second device (cast as intended). The code comes from
 * the link's fragment (#<tracker or its first 12+ characters>.<base64url of r_0 ‖ r_1 ‖ …>),
 * which browsers never send; the page fetches only public data (the manifest and the board
 * entries with that tracker), checks each entry fully with ballot.js and opens it with the
 * randomness: alpha_k == r_k·B and beta_k == r_k·Y + m_k·B with m_k in {0, 1}. A ballot that
 * does not open shows an error, never a choice.
 */
(function () {
  "use strict";

  var section = document.getElementById("check");
  if (!section || !window.RefBallot) {
    return;
  }
  var texts = document.getElementById("check-messages").dataset;
  var form = document.getElementById("check-form");
  var input = document.getElementById("check-code");
  var statusLine = document.getElementById("check-status");
  var result = document.getElementById("check-result");
  var errorBox = document.getElementById("check-error");
  var CODE = /^([0-9a-f]{8,64})\.([A-Za-z0-9_-]+)$/;

  function say(text) {
    statusLine.textContent = text;
  }

  function fail(text) {
    result.hidden = true;
    errorBox.textContent = text;
    errorBox.hidden = false;
    say("");
  }

  function fromBase64url(text) {
    var binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    var out = [];
    for (var i = 0; i + 32 <= binary.length; i += 32) {
      var h = "";
      for (var j = i; j < i + 32; j++) {
        h += ("0" + binary.charCodeAt(j).toString(16)).slice(-2);
      }
      out.push(h);
    }
    return binary.length % 32 === 0 ? out : null;
  }

  function parse(code) {
    var m = CODE.exec(code.trim().replace(/^.*#/, "")); // a whole pasted link works too
    if (!m) {
      return null;
    }
    var randomness;
    try {
      randomness = fromBase64url(m[2]);
    } catch (err) {
      return null;
    }
    return randomness && randomness.length ? { prefix: m[1], randomness: randomness } : null;
  }

  function getJson(url) {
    return fetch(url, { credentials: "omit" }).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok, data: data };
      });
    });
  }

  function show(election, entry, opened) {
    var lang = section.dataset.lang === "en" ? "en" : "lv";
    var chosen = [];
    election.manifest.question.choices.forEach(function (choice, k) {
      if (opened.plaintext[k] === 1) {
        chosen.push(choice.text[lang] || choice.id);
      }
    });
    document.getElementById("check-choice").textContent = chosen.length ? chosen.join(", ") : texts.none;
    document.getElementById("check-standing").textContent = texts[entry.status] || entry.status;
    document.getElementById("check-seq").textContent = String(entry.seq);
    document.getElementById("check-tracker").textContent = entry.tracker;
    errorBox.hidden = true;
    result.hidden = false;
    say(texts.done);
  }

  function check(code) {
    var parsed = parse(code);
    if (!parsed) {
      fail(code ? texts.badCode : texts.noCode);
      return;
    }
    errorBox.hidden = true;
    say(texts.checking);
    var entriesUrl = section.dataset.entriesUrl + "?tracker=" + encodeURIComponent(parsed.prefix);
    Promise.all([window.RefBallot.ready, getJson(section.dataset.manifestUrl), getJson(entriesUrl)])
      .then(function (answers) {
        var election = answers[1].data;
        var entries = answers[2].ok && answers[2].data.entries ? answers[2].data.entries : null;
        if (!answers[1].ok || !entries) {
          fail(texts.unreachable);
          return;
        }
        if (!entries.length) {
          fail(texts.notFound);
          return;
        }
        if (window.RefBallot.electionHash(election.manifest) !== election.election_hash) {
          fail(texts.mismatch);
          return;
        }
        for (var i = 0; i < entries.length; i++) {
          var entry = entries[i];
          try {
            var opened = window.RefBallot.openCast(election, entry.alias, entry.ballot, parsed.randomness);
            if (opened.tracker === entry.tracker && entry.tracker.indexOf(parsed.prefix) === 0) {
              show(election, entry, opened);
              return;
            }
          } catch (err) {
            // Not this entry (or a tampered one): try the next, then report a mismatch.
          }
        }
        fail(texts.mismatch);
      })
      .catch(function () {
        fail(texts.unreachable);
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    check(input.value);
  });

  function fromLink() {
    var fragment = window.location.hash.slice(1);
    if (fragment) {
      input.value = fragment;
      check(fragment);
    } else {
      say(texts.noCode);
    }
  }

  window.addEventListener("hashchange", fromLink); // another link opened on this page
  fromLink();
})();
