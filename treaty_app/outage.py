"""When the database is unreachable, answer 503 with Retry-After and a short page, and log it once.

A database that is down or restarting makes every request fail the same way. Answering each with
a 500 and a traceback (about 4 MB of log per server in 20 s) buries the one fact that matters;
this says it once when the outage starts and once when a request succeeds again.
"""

import logging
import threading
import time

from django.db import InterfaceError, OperationalError
from django.template.loader import render_to_string
from django.http import HttpResponse

RETRY_AFTER = 30  # seconds

logger = logging.getLogger("glossa.outage")

_lock = threading.Lock()
_since = None  # when this process saw the outage begin, or None


def _outage_began(error):
    global _since
    with _lock:
        if _since is not None:
            return
        _since = time.monotonic()
    logger.error("The database is unreachable (%s); answering 503 until it is back.", error)


def _outage_ended():
    global _since
    with _lock:
        if _since is None:
            return
        lasted, _since = time.monotonic() - _since, None
    logger.warning("The database is reachable again after %.0f s.", lasted)


def unavailable_response():
    html = render_to_string("503.html", {"retry_after": RETRY_AFTER})
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def database_outage(get_response):
    def middleware(request):
        response = get_response(request)
        if _since is not None and response.status_code < 500:
            _outage_ended()
        return response

    def process_exception(request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)) and not _is_query_error(exception):
            _outage_began(exception)
            return unavailable_response()
        return None

    middleware.process_exception = process_exception
    return middleware


def _is_query_error(exception):
    """OperationalError also covers a lock timeout or a cancelled query: those are not outages."""
    code = getattr(getattr(exception, "__cause__", None), "sqlstate", None) or ""
    # Class 08 is "connection exception"; 57P0x are administrator shutdown and cannot-connect-now.
    if code:
        return not (code.startswith("08") or code.startswith("57P"))
    text = str(exception).lower()
    return not any(
        marker in text for marker in ("connection", "could not connect", "server closed", "unable to open database")
    )
