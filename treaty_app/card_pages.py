"""Annotation cards a page at a time, with every highlight on every page.

A provision can carry thousands of annotations. Its page draws all their highlights (cheap: a few
bytes each, built in one pass) but only one page of cards (the costly part); a highlight whose card
is on another page links there (``?notes=3#annotation-17``), so every card is one click away with
or without JavaScript, and the page's cost does not grow with the cards it does not show.
"""

from django.http import Http404

CARDS_PER_PAGE = 50


class CardPages:
    """The pages of `keys` (annotation pks in reading order) and which one is shown."""

    def __init__(self, keys, raw_page, *, param="notes", size=CARDS_PER_PAGE, keep="", anchor="annotations-heading"):
        # `keep`: other query parameters the links keep ("tag=war&author=ana"), urlencoded;
        # `anchor`: the id the pager's links go to (the heading of the cards).
        self.keys, self.param, self.size, self.keep, self.anchor = list(keys), param, size, keep, anchor
        self.last = max(1, -(-len(self.keys) // size))
        self.number = self._number(raw_page)
        self.index = {key: position for position, key in enumerate(self.keys)}
        self._queries = {}
        start = (self.number - 1) * size
        self.shown = self.keys[start : start + size]
        self.first_shown = start + 1 if self.shown else 0
        self.last_shown = start + len(self.shown)

    def _number(self, raw):
        if raw in (None, ""):
            return 1
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.last:
            raise Http404(f"There is no page {raw[:20]!r} of annotations: pages go from 1 to {self.last}.")
        return int(raw)

    def page_of(self, key):
        return self.index[key] // self.size + 1 if key in self.index else None

    def href(self, key):
        """Where the card of `key` is: on this page, or on the page that shows it."""
        page = self.page_of(key)
        if page is None or page == self.number:
            return f"#annotation-{key}"
        return f"{self.query(page)}#annotation-{key}"

    def query(self, number):
        # Asked once per highlight (the links of those whose cards are elsewhere): made once per page.
        if number not in self._queries:
            parts = [part for part in (self.keep, f"{self.param}={number}" if number > 1 else "") if part]
            self._queries[number] = "?" + "&".join(parts)
        return self._queries[number]

    def range_of(self, number):
        """“51–100”: the annotations page `number` shows, counted from 1."""
        first = (number - 1) * self.size + 1
        return f"{first}–{min(number * self.size, self.total)}"

    @property
    def total(self):
        return len(self.keys)

    @property
    def paged(self):
        return self.last > 1

    @property
    def previous(self):
        """(query, range) of the page before, or None."""
        return (self.query(self.number - 1), self.range_of(self.number - 1)) if self.number > 1 else None

    @property
    def next(self):
        return (self.query(self.number + 1), self.range_of(self.number + 1)) if self.number < self.last else None
