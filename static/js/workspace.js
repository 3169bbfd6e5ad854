// Glossa workspace: turn a text selection into W3C offsets and open the annotation form with it.
//
// The offsets come from selection.js (window.GlossaSelection), loaded before this file, which is
// the one place where the browser's UTF-16 offsets become the server's code points.
// No inline script and no eval: this file works under the site's strict Content Security Policy.
(function () {
  "use strict";

  var button = null;
  var pending = null;

  function annotatableOf(node) {
    var element = node && (node.nodeType === 1 ? node : node.parentElement);
    return element ? element.closest(".annotatable") : null;
  }

  // {target, excerpt, start, end, exact} in code points, whitespace at either end trimmed; or null.
  function currentSelection() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    var range = selection.getRangeAt(0);
    var container = annotatableOf(range.startContainer) || annotatableOf(range.endContainer);
    if (!container) {
      // A selection that starts and ends outside every text but spans one: take the first it covers.
      container = Array.prototype.find.call(document.querySelectorAll(".annotatable"), function (el) {
        return range.intersectsNode(el);
      });
    }
    if (!container) return null;
    var span = window.GlossaSelection.spanIn(selection, container);
    if (!span) return null;
    span.target = container.dataset.target;
    span.excerpt = container.dataset.excerpt || "";
    return span;
  }

  function field(form, name) {
    return form.querySelector("[name='" + name + "']");
  }

  function openForm(selected) {
    var section = document.getElementById("annotation-form");
    if (!section || !selected) return;
    var form = section.querySelector("form");
    field(form, "exact").value = selected.exact;
    field(form, "start").value = selected.start;
    field(form, "end").value = selected.end;
    field(form, "excerpt").value = selected.excerpt;
    section.classList.add("has-selection");
    section.scrollIntoView({ block: "nearest" });
    field(form, "body").focus();
    hideButton();
  }

  function showButton(selected) {
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "annotate-button";
      button.textContent = "Annotate (A)";
      button.addEventListener("mousedown", function (event) { event.preventDefault(); });
      button.addEventListener("click", function () { openForm(pending); });
      document.body.appendChild(button);
    }
    pending = selected;
    button.style.top = window.scrollY + selected.rect.bottom + 6 + "px";
    button.style.left = window.scrollX + selected.rect.left + "px";
    button.hidden = false;
  }

  function hideButton() {
    if (button) button.hidden = true;
  }

  function onSelectionEnd() {
    var selected = currentSelection();
    if (selected) showButton(selected);
    else hideButton();
  }

  // Typing the words by hand (no selection) must not keep offsets from an earlier selection.
  document.addEventListener("input", function (event) {
    if (event.target.name === "exact") {
      var form = event.target.form;
      ["start", "end", "excerpt"].forEach(function (name) { field(form, name).value = ""; });
    }
  });

  document.addEventListener("mouseup", function () { window.setTimeout(onSelectionEnd, 0); });
  document.addEventListener("keyup", function (event) {
    if (event.shiftKey || event.key === "Shift") onSelectionEnd();
  });

  document.addEventListener("keydown", function (event) {
    var typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "a" || event.key === "A") {
      var selected = currentSelection();
      if (selected) {
        event.preventDefault();
        openForm(selected);
      }
    } else if (event.key === "Escape") {
      hideButton();
    }
  });

  // A highlight leads to its card; a card's quote leads back to its highlight.
  function flash(element) {
    if (!element) return;
    element.classList.remove("flash");
    void element.offsetWidth;
    element.classList.add("flash");
  }

  document.addEventListener("click", function (event) {
    var mark = event.target.closest("mark.hl");
    if (mark && window.getSelection().isCollapsed) {
      var id = mark.dataset.annotations.split(" ")[0];
      var card = document.getElementById("annotation-" + id);
      if (card) {
        card.scrollIntoView({ block: "nearest", behavior: "smooth" });
        flash(card);
      }
      return;
    }
    var quote = event.target.closest("[data-highlight]");
    if (quote) {
      var marks = document.querySelectorAll("mark.hl");
      var wanted = quote.dataset.highlight;
      marks.forEach(function (m) {
        if (m.dataset.annotations.split(" ").indexOf(wanted) >= 0) flash(m);
      });
    }
  });

  // After an in-place update, bring the new or edited card into view.
  document.body.addEventListener("htmx:afterSwap", function () {
    var created = document.querySelector(".card-new");
    if (created) {
      created.scrollIntoView({ block: "nearest" });
      flash(created);
    }
    hideButton();
  });
})();
