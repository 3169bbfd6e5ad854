"""What a W3C Annotation Protocol client sends (POST to the container, PUT to an annotation), turned
into the arguments of the write functions and checked by the workspace's own forms.

Reading is `w3c_reader`'s, as for a file import: the model's MUST assertions, then Glossa's rules
(one target on a Glossa text, a quote and/or a position, a Markdown or plain-text note, tagging
bodies). Target IRIs are resolved as the importer resolves them (`w3c_import.resolve_targets`).
Then the values go through `AnnotationForm`, `AnnotationEditForm` or `ReplyForm` exactly as the
workspace posts them, so the length of a note, the tags, the assessment, the words and the pairing
obey one set of rules whatever the door. Nothing here writes.

A refusal is `InputRefused`, with the sentence for the client and the status (400 for JSON that is
not an annotation, 403 for what only a curator may do, 409 for words no longer in the wording,
422 for what the forms refuse).
"""

from dataclasses import dataclass

from django.utils import timezone

from treaty_app.models import Excerpt, ExcerptLink

from . import w3c_reader
from .anchoring import AnchorError, Placement, check_span, reanchor
from .forms import AnnotationEditForm, AnnotationForm, NoteFields, ReplyForm
from .models import Annotation, Tag
from .w3c_import import resolve_targets
from .w3c_reader import W3CImportError

# A POST need not name the annotation: the server gives it its IRI. The reader wants an id to name
# it by in its messages.
_UNNAMED = "urn:glossa:posted-annotation"


class InputRefused(Exception):
    def __init__(self, message, status=422):
        super().__init__(message)
        self.message, self.status = message, status


@dataclass
class NewAnnotation:
    """The arguments of writes.create (as the form cleaned them)."""

    target: object
    start: int
    end: int
    exact: str
    body: str
    tags: list
    new_tags: list
    visibility: str
    assessment: dict
    counterpart: int | None
    canonical: str


@dataclass
class NewReply:
    parent_pk: int
    body: str
    canonical: str


@dataclass
class Edit:
    """The arguments of writes.edit, but for the version (from If-Match)."""

    body: str
    tags: list
    new_tags: list
    visibility: str | None
    assessment: dict | None


def read_item(document, current=None):
    """The one annotation a client sent (parsed JSON), read by the importer's reader; `current` is
    the annotation a PUT replaces (a published one is sent back as it was read: public)."""
    if not isinstance(document, dict):
        raise InputRefused("Send one annotation, a JSON object.", 400)
    document = {"id": _UNNAMED, **document}
    try:
        item = w3c_reader.read(document, now=timezone.now()).items[0]
    except W3CImportError as error:
        raise InputRefused(_sentence(error.message), 400) from None
    if item.review != Annotation.Review.NONE or any((item.hidden, item.deleted, item.reviewed, item.reviewed_by)):
        raise InputRefused("Review, hiding and deletion are a curator's: leave the glossa:review, glossa:hidden "
                           "and glossa:deleted terms out.", 403)
    already_public = current is not None and current.visibility == Annotation.Visibility.PUBLIC
    if item.visibility == Annotation.Visibility.PUBLIC and not already_public:
        raise InputRefused("Only a curator's publication makes an annotation public: send glossa:visibility "
                           "“team” or “private”.", 403)
    return item


def _sentence(message):
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def for_create(document):
    """A POSTed annotation as `NewAnnotation` or `NewReply`."""
    item = read_item(document)
    if item.reply_to is not None:
        body = _valid(ReplyForm({"body": _reply_body(item)}))["body"]
        return NewReply(parent_pk=_annotation_pk(item.reply_to, "it replies to"), body=body, canonical=item.canonical)
    target = _target(item)
    provision, versions, excerpts = _form_context(target)
    start, end, exact = _span(item, target.text)
    data = {
        "exact": exact, "start": start, "end": end, "body": item.body,
        "visibility": item.visibility,
        "excerpt": target.pk if isinstance(target, Excerpt) else "",
        "language": getattr(target, "language", "") if versions else "",
        **_tag_data(item),
        **_assessment_data(item),
    }
    if item.counterpart:
        data["counterpart"] = _annotation_pk(item.counterpart, "glossa:counterpart names")
    form = AnnotationForm(data, provision=provision, excerpts=excerpts, versions=versions)
    if item.counterpart and "counterpart" not in form.fields:
        raise InputRefused("Only words of a provision with another language version can be paired: this text has "
                           "none to pair with (glossa:counterpart).", 409)
    _known_assessment(item, form)
    cleaned = _valid(form)
    return NewAnnotation(
        target=cleaned["target"], start=cleaned["start"], end=cleaned["end"], exact=cleaned["exact"],
        body=cleaned["body"], tags=list(cleaned["tags"]), new_tags=cleaned["new_tags"],
        visibility=cleaned["visibility"], assessment=cleaned["assessment"], counterpart=cleaned.get("counterpart"),
        canonical=item.canonical,
    )


def for_replace(document, annotation):
    """A PUT of `annotation` as `Edit`: its note, tags, visibility and assessment may change; its
    target may not (place it again in the workspace)."""
    item = read_item(document, current=annotation)
    if item.id != _UNNAMED and w3c_reader.glossa_annotation_pk(item.id) != annotation.pk:
        raise InputRefused(f"The annotation sent has the id {item.id}: a PUT replaces the annotation at its own "
                           "address, so send its id or none.", 400)
    if annotation.parent_id is not None:
        if item.reply_to is None or _annotation_pk(item.reply_to, "it replies to") != annotation.parent_id:
            raise InputRefused("A reply keeps the note it answers: its target must stay that annotation.", 409)
        form = ReplyForm({"body": _reply_body(item)})
        return Edit(body=_valid(form)["body"], tags=[], new_tags=[], visibility=None, assessment=None)
    if item.reply_to is not None:
        raise InputRefused("An annotation cannot become a reply.", 409)
    target = _target(item)
    if not _same_target(item, target, annotation):
        raise InputRefused("An annotation keeps its target: send the same source and selectors (place it again "
                           "in the workspace to move it).", 409)
    data = {"body": item.body, "visibility": item.visibility, "version": annotation.version,
            **_tag_data(item), **_assessment_data(item)}
    form = AnnotationEditForm(data, instance=annotation)
    _known_assessment(item, form)
    cleaned = _valid(form)
    public = annotation.visibility == Annotation.Visibility.PUBLIC
    return Edit(body=cleaned["body"], tags=list(cleaned["tags"]), new_tags=cleaned["new_tags"],
                visibility=None if public else cleaned["visibility"], assessment=cleaned["assessment"])


def _valid(form):
    if form.is_valid():
        return form.cleaned_data
    problems = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = "" if name == "__all__" else f"{(field and field.label) or name}: "
        problems += [f"{label}{error}" for error in errors]
    raise InputRefused(" ".join(problems))


def _annotation_pk(iri, what):
    pk = w3c_reader.glossa_annotation_pk(iri)
    if pk is None or pk > w3c_reader.PK_MAX:
        raise InputRefused(f"{what.capitalize()} {iri}, which is not a Glossa annotation's IRI.")
    return pk


def _reply_body(item):
    if item.tags:
        raise InputRefused("A reply has no tags: send its text alone.")
    return item.body


def _target(item):
    try:
        resolve_targets([item])
    except W3CImportError as error:
        raise InputRefused(_sentence(error.message), 404) from None
    return item.language_version or item.excerpt or item.provision


def _form_context(target):
    """The provision, language versions and excerpts an AnnotationForm on `target` is shown with."""
    if isinstance(target, Excerpt):
        link = (ExcerptLink.objects.approved().filter(excerpt=target).select_related("provision__treaty")
                .order_by("provision__position").first())
        if link is None:
            raise InputRefused("This commentary excerpt is linked to no provision yet: it cannot be annotated.", 409)
        return link.provision, [], [target]
    provision = getattr(target, "provision", target)
    return provision, list(provision.language_versions.all()), []


def _span(item, text):
    """Where the annotation's words stand in `text`: its position when its quote is there, else
    where its quote is found (once, with its context); 409 when the words are not in the wording."""
    if not text:
        raise InputRefused("Glossa holds no wording of this text to annotate.", 409)
    if item.whole:
        return 0, len(text), text
    if item.start is not None and not item.exact:
        if item.end > len(text):
            raise InputRefused(f"The TextPositionSelector {item.start}–{item.end} lies outside the wording "
                               f"({len(text)} characters).", 409)
        return item.start, item.end, text[item.start:item.end]
    if not item.exact:
        raise InputRefused("Glossa places an annotation by a TextQuoteSelector or a TextPositionSelector.")
    if item.start is not None:
        try:
            check_span(text, item.start, item.end, item.exact)
            return item.start, item.end, item.exact
        except AnchorError:
            pass
    found = reanchor(text, exact=item.exact, prefix=item.prefix, suffix=item.suffix, old_start=item.start)
    if found.placement != Placement.ANCHORED or text[found.start:found.end] != item.exact:
        raise InputRefused("The TextQuoteSelector's words are not in the wording as it stands, or not in one "
                           "place its prefix and suffix tell: select them again.", 409)
    return found.start, found.end, item.exact


def _same_target(item, target, annotation):
    if (target.pk, type(target)) != _target_of(annotation):
        return False
    if item.whole:
        return False
    if item.exact and item.exact != annotation.exact:
        return False
    # A drifted or orphaned annotation has no position: a client sends back only its quote.
    return item.start is None or (item.start, item.end) == (annotation.start, annotation.end)


def _target_of(annotation):
    if annotation.language_version_id:
        return annotation.language_version_id, type(annotation.language_version)
    if annotation.provision_id:
        return annotation.provision_id, type(annotation.provision)
    return annotation.excerpt_id, Excerpt


def _tag_data(item):
    """The tags as the form takes them: the keys of those that exist (by the slug of their
    glossa:tag IRI, or by name), the names of the others as new tags."""
    slugs = [slug for slug, _ in item.tags]
    names = [name for _, name in item.tags]
    known = {}
    for tag in Tag.objects.filter(slug__in=slugs):
        known[tag.slug] = tag
    by_name = {tag.name.casefold(): tag for tag in Tag.objects.filter(name__in=names)}
    keys, new = [], []
    for slug, name in item.tags:
        tag = known.get(slug) or by_name.get(name.casefold())
        if tag is not None:
            keys.append(tag.pk)
        else:
            new.append(name)
    if any("," in name for name in new):
        raise InputRefused("A new tag's name cannot hold a comma.")
    return {"tags": keys, "new_tags": ", ".join(new)}


def _known_assessment(item, form):
    """The form reads only the scheme's fields: name any other rather than drop it."""
    unknown = sorted(set(item.assessment) - {field.slug for field in form.scheme.fields})
    if unknown:
        raise InputRefused(f"The assessment scheme has no field {', '.join(unknown)}.")


def _assessment_data(item):
    data = {}
    for field, value in item.assessment.items():
        data[NoteFields.ASSESSMENT_PREFIX + field] = value
    return data
