from django.dispatch import Signal

# Sent with provision, old_text and report when import_treaty replaces a provision's wording,
# inside the import's transaction: receivers (the annotations app re-anchors) may add notes to
# the report, and an exception from one undoes the whole import.
wording_changed = Signal()
