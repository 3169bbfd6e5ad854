"""Keep annotations on their words when a provision's wording or an excerpt's text changes.

`treaty_app.wording.save_wording` sends `wording_changed`; this receiver places every annotation on
the text again through the one write module (`writes.reanchor_target`). A confident match moves
it; an ambiguous or weak one is never guessed: the annotation keeps its quote, loses its place,
and is listed for its author as drifted or orphaned. Nothing is deleted.
"""

from . import writes


def on_wording_changed(sender, *, target, old_text, by=None, reason="", **kwargs):
    why = f"Placed again: {reason}" if reason else "Placed again after the wording changed"
    return writes.reanchor_target(target, old_text=old_text, by=by, reason=why)
