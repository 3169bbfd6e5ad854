// Glossa workspace: turn a text selection into W3C offsets and open the annotation form with it.
//
// Offsets: the browser counts UTF-16 code units, the W3C TextPositionSelector (and the server)
// count Unicode code points. toCodePoints() is the one place where one becomes the other.
// No inline script and no eval: this file works under the site's strict Content Security Policy.
(function () {
  "use strict";

  var button = null;
  var pending = null;

  // Text of a container as the server sees it: everything but the [data-skip] markers.
  function countedText(fragmentOrNode) {
    var clone = fragmentOrNode.cloneNode(true);
    if (clone.querySelectorAll) {
      clone.querySelectorAll("[data-skip]").forEach(function (el) { el.remove(); });
    }
    return clone.textContent;
  }

  // UTF-16 length of the counted text between the container's start and a boundary point.
  function utf16OffsetOf(container, node, offset) {
    var range = document.createRange();
    range.setStart(container, 0);
    range.setEnd(node, offset);
    return countedText(range.cloneContents()).length;
  }

  function toCodePoints(text, utf16Offset) {
    return Array.from(text.slice(0, utf16Offset)).length;
  }

  // The part of the selection inside `container`, clamped when it starts or ends outside it.
  function clampedRange(selection, container) {
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    var range = selection.getRangeAt(0);
    if (!range.intersectsNode(container)) return null;
    var whole = document.createRange();
    whole.selectNodeContents(container);
    var clamped = range.cloneRange();
    if (clamped.compareBoundaryPoints(Range.START_TO_START, whole) < 0) {
      clamped.setStart(whole.startContainer, whole.startOffset);
    }
    if (clamped.compareBoundaryPoints(Range.END_TO_END, whole) > 0) {
      clamped.setEnd(whole.endContainer, whole.endOffset);
    }
    return clamped;
  }

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
    var clamped = clampedRange(selection, container);
    if (!clamped) return null;
    var text = countedText(container);
    var start16 = utf16OffsetOf(container, clamped.startContainer, clamped.startOffset);
    var end16 = utf16OffsetOf(container, clamped.endContainer, clamped.endOffset);
    while (start16 < end16 && /\s/.test(text[start16])) start16++;
    while (end16 > start16 && /\s/.test(text[end16 - 1])) end16--;
    if (start16 >= end16) return null;
    return {
      target: container.dataset.target,
      excerpt: container.dataset.excerpt || "",
      start: toCodePoints(text, start16),
      end: toCodePoints(text, end16),
      exact: text.slice(start16, end16),
      rect: clamped.getBoundingClientRect()
    };
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
