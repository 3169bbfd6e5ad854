"""The tags' highlight colours, as CSS rules written into the page's own <style> element.

In the page, not in a stylesheet of their own: a stylesheet at its own URL was one more request for
every workspace page, answered by the application (the session, the user and the tags read again),
and the first paint waited for it. The Content Security Policy lets the element through by its
nonce. Nothing in a rule can close the element: a slug is letters, digits, ``-`` and ``_``, and a
colour is ``#rrggbb`` (both checked by the database)."""

from django import template
from django.utils.safestring import mark_safe

from ..models import Tag

register = template.Library()


@register.simple_tag
def tag_colour_rules(vocabulary=None):
    """A rule per tag; `vocabulary`, every tag, when the page has read them already (the workspace)."""
    if vocabulary in (None, ""):  # "": a page with no such variable
        pairs = Tag.objects.values_list("slug", "colour")
    else:
        pairs = [(tag.slug, tag.colour) for tag in vocabulary]
    return mark_safe("\n".join(f".tag-{slug} {{ --tag-colour: {colour}; }}" for slug, colour in pairs))
