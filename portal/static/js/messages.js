/* Live updates for the messaging pages (progressive enhancement: the pages work without it).
 * Events carry ids only; a new or edited message is fetched as rendered HTML over HTTP, through
 * the same access check as the page itself. */
(function () {
  "use strict";
  if (typeof window.io !== "function") { return; }

  var thread = document.getElementById("thread");
  var list = document.getElementById("thread-list");
  if (!thread && !list) { return; }

  var socket = window.io({ withCredentials: true });

  function fragmentUrl(messageId) {
    return thread.dataset.fragmentUrl.replace(/\/m\/0$/, "/m/" + messageId);
  }

  function fetchMessage(messageId) {
    return fetch(fragmentUrl(messageId), { credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; });
  }

  function toNode(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    return tpl.content.firstElementChild;
  }

  function upsertMessage(messageId) {
    return fetchMessage(messageId).then(function (html) {
      if (!html) { return; }
      var node = toNode(html);
      var existing = document.getElementById("m" + messageId);
      if (existing) { existing.replaceWith(node); } else { thread.appendChild(node); }
    });
  }

  var readTimer = null;
  function sendRead() {
    if (document.hidden) { return; }
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      var last = thread.querySelector(".message:last-of-type");
      if (last) {
        socket.emit("read", { thread_id: Number(thread.dataset.threadId),
          message_id: Number(last.dataset.messageId) });
      }
    }, 300);
  }

  if (thread) {
    var threadId = Number(thread.dataset.threadId);
    var typingEl = document.getElementById("typing");
    var readByEl = document.getElementById("read-by");
    var typingTimer = null;
    var readers = {};

    socket.on("connect", function () {
      socket.emit("join", { thread_id: threadId }, function (answer) {
        if (answer && answer.ok) { thread.dataset.live = "1"; }
      });
    });
    socket.on("message.new", function (ev) {
      if (ev.thread_id !== threadId) { return; }
      upsertMessage(ev.message_id).then(sendRead).then(refreshReadBy);
    });
    socket.on("message.edited", function (ev) {
      if (ev.thread_id === threadId) { upsertMessage(ev.message_id); }
    });
    // "Read by" for the latest message: events carry ids only, so the names come over HTTP
    // through the same access check as the page (debounced: receipts arrive in bursts).
    var readByTimer = null;
    function refreshReadBy() {
      if (!readByEl || !thread.dataset.readByUrl) { return; }
      clearTimeout(readByTimer);
      readByTimer = setTimeout(function () {
        fetch(thread.dataset.readByUrl, { credentials: "same-origin",
          headers: { "X-Requested-With": "fetch", "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (body) {
            if (!body) { return; }
            readByEl.textContent = body.text;
            readByEl.dataset.messageId = String(body.message_id);
          });
      }, 150);
    }
    socket.on("message.read", function (ev) {
      if (ev.thread_id !== threadId || !readByEl) { return; }
      readers[ev.user_id] = ev.message_id;
      readByEl.dataset.lastReader = String(ev.user_id);
      refreshReadBy();
    });
    socket.on("typing", function (ev) {
      if (ev.thread_id !== threadId || !typingEl) { return; }
      typingEl.textContent = thread.dataset.typingText.replace("{name}", ev.name);
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingEl.textContent = ""; }, 3000);
    });
    document.addEventListener("visibilitychange", sendRead);

    var form = document.getElementById("compose-form");
    if (form) {
      var text = form.querySelector("textarea");
      var errorEl = document.getElementById("compose-error");
      var lastTyping = 0;
      text.addEventListener("input", function () {
        var now = Date.now();
        if (now - lastTyping > 2000) {
          lastTyping = now;
          socket.emit("typing", { thread_id: threadId });
        }
      });
      form.addEventListener("submit", function (event) {
        var file = form.querySelector("input[type=file]");
        if (file && file.files && file.files.length) { return; } // files: plain form post
        event.preventDefault();
        var button = form.querySelector("button[type=submit]");
        button.disabled = true;
        fetch(form.action, { method: "POST", body: new FormData(form),
          credentials: "same-origin", headers: { "X-Requested-With": "fetch",
            "Accept": "application/json" } })
          .then(function (r) { return r.json().then(function (body) { return [r, body]; }); })
          .then(function (pair) {
            var body = pair[1];
            if (!pair[0].ok) {
              errorEl.textContent = body.error || "";
              errorEl.hidden = false;
              return;
            }
            errorEl.hidden = true;
            text.value = "";
            var reply = form.querySelector("input[name=reply_to]");
            if (reply) { reply.value = ""; }
            if (!document.getElementById("m" + body.message_id)) { upsertMessage(body.message_id); }
          })
          .catch(function () { form.submit(); })
          .finally(function () { button.disabled = false; text.focus(); });
      });
    }
  }

  if (list) {
    socket.on("connect", function () {
      Array.prototype.forEach.call(list.querySelectorAll("[data-thread-id]"), function (row) {
        socket.emit("join", { thread_id: Number(row.dataset.threadId) });
      });
    });
    socket.on("message.new", function (ev) {
      var row = list.querySelector('[data-thread-id="' + ev.thread_id + '"]');
      if (!row) { return; }
      row.classList.add("has-unread");
      var counter = row.querySelector(".unread-count");
      var n = (parseInt(counter.dataset.count || "0", 10) || 0) + 1;
      counter.dataset.count = String(n);
      counter.textContent = "+" + n;
    });
  }
}());
