"""The site's own address, for the absolute URLs that pages and documents give out.

Built from settings.SITE_URL and never from the request's Host header: a page is cached for
every visitor, so one request that claimed another host would otherwise make that host the
one every later visitor is told to cite.
"""

from django.conf import settings


def site_url():
    """The scheme and host (and port) of the site, without a trailing slash."""
    return settings.SITE_URL


def absolute_url(path):
    """``path`` (as reverse() or get_absolute_url() gives it) as an absolute URL on this site."""
    return f"{settings.SITE_URL}/{path.lstrip('/')}"
