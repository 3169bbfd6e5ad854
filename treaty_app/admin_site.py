"""Glossa's admin site: Django's, with autocomplete results that a ModelAdmin may label itself.

The stock autocomplete labels each result with ``str(obj)``. A provision's ``str`` is “Article 4”,
which names one provision only while Glossa holds one treaty; ProvisionAdmin's
`autocomplete_label(request, obj)` adds the treaty when there are several. GlossaAdminConfig, in
INSTALLED_APPS in place of django.contrib.admin, makes it the default site: ``admin.site`` is this
site everywhere. (It lives here, not in apps.py, where a second AppConfig would leave Django unsure
which one is treaty_app's.)
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.views.autocomplete import AutocompleteJsonView


class LabelledAutocompleteJsonView(AutocompleteJsonView):
    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        if (label := getattr(self.model_admin, "autocomplete_label", None)) is not None:
            result["text"] = label(self.request, obj)
        return result


class GlossaAdminSite(admin.AdminSite):
    def autocomplete_view(self, request):
        return LabelledAutocompleteJsonView.as_view(admin_site=self)(request)


class GlossaAdminConfig(AdminConfig):
    default_site = "treaty_app.admin_site.GlossaAdminSite"
