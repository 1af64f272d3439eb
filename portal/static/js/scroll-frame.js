// Every element with the class "scroll-frame" scrolls sideways inside itself when its content
// (a table, a chart, the workflow diagram) is wider than the screen. While it is wider, it is a
// labelled region that takes keyboard focus (the arrow keys scroll it) and a hint above it says
// so; when everything fits, the hint is hidden and the frame is no tab stop. The hint's text is
// the page's data-scroll-hint unless the frame already has its own hint just before it.
(function () {
  "use strict";
  var hintText = document.body.getAttribute("data-scroll-hint") || "";
  var frames = document.querySelectorAll(".scroll-frame");
  var counter = 0;
  function labelOf(frame) {
    if (frame.hasAttribute("aria-label") || frame.hasAttribute("aria-labelledby")) {
      return;
    }
    var named = frame.querySelector("caption, svg > title, figcaption");
    if (named) {
      if (!named.id) {
        counter += 1;
        named.id = "scroll-frame-label-" + counter;
      }
      frame.setAttribute("aria-labelledby", named.id);
    } else {
      frame.setAttribute("aria-label", hintText);
    }
  }
  function hintOf(frame) {
    var before = frame.previousElementSibling;
    if (before && before.classList.contains("scroll-hint")) {
      return before;
    }
    var hint = document.createElement("p");
    hint.className = "scroll-hint";
    hint.setAttribute("aria-hidden", "true");
    hint.textContent = hintText;
    frame.parentNode.insertBefore(hint, frame);
    return hint;
  }
  frames.forEach(function (frame) {
    frame.setAttribute("role", "region");
    labelOf(frame);
    hintOf(frame);
  });
  function mark() {
    frames.forEach(function (frame) {
      var wider = frame.scrollWidth > frame.clientWidth + 1;
      if (wider) {
        frame.setAttribute("tabindex", "0");
      } else {
        frame.removeAttribute("tabindex");
      }
      frame.setAttribute("data-overflows", wider ? "yes" : "no");
      hintOf(frame).hidden = !wider;
    });
  }
  mark();
  window.addEventListener("resize", mark);
})();
