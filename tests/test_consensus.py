"""Consensus and dissent in public (issue 15 §2) and agreement between analysts (§3)."""

import math

from django.test import TestCase
from django.urls import reverse

from annotations import agreement, assessments, writes
from annotations.models import Adjudication, Annotation
from treaty_app.models import ExcerptLink

from .factories import link, make_excerpt, make_provision, make_source, make_treaty, make_user

TEXT = "In the event that one of the Parties finds itself in a state of war, the other Party shall assist it."


class Span:
    """A stand-in annotation for the unit-building tests."""

    def __init__(self, pk, author_id, start, end, **assessment):
        self.pk, self.author_id, self.start, self.end, self.assessment = pk, author_id, start, end, assessment


class KrippendorffTests(TestCase):
    def test_the_library_gives_krippendorffs_own_worked_example(self):
        """Krippendorff (2011), “Computing Krippendorff's alpha-reliability”: 4 coders, 12 units,
        nominal alpha 0.743 (and ordinal 0.815)."""
        import krippendorff

        nan = math.nan
        data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
                [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
        self.assertEqual(round(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), 3), 0.743)
        self.assertEqual(round(krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal"), 3), 0.815)

    def test_units_are_overlapping_spans_of_different_analysts(self):
        spans = [Span(1, 10, 0, 20), Span(2, 11, 5, 25), Span(3, 10, 40, 50), Span(4, 12, 41, 49), Span(5, 13, 80, 90)]
        found = agreement.units(spans, share=0.5)
        self.assertEqual([[a.pk for a in unit.annotations] for unit in found], [[1, 2], [3, 4]])
        # Overlapping by less than the share of the shorter span: not the same words.
        self.assertEqual(agreement.units([Span(1, 10, 0, 20), Span(2, 11, 18, 40)], share=0.5), [])

    def test_figures_match_hand_computed_values(self):
        """Three units, two analysts, values (b, b), (b, b), (b, h): they agree on 2 pairs of 3
        (66.7 %). By hand, from the coincidence matrix: o_bb = 4, o_bh = o_hb = 1, so n_b = 5, n_h = 1,
        n = 6; nominal alpha = 1 - (n - 1)(o_bh + o_hb) / (2 n_b n_h) = 1 - 5 × 2 / 10 = 0."""
        spans = [Span(1, 10, 0, 10, strength="binding"), Span(2, 11, 0, 10, strength="binding"),
                 Span(3, 10, 20, 30, strength="binding"), Span(4, 11, 20, 30, strength="binding"),
                 Span(5, 10, 40, 50, strength="binding"), Span(6, 11, 40, 50, strength="hortatory")]
        figure = agreement.field_agreement(agreement.units(spans), "strength", label="Strength")
        self.assertEqual((figure.units, figure.pairs, figure.agreeing_pairs, figure.percent), (3, 3, 2, 66.7))
        self.assertEqual(figure.alpha, 0.0)
        self.assertEqual([(d.first_value, d.second_value) for d in figure.disagreements], [("binding", "hortatory")])

    def test_ordinal_scale_counts_distance(self):
        """On a scale, low vs high disagrees more than medium vs high: ordinal alpha is lower."""
        order = ["low", "medium", "high"]

        def alpha(second_last):
            spans = [Span(1, 10, 0, 10, confidence="high"), Span(2, 11, 0, 10, confidence="high"),
                     Span(3, 10, 20, 30, confidence="medium"), Span(4, 11, 20, 30, confidence="medium"),
                     Span(5, 10, 40, 50, confidence="high"), Span(6, 11, 40, 50, confidence=second_last)]
            return agreement.field_agreement(agreement.units(spans), "confidence", label="Confidence",
                                             level="ordinal", order=order).alpha

        self.assertGreater(alpha("medium"), alpha("low"))


class ConsensusPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t")
        cls.provision = make_provision(cls.treaty, number=4, text=TEXT)
        cls.ana, cls.bob, cls.zoe = make_user("ana"), make_user("bob"), make_user("zoe")
        cls.cora = make_user("cora", role="Curators", is_staff=True)
        words = "state of war"
        start = TEXT.index(words)
        cls.notes = []
        for author, strength, trigger in ((cls.ana, "binding", "armed-attack"), (cls.bob, "binding", "armed-attack"),
                                          (cls.zoe, "hortatory", "none")):
            note = writes.create(author=author, target=cls.provision, start=start, end=start + len(words), exact=words,
                                 body=f"{author.username}'s view.",
                                 assessment={"strength": strength, "trigger": trigger, "reasoning": f"{author}."})
            writes.submit(note.pk, by=author)
            cls.notes.append(note)
        writes.publish(Annotation.objects.filter(pk__in=[n.pk for n in cls.notes]), curator=cls.cora)
        body = "Article 4 means automatic intervention.\n\nArticle 4 is not automatic at all."
        source = make_source(body=body, title="A commentary")
        link(make_excerpt(source, 0, body.index("\n")), cls.provision, stance=ExcerptLink.Stance.SUPPORTS)
        link(make_excerpt(source, body.index("\n") + 2, len(body)), cls.provision, stance=ExcerptLink.Stance.DISPUTES)
        cls.url = reverse("reader:provision-consensus", args=["t", "art-4"])

    def test_the_page_groups_conclusions_summarises_fields_and_sets_the_commentary_beside(self):
        page = self.client.get(self.url).content.decode()
        self.assertIn("<strong>Strength</strong>: 2 of 3 say Binding; 1 says Hortatory.", page)
        self.assertIn("<strong>Trigger</strong>: 2 of 3 say Armed attack; 1 says None.", page)
        first = page.index("Trigger: Armed attack")
        self.assertLess(first, page.index("Strength: Hortatory"))  # the larger group first
        self.assertIn("Supports <span class=\"count\">(1)</span>", page)
        self.assertIn("Disputes <span class=\"count\">(1)</span>", page)
        self.assertIn("Article 4 is not automatic at all.", page)
        # Aggregate agreement only: one unit, three analysts, 1 of 3 pairs agree on strength.
        self.assertIn("<th scope=\"row\">Strength</th><td>1</td>", page)
        self.assertIn("33.3 % of 3", page)
        self.assertNotIn("ana</td>", page)

    def test_the_provision_page_and_the_heat_map_link_to_it(self):
        self.assertContains(self.client.get(self.provision.get_absolute_url()), f'href="{self.url}"')
        self.assertContains(self.client.get(self.treaty.get_absolute_url()), 'href="/treaties/t/art-4/consensus/"')

    def test_an_adjudication_is_recorded_and_shown(self):
        found, figures = agreement.provision_agreement(list(Annotation.objects.published()), assessments.scheme())
        unit = found[0]
        decision = writes.adjudicate(provision=self.provision, unit=unit.key, field="strength", value="binding",
                                     note="The text says shall.", curator=self.cora)
        self.assertEqual(sorted(decision.annotations.values_list("pk", flat=True)), sorted(n.pk for n in self.notes))
        self.assertEqual(decision.history.count(), 1)
        page = self.client.get(self.url).content.decode()
        self.assertIn("strength: <strong>binding</strong>. The text says shall.", page)
        self.assertEqual(Adjudication.objects.count(), 1)


class AdminAgreementTests(ConsensusPageTests):
    def test_curators_see_the_pairs_that_disagree_and_adjudicate_one(self):
        self.client.force_login(self.cora)
        listing = self.client.get(reverse("admin:annotations_annotation_agreement"))
        self.assertContains(listing, "Article 4")
        url = reverse("admin:annotations_annotation_agreement_provision", args=[self.provision.pk])
        page = self.client.get(url).content.decode()
        self.assertIn("ana says <em>binding</em>, zoe says <em>hortatory</em>.", page)
        self.assertIn("bob says <em>binding</em>, zoe says <em>hortatory</em>.", page)
        unit = agreement.units(list(Annotation.objects.published()))[0].key
        self.client.post(url, {"unit": unit, "field": "strength", "value": "binding", "note": "Shall."})
        self.assertEqual(list(Adjudication.objects.values_list("field", "value", "decided_by__username")),
                         [("strength", "binding", "cora")])
        self.assertContains(self.client.get(url), "strength = binding: Shall.")


    def test_private_and_deleted_notes_of_others_take_no_part(self):
        """The agreement view counts the notes this curator may read (readable_by's roots): another
        analyst's private note and a deleted team note on the same words are in no pair."""
        words = "state of war"
        start = TEXT.index(words)
        yan, xia = make_user("yan"), make_user("xia")
        for author, visibility in ((yan, "private"), (xia, "team")):
            note = writes.create(author=author, target=self.provision, start=start, end=start + len(words),
                                 exact=words, body="Mine.", visibility=visibility,
                                 assessment={"strength": "hortatory", "trigger": "none", "reasoning": "Mine."})
        writes.delete(note.pk, by=xia)
        self.client.force_login(self.cora)
        url = reverse("admin:annotations_annotation_agreement_provision", args=[self.provision.pk])
        page = self.client.get(url).content.decode()
        self.assertIn("ana says <em>binding</em>, zoe says <em>hortatory</em>.", page)
        self.assertNotIn("yan says", page)
        self.assertNotIn("xia says", page)


class CompareTests(TestCase):
    """Treaties side by side (issue 15 §4)."""

    @classmethod
    def setUpTestData(cls):
        from treaty_app.models import CrossReference

        cls.new = make_provision(make_treaty(slug="new", short_title="New Treaty"), number=4, text=TEXT)
        cls.old = make_provision(make_treaty(slug="old", short_title="Old Treaty"), number=1, text=(
            "Should either of the Parties be subjected to an armed attack and thus find itself in a state of war, "
            "the other Party shall immediately extend military and other assistance with all the means at its disposal."
        ))
        cls.rendering = make_provision(make_treaty(slug="other-rendering", short_title="Rendering"), number=4,
                                       text=TEXT.replace("shall assist it", "will assist it"))
        CrossReference.objects.create(provision=cls.new, target=cls.old, note="Its predecessor.")

    def test_different_instruments_stand_side_by_side(self):
        page = self.client.get(reverse("reader:compare", args=["new", "art-4", "old", "art-1"])).content.decode()
        self.assertIn("Two different texts", page)
        self.assertNotIn("<del>", page)
        self.assertIn("Its predecessor.", page)
        self.assertIn("extend military and other assistance", page)

    def test_renderings_of_one_text_get_a_word_diff(self):
        page = self.client.get(reverse("reader:compare", args=["new", "art-4", "other-rendering", "art-4"])).content.decode()
        self.assertIn("<del>shall</del> <ins>will</ins>", page)

    def test_the_treaty_page_lists_related_instruments(self):
        page = self.client.get(self.new.treaty.get_absolute_url()).content.decode()
        self.assertIn('href="/compare/new/art-4/old/art-1/">Article 4 beside Article 1</a>', page)
        self.assertEqual(self.client.get(reverse("reader:compare", args=["new", "art-4", "old", "art-99"])).status_code, 404)
