import hashlib
import json

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe

from treaty_app import rules
from treaty_app.models import language_name

from .anchoring import AnchorError, check_span, find_unique
from . import assessments
from .models import Annotation, AssessmentField, Tag
from .writes import tag_slug

BODY_MAX_LENGTH = 20_000

# anchoring's messages are for developers; analysts get these.
ANCHOR_MESSAGES = {
    "out_of_range": "The selection lies outside the text. Select the words again.",
    "empty": "Select at least one character to annotate.",
    "quote_mismatch": (
        "The selected words no longer match the text (it may have changed since the page was loaded). "
        "Select them again."
    ),
}


def typed_words_message(error):
    """What an analyst reads when words typed without a selection are not found exactly once."""
    if error.code == "ambiguous":
        return f"These words occur {error.count} times in the text: add a few words around them."
    if error.code == "empty":
        return ANCHOR_MESSAGES["empty"]
    return "These words are not in the text: check spelling and punctuation."


class TagCheckboxes(forms.CheckboxSelectMultiple):
    """Django's checkbox list, markup and all, written in Python: two hundred tags through the widget
    templates took 19 ms, most of the time it takes to answer a new annotation."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        base_id = attrs.get("id")
        # Each box carries the widget's attributes in their order, its own id where the list's was.
        keys = list(attrs)
        split = keys.index("id") if base_id else len(keys)
        before = flatatt({key: attrs[key] for key in keys[:split]})
        after = flatatt({key: attrs[key] for key in keys[split + 1:]})
        chosen = {str(v) for v in self.format_value(value)}
        name = escape(name)
        boxes = []
        for index, (option_value, label) in enumerate(self.choices):
            option_value = str(getattr(option_value, "value", option_value))
            checked = " checked" if option_value in chosen else ""
            label_for = box_id = ""
            if base_id:
                label_for, box_id = f' for="{escape(base_id)}_{index}"', f' id="{escape(base_id)}_{index}"'
            boxes.append(
                f'<div>\n    <label{label_for}><input type="checkbox" name="{name}" value="{escape(option_value)}"'
                f"{before}{box_id}{after}{checked}>\n {escape(label)}</label>\n\n</div>"
            )
        container_id = f' id="{escape(base_id)}"' if base_id else ""
        return mark_safe(f"<div{container_id}>{''.join(boxes)}\n</div>")


# The keys a database integer column can hold: a larger number is no tag, not a crash.
MAX_KEY = 2**63 - 1


class TagField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, tag):
        return tag.name

    def _check_values(self, value):
        for key in value:
            try:
                number = int(str(key))
            except ValueError:
                number = -1
            if not 0 < number <= MAX_KEY:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": key}
                )
        return super()._check_values(value)


class NoteFields(forms.ModelForm):
    """What an analyst writes: the note, its tags and who may see it."""

    body = forms.CharField(
        label="Note", widget=forms.Textarea(attrs={"rows": 4}), max_length=BODY_MAX_LENGTH,
        help_text="Markdown: *emphasis*, **strong**, lists, > quotes, `code`, [links](https://…).",
    )
    tags = TagField(queryset=Tag.objects.all(), required=False, widget=TagCheckboxes)
    new_tags = forms.CharField(
        label="New tags", required=False, max_length=300,
        help_text="Comma-separated names of tags to create, e.g. legal-threshold, sanctions.",
    )

    class Meta:
        model = Annotation
        fields = ["body", "tags", "visibility"]

    def __init__(self, *args, tags=None, scheme=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.scheme = scheme or assessments.scheme()
        self.add_assessment_fields()
        if tags is not None:
            # The caller already fetched the vocabulary: reuse it rather than query again.
            self.fields["tags"].queryset = Tag.objects.all()
            self.fields["tags"].choices = [(tag.pk, tag.name) for tag in tags]
        visibility = self.fields["visibility"]
        visibility.choices = [c for c in visibility.choices if c[0] != Annotation.Visibility.PUBLIC]
        if self.instance.visibility == Annotation.Visibility.PUBLIC:
            visibility.choices = Annotation.Visibility.choices
            visibility.disabled = True
            visibility.help_text = "Published by a curator: withdraw it in the review queue to change this."

    ASSESSMENT_PREFIX = "assessment-"

    def fragment_key(self):
        """A digest of everything the visible fields render (each field's kind, widget, attributes,
        label, help, choices and value), for caching their HTML: equal keys render equal HTML. None for
        a bound form: its values and errors are the request's own. Rendering the fields through
        Django's widget templates is most of what a fresh form costs (15 ms a form)."""
        if self.is_bound:
            return None
        shown = [self.prefix, self.auto_id, self.label_suffix, self.use_required_attribute]
        for bound in self.visible_fields():
            field = bound.field
            shown.append([
                bound.name, type(field).__name__, type(field.widget).__name__, field.label, field.help_text,
                field.required, field.disabled, field.widget.attrs, list(getattr(field, "choices", ())),
                bound.value(),
            ])
        # default=str: lazy translations and other values are keyed by the text they render as.
        return hashlib.blake2b(json.dumps(shown, default=str).encode(), digest_size=16).hexdigest()

    def note_fields(self):
        """The visible fields but the assessment's, in order."""
        return [field for field in self.visible_fields() if not field.name.startswith(self.ASSESSMENT_PREFIX)]

    def assessment_fields(self):
        return [field for field in self.visible_fields() if field.name.startswith(self.ASSESSMENT_PREFIX)]

    def assessment_open(self):
        """Whether the folded assessment starts open: it holds a value or an error."""
        return any(field.errors or field.value() for field in self.assessment_fields())

    @property
    def stored_assessment(self):
        instance = self.instance
        return instance.revision_assessment if instance.pk and instance.has_revision else instance.assessment

    def add_assessment_fields(self):
        """A field per field of the scheme: a choice of its values, or text. A retired field or value
        is offered only where this annotation already has it."""
        current = self.stored_assessment or {}
        for field in self.scheme.fields:
            if field.retired and field.slug not in current:
                continue
            name = self.ASSESSMENT_PREFIX + field.slug
            if field.kind == AssessmentField.Kind.TEXT:
                self.fields[name] = forms.CharField(
                    label=field.label, required=False, help_text=field.help_text,
                    max_length=assessments.TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}),
                )
            else:
                values = [v for v in self.scheme.values[field.slug].values()
                          if not v.retired or v.slug == current.get(field.slug)]
                self.fields[name] = forms.ChoiceField(
                    label=field.label, required=False, help_text=field.help_text,
                    choices=[("", "—"), *((v.slug, v.label) for v in values)],
                )
            if field.slug in current and not self.is_bound:
                self.initial[name] = current[field.slug]

    def clean_assessment(self, cleaned):
        data = {
            name.removeprefix(self.ASSESSMENT_PREFIX): cleaned.get(name)
            for name in self.fields if name.startswith(self.ASSESSMENT_PREFIX)
        }
        try:
            cleaned["assessment"] = assessments.validate(data, current=self.stored_assessment, known=self.scheme)
        except ValidationError as error:
            for slug, messages in error.message_dict.items():
                name = self.ASSESSMENT_PREFIX + slug
                self.add_error(name if name in self.fields else None, messages)

    def clean(self):
        cleaned = super().clean()
        self.clean_assessment(cleaned)
        return cleaned

    def clean_new_tags(self):
        names = [name.strip() for name in self.cleaned_data["new_tags"].split(",") if name.strip()]
        for name in names:
            if len(name) > 60:
                raise ValidationError(f"“{name[:20]}…” is too long for a tag (60 characters at most).", code="tag_too_long")
            if not tag_slug(name):
                raise ValidationError(f"“{name}” needs at least one letter or digit.", code="tag_unnamed")
        return names


class AnnotationForm(NoteFields):
    """A new annotation on a span of a target's text (a provision's wording or an excerpt).

    With JavaScript, the browser sends the selection's code-point offsets and the quote, and the
    server re-checks them. Without it, the analyst types the exact words and the server finds them,
    provided they occur once.
    """

    exact = forms.CharField(
        label="Words to annotate", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Select words in the text, or type them exactly as they stand.",
        strip=False,
    )
    start = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    end = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    excerpt = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # Which wording the words are in: the provision's own (empty) or a language version's. A choice
    # without JavaScript, where several are shown; set from the selection with it.
    language = forms.ChoiceField(label="In the text", required=False, choices=[("", "")], widget=forms.HiddenInput)

    # A translation discrepancy: the number of a note on the same passage in another text. Offered
    # where the provision has language versions; writes.create checks it is one.
    counterpart = forms.IntegerField(
        label="Translation discrepancy with annotation no.", required=False, min_value=1,
        max_value=rules.integer_bounds(Annotation._meta.get_field("id"))[1],
        help_text="Optional: the number of a note on the same passage in another language version. Both "
                  "notes then show the two wordings side by side.",
    )

    field_order = ["exact", "language", "counterpart", "body", "tags", "new_tags", "visibility"]

    def __init__(self, *args, provision, excerpts=(), versions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.provision = provision
        self.excerpts = excerpts  # read only when a note is made on one (clean)
        self.versions = {version.language: version for version in versions}
        if not self.versions:
            del self.fields["counterpart"]
        if self.versions:
            field = self.fields["language"]
            field.choices = [("", language_name(provision.treaty.language)),
                             *((tag, f"{version.language_name} ({tag})") for tag, version in self.versions.items())]
            field.widget = forms.Select(choices=field.choices)

    def clean(self):
        cleaned = super().clean()
        if "language" in self.errors:
            raise ValidationError("That language version is not one of this provision's.", code="bad_target")
        if {"start", "end", "excerpt"} & self.errors.keys():
            # Hidden fields: their own errors would show nowhere.
            raise ValidationError("The selection could not be read. Select the words again.", code="bad_selection")
        exact, start, end = cleaned.get("exact"), cleaned.get("start"), cleaned.get("end")
        if not exact:
            return cleaned
        target = self.versions.get(cleaned.get("language")) or self.provision
        text = target.text
        if cleaned.get("excerpt") is not None:
            target = next((excerpt for excerpt in self.excerpts if excerpt.pk == cleaned["excerpt"]), None)
            if target is None:
                raise ValidationError("That commentary excerpt is not shown beside this provision.", code="bad_target")
            text = target.text
        if not text:
            raise ValidationError("Glossa holds no wording of this provision to annotate.", code="no_text")
        if start is None or end is None:
            try:
                start, end = find_unique(text, exact)
            except AnchorError as error:
                raise ValidationError(typed_words_message(error), code=error.code) from None
        try:
            check_span(text, start, end, exact)
        except AnchorError as error:
            raise ValidationError(ANCHOR_MESSAGES.get(error.code, str(error)), code=error.code) from None
        cleaned["target"], cleaned["start"], cleaned["end"] = target, start, end
        return cleaned

    def full_clean(self):
        super().full_clean()
        if self.is_bound and self.auto_id and self.non_field_errors():
            # A form-wide error here is about the words: mark that field and point it at the message
            # (_form_errors.html), as Django does for a field's own errors.
            attrs = self.fields["exact"].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{self.auto_id % 'exact'}_helptext {self.auto_id % 'errors'}"



class AnnotationEditForm(NoteFields):
    """An edit of the note, tags or visibility, refused when someone saved the annotation meanwhile.

    On a published annotation the form edits its pending revision (the published wording, if there
    is none yet); saving makes it a revision that a curator reviews."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_KEY)

    field_order = ["body", "tags", "new_tags", "visibility"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        annotation = self.instance
        if not self.is_bound:
            self.initial["version"] = annotation.version
            if annotation.has_revision:
                self.initial["body"] = annotation.revision_body
                self.initial["tags"] = [tag.pk for tag in annotation.revision_tags.all()]

    def clean(self):
        cleaned = super().clean()
        if "version" in self.errors:
            # A hidden field: its own error would show nowhere.
            raise ValidationError("The form could not be read: reload the page and edit again.", code="bad_version")
        return cleaned



class ReplyForm(forms.Form):
    body = forms.CharField(label="Reply", widget=forms.Textarea(attrs={"rows": 2}), max_length=BODY_MAX_LENGTH)
