// Glossa: place an annotation again by selecting words of the new wording.
//
// Selecting words in [data-place-wording] fills the form's hidden start/end (code points, from
// selection.js, loaded first) and shows the words in its `words` field; the server checks that the
// words stand there. Typing the words by hand drops the offsets, and the server finds the words.
(function () {
  "use strict";

  var wording = document.querySelector("[data-place-wording]");
  var form = document.querySelector("form.place-form");
  if (!wording || !form || !window.GlossaSelection) return;

  function field(name) {
    return form.querySelector("[name='" + name + "']");
  }

  // An empty selection (a click elsewhere, the click on "Place here") keeps what was chosen.
  function onSelectionEnd() {
    var span = window.GlossaSelection.spanIn(window.getSelection(), wording);
    if (!span) return;
    field("words").value = span.exact;
    field("start").value = span.start;
    field("end").value = span.end;
    form.classList.add("has-selection");
  }

  field("words").addEventListener("input", function () {
    field("start").value = "";
    field("end").value = "";
    form.classList.remove("has-selection");
  });

  document.addEventListener("mouseup", function () { window.setTimeout(onSelectionEnd, 0); });
  document.addEventListener("keyup", function (event) {
    if (event.shiftKey || event.key === "Shift") onSelectionEnd();
  });
})();
