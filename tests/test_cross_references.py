"""Issue 13 §6: cross-references with a relation type, curated in the admin, across treaties, and
shown from both ends, each end reading the relation its own way."""

import re
from html import unescape

from django.db import IntegrityError
from django.test import TestCase
from django.urls import reverse

from treaty_app.importing import load_corpus
from treaty_app.models import CrossReference, Treaty

from .factories import make_provision, make_treaty, make_user


def related(html):
    """The “Related provisions” section of a provision page, as its text with tags removed."""
    section = html[html.index('<h2 id="references-heading"'):]
    section = section[: section.index("</section>")]
    return " ".join(unescape(re.sub(r"<[^>]+>", "", section)).split())


class CrossTreatyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.new = make_provision(make_treaty(slug="dprk-russia-2024", short_title="DPRK–Russia Treaty (2024)"),
                                 number=4, text="Assistance.")
        cls.old = make_provision(make_treaty(slug="ussr-dprk-1961", short_title="USSR–DPRK Treaty (1961)"),
                                 number=1, text="Mutual assistance.")
        cls.curator = make_user("cora", role="Curators", is_staff=True)

    def add_in_admin(self, relation, note="Its predecessor's assistance clause."):
        self.client.force_login(self.curator)
        response = self.client.post(reverse("admin:treaty_app_crossreference_add"), {
            "provision": self.new.pk, "target": self.old.pk, "relation": relation, "note": note, "_save": "Save",
        })
        self.client.logout()
        self.assertEqual(response.status_code, 302, response.content.decode()[:3000])

    def page(self, provision):
        return related(self.client.get(provision.get_absolute_url()).content.decode())

    def test_the_admin_form_offers_the_relation(self):
        """The add form has a relation field with the four relations."""
        self.client.force_login(self.curator)
        form = self.client.get(reverse("admin:treaty_app_crossreference_add")).context["adminform"].form
        self.assertEqual([value for value, _ in form.fields["relation"].choices],
                         ["replaces", "replaced_by", "compare", "refers_to"])

    def test_a_curator_records_the_relation(self):
        """A cross-reference added in the admin keeps the relation chosen."""
        self.add_in_admin("replaces")
        self.assertEqual(CrossReference.objects.get(provision=self.new).relation, "replaces")

    def test_the_provision_reads_its_relation(self):
        """The 2024 article says it replaces the 1961 one, named with its treaty."""
        self.add_in_admin("replaces")
        self.assertEqual(self.page(self.new),
                         "Related provisions Replaces: Article 1, USSR–DPRK Treaty (1961): Its predecessor's assistance clause.")

    def test_the_other_end_reads_it_the_other_way(self):
        """The 1961 article says it is replaced by the 2024 one, which it links to."""
        self.add_in_admin("replaces")
        html = self.client.get(self.old.get_absolute_url()).content.decode()
        self.assertIn(f'Replaced by:</dt>\n        <dd><a href="{self.new.get_absolute_url()}">Article 4, DPRK–Russia Treaty (2024)</a>',
                      html)

    def test_compare_reads_the_same_from_both_ends(self):
        self.add_in_admin("compare", note="")
        self.assertEqual((self.page(self.new).split(":")[0], self.page(self.old).split(":")[0]),
                         ("Related provisions Compare", "Related provisions Compare"))

    def test_refers_to_is_referred_to_by_from_the_other_end(self):
        self.add_in_admin("refers_to", note="")
        self.assertEqual(self.page(self.old), "Related provisions Referred to by: Article 4, DPRK–Russia Treaty (2024)")

    def test_a_new_reference_reaches_the_other_treatys_cached_page(self):
        """The 1961 page, cached before the reference was made, shows it afterwards."""
        self.assertEqual(self.client.get(self.old.get_absolute_url()).status_code, 200)
        self.add_in_admin("replaces")
        self.assertIn("Replaced by:", self.page(self.old))

    def test_an_unknown_relation_is_refused_by_the_database(self):
        with self.assertRaises(IntegrityError):
            CrossReference.objects.create(provision=self.new, target=self.old, relation="contradicts")


class CorpusReferenceTests(TestCase):
    def test_article_4_refers_to_the_charter(self):
        """In the shipped corpus, Article 4 refers to Article 51 of the UN Charter, which Glossa does not hold."""
        load_corpus()
        article_4 = Treaty.objects.get().provisions.get(slug="art-4")
        self.assertIn("Refers to: Charter of the United Nations, Article 51",
                      related(self.client.get(article_4.get_absolute_url()).content.decode()))
