from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from django.urls.converters import SlugConverter

from annotations import export_views, protocol, public

from . import views


class UnicodeSlugConverter(SlugConverter):
    """A slug in any script: analysts name tags in Russian and Korean too (writes.tag_slug keeps
    their letters), and each tag has a page."""

    regex = r"[-\w]+"


register_converter(UnicodeSlugConverter, "uslug")


class LanguageTagConverter(SlugConverter):
    """A BCP 47 tag as a language version's address names it (rules.clean_language_tag's shape)."""

    regex = r"[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?(?:-[a-z0-9]{4,8})*"


register_converter(LanguageTagConverter, "language")


class CiteFormatConverter:
    """The file formats of a citation: BibTeX and CSL-JSON (treaty_app/citing.py)."""

    regex = "bib|json"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(CiteFormatConverter, "citeformat")

reader_patterns = (
    [
        path("", views.home, name="home"),
        path("treaties/<slug:treaty_slug>/", views.treaty_detail, name="treaty"),
        path("treaties/<slug:treaty_slug>/akn.xml", views.treaty_akn, name="treaty-akn"),
        path("treaties/<slug:treaty_slug>/<slug:provision_slug>/", views.provision_detail, name="provision"),
        path("treaties/<slug:treaty_slug>/<slug:provision_slug>/<language:language>/", views.provision_detail,
             name="provision-language"),
        path(
            "compare/<slug:treaty_slug>/<slug:provision_slug>/<slug:other_treaty_slug>/<slug:other_provision_slug>/",
            views.provision_compare, name="compare",
        ),
        path("treaties/<slug:treaty_slug>/<slug:provision_slug>/cite/", views.provision_cite, name="provision-cite"),
        path(
            "treaties/<slug:treaty_slug>/<slug:provision_slug>/cite.<citeformat:fmt>",
            views.provision_cite,
            name="provision-cite-file",
        ),
        path("sources/", views.source_list, name="sources"),
        path("sources/<slug:source_slug>/", views.source_detail, name="source"),
        path("sources/<slug:source_slug>/excerpts/<int:excerpt_pk>/cite/", views.excerpt_cite, name="excerpt-cite"),
        path(
            "sources/<slug:source_slug>/excerpts/<int:excerpt_pk>/cite.<citeformat:fmt>",
            views.excerpt_cite,
            name="excerpt-cite-file",
        ),
        path("annotations/<int:pk>/cite/", public.annotation_cite, name="annotation-cite"),
        path("annotations/<int:pk>/cite.<citeformat:fmt>", public.annotation_cite, name="annotation-cite-file"),
        path("tags/<uslug:tag_slug>/", public.tag_detail, name="tag"),
        path("assessments/", public.assessment_scheme, name="assessments"),
        path("assessments/<slug:field_slug>/<slug:value_slug>/", public.assessment_scheme, name="assessment-value"),
        path("users/<str:username>/", public.person_detail, name="person"),
        path("search/", public.search_page, name="search"),
        path("annotations.jsonld", export_views.collection_page, name="annotations-export"),
        # The W3C Web Annotation Protocol: the container, and each annotation by its number.
        path("annotations/", protocol.container, name="protocol-container"),
        re_path(r"^annotations/(?P<pk>[0-9]+)$", protocol.annotation, name="protocol-annotation"),
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
