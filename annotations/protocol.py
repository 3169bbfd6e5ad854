"""The W3C Web Annotation Protocol (https://www.w3.org/TR/annotation-protocol/) at ``/annotations/``.

* ``/annotations/`` is an LDP Basic Container and an AnnotationCollection of every annotation the
  caller may read (`Annotation.objects.readable_by`, the one rule), paged by ``?page=N`` (from 1,
  `exporting.PAGE_SIZE` items); ``Prefer`` chooses what its representation embeds:
  ``PreferMinimalContainer`` (no page), ``PreferContainedIRIs`` (the first page's items as IRIs,
  also ``?iris=1`` on a page) or ``PreferContainedDescriptions`` (the default: whole annotations).
  POST creates an annotation (201, ``Location``); a ``Slug`` is not honoured (an annotation's IRI
  carries its number).
* ``/annotations/N`` is one annotation; PUT replaces its note, tags, visibility and assessment
  (``If-Match`` required: 428 without it, 412 when stale), DELETE deletes it as the workspace does
  (its author can undo that there).
* Every write goes through `writes` with the token owner as the person acting, so the workspace's
  rules hold: only a curator publishes (a client is refused 403), an edit of a published note
  becomes a revision for review, a stale version never overwrites. What a client sends is read and
  checked by `protocol_input` (the importer's reader and the workspace's forms).
* Authentication is a personal API token (`tokens`), never the session cookie: these views ignore
  it, so a page of another site cannot make a signed-in browser write (no CSRF to defend). Without
  a token a client reads what the public reads.
* CORS: any origin may read (with ``ETag``, ``Link``, ``Location``… exposed); a browser may write
  only from an origin of ``PROTOCOL_WRITE_ORIGINS``. Preflights are answered.
* Content negotiation: JSON-LD with the anno.jsonld profile (``application/ld+json``,
  ``application/json``), a 303 to the reading page for a browser asking for HTML, 406 otherwise.
"""

import hashlib
import re

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.http import parse_etags
from django.views.decorators.csrf import csrf_exempt

from treaty_app.site import site_url

from . import protocol_input, tokens, w3c_reader, writes
from .exporting import ANNO_CONTEXT, MEDIA_TYPE, PAGE_SIZE, Linker, annotation_to_w3c, dumps, for_export
from .models import Annotation

LDP = "http://www.w3.org/ns/ldp#"
PREFER_MINIMAL = f"{LDP}PreferMinimalContainer"
PREFER_IRIS = "http://www.w3.org/ns/oa#PreferContainedIRIs"
PREFER_DESCRIPTIONS = "http://www.w3.org/ns/oa#PreferContainedDescriptions"
CONTAINER_CONTEXT = [ANNO_CONTEXT, "http://www.w3.org/ns/ldp.jsonld"]
CONSTRAINED_BY = "http://www.w3.org/TR/annotation-protocol/"
CONTAINER_METHODS = "GET, HEAD, OPTIONS, POST"
ANNOTATION_METHODS = "GET, HEAD, OPTIONS, PUT, DELETE"
READ_METHODS = "GET, HEAD, OPTIONS"
OFFERED = [MEDIA_TYPE, "application/ld+json", "application/json", "text/html"]
JSON_TYPES = {"application/ld+json", "application/json"}
EXPOSED = "ETag, Link, Location, Allow, Accept-Post, Content-Location, Preference-Applied, Vary, Retry-After"
REQUEST_HEADERS = "Accept, Authorization, Content-Type, If-Match, If-None-Match, Prefer, Slug"
_INCLUDE = re.compile(r'include\s*=\s*"([^"]*)"')


class Refusal(Exception):
    def __init__(self, message, status, headers=None):
        super().__init__(message)
        self.message, self.status, self.headers = message, status, headers or {}


# --- Responses ------------------------------------------------------------------------------------


def _cors(request, response):
    origin = request.headers.get("Origin")
    if origin and origin in settings.PROTOCOL_WRITE_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = ", ".join(filter(None, [response.get("Vary"), "Origin"]))
    else:
        response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = EXPOSED
    return response


def _error(request, refusal):
    response = JsonResponse({"error": refusal.message}, status=refusal.status)
    for name, value in refusal.headers.items():
        response[name] = value
    return _cors(request, response)


def _etag(content, version=None):
    digest = hashlib.blake2b(content, digest_size=16).hexdigest()
    return f'"{version}-{digest}"' if version is not None else f'"{digest}"'


def _matches(header, etag):
    """Whether an If-Match or If-None-Match header names `etag` (or is ``*``), weak or strong: GZip
    makes the ETag of a compressed answer weak, and the client sends back what it got."""
    values = [value.removeprefix("W/") for value in parse_etags(header)]
    return "*" in values or etag in values


def _jsonld(request, document, *, links, allow, etag_version=None, status=200, vary="Accept"):
    content = dumps(document).encode()
    etag = _etag(content, etag_version)
    if status == 200 and _matches(request.headers.get("If-None-Match", ""), etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(content, status=status, content_type=MEDIA_TYPE)
    response["ETag"] = etag
    response["Content-Location"] = document["id"]  # the IRI of what was sent, as the Protocol asks
    response["Link"] = ", ".join(links)
    response["Allow"] = allow
    response["Vary"] = vary
    if request.headers.get("Authorization"):
        response["Cache-Control"] = "private"
    return response


def _options(request, allow):
    """A preflight (204) or a plain OPTIONS (200), both saying what the resource allows."""
    response = HttpResponse(status=204 if request.headers.get("Access-Control-Request-Method") else 200)
    origin = request.headers.get("Origin")
    response["Allow"] = allow
    response["Access-Control-Allow-Methods"] = allow if origin in settings.PROTOCOL_WRITE_ORIGINS else READ_METHODS
    response["Access-Control-Allow-Headers"] = REQUEST_HEADERS
    response["Access-Control-Max-Age"] = "600"
    if "POST" in allow:
        response["Accept-Post"] = MEDIA_TYPE
    return response


def _linker():
    return Linker(site_url())


def container_iri(linker):
    return linker.iri(reverse("reader:protocol-container"))


def annotation_iri(linker, pk):
    return linker.iri(reverse("reader:protocol-annotation", args=[pk]))


# --- Who is asking --------------------------------------------------------------------------------


def _caller(request, *, write=False):
    """The person a request acts as: its token's owner (the rate limit counted), or, for a read
    without a token, an anonymous visitor. The session is never used."""
    try:
        token = tokens.authenticate(request.headers.get("Authorization"))
        if token is None:
            if write:
                raise tokens.TokenRefused("Writing needs an API token: make one at /workspace/tokens/ and send it as "
                                          "“Authorization: Bearer glossa_…”.")
            return AnonymousUser()
        if write and not token.can_write:
            raise tokens.TokenRefused("This token may only read: make a read-and-write token to write.", 403)
        tokens.spend(token)
    except tokens.TokenRefused as refused:
        headers = {"WWW-Authenticate": 'Bearer realm="glossa"'} if refused.status == 401 else {}
        if refused.retry_after:
            headers["Retry-After"] = str(refused.retry_after)
        raise Refusal(refused.message, refused.status, headers) from None
    return token.user


def _check_origin(request):
    origin = request.headers.get("Origin")
    if origin and origin != site_url() and origin not in settings.PROTOCOL_WRITE_ORIGINS:
        raise Refusal(f"Pages from {origin} may read annotations but not write them.", 403)


def _wants(request):
    """"json" or "html", by the Accept header; a Refusal (406) for anything else."""
    chosen = request.get_preferred_type(OFFERED)
    if chosen is None:
        raise Refusal(f"Glossa serves annotations as {MEDIA_TYPE} (or HTML to a browser).", 406)
    return "html" if chosen == "text/html" else "json"


def _document_of(request):
    if request.content_type not in JSON_TYPES:
        raise Refusal(f"Send the annotation as {MEDIA_TYPE}.", 415, {"Accept-Post": MEDIA_TYPE})
    try:
        return w3c_reader.parse(request.body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Refusal("The request body is not UTF-8.", 400) from None
    except w3c_reader.W3CImportError as error:
        raise Refusal(f"The request body is not one annotation: {error.message}.", 400) from None


def protocol_view(view):
    """Token authentication (no session, so no CSRF), CORS and refusals as JSON, for every method."""

    @csrf_exempt
    def wrapper(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Refusal as refusal:
            return _error(request, refusal)
        except protocol_input.InputRefused as refused:
            return _error(request, Refusal(refused.message, refused.status))
        except writes.Refused as refused:
            return _error(request, Refusal(refused.message, refused.status))
        return _cors(request, response)

    wrapper.__name__, wrapper.__doc__ = view.__name__, view.__doc__
    return wrapper


# --- The container --------------------------------------------------------------------------------


@protocol_view
def container(request):
    """GET/HEAD the container or one of its pages; POST a new annotation; OPTIONS."""
    if request.method == "OPTIONS":
        return _options(request, CONTAINER_METHODS)
    if request.method == "POST":
        return _create(request)
    if request.method not in ("GET", "HEAD"):
        raise Refusal(f"The container takes {CONTAINER_METHODS}.", 405, {"Allow": CONTAINER_METHODS})
    if _wants(request) == "html":
        return _see_other(reverse("reader:home"))
    user = _caller(request)
    linker = _linker()
    visible = Annotation.objects.readable_by(user)
    total = visible.count()
    last = max(1, -(-total // PAGE_SIZE))
    page = request.GET.get("page")
    links = [f"<{LDP}BasicContainer>; rel=\"type\"", f"<{CONSTRAINED_BY}>; rel=\"{LDP}constrainedBy\""]
    if page is not None:
        number = _page_number(page, last)
        iris = request.GET.get("iris") == "1"
        document = {"@context": ANNO_CONTEXT, **_page(visible, linker, number, last, total, iris=iris)}
        response = _jsonld(request, document, links=[f"<{LDP}Page>; rel=\"type\""], allow=READ_METHODS)
        return response
    preference = _preference(request)
    document = {
        "@context": CONTAINER_CONTEXT,
        "id": container_iri(linker),
        "type": ["BasicContainer", "AnnotationCollection"],
        "label": "Annotations in Glossa",
        "total": total,
    }
    if total:
        if preference == PREFER_MINIMAL:
            document["first"] = _page_iri(linker, 1, iris=False)
        else:
            document["first"] = _page(visible, linker, 1, last, total, iris=preference == PREFER_IRIS, embedded=True)
        document["last"] = _page_iri(linker, last, iris=preference == PREFER_IRIS)
    response = _jsonld(request, document, links=links, allow=CONTAINER_METHODS, vary="Accept, Prefer")
    response["Accept-Post"] = MEDIA_TYPE
    if preference:
        response["Preference-Applied"] = "return=representation"
    return response


def _page_number(raw, last):
    if not raw.isdigit() or not 1 <= int(raw) <= last:
        raise Refusal(f"There is no page {raw!r}: pages are numbered 1 to {last}.", 404)
    return int(raw)


def _page_iri(linker, number, *, iris):
    return f"{container_iri(linker)}?page={number}" + ("&iris=1" if iris else "")


def _page(visible, linker, number, last, total, *, iris, embedded=False):
    """The container's page `number`: its annotations in key order, whole or as their IRIs."""
    start = (number - 1) * PAGE_SIZE
    page = {"id": _page_iri(linker, number, iris=iris), "type": "AnnotationPage"}
    if not embedded:
        page["partOf"] = {"id": container_iri(linker), "type": "AnnotationCollection", "total": total}
    page["startIndex"] = start
    if number > 1:
        page["prev"] = _page_iri(linker, number - 1, iris=iris)
    if number < last:
        page["next"] = _page_iri(linker, number + 1, iris=iris)
    if iris:
        keys = visible.order_by("pk").values_list("pk", flat=True)[start:start + PAGE_SIZE]
        page["items"] = [annotation_iri(linker, pk) for pk in keys]
    else:
        page["items"] = [_described(annotation, linker) for annotation in for_export(visible)[start:start + PAGE_SIZE]]
    return page


def _preference(request):
    """The Prefer header's choice among the three container preferences, or None."""
    for part in request.headers.get("Prefer", "").split(","):
        if "return=representation" not in part.replace(" ", ""):
            continue
        found = _INCLUDE.search(part)
        included = found[1].split() if found else []
        for choice in (PREFER_MINIMAL, PREFER_IRIS, PREFER_DESCRIPTIONS):
            if choice in included:
                return choice
    return None


def _see_other(location):
    response = HttpResponse(status=303)
    response["Location"] = location
    response["Vary"] = "Accept"
    return response


def _described(annotation, linker):
    """An annotation as the Protocol serves it: the export's, with the Protocol's IRIs for it (and
    the note it replies to), which dereference to it."""
    document = annotation_to_w3c(annotation, linker)
    document["id"] = annotation_iri(linker, annotation.pk)
    if annotation.parent_id:
        document["target"] = annotation_iri(linker, annotation.parent_id)
    return document


def _create(request):
    _check_origin(request)
    user = _caller(request, write=True)
    wanted = protocol_input.for_create(_document_of(request))
    if isinstance(wanted, protocol_input.NewReply):
        annotation = writes.reply(wanted.parent_pk, author=user, body=wanted.body, canonical=wanted.canonical)
    else:
        annotation = writes.create(author=user, **vars(wanted))
    response = _annotation_response(request, annotation.pk, user, status=201)
    response["Location"] = annotation_iri(_linker(), annotation.pk)
    return response


# --- One annotation -------------------------------------------------------------------------------


def _readable(pk, user):
    """The annotation `pk` as the export reads it, if `user` may read it; else a 404."""
    found = None
    if pk.isdigit() and int(pk) <= w3c_reader.PK_MAX:
        found = for_export(Annotation.objects.readable_by(user).filter(pk=int(pk))).first()
    if found is None:
        raise Refusal("There is no such annotation, or it is not yours to see.", 404)
    return found


def _annotation_response(request, pk, user, status=200):
    annotation = _readable(str(pk), user)
    document = {"@context": ANNO_CONTEXT, **_described(annotation, _linker())}
    return _jsonld(request, document, links=[f"<{LDP}Resource>; rel=\"type\""], allow=ANNOTATION_METHODS,
                   etag_version=annotation.version, status=status)


@protocol_view
def annotation(request, pk):
    """GET/HEAD, PUT, DELETE and OPTIONS of one annotation."""
    if request.method == "OPTIONS":
        return _options(request, ANNOTATION_METHODS)
    if request.method in ("GET", "HEAD"):
        kind = _wants(request)
        user = _caller(request)
        if kind == "html":
            found = _readable(pk, user)
            public = found.visibility == Annotation.Visibility.PUBLIC
            return _see_other(_linker().annotation_id(found) if public else found.get_absolute_url())
        return _annotation_response(request, pk, user)
    if request.method not in ("PUT", "DELETE"):
        raise Refusal(f"An annotation takes {ANNOTATION_METHODS}.", 405, {"Allow": ANNOTATION_METHODS})
    _check_origin(request)
    user = _caller(request, write=True)
    current = _readable(pk, user)
    version = _precondition(request, current, user, required=request.method == "PUT")
    edit = protocol_input.for_replace(_document_of(request), current) if request.method == "PUT" else None
    try:
        if edit is None:
            writes.delete(current.pk, by=user, version=version)
        else:
            writes.edit(current.pk, by=user, version=version, **vars(edit))
    except writes.Conflict as conflict:
        # Changed between the If-Match check and the write (the version is checked under the row's lock).
        raise Refusal(f"{conflict.message} Read it again (GET) and send its new ETag.", 412) from None
    if edit is None:
        return HttpResponse(status=204)
    return _annotation_response(request, current.pk, user)


def _precondition(request, current, user, *, required):
    """The version a write may change (If-Match names its representation), or None where none is
    needed; 428 when a PUT sends no If-Match, 412 when it names another representation."""
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise Refusal("Send If-Match with the ETag you read, so that no one's change is overwritten.", 428)
        return None
    document = {"@context": ANNO_CONTEXT, **_described(current, _linker())}
    if not _matches(header, _etag(dumps(document).encode(), current.version)):
        raise Refusal("The annotation changed since you read it (its ETag is not the one you sent): read it again.",
                      412)
    return current.version

