/*
 * Signing an initiative from its page: the script posts the signature with the page's signing
 * token in X-Sign-Token (portal/initiatives/sign_token.py; it is also the request's CSRF
 * defence), and the portal usually takes it in front of Flask (portal/initiatives/lean_sign.py).
 * A signature taken answers 201 and where the page now shows it with its receipt; a refusal
 * answers JSON with its sentence, shown by the button. Without this script, or when the
 * request cannot be made or is not answered in JSON, the form posts as it always did.
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-sign-token]");
  if (!form || !window.fetch || !form.getAttribute("data-sign-token")) {
    return;
  }
  var error = form.querySelector("[data-sign-error]");
  var button = form.querySelector("button[type=submit]");
  var sending = false;

  function plainPost() {
    form.removeAttribute("data-sign-token");
    form.submit();
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
      if (!json) {
        plainPost();  // e.g. sent to sign in again: the form's post goes the usual way
        return null;
      }
      return response.json().then(function (answer) {
        if (response.status === 201 && answer.location) {
          window.location.assign(answer.location);
          return;
        }
        if (response.status === 400) {
          plainPost();  // the token not taken (e.g. past the idle limit): the form's CSRF token
          return;
        }
        sending = false;
        if (button) {
          button.disabled = false;
        }
        if (error && typeof answer.error === "string") {
          error.textContent = answer.error;
          error.hidden = false;
        } else {
          plainPost();
        }
      });
    }).catch(function () {
      plainPost();  // no answer: the form's post, whose refusal says if it was taken already
    });
  });
})();
