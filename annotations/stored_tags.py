"""Each note's tag keys, stored on its own row (``Annotation.tag_keys``) and kept equal to its tags.

A page with thousands of notes read each one's tags by a lookup per row (the highlights' colours, the
cards' keys, the JSON-LD items), and the search's tag facet joined every match to the tag table; the
column puts them on the row. ``writes.store_tag_keys`` is the one way it is written, from the tags as
the database holds them, and it runs after every change of a note's tags:

* through the ORM on either side (``note.tags.set/add/remove/clear``, ``tag.annotations…``): the
  many-to-many signal, sent by writes.py's ``_set_tags``, the admin and fixtures alike;
* a tag deleted: its rows go by cascade, which sends no many-to-many signal, so the notes that carried
  it are found before the deletion and refreshed after it;
* the bulk inserts that write tag rows themselves (``writes.insert_imported``, the benchmark's corpus)
  set the column with ``writes.tag_keys_of`` as they make the rows.

Keys are ascending, joined by commas; "" for a note with no tags."""

from django.db.models.signals import m2m_changed, post_delete, pre_delete

from .writes import store_tag_keys


def _tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if reverse and action == "pre_clear":  # a tag's notes, cleared: after, nothing says which they were
        instance._notes_to_refresh = list(instance.annotations.values_list("pk", flat=True))
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:  # `instance` is the tag; pk_set, the notes
        store_tag_keys(pk_set if action != "post_clear" else instance.__dict__.pop("_notes_to_refresh", ()))
    else:
        instance.tag_keys = store_tag_keys([instance.pk])[instance.pk]


def _tag_deleting(sender, instance, **kwargs):
    instance._notes_to_refresh = list(instance.annotations.values_list("pk", flat=True))


def _tag_deleted(sender, instance, **kwargs):
    store_tag_keys(instance.__dict__.pop("_notes_to_refresh", ()))


def connect():
    from .models import Annotation, Tag

    m2m_changed.connect(_tags_changed, sender=Annotation.tags.through, dispatch_uid="annotations.stored-tags")
    pre_delete.connect(_tag_deleting, sender=Tag, dispatch_uid="annotations.stored-tags.deleting")
    post_delete.connect(_tag_deleted, sender=Tag, dispatch_uid="annotations.stored-tags.deleted")
