"""W3C Web Annotation JSON-LD over HTTP (stubs until the export lands)."""

from django.http import HttpResponse
from django.views.decorators.http import require_safe


@require_safe
def collection_page(request):
    return HttpResponse("Not built yet.", status=501)


@require_safe
def provision_annotations(request, treaty_slug, provision_slug):
    return HttpResponse("Not built yet.", status=501)
