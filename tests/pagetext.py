"""The text of one element of a rendered page, as the DOM's textContent gives it.

W3C selectors index a provision's (or an excerpt's) stored text, and a client anchors them in the
textContent of the element a target's source names. These helpers let test-client tests compare the
two without a browser; the browser tests (test_w3c_anchoring.py) check the same in Chromium.
"""

from html.parser import HTMLParser

# A full-text wording of three paragraphs whose code points and UTF-16 units differ: emoji flags (two
# surrogate pairs each), a thumbs-up, Cyrillic and Korean; the second paragraph also has a line break.
WORDING = "\n\n".join([
    "Article 90 🇰🇵🇷🇺",
    "The Parties — 조선민주주의인민공화국 and Российская Федерация — shall consult 👍 without delay.\n"
    "A second line, in the same paragraph.",
    "Статья 4: 어느 한 당사자가 무력침공을 받아 전쟁상태에 처하는 경우 🇰🇵 "
    "the other Party shall provide assistance.",
])
# Spans to annotate in WORDING, by their words (each occurs once): one across a paragraph break, one
# nested in another, one a lone flag after other flags, and the last words of the text.
WORDING_SPANS = [
    "🇷🇺\n\nThe Parties",
    "Российская Федерация — shall consult 👍",
    "Федерация",
    "경우 🇰🇵",
    "provide assistance.",
]

# Elements without an end tag: they hold no text and must not count as open.
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _ElementText(HTMLParser):
    def __init__(self, element_id):
        super().__init__(convert_charrefs=True)
        self.element_id = element_id
        self.found = 0
        self.depth = 0
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if dict(attrs).get("id") == self.element_id:
            self.found += 1
            if not self.depth:
                self.depth = tag not in _VOID
                return
        if self.depth:
            self.depth += tag not in _VOID

    def handle_startendtag(self, tag, attrs):
        self.found += dict(attrs).get("id") == self.element_id

    def handle_endtag(self, tag):
        if self.depth and tag not in _VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def text_content(html, element_id):
    """The textContent of the one element whose id is `element_id`; AssertionError if not exactly one."""
    if isinstance(html, bytes):
        html = html.decode()
    parser = _ElementText(element_id)
    parser.feed(html)
    parser.close()
    if parser.found != 1:
        raise AssertionError(f"{parser.found} elements have the id {element_id!r}, not one")
    return "".join(parser.parts)
