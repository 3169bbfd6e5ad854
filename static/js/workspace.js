// Glossa workspace: from selected words to an annotation, with the mouse or the keyboard alone.
//
// - A selection in a text (.annotatable) shows a small "Annotate" control at its end; it, the A key
//   or Enter opens the editor beside the words, filled with their W3C offsets.
// - "Select words with the keyboard" puts a caret in the wording: arrow keys move it a word at a
//   time, Shift extends the selection, Home and End go to either end, Esc leaves.
// - After every HTMX swap focus goes where the work goes on (the new card, the opened editor, the
//   confirmation's button, the card again), and a polite live region says what the server did.
//
// The offsets come from selection.js (window.GlossaSelection), loaded before this file, which is
// the one place where the browser's UTF-16 offsets become the server's code points.
// No inline script, no inline style attribute and no eval: this file works under the site's strict
// Content Security Policy (positions are set through the CSSOM, which the policy allows).
(function () {
  "use strict";

  var adder = null;        // the "Annotate" control shown at a selection
  var pending = null;      // the selection it would annotate
  var editorOrigin = null; // where focus goes back to when the editor closes unsaved
  var lastPlace = null;    // the rectangle the editor was opened beside
  var caret = null;        // the keyboard selection: {container, anchor, focus, element}

  // The live region

  function announce(message) {
    var region = document.getElementById("announcer");
    if (!region || !message) return;
    // Emptied first, so that the same message twice is said twice.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = message; }, 50);
  }

  document.body.addEventListener("announce", function (event) {
    announce(event.detail && event.detail.message);
  });

  function focusOn(element) {
    if (!element) return;
    if (!element.matches("a[href], button, input, textarea, select, [tabindex]")) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus({ preventScroll: true });
    var box = element.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) element.scrollIntoView({ block: "nearest" });
  }

  // Selections

  function annotatableOf(node) {
    var element = node && (node.nodeType === 1 ? node : node.parentElement);
    return element ? element.closest(".annotatable") : null;
  }

  // {target, excerpt, start, end, exact, rect} in code points, whitespace at either end trimmed; or null.
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
    var rects = range.getClientRects();
    span.last = rects.length ? rects[rects.length - 1] : span.rect;
    span.target = container.dataset.target;
    span.excerpt = container.dataset.excerpt || "";
    span.language = container.dataset.language || "";
    return span;
  }

  function field(form, name) {
    return form.querySelector("[name='" + name + "']");
  }

  // The editor

  // Beside the words: in the annotations column at their height on a wide screen, under them on a
  // narrow one. Over the page, not in its flow: nothing moves when it opens or closes.
  function placeEditor(section, rect) {
    var columns = section.closest(".workspace-columns");
    if (!columns || !rect) return;
    var box = columns.getBoundingClientRect();
    var panel = columns.querySelector(".panel").getBoundingClientRect();
    var wide = panel.left > box.left + 1;
    var top = wide ? rect.top - box.top - 8 : rect.bottom - box.top + 8;
    section.style.top = Math.max(0, Math.round(top)) + "px";
    section.style.left = Math.round(wide ? panel.left - box.left : 0) + "px";
    section.style.width = Math.round(wide ? panel.width : box.width) + "px";
  }

  function openEditor(selected, origin, rect) {
    var section = document.getElementById("annotation-form");
    if (!section) return;
    var form = section.querySelector("form");
    if (selected) {
      field(form, "exact").value = selected.exact;
      field(form, "start").value = selected.start;
      field(form, "end").value = selected.end;
      field(form, "excerpt").value = selected.excerpt;
      field(form, "language").value = selected.language;
      section.classList.add("has-selection");
    }
    editorOrigin = origin || null;
    lastPlace = rect || (selected && selected.rect) || null;
    section.classList.add("open");
    placeEditor(section, lastPlace);
    hideAdder();
    var first = selected ? field(form, "body") : field(form, "exact");
    first.focus({ preventScroll: true });
  }

  function closeEditor() {
    var section = document.getElementById("annotation-form");
    if (!section || !section.classList.contains("open")) return;
    section.classList.remove("open", "has-selection");
    var origin = editorOrigin;
    editorOrigin = null;
    if (origin && origin.container) {
      enterSelectMode(origin.container, origin);
    } else if (origin && document.body.contains(origin)) {
      origin.focus();
    }
  }

  // The "Annotate" control

  function showAdder(selected) {
    if (!adder) {
      adder = document.createElement("button");
      adder.type = "button";
      adder.className = "annotate-button";
      adder.textContent = "Annotate (A)";
      adder.addEventListener("mousedown", function (event) { event.preventDefault(); });
      adder.addEventListener("click", function () {
        openEditor(pending, caret ? caretOrigin() : null);
        leaveSelectMode(false);
      });
      document.body.appendChild(adder);
    }
    pending = selected;
    adder.hidden = false;
    var last = selected.last;
    var width = adder.offsetWidth;
    var left = Math.min(last.right - width / 2, document.documentElement.clientWidth - width - 8);
    adder.style.top = window.scrollY + last.bottom + 6 + "px";
    adder.style.left = window.scrollX + Math.max(8, left) + "px";
  }

  function hideAdder() {
    if (adder) adder.hidden = true;
  }

  function onSelectionEnd() {
    var selected = currentSelection();
    if (selected) showAdder(selected);
    else hideAdder();
  }

  // Selecting words with the keyboard

  var WORD = /[\p{L}\p{N}\p{M}_'’\-\uD800-\uDFFF]/u;
  function isWord(ch) { return WORD.test(ch); }
  function nextWordStart(t, i) {
    while (i < t.length && isWord(t[i])) i++;
    while (i < t.length && !isWord(t[i])) i++;
    return i;
  }
  function wordEndAfter(t, i) {
    while (i < t.length && !isWord(t[i])) i++;
    while (i < t.length && isWord(t[i])) i++;
    return i;
  }
  function previousWordStart(t, i) {
    while (i > 0 && !isWord(t[i - 1])) i--;
    while (i > 0 && isWord(t[i - 1])) i--;
    return i;
  }
  function previousWordEnd(t, i) {
    while (i > 0 && isWord(t[i - 1])) i--;
    while (i > 0 && !isWord(t[i - 1])) i--;
    return i;
  }

  // The text node and offset at UTF-16 index `i` of the container's text.
  function pointAt(container, i) {
    var walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
    var base = 0;
    var last = null;
    while (walker.nextNode()) {
      var node = walker.currentNode;
      if (i < base + node.data.length) return [node, i - base];
      base += node.data.length;
      last = node;
    }
    return last ? [last, last.data.length] : [container, 0];
  }

  function caretOrigin() {
    return { container: caret.container, anchor: caret.anchor, focus: caret.focus };
  }

  function drawCaret() {
    var container = caret.container;
    var point = pointAt(container, caret.focus);
    var anchorPoint = pointAt(container, caret.anchor);
    window.getSelection().setBaseAndExtent(anchorPoint[0], anchorPoint[1], point[0], point[1]);
    var range = document.createRange();
    range.setStart(point[0], point[1]);
    var rect = range.getClientRects()[0];
    if (!rect || (!rect.height && !rect.width)) {
      // At the very end of a text node a collapsed range has no box: take the character before it.
      if (point[1] > 0) range.setStart(point[0], point[1] - 1);
      range.setEnd(point[0], Math.min(point[0].data ? point[0].data.length : 0, point[1] + (point[1] > 0 ? 0 : 1)));
      var box = range.getBoundingClientRect();
      rect = { left: point[1] > 0 ? box.right : box.left, top: box.top, height: box.height };
    }
    if (!caret.element) {
      caret.element = document.createElement("span");
      caret.element.className = "keyboard-caret";
      caret.element.setAttribute("aria-hidden", "true");
      document.body.appendChild(caret.element);
    }
    caret.element.style.left = window.scrollX + rect.left - 1 + "px";
    caret.element.style.top = window.scrollY + rect.top + "px";
    caret.element.style.height = (rect.height || 20) + "px";
  }

  function describeCaret() {
    var text = caret.container.textContent;
    if (caret.anchor !== caret.focus) {
      var a = Math.min(caret.anchor, caret.focus);
      var b = Math.max(caret.anchor, caret.focus);
      return "Selected: " + text.slice(a, b).trim();
    }
    var end = wordEndAfter(text, caret.focus);
    var word = text.slice(caret.focus, end).trim();
    return word ? "Before “" + word + "”" : "End of the wording";
  }

  function modeButton() {
    return document.querySelector("[data-select-mode]");
  }

  function enterSelectMode(container, at) {
    if (!container) return;
    if (caret && caret.container !== container) leaveSelectMode(false);
    var start = 0;
    var end = 0;
    if (at) {
      start = at.anchor;
      end = at.focus;
    } else {
      var selection = window.getSelection();
      if (selection.rangeCount && annotatableOf(selection.getRangeAt(0).startContainer) === container) {
        var range = selection.getRangeAt(0);
        start = window.GlossaSelection.utf16OffsetOf(container, range.startContainer, range.startOffset);
        end = window.GlossaSelection.utf16OffsetOf(container, range.endContainer, range.endOffset);
      }
    }
    caret = caret || { element: null };
    caret.container = container;
    caret.anchor = start;
    caret.focus = end;
    container.setAttribute("tabindex", "0");
    container.setAttribute("role", "textbox");
    container.setAttribute("aria-readonly", "true");
    container.setAttribute("aria-multiline", "true");
    container.setAttribute("aria-labelledby", "wording-heading");
    container.setAttribute("aria-describedby", "keyboard-help");
    container.classList.add("selecting");
    var button = modeButton();
    if (button) button.setAttribute("aria-pressed", "true");
    container.focus({ preventScroll: true });
    drawCaret();
    if (caret.anchor !== caret.focus) onSelectionEnd();
    announce(describeCaret());
  }

  function leaveSelectMode(returnFocus) {
    if (!caret) return;
    // Taken first: removing the tabindex of the focused wording blurs it, and the focusout listener
    // comes back here.
    var left = caret;
    caret = null;
    var container = left.container;
    ["tabindex", "role", "aria-readonly", "aria-multiline", "aria-labelledby", "aria-describedby"].forEach(
      function (name) { container.removeAttribute(name); }
    );
    container.classList.remove("selecting");
    if (left.element) left.element.remove();
    var button = modeButton();
    if (button) {
      button.setAttribute("aria-pressed", "false");
      if (returnFocus) button.focus();
    }
  }

  function onCaretKey(event) {
    if (!caret || event.currentTarget !== caret.container) return;
    var text = caret.container.textContent;
    var key = event.key;
    var moved = true;
    if (key === "ArrowRight" || key === "ArrowDown") {
      if (event.shiftKey) {
        caret.focus = caret.focus < caret.anchor
          ? Math.min(caret.anchor, nextWordStart(text, caret.focus)) : wordEndAfter(text, caret.focus);
      } else {
        caret.focus = caret.anchor !== caret.focus ? Math.max(caret.anchor, caret.focus) : nextWordStart(text, caret.focus);
        caret.anchor = caret.focus;
      }
    } else if (key === "ArrowLeft" || key === "ArrowUp") {
      if (event.shiftKey) {
        caret.focus = caret.focus > caret.anchor
          ? Math.max(caret.anchor, previousWordEnd(text, caret.focus)) : previousWordStart(text, caret.focus);
      } else {
        caret.focus = caret.anchor !== caret.focus ? Math.min(caret.anchor, caret.focus) : previousWordStart(text, caret.focus);
        caret.anchor = caret.focus;
      }
    } else if (key === "Home" || key === "End") {
      caret.focus = key === "Home" ? 0 : text.length;
      if (!event.shiftKey) caret.anchor = caret.focus;
    } else if (key === "Escape") {
      event.preventDefault();
      hideAdder();
      leaveSelectMode(true);
      return;
    } else if (key === "Enter" || ((key === "a" || key === "A") && !event.ctrlKey && !event.metaKey && !event.altKey)) {
      event.preventDefault();
      event.stopPropagation();
      var selected = currentSelection();
      if (selected) {
        var origin = caretOrigin();
        leaveSelectMode(false);
        openEditor(selected, origin);
      } else {
        announce("Select words first: Shift with the arrow keys.");
      }
      return;
    } else {
      moved = false;
    }
    if (!moved) return;
    event.preventDefault();
    drawCaret();
    onSelectionEnd();
    announce(describeCaret());
  }

  // Listeners on the document: the elements they concern are swapped by HTMX.

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-select-mode]");
    if (toggle) {
      if (caret) leaveSelectMode(true);
      else enterSelectMode(document.getElementById("wording"));
      return;
    }
    var typed = event.target.closest("[data-type-words]");
    if (typed) {
      leaveSelectMode(false);
      openEditor(null, typed, typed.getBoundingClientRect());
      return;
    }
    if (event.target.closest("[data-editor-close]")) {
      closeEditor();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (caret && event.target === caret.container) {
      onCaretKey({
        key: event.key, shiftKey: event.shiftKey, ctrlKey: event.ctrlKey, metaKey: event.metaKey,
        altKey: event.altKey, currentTarget: event.target,
        preventDefault: function () { event.preventDefault(); },
        stopPropagation: function () { event.stopPropagation(); }
      });
      return;
    }
    var inForm = event.target.closest && event.target.closest("form");
    if (inForm && event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.matches("textarea")) {
      event.preventDefault();
      inForm.requestSubmit();
      return;
    }
    if (event.key === "Escape") {
      var editing = event.target.closest && event.target.closest(".card-editing, .card-confirm, .reply-form");
      if (editing) {
        var cancel = Array.prototype.find.call(editing.querySelectorAll("a"), function (a) {
          return a.textContent.trim() === "Cancel";
        });
        if (cancel) cancel.click();
        return;
      }
      if (event.target.closest && event.target.closest("#annotation-form.open")) {
        closeEditor();
        return;
      }
      hideAdder();
      return;
    }
    var typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "a" || event.key === "A") {
      var selected = currentSelection();
      if (selected) {
        event.preventDefault();
        openEditor(selected, null);
      }
    }
  });

  document.addEventListener("focusout", function (event) {
    if (caret && event.target === caret.container) {
      var next = event.relatedTarget;
      if (!next || (!caret.container.contains(next) && next !== adder)) leaveSelectMode(false);
    }
  });

  // Typing the words by hand (no selection) must not keep offsets from an earlier selection.
  document.addEventListener("input", function (event) {
    if (event.target.name === "exact") {
      var form = event.target.form;
      ["start", "end", "excerpt", "language"].forEach(function (name) { field(form, name).value = ""; });
    }
  });

  document.addEventListener("mouseup", function () { window.setTimeout(onSelectionEnd, 0); });
  document.addEventListener("keyup", function (event) {
    if (caret) return;
    if (event.shiftKey || event.key === "Shift") onSelectionEnd();
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
    if (mark && window.getSelection().isCollapsed && !caret) {
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

  // Focus after HTMX swaps

  var ACTION = /\/annotations\/(\d+)\/(edit|delete|reply|restore|submit|hide)\/(\?|$)/;
  var request = null;

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var card = elt.closest && elt.closest("li[id^='annotation-']");
    var active = document.activeElement;
    request = {
      xhr: event.detail.xhr,
      card: card ? card.id : null,
      control: active && active.name && active.closest("form.filters") ? active.name : null,
      fromEditor: Boolean(elt.closest && elt.closest("#annotation-form"))
    };
  });

  function firstInvalid(root) {
    return root && (root.querySelector("[aria-invalid='true']") || root.querySelector(".form-errors"));
  }

  document.body.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail;
    if (!request || detail.xhr !== request.xhr) return;
    var done = request;
    request = null;
    var status = detail.xhr.status;
    var path = detail.requestConfig ? detail.requestConfig.path : "";
    var verb = detail.requestConfig ? detail.requestConfig.verb : "get";
    var action = ACTION.exec(path);
    hideAdder();

    if (done.fromEditor) {
      var section = document.getElementById("annotation-form");
      if (status >= 400) {
        section.classList.add("open");
        placeEditor(section, lastPlace);
        focusOn(firstInvalid(section));
      } else {
        editorOrigin = null;
        var created = document.querySelector("#cards .card-new:not([data-seen])");
        if (created) {
          created.dataset.seen = "1";
          focusOn(created);
          flash(created);
        }
      }
      return;
    }
    if (action) {
      var pk = action[1];
      var what = action[2];
      var card = document.getElementById("annotation-" + pk);
      if (what === "edit" && (verb === "get" || status >= 400)) {
        focusOn(firstInvalid(card) || (card && card.querySelector("textarea")));
      } else if (what === "delete" && verb === "get") {
        focusOn(card && card.querySelector("button[type=submit]"));
      } else if (what === "delete") {
        focusOn(document.querySelector("#deleted-" + pk + " button") || document.getElementById("cards-heading"));
      } else if (what === "reply" && (verb === "get" || status >= 400)) {
        focusOn(card && card.querySelector(".reply-slot textarea"));
      } else if (what === "hide") {
        focusOn(document.getElementById("cards-heading"));
      } else {
        // A save, a submission, a reply saved, an undone deletion: the card itself.
        focusOn(card || (done.card && document.getElementById(done.card)));
      }
      return;
    }
    if (done.control) {
      focusOn(document.querySelector("form.filters [name='" + done.control + "']"));
    } else if (done.card && document.getElementById(done.card)) {
      // Cancel on an editor, a confirmation or a reply: back to the card it was on.
      focusOn(document.getElementById(done.card));
    } else {
      focusOn(document.getElementById("cards-heading"));
    }
  });

  window.addEventListener("resize", function () {
    var section = document.getElementById("annotation-form");
    if (section && section.classList.contains("open")) placeEditor(section, lastPlace);
    if (caret) drawCaret();
  });
})();
