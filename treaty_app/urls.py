from django.contrib import admin
from django.urls import include, path, register_converter
from django.urls.converters import SlugConverter

from annotations import export_views, public

from . import views


class UnicodeSlugConverter(SlugConverter):
    """A slug in any script: analysts name tags in Russian and Korean too (writes.tag_slug keeps
    their letters), and each tag has a page."""

    regex = r"[-\w]+"


register_converter(UnicodeSlugConverter, "uslug")

reader_patterns = (
    [
        path("", views.home, name="home"),
        path("treaties/<slug:treaty_slug>/", views.treaty_detail, name="treaty"),
        path("treaties/<slug:treaty_slug>/akn.xml", views.treaty_akn, name="treaty-akn"),
        path("treaties/<slug:treaty_slug>/<slug:provision_slug>/", views.provision_detail, name="provision"),
        path(
            "compare/<slug:treaty_slug>/<slug:provision_slug>/<slug:other_treaty_slug>/<slug:other_provision_slug>/",
            views.provision_compare, name="compare",
        ),
        path("sources/", views.source_list, name="sources"),
        path("sources/<slug:source_slug>/", views.source_detail, name="source"),
        path("tags/<uslug:tag_slug>/", public.tag_detail, name="tag"),
        path("assessments/", public.assessment_scheme, name="assessments"),
        path("assessments/<slug:field_slug>/<slug:value_slug>/", public.assessment_scheme, name="assessment-value"),
        path("search/", public.search_page, name="search"),
        path("annotations.jsonld", export_views.collection_page, name="annotations-export"),
        path(
            "treaties/<slug:treaty_slug>/<slug:provision_slug>/annotations.jsonld",
            export_views.provision_annotations,
            name="provision-annotations",
        ),
        path(
            "treaties/<slug:treaty_slug>/<slug:provision_slug>/consensus/",
            public.provision_consensus,
            name="provision-consensus",
        ),
    ],
    "reader",
)

urlpatterns = [
    path("", include(reader_patterns)),
    path("workspace/", include("annotations.urls")),
    path("accounts/", include("treaty_app.accounts")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
