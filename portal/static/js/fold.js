// Folds the parts marked data-fold-small (a list's filters) on a phone-sized screen: they
// arrive open, so without JavaScript, and on a wide screen, everything stays in view.
(function () {
  "use strict";
  if (!window.matchMedia("(max-width: 40rem)").matches) return;
  document.querySelectorAll("details[data-fold-small]").forEach(function (d) {
    d.open = false;
  });
})();
