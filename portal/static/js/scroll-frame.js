// Marks each sideways-scrolling frame's figure with whether its content is wider than the
// frame (data-overflows="yes"/"no"), so that the hint above it shows only when there is more
// to see. Without JavaScript the hint shows on every phone-sized screen.
(function () {
  "use strict";
  var frames = document.querySelectorAll(".scroll-frame");
  function mark() {
    frames.forEach(function (frame) {
      var wider = frame.scrollWidth > frame.clientWidth + 1;
      frame.parentElement.setAttribute("data-overflows", wider ? "yes" : "no");
    });
  }
  mark();
  window.addEventListener("resize", mark);
})();
