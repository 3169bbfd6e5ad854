// Glossa: a text selection as W3C offsets, shared by the workspace and the pages that place an
// annotation again (window.GlossaSelection).
//
// Offsets: the browser counts UTF-16 code units, the W3C TextPositionSelector (and the server)
// count Unicode code points. toCodePoints() is the one place where one becomes the other.
// No inline script and no eval: this file works under the site's strict Content Security Policy.
(function () {
  "use strict";

  // UTF-16 length of the container's text between its start and a boundary point. A container's
  // textContent is the stored text (markers are CSS generated content), so nothing is skipped.
  function utf16OffsetOf(container, node, offset) {
    var range = document.createRange();
    range.setStart(container, 0);
    range.setEnd(node, offset);
    return range.toString().length;
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

  // {start, end, exact, rect}: the selected words of `container`, in code points of its
  // textContent, whitespace at either end trimmed; or null when nothing of it is selected.
  function spanIn(selection, container) {
    var clamped = clampedRange(selection, container);
    if (!clamped) return null;
    var text = container.textContent;
    var start16 = utf16OffsetOf(container, clamped.startContainer, clamped.startOffset);
    var end16 = utf16OffsetOf(container, clamped.endContainer, clamped.endOffset);
    while (start16 < end16 && /\s/.test(text[start16])) start16++;
    while (end16 > start16 && /\s/.test(text[end16 - 1])) end16--;
    if (start16 >= end16) return null;
    return {
      start: toCodePoints(text, start16),
      end: toCodePoints(text, end16),
      exact: text.slice(start16, end16),
      rect: clamped.getBoundingClientRect()
    };
  }

  window.GlossaSelection = {
    utf16OffsetOf: utf16OffsetOf,
    toCodePoints: toCodePoints,
    clampedRange: clampedRange,
    spanIn: spanIn
  };
})();
