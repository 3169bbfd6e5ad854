"""Content versions: which pages a change can alter, and how pages learn that it did.

Every public page shows content from a few *scopes*:

* ``treaty:<slug>``: one treaty's provisions and wording, the excerpt links to them, the
  cross-references from them, and the published annotations anchored on them;
* ``shared``: what any page may show whatever its treaty: commentary sources and excerpts (and
  the published annotations on excerpts), tags, user names, treaties' titles and provisions'
  labels as other treaties cite them.

A page's ETag and page-cache key are made of the versions of the scopes it shows (a provision page
shows its treaty's and ``shared``; a tag page or the JSON-LD collection shows every scope), so:

* a change is never served stale: whatever a page shows lies in a scope it reads, and the change
  bumps that scope in the same transaction as the change itself;
* a private or team edit bumps nothing: no public page can show it (the workspace and a signed-in
  user's JSON-LD are never cached);
* writers do not all queue on one row: a publication on one treaty locks that treaty's row only,
  for the last moment of its transaction (`deferred` takes the lock after every other).

Annotation writes name their scopes themselves (annotations/writes.py knows whether the public
could see the row before or after). Corpus rows, tags and users are watched here by signals.
"""

import threading
from contextlib import contextmanager
from functools import wraps

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from .models import (
    ContentVersion, CrossReference, Excerpt, ExcerptLink, LanguageVersion, Provision, QuotedPassage, Source, Treaty,
)

SHARED = "shared"

# Fields of a user that pages show; a save touching only others (last_login at each sign-in) changes nothing.
USER_FIELDS_SHOWN = {"username", "first_name", "last_name"}

_state = threading.local()


def treaty_scope(slug):
    return f"treaty:{slug}"


def changed(*scopes):
    """Mark these scopes changed, inside the caller's transaction (a rollback undoes the bump too).

    Within `deferred()`, the bump waits for the end of the block: row locks are then always taken
    in the same order (the writer's rows first, version rows last, sorted), so no two writers can
    deadlock on them, and each version row is locked only for the end of the transaction."""
    scopes = {scope for scope in scopes if scope}
    if not scopes:
        return
    pending = getattr(_state, "pending", None)
    if pending is not None:
        pending.update(scopes)
    else:
        _bump(scopes)


@contextmanager
def deferred():
    """Collect the bumps of the block and make them, once each, when it ends without error."""
    outer = getattr(_state, "pending", None)
    if outer is not None:  # already collecting: the outermost block bumps
        yield
        return
    _state.pending = set()
    try:
        yield
        pending = _state.pending
    finally:
        _state.pending = None
    if pending:
        _bump(pending)


def deferring(function):
    """`function` with its bumps made once each, at its end (see `deferred`)."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        with deferred():
            return function(*args, **kwargs)

    return wrapper


def _bump(scopes):
    table = connection.ops.quote_name(ContentVersion._meta.db_table)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        for scope in sorted(scopes):
            # One statement, safe when two writers create the same scope's row at once.
            cursor.execute(
                f"INSERT INTO {table} (scope, version, changed_at) VALUES (%s, 1, %s) "
                f"ON CONFLICT (scope) DO UPDATE SET version = {table}.version + 1, changed_at = %s",
                [scope, now, now],
            )


def current(scopes=None):
    """{scope: (version, changed_at)} for these scopes (every scope when None), in one query.

    Asked by every request for a public page (its ETag), one served from the page cache included; so
    the statement is written out once rather than built by a queryset each time, which was half of
    what a cached page cost (0.6 of 1.3 ms in process). Both databases' drivers hand back the change
    time as the ORM does (aware, in UTC); tests/test_public.py checks it."""
    meta = ContentVersion._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column for name in ("scope", "version", "changed_at")]
    sql = f"SELECT {', '.join(map(quote, columns))} FROM {quote(meta.db_table)}"
    params = []
    if scopes is not None:
        params = list(scopes)
        if not params:
            return {}
        sql += f" WHERE {quote(columns[0])} IN ({', '.join(['%s'] * len(params))})"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {scope: (version, changed_at) for scope, version, changed_at in rows}


# --- What each watched row's change touches --------------------------------------------------------


def _provision_scopes(provision):
    # A provision's label and heading show on other treaties' pages too (cross-references, sources).
    return [treaty_scope(provision.treaty.slug), SHARED]


def _link_scopes(link):
    return [treaty_scope(link.provision.treaty.slug), SHARED]


def _reference_scopes(reference):
    scopes = [treaty_scope(reference.provision.treaty.slug)]
    if reference.target_id:
        scopes.append(treaty_scope(reference.target.treaty.slug))
    return scopes


def _user_scopes(user, update_fields=None):
    if update_fields is not None and not (set(update_fields) & USER_FIELDS_SHOWN):
        return []
    return [SHARED]


WATCHED = {
    Treaty: lambda treaty: [treaty_scope(treaty.slug), SHARED],
    Provision: _provision_scopes,
    QuotedPassage: lambda passage: _provision_scopes(passage.provision),
    LanguageVersion: lambda version: _provision_scopes(version.provision),
    Source: lambda source: [SHARED],
    Excerpt: lambda excerpt: [SHARED],
    ExcerptLink: _link_scopes,
    CrossReference: _reference_scopes,
}


def watch(model, scopes_of):
    """Bump `scopes_of(instance)` whenever a `model` row is saved or deleted (other apps' models)."""
    WATCHED[model] = scopes_of
    _connect(model)


def _saved(sender, instance, update_fields=None, **kwargs):
    if sender is get_user_model():
        changed(*_user_scopes(instance, update_fields))
        return
    try:
        scopes = WATCHED[sender](instance)
    except ObjectDoesNotExist:
        # A row deleted with its treaty or provision: what it pointed at is gone, so change everything.
        scopes = [SHARED]
    changed(*scopes)


def _connect(model):
    uid = f"glossa.versioning.{model._meta.label}"
    post_save.connect(_saved, sender=model, dispatch_uid=f"{uid}.save")
    post_delete.connect(_saved, sender=model, dispatch_uid=f"{uid}.delete")


def connect():
    WATCHED[get_user_model()] = _user_scopes
    for model in WATCHED:
        _connect(model)
