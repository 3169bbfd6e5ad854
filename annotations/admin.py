"""Annotations and tags in the admin. The review workflow and history come with the curation issue."""

from django.contrib import admin
from django.utils import timezone
from django.utils.text import Truncator

from .models import Annotation, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "colour", "description", "created_by"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["created_by"]
    readonly_fields = ["created_by", "created_at"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["quote_preview", "target_label", "author", "visibility", "placement", "updated_at", "state"]
    list_filter = ["visibility", "placement", "provision__treaty", "tags", ("deleted_at", admin.EmptyFieldListFilter),
                   ("hidden_at", admin.EmptyFieldListFilter)]
    search_fields = ["exact", "body", "author__username"]
    date_hierarchy = "created_at"
    list_select_related = ["provision__treaty", "excerpt__source", "author"]
    autocomplete_fields = ["tags"]
    # Authors' words and anchors are theirs: curators decide visibility, not wording.
    readonly_fields = ["provision", "excerpt", "parent", "author", "body", "body_html", "start", "end", "exact",
                       "prefix", "suffix", "text_version", "placement", "anchored_text", "version", "created_at",
                       "updated_at", "deleted_at", "hidden_at", "hidden_by"]
    fields = ["visibility", "tags", *readonly_fields]
    actions = ["hide", "unhide", "restore"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer(
            "excerpt__source__body", "excerpt__source__capture", "body_html", "anchored_text"
        )

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

    @admin.action(description="Hide selected annotations", permissions=["hide"])
    def hide(self, request, queryset):
        count = queryset.filter(hidden_at__isnull=True).update(hidden_at=timezone.now(), hidden_by=request.user)
        self.message_user(request, f"{count} annotation(s) hidden.")

    @admin.action(description="Show selected hidden annotations again", permissions=["hide"])
    def unhide(self, request, queryset):
        count = queryset.update(hidden_at=None, hidden_by=None)
        self.message_user(request, f"{count} annotation(s) shown again.")

    @admin.action(description="Restore selected deleted annotations", permissions=["hide"])
    def restore(self, request, queryset):
        count = queryset.update(deleted_at=None)
        self.message_user(request, f"{count} annotation(s) restored.")

    def has_hide_permission(self, request):
        return request.user.has_perm("annotations.hide_annotation")

    def has_add_permission(self, request):
        # Annotations are made on the text, in the workspace, where the anchor is checked.
        return False
