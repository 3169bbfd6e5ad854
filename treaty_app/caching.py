"""Conditional GET and a page cache for public pages, both keyed on the versions of what they show.

Each page names the content scopes it shows (versioning.py): a revalidation costs one query and
answers 304, and an anonymous visitor's page is rendered once per version of those scopes, then
served from the cache. Every change to what a page shows bumps one of its scopes in the change's
own transaction, so nothing stale is ever confirmed or served.

A page that says when it was read (a citation's access date) is `dated`: its ETag and cache key
also name the day, and it counts as modified at midnight, so no cached copy or 304 gives a reader
yesterday's date.

ETags are weak (``W/"…"``): HTML goes out gzipped to clients that accept it (GZipMiddleware) and
as it is to others, the same page in two encodings, so the tag promises the content, not the bytes.
Every response of a page, 200 or 304, compressed or not, then carries the same tag. Compression is
safe against BREACH (a secret in a compressed body read through its length, with a guess reflected
beside it): public pages hold no secret (no CSRF token, nothing of a session); pages for a signed-in
user hold a CSRF token, which Django masks afresh in every response, and GZipMiddleware adds up to
100 random bytes to each compressed response (Heal The Breach), so its length no longer follows
its content. Clients that do not ask for gzip (the benchmark's load generator sends
``Accept-Encoding: identity``) get the bytes uncompressed, as before.

A page that shows a signed-in user what only they may see (the JSON-LD, with their team's and
their own annotations) is `personal`: for them it is never cached nor revalidated, because no
version counts private and team writes.
"""

import hashlib
from datetime import datetime, time
from functools import wraps

from django.core.cache import cache
from django.http import QueryDict
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import condition

from . import versioning


def every_scope(request, **kwargs):
    return None


def treaty_scopes(request, treaty_slug, **kwargs):
    return [versioning.treaty_scope(treaty_slug), versioning.SHARED]


def shared_scope(request, **kwargs):
    return [versioning.SHARED]


def content_version(request, scopes):
    """(tag, last modified) of the versions of `scopes` (None: every scope), read once per request."""
    if not hasattr(request, "_content_version"):
        versions = versioning.current(scopes)
        if scopes is not None:
            # A scope nothing has changed yet has no row: version 0.
            versions = {scope: versions.get(scope, (0, None)) for scope in scopes}
        # The time as well as the number: numbers go back when a database is restored from a backup.
        signature = ",".join(
            f"{scope}={version}@{moment.timestamp() if moment else 0}"
            for scope, (version, moment) in sorted(versions.items())
        )
        tag = hashlib.blake2b(signature.encode(), digest_size=12).hexdigest()
        moments = [moment for _, moment in versions.values() if moment]
        request._content_version = tag, max(moments, default=None)
    return request._content_version


def access_date(request):
    """The day a `dated` page says it was read: one per request, whatever the clock does meanwhile."""
    if not hasattr(request, "_access_date"):
        request._access_date = timezone.localdate()
    return request._access_date


def declared_query(request, params):
    """Only the query parameters in ``params``: what a cached view is given as request.GET.

    A view cannot then depend on a parameter that its cache key leaves out."""
    query = QueryDict(mutable=True)
    for name in params:
        if name in request.GET:
            query.setlist(name, request.GET.getlist(name))
    query._mutable = False
    return query


def page_cache_key(request, etag):
    """The page cache's key: the ETag (versions, viewer, fragment), the path, and the declared query
    parameters' values (see declared_query), digested to a fixed length.

    Anything else in the URL (``?r=1``, ``?utm_source=…``) does not make a new entry."""
    query = sorted(request.GET.lists())
    digest = hashlib.blake2b(repr((request.path, query)).encode(), digest_size=16)
    return f"page:{etag}:{digest.hexdigest()}"


def conditional_page(view=None, *, scopes=every_scope, personal=False, params=(), dated=False):
    """ETag/Last-Modified revalidation, a per-version page cache and cache headers for a public page.

    `scopes(request, **url_kwargs)` names the content scopes the page shows (None: all of them).
    With `personal`, a signed-in user's request skips both (see the module docstring). `params`
    names the query parameters the view reads (``params=("page",)``): the view sees only those,
    and only their values make separate cache entries. A `dated` page shows `access_date(request)`
    (see the module docstring)."""
    if view is None:
        return lambda view: conditional_page(
            view, scopes=scopes, personal=personal, params=tuple(params), dated=dated
        )

    def version(request, *args, **kwargs):
        return content_version(request, scopes(request, **kwargs))

    def page_etag(request, *args, **kwargs):
        # The same URL differs by viewer (navigation, a signed-in user's name) and by HTMX fragment.
        viewer = request.user.pk if request.user.is_authenticated else "public"
        fragment = "fragment" if getattr(request, "htmx", False) else "page"
        day = f"-{access_date(request).isoformat()}" if dated else ""
        return f"v{version(request, *args, **kwargs)[0]}-{viewer}-{fragment}{day}"

    def page_last_modified(request, *args, **kwargs):
        moment = version(request, *args, **kwargs)[1]
        if dated:
            midnight = timezone.make_aware(datetime.combine(access_date(request), time.min))
            moment = max(moment, midnight) if moment else midnight
        return moment

    @wraps(view)
    def cached_for_visitors(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        key = page_cache_key(request, page_etag(request, *args, **kwargs))
        response = cache.get(key)
        if response is None:
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                cache.set(key, response, timeout=3600)
        return response

    def weak_etag(request, *args, **kwargs):
        return f'W/"{page_etag(request, *args, **kwargs)}"'

    conditional_view = condition(etag_func=weak_etag, last_modified_func=page_last_modified)(cached_for_visitors)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.GET = declared_query(request, params)
        signed_in = request.user.is_authenticated
        if signed_in and personal:
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
        else:
            response = conditional_view(request, *args, **kwargs)
            privacy = {"private": True} if signed_in else {"public": True}
            patch_cache_control(response, **privacy, max_age=0, must_revalidate=True)
        patch_vary_headers(response, ["Cookie", "HX-Request"])
        return response

    return wrapper
