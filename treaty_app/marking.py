"""Split a text into paragraphs of marked and unmarked runs, for templates to render without |safe."""


def mark_spans(text, spans):
    """Paragraphs (split on blank lines) as lists of (run, item) pairs; item is None outside every span.

    `spans` are (start, end, item) with offsets into `text`; a span overlapping an earlier one
    is cut to where the earlier one ends, so every character belongs to at most one span.
    """
    runs, cursor = [], 0
    for start, end, item in sorted(spans, key=lambda span: (span[0], -span[1])):
        start = max(start, cursor)
        if start >= end:
            continue
        if start > cursor:
            runs.append((text[cursor:start], None))
        runs.append((text[start:end], item))
        cursor = end
    if cursor < len(text):
        runs.append((text[cursor:], None))

    paragraphs, current = [], []
    for run, item in runs:
        pieces = run.split("\n\n")
        for i, piece in enumerate(pieces):
            if i:
                if current:
                    paragraphs.append(current)
                current = []
            if piece:
                current.append((piece, item))
    if current:
        paragraphs.append(current)
    return paragraphs
