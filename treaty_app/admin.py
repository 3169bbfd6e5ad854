"""Corpus curation: treaties, provisions, sources, excerpts and the review of excerpt links."""

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from .admin_guards import (
    GuardedAdminMixin,
    GuardedHistoryAdmin,
    GuardedModelAdmin,
    GuardedTabularInline,
    KeyChoiceField,
)
from .models import CrossReference, Excerpt, ExcerptLink, LanguageVersion, Provision, QuotedPassage, Source, Treaty
from .wording import save_wording


# --- Provisions named so that curators can tell them apart ---------------------------------------


def several_treaties(request):
    """Whether Glossa holds more than one treaty, so that “Article 4” alone is ambiguous; asked once
    per request."""
    if not hasattr(request, "_several_treaties"):
        request._several_treaties = Treaty.objects.all()[:2].count() > 1
    return request._several_treaties


def provision_label(provision, *, with_treaty):
    """“Article 4”, or “Article 4, DPRK–Russia Treaty (2024)” `with_treaty` (`provision.treaty` read)."""
    return f"{provision.label}, {provision.treaty.short_title}" if with_treaty else provision.label


class ProvisionListFilter(admin.RelatedFieldListFilter):
    """“By provision”, each provision named with its treaty once there are several treaties (the
    stock filter lists “Article 4” once per treaty). One query for all of them."""

    def field_choices(self, field, request, model_admin):
        with_treaty = several_treaties(request)
        provisions = Provision.objects.select_related("treaty").only(
            "kind", "number", "treaty__short_title").order_by("treaty", "position")
        return [(provision.pk, provision_label(provision, with_treaty=with_treaty)) for provision in provisions]


class ProvisionChoiceField(KeyChoiceField):
    """A provision field (an autocomplete's selected value, a select) whose labels name the treaty
    when there are several (`with_treaty`)."""

    with_treaty = False

    def label_from_instance(self, obj):
        return provision_label(obj, with_treaty=self.with_treaty)


class ProvisionLabelsMixin:
    """For admins and inlines with provision fields: those fields label provisions as the filter does."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is not Provision:
            return super().formfield_for_foreignkey(db_field, request, **kwargs)
        kwargs.setdefault("form_class", ProvisionChoiceField)
        kwargs.setdefault("queryset", Provision.objects.select_related("treaty"))
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        formfield.with_treaty = several_treaties(request)
        return formfield


class ProvisionInline(GuardedTabularInline):
    model = Provision
    fields = ["position", "slug", "kind", "number", "heading", "coverage"]
    readonly_fields = ["coverage"]
    extra = 0
    show_change_link = True


@admin.register(Treaty)
class TreatyAdmin(GuardedModelAdmin):
    list_display = ["short_title", "signed_on", "status", "provision_count"]
    search_fields = ["title", "short_title", "parties"]
    list_filter = ["status"]
    prepopulated_fields = {"slug": ["short_title"]}
    inlines = [ProvisionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(provision_count=Count("provisions"))

    @admin.display(description="Provisions", ordering="provision_count")
    def provision_count(self, obj):
        return obj.provision_count


class ExcerptLinkInline(ProvisionLabelsMixin, GuardedTabularInline):
    model = ExcerptLink
    fields = ["excerpt", "provision", "method", "reference", "state", "stance", "reviewed_by", "reviewed_at"]
    readonly_fields = ["reviewed_by", "reviewed_at"]
    autocomplete_fields = ["excerpt", "provision"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("excerpt__source", "provision__treaty", "reviewed_by")


class QuotedPassageInline(GuardedTabularInline):
    model = QuotedPassage
    fields = ["position", "source", "text", "source_start", "source_end"]
    readonly_fields = ["source_start", "source_end"]
    extra = 0


class SavesWording:
    """A ModelAdmin whose changed rows (a form's save, or a history revert, which SimpleHistoryAdmin
    saves here too) go through save_wording: their annotations are placed again, and the admin says how."""

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        reverting = "history" in request.path
        result = save_wording(
            obj, by=request.user,
            reason="Reverted to an earlier version in the admin" if reverting else "Wording edited in the admin",
        )
        if result.changed:
            self.message_user(request, result.summary(), messages.INFO)


@admin.register(LanguageVersion)
class LanguageVersionAdmin(SavesWording, GuardedHistoryAdmin):
    list_display = ["provision", "treaty", "language", "status", "source", "text_version"]
    list_filter = ["language", "status", "provision__treaty"]
    search_fields = ["text", "source"]
    list_select_related = ["provision__treaty"]
    autocomplete_fields = ["provision"]
    readonly_fields = ["text_version", "updated_at"]

    @admin.display(description="Treaty", ordering="provision__treaty")
    def treaty(self, obj):
        return obj.provision.treaty.short_title


@admin.register(Provision)
class ProvisionAdmin(SavesWording, GuardedHistoryAdmin):
    """Provisions; also the search behind every provision autocomplete, whose results name their
    treaty once there are several (`autocomplete_label`, see admin_site.py)."""

    list_display = ["label", "treaty", "heading", "coverage", "text_version", "approved_excerpts", "proposed_excerpts"]
    # Explicit: the counts' GROUP BY drops the model's default ordering, and the autocomplete pages by it.
    ordering = ["treaty", "position"]
    list_display_links = ["label"]
    list_filter = ["treaty", "coverage", "kind"]
    search_fields = ["slug", "heading", "text", "summary"]
    list_select_related = ["treaty"]
    readonly_fields = ["text_version", "updated_at", "other_languages"]
    autocomplete_fields = ["summary_source"]
    inlines = [QuotedPassageInline, ExcerptLinkInline]

    def autocomplete_label(self, request, obj):
        return provision_label(obj, with_treaty=several_treaties(request))

    @admin.display(description="Language versions")
    def other_languages(self, obj):
        """Links to its language versions, each edited on its own page (where save_wording saves it)."""
        versions = obj.language_versions.all() if obj.pk else []
        links = format_html_join(", ", '<a href="{}">{} ({})</a>', (
            (reverse("admin:treaty_app_languageversion_change", args=[v.pk]), v.language, v.get_status_display())
            for v in versions))
        add = format_html('<a href="{}?provision={}">Add one</a>', reverse("admin:treaty_app_languageversion_add"),
                          obj.pk) if obj.pk else ""
        return format_html("{} {}", links or "None.", add)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("treaty")
            .annotate(
                approved_count=Count("excerpt_links", filter=Q(excerpt_links__state=ExcerptLink.State.APPROVED)),
                proposed_count=Count("excerpt_links", filter=Q(excerpt_links__state=ExcerptLink.State.PROPOSED)),
            )
        )

    @admin.display(description="Provision", ordering="position")
    def label(self, obj):
        return obj.label

    @admin.display(description="Approved excerpts", ordering="approved_count")
    def approved_excerpts(self, obj):
        return obj.approved_count

    @admin.display(description="Awaiting review", ordering="proposed_count")
    def proposed_excerpts(self, obj):
        return obj.proposed_count


@admin.register(Source)
class SourceAdmin(GuardedModelAdmin):
    list_display = ["display_title", "author", "outlet", "published_on", "excerpt_count"]
    list_filter = ["outlet", "language"]
    search_fields = ["title", "author", "outlet", "body"]
    date_hierarchy = "published_on"
    readonly_fields = ["capture_name", "imported_at", "body", "capture"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("body", "capture").annotate(excerpt_count=Count("excerpts"))

    @admin.display(description="Excerpts", ordering="excerpt_count")
    def excerpt_count(self, obj):
        return obj.excerpt_count


@admin.register(Excerpt)
class ExcerptAdmin(GuardedModelAdmin):
    list_display = ["preview", "source", "start", "end"]
    list_filter = ["source"]
    search_fields = ["text"]
    list_select_related = ["source"]
    readonly_fields = ["digest"]
    inlines = [ExcerptLinkInline]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("source__body", "source__capture")

    @admin.display(description="Excerpt")
    def preview(self, obj):
        return Truncator(obj.text).chars(90)

    def save_model(self, request, obj, form, change):
        """An excerpt's text is the wording its annotations point into: it changes through the one path."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        result = save_wording(obj, by=request.user, reason="Excerpt edited in the admin")
        if result.changed:
            self.message_user(request, result.summary(), messages.INFO)


@admin.register(ExcerptLink)
class ExcerptLinkAdmin(ProvisionLabelsMixin, GuardedHistoryAdmin):
    list_display = ["provision", "treaty", "excerpt_preview", "source", "method", "reference", "state", "stance",
                    "reviewed_by"]
    list_editable = ["stance"]
    list_filter = ["state", "method", "provision__treaty", ("provision", ProvisionListFilter), "excerpt__source"]
    search_fields = ["excerpt__text", "reference"]
    list_select_related = ["provision__treaty", "excerpt__source", "reviewed_by"]
    autocomplete_fields = ["excerpt", "provision"]
    readonly_fields = ["reviewed_by", "reviewed_at"]
    actions = ["approve", "reject"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("excerpt__source__body", "excerpt__source__capture")

    @admin.display(description="Treaty", ordering="provision__treaty")
    def treaty(self, obj):
        return obj.provision.treaty.short_title

    @admin.display(description="Excerpt")
    def excerpt_preview(self, obj):
        return Truncator(obj.excerpt.text).chars(90)

    @admin.display(description="Source", ordering="excerpt__source")
    def source(self, obj):
        return obj.excerpt.source.display_title

    def save_model(self, request, obj, form, change):
        if "state" in form.changed_data:
            obj.reviewed_by, obj.reviewed_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)

    def review(self, request, queryset, state):
        # Row by row, so that each decision is in the link's history.
        links = list(queryset.exclude(state=state))
        for link in links:
            link.state, link.reviewed_by, link.reviewed_at = state, request.user, timezone.now()
            link.save()
        if links:
            self.message_user(request, f"{len(links)} excerpt link(s) marked {state}.", messages.SUCCESS)
        else:
            self.message_user(request, f"Nothing changed: the selected links were {state} already.", messages.WARNING)

    @admin.action(description="Approve selected links (make them public)", permissions=["change"])
    def approve(self, request, queryset):
        self.review(request, queryset, ExcerptLink.State.APPROVED)

    @admin.action(description="Reject selected links", permissions=["change"])
    def reject(self, request, queryset):
        self.review(request, queryset, ExcerptLink.State.REJECTED)


# django.contrib.auth's own admins take the same hostile selections and ids as Glossa's.
admin.site.unregister([User, Group])


@admin.register(CrossReference)
class CrossReferenceAdmin(ProvisionLabelsMixin, GuardedModelAdmin):
    """Curated pointers between provisions (also across treaties), or to one Glossa does not hold."""

    list_display = ["provision", "from_treaty", "relation", "other_end", "note"]
    list_filter = ["relation", "provision__treaty"]
    fields = ["provision", "relation", "target", "external_label", "external_url", "note"]
    search_fields = ["note", "external_label", "provision__heading", "target__heading"]
    list_select_related = ["provision__treaty", "target__treaty"]
    autocomplete_fields = ["provision", "target"]

    @admin.display(description="Treaty", ordering="provision__treaty")
    def from_treaty(self, obj):
        return obj.provision.treaty.short_title

    @admin.display(description="To")
    def other_end(self, obj):
        return obj.target.label_in(obj.provision.treaty) if obj.target_id else obj.external_label


@admin.register(User)
class GuardedUserAdmin(GuardedAdminMixin, UserAdmin):
    pass


@admin.register(Group)
class GuardedGroupAdmin(GuardedAdminMixin, GroupAdmin):
    pass
