"""Annotations on the wording of a provision (or on a commentary excerpt), and the tags that classify them."""

from django.conf import settings
from django.db import models
from django.db.models import F, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from simple_history.models import HistoricalRecords

from treaty_app.models import VersionedQuerySet

from .sanitize import render_markdown

UNDO_WINDOW = timezone.timedelta(minutes=15)


class Tag(models.Model):
    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
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

    objects = VersionedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="tag_colour_is_hex"),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="tag_not_its_own_parent"),
        ]

    def __str__(self):
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name

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


class AnnotationQuerySet(VersionedQuerySet):
    def live(self):
        """Not deleted and not hidden by a curator."""
        return self.filter(deleted_at__isnull=True, hidden_at__isnull=True)

    def published(self):
        """What the public may see: public, not deleted, not hidden."""
        return self.live().filter(visibility=Annotation.Visibility.PUBLIC)

    def visible_to(self, user):
        """What this user may see: public ones, team ones for analysts and curators, and their own.

        Analysts and curators are those with the view permission, which their groups grant."""
        if user.is_anonymous:
            return self.filter(visibility=Annotation.Visibility.PUBLIC)
        if user.has_perm("annotations.view_annotation"):
            return self.filter(
                Q(visibility__in=[Annotation.Visibility.PUBLIC, Annotation.Visibility.TEAM]) | Q(author=user)
            )
        return self.filter(Q(visibility=Annotation.Visibility.PUBLIC) | Q(author=user))

    def for_panel(self):
        """Everything an annotation card shows, fetched up front: the query count does not grow with rows."""
        return self.select_related("author").prefetch_related(
            "tags",
            Prefetch(
                "replies",
                queryset=Annotation.objects.live().select_related("author").order_by("created_at", "pk"),
                to_attr="live_replies",
            ),
        )

    def roots(self):
        return self.filter(parent__isnull=True)

    def awaiting_review(self):
        return self.live().filter(review=Annotation.Review.SUBMITTED)

    def adrift(self):
        """Annotations a change of wording left without a confident place."""
        return self.live().filter(placement__in=[Annotation.Placement.DRIFTED, Annotation.Placement.ORPHANED])

    def on_provision(self, provision):
        """Root annotations anchored in the provision's wording, in reading order."""
        return self.roots().filter(provision=provision).order_by(F("start").asc(nulls_last=True), "end", "pk")


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

    class Placement(models.TextChoices):
        ANCHORED = "anchored", "Anchored"
        FUZZY = "fuzzy", "Re-anchored by a close match"
        DRIFTED = "drifted", "Drifted: its words changed, place it again"
        ORPHANED = "orphaned", "Orphaned: its words are gone"

    provision = models.ForeignKey(
        "treaty_app.Provision", on_delete=models.PROTECT, null=True, blank=True, related_name="annotations"
    )
    excerpt = models.ForeignKey(
        "treaty_app.Excerpt", on_delete=models.PROTECT, null=True, blank=True, related_name="annotations"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies",
        help_text="The annotation this one replies to; a reply has no anchor of its own.",
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations")
    body = models.TextField(help_text="The analyst's note, in Markdown.")
    body_html = models.TextField(editable=False, help_text="The body rendered and sanitised; never edited by hand.")
    tags = models.ManyToManyField(Tag, blank=True, related_name="annotations")
    visibility = models.CharField(max_length=16, choices=Visibility, default=Visibility.TEAM)

    # W3C Web Annotation anchor: TextPositionSelector (start, end: code points) and TextQuoteSelector.
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    exact = models.TextField(blank=True, help_text="The words annotated, exactly as they stood.")
    prefix = models.CharField(max_length=64, blank=True)
    suffix = models.CharField(max_length=64, blank=True)
    text_version = models.PositiveIntegerField(null=True, blank=True, help_text="Version of the wording anchored to.")
    placement = models.CharField(max_length=16, choices=Placement, default=Placement.ANCHORED)
    anchored_text = models.TextField(
        blank=True, help_text="The wording as it stood when the annotation drifted or was orphaned."
    )

    review = models.CharField(max_length=16, choices=Review, default=Review.NONE, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField(blank=True, help_text="Why it was sent back; its author sees this.")

    version = models.PositiveIntegerField(default=1, help_text="Goes up on each edit; stale edits are refused.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = AnnotationQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[tags], excluded_fields=["body_html"])

    class Meta:
        ordering = ["provision", "start", "pk"]
        permissions = [
            ("hide_annotation", "Can hide any annotation"),
            ("publish_annotation", "Can publish annotations"),
        ]
        indexes = [models.Index(fields=["provision", "visibility"], name="annotation_prov_visibility")]
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
                condition=Q(parent__isnull=False, start__isnull=True, end__isnull=True)
                | Q(parent__isnull=True, placement__in=["drifted", "orphaned"], start__isnull=True, end__isnull=True)
                | Q(parent__isnull=True, placement__in=["anchored", "fuzzy"], start__lt=F("end")),
                name="annotation_anchor_matches_placement",
            ),
        ]

    def __str__(self):
        return Truncator(self.exact or self.body).chars(60)

    def save(self, *args, **kwargs):
        self.body_html = render_markdown(self.body)
        if kwargs.get("update_fields") is not None and "body" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "body_html"}
        super().save(*args, **kwargs)

    @property
    def target(self):
        return self.provision or self.excerpt

    @property
    def is_reply(self):
        return self.parent_id is not None

    @property
    def is_placed(self):
        return self.start is not None

    @property
    def can_be_restored(self):
        return self.deleted_at is not None and timezone.now() - self.deleted_at < UNDO_WINDOW

    def get_absolute_url(self):
        root = self.parent or self
        if root.provision_id:
            provision = root.provision
            url = reverse("annotations:workspace", args=[provision.treaty.slug, provision.slug])
        else:
            url = reverse("annotations:home")
        return f"{url}#annotation-{self.pk}"
