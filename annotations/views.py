"""The analysts' workspace: a provision with its annotations, created and edited in place.

One function view serves each page and its HTMX fragment. Every form also works as a plain
post-and-redirect, so the workspace is usable without JavaScript.
"""

from collections import namedtuple
from functools import cache

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import caches
from django.core.cache.utils import make_template_fragment_key
from django.core.exceptions import ValidationError
from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget, trigger_client_event

from treaty_app import rules
from treaty_app.models import Excerpt, ExcerptLink, Provision, Treaty

from treaty_app.card_pages import CardPages
from treaty_app.marking import marked_paragraphs, marked_pieces, piece_cuts

from . import writes
from .card_keys import card_rows, named_tags, shown_vocabulary
from .forms import AnnotationEditForm, AnnotationForm, ReplyForm
from .models import UNDO_WINDOW, Annotation, Tag, tag_keys_in

team_required = permission_required("annotations.view_annotation", raise_exception=True)

WORKSPACE = "annotations/workspace.html"


def held_value(value, model, name):
    """`value` if the column `name` of `model` could hold it, else "": a filter with a NUL (which
    PostgreSQL refuses in a query), a lone surrogate or more characters than the column holds
    names nothing, and is dropped rather than echoed into every link and redirect."""
    try:
        return rules.clean_text(value, field=name, max_length=rules.max_length_of(model, name))
    except ValidationError:
        return ""


class Filters:
    """The tag, author and visibility filters, read from the query string."""

    def __init__(self, params):
        self.tag = held_value(params.get("tag", ""), Tag, "slug")
        self.author = held_value(params.get("author", ""), get_user_model(), "username")
        self.visibility = params.get("visibility", "")
        if self.visibility not in Annotation.Visibility.values:
            self.visibility = ""

    def apply(self, annotations):
        if self.tag:
            annotations = annotations.filter(tags__slug=self.tag)
        if self.author:
            annotations = annotations.filter(author__username=self.author)
        if self.visibility:
            annotations = annotations.filter(visibility=self.visibility)
        return annotations

    @property
    def active(self):
        return bool(self.tag or self.author or self.visibility)

    @property
    def query(self):
        params = {k: v for k, v in [("tag", self.tag), ("author", self.author), ("visibility", self.visibility)] if v}
        return f"?{urlencode(params)}" if params else ""


def get_provision(treaty_slug, provision_slug):
    """The provision with its treaty and language versions: the form, the highlights and a write's
    answer all ask for the versions, and read them once."""
    provisions = Provision.objects.select_related("treaty").prefetch_related("language_versions")
    return get_object_or_404(provisions, treaty__slug=treaty_slug, slug=provision_slug)


def workspace_url(provision, filters=None):
    url = reverse("annotations:workspace", args=[provision.treaty.slug, provision.slug])
    return url + (filters.query if filters else "")


# What a highlight needs of an annotation: where it is, the tag that colours it, and the text it is in
# (a language version's, or none: the provision's own wording; or a commentary excerpt's).
Span = namedtuple("Span", "pk start end tag_slug language_version_id")
ExcerptSpan = namedtuple("ExcerptSpan", "pk start end tag_slug excerpt_id")


def light_spans(annotations, tags, kind=Span):
    """Light rows (`kind`: Span, or ExcerptSpan for notes on excerpts) of these annotations, for
    highlights: one query, no model instances, with each one's first tag by name (the colour its
    highlight takes); `tags` is the vocabulary, in name order."""
    rank = {str(tag.pk): (position, tag.slug) for position, tag in enumerate(tags)}
    rows = annotations.with_tag_keys().values_list("pk", "start", "end", "tag_keys", kind._fields[-1])
    return [kind(pk, start, end, first_tag(keys, rank), text) for pk, start, end, keys, text in rows]


def first_tag(keys, rank):
    """The slug of the first by name of the tags whose pks `keys` joins ("3,7"), or None."""
    ranked = [rank[key] for key in tag_keys_in(keys) if key in rank]
    return min(ranked)[1] if ranked else None


def wording_state(request, provision, filters, tags=None, roots=None):
    """The highlights of the wording as `request.user` sees them, with the pages of their cards: what
    the workspace draws, and what an HTMX write sends again out of band. `tags`: the vocabulary, and
    `roots`: ``readable_by(request.user, roots=True)``, when the caller has read or built them."""
    if roots is None:
        roots = Annotation.objects.readable_by(request.user, roots=True)
    # The provision's own wording first, then each language version's: one query for all of them.
    on_provision = roots.filter(provision=provision).order_by(
        F("language_version").asc(nulls_first=True), F("start").asc(nulls_last=True), "end", "pk")
    spans = light_spans(filters.apply(on_provision), tags or Tag.objects.vocabulary())
    placed = [span for span in spans if span.start is not None]
    pages = CardPages([span.pk for span in placed], request.GET.get("cards"), param="cards",
                      keep=filters.query.removeprefix("?"), anchor="cards-heading")
    versions = list(provision.language_versions.all())
    own = [span for span in placed if span.language_version_id is None]
    options = {"anchors": True, "colours": True, "href": pages.href, "cache": caches["cards"]}
    if versions:
        # Beside its language versions, the wording is in paragraphs, aligned with theirs.
        html = paragraphs_html(provision.text, own, **options)
        for version in versions:
            on_version = [span for span in placed if span.language_version_id == version.pk]
            version.html = paragraphs_html(version.text, on_version, **options)
    else:
        html = mark_safe("".join(marked_pieces(provision.text, own, cuts=piece_cuts(len(provision.text)), **options)))
    return {"spans": spans, "pages": pages, "wording_html": html, "versions": versions}


def paragraphs_html(text, spans, **options):
    """`text` with its highlights as <p> elements with the text's blank line between them: the
    element's textContent stays the text."""
    return mark_safe("\n\n".join(f"<p>{paragraph}</p>" for paragraph in marked_paragraphs(text, spans, **options)))


def workspace_context(request, provision, filters, **extra):
    """Everything the workspace shows, in a fixed number of queries however many annotations there are.

    Every highlight is drawn, from light rows; the cards come a page at a time (card_pages.py),
    each rendered once per version of what it shows (card_keys.py) and then taken from the cache."""
    user = request.user
    can_hide = user.has_perm("annotations.hide_annotation")
    visible = Annotation.objects.readable_by(user)
    roots = Annotation.objects.readable_by(user, roots=True)  # what every card and highlight here is
    tags = Tag.objects.vocabulary()
    wording = wording_state(request, provision, filters, tags, roots)
    spans, pages = wording["spans"], wording["pages"]
    adrift_keys = [span.pk for span in spans if span.start is None]
    links = list(
        ExcerptLink.objects.approved()
        .filter(provision=provision)
        .select_related("excerpt__source")
        .defer("excerpt__source__body", "excerpt__source__capture")
        .order_by("excerpt__source__published_on", "excerpt__source_id", "excerpt__start")
    )
    excerpts = [link.excerpt for link in links]
    # The notes on the excerpts as light rows too: their highlights, and their cards through the cache.
    on_excerpts = light_spans(
        filters.apply(roots.filter(excerpt__in=excerpts)).order_by("start", "pk"), tags, ExcerptSpan
    )
    excerpt_keys = [span.pk for span in on_excerpts]
    here = workspace_url(provision)
    # Every card's key in one light query; the cards the cache holds need nothing more (card_keys.py).
    rows = card_rows(
        roots.filter(pk__in=[*pages.shown, *adrift_keys, *excerpt_keys]), user,
        can_hide=can_hide, filters=filters, tags=tags, here=here, readable=visible,
    )
    shown = cached_or_read({pk: rows[pk] for pk in [*pages.shown, *adrift_keys, *excerpt_keys] if pk in rows},
                           roots, visible, user, tags)
    cards = [shown[pk] for pk in pages.shown if pk in shown]
    adrift = [shown[pk] for pk in adrift_keys if pk in shown]
    excerpt_annotations = [shown[pk] for pk in excerpt_keys if pk in shown]
    by_excerpt = {}
    for span in on_excerpts:
        by_excerpt.setdefault(span.excerpt_id, []).append(span)
    for excerpt in excerpts:
        excerpt.html = marked_pieces(excerpt.text, by_excerpt.get(excerpt.pk, []), anchors=True, colours=True)[0]

    # Each user asked whether they wrote a note here, by the (provision, author) index: flat in N. Reading
    # the notes' authors instead cost 2 to 7 ms at 2,000 to 10,000 notes (PostgreSQL probed the notes per
    # user through a bitmap AND of two indexes, or sorted all of them).
    notes_by = roots.filter(author=OuterRef("pk"))  # a note on the wording or an excerpt is a root
    authors = get_user_model().objects.filter(
        Exists(notes_by.filter(provision=provision)) | Exists(notes_by.filter(excerpt__in=excerpts))
    ).order_by("username").values_list("username", flat=True)
    recently_deleted = Annotation.objects.filter(
        author=user, deleted_by=user, deleted_at__gte=timezone.now() - UNDO_WINDOW
    ).filter(Q(provision=provision) | Q(excerpt__in=excerpts) | Q(parent__provision=provision))
    context = {
        "treaty": provision.treaty,
        "provision": provision,
        "here": here,
        # Cards build their action URLs on this prefix: reversing six URLs per card costs more than
        # the rest of the page once there are a thousand cards.
        "annotation_root": reverse("annotations:edit", args=[0]).removesuffix("0/edit/"),
        "wording_html": wording["wording_html"],
        "versions": wording["versions"],
        "cards": cards,
        "pages": pages,
        "total": len(spans) + len(on_excerpts),
        "excerpt_annotations": excerpt_annotations,
        "adrift": adrift,
        "excerpts": excerpts,
        "tags": tags,
        "tag_vocabulary": tags,  # the page's tag colours, from the tags read here (tag_colours.py)
        "authors": list(authors),
        "visibilities": Annotation.Visibility.choices,
        "filters": filters,
        "recently_deleted": list(recently_deleted),
        "can_hide": can_hide,
        "form": AnnotationForm(provision=provision, excerpts=excerpts, versions=wording["versions"], tags=tags),
        "reply_form": ReplyForm(),
        "card_csrf": CARD_CSRF,
    }
    context.update(extra)
    return context


def describe_cards(annotations, tags):
    """Give each card's note (read by for_panel) what its card shows beyond its own fields: its tags and
    its pending revision's by name (`shown_tags`, `shown_revision_tags`), from their keys and `tags`,
    the vocabulary as read (no query: a prefetch of each was one more), and its assessments labelled."""
    vocabulary = shown_vocabulary(tags)
    for annotation in annotations:
        annotation.shown_tags = named_tags(annotation.tag_keys, vocabulary)
        annotation.shown_revision_tags = named_tags(annotation.revision_tag_keys, vocabulary)
    return Annotation.describe_assessments(annotations)


def cached_or_read(rows, notes, readable, user, tags):
    """{pk: card} of card_rows' `rows`: the row itself where the cache holds its card (the template
    needs no more), a model instance with all the card shows where it does not, read among `notes`
    with what hangs off it among `readable` (``readable_by(user)``); `tags` is the vocabulary."""
    fragment_keys = {pk: make_template_fragment_key("workspace-card", [row.card_key]) for pk, row in rows.items()}
    held = caches["cards"].get_many(list(fragment_keys.values()))
    # The fragment itself goes with the row: looked up again while the page renders, it could have been
    # evicted meanwhile (the cache is bounded in bytes, and this page's new cards go into it).
    cards = {pk: row._replace(cached_card=mark_safe(held[fragment_keys[pk]]))
             for pk, row in rows.items() if fragment_keys[pk] in held}
    missing = [pk for pk in rows if pk not in cards]
    if missing:
        read = describe_cards(notes.filter(pk__in=missing).for_panel(user, readable), tags)
        for annotation in read:
            annotation.card_key = rows[annotation.pk].card_key
            cards[annotation.pk] = annotation
    return cards


# Cards are cached for every viewer whose card looks the same, so the CSRF token (the viewer's own) is
# put into their forms after rendering, in place of this.
CSRF_PLACEHOLDER = "@@glossa-csrf@@"
CARD_CSRF = mark_safe(f'<input type="hidden" name="csrfmiddlewaretoken" value="{CSRF_PLACEHOLDER}">')


def with_csrf(request, response):
    """`response` with the viewer's CSRF token in the cached cards' forms."""
    if CSRF_PLACEHOLDER.encode() in response.content:
        response.content = response.content.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())
    return response


def card_for(request, pk, visible, tags):
    """The annotation `pk` with all its workspace card shows `request.user`, for a write's answer: the
    card changed, so it is rendered afresh (no card key: the cache is neither read nor filled; the
    page keys it from its light row when it next shows it); `visible` is ``readable_by(request.user)``
    and `tags` the vocabulary. None if the user may no longer read it (removed since the write)."""
    found = visible.filter(pk=pk).for_panel(request.user, visible)
    if not found:
        return None
    annotation, = found
    describe_cards([annotation], tags)
    annotation.card_key = None
    return annotation


def render_changes(request, provision, filters, *, main=None, annotation=None, new=False, gone=False,
                   deleted_changed=False, highlights=True):
    """The answer to an HTMX write: the card it changed (or the fresh form, or nothing), and out of
    band the highlights (unless the write left them as they were: `highlights` false), the count and
    what else changed; not the whole workspace."""
    user = request.user
    visible = Annotation.objects.readable_by(user)  # the one rule, built once for all the answer reads
    roots = Annotation.objects.readable_by(user, roots=True)  # the same, for the highlights and counts
    vocabulary = cache(lambda: Tag.objects.vocabulary())  # read once, by the cards, the form and the highlights
    card = None if annotation is None or gone else card_for(request, annotation.pk, visible, vocabulary())
    root = annotation.parent if annotation is not None and annotation.parent_id else annotation
    on_excerpt = root is not None and root.excerpt_id is not None
    context = {
        "provision": provision, "treaty": provision.treaty, "filters": filters, "here": workspace_url(provision),
        "annotation_root": reverse("annotations:edit", args=[0]).removesuffix("0/edit/"),
        "can_hide": user.has_perm("annotations.hide_annotation"), "card_csrf": CARD_CSRF, "main": main,
        "annotation": card, "wording_html": None, "total": None,
    }
    if main == "form":
        context["form"] = AnnotationForm(provision=provision, excerpts=(), versions=provision.language_versions.all(),
                                         tags=vocabulary())
    if new and card is not None:
        context["new_card"] = context["created"] = card
        if card.counterpart_id:  # the note it pairs with now shows it too
            context["paired_card"] = card_for(request, card.counterpart_id, visible, vocabulary())
    if on_excerpt and (highlights or new or gone):
        excerpt = root.excerpt
        # Its highlights as the page draws them: light rows, each with its first tag.
        on_excerpt = light_spans(
            filters.apply(roots.filter(excerpt=excerpt)).distinct().order_by("start", "pk"), vocabulary(),
            ExcerptSpan,
        )
        excerpt.html = marked_pieces(excerpt.text, on_excerpt, anchors=True, colours=True)[0]
        context["excerpt"] = excerpt
    wording = None
    if provision.text and (new or gone or (highlights and not on_excerpt)):
        wording = wording_state(request, provision, filters, vocabulary(), roots)
        context["pages"] = wording["pages"]
        if not on_excerpt:
            context |= {"wording_html": wording["wording_html"], "versions": wording["versions"]}
    if new or gone:
        # The count covers the notes on the excerpts beside the wording too, as the page's does: the
        # wording's are its highlights' rows (wording_state), the excerpts' one count of their keys.
        excerpts = Excerpt.objects.filter(links__provision=provision, links__state=ExcerptLink.State.APPROVED)
        on_excerpts = filters.apply(roots.filter(excerpt__in=excerpts)).values("pk").distinct().count()
        if wording is not None:
            on_wording = len(wording["spans"])
        else:
            on_wording = filters.apply(roots.filter(provision=provision)).values("pk").distinct().count()
        context["total"] = on_wording + on_excerpts
        context.setdefault("pages", None)
    if deleted_changed:
        context["recently_deleted"] = list(Annotation.objects.filter(
            author=user, deleted_by=user, deleted_at__gte=timezone.now() - UNDO_WINDOW,
        ).filter(Q(provision=provision) | Q(parent__provision=provision)))
        context["deleted_changed"] = True
    return with_csrf(request, render(request, "annotations/changes.html", context))


def highlight_state(pk):
    """What the highlight of note `pk` shows of it, or picks it by: its tags (the first by name colours
    it, a tag filter keeps it or not) and its visibility (a visibility filter). A write that leaves
    these as they were leaves the highlights as they were. One query: the tags are the row's stored
    keys (stored_tags.py), which every change of them rewrites."""
    return Annotation.objects.filter(pk=pk).order_by().values_list("visibility", "tag_keys").first()


def card_changed(request, provision, filters, annotation, *, highlights=True):
    """The HTMX answer to a write on one card: that card again (a reply's: its note's card, which
    holds it), and the highlights out of band if the write changed them (`highlights`)."""
    root = annotation.parent if annotation.parent_id else annotation
    response = render_changes(request, provision, filters, main="card", annotation=root, highlights=highlights)
    if root.pk != annotation.pk:
        response = retarget(response, f"#annotation-{root.pk}")
    return response


def announce(response, message):
    """`response`, with `message` for the workspace's live region: workspace.js says it once the
    answer arrives (an HX-Trigger event), so a screen reader hears what the write did."""
    return trigger_client_event(response, "announce", {"message": message})


def wants_fragment(request):
    """An HTMX swap wants the fragment; a history restore (a page htmx lost) wants the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_workspace(request, provision, filters, status=200, **extra):
    template = WORKSPACE + ("#workspace-body" if wants_fragment(request) else "")
    context = workspace_context(request, provision, filters, **extra)
    return with_csrf(request, render(request, template, context, status=status))


# How many items each list of the analyst's home shows; each list says when there are more.
HOME_LIST = 12


def with_workspace_provision(annotations):
    """`annotations` with `home_provision_id`: the provision whose workspace shows each one (its own,
    its note's for a reply, the first provision its excerpt is linked to), as home_provision() finds
    it, computed in the same query."""
    def first_link(excerpt):
        links = ExcerptLink.objects.filter(excerpt_id=OuterRef(excerpt)).order_by("provision__position", "pk")
        return Subquery(links.values("provision_id")[:1])

    return annotations.annotate(home_provision_id=Coalesce(
        "provision_id", "parent__provision_id", first_link("excerpt_id"), first_link("parent__excerpt_id"),
        output_field=BigIntegerField(),
    ))


def home_rows(annotations):
    """The first HOME_LIST of `annotations` (ordered), whether there are more, each with its author
    and `home` (its workspace's provision, with its treaty)."""
    rows = list(with_workspace_provision(annotations).select_related("author", "parent")[: HOME_LIST + 1])
    return rows[:HOME_LIST], len(rows) > HOME_LIST


@login_required
@team_required
@require_GET
def home(request):
    """The analyst's home: what waits for them (sent back, adrift, awaiting review), what the team did
    lately, and every provision with its counts; a first-time analyst is shown how to annotate.
    A fixed number of queries, however many annotations there are (each list shows HOME_LIST)."""
    user = request.user
    visible = Annotation.objects.readable_by(user)
    mine = visible.filter(author=user)
    lists = {
        "sent_back": home_rows(mine.filter(review=Annotation.Review.RETURNED).order_by("-reviewed_at", "-pk")),
        "adrift": home_rows(mine.adrift().roots().order_by("-updated_at", "-pk")),
        "awaiting": home_rows(mine.filter(review=Annotation.Review.SUBMITTED).order_by("-submitted_at", "-pk")),
        "activity": home_rows(visible.exclude(author=user).order_by("-created_at", "-pk")),
    }
    provision_ids = {row.home_provision_id for rows, _ in lists.values() for row in rows}
    places = Provision.objects.select_related("treaty").only(
        "slug", "kind", "number", "treaty__slug", "treaty__short_title").in_bulk(provision_ids - {None})
    for rows, _ in lists.values():
        for row in rows:
            row.home = places.get(row.home_provision_id)
    counts = {
        provision: (total, own) for provision, total, own in
        Annotation.objects.readable_by(user, roots=True).filter(provision__isnull=False)
        .values("provision").order_by()
        .annotate(total=Count("pk"), own=Count("pk", filter=Q(author=user)))
        .values_list("provision", "total", "own")
    }
    treaties = list(Treaty.objects.prefetch_related(
        Prefetch("provisions", queryset=Provision.objects.in_order().defer("text", "summary"))))
    for treaty in treaties:
        for provision in treaty.provisions.all():
            provision.annotation_count, provision.own_count = counts.get(provision.pk, (0, 0))
    context = {
        "treaties": treaties,
        "first_time": not Annotation.objects.filter(author=user).exists(),
        **{name: rows for name, (rows, _) in lists.items()},
        **{f"more_{name}": more for name, (_, more) in lists.items()},
    }
    return render(request, "annotations/home.html", context)


@login_required
@team_required
@require_GET
@vary_on_headers("HX-Request")
def workspace(request, treaty_slug, provision_slug):
    provision = get_provision(treaty_slug, provision_slug)
    return render_workspace(request, provision, Filters(request.GET))


def render_refusal(request, refusal, provision, filters):
    """A write the write module refused: the workspace, with the reason, at the status it names."""
    if not request.htmx:
        messages.error(request, refusal.message)
    return render_workspace(request, provision, filters, status=refusal.status, refusal=refusal.message)


@login_required
@permission_required("annotations.add_annotation", raise_exception=True)
@require_POST
def annotation_create(request, treaty_slug, provision_slug):
    provision = get_provision(treaty_slug, provision_slug)
    filters = Filters(request.GET)
    excerpts = Excerpt.objects.filter(links__provision=provision, links__state=ExcerptLink.State.APPROVED)
    form = AnnotationForm(request.POST, provision=provision, excerpts=excerpts,
                          versions=provision.language_versions.all())
    if not form.is_valid():
        return render_form(request, provision, filters, form, status=422)
    data = form.cleaned_data
    try:
        annotation = writes.create(
            author=request.user, target=data["target"], start=data["start"], end=data["end"], exact=data["exact"],
            body=data["body"], tags=list(data["tags"]), new_tags=data["new_tags"], visibility=data["visibility"],
            assessment=data["assessment"], counterpart=data.get("counterpart"),
        )
    except writes.Refused as refusal:
        form.add_error(None, refusal.message)
        return render_form(request, provision, filters, form, status=refusal.status)
    if not request.htmx:
        messages.success(request, "Annotation saved.")
        return redirect(workspace_url(provision, filters) + f"#annotation-{annotation.pk}")
    return announce(render_changes(request, provision, filters, main="form", annotation=annotation, new=True),
                    "Annotation saved.")


def render_form(request, provision, filters, form, status):
    """A refused new annotation: with HTMX the form alone, its errors shown (the request's target);
    without, the whole workspace around it."""
    if not wants_fragment(request):
        return render_workspace(request, provision, filters, status=status, form=form)
    context = {"form": form, "provision": provision, "treaty": provision.treaty, "filters": filters}
    return render(request, WORKSPACE + "#annotation-form", context, status=status)


def readable_annotation(request, pk, *, removed=False):
    """The annotation `pk` if the user may read it; the same 404 whether it is missing or not theirs to see.

    With what it is on (its provision and treaty, or its excerpt) and, for a reply, its parent with
    what that is on, read only then: joining the parent's three tables into every note's read made
    PostgreSQL plan and return six (7.3 ms for a note, 3.8 without them)."""
    annotations = Annotation.objects.readable_by(request.user, removed=removed)
    annotation = get_object_or_404(annotations.select_related("provision__treaty", "excerpt"), pk=pk)
    if annotation.parent_id is not None:
        # The reply is readable, so its parent is (readable_by asks it of the parent).
        annotation.parent = get_object_or_404(
            Annotation.objects.select_related("provision__treaty", "excerpt"), pk=annotation.parent_id
        )
    return annotation


def home_provision(annotation):
    """The provision whose workspace shows this annotation."""
    root = annotation.parent or annotation
    if root.provision_id:
        return root.provision
    link = root.excerpt.links.select_related("provision__treaty").order_by("provision__position").first()
    return link.provision


def render_edit_form(request, annotation, form, provision, filters, status=200, conflict=False):
    template = "annotations/edit.html" + ("#annotation-edit" if wants_fragment(request) else "")
    context = {"annotation": annotation, "form": form, "provision": provision, "filters": filters, "conflict": conflict}
    response = render(request, template, context, status=status)
    if request.htmx and status != 200:
        # The form posts to the whole workspace; a refused edit goes back into its own card instead.
        response = reswap(retarget(response, f"#annotation-{annotation.pk}"), "outerHTML")
    return response


@login_required
@team_required
@require_http_methods(["GET", "POST"])
def annotation_edit(request, pk):
    annotation = readable_annotation(request, pk)
    provision = home_provision(annotation)
    filters = Filters(request.GET)
    if annotation.author_id != request.user.pk:
        return render_refusal(request, writes.Forbidden("Only its author can edit this annotation."), provision, filters)
    # Ids of its own: the create form on the same page already uses id_body and friends.
    auto_id = f"edit-{annotation.pk}-%s"
    if request.method == "GET":
        form = AnnotationEditForm(instance=annotation, auto_id=auto_id)
        return render_edit_form(request, annotation, form, provision, filters)

    form = AnnotationEditForm(request.POST, instance=annotation, auto_id=auto_id)
    if not form.is_valid():
        return render_edit_form(request, annotation, form, provision, filters, status=422)
    data = form.cleaned_data
    before = highlight_state(annotation.pk)
    try:
        writes.edit(
            annotation.pk, by=request.user, version=data["version"], body=data["body"], tags=list(data["tags"]),
            new_tags=data["new_tags"], visibility=None if form.fields["visibility"].disabled else data["visibility"],
            assessment=data["assessment"],
        )
    except writes.Conflict as refusal:
        if refusal.current is None:
            return render_refusal(request, refusal, provision, filters)
        current = refusal.current
        # Keep the draft, but let a second save deliberately replace the current text.
        draft = request.POST.copy()
        draft["version"] = current.version
        conflict_form = AnnotationEditForm(draft, instance=current, auto_id=auto_id)
        return render_edit_form(request, current, conflict_form, provision, filters, status=409, conflict=True)
    except writes.Refused as refusal:
        return render_refusal(request, refusal, provision, filters)
    if not request.htmx:
        messages.success(request, "Annotation updated.")
        return redirect(workspace_url(provision, filters) + f"#annotation-{annotation.pk}")
    changed = highlight_state(annotation.pk) != before
    return announce(card_changed(request, provision, filters, annotation, highlights=changed), "Changes saved.")


@login_required
@permission_required("annotations.add_annotation", raise_exception=True)
@require_http_methods(["GET", "POST"])
def annotation_reply(request, pk):
    parent = get_object_or_404(
        Annotation.objects.readable_by(request.user, roots=True)
        .select_related("provision__treaty", "excerpt", "author"),
        pk=pk,
    )
    provision = home_provision(parent)
    filters = Filters(request.GET)
    # Bound on every POST: an empty one (no field at all) must say what is missing.
    form = ReplyForm(request.POST if request.method == "POST" else None)
    if request.method == "GET" or not form.is_valid():
        template = "annotations/reply.html" + ("#reply-form" if wants_fragment(request) else "")
        context = {"parent": parent, "form": form, "provision": provision, "filters": filters}
        response = render(request, template, context, status=200 if request.method == "GET" else 422)
        if request.htmx and request.method == "POST":
            # The form posts to the whole workspace; a refused reply goes back into its card's slot.
            response = reswap(retarget(response, f"#annotation-{parent.pk} .reply-slot"), "innerHTML")
        return response
    try:
        reply = writes.reply(parent.pk, author=request.user, body=form.cleaned_data["body"])
    except writes.Refused as refusal:
        return render_refusal(request, refusal, provision, filters)
    saved = "Reply saved." + (
        " A curator will review it before it appears under the published note." if reply.review == "submitted" else ""
    )
    if not request.htmx:
        messages.success(request, saved)
        return redirect(workspace_url(provision, filters) + f"#annotation-{reply.pk}")
    # A reply has no highlight, and leaves its note's as it was.
    return announce(card_changed(request, provision, filters, parent, highlights=False), saved)


@login_required
@team_required
@require_http_methods(["GET", "POST"])
def annotation_delete(request, pk):
    annotation = readable_annotation(request, pk)
    provision = home_provision(annotation)
    filters = Filters(request.GET)
    if annotation.author_id != request.user.pk:
        return render_refusal(request, writes.Forbidden("Only its author can delete this annotation."), provision, filters)
    if request.method == "GET":
        template = "annotations/delete.html" + ("#confirm-delete" if wants_fragment(request) else "")
        return render(request, template, {"annotation": annotation, "provision": provision, "filters": filters})
    try:
        writes.delete(annotation.pk, by=request.user)
    except writes.Refused as refusal:
        return render_refusal(request, refusal, provision, filters)
    if not request.htmx:
        messages.success(request, "Annotation deleted. You can undo this for 15 minutes.")
        return redirect(workspace_url(provision, filters))
    response = render_changes(request, provision, filters, annotation=annotation, gone=True, deleted_changed=True)
    return announce(response, "Annotation deleted. You can undo this for 15 minutes.")


@login_required
@team_required
@require_POST
def annotation_restore(request, pk):
    """The author undoes their own deletion, within the undo window."""
    annotation = readable_annotation(request, pk, removed=True)
    provision = home_provision(annotation)
    filters = Filters(request.GET)
    try:
        writes.undo_delete(annotation.pk, by=request.user)
    except writes.Refused as refusal:
        return render_refusal(request, refusal, provision, filters)
    if not request.htmx:
        messages.success(request, "Annotation restored.")
        return redirect(workspace_url(provision, filters) + f"#annotation-{annotation.pk}")
    return announce(render_workspace(request, provision, filters), "Annotation restored.")


@login_required
@team_required
@require_POST
def annotation_submit(request, pk):
    """The author asks the curators to publish the annotation."""
    annotation = readable_annotation(request, pk)
    provision = home_provision(annotation)
    filters = Filters(request.GET)
    before = highlight_state(annotation.pk)
    try:
        writes.submit(annotation.pk, by=request.user)
    except writes.Refused as refusal:
        return render_refusal(request, refusal, provision, filters)
    if not request.htmx:
        messages.success(request, "Submitted for publication: a curator will review it.")
        return redirect(workspace_url(provision, filters) + f"#annotation-{annotation.pk}")
    changed = highlight_state(annotation.pk) != before
    return announce(card_changed(request, provision, filters, annotation, highlights=changed),
                    "Submitted for publication: a curator will review it.")


@login_required
@permission_required("annotations.hide_annotation", raise_exception=True)
@require_POST
def annotation_hide(request, pk):
    annotation = readable_annotation(request, pk)
    provision = home_provision(annotation)
    filters = Filters(request.GET)
    writes.hide(Annotation.objects.filter(pk=annotation.pk), curator=request.user)
    if not request.htmx:
        messages.success(request, "Annotation hidden. Curators can show it again in the admin.")
        return redirect(workspace_url(provision, filters))
    return announce(render_changes(request, provision, filters, annotation=annotation, gone=True), "Annotation hidden.")
