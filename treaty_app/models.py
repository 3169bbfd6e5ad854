"""The treaty corpus: treaties, their provisions, and the commentary that discusses them."""

import hashlib

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, Prefetch, Q
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language_info
from simple_history.models import HistoricalRecords

from . import rules


class ContentVersion(models.Model):
    """A counter per scope of content that goes up with every change pages in that scope show.

    Public pages derive their ETag and page-cache key from the scopes they show (see
    versioning.py), so a revalidation costs one query and no change is ever served stale. Kept
    in the database so that every app server agrees. The scopes: ``shared`` (what every page may
    show: sources, tags, user names, other treaties' labels) and ``treaty:<slug>`` (one treaty's
    wording, excerpt links and published annotations).
    """

    scope = models.CharField(max_length=80, unique=True)
    version = models.BigIntegerField(default=1)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.scope} v{self.version}"


class VersionedQuerySet(models.QuerySet):
    """Bulk writes skip model signals, so they mark the content changed themselves.

    Which scopes a bulk write touches is not known here, so it changes ``shared``, which every
    page shows: safe, and bulk writes of corpus rows are rare."""

    def _changed(self):
        from .versioning import SHARED, changed

        changed(SHARED)

    def update(self, **kwargs):
        count = super().update(**kwargs)
        if count:
            self._changed()
        return count

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            self._changed()
        return created

    def bulk_update(self, objs, *args, **kwargs):
        count = super().bulk_update(objs, *args, **kwargs)
        if count:
            self._changed()
        return count

    def delete(self):
        result = super().delete()
        if result[0]:
            self._changed()
        return result


def language_name(tag):
    """“Russian” for ``ru``, in English; the tag itself for a language Django has no name for."""
    try:
        return get_language_info(tag.split("-")[0])["name"]
    except KeyError:
        return tag


class WordingStatus(models.TextChoices):
    """What a wording is, in the treaty's own terms."""

    AUTHENTIC = "authentic", "Authentic text"
    OFFICIAL = "official", "Official translation"
    UNOFFICIAL = "unofficial", "Unofficial rendering"
    QUOTED = "quoted", "Quoted passages only"


class Treaty(models.Model):
    class Status(models.TextChoices):
        SIGNED = "signed", "Signed, not yet in force"
        IN_FORCE = "in_force", "In force"
        TERMINATED = "terminated", "Terminated or superseded"

    slug = models.SlugField(unique=True, help_text="Used in URLs; never change it once published.")
    title = models.CharField(max_length=300)
    short_title = models.CharField(max_length=120)
    parties = models.CharField(max_length=300, help_text="The parties, separated by semicolons.")
    signed_on = models.DateField(null=True, blank=True)
    signed_at = models.CharField("place of signature", max_length=120, blank=True)
    in_force_on = models.DateField("entry into force", null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.SIGNED)
    notes = models.TextField(blank=True, help_text="What is known of the text and its versions.")
    language = models.CharField(
        max_length=rules.LANGUAGE_TAG_MAX, default="en", validators=[rules.validate_language_tag],
        help_text="BCP 47 tag of the wording its provisions hold (their other languages are language versions).",
    )
    language_status = models.CharField(
        "status of that wording", max_length=16, choices=WordingStatus, default=WordingStatus.UNOFFICIAL,
    )

    objects = VersionedQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on", "title"]
        verbose_name_plural = "treaties"

    def __str__(self):
        return self.short_title

    @property
    def language_name(self):
        return language_name(self.language)

    def get_absolute_url(self):
        return reverse("reader:treaty", args=[self.slug])

    @property
    def party_list(self):
        return [party.strip() for party in self.parties.split(";") if party.strip()]


class ProvisionQuerySet(VersionedQuerySet):
    def in_order(self):
        return self.order_by("treaty", "position")

    def with_public_counts(self):
        """Each provision with the number of approved excerpts that discuss it, in one query."""
        return self.annotate(
            excerpt_count=Count("excerpt_links", filter=Q(excerpt_links__state=ExcerptLink.State.APPROVED))
        )


class Provision(models.Model):
    class Kind(models.TextChoices):
        PREAMBLE = "preamble", "Preamble"
        ARTICLE = "article", "Article"

    class Coverage(models.TextChoices):
        FULL = "full", "Full text, imported from an official text"
        QUOTED = "quoted", "Only the passages that commentators quote"
        SUMMARY = "summary", "Only a summary of what commentators say it covers"
        NONE = "none", "No wording and no description"

    treaty = models.ForeignKey(Treaty, on_delete=models.CASCADE, related_name="provisions")
    kind = models.CharField(max_length=16, choices=Kind)
    number = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Article number; empty for the preamble.")
    position = models.PositiveSmallIntegerField(help_text="Reading order within the treaty: the preamble is 0.")
    slug = models.SlugField(help_text="Stable within the treaty: preamble, art-1, art-2, …")
    heading = models.CharField(max_length=200, blank=True, help_text="What the provision covers, in a few words.")
    text = models.TextField(
        blank=True,
        help_text="The wording held. For quoted provisions, the quoted passages in order, one per paragraph.",
    )
    coverage = models.CharField(max_length=16, choices=Coverage, default=Coverage.NONE)
    summary = models.TextField(blank=True, help_text="What the commentators say the provision covers.")
    summary_source = models.ForeignKey(
        "Source", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The commentary the summary is drawn from.",
    )
    text_version = models.PositiveIntegerField(
        default=1, help_text="Goes up each time the wording changes; annotations record the version they anchor to."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProvisionQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["treaty", "position"]
        constraints = [
            models.UniqueConstraint(fields=["treaty", "slug"], name="provision_slug_unique_per_treaty"),
            models.UniqueConstraint(fields=["treaty", "position"], name="provision_position_unique_per_treaty"),
            models.UniqueConstraint(
                fields=["treaty", "number"], condition=Q(number__isnull=False),
                name="provision_number_unique_per_treaty",
            ),
            models.CheckConstraint(
                condition=Q(kind="preamble", number__isnull=True) | Q(kind="article", number__isnull=False),
                name="provision_article_has_number",
            ),
            models.CheckConstraint(
                condition=Q(coverage__in=["full", "quoted"]) | Q(text=""),
                name="provision_wording_only_when_held",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return "Preamble" if self.kind == self.Kind.PREAMBLE else f"Article {self.number}"

    def get_absolute_url(self):
        return reverse("reader:provision", args=[self.treaty.slug, self.slug])

    def label_in(self, treaty):
        """“Article 3”, or “Article 3, Treaty X” when seen from another treaty."""
        return self.label if self.treaty_id == treaty.pk else f"{self.label}, {self.treaty.short_title}"

    @property
    def paragraphs(self):
        return [paragraph for paragraph in self.text.split("\n\n") if paragraph]

    @property
    def eid(self):
        """The provision's Akoma Ntoso eId (``preamble``, ``art_4``): the slug in AKN's spelling."""
        return self.slug.replace("-", "_")

    @property
    def paragraph_eid_prefix(self):
        """The eId of paragraph N is this followed by N: ``art_4__para_``; a preamble holds no
        <paragraph> elements in Akoma Ntoso, only <p> blocks (``preamble__p_``)."""
        return f"{self.eid}__{'p' if self.kind == self.Kind.PREAMBLE else 'para'}_"


class LanguageVersion(models.Model):
    """A provision's wording in another language than the one `Provision.text` is in (its treaty's
    `language`): the Russian and Korean authentic texts beside the English rendering. Annotations
    on it index this text; `treaty_app.wording.save_wording` is the one way its text changes."""

    Status = WordingStatus

    provision = models.ForeignKey(Provision, on_delete=models.CASCADE, related_name="language_versions")
    language = models.CharField(
        max_length=rules.LANGUAGE_TAG_MAX, validators=[rules.validate_language_tag], help_text="BCP 47 tag: ru, ko, en-GB…"
    )
    status = models.CharField(max_length=16, choices=WordingStatus, default=WordingStatus.AUTHENTIC)
    source = models.CharField(max_length=300, blank=True, help_text="Where this wording comes from: a file, an address.")
    text = models.TextField()
    text_version = models.PositiveIntegerField(
        default=1, help_text="Goes up each time the wording changes; annotations record the version they anchor to."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = VersionedQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["provision", "language"]
        constraints = [
            models.UniqueConstraint(fields=["provision", "language"], name="language_version_unique"),
        ]

    def __str__(self):
        return f"{self.provision.label} ({self.language})"

    @property
    def language_name(self):
        return language_name(self.language)

    def get_absolute_url(self):
        return reverse("reader:provision-language", args=[self.provision.treaty.slug, self.provision.slug, self.language])

    @property
    def paragraphs(self):
        return [paragraph for paragraph in self.text.split("\n\n") if paragraph]


class QuotedPassage(models.Model):
    """A passage of a provision's wording as one commentary quotes it, traceable to that commentary."""

    provision = models.ForeignKey(Provision, on_delete=models.CASCADE, related_name="quoted_passages")
    source = models.ForeignKey("Source", on_delete=models.PROTECT, related_name="quoted_passages")
    position = models.PositiveSmallIntegerField(help_text="Order of the passage within the provision's text.")
    text = models.TextField(help_text="The words exactly as the commentary quotes them.")
    source_start = models.PositiveIntegerField(help_text="Offset of the quote in the source's cleaned body.")
    source_end = models.PositiveIntegerField()

    objects = VersionedQuerySet.as_manager()

    class Meta:
        ordering = ["provision", "position"]
        constraints = [
            models.UniqueConstraint(fields=["provision", "position"], name="quoted_passage_position_unique"),
            models.CheckConstraint(condition=Q(source_start__lt=F("source_end")), name="quoted_passage_not_empty"),
            models.CheckConstraint(
                condition=Q(source_end=F("source_start") + Length("text")), name="quoted_passage_offsets_match_text"
            ),
        ]

    def __str__(self):
        return f"{self.provision}: “{self.text[:60]}…”"

    def clean(self):
        if self.source_id and self.source.body[self.source_start : self.source_end] != self.text:
            raise ValidationError("The passage does not match the source's text at these offsets.", code="mismatch")


class SourceQuerySet(VersionedQuerySet):
    def listing(self):
        """Sources without their (long) texts, for lists."""
        return self.defer("body", "capture")


class Source(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=300, blank=True, help_text="Empty when the capture gives no title.")
    author = models.CharField(max_length=200, blank=True)
    outlet = models.CharField(max_length=200, blank=True)
    published_on = models.DateField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    language = models.CharField(max_length=16, default="en")
    notes = models.TextField(blank=True, help_text="What is known, inferred or missing about this source.")
    body = models.TextField(help_text="The cleaned article text; excerpt offsets index this string.")
    capture = models.TextField(help_text="The page as captured, site chrome included, kept for provenance.")
    capture_name = models.CharField(max_length=200, unique=True, help_text="File name of the original capture.")
    imported_at = models.DateTimeField(auto_now_add=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["published_on", "title"]

    def __str__(self):
        return self.display_title

    @property
    def display_title(self):
        return self.title or f"Untitled commentary ({self.outlet or self.capture_name})"

    def get_absolute_url(self):
        return reverse("reader:source", args=[self.slug])

    @property
    def web_url(self):
        """The url to link to, or "" when it is not an http(s) address (a row stored before the rule)."""
        try:
            return rules.clean_url(self.url, field="url")
        except ValidationError:
            return ""


def text_digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


class ExcerptQuerySet(VersionedQuerySet):
    def with_public_links(self):
        """Excerpts with their approved links and provisions prefetched, in two extra queries in all."""
        return self.prefetch_related(
            Prefetch(
                "links",
                queryset=ExcerptLink.objects.approved().select_related("provision__treaty"),
                to_attr="public_links",
            )
        )


class Excerpt(models.Model):
    """A verbatim span of a source's cleaned body."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="excerpts")
    start = models.PositiveIntegerField(help_text="Offset of the first character in the source's cleaned body.")
    end = models.PositiveIntegerField(help_text="Offset just past the last character.")
    text = models.TextField(help_text="The source's words at start:end, verbatim.")
    digest = models.CharField(max_length=64, editable=False, help_text="SHA-256 of the text: one excerpt per text.")

    objects = ExcerptQuerySet.as_manager()

    class Meta:
        ordering = ["source", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="excerpt_not_empty"),
            models.CheckConstraint(condition=Q(end=F("start") + Length("text")), name="excerpt_offsets_match_text"),
            models.UniqueConstraint(fields=["source", "start"], name="excerpt_start_unique_per_source"),
            # A capture that repeats a paragraph must not yield the same excerpt twice.
            models.UniqueConstraint(fields=["source", "digest"], name="excerpt_text_unique_per_source"),
        ]

    def __str__(self):
        return f"{self.source.display_title}: “{self.text[:60]}…”"

    def save(self, *args, **kwargs):
        self.digest = text_digest(self.text)
        super().save(*args, **kwargs)

    def clean(self):
        if self.source_id and self.source.body[self.start : self.end] != self.text:
            raise ValidationError("The excerpt does not match the source's text at these offsets.", code="mismatch")

    def get_absolute_url(self):
        return f"{self.source.get_absolute_url()}#excerpt-{self.pk}"


class ExcerptLinkQuerySet(VersionedQuerySet):
    def approved(self):
        return self.filter(state=ExcerptLink.State.APPROVED)

    def awaiting_review(self):
        return self.filter(state=ExcerptLink.State.PROPOSED)


class ExcerptLink(models.Model):
    """Says that an excerpt discusses a provision, how that was found, and whether a curator agreed."""

    class Method(models.TextChoices):
        EXPLICIT = "explicit", "Explicit reference in the text"
        IMPLICIT = "implicit", "Implicit, set by a curator"

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class Stance(models.TextChoices):
        SUPPORTS = "supports", "Supports"
        DISPUTES = "disputes", "Disputes"
        COMPARES = "compares", "Compares"
        QUOTES = "quotes", "Quotes"

    excerpt = models.ForeignKey(Excerpt, on_delete=models.CASCADE, related_name="links")
    provision = models.ForeignKey(Provision, on_delete=models.CASCADE, related_name="excerpt_links")
    stance = models.CharField(
        max_length=16, choices=Stance, blank=True,
        help_text="What the excerpt does with the provision, as a curator reads it: shown on the consensus page.",
    )
    method = models.CharField(max_length=16, choices=Method, default=Method.IMPLICIT)
    reference = models.CharField(
        max_length=200, blank=True, help_text="The words that name the provision, e.g. “Articles 18–20”."
    )
    state = models.CharField(max_length=16, choices=State, default=State.PROPOSED)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ExcerptLinkQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["provision", "excerpt"]
        constraints = [
            models.UniqueConstraint(fields=["excerpt", "provision"], name="excerpt_link_unique"),
            models.CheckConstraint(
                condition=Q(method="implicit") | ~Q(reference=""), name="explicit_link_names_its_reference"
            ),
        ]

    def __str__(self):
        return f"{self.excerpt.source.display_title} → {self.provision}"


class CrossReferenceQuerySet(VersionedQuerySet):
    def touching(self, provision):
        """References from and to a provision, each seen from that provision's side."""
        return (
            self.filter(Q(provision=provision) | Q(target=provision))
            .select_related("provision__treaty", "target__treaty")
            .order_by("pk")
        )


class CrossReference(models.Model):
    """A curated pointer from one provision to a related one, in this treaty, another, or elsewhere.

    `relation` reads from `provision` to the other end (“Article 4 replaces Article 1 of the 1961
    treaty”); seen from the other end it reads the other way (`relation_seen_from`)."""

    class Relation(models.TextChoices):
        REPLACES = "replaces", "Replaces"
        REPLACED_BY = "replaced_by", "Replaced by"
        COMPARE = "compare", "Compare"
        REFERS_TO = "refers_to", "Refers to"

    # The same relation read from the other end.
    INVERSE_LABELS = {
        Relation.REPLACES: "Replaced by",
        Relation.REPLACED_BY: "Replaces",
        Relation.COMPARE: "Compare",
        Relation.REFERS_TO: "Referred to by",
    }

    provision = models.ForeignKey(Provision, on_delete=models.CASCADE, related_name="references_out")
    target = models.ForeignKey(
        Provision, on_delete=models.CASCADE, null=True, blank=True, related_name="references_in",
        help_text="A provision held in Glossa (this treaty or another).",
    )
    external_label = models.CharField(
        max_length=300, blank=True,
        help_text="For a provision not held in Glossa, e.g. “Treaty of Friendship (1961), Article 1”.",
    )
    external_url = models.URLField(max_length=500, blank=True)
    relation = models.CharField(
        max_length=16, choices=Relation, default=Relation.COMPARE,
        help_text="How the provision relates to the other end, read from the provision: it replaces it, is "
        "replaced by it, is to be read with it (compare), or its text refers to it. Readers of the other "
        "end see it the other way round (“Replaced by”, “Referred to by”).",
    )
    note = models.CharField(max_length=300, blank=True, help_text="Why they are related, in a sentence.")

    objects = CrossReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["provision", "target__position", "external_label"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(target__isnull=False) & Q(external_label=""))
                | (Q(target__isnull=True) & ~Q(external_label="")),
                name="cross_reference_has_one_target",
            ),
            models.CheckConstraint(condition=~Q(target=F("provision")), name="cross_reference_not_to_itself"),
            models.UniqueConstraint(
                fields=["provision", "target"], condition=Q(target__isnull=False), name="cross_reference_unique"
            ),
            models.CheckConstraint(
                condition=Q(relation__in=["replaces", "replaced_by", "compare", "refers_to"]),
                name="cross_reference_relation_known",
            ),
        ]

    def __str__(self):
        return f"{self.provision} → {self.target or self.external_label}"

    def relation_seen_from(self, provision):
        """“Replaces”, “Replaced by”, “Compare”, “Refers to” or “Referred to by”, as `provision` reads it."""
        if self.target_id and self.target_id == provision.pk:
            return self.INVERSE_LABELS[self.relation]
        return self.get_relation_display()

    def other_side(self, provision):
        """(label, url) of the end that is not `provision`."""
        if self.target_id and self.target_id != provision.pk:
            return self.target.label_in(provision.treaty), self.target.get_absolute_url()
        if self.target_id:
            return self.provision.label_in(provision.treaty), self.provision.get_absolute_url()
        return self.external_label, self.external_url
