import re

from django.db import connection
from django.test import SimpleTestCase, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotations.models import Annotation, Tag
from annotations.search import MAX_HITS, MAX_QUERY_LENGTH
from treaty_app.importing import load_corpus
from treaty_app.models import ExcerptLink, Treaty

from .factories import (
    annotation_row,
    link, make_annotation, make_annotations, make_excerpt, make_provision, make_source, make_treaty, make_user,
)

URL = "/search/"
HTMX = {"HX-Request": "true"}

ARTICLE_4 = (
    "In the event that one of the Parties is subjected to an armed attack by an individual country or several "
    "countries and thus finds itself in a state of war, the other Party shall immediately provide military and "
    "other assistance with all means in its possession."
)
ARTICLE_3 = (
    "In the event of an imminent threat of armed aggression against one of the Parties, the Parties shall hold "
    "consultations without delay."
)
SOURCE_A = (
    "Commentators read Article 4 as a promise of help after an armed attack.\n\n"
    "A proposed reading links submarines to Article 4.\n\n"
    "Article 3 speaks of consultations before any attack."
)
SOURCE_B = "Another commentary: the armed attack clause is the core of the treaty."


def spans(text, words):
    start = text.index(words)
    return start, start + len(words)


def hits_of(response):
    """(kind, provision slug, pk) of every hit shown, in page order."""
    results = response.context["results"]
    return [(hit.kind, group.provision.slug, hit.pk) for group in results.groups for hit in group.hits]


class SearchTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t", short_title="The Treaty")
        cls.p3 = make_provision(cls.treaty, number=3, text=ARTICLE_3, heading="Consultations")
        cls.p4 = make_provision(cls.treaty, number=4, text=ARTICLE_4, heading="Mutual assistance")
        cls.source_a = make_source(SOURCE_A, title="Reading the alliance", author="Ada Critic")
        cls.source_b = make_source(SOURCE_B, title="The core clause", author="Ben Scholar")
        paragraphs = SOURCE_A.split("\n\n")
        cls.help_excerpt = make_excerpt(cls.source_a, 0, len(paragraphs[0]))
        start = len(paragraphs[0]) + 2
        cls.proposed_excerpt = make_excerpt(cls.source_a, start, start + len(paragraphs[1]))
        start = SOURCE_A.index(paragraphs[2])
        cls.consult_excerpt = make_excerpt(cls.source_a, start, start + len(paragraphs[2]))
        cls.core_excerpt = make_excerpt(cls.source_b, 0, len(SOURCE_B))
        link(cls.help_excerpt, cls.p4)
        link(cls.proposed_excerpt, cls.p4, state=ExcerptLink.State.PROPOSED)
        link(cls.consult_excerpt, cls.p3)
        link(cls.consult_excerpt, cls.p4)
        link(cls.core_excerpt, cls.p4)

        cls.ana = make_user("ana")
        cls.bob = make_user("bob")
        cls.cora = make_user("cora", role="Curators", is_staff=True)
        cls.naval = Tag.objects.create(name="Naval", slug="naval")
        cls.secret = Tag.objects.create(name="Secret plans", slug="secret-plans")
        war = spans(ARTICLE_4, "state of war")
        now = timezone.now()
        cls.private = make_annotation(cls.p4, cls.ana, *war, body="Private: submarines first.", visibility="private")
        cls.team = make_annotation(cls.p4, cls.ana, *war, body="Team: submarines next.", tags=[cls.secret])
        cls.public = make_annotation(
            cls.p4, cls.ana, *war, body="Public: submarines, said the curator.", visibility="public",
            tags=[cls.naval],
        )
        cls.hidden = make_annotation(
            cls.p4, cls.bob, *war, body="Hidden: submarines again.", visibility="public", hidden_at=now
        )
        cls.deleted = make_annotation(
            cls.p4, cls.bob, *war, body="Deleted: submarines gone.", visibility="public", deleted_at=now
        )
        # A reply made public while its parent stayed with the team: it must not leak the thread.
        cls.stray_reply = annotation_row(
            parent=cls.team, author=cls.bob, body="Stray reply on submarines.", visibility="public"
        )
        cls.public_reply = annotation_row(
            parent=cls.public, author=cls.bob, body="A reply agreeing about submarines.", visibility="public"
        )
        cls.on_excerpt = annotation_row(
            excerpt=cls.consult_excerpt, author=cls.cora, body="The submarines are not mentioned here.",
            visibility="public", start=0, end=9, exact=cls.consult_excerpt.text[:9],
        )
        cls.on_proposed = annotation_row(
            excerpt=cls.proposed_excerpt, author=cls.cora, body="Unplaced submarines.",
            visibility="public", start=0, end=10, exact=cls.proposed_excerpt.text[:10],
        )

    def search(self, q, **params):
        return self.client.get(URL, {"q": q, **params})


class HitTests(SearchTestCase):
    def test_wording_hit_has_a_marked_snippet_and_links_to_the_provision(self):
        """A word of the wording finds the provision, marked in a snippet, linked to its public page."""
        response = self.search("assistance")
        self.assertEqual(response.status_code, 200)
        self.assertIn(("wording", "art-4", self.p4.pk), hits_of(response))
        self.assertContains(response, "other <mark>assistance</mark> with all means")
        self.assertContains(response, f'href="{self.p4.get_absolute_url()}"')
        self.assertContains(response, "Article 4: Mutual assistance")

    def test_heading_and_summary_are_searched_too(self):
        """A provision's heading and, where no wording is held, its summary are searched."""
        summary_only = make_provision(
            self.treaty, number=10, coverage="summary", summary="Economic cooperation and free trade zones."
        )
        response = self.search("consultations")
        self.assertIn(("wording", "art-3", self.p3.pk), hits_of(response))
        response = self.search("trade")
        self.assertEqual(hits_of(response), [("wording", "art-10", summary_only.pk)])
        self.assertContains(response, "Summary of what the provision covers")
        self.assertContains(response, "free <mark>trade</mark> zones")

    def test_excerpt_hit_names_its_source_and_links_to_the_excerpt(self):
        """An excerpt hit shows its source's title and author and links to the excerpt on the provision page."""
        response = self.search("promise")
        self.assertEqual(hits_of(response), [("excerpt", "art-4", self.help_excerpt.pk)])
        self.assertContains(response, "as a <mark>promise</mark> of help")
        self.assertContains(response, "Reading the alliance")
        self.assertContains(response, "Ada Critic")
        self.assertContains(response, f'href="{self.p4.get_absolute_url()}#excerpt-{self.help_excerpt.pk}"')

    def test_annotation_hit_shows_author_tags_and_permalink(self):
        """A published annotation hit shows its author, quote, tags and its permalink on the provision page."""
        response = self.search("curator")
        self.assertEqual(hits_of(response), [("annotation", "art-4", self.public.pk)])
        self.assertContains(response, "Annotation by ana")
        self.assertContains(response, "said the <mark>curator</mark>")
        self.assertContains(response, "“state of war”")
        self.assertContains(response, f'href="{reverse("reader:tag", args=["naval"])}"')
        self.assertContains(response, f'href="{self.p4.get_absolute_url()}#annotation-{self.public.pk}"')

    def test_annotation_quote_is_searched(self):
        """The words an annotation quotes are searched, and marked in its quote."""
        response = self.search("war", provision="art-4")
        self.assertIn(("annotation", "art-4", self.public.pk), hits_of(response))
        self.assertContains(response, "“state of <mark>war</mark>”")

    def test_results_are_grouped_by_provision(self):
        """Wording, excerpts and annotations on one provision are listed together under it, wording first."""
        response = self.search("armed")
        results = response.context["results"]
        groups = {group.provision.slug: [hit.kind for hit in group.hits] for group in results.groups}
        self.assertEqual(set(groups), {"art-3", "art-4"})
        self.assertEqual(groups["art-4"][0], "wording")
        self.assertEqual(groups["art-4"].count("excerpt"), 2)  # help_excerpt and core_excerpt
        self.assertEqual(groups["art-3"], ["wording"])
        self.assertContains(response, 'class="search-group"', count=2)

    def test_an_excerpt_on_two_provisions_is_listed_once_naming_the_other(self):
        """An excerpt approved for two provisions is one result, under the first in treaty order, with a
        link to it under the other; filtered to the other provision, it is listed there."""
        response = self.search("consultations", source=self.source_a.slug)
        self.assertEqual(hits_of(response), [("excerpt", "art-3", self.consult_excerpt.pk)])
        self.assertEqual(response.context["results"].total, 1)
        self.assertContains(response, f'href="{self.p3.get_absolute_url()}#excerpt-{self.consult_excerpt.pk}"')
        self.assertContains(
            response,
            f'also discusses <a href="{self.p4.get_absolute_url()}#excerpt-{self.consult_excerpt.pk}">Article 4</a>',
        )
        filtered = self.search("consultations", source=self.source_a.slug, provision="art-4")
        self.assertEqual(hits_of(filtered), [("excerpt", "art-4", self.consult_excerpt.pk)])
        self.assertContains(filtered, f'also discusses <a href="{self.p3.get_absolute_url()}#excerpt-')

    def test_annotation_on_an_excerpt_is_listed_once(self):
        """An annotation on an excerpt approved for two provisions is one result (it was listed twice),
        under the first provision, with the excerpt's other provision named."""
        response = self.search("mentioned")
        self.assertEqual(hits_of(response), [("annotation", "art-3", self.on_excerpt.pk)])
        self.assertEqual(response.context["results"].total, 1)
        self.assertContains(response, f"{self.p3.get_absolute_url()}#annotation-{self.on_excerpt.pk}")
        self.assertContains(response, "#annotation-", count=1)

    def test_an_edit_is_found_by_its_new_words_only(self):
        # On PostgreSQL the searched document is a stored column the database keeps up to date.
        self.client.force_login(self.ana)
        self.assertIn(("annotation", "art-4", self.team.pk), hits_of(self.search("submarines")))
        Annotation.objects.filter(pk=self.team.pk).update(body="Team: frigates next.")
        self.assertNotIn(("annotation", "art-4", self.team.pk), hits_of(self.search("submarines")))
        self.assertIn(("annotation", "art-4", self.team.pk), hits_of(self.search("frigate")))

    def test_stemming(self):
        """Inflected forms match: "attacks" finds "attack", "consultation" finds "consultations"."""
        response = self.search("attacks")
        self.assertIn(("wording", "art-4", self.p4.pk), hits_of(response))
        self.assertContains(response, "armed <mark>attack</mark> by an individual")
        self.assertIn(("wording", "art-3", self.p3.pk), hits_of(self.search("consultation")))

    def test_every_word_must_match(self):
        """Several words are all required: "armed aggression" finds Article 3 only."""
        self.assertEqual(hits_of(self.search("armed aggression")), [("wording", "art-3", self.p3.pk)])
        self.assertEqual(hits_of(self.search("aggression submarines")), [])

    def test_excluded_word(self):
        """A word after a minus sign excludes the items that contain it."""
        kinds = {hit[:2] for hit in hits_of(self.search("armed -aggression"))}
        self.assertNotIn(("wording", "art-3"), kinds)
        self.assertIn(("wording", "art-4"), kinds)

    def test_stop_words_or_exclusions_alone_find_nothing(self):
        """A query of stop words alone, or of exclusions alone, finds nothing rather than everything."""
        for q in ["the of and", "-aggression", "-the -armed"]:
            with self.subTest(q=q):
                response = self.search(q)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.context["results"].total, 0)
                self.assertContains(response, "Nothing found")


class RankingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        treaty = make_treaty()
        cls.once = make_provision(treaty, number=1, text="The Parties respect the sovereignty of states.")
        cls.often = make_provision(
            treaty, number=2,
            text="Sovereignty is sovereignty: the sovereignty of each Party and the sovereignty of its people.",
        )
        cls.noted = make_provision(treaty, number=3, text="Nothing about it is said here.")
        cls.worded = make_provision(treaty, number=4, text="The Parties observe neutrality.")
        cls.author = make_user("ana")
        make_annotation(cls.noted, cls.author, 0, 7, body="On neutrality.", visibility="public")

    def test_more_occurrences_rank_higher(self):
        """A provision whose wording says the word four times ranks above one that says it once."""
        response = self.client.get(URL, {"q": "sovereignty"})
        provisions = [group.provision for group in response.context["results"].groups]
        self.assertEqual(provisions, [self.often, self.once])

    def test_wording_ranks_above_annotations(self):
        """With one occurrence each, a provision's wording ranks above an annotation on another provision."""
        response = self.client.get(URL, {"q": "neutrality"})
        provisions = [group.provision for group in response.context["results"].groups]
        self.assertEqual(provisions, [self.worded, self.noted])


class VisibilityTests(SearchTestCase):
    def visible_annotations(self, response):
        return {pk for kind, _, pk in hits_of(response) if kind == "annotation"}

    def test_visibility_matrix(self):
        """Each visitor finds exactly the annotations they may see, and the count counts only those."""
        everyone = {self.public.pk, self.public_reply.pk, self.on_excerpt.pk}
        expected = {
            None: everyone,
            self.ana: everyone | {self.private.pk, self.team.pk, self.stray_reply.pk},
            self.bob: everyone | {self.team.pk, self.stray_reply.pk},
            self.cora: everyone | {self.team.pk, self.stray_reply.pk},
        }
        for user, annotations in expected.items():
            with self.subTest(user=user and user.username):
                self.client.logout()
                if user:
                    self.client.force_login(user)
                response = self.search("submarines")
                self.assertEqual(self.visible_annotations(response), annotations)
                # Each is one result (on_excerpt too, though its excerpt discusses two articles).
                self.assertEqual(response.context["results"].total, len(annotations))
                self.assertContains(response, f"{len(annotations)} results for")
                self.assertNotContains(response, "Unplaced submarines")
                self.assertNotContains(response, "links <mark>submarines</mark>")
                self.assertNotContains(response, "Hidden:")
                self.assertNotContains(response, "Deleted:")

    def test_replies_under_a_published_note_follow_their_own_visibility(self):
        """Search's replies (replies_readable_by): under a published note, a team reply is the team's, a
        private one its author's, a deleted or hidden one nobody's."""
        def reply(author, visibility, **fields):
            return annotation_row(parent=self.public, author=author, body="A periscope.", visibility=visibility,
                                  **fields).pk

        team, private_bob = reply(self.bob, "team"), reply(self.bob, "private")
        reply(self.bob, "public", deleted_at=timezone.now())
        reply(self.bob, "public", hidden_at=timezone.now())
        for user, expected in [(None, set()), (self.ana, {team}), (self.bob, {team, private_bob}), (self.cora, {team})]:
            with self.subTest(user=user and user.username):
                self.client.logout()
                if user:
                    self.client.force_login(user)
                self.assertEqual(self.visible_annotations(self.search("periscope")), expected)

    def test_anonymous_sees_nothing_private_anywhere(self):
        """Private, team and proposed content leaves no trace for an anonymous visitor: no hit, no count, no tag."""
        for q in ["private", "team", "proposed", "stray", "unplaced"]:
            with self.subTest(q=q):
                response = self.search(q)
                self.assertEqual(response.context["results"].total, 0)
                self.assertContains(response, "Nothing found")
        response = self.search("submarines")
        self.assertContains(response, 'value="naval"')
        self.assertNotContains(response, "Secret plans")

    def test_analyst_filter_lists_team_tags_and_links_to_the_workspace(self):
        """An analyst sees team tags among the filters; non-public hits link to the workspace card."""
        self.client.force_login(self.bob)
        response = self.search("submarines")
        self.assertContains(response, 'value="secret-plans"')
        workspace = reverse("annotations:workspace", args=["t", "art-4"])
        self.assertContains(response, f'href="{workspace}#annotation-{self.team.pk}"')
        self.assertContains(response, f'href="{self.p4.get_absolute_url()}#annotation-{self.public.pk}"')
        self.assertContains(response, "(team)")

    def test_proposed_excerpt_is_not_searched(self):
        """An excerpt whose only link is proposed is found by nobody, not even a curator."""
        for user in [None, self.cora]:
            with self.subTest(user=user and user.username):
                if user:
                    self.client.force_login(user)
                self.assertEqual(hits_of(self.search("proposed reading")), [])


class FilterTests(SearchTestCase):
    def test_source_filter_keeps_its_excerpts_and_their_annotations(self):
        """With a source, only its excerpts and the annotations on them are results; wording is left out."""
        response = self.search("attack", source=self.source_b.slug)
        self.assertEqual(hits_of(response), [("excerpt", "art-4", self.core_excerpt.pk)])
        response = self.search("submarines", source=self.source_a.slug)
        self.assertEqual(hits_of(response), [("annotation", "art-3", self.on_excerpt.pk)])

    def test_tag_filter_keeps_only_tagged_annotations(self):
        """With a tag, only annotations carrying it are results."""
        response = self.search("submarines", tag="naval")
        self.assertEqual(hits_of(response), [("annotation", "art-4", self.public.pk)])
        self.client.force_login(self.bob)
        response = self.search("submarines", tag="secret-plans")
        self.assertEqual(hits_of(response), [("annotation", "art-4", self.team.pk)])

    def test_provision_filter(self):
        """With a provision, only results listed under it are shown."""
        response = self.search("armed", provision="art-3")
        self.assertEqual(hits_of(response), [("wording", "art-3", self.p3.pk)])
        response = self.search("consultations", provision="art-4")
        self.assertEqual({slug for _, slug, _ in hits_of(response)}, {"art-4"})

    def test_unknown_filter_values_match_nothing(self):
        """A source, tag or provision that does not exist (or is not visible) gives no results, not an error."""
        for params in [{"source": "nope"}, {"tag": "nope"}, {"provision": "art-99"}, {"tag": "secret-plans"}]:
            with self.subTest(params=params):
                response = self.search("armed", **params)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.context["results"].total, 0)

    def test_filter_selects_are_rendered_with_the_choice_kept(self):
        """The form offers every provision and source, the tags in use, and keeps the chosen values."""
        response = self.search("armed", provision="art-4", source=self.source_b.slug)
        options = [
            '<option value="art-4" selected>Article 4: Mutual assistance</option>',
            '<option value="art-3">Article 3: Consultations</option>',
            f'<option value="{self.source_b.slug}" selected>The core clause</option>',
            f'<option value="{self.source_a.slug}">Reading the alliance</option>',
            '<option value="naval">Naval</option>',
        ]
        for option in options:
            self.assertContains(response, option, html=True)
        self.assertContains(self.search("armed", tag="naval"), '<option value="naval" selected>Naval</option>', html=True)


class FacetTests(SearchTestCase):
    def facets(self, response):
        return {facet.name: [(slug, count) for slug, _, count, _ in facet.options]
                for facet in response.context["results"].facets}

    def test_each_filter_option_counts_the_results_it_would_give(self):
        """By provision an excerpt annotation counts under both articles its excerpt discusses (choosing
        either lists it); by commentary and by tag only what that filter keeps."""
        self.assertEqual(self.facets(self.search("submarines")), {
            "provision": [("art-3", 1), ("art-4", 3)],
            "source": [(self.source_a.slug, 1)],
            "tag": [("naval", 1)],
        })
        self.assertEqual(self.facets(self.search("armed")), {
            "provision": [("art-3", 1), ("art-4", 3)],
            "source": [(self.source_a.slug, 1), (self.source_b.slug, 1)],
            "tag": [],
        })

    def test_counts_keep_the_other_filters_and_the_chosen_option_removes_its_own(self):
        response = self.search("armed", source=self.source_a.slug)
        self.assertEqual(self.facets(response), {
            "provision": [("art-4", 1)],  # the commentary kept: only its excerpt on Article 4
            "source": [(self.source_a.slug, 1), (self.source_b.slug, 1)],  # its own filter left out
            "tag": [],
        })
        self.assertEqual(len(hits_of(response)), 1)
        self.assertContains(response, f'<a href="?q=armed&amp;provision=art-4&amp;source={self.source_a.slug}">')
        self.assertContains(response, '<a href="?q=armed" aria-current="true" class="facet-chosen">')

    def test_every_count_is_what_the_filter_gives(self):
        """Following each facet link gives exactly the number it shows."""
        for q in ("submarines", "armed", "attack"):
            for facet in self.search(q).context["results"].facets:
                for slug, _, count, _ in facet.options:
                    with self.subTest(q=q, facet=facet.name, slug=slug):
                        self.assertEqual(self.search(q, **{facet.name: slug}).context["results"].total, count)

    def test_a_search_with_no_hits_shows_no_facets(self):
        response = self.search("zyxquorum")
        self.assertNotContains(response, "search-facets")


class PageTests(SearchTestCase):
    def test_empty_query_shows_the_form_and_a_hint(self):
        """Without a query the page shows the search form and a hint, and runs no search."""
        response = self.client.get(URL)
        self.assertEqual(response.status_code, 200)
        self.assertIsNone(response.context["results"])
        self.assertContains(response, 'name="q"')
        self.assertContains(response, 'class="search-hint"')
        self.assertTemplateUsed(response, "base.html")

    def test_full_page_has_the_live_search_attributes(self):
        """The full page extends the site layout, loads htmx and wires the box for search-as-you-type."""
        response = self.search("armed")
        self.assertContains(response, "<html")
        self.assertContains(response, "<title>“armed” · Search · Glossa</title>")
        self.assertContains(response, 'data-hx-get="/search/"')
        self.assertContains(response, 'data-hx-trigger="input changed delay:250ms"')
        self.assertContains(response, 'data-hx-target="#search-results"')
        self.assertContains(response, 'data-hx-push-url="true"')
        self.assertContains(response, '<meta name="htmx-config"')
        self.assertContains(response, "css/search.css")
        self.assertContains(response, "htmx-2.min.js")
        self.assertNotContains(response, "hx-on")
        self.assertNotContains(response, "style=")

    def test_htmx_request_gets_only_the_results(self):
        """An HTMX request gets the results fragment alone, without the page around it."""
        response = self.client.get(URL, {"q": "armed"}, headers=HTMX)
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "<html")
        self.assertNotContains(response, 'name="q"')
        self.assertContains(response, 'id="search-results"')
        self.assertContains(response, "<mark>armed</mark>")

    def test_history_restore_gets_the_whole_page(self):
        """htmx restoring history asks with HX-Request too, and must get the whole page."""
        headers = HTMX | {"HX-History-Restore-Request": "true"}
        self.assertContains(self.client.get(URL, {"q": "armed"}, headers=headers), "<html")

    def test_vary_header(self):
        """Responses vary on HX-Request, so caches keep the page and the fragment apart."""
        for headers in [{}, HTMX]:
            with self.subTest(headers=headers):
                response = self.client.get(URL, {"q": "armed"}, headers=headers)
                self.assertIn("HX-Request", [v.strip() for v in response["Vary"].split(",")])

    def test_over_long_query_is_a_400(self):
        """A query over the limit is refused with 400 and a clear message, on the page and in the fragment."""
        for headers in [{}, HTMX]:
            with self.subTest(headers=headers):
                response = self.client.get(URL, {"q": "w" * (MAX_QUERY_LENGTH + 1)}, headers=headers)
                self.assertContains(response, f"please use at most {MAX_QUERY_LENGTH}.", status_code=400)
        self.assertEqual(self.client.get(URL, {"q": "w" * MAX_QUERY_LENGTH}).status_code, 200)

    def test_odd_syntax_never_fails(self):
        """Quotes, operators, stray punctuation, NUL and unicode are all answered, never with a 500."""
        odd = [
            '"', '"unbalanced', "'", "''", "&|!:*()", "a & b | !c", "!!!", "-", "--armed", "or", "armed or",
            "(((", "armed:*", "\\", "%", "_", "100%", "<>", "\x00armed", "armed\x00", "Ελλάδα", "東京", "🙂 armed",
            "naïve café", "\u200b", "a" * 60, "state -", '"state of war" -"state"', "armed | attack",
        ]
        for q in odd:
            with self.subTest(q=q):
                self.assertEqual(self.search(q).status_code, 200)
        for name in ["source", "tag", "provision"]:
            with self.subTest(filter=name):
                self.assertEqual(self.search("armed", **{name: "\x00'\"%_;--"}).status_code, 200)

    def test_phrase_query_finds_the_words(self):
        """A quoted phrase finds the provision that contains it."""
        self.assertIn(("wording", "art-4", self.p4.pk), hits_of(self.search('"state of war"')))

    def test_unicode_query_matches_case_insensitively(self):
        """Accented and non-Latin words are found whatever their case."""
        provision = make_provision(self.treaty, number=9, text="Ελλάδα and Ça va, the Café clause.")
        self.assertIn(("wording", "art-9", provision.pk), hits_of(self.search("ελλάδα")))
        self.assertIn(("wording", "art-9", provision.pk), hits_of(self.search("café")))

    def test_only_safe_methods(self):
        """The search is read-only: a POST is refused with 405."""
        self.assertEqual(self.client.post(URL, {"q": "armed"}).status_code, 405)

    def test_snippets_escape_markup(self):
        """Markup in an annotation body is shown as text: no live <script> reaches the page or the fragment."""
        make_annotation(
            self.p4, self.ana, 0, 6, visibility="public",
            body='<script>alert("x")</script> <b onclick="x()">bold</b> & zeppelins <mark>fake</mark>',
        )
        fragment = self.client.get(URL, {"q": "zeppelins"}, headers=HTMX)
        self.assertEqual(fragment.context["results"].total, 1)
        self.assertNotContains(fragment, "<script")
        self.assertNotContains(fragment, "<b ")
        self.assertNotContains(fragment, "<mark>fake")
        self.assertContains(fragment, "<mark>zeppelins</mark>")
        self.assertContains(fragment, "&amp; <mark>zeppelins</mark>")
        # The snippet is the text the reader sees of the rendered note: the tags the sanitiser drops are gone.
        self.assertContains(fragment, '<p class="hit-snippet">alert(&quot;x&quot;) bold &amp; <mark>zeppelins</mark> fake</p>')
        page = self.client.get(URL, {"q": "zeppelins"})
        self.assertEqual(len(re.findall(r"<script\b", page.content.decode())), 1)  # htmx itself
        self.assertContains(page, 'src="/static/django_htmx/htmx-2.min.js"')

    def test_snippets_are_the_plain_text_of_the_markdown(self):
        """A snippet shows a note's words, not its Markdown: no asterisks, underscores, link syntax or
        escapes (it showed the raw source)."""
        make_annotation(
            self.p4, self.ana, 0, 6, visibility="public",
            body="**Bold** claim about _zeppelins_, see [the text](https://example.org/t) and \\*not a list\\* either",
        )
        response = self.search("zeppelins")
        snippet = re.search(r'<p class="hit-snippet">(.*?)</p>', response.content.decode()).group(1)
        self.assertEqual(snippet, "Bold claim about <mark>zeppelins</mark>, see the text and *not a list* either")

    def test_query_is_escaped_where_echoed(self):
        """The query echoed in the title, box and messages is escaped."""
        response = self.search('<img src=x onerror="alert(1)">')
        self.assertNotContains(response, "<img src=x")
        self.assertContains(response, "&lt;img src=x")


class QueryCountTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.provision = make_provision(number=1, text=ARTICLE_4)
        cls.author = make_user("ana")
        cls.tags = [Tag.objects.create(name=f"Tag {n}", slug=f"tag-{n}") for n in range(2)]

    def add_public_annotations(self, count):
        created = make_annotations(self.provision, self.author, count, tags=self.tags)
        Annotation.objects.filter(pk__in=[a.pk for a in created]).update(visibility="public")

    def measure(self):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(URL, {"q": "emphasis"})
        self.assertEqual(response.status_code, 200)
        return len(queries), response

    def test_query_count_does_not_grow_with_hits(self):
        """3 and 60 matching annotations cost the same queries, for a visitor and for an analyst."""
        self.add_public_annotations(3)
        small = {}
        for who in ["anonymous", "analyst"]:
            if who == "analyst":
                self.client.force_login(self.author)
            small[who], response = self.measure()
            self.assertEqual(response.context["results"].total, 3)
            self.client.logout()
        self.add_public_annotations(57)
        for who in ["anonymous", "analyst"]:
            with self.subTest(who=who):
                if who == "analyst":
                    self.client.force_login(self.author)
                count, response = self.measure()
                self.assertEqual(count, small[who])
                self.assertEqual(response.context["results"].total, 60)
                self.assertEqual(response.context["results"].shown, MAX_HITS)
                self.assertContains(response, f"60 results for “emphasis”; showing the {MAX_HITS} best")
                self.client.logout()
        # Three for the filter choices and one for the languages held; one per kind of result to find the
        # matches (wording, excerpts, and four for annotations); the winning annotations' tags are named
        # from their stored keys, with no query. On PostgreSQL each kind's query also counts the facets (all three together with no filter), and
        # two more read the winners whole and make their headlines; the fallback counts the facets with a
        # query per kind of its own (wording, excerpts, four for annotations).
        expected = 3 + 1 + 6 + (2 if connection.vendor == "postgresql" else 6)
        self.assertEqual(small["anonymous"], expected)


class MixedQueryCountTests(TestCase):
    """Flat in N with every kind in the data: replies, annotations on excerpts, language versions."""

    @classmethod
    def setUpTestData(cls):
        from treaty_app.models import LanguageVersion

        cls.treaty = make_treaty(slug="t")
        cls.p3 = make_provision(cls.treaty, number=3, text=ARTICLE_3)
        cls.p4 = make_provision(cls.treaty, number=4, text=ARTICLE_4)
        LanguageVersion.objects.create(provision=cls.p4, language="ru", text="Сторона окажет помощь (emphasis).")
        cls.source = make_source(SOURCE_A, title="Reading")
        cls.excerpt = make_excerpt(cls.source, 0, len(SOURCE_A.split("\n\n")[0]))
        link(cls.excerpt, cls.p3)
        link(cls.excerpt, cls.p4)
        cls.author = make_user("ana")
        cls.tag = Tag.objects.create(name="Naval", slug="naval")

    def add(self, count):
        for n in range(count):
            root = make_annotation(self.p4, self.author, 0, 6, body=f"Root {n} on *emphasis*.", visibility="public",
                                   tags=[self.tag])
            annotation_row(parent=root, author=self.author, body=f"Reply {n}: emphasis.", visibility="public")
            on_excerpt = annotation_row(
                excerpt=self.excerpt, author=self.author, body=f"Excerpt note {n}, emphasis.", visibility="public",
                start=0, end=5, exact=self.excerpt.text[:5],
            )
            annotation_row(parent=on_excerpt, author=self.author, body=f"Excerpt reply {n}, emphasis.",
                           visibility="public")

    def measure(self):
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(URL, {"q": "emphasis"})
        self.assertEqual(response.status_code, 200)
        return len(queries), response.context["results"].total

    def test_query_count_is_flat_with_replies_excerpt_notes_and_versions(self):
        self.add(2)
        small = self.measure()
        self.add(28)
        large = self.measure()
        self.assertEqual((small[1], large[1]), (2 * 4 + 1, 30 * 4 + 1))  # each note once, and the Russian text
        self.assertEqual(large[0], small[0])


class CorpusSearchTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()

    def test_state_of_war_finds_article_4(self):
        """Searching "state of war" finds Article 4's wording and the commentary excerpts on it."""
        response = self.client.get(URL, {"q": "state of war"})
        self.assertEqual(response.status_code, 200)
        groups = {group.provision.slug: group for group in response.context["results"].groups}
        self.assertIn("art-4", groups)
        article_4 = groups["art-4"].hits
        self.assertEqual(article_4[0].kind, "wording")
        self.assertIn("<mark>war</mark>", str(article_4[0].snippet))
        excerpts = [hit for hit in article_4 if hit.kind == "excerpt"]
        self.assertGreaterEqual(len(excerpts), 2)
        url = reverse("reader:provision", args=[self.treaty.slug, "art-4"])
        self.assertContains(response, f'href="{url}#excerpt-{excerpts[0].pk}"')
        self.assertEqual(response.context["results"].groups[0].provision.slug, "art-4")

    def test_phrase_and_filters_on_the_corpus(self):
        """A quoted phrase and the provision filter work on the real corpus."""
        response = self.client.get(URL, {"q": '"state of war"', "provision": "art-4"})
        self.assertEqual({group.provision.slug for group in response.context["results"].groups}, {"art-4"})
        self.assertGreater(response.context["results"].total, 2)


class FacetMarkupTests(SimpleTestCase):
    """The facet options written in one pass (templatetags/facet_options.py) are the markup the
    template's loop wrote: labels truncated at 60 characters and escaped, the count's plural, the
    chosen option marked."""

    LOOP = (
        '{% for slug, label, count, query in facet.options %}\n'
        '              <li><a href="?{{ query }}"{% if slug == facet.chosen %} aria-current="true" '
        'class="facet-chosen"{% endif %}>{{ label|truncatechars:60 }} <span class="facet-count">{{ count }}'
        '<span class="visually-hidden"> result{{ count|pluralize }}{% if slug == facet.chosen %}, chosen: '
        'follow to remove this filter{% endif %}</span></span></a></li>\n            {% endfor %}'
    )

    def test_the_same_markup_as_the_template_loop(self):
        from django.template import Context, Template

        from annotations.search import Facet

        options = [
            ("war", "War & <peace> \"quoted\"", 1, "q=a&tag=war"),
            ("long", "A label much longer than sixty characters, which the facet cuts short with an ellipsis", 26107, "q=a&tag=long"),
            ("none", "Exactly sixty characters long label for the facet list here", 0, "q=%3Cx%3E&tag=none"),
        ]
        for chosen in ("", "war", "long"):
            with self.subTest(chosen=chosen):
                facet = Facet("tag", "Tag", options, chosen)
                expected = Template(self.LOOP).render(Context({"facet": facet}))
                found = Template("{% load facet_options %}{% facet_options facet %}").render(Context({"facet": facet}))
                self.assertEqual(found, expected)
                self.assertIn("War &amp; &lt;peace&gt;", found)
