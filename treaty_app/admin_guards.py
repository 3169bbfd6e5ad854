"""Admin bases that answer hostile input with a clear 4xx instead of a 500.

The admin passes some values from the browser to the database unchecked: the ids of the rows an
action is to act on, a changelist's date drill-down, a history version in the URL, the ids typed
into foreign-key and many-to-many fields (and shown again when the form has errors). An id such
as ``abc`` or ``10**20``, or a year of 21 digits, then fails in the database driver (ValueError,
OverflowError, a numeric-out-of-range error on PostgreSQL). Every ModelAdmin and inline of Glossa
derives from the classes here, which check those values with treaty_app.rules first. Integer
form fields are held to the range their model field declares on every database, so SQLite
refuses what PostgreSQL would, and URL fields take only http(s) addresses.
"""

from datetime import date, timedelta

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.http import MAX_URL_REDIRECT_LENGTH
from django.utils.text import smart_split
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from . import rules

# The years, months and days a changelist's date hierarchy can list: the year 9999 has no end
# Python's dates can express, so it cannot be listed either.
DATE_PARTS = {"year": (1, 9998), "month": (1, 12), "day": (1, 31)}
# The words a changelist search may have (the admin requires every one of them).
MAX_SEARCH_TERMS = 50


def is_key(model_field, value):
    """Whether ``value`` is something ``model_field`` (a key column) can hold."""
    try:
        rules.clean_key(value, model_field=model_field)
    except ValidationError:
        return False
    return True


class KeyChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that refuses an id its column cannot hold before querying for it."""

    def key_field(self):
        opts = self.queryset.model._meta
        return opts.get_field(self.to_field_name) if self.to_field_name else opts.pk

    def to_python(self, value):
        if (value not in self.empty_values and not isinstance(value, models.Model)
                and not is_key(self.key_field(), value)):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)

    def bound_data(self, data, initial):
        # The autocomplete widget looks the submitted id up to show it again beside the error.
        if data in self.empty_values or is_key(self.key_field(), data):
            return data
        return None


class KeyMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that refuses ids their column cannot hold before querying."""

    key_field = KeyChoiceField.key_field

    def _check_values(self, value):
        for pk in value:
            if not is_key(self.key_field(), pk):
                raise ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                      params={"pk": rules.shown(pk)})
        return super()._check_values(value)

    def bound_data(self, data, initial):
        if not isinstance(data, (list, tuple)):
            return data
        return [pk for pk in data if is_key(self.key_field(), pk)]


def hold_to_declared_range(db_field, formfield):
    """Give an integer form field the bounds of its model field's declared type."""
    minimum, maximum = rules.integer_bounds(db_field)
    if minimum is not None:
        formfield.validators.append(MinValueValidator(minimum))
    if maximum is not None:
        formfield.validators.append(MaxValueValidator(maximum))


class GuardedFieldsMixin:
    """For ModelAdmins and inlines: key fields, integer fields and URL fields checked as above."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(formfield, forms.IntegerField) and isinstance(db_field, models.IntegerField):
            hold_to_declared_range(db_field, formfield)
        if isinstance(formfield, forms.URLField):
            formfield.validators.append(rules.validate_web_url)
        return formfield

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", KeyChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", KeyMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def date_hierarchy_problem(field_path, query):
    """What is wrong with a changelist's date drill-down (``<field>__year`` and so on), or None."""
    parts = {}
    for part, (minimum, maximum) in DATE_PARTS.items():
        if values := query.getlist(f"{field_path}__{part}"):
            try:
                parts[part] = rules.clean_integer(values[-1], field=f"The {part}", minimum=minimum, maximum=maximum)
            except ValidationError as error:
                return error.messages[0]
    if "year" in parts:
        try:
            date(parts["year"], parts.get("month", 1), parts.get("day", 1)) + timedelta(days=1)
        except ValueError:
            return f"{parts['year']}-{parts.get('month', 1):02}-{parts.get('day', 1):02} is not a date."
    return None


def too_many_terms(search_term):
    """The number of words in an admin search when it is more than MAX_SEARCH_TERMS, else 0."""
    terms = len(list(smart_split(search_term)))
    return terms if terms > MAX_SEARCH_TERMS else 0


class GuardedAdminMixin(GuardedFieldsMixin):
    """For ModelAdmins: also the changelist's query, the action selection and the history URLs."""

    def bad_request(self, request, message):
        """A 400 page in the admin's style that says what was wrong and leads back to the list."""
        context = {
            **self.admin_site.each_context(request),
            "title": "This request cannot be carried out",
            "message": message,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/bad_request.html", context, status=400)

    def changelist_view(self, request, extra_context=None):
        for name, value in request.GET.lists():
            for text in [name, *value]:
                if (bad := rules.find_bad_character(text)) is not None:
                    return self.bad_request(request, f"The address of this list contains {bad.name}: "
                                                     "remove it from the filters or the search.")
        # A date drill-down (<field>__year, __month, __day) on any date of the model, with or without a
        # date_hierarchy: the admin passes such lookups on to the database as they are.
        date_fields = {key.rsplit("__", 1)[0] for key in request.GET if key.rsplit("__", 1)[-1] in DATE_PARTS}
        for field_path in sorted(date_fields | ({self.date_hierarchy} if self.date_hierarchy else set())):
            if problem := date_hierarchy_problem(field_path, request.GET):
                return self.bad_request(request, f"This list cannot be shown for that date. {problem}")
        # Each word of a search is a condition on every search field: a thousand of them are past
        # SQLite's expression depth (a 500), and slow on PostgreSQL.
        # An action redirects back to this address once it is done: past Django's redirect limit that
        # is a 400 (DisallowedRedirect) after the rows were changed.
        if request.method == "POST" and (length := len(request.get_full_path())) > MAX_URL_REDIRECT_LENGTH:
            return self.bad_request(request, f"The address of this list is {length} characters long, too long to "
                                             "come back to after an action: shorten the search or remove filters, "
                                             "then act again. Nothing was changed.")
        if terms := too_many_terms(request.GET.get(SEARCH_VAR, "")):
            return self.bad_request(request, f"The search has {terms} words: search with at most {MAX_SEARCH_TERMS}.")
        return super().changelist_view(request, extra_context)

    def response_action(self, request, queryset, *args, **kwargs):
        for value in request.POST.getlist(ACTION_CHECKBOX_NAME):
            if not is_key(self.model._meta.pk, value):
                return self.bad_request(
                    request,
                    f"The selection holds “{rules.shown(value)}”, which cannot be the id of any "
                    f"{self.model._meta.verbose_name}: go back to the list and select again.",
                )
        return super().response_action(request, queryset, *args, **kwargs)

    def history_view(self, request, object_id, extra_context=None):
        if not is_key(self.model._meta.pk, unquote(object_id)):
            raise Http404(f"There is no {self.model._meta.verbose_name} with this id.")
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        history = getattr(self.model, self.model._meta.simple_history_manager_attribute).model
        if not (is_key(self.model._meta.pk, unquote(object_id)) and is_key(history._meta.pk, unquote(version_id))):
            raise Http404(f"There is no such version of this {self.model._meta.verbose_name}.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    def action_checkbox(self, obj):
        """Django's checkbox for the row, the same markup, written here: rendered through the widget
        templates it took 0.57 ms a row in a profile, a fifth of a 50-row annotation list's time."""
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
                           ACTION_CHECKBOX_NAME, str(obj.pk), label)

    def get_search_results(self, request, queryset, search_term):
        # No stored text holds a NUL, and PostgreSQL refuses one in a query: nothing can match.
        # Nor can a search of more words than changelist_view allows (the autocomplete's comes here).
        if rules.find_bad_character(search_term) is not None or too_many_terms(search_term):
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)


class GuardedModelAdmin(GuardedAdminMixin, admin.ModelAdmin):
    pass


class DeletedName:
    """A related row that no longer exists, named as it last was: “Deleted tag “mil-assist””."""

    def __init__(self, deleted, name):
        self.deleted, self.name = deleted, name

    def __str__(self):
        return f"Deleted {self.deleted.model._meta.verbose_name} “{self.name}”"


class DeletedNames:
    """Names of deleted related rows, from their own history; one query per row, once per request.
    A row with no history (or none that can be named) keeps django-simple-history's “(pk=3)”."""

    def __init__(self):
        self.found = {}

    def __call__(self, value):
        if not isinstance(value, DeletedObject):
            return value
        key = (value.model, value.pk)
        if key not in self.found:
            name = self.last_name(value.model, value.pk)
            self.found[key] = DeletedName(value, name) if name else value
        return self.found[key]

    @staticmethod
    def last_name(model, pk):
        manager = getattr(model, getattr(model._meta, "simple_history_manager_attribute", ""), None)
        if manager is None:
            return None
        record = manager.filter(**{model._meta.pk.attname: pk}).order_by("-history_date", "-history_id").first()
        if record is None:
            return None
        if any(field.name == "name" for field in model._meta.fields):
            return record.name
        try:
            return str(record.instance)
        except ObjectDoesNotExist:  # its __str__ reads another row that is gone too
            return None


class NamingHistoryHelper(HistoricalRecordContextHelper):
    """The history page's changes, with deleted related rows named (DeletedNames)."""

    def __init__(self, model, record, *, names):
        super().__init__(model, record)
        self.names = names

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        return [self.names(item) for item in value] if isinstance(value, list) else self.names(value)


class GuardedHistoryAdmin(GuardedAdminMixin, SimpleHistoryAdmin):
    def get_historical_record_context_helper(self, request, historical_record):
        # The names are looked up once per request, whichever records show the same deleted row.
        if not hasattr(request, "_deleted_names"):
            request._deleted_names = DeletedNames()
        return NamingHistoryHelper(self.model, historical_record, names=request._deleted_names)


class GuardedTabularInline(GuardedFieldsMixin, admin.TabularInline):
    pass
