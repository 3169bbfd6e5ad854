"""Issue 13 §6: “Cite this” for a provision, an annotation and an excerpt, with the version cited and
the day it was accessed, as plain text, BibTeX and CSL-JSON (treaty_app/citing.py)."""

import json
import re
from datetime import date, timedelta
from unittest import mock

from django.test import SimpleTestCase, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from annotations import writes
from annotations.models import Annotation
from treaty_app.citing import Citation
from treaty_app.wording import save_wording

from .factories import link, make_excerpt, make_provision, make_source, make_treaty, make_user
from .test_threads import annotate, reply

SITE = "https://glossa.example"
MAY_12 = date(2025, 5, 12)


def on(day):
    """The clock's date is `day` (the access date pages say)."""
    return mock.patch("django.utils.timezone.localdate", return_value=day)


def bibtex_fields(text):
    return dict(re.findall(r"^  (\w+) = \{(.*)\},$", text, flags=re.MULTILINE))


@override_settings(SITE_URL=SITE)
class CitationTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t", short_title="T", title="Treaty of Tests", signed_on=date(2024, 6, 19),
                                 signed_at="Pyongyang")
        cls.provision = make_provision(cls.treaty, number=4, text="The other Party shall provide assistance.",
                                       coverage="full")
        cls.source = make_source("The treaty revives the alliance.", author="K. Asmolov", outlet="RIAC",
                                 title="A new alliance", published_on=date(2024, 6, 21))
        cls.excerpt = make_excerpt(cls.source, 0, len(cls.source.body))
        link(cls.excerpt, cls.provision)
        cls.ana = make_user("ana")
        cls.bob = make_user("bob")
        cls.cora = make_user("cora", role="Curators", is_staff=True)
        cls.note = annotate(cls.provision, cls.ana, cls.cora, "provide assistance", "Any assistance.")

    def get(self, name, *args, day=MAY_12):
        with on(day):
            response = self.client.get(reverse(name, args=args))
        self.assertEqual(response.status_code, 200)
        return response

    def provision_file(self, fmt, **kwargs):
        return self.get("reader:provision-cite-file", "t", "art-4", fmt, **kwargs)

    def annotation_file(self, annotation, fmt):
        return self.get("reader:annotation-cite-file", annotation.pk, fmt)


class ProvisionCitationTests(CitationTestCase):
    def test_the_page_cites_the_wording_version_and_the_access_date(self):
        """The provision page's “Cite this” line names its wording version and the day it was read."""
        with on(MAY_12):
            response = self.client.get(self.provision.get_absolute_url())
        self.assertContains(response, f"Glossa, wording version 1. {SITE}/treaties/t/art-4/ (accessed 12 May 2025).")

    def test_a_new_wording_is_cited_at_its_new_version(self):
        """After the wording changes, the citation names version 2, and so does its key."""
        self.provision.text = "The other Party shall provide immediate assistance."
        save_wording(self.provision, reason="Corrected")
        self.assertEqual(bibtex_fields(self.provision_file("bib").content.decode())["version"], "2")

    def test_bibtex(self):
        """The BibTeX entry is a @misc keyed on treaty, provision and version, with url, urldate and version."""
        entry = self.provision_file("bib").content.decode()
        fields = bibtex_fields(entry)
        self.assertEqual(
            (entry.split(",", 1)[0], fields["url"], fields["urldate"], fields["version"], fields["title"]),
            ("@misc{glossa-t-art-4-v1", f"{SITE}/treaties/t/art-4/", "2025-05-12", "1", "{Treaty of Tests, Article 4}"),
        )

    def test_csl_json(self):
        """The CSL-JSON is one treaty item with its URL, version, signature date and access date."""
        item, = json.loads(self.provision_file("json").content)
        self.assertEqual(
            {key: item[key] for key in ("id", "type", "URL", "version", "issued", "accessed")},
            {"id": "glossa-t-art-4-v1", "type": "treaty", "URL": f"{SITE}/treaties/t/art-4/", "version": "1",
             "issued": {"date-parts": [[2024, 6, 19]]}, "accessed": {"date-parts": [[2025, 5, 12]]}},
        )

    def test_media_types(self):
        """BibTeX and CSL-JSON go out with their own media types."""
        self.assertEqual(
            (self.provision_file("bib")["Content-Type"], self.provision_file("json")["Content-Type"]),
            ("application/x-bibtex; charset=utf-8", "application/vnd.citationstyles.csl+json"),
        )

    def test_the_cite_page_shows_all_three(self):
        """The provision's cite page shows the plain text, the BibTeX entry and the CSL-JSON."""
        response = self.get("reader:provision-cite", "t", "art-4")
        for shown in ("(accessed 12 May 2025).", "@misc{glossa-t-art-4-v1,", "&quot;type&quot;: &quot;treaty&quot;"):
            with self.subTest(shown=shown):
                self.assertContains(response, shown)

    def test_unknown_formats_are_404(self):
        """Only .bib and .json are citation files."""
        self.assertEqual(self.client.get("/treaties/t/art-4/cite.xml").status_code, 404)


class AccessDateTests(CitationTestCase):
    def test_a_page_cached_yesterday_says_today(self):
        """The provision page cached on 11 May is not what a visitor gets on 12 May."""
        self.get("reader:provision", "t", "art-4", day=date(2025, 5, 11))
        self.assertContains(self.get("reader:provision", "t", "art-4"), "(accessed 12 May 2025)")

    def test_yesterdays_etag_is_not_confirmed_today(self):
        """Revalidating on 12 May with the ETag of 11 May gets the page, not a 304."""
        etag = self.get("reader:provision", "t", "art-4", day=date(2025, 5, 11))["ETag"]
        with on(MAY_12):
            response = self.client.get(self.provision.get_absolute_url(), headers={"If-None-Match": etag})
        self.assertEqual(response.status_code, 200)

    def test_last_modified_is_at_least_todays_midnight(self):
        """A page read three days after its content last changed is modified at that day's midnight (UTC)."""
        later = timezone.now().date() + timedelta(days=3)
        response = self.get("reader:provision", "t", "art-4", day=later)
        self.assertEqual(response["Last-Modified"], f"{later:%a, %d %b %Y} 00:00:00 GMT")


class AnnotationCitationTests(CitationTestCase):
    def test_plain_text(self):
        """An annotation's citation names its author, what it is on, its version and the access date."""
        self.assertContains(
            self.get("reader:annotation-cite", self.note.pk),
            f"ana, “Annotation {self.note.pk} on Article 4, T”, Glossa, {self.note.created_at:%-d %B %Y}, "
            f"version {self.note.version}. {SITE}/treaties/t/art-4/#annotation-{self.note.pk} (accessed 12 May 2025).",
        )

    def test_csl_json_names_the_author_as_written(self):
        """The CSL item is a post whose author is the username, as a literal name."""
        item, = json.loads(self.annotation_file(self.note, "json").content)
        self.assertEqual((item["type"], item["author"]), ("post", [{"literal": "ana"}]))

    def test_a_reply_names_its_note(self):
        """A reply's citation says which note it answers, and its URL is its own permalink."""
        answer = reply(self.note, self.bob, self.cora, "Military only.")
        fields = bibtex_fields(self.annotation_file(answer, "bib").content.decode())
        self.assertEqual(
            (fields["title"], fields["url"]),
            (f"{{Reply {answer.pk} to annotation {self.note.pk} on Article 4, T}}",
             f"{SITE}/treaties/t/art-4/#annotation-{answer.pk}"),
        )

    def test_an_edit_moves_the_cited_version_on_cached_pages_too(self):
        """An author's edit of a published note (a pending revision) gives its citation the new version,
        although the page was cached before."""
        self.annotation_file(self.note, "bib")
        note = Annotation.objects.get(pk=self.note.pk)
        writes.edit(note.pk, by=self.ana, version=note.version, body="Any assistance, military included.")
        fields = bibtex_fields(self.annotation_file(self.note, "bib").content.decode())
        self.assertEqual(fields["version"], str(note.version + 1))

    def test_an_unpublished_annotation_has_no_citation(self):
        """A team note's citation is a 404, even for its author."""
        start = self.provision.text.index("assistance")
        draft = writes.create(author=self.ana, target=self.provision, start=start, end=start + 10,
                              exact="assistance", body="Draft.")
        self.client.force_login(self.ana)
        self.assertEqual(self.client.get(reverse("reader:annotation-cite", args=[draft.pk])).status_code, 404)

    def test_an_id_no_column_can_hold_is_a_404(self):
        """An annotation number of 21 digits is a 404, not a database error."""
        self.assertEqual(self.client.get(f"/annotations/{10**20}/cite.bib").status_code, 404)

    def test_cards_link_their_citation(self):
        """The public card links to the annotation's cite page."""
        self.assertContains(self.get("reader:provision", "t", "art-4"),
                            f'href="/annotations/{self.note.pk}/cite/"')


class ExcerptCitationTests(CitationTestCase):
    def test_csl_json_is_the_commentary_with_the_excerpt_permalink(self):
        """An excerpt is cited as its commentary (author, outlet, date) at the excerpt's permalink."""
        item, = json.loads(self.get("reader:excerpt-cite-file", self.source.slug, self.excerpt.pk, "json").content)
        self.assertEqual(
            {key: item[key] for key in ("type", "author", "container-title", "issued", "URL")},
            {"type": "webpage", "author": [{"literal": "K. Asmolov"}], "container-title": "RIAC",
             "issued": {"date-parts": [[2024, 6, 21]]}, "URL": f"{SITE}{self.excerpt.get_absolute_url()}"},
        )

    def test_an_excerpt_no_curator_approved_has_no_citation(self):
        """An excerpt whose only link is proposed is not public, nor is its citation."""
        self.excerpt.links.update(state="proposed")
        response = self.client.get(reverse("reader:excerpt-cite", args=[self.source.slug, self.excerpt.pk]))
        self.assertEqual(response.status_code, 404)

    def test_the_provision_page_links_each_excerpts_citation(self):
        """Beside the provision, each excerpt links to its cite page."""
        self.assertContains(self.get("reader:provision", "t", "art-4"),
                            reverse("reader:excerpt-cite", args=[self.source.slug, self.excerpt.pk]))


class BibtexTextTests(SimpleTestCase):
    def test_tex_specials_are_escaped(self):
        """TeX's special characters in a title come out escaped, and braces stay balanced."""
        citation = Citation(key="k", csl_type="post", title="R&D at 100% {sic} #1 a_b ~ ^ \\", url="https://x/",
                            accessed=MAY_12, text="")
        self.assertEqual(
            bibtex_fields(citation.bibtex())["title"],
            r"{R\&D at 100\% \{sic\} \#1 a\_b \textasciitilde{} \textasciicircum{} \textbackslash{}}",
        )
