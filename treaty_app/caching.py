"""Conditional GET for public pages: an ETag and Last-Modified from the content version.

A revalidation costs one query and answers 304; any change to what pages show bumps the
version (see versioning.py), so nothing stale is ever confirmed.
"""

from functools import wraps

from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import condition

from .models import ContentVersion


def content_version(request):
    if not hasattr(request, "_content_version"):
        request._content_version = ContentVersion.current()
    return request._content_version


def page_etag(request, *args, **kwargs):
    version, _ = content_version(request)
    # The same URL differs by viewer (navigation, a logged-in user's own work) and by HTMX fragment.
    viewer = request.user.pk if request.user.is_authenticated else "public"
    fragment = "fragment" if getattr(request, "htmx", False) else "page"
    return f"v{version}-{viewer}-{fragment}"


def page_last_modified(request, *args, **kwargs):
    return content_version(request)[1]


def conditional_page(view):
    """ETag/Last-Modified revalidation and cache headers for a public, read-only page."""
    conditional_view = condition(etag_func=page_etag, last_modified_func=page_last_modified)(view)

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
