from django.dispatch import Signal

# Sent by wording.save_wording with target (a Provision or an Excerpt), old_text, by and reason,
# inside its transaction, once the new text is saved: the annotations app re-anchors the notes on
# it and returns {placement: count}. An exception from a receiver undoes the whole change.
wording_changed = Signal()
