"""The curators' workbench: the review queue, the tag vocabulary and the re-anchoring queue.

Every change goes through curation.py, row by row, so the history records who did what.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from treaty_app.admin_guards import GuardedHistoryAdmin

from . import curation, placing
from .models import Annotation, Tag


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
    into = forms.ModelChoiceField(queryset=Tag.objects.all(), label="Merge into")


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
        form = MergeTagsForm(request.POST if "into" in request.POST else None)
        if form.is_valid():
            merged, touched = curation.merge_tags(list(queryset), into=form.cleaned_data["into"])
            self.message_user(request, f"Merged {merged} tag(s) into “{form.cleaned_data['into']}”; "
                                       f"{touched} annotation(s) re-pointed.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request), "title": "Merge tags", "tags": queryset, "form": form,
            "opts": self.model._meta, "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return render(request, "admin/annotations/tag/merge.html", context)


@admin.register(Annotation)
class AnnotationAdmin(GuardedHistoryAdmin):
    list_display = ["quote_preview", "target_label", "author", "review", "visibility", "placement",
                    "submitted_at", "state"]
    list_filter = [ReviewFilter, AdriftFilter, "visibility", ("provision", admin.RelatedOnlyFieldListFilter),
                   ("excerpt__source", admin.RelatedOnlyFieldListFilter), ("tags", admin.RelatedOnlyFieldListFilter),
                   ("author", admin.RelatedOnlyFieldListFilter),
                   ("deleted_at", admin.EmptyFieldListFilter), ("hidden_at", admin.EmptyFieldListFilter)]
    search_fields = ["exact", "body", "author__username"]
    date_hierarchy = "created_at"
    ordering = ["-submitted_at", "-created_at"]
    list_select_related = ["provision__treaty", "excerpt__source", "author"]
    list_per_page = 50
    autocomplete_fields = ["tags"]
    action_form = ReviewActionForm
    # Authors' words and anchors are theirs: curators decide visibility and publication, not wording.
    readonly_fields = ["provision", "excerpt", "parent", "author", "body", "start", "end", "exact", "prefix",
                       "suffix", "text_version", "placement", "old_wording", "version", "review", "submitted_at",
                       "reviewed_at", "reviewed_by", "review_note", "created_at", "updated_at", "deleted_at",
                       "hidden_at", "hidden_by"]
    fields = ["visibility", "tags", *readonly_fields]
    actions = ["publish", "send_back", "hide", "unhide", "restore", "confirm_placement", "retire"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer(
            "excerpt__source__body", "excerpt__source__capture", "body_html", "anchored_text", "provision__text"
        )

    def get_urls(self):
        urls = [path("<int:pk>/place/", self.admin_site.admin_view(self.place_view), name="annotations_annotation_place")]
        return urls + super().get_urls()

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

    @admin.display(description="On")
    def target_label(self, obj):
        if obj.provision_id:
            return obj.provision.label
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
        self.report(request, curation.publish_annotations(queryset, curator=request.user), "published",
                    "none of them was awaiting publication")

    @admin.action(description="Send back to their authors (with the reason typed above)", permissions=["publish"])
    def send_back(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "Say why in the reason box: the author will read it.", messages.ERROR)
            return
        count = curation.send_back(queryset, curator=request.user, reason=reason)
        self.report(request, count, "sent back", "none of them was awaiting review or published")

    @admin.action(description="Hide selected annotations", permissions=["hide"])
    def hide(self, request, queryset):
        self.report(request, curation.hide_annotations(queryset, curator=request.user), "hidden", "all were hidden already")

    @admin.action(description="Show selected hidden annotations again", permissions=["hide"])
    def unhide(self, request, queryset):
        self.report(request, curation.show_annotations(queryset), "shown again", "none of them was hidden")

    @admin.action(description="Restore selected deleted annotations", permissions=["hide"])
    def restore(self, request, queryset):
        self.report(request, curation.restore_annotations(queryset), "restored", "none of them was deleted")

    @admin.action(description="Confirm the close-match placement", permissions=["hide"])
    def confirm_placement(self, request, queryset):
        self.report(request, curation.confirm_placement(queryset), "placement(s) confirmed",
                    "none of them was placed by a close match")

    @admin.action(description="Retire (cannot be placed again)", permissions=["hide"])
    def retire(self, request, queryset):
        self.report(request, curation.retire_annotations(queryset, curator=request.user), "retired",
                    "all were retired or deleted already")

    def report(self, request, count, done, why_none):
        """Tell the curator what an action did: a success, or a warning saying why it did nothing."""
        if count:
            self.message_user(request, f"{count} {done}.", messages.SUCCESS)
        else:
            self.message_user(request, f"Nothing {done}: {why_none}.", messages.WARNING)

    def place_view(self, request, pk):
        """Place an annotation that lost its place again on words of the new wording (see placing.py)."""
        annotation = get_object_or_404(Annotation.objects.select_related("provision__treaty", "author"), pk=pk)
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
