/*
 * Signing an initiative from its page: the script posts the signature with the page's signing
 * token in X-Sign-Token (portal/initiatives/sign_token.py; it is also the request's CSRF
 * defence), and the portal usually takes it in front of Flask (portal/initiatives/lean_sign.py).
 * A signature taken answers 201 and the page to show next (which thanks the voter and shows
 * the receipt). A refusal answers JSON with its sentence (portal/refusals.py): the page is
 * loaded again, so that it shows what is true now (e.g. a signature given in another tab), with
 * the sentence on top. Without this script, or when the request cannot be made or is not
 * answered in JSON, the form posts as it always did.
 */
(function () {
  "use strict";

  var KEY = "portal.sign-refusal";

  function showKeptRefusal() {
    var message = null;
    try {
      message = window.sessionStorage.getItem(KEY);
      window.sessionStorage.removeItem(KEY);
    } catch (e) { /* storage blocked: nothing was kept */ }
    if (!message) {
      return;
    }
    var main = document.getElementById("main");
    if (!main) {
      return;
    }
    var box = main.querySelector(".flashes");
    if (!box) {
      box = document.createElement("div");
      box.className = "flashes";
      box.setAttribute("role", "status");
      main.insertBefore(box, main.firstChild);
    }
    var line = document.createElement("p");
    line.className = "flash flash-error";
    line.textContent = message;
    box.appendChild(line);
  }

  showKeptRefusal();

  var form = document.querySelector("form[data-sign-token]");
  if (!form || !window.fetch || !form.getAttribute("data-sign-token")) {
    return;
  }
  var button = form.querySelector("button[type=submit]");
  var sending = false;

  function plainPost() {
    form.removeAttribute("data-sign-token");
    form.submit();
  }

  function showAgain(message) {
    try {
      window.sessionStorage.setItem(KEY, message);
    } catch (e) {
      plainPost();  // cannot keep the sentence across the load: the form's post shows it
      return;
    }
    window.location.assign(window.location.pathname);
  }

  form.addEventListener("submit", function (event) {
    if (!form.getAttribute("data-sign-token")) {
      return;  // the ordinary form post
    }
    event.preventDefault();
    if (sending) {
      return;
    }
    sending = true;
    if (button) {
      button.disabled = true;
    }
    window.fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: {
        "X-Sign-Token": form.getAttribute("data-sign-token"),
        "X-Requested-With": "fetch",
        "Accept": "application/json"
      }
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (!json || response.status === 401) {
        plainPost();  // e.g. to sign in again (401 sign_in_required): the form's post goes the usual way
        return null;
      }
      return response.json().then(function (answer) {
        if (response.status === 201 && answer.location) {
          window.location.assign(answer.location);
        } else if (response.status !== 400 && typeof answer.error === "string") {
          showAgain(answer.error);
        } else {
          plainPost();  // the token not taken (e.g. past the idle limit): the form's CSRF token
        }
      });
    }).catch(function () {
      plainPost();  // no answer: the form's post, whose refusal says if it was taken already
    });
  });
})();
