// Irreversible actions ask first: a form with data-confirm="…" submits only after the person
// agrees (a file, not inline script: the Content-Security-Policy forbids inline script).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);
