"""The curators' workbench: the review queue, the tag vocabulary and the re-anchoring queue.

Every change of an annotation goes through writes.py, which records who did what and why: the
actions, the change form (tags only; visibility and review change only by the actions) and the
history revert. Curators read annotations by the one read rule (`readable_by`): never another
person's private note, which they see only as a count.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from treaty_app.admin import ProvisionListFilter
from treaty_app.admin_guards import GuardedHistoryAdmin, GuardedModelAdmin, GuardedTabularInline, KeyChoiceField
from treaty_app.diffing import word_diff

from . import placing, writes
from .models import Annotation, AssessmentField, AssessmentValue, Tag, TagAlias


class EstimatedCountPaginator(Paginator):
    """Pages whose total is PostgreSQL's own estimate once it is large: an exact count of a hundred
    thousand rows costs more than the page it paginates. Below ESTIMATE_FROM rows, or on another
    database, the count is exact."""

    ESTIMATE_FROM = 10_000

    @cached_property
    def count(self):
        if connection.vendor != "postgresql" or not hasattr(self.object_list, "explain"):
            return super().count
        plan = json.loads(self.object_list.order_by().explain(format="json"))
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        return estimate if estimate >= self.ESTIMATE_FROM else super().count

    @property
    def estimated(self):
        return connection.vendor == "postgresql" and self.count >= self.ESTIMATE_FROM


class ReviewActionForm(ActionForm):
    reason = forms.CharField(
        required=False, label="Reason (for “send back”)", widget=forms.TextInput(attrs={"size": 50}),
    )


class ReviewFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return Annotation.Review.choices

    def queryset(self, request, queryset):
        if self.value() == Annotation.Review.SUBMITTED:
            return queryset.awaiting_review()
        if self.value():
            return queryset.filter(review=self.value())
        return queryset


class AdriftFilter(admin.SimpleListFilter):
    title = "re-anchoring"
    parameter_name = "adrift"

    def lookups(self, request, model_admin):
        return [("yes", "Drifted or orphaned"), ("fuzzy", "Placed by a close match")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.adrift()
        if self.value() == "fuzzy":
            return queryset.live().filter(placement=Annotation.Placement.FUZZY)
        return queryset


class MergeTagsForm(forms.Form):
    """The tag to merge the selected ones into: any tag but them, so none is offered as its own target."""

    into = KeyChoiceField(queryset=Tag.objects.none(), label="Merge into")

    def __init__(self, *args, merging, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = Tag.objects.exclude(pk__in=[tag.pk for tag in merging])


class TagAliasInline(GuardedTabularInline):
    """The tags merged into this one: their URLs redirect here."""

    model = TagAlias
    fields = readonly_fields = ["slug", "name", "merged_at", "merged_by"]
    extra = 0
    verbose_name = "tag merged into this one"
    verbose_name_plural = "tags merged into this one (their URLs redirect here)"

    # Only writes.merge_tags writes aliases; whoever may see the tag sees them (no permission of their own).
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("annotations.view_tag")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tag)
class TagAdmin(GuardedHistoryAdmin):
    list_display = ["name", "parent", "slug", "colour_swatch", "description", "annotation_count", "created_by"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["created_by", "parent"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["created_by", "created_at"]
    actions = ["merge"]
    inlines = [TagAliasInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(annotation_total=Count("annotations"))

    @admin.display(description="Annotations", ordering="annotation_total")
    def annotation_count(self, obj):
        return obj.annotation_total

    @admin.display(description="Colour")
    def colour_swatch(self, obj):
        return format_html('<svg width="14" height="14" aria-hidden="true"><rect width="14" height="14" fill="{}"/></svg> {}',
                           obj.colour, obj.colour)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Merge selected tags into another…", permissions=["change"])
    def merge(self, request, queryset):
        merging = list(queryset)
        form = MergeTagsForm(request.POST if "into" in request.POST else None, merging=merging)
        if not form.fields["into"].queryset.exists():
            self.message_user(request, "Leave the tag to keep out of the selection: the others merge into it.",
                              messages.ERROR)
            return None
        if form.is_valid():
            merged, touched = writes.merge_tags(merging, into=form.cleaned_data["into"], curator=request.user)
            self.message_user(request, f"Merged {merged} tag(s) into “{form.cleaned_data['into']}”; "
                                       f"{touched} annotation(s) re-pointed.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request), "title": "Merge tags", "tags": merging, "form": form,
            "opts": self.model._meta, "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return render(request, "admin/annotations/tag/merge.html", context)


@admin.register(Annotation)
class AnnotationAdmin(GuardedHistoryAdmin):
    list_display = ["quote_preview", "note_preview", "target_label", "author", "review", "visibility",
                    "placement", "submitted_at", "state"]
    # Plain related filters, not RelatedOnly: those read the whole annotation table once each to list
    # only the values in use (four scans, most of the page's time at 100,000 rows).
    list_filter = [ReviewFilter, AdriftFilter, "visibility", ("provision", ProvisionListFilter), "excerpt__source",
                   "tags", "author", "created_at", ("deleted_at", admin.EmptyFieldListFilter),
                   ("hidden_at", admin.EmptyFieldListFilter)]
    search_fields = ["exact", "body", "author__username"]
    # No date_hierarchy: its year/month/day links read every row's date (a scan of the table); the
    # created_at filter (today, past 7 days, this month, this year) needs no query.
    ordering = ["-submitted_at", "-created_at"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False  # a second count of the whole table, for “N total”
    list_select_related = ["provision__treaty", "excerpt__source", "author"]
    list_per_page = 50
    autocomplete_fields = ["tags"]
    action_form = ReviewActionForm
    # Authors' words and anchors are theirs, and visibility and review change only through the actions
    # (which record who decided): the change form corrects tags, nothing else.
    readonly_fields = ["provision", "excerpt", "parent", "author", "visibility", "body", "assessment_shown", "revision",
                       "start", "end",
                       "exact", "prefix", "suffix", "original_exact", "text_version", "original_text_version",
                       "placement", "old_wording", "version", "review", "submitted_at", "reviewed_at", "reviewed_by",
                       "review_note", "created_at", "updated_at", "deleted_at", "deleted_by", "hidden_at", "hidden_by"]
    fields = ["tags", *readonly_fields]
    actions = ["publish", "send_back", "hide", "unhide", "restore", "confirm_placement", "retire"]

    def get_queryset(self, request):
        # The one read rule, as the admin's own queryset: curators never see another person's private note.
        annotations = Annotation.objects.readable_by(request.user, removed=True)
        if ordering := self.get_ordering(request):
            annotations = annotations.order_by(*ordering)
        return annotations.defer(
            "excerpt__source__body", "excerpt__source__capture", "body_html", "revision_body_html", "anchored_text",
            "provision__text",
        )

    def changelist_view(self, request, extra_context=None):
        # Other people's private notes exist, and curators may know how many, never what they say.
        unreadable = Annotation.objects.filter(visibility=Annotation.Visibility.PRIVATE).exclude(
            author=request.user
        ).count()
        extra_context = {**(extra_context or {}), "private_count": unreadable}
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        # The write module saves (save_related): only the tags are the form's to change.
        pass

    def save_related(self, request, form, formsets, change):
        writes.retag(form.instance.pk, curator=request.user, tags=form.cleaned_data["tags"])

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """Reverting goes through writes.revert (body, tags and visibility; never the anchor or a
        publication); viewing an old version needs the right to read the annotation."""
        readable = Annotation.objects.readable_by(request.user, removed=True)
        try:
            annotation = readable.get(pk=int(object_id))
            int(version_id)
        except (Annotation.DoesNotExist, ValueError, OverflowError):
            raise Http404("No such annotation or version.") from None
        if request.method == "POST":
            try:
                writes.revert(annotation.pk, by=request.user, history_id=int(version_id))
            except writes.Refused as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    "Reverted: its body, tags and visibility are as they were then; its anchor stays on "
                    "today's wording" + (", and on a published note the old text awaits publication as a revision."
                                         if annotation.visibility == Annotation.Visibility.PUBLIC else "."),
                    messages.SUCCESS,
                )
            return redirect(reverse("admin:annotations_annotation_change", args=[annotation.pk]))
        return super().history_form_view(request, object_id, version_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        readable = Annotation.objects.readable_by(request.user, removed=True)
        try:
            readable.get(pk=int(object_id))
        except (Annotation.DoesNotExist, ValueError, OverflowError):
            raise Http404("No such annotation.") from None
        return super().history_view(request, object_id, extra_context)

    def get_urls(self):
        urls = [
            path("<int:pk>/place/", self.admin_site.admin_view(self.place_view), name="annotations_annotation_place"),
            path("agreement/", self.admin_site.admin_view(self.agreement_view), name="annotations_annotation_agreement"),
            path("agreement/<int:provision_pk>/", self.admin_site.admin_view(self.agreement_view),
                 name="annotations_annotation_agreement_provision"),
        ]
        return urls + super().get_urls()

    def agreement_view(self, request, provision_pk=None):
        """Agreement between analysts per provision (agreement.py), over the annotations this curator
        may read; on one provision, the pairs that disagree, each with a form to adjudicate it."""
        from treaty_app.models import Provision

        from . import agreement, assessments
        from .models import Adjudication

        if not self.has_publish_permission(request):
            return redirect(reverse("admin:annotations_annotation_changelist"))
        known = assessments.scheme()
        readable = Annotation.objects.readable_by(request.user, roots=True).filter(provision__isnull=False)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": "Agreement between analysts"}
        if provision_pk is None:
            provisions = Provision.objects.filter(pk__in=readable.values("provision")).select_related("treaty")
            rows = []
            for provision in provisions:
                notes = list(readable.filter(provision=provision).prefetch_related("tags"))
                found, figures = agreement.provision_agreement(notes, known)
                if found:
                    rows.append((provision, len(found), [f for f in figures if f.pairs]))
            context["rows"] = rows
            return render(request, "admin/annotations/annotation/agreement.html", context)
        provision = get_object_or_404(Provision.objects.select_related("treaty"), pk=provision_pk)
        notes = list(readable.filter(provision=provision).select_related("author").prefetch_related("tags"))
        if request.method == "POST":
            try:
                writes.adjudicate(provision=provision, unit=request.POST.get("unit", ""), field=request.POST.get("field", ""),
                                  value=request.POST.get("value", "")[:300], note=request.POST.get("note", ""),
                                  curator=request.user)
            except writes.Refused as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
            else:
                self.message_user(request, "The adjudication is recorded.", messages.SUCCESS)
            return redirect(request.path)
        found, figures = agreement.provision_agreement(notes, known)
        decided = {(d.unit, d.field): d for d in Adjudication.objects.filter(provision=provision)}
        context |= {"provision": provision, "figures": figures, "units": found, "decided": decided,
                    "title": f"Agreement between analysts: {provision.label}, {provision.treaty.short_title}"}
        return render(request, "admin/annotations/annotation/agreement_provision.html", context)

    def has_add_permission(self, request):
        # Annotations are made on the text, in the workspace, where the anchor is checked.
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting is soft everywhere (see the restore action), so nothing is lost.
        return False

    def has_hide_permission(self, request):
        return request.user.has_perm("annotations.hide_annotation")

    def has_publish_permission(self, request):
        return request.user.has_perm("annotations.publish_annotation")

    @admin.display(description="Quote")
    def quote_preview(self, obj):
        return Truncator(obj.exact or obj.body).chars(70)

    @admin.display(description="Note")
    def note_preview(self, obj):
        """The note, or for a pending revision what it changes: words taken out struck, words put in marked."""
        if not obj.has_revision:
            return Truncator(obj.body).chars(160)
        return word_diff(obj.body, obj.revision_body)

    @admin.display(description="Assessment")
    def assessment_shown(self, obj):
        from . import assessments

        shown = assessments.describe(obj.assessment or {}, assessments.scheme())
        if not shown:
            return "—"
        return format_html_join(
            "", "<div>{}: {}{}</div>",
            ((item.field, item.value, " (retired from the scheme)" if item.retired else "") for item in shown),
        )

    @admin.display(description="Pending revision")
    def revision(self, obj):
        if not obj.has_revision:
            return "—"
        return word_diff(obj.body, obj.revision_body)

    @admin.display(description="On")
    def target_label(self, obj):
        if obj.provision_id:
            return f"{obj.provision.label}, {obj.provision.treaty.short_title}"
        if obj.excerpt_id:
            return f"Excerpt of {obj.excerpt.source.display_title}"
        return "Reply"

    @admin.display(description="State")
    def state(self, obj):
        return "deleted" if obj.deleted_at else "hidden" if obj.hidden_at else "live"

    @admin.display(description="Wording when it lost its place")
    def old_wording(self, obj):
        if not obj.anchored_text:
            return "—"
        url = reverse("admin:annotations_annotation_place", args=[obj.pk])
        return format_html('{}<p><a class="button" href="{}">Place it again…</a></p>', obj.anchored_text, url)

    @admin.action(description="Publish selected annotations", permissions=["publish"])
    def publish(self, request, queryset):
        self.report(request, writes.publish(queryset, curator=request.user), "published",
                    "none of them was submitted for publication (a reply waits for its note)")

    @admin.action(description="Send back to their authors (with the reason typed above)", permissions=["publish"])
    def send_back(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "Say why in the reason box: the author will read it.", messages.ERROR)
            return
        count = writes.send_back(queryset, curator=request.user, reason=reason)
        self.report(request, count, "sent back", "none of them was awaiting review or published")

    @admin.action(description="Hide selected annotations", permissions=["hide"])
    def hide(self, request, queryset):
        self.report(request, writes.hide(queryset, curator=request.user), "hidden", "all were hidden already")

    @admin.action(description="Show selected hidden annotations again", permissions=["hide"])
    def unhide(self, request, queryset):
        self.report(request, writes.show(queryset, curator=request.user), "shown again", "none of them was hidden")

    @admin.action(description="Restore selected deleted annotations", permissions=["hide"])
    def restore(self, request, queryset):
        self.report(request, writes.restore(queryset, curator=request.user), "restored", "none of them was deleted")

    @admin.action(description="Confirm the close-match placement", permissions=["hide"])
    def confirm_placement(self, request, queryset):
        self.report(request, writes.confirm_placement(queryset, by=request.user), "placement(s) confirmed",
                    "none of them was placed by a close match")

    @admin.action(description="Retire (cannot be placed again)", permissions=["hide"])
    def retire(self, request, queryset):
        self.report(request, writes.retire(queryset, curator=request.user), "retired",
                    "all were retired or deleted already")

    def report(self, request, count, done, why_none):
        """Tell the curator what an action did: a success, or a warning saying why it did nothing."""
        if count:
            self.message_user(request, f"{count} {done}.", messages.SUCCESS)
        else:
            self.message_user(request, f"Nothing {done}: {why_none}.", messages.WARNING)

    def place_view(self, request, pk):
        """Place an annotation that lost its place again on words of the new wording (see placing.py)."""
        readable = Annotation.objects.readable_by(request.user, removed=True)
        annotation = get_object_or_404(readable.select_related("provision__treaty", "author"), pk=pk)
        change_url = reverse("admin:annotations_annotation_change", args=[pk])
        if not self.has_hide_permission(request):
            return redirect(change_url)
        if (reason := placing.refusal(annotation)) is not None:
            response, context, status = None, {"annotation": annotation, "refused": reason}, 409
        else:
            response, context, status = placing.place(request, annotation, done_url=change_url)
        if response is not None:
            return response
        context |= {**self.admin_site.each_context(request), "title": "Place the annotation again",
                    "opts": self.model._meta, "original": annotation, "cancel_url": change_url}
        return render(request, "admin/annotations/annotation/place.html", context, status=status)



class AssessmentValueInline(GuardedTabularInline):
    model = AssessmentValue
    fields = ["position", "slug", "label", "retired", "in_use"]
    readonly_fields = ["in_use"]
    extra = 0
    # Values are retired, not deleted: assessments keep the slugs they stored.
    can_delete = False

    @admin.display(description="Annotations with it")
    def in_use(self, value):
        if value.pk is None:
            return "—"
        return Annotation.objects.filter(**{f"assessment__{value.field.slug}": value.slug}).count()


@admin.register(AssessmentField)
class AssessmentFieldAdmin(GuardedModelAdmin):
    """The assessment scheme. A field or value is retired, never deleted, so stored assessments stay
    readable; the list says how many annotations hold a retired one."""

    list_display = ["label", "slug", "kind", "position", "retired", "retired_in_use"]
    list_editable = ["position"]
    fields = ["label", "slug", "kind", "position", "help_text", "retired"]
    prepopulated_fields = {"slug": ["label"]}
    inlines = [AssessmentValueInline]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Annotations holding a retired value")
    def retired_in_use(self, field):
        retired = [value.slug for value in field.values.all() if value.retired or field.retired]
        if field.retired and field.kind == AssessmentField.Kind.TEXT:
            return Annotation.objects.filter(assessment__has_key=field.slug).count()
        return Annotation.objects.filter(**{f"assessment__{field.slug}__in": retired}).count() if retired else 0

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("values")
