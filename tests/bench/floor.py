"""The floor: a one-line Django view served by the app's own settings and middleware.

Started as a second gunicorn (``tests.bench.floor:application`` with
``DJANGO_SETTINGS_MODULE=tests.bench.floor_settings``), which is ``treaty_app.settings`` with only
``ROOT_URLCONF`` pointing here: ``/bench/floor/`` answers ``ok`` in front of the app's real URLs, so a
request pays for the same middleware stack (sessions, CSRF, CSP, HTMX, history...) and nothing else.
The app's own urls.py is untouched.
"""

from django.core.wsgi import get_wsgi_application

# Set Django up before importing the app's URLs (gunicorn imports this module first).
application = get_wsgi_application()

from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

from treaty_app.urls import urlpatterns as app_urlpatterns  # noqa: E402


def floor(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/floor/", floor), *app_urlpatterns]
