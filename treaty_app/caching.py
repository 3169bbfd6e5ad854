"""Conditional GET and a page cache for public pages, both keyed on the content version.

A revalidation costs one query and answers 304; an anonymous visitor's page is rendered once
per version and then served from the cache. Any change to what pages show bumps the version
(see versioning.py), so nothing stale is ever confirmed or served.
"""

from functools import wraps

from django.core.cache import cache
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import condition

from .models import ContentVersion


def content_version(request):
    if not hasattr(request, "_content_version"):
        request._content_version = ContentVersion.current()
    return request._content_version


def version_tag(request):
    version, changed_at = content_version(request)
    return f"{version}.{changed_at.timestamp() if changed_at else 0:.6f}"


def page_etag(request, *args, **kwargs):
    # The same URL differs by viewer (navigation, a logged-in user's own work) and by HTMX fragment.
    viewer = request.user.pk if request.user.is_authenticated else "public"
    fragment = "fragment" if getattr(request, "htmx", False) else "page"
    return f"v{version_tag(request)}-{viewer}-{fragment}"


def page_last_modified(request, *args, **kwargs):
    return content_version(request)[1]


def cached_for_visitors(view):
    """Serve anonymous visitors a page rendered once per content version."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        key = f"page:{page_etag(request)}:{request.get_full_path()}"
        response = cache.get(key)
        if response is None:
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                cache.set(key, response, timeout=3600)
        return response

    return wrapper


def conditional_page(view):
    """ETag/Last-Modified revalidation, a per-version page cache and cache headers for a public page."""
    conditional_view = condition(etag_func=page_etag, last_modified_func=page_last_modified)(
        cached_for_visitors(view)
    )

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = conditional_view(request, *args, **kwargs)
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, max_age=0, must_revalidate=True)
        else:
            patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        patch_vary_headers(response, ["Cookie", "HX-Request"])
        return response

    return wrapper
