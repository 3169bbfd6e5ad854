"""Word-level differences between two texts, as HTML: what a curator or an author reads to see what
changed (a pending revision against the published note, a provision's new wording against the old,
two renderings of one text)."""

import difflib

from django.utils.html import format_html_join


def word_diff(old, new):
    """HTML of `new` against `old`, word by word: <del> for words taken out, <ins> for words put in.

    Whitespace is not compared: paragraphs reflowed, or a space doubled, are not changes a reader
    looks for."""
    old_words, new_words = old.split(), new.split()
    parts = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for op, a, b, c, d in matcher.get_opcodes():
        if op in ("delete", "replace"):
            parts.append(("del", " ".join(old_words[a:b])))
        if op in ("insert", "replace"):
            parts.append(("ins", " ".join(new_words[c:d])))
        if op == "equal":
            parts.append(("span", " ".join(old_words[a:b])))
    return format_html_join(" ", "<{0}>{1}</{0}>", parts)
