"""Annotations on the wording of a provision (or on a commentary excerpt), and the tags that classify them."""

from collections import defaultdict, namedtuple
from operator import attrgetter

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, StringAgg, Subquery, TextField, Value
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from simple_history.models import HistoricalRecords

from treaty_app.models import VersionedQuerySet

from .anchoring import Placement

UNDO_WINDOW = timezone.timedelta(minutes=15)


# The tag vocabulary as pages use it: what highlights, cards, forms, filters and colour rules show of a
# tag. Light rows: the 200 Tag instances every workspace request and write answer read cost 1.8 ms.
VocabularyTag = namedtuple("VocabularyTag", "pk slug name colour")


class TagQuerySet(VersionedQuerySet):
    def vocabulary(self):
        """These tags as VocabularyTag rows, in name order."""
        return [VocabularyTag(*row) for row in self.order_by("name").values_list("pk", "slug", "name", "colour")]


class Tag(models.Model):
    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True, allow_unicode=True)
    colour = models.CharField(
        max_length=7, default="#f4d03f", help_text="Highlight colour, as #rrggbb.",
    )
    description = models.TextField(blank=True, help_text="When to use this tag, for analysts choosing one.")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        help_text="A broader tag (one level only), e.g. security › military-assistance.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TagQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="tag_colour_is_hex"),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="tag_not_its_own_parent"),
        ]

    def __str__(self):
        if not self.parent_id:
            return self.name
        try:
            return f"{self.parent.name} › {self.name}"
        except Tag.DoesNotExist:  # an old version (history), whose parent has since been merged away
            return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.parent_id is None:
            return
        if self.parent_id == self.pk:
            raise ValidationError({"parent": "A tag cannot be its own parent."}, code="self_parent")
        if self.parent.parent_id is not None:
            raise ValidationError({"parent": "The vocabulary is one level deep: pick a top-level tag."}, code="too_deep")
        if self.pk and self.children.exists():
            raise ValidationError({"parent": "This tag has narrower tags of its own."}, code="has_children")


class AssessmentField(models.Model):
    """One field of the assessment scheme that curators define: what an analyst may say a clause does.

    A ``choice`` field takes one of its values; a ``scale`` field too, its values being ordered (low to
    high, by position: agreement on it is measured as ordinal); a ``text`` field takes free text (the
    reasoning). Retiring a field or a value keeps every stored assessment readable; it only stops new
    ones from using it."""

    class Kind(models.TextChoices):
        CHOICE = "choice", "One of a list"
        SCALE = "scale", "One step of an ordered scale"
        TEXT = "text", "Free text"

    slug = models.SlugField(max_length=40, unique=True, help_text="Used in exports: never change it once used.")
    label = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=Kind, default=Kind.CHOICE)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on forms and pages.")
    help_text = models.CharField(max_length=300, blank=True, help_text="What the field asks, for analysts.")
    retired = models.BooleanField(default=False, help_text="No new assessment uses it; stored ones stay.")

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.label


class AssessmentValue(models.Model):
    field = models.ForeignKey(AssessmentField, on_delete=models.CASCADE, related_name="values")
    slug = models.SlugField(max_length=40, help_text="Used in exports: never change it once used.")
    label = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order; on a scale, low to high.")
    retired = models.BooleanField(default=False, help_text="No new assessment uses it; stored ones stay.")

    class Meta:
        ordering = ["field", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["field", "slug"], name="assessment_value_unique")]

    def __str__(self):
        return f"{self.field.label}: {self.label}"


class TagAlias(models.Model):
    """The slug and name of a tag merged into another (writes.merge_tags): its public URL answers
    with a permanent redirect to the tag it lives on in, so links and bookmarks keep working."""

    slug = models.SlugField(max_length=60, unique=True, allow_unicode=True)
    name = models.CharField(max_length=60, help_text="The merged tag's name.")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="aliases",
                            help_text="The tag it was merged into.")
    merged_at = models.DateTimeField(default=timezone.now)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "tag aliases"

    def __str__(self):
        return f"{self.slug} → {self.tag_id}"


def _readable(user, via=""):
    """Who may read an annotation's row, as a condition on the row reached through `via`."""
    public = Q(**{f"{via}visibility": Annotation.Visibility.PUBLIC})
    if user is None or not user.is_authenticated:
        return public
    if user.has_perm("annotations.view_annotation"):
        # Analysts and curators (their groups grant the permission): the team's notes and their own.
        return public | Q(**{f"{via}visibility": Annotation.Visibility.TEAM}) | Q(**{f"{via}author": user})
    return public | Q(**{f"{via}author": user})


def _live(via=""):
    return Q(**{f"{via}deleted_at__isnull": True, f"{via}hidden_at__isnull": True})


def with_hanging_off(notes, readable):
    """`notes` (annotations read), each given what hangs off it among the rows of `readable` (a
    ``readable_by`` queryset), read in one query for all of them: its replies in order
    (`live_replies`) and its translation pairs (`pairs`: its counterpart and the notes that name it as
    theirs). A prefetch of each was a query and a millisecond or two of ORM work more a card answer."""
    keys = [note.pk for note in notes]
    counterparts = {note.counterpart_id for note in notes} - {None}
    related = list(
        readable.filter(Q(parent__in=keys) | Q(counterpart__in=keys) | Q(pk__in=counterparts))
        .select_related("author", "language_version").order_by("created_at", "pk")
    ) if keys else []
    by_pk, replies, named_by = {}, defaultdict(list), defaultdict(list)
    for row in related:
        by_pk[row.pk] = row
        if row.parent_id is not None:
            replies[row.parent_id].append(row)
        if row.counterpart_id is not None:
            named_by[row.counterpart_id].append(row)
    for note in notes:
        note.live_replies = replies[note.pk]
        note.readable_counterpart = by_pk.get(note.counterpart_id)
        note.readable_counterparts = sorted(named_by[note.pk], key=attrgetter("pk"))
    return notes


def tag_keys_in(keys):
    """The tag pks, as text, that a row's `tag_keys` joins ("3,7"; "" or None: none): how every reader
    of the stored or aggregated keys (`with_tag_keys`) splits them."""
    return keys.split(",") if keys else []


class AnnotationQuerySet(models.QuerySet):
    def readable_by(self, user, *, removed=False, roots=False):
        """The one rule for who may read an annotation: every page, fragment, count, search, feed
        and export asks it, and so does the admin.

        * Anyone: published annotations (visibility ``public``).
        * Analysts and curators: also the team's (``team``). A curator reads no one else's
          ``private`` note, in the admin either.
        * Everyone signed in: also their own.
        * A reply only with its parent: a reply to a note one may not read is not readable.
        * Deleted and hidden annotations (and replies to them) only with `removed`, which the admin
          passes so curators can show and restore them; pages never do.

        With `roots`, only the root notes among them (the rows of ``.roots()`` after the whole rule):
        a root has no parent to ask about, so that half of the rule is left out of the statement
        rather than built and compiled into it, a millisecond of ORM work a statement.
        """
        own = _readable(user)  # what a row must be itself; a reply's parent must be it too
        if not removed:
            own &= _live()
        if roots:
            return self.filter(own, parent__isnull=True)
        # The parent's condition as EXISTS, not a join: for a root (parent_id NULL) it is never
        # evaluated, so a page of roots reads no other row; a join made PostgreSQL hash the whole table.
        readable_parent = Exists(Annotation.objects.filter(own, pk=OuterRef("parent_id")))
        return self.filter(own & (Q(parent__isnull=True) | readable_parent))

    def replies_readable_by(self, user, parents):
        """The replies `user` may read among those to `parents`, a queryset of notes `user` may read
        (readable_by's rows): exactly readable_by's replies to them. The parent's half of the rule is
        then `parents` itself, so it is not asked again: that half, an EXISTS under an OR, made
        PostgreSQL hash every readable row of the table (70 ms at 100,000) for a search of replies."""
        rule = _readable(user) & _live() & Q(parent__isnull=False)
        return self.filter(rule).filter(Exists(parents.filter(pk=OuterRef("parent_id"))))

    def live(self):
        """Not deleted and not hidden by a curator."""
        return self.filter(_live())

    def published(self, *, roots=False):
        """What the public may see: ``readable_by`` an anonymous visitor (`roots`: its root notes)."""
        return self.readable_by(None, roots=roots)

    def with_tag_keys(self, field="tags", name="tag_keys"):
        """Each row's tags (of the many-to-many `field`) as `name`, their pks joined by commas (""
        or None: no tags). A note's own tags are stored on its row (stored_tags.py); its pending
        revision's come from a subquery by the row's key through the index (a join or a second query
        had to find the rows again: MIN of the tags' names through a join read the whole tag table,
        21 ms at 100,000)."""
        if field == "tags":
            return self if name == "tag_keys" else self.annotate(**{name: F("tag_keys")})
        keys = Subquery(
            getattr(Annotation, field).through.objects.filter(annotation=OuterRef("pk")).order_by().values("annotation")
            .annotate(keys=StringAgg(Cast("tag_id", TextField()), Value(","))).values("keys")
        )
        return self.annotate(**{name: keys})

    def public_card_rows(self, roots):
        """card_keys.public_card_rows of these published roots: treaty_app's pages reach it through
        the model's queryset, importing nothing of this app."""
        from .card_keys import public_card_rows

        return public_card_rows(self, roots)

    def for_panel(self, user, readable=None):
        """These annotations, as a list, each with everything its card shows `user`: its author, its
        tags' and its revision's tags' keys (named by views.describe_cards), and what hangs off it that
        `user` may read (`with_hanging_off`): a fixed number of queries, whatever the number of rows.
        `readable`: ``readable_by(user)``, when the caller has it (building the rule again was a
        millisecond a card answer spent twice)."""
        if readable is None:
            readable = Annotation.objects.readable_by(user)
        # The note's tags are stored on its row; its revision's come by a subquery (a prefetch of each
        # was a query more).
        notes = list(self.select_related("author").with_tag_keys("revision_tags", "revision_tag_keys"))
        return with_hanging_off(notes, readable)

    def roots(self):
        return self.filter(parent__isnull=True)

    def awaiting_review(self):
        return self.live().filter(review=Annotation.Review.SUBMITTED)

    def adrift(self):
        """Annotations a change of wording left without a confident place."""
        return self.live().filter(placement__in=[Annotation.Placement.DRIFTED, Annotation.Placement.ORPHANED])

    def on_provision(self, provision, language_version=None):
        """Root annotations on the provision's own wording (or on its `language_version`'s), in
        reading order: the offsets of each index that one text."""
        return self.roots().filter(provision=provision, language_version=language_version).order_by(
            F("start").asc(nulls_last=True), "end", "pk")


class Annotation(models.Model):
    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private: only me"
        TEAM = "team", "Team: all analysts"
        PUBLIC = "public", "Public: published by a curator"

    class Review(models.TextChoices):
        NONE = "none", "Not submitted"
        SUBMITTED = "submitted", "Awaiting review"
        PUBLISHED = "published", "Published"
        RETURNED = "returned", "Sent back"

    # The anchoring module's vocabulary, stored as is: what a search returns is what the row says.
    Placement = Placement
    PLACEMENT_LABELS = {
        Placement.ANCHORED: "Anchored",
        Placement.FUZZY: "Re-anchored by a close match",
        Placement.DRIFTED: "Drifted: its words changed, place it again",
        Placement.ORPHANED: "Orphaned: its words are gone",
    }

    provision = models.ForeignKey(
        "treaty_app.Provision", on_delete=models.PROTECT, null=True, blank=True, related_name="annotations"
    )
    excerpt = models.ForeignKey(
        "treaty_app.Excerpt", on_delete=models.PROTECT, null=True, blank=True, related_name="annotations"
    )
    # On a provision, the wording annotated: its language version, or none for `Provision.text`.
    language_version = models.ForeignKey(
        "treaty_app.LanguageVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="annotations",
        help_text="The language version of the provision whose words it marks; empty for the provision's own wording.",
    )
    # A translation discrepancy: the same passage's words in another text of the provision (another
    # language version, or its own wording), marked by this note too. Each note keeps its own anchor.
    counterpart = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="counterparts",
        help_text="A note on the same passage in another language version of the provision: the two spans "
                  "a translation discrepancy compares.",
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies",
        help_text="The annotation this one replies to; a reply has no anchor of its own.",
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations")
    body = models.TextField(help_text="The analyst's note, in Markdown.")
    body_html = models.TextField(editable=False, help_text="The body rendered and sanitised; never edited by hand.")
    tags = models.ManyToManyField(Tag, blank=True, related_name="annotations")
    # The keys of `tags`, ascending, joined by commas ("" for none), kept by stored_tags.py at every
    # change of them: a page's rows read each note's tags from its own row, not by a lookup per row.
    tag_keys = models.TextField(blank=True, default="", editable=False)
    visibility = models.CharField(max_length=16, choices=Visibility, default=Visibility.TEAM)

    # W3C Web Annotation anchor: TextPositionSelector (start, end: code points) and TextQuoteSelector.
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    exact = models.TextField(blank=True, help_text="The words annotated, exactly as they stood.")
    prefix = models.CharField(max_length=64, blank=True)
    suffix = models.CharField(max_length=64, blank=True)
    text_version = models.PositiveIntegerField(null=True, blank=True, help_text="Version of the wording anchored to.")
    placement = models.CharField(
        max_length=16, choices=list(PLACEMENT_LABELS.items()), default=Placement.ANCHORED
    )
    anchored_text = models.TextField(
        blank=True, help_text="The wording as it stood when the annotation drifted or was orphaned."
    )
    original_exact = models.TextField(
        blank=True, help_text="The words annotated when it was made, kept whatever happens to the wording."
    )
    original_text_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="Version of the wording it was made on."
    )
    # What an annotation imported from another system brings that Glossa does not anchor by, kept
    # so that its export says it again (w3c_reader.py).
    extra_selectors = models.JSONField(
        default=list, blank=True,
        help_text="The target's other W3C selectors (XPath, Range, CSS, Fragment…), as imported; exported again.",
    )
    via = models.CharField(
        max_length=2000, blank=True, db_index=True,
        help_text="The id of the annotation this one was imported from, when it came from another system.",
    )
    canonical = models.CharField(max_length=2000, blank=True, help_text="Its canonical IRI, when it came with one.")

    review = models.CharField(max_length=16, choices=Review, default=Review.NONE, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField(blank=True, help_text="Why it was sent back; its author sees this.")

    # An edit of a published annotation waits here for a curator; the public keeps the published
    # body and tags (the fields above) until the revision is published.
    revision_body = models.TextField(blank=True, help_text="The author's edit awaiting review, in Markdown.")
    revision_body_html = models.TextField(blank=True, editable=False)
    revision_tags = models.ManyToManyField(Tag, blank=True, related_name="+")
    revision_at = models.DateTimeField(null=True, blank=True, help_text="When the pending revision was made.")

    # What the analyst concludes the words do, in the curators' scheme (AssessmentField): {field slug: value
    # slug, or text for a text field}. Validated by assessments.py; kept as written when the scheme changes.
    assessment = models.JSONField(default=dict, blank=True)
    revision_assessment = models.JSONField(default=dict, blank=True, help_text="The pending revision's assessment.")

    version = models.PositiveIntegerField(default=1, help_text="Goes up on each edit; stale edits are refused.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="Its author (who may undo it for a while) or the curator who retired it.",
    )
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = AnnotationQuerySet.as_manager()
    history = HistoricalRecords(
        m2m_fields=[tags, revision_tags], excluded_fields=["body_html", "revision_body_html", "tag_keys"]
    )

    class Meta:
        ordering = ["provision", "start", "pk"]
        permissions = [
            ("hide_annotation", "Can hide any annotation"),
            ("publish_annotation", "Can publish annotations"),
        ]
        indexes = [
            models.Index(fields=["provision", "visibility"], name="annotation_prov_visibility"),
            # The review queue's order (the admin's changelist): its first page read from the index.
            models.Index(fields=["-submitted_at", "-created_at"], name="annotation_review_order"),
            # Who wrote on a provision (the workspace's author filter): one probe of this index per user,
            # however many notes the provision has.
            models.Index(fields=["provision", "author"], name="annotation_prov_author"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(parent__isnull=False, provision__isnull=True, excerpt__isnull=True)
                    | Q(parent__isnull=True, provision__isnull=False, excerpt__isnull=True)
                    | Q(parent__isnull=True, provision__isnull=True, excerpt__isnull=False)
                ),
                name="annotation_has_one_target",
            ),
            models.CheckConstraint(
                condition=Q(language_version__isnull=True) | Q(provision__isnull=False),
                name="annotation_language_version_on_a_provision",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=False, start__isnull=True, end__isnull=True)
                | Q(parent__isnull=True, placement__in=["drifted", "orphaned"], start__isnull=True, end__isnull=True)
                | Q(parent__isnull=True, placement__in=["anchored", "fuzzy"], start__lt=F("end")),
                name="annotation_anchor_matches_placement",
            ),
        ]

    def __str__(self):
        return Truncator(self.exact or self.body).chars(60)

    @property
    def target(self):
        """What its offsets index: a language version, a provision's own wording or an excerpt."""
        return self.language_version or self.provision or self.excerpt

    @property
    def pairs(self):
        """The notes on the same passage in the provision's other texts that the reader may read, as
        read by `with_hanging_off`: what a translation discrepancy compares."""
        found = [getattr(self, "readable_counterpart", None), *getattr(self, "readable_counterparts", ())]
        return [other for other in found if other is not None]

    @property
    def is_reply(self):
        return self.parent_id is not None

    @property
    def is_placed(self):
        return self.start is not None

    @property
    def can_be_restored(self):
        """By its author, who deleted it, within the undo window (not when a curator retired it)."""
        return (
            self.deleted_at is not None and self.deleted_by_id == self.author_id
            and timezone.now() - self.deleted_at < UNDO_WINDOW
        )

    @property
    def has_revision(self):
        return self.revision_at is not None

    @classmethod
    def describe_assessments(cls, annotations):
        """Give each annotation (and its pending revision) its assessment as pages show it, labelled
        by the scheme, read once (two queries). treaty_app's pages call this through the model, which
        they reach by a reverse relation: they import nothing of this app."""
        from . import assessments

        known = assessments.scheme()
        for annotation in annotations:
            annotation.shown_assessment = assessments.describe(annotation.assessment or {}, known)
            annotation.shown_revision_assessment = assessments.describe(annotation.revision_assessment or {}, known)
        return annotations

    def get_absolute_url(self):
        root = self.parent or self
        if root.provision_id:
            provision = root.provision
            url = reverse("annotations:workspace", args=[provision.treaty.slug, provision.slug])
        else:
            url = reverse("annotations:home")
        return f"{url}#annotation-{self.pk}"


class Adjudication(models.Model):
    """A curator's decision where analysts disagree on a unit of words (agreement.py): which value
    stands for the field (or the tags), and why. Shown beside the figures, in the admin and in public."""

    provision = models.ForeignKey("treaty_app.Provision", on_delete=models.CASCADE, related_name="adjudications")
    unit = models.CharField(max_length=200, help_text="The unit's annotations, by key (agreement.Unit.key).")
    annotations = models.ManyToManyField(Annotation, related_name="adjudications")
    field = models.CharField(max_length=40, help_text="An assessment field's slug, or “tags”.")
    value = models.CharField(max_length=300, help_text="The value that stands.")
    note = models.TextField(blank=True, help_text="Why, for the analysts and the public.")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["provision", "field", "-decided_at"]
        constraints = [models.UniqueConstraint(fields=["provision", "unit", "field"], name="adjudication_unique")]

    def __str__(self):
        return f"{self.provision}: {self.field} = {self.value}"


class ApiToken(models.Model):
    """A personal key for the W3C Annotation Protocol (annotations/protocol.py): an analyst makes one
    in the workspace, sees it once, and sends it as ``Authorization: Bearer …``. Only its SHA-256
    digest is stored (a token has 256 random bits, so a fast digest is enough); a ``read`` token
    reads what its owner may read, a ``write`` token also writes, through writes.py like the
    workspace. Requests are counted per minute (`window_start`, `window_count`) for the rate limit."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, help_text="What the token is for, e.g. the script that uses it.")
    scope = models.CharField(max_length=8, choices=Scope, default=Scope.READ)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="The token's first characters, to tell it apart.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True, editable=False)
    window_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.hint}…)"

    @property
    def can_write(self):
        return self.scope == self.Scope.WRITE
