"""Every kind of page Glossa serves, on data that fills each with what it can show.

The markup test (test_markup.py: the Nu Html Checker) and the browser tests (axe-core, the width at a
phone's size) go through the same pages: the shipped corpus, a second treaty (so the home page lists
treaties rather than redirecting), and annotations in every state an analyst meets (a draft with a tag,
one sent back with the curator's reason, one awaiting review, a published one with a published reply, a
note on a commentary excerpt, one adrift after a change of wording).
"""

from dataclasses import dataclass, field

from django.urls import reverse

from annotations import tokens
from annotations.models import Annotation, ApiToken, Tag
from treaty_app.importing import load_corpus
from treaty_app.models import ExcerptLink, Treaty

from .factories import annotation_row, make_annotation, make_provision, make_treaty, make_user

QUOTE = "and thus finds itself in a state of war"


@dataclass
class Site:
    analyst: object
    curator: object
    # (kind, url) of the pages anyone reads, and of those an analyst reads logged in.
    public: list = field(default_factory=list)
    workspace: list = field(default_factory=list)
    admin: list = field(default_factory=list)
    workspace_url: str = ""
    treaty_url: str = ""


def make_site():
    """The corpus and the annotations described above; returns the pages by kind."""
    load_corpus()
    treaty = Treaty.objects.get()
    make_provision(make_treaty(slug="other", short_title="Another Treaty"), number=1, text="The Parties agree.")
    article = treaty.provisions.get(slug="art-4")
    analyst = make_user("ana", first_name="Ana")
    other = make_user("bob")
    curator = make_user("cora", role="Curators", is_staff=True)
    tag = Tag.objects.create(name="military-assistance", slug="military-assistance", colour="#cc3333")

    start = article.text.index(QUOTE)
    end = start + len(QUOTE)
    published = make_annotation(
        article, other, start, end, body="Triggers *automatic* assistance.", visibility="public",
        review=Annotation.Review.PUBLISHED, tags=[tag],
    )
    annotation_row(parent=published, author=analyst, body="Only after an attack.", visibility="public",
                   review=Annotation.Review.PUBLISHED)
    draft = make_annotation(article, analyst, start, start + 7, body="A draft with a tag.", tags=[tag])
    make_annotation(article, analyst, start + 8, end, body="Sent back.", review=Annotation.Review.RETURNED,
                    review_note="Say which article this contradicts.")
    make_annotation(article, analyst, start, end, body="Awaiting a curator.", review=Annotation.Review.SUBMITTED)
    adrift = annotation_row(provision=article, author=analyst, body="Lost its words.", visibility="team",
                            placement=Annotation.Placement.ORPHANED, exact="words that are gone",
                            anchored_text="Some old wording with words that are gone.")
    link = ExcerptLink.objects.approved().filter(provision=article).select_related("excerpt__source").first()
    excerpt = link.excerpt
    annotation_row(excerpt=excerpt, author=analyst, body="Disputes the commentator.", visibility="public",
                   review=Annotation.Review.PUBLISHED, exact=excerpt.text[:10], start=0, end=10)

    tokens.issue(analyst, name="My script", scope=ApiToken.Scope.WRITE)

    workspace_url = reverse("annotations:workspace", args=[treaty.slug, article.slug])
    site = Site(analyst=analyst, curator=curator, workspace_url=workspace_url, treaty_url=treaty.get_absolute_url())
    site.public = [
        ("home", reverse("reader:home")),
        ("treaty", treaty.get_absolute_url()),
        ("provision", article.get_absolute_url()),
        ("sources", reverse("reader:sources")),
        ("source", excerpt.source.get_absolute_url()),
        ("tag", reverse("reader:tag", args=[tag.slug])),
        ("search", reverse("reader:search") + "?q=assistance"),
        ("login", reverse("login")),
    ]
    site.workspace = [
        ("workspace home", reverse("annotations:home")),
        ("workspace", workspace_url),
        ("edit", reverse("annotations:edit", args=[draft.pk])),
        ("delete", reverse("annotations:delete", args=[draft.pk])),
        ("reply", reverse("annotations:reply", args=[published.pk])),
        ("place", reverse("annotations:place", args=[adrift.pk])),
        ("search, logged in", reverse("reader:search") + "?q=assistance"),
        ("provision, logged in", article.get_absolute_url()),
        ("API tokens", reverse("annotations:tokens")),
    ]
    site.admin = [("admin changelist", reverse("admin:annotations_annotation_changelist"))]
    return site


def first_time_analyst():
    """An analyst with no annotation yet: the workspace home shows them how to annotate."""
    return make_user("newcomer")
