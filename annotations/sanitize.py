"""Annotation bodies: Markdown in, sanitised HTML out.

This is the only module that imports ``bleach``.  bleach is in maintenance mode; keeping it
behind :func:`render_markdown` means replacing it (e.g. with nh3) touches one file.

Two layers, so that a bug in either one alone does not become an XSS:

1. **Markdown** (Python-Markdown, ``sane_lists``).  Python-Markdown passes raw HTML
   through by design.  Here raw HTML in the source (block or inline, comments included) is
   reduced to its text before it re-enters the document: ``<b>bold</b>`` renders as the
   word "bold", never as live markup, and a ``<script>`` block as harmless escaped text.
   HTML entities such as ``&copy;`` are kept, they are text.  ``<`` inside code spans and
   blocks is escaped by Markdown itself.
2. **bleach**, with one cached :class:`bleach.Cleaner` per thread: only the tags in
   :data:`ALLOWED_TAGS`, only ``href``/``title`` on links, only the
   :data:`ALLOWED_PROTOCOLS` in ``href`` (checked case-insensitively, after entity
   decoding), disallowed tags stripped (their text kept), comments stripped.  Links whose ``href`` did not survive are unwrapped to plain text;
   every surviving link gets ``rel="nofollow noopener"``.  Bare ``http(s)://`` URLs and
   ``www.`` addresses in text are linkified, with the same ``rel`` (not inside code).

Markdown constructs outside the allowlist degrade to their text: headings become plain
text, images disappear (``<img>`` is not allowed), horizontal rules vanish.  The text of a
``<script>``/``<style>`` element pasted as raw HTML survives as inert, escaped text.
"""

import re
import threading
from html.parser import HTMLParser
from functools import lru_cache, partial

import bleach
import markdown
from bleach.linkifier import LinkifyFilter, build_url_re
from markdown.postprocessors import RawHtmlPostprocessor

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_PROTOCOLS", "ALLOWED_TAGS", "LINK_REL", "render_markdown"]

ALLOWED_TAGS = frozenset({"p", "br", "em", "strong", "ul", "ol", "li", "a", "blockquote", "code", "pre"})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"

# Compiled once (the TLD list makes it big); a compiled pattern is safe to share.
_URL_RE = build_url_re(protocols=["http", "https"])
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


class _RawHtmlAsText(RawHtmlPostprocessor):
    """Puts back what Markdown stashed as raw HTML, reduced to its (escaped) text."""

    def stash_to_string(self, text: object) -> str:
        # The stash holds raw HTML blocks, inline tags, comments and entities.  Entities are
        # text already; of the rest keep only the words, so pasted HTML loses its markup but
        # not the analyst's content.
        text = str(text)
        if _ENTITY.fullmatch(text):
            return text
        return bleach.clean(text, tags=set(), attributes={}, strip=True, strip_comments=True).strip()

    def isblocklevel(self, html: str) -> bool:
        # An emptied block (a comment, a lone tag) should vanish, not leave "<p></p>".
        return not html.strip() or super().isblocklevel(html)


def _markdown_to_html(source: str) -> str:
    # A Markdown instance carries per-document state and is not thread-safe, so build one
    # per call (cheap next to the parse itself).
    md = markdown.Markdown(extensions=["sane_lists"], output_format="html")
    # Same name and priority as the built-in, so it replaces it.
    md.postprocessors.register(_RawHtmlAsText(md), "raw_html", 30)
    return md.convert(source)


def _set_rel(attrs: dict, new: bool = False) -> dict | None:
    """bleach linkify callback: unwrap links without a (safe) href, add rel to the rest."""
    if not attrs.get((None, "href")):
        return None
    attrs[(None, "rel")] = LINK_REL
    return attrs


@lru_cache(maxsize=64)
def _cleaner_for_thread(thread_id: int) -> bleach.Cleaner:
    # Filters run after sanitising, so the callback sees only hrefs that passed the
    # protocol check; the URL pattern only knows http/https, so linkify cannot mint others.
    linkify = partial(
        LinkifyFilter,
        callbacks=[_set_rel],
        skip_tags={"pre", "code"},
        parse_email=False,
        url_re=_URL_RE,
    )
    return bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[linkify],
    )


def _cleaner() -> bleach.Cleaner:
    """The cached Cleaner for the current thread.

    bleach documents its Cleaner as not thread-safe (the parser keeps state), and Django
    may serve requests from several threads, so the cache is keyed by thread; bounded so
    that servers which start a thread per request cannot grow it without limit.
    """
    return _cleaner_for_thread(threading.get_ident())


def render_markdown(source: str) -> str:
    """Annotation body (Markdown) → sanitised HTML, safe to mark_safe."""
    if not source:
        return ""
    return _cleaner().clean(_markdown_to_html(source))


class _TextCollector(HTMLParser):
    """The text a reader sees of rendered HTML: character data, a space where a block ends."""

    BLOCKS = {"p", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "br", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append(" ")


def plain_text(html: str) -> str:
    """The words of rendered (sanitised) HTML as plain text, spaces collapsed: what search snippets show,
    so that no Markdown or markup reaches them."""
    collector = _TextCollector()
    collector.feed(html or "")
    collector.close()
    return " ".join("".join(collector.parts).split())
