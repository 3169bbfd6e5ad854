"""Placing an annotation again after its provision's wording changed: by the author in the workspace,
by a curator in the admin (AnnotationAdmin.place_view); one form and one template serve both.

The page shows the wording the annotation was made on beside the wording now. With JavaScript
(static/js/placing.js), selecting words of the new wording fills in their code-point offsets and
the words; the server checks that the words stand at those offsets. Without it, the user types the
words and the server finds them, provided they occur once. A close match found by the re-anchoring
(`fuzzy`) can also be confirmed as it is.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_http_methods

from . import writes
from .anchoring import AnchorError, find_unique, locate
from treaty_app.diffing import word_diff
from .forms import typed_words_message
from .models import Annotation
from .writes import PLACEABLE


class PlaceForm(forms.Form):
    """Words of the provision's current wording, with their offsets when the browser selected them."""

    words = forms.CharField(
        label="Words of the new wording", strip=False, max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Select them in the wording now, or type them exactly as they stand there.",
    )
    start = forms.IntegerField(required=False, widget=forms.HiddenInput)
    end = forms.IntegerField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, annotation, **kwargs):
        super().__init__(*args, **kwargs)
        self.text = annotation.target.text  # the provision's own wording or its language version's
        if not self.is_bound:
            self.initial["version"] = annotation.version
            if annotation.placement == Annotation.Placement.FUZZY:
                self.initial["words"] = annotation.exact

    def clean_words(self):
        # Browsers send a textarea's line breaks as CRLF; the canonical wording has LF only.
        return self.cleaned_data["words"].replace("\r\n", "\n")

    def clean(self):
        cleaned = super().clean()
        if {"start", "end", "version"} & self.errors.keys():
            # Hidden fields: their own errors would show nowhere.
            raise ValidationError(
                "The selection could not be read. Select the words again.", code="bad_selection"
            )
        words, start, end = cleaned.get("words"), cleaned.get("start"), cleaned.get("end")
        if not words:
            return cleaned
        if start is None and end is None:
            try:
                cleaned["start"], cleaned["end"] = find_unique(self.text, words)
            except AnchorError as error:
                raise ValidationError(typed_words_message(error).replace("the text", "the new wording"),
                                      code=error.code) from None
        elif start is None or end is None or not 0 <= start < end <= len(self.text):
            raise ValidationError(
                "The selection lies outside the wording. Select the words again.", code="out_of_range"
            )
        elif self.text[start:end] != words:
            raise ValidationError(
                "The selected words are not the words at that place in the wording (it may have changed "
                "since the page was loaded). Select them again.", code="quote_mismatch",
            )
        return cleaned


def refusal(annotation):
    """Why this annotation cannot be placed again here, or None."""
    if annotation.provision_id is None:
        return "Only an annotation on a provision's wording can be placed again."
    if annotation.deleted_at is not None:
        return "This annotation is deleted or retired: restore it first."
    if annotation.placement not in PLACEABLE:
        return "This annotation is in its place already: there is nothing to place again."
    return None


def split_at(text, span):
    """(before, marked, after), or None when there is nothing to mark."""
    if not text or span is None:
        return None
    start, end = span
    return text[:start], text[start:end], text[end:]


def old_span(annotation):
    """Where the annotated words stood in the old wording, when that can be told for sure."""
    old, words = annotation.anchored_text, annotation.original_exact or annotation.exact
    for before, after in ((annotation.prefix, annotation.suffix), ("", "")):
        needle = before + words + after
        if words and old.count(needle) == 1:
            start = old.index(needle) + len(before)
            return start, start + len(words)
    return None


def place(request, annotation, *, done_url):
    """Serve the place page's form and act on it; returns (redirect or None, context, status).

    The redirect follows a decision; otherwise the caller renders the context under its own chrome
    (the workspace's or the admin's)."""
    form, error, status = PlaceForm(annotation=annotation), None, 200
    if request.method == "POST" and "confirm" in request.POST:
        try:
            writes.confirm_own_placement(annotation.pk, by=request.user)
        except writes.Refused as refusal:
            error, status = refusal.message, refusal.status
        else:
            messages.success(request, "The close-match placement is confirmed.")
            return redirect(done_url), None, 302
    elif request.method == "POST":
        form = PlaceForm(request.POST, annotation=annotation)
        if not form.is_valid():
            status = 422
        else:
            try:
                placed = writes.place_again(
                    annotation.pk, by=request.user, **{k: form.cleaned_data[k] for k in ("start", "end", "version")}
                )
            except writes.Refused as refusal:
                annotation.refresh_from_db()
                form = PlaceForm(annotation=annotation)
                error, status = refusal.message, refusal.status
                if isinstance(refusal, writes.Conflict) and refusal.current is not None:
                    error = (
                        "Someone changed this annotation while you were placing it; nothing was saved. "
                        "Check the wording and place it again."
                    )
            else:
                messages.success(request, f"Placed again on “{Truncator(placed.exact).chars(80)}”.")
                return redirect(done_url), None, 302
    fuzzy = annotation.placement == Annotation.Placement.FUZZY
    text = annotation.target.text
    words = annotation.original_exact or annotation.exact
    located = locate(text, exact=words, prefix=annotation.prefix, suffix=annotation.suffix,
                     start_hint=annotation.start, limit=3)
    context = {
        "annotation": annotation,
        "form": form,
        "error": error,
        "old_wording": split_at(annotation.anchored_text, old_span(annotation)),
        "new_wording": split_at(annotation.target.text, (annotation.start, annotation.end) if fuzzy else None),
        "can_confirm": fuzzy,
        "cancel_url": done_url,
        # The best places the search found, to accept with one click (the current one excluded).
        "candidates": [
            candidate for candidate in located.candidates
            if (candidate.start, candidate.end) != (annotation.start, annotation.end)
        ],
        "original_words": words,
        "wording_diff": word_diff(annotation.anchored_text, text) if annotation.anchored_text else None,
    }
    return None, context, status


@login_required
@permission_required("annotations.view_annotation", raise_exception=True)
@require_http_methods(["GET", "POST"])
def annotation_place(request, pk):
    """The author (or a curator) places an annotation again on words of its provision's new wording."""
    curator = request.user.has_perm("annotations.hide_annotation")
    annotations = Annotation.objects.readable_by(request.user)
    annotation = get_object_or_404(annotations.select_related("provision__treaty", "author"), pk=pk)
    if annotation.author_id != request.user.pk and not curator:
        raise PermissionDenied("Only the author or a curator can place this annotation again.")
    if annotation.provision_id is None:
        raise Http404("Only an annotation on a provision's wording can be placed again.")
    provision = annotation.provision
    workspace = reverse("annotations:workspace", args=[provision.treaty.slug, provision.slug])
    done_url = f"{workspace}#annotation-{annotation.pk}"
    if (reason := refusal(annotation)) is not None:
        response, status = None, 409
        context = {"annotation": annotation, "refused": reason, "cancel_url": done_url}
    else:
        response, context, status = place(request, annotation, done_url=done_url)
    if response is not None:
        return response
    context |= {"provision": provision, "treaty": provision.treaty, "workspace_url": workspace}
    return render(request, "annotations/place.html", context, status=status)
