// Irreversible actions ask first: a form with data-confirm="…", or the button that submits it
// with its own data-confirm, submits only after the person agrees (a file, not inline script:
// the Content-Security-Policy forbids inline script).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.getAttribute("data-confirm")) ||
    (form.getAttribute && form.getAttribute("data-confirm"));
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
}, true);
