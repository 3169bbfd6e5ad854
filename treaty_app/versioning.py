"""Bump the content version whenever a model whose rows the pages show is saved or deleted."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import ContentVersion

WATCHED_APPS = {"treaty_app", "annotations"}


def content_changed(sender, **kwargs):
    if sender._meta.app_label in WATCHED_APPS and sender is not ContentVersion:
        ContentVersion.bump()


def connect():
    for signal in (post_save, post_delete, m2m_changed):
        signal.connect(content_changed, dispatch_uid=f"glossa.content_changed.{id(signal)}")
