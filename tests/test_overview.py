"""The treaty page's heat maps (treaty_app.overview) and the public tag page (reader:tag)."""

import ast
import inspect

from django.db import connection
from django.template.loader import render_to_string
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import treaty_app.overview
from annotations.models import Annotation, Tag
from treaty_app.importing import load_corpus
from treaty_app.models import ExcerptLink, Treaty
from treaty_app import versioning
from treaty_app.overview import heat, heatmaps, legend

from .factories import (
    annotation_row,
    link,
    make_annotation,
    make_excerpt,
    make_provision, make_source, make_treaty, make_user,
)

TEXT = "The Parties shall cooperate in the fields of science, education and culture."


def counts(heatmap):
    """{(provision slug, column slug): count} for every non-zero cell."""
    return {
        (row.provision.slug, column.slug): cell.count
        for row in heatmap.rows
        for column, cell in zip(heatmap.columns, row.cells, strict=True)
        if cell.count
    }


def render_heatmaps(treaty):
    return render_to_string("treaty_app/_heatmaps.html", {"heatmaps": heatmaps(treaty)})


class CorpusHeatmapTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.treaty = Treaty.objects.get()

    def test_article_4_by_riac_source_matches_the_approved_links(self):
        """Article 4 × the RIAC analysis counts exactly the approved links from that source to art-4."""
        expected = ExcerptLink.objects.filter(
            state="approved", provision__slug="art-4", excerpt__source__slug="asmolov-riac-analysis"
        ).count()
        self.assertGreater(expected, 0)
        self.assertEqual(counts(heatmaps(self.treaty)["sources"])["art-4", "asmolov-riac-analysis"], expected)

    def test_every_source_cell_matches_the_approved_links(self):
        """Every cell of the corpus's source map equals an independent count of approved links."""
        heatmap = heatmaps(self.treaty)["sources"]
        expected = {}
        for excerpt_link in ExcerptLink.objects.approved().select_related("provision", "excerpt__source"):
            key = (excerpt_link.provision.slug, excerpt_link.excerpt.source.slug)
            expected[key] = expected.get(key, 0) + 1
        self.assertEqual(counts(heatmap), expected)
        self.assertEqual([row.provision.label for row in heatmap.rows][:2], ["Preamble", "Article 1"])
        self.assertEqual(len(heatmap.rows), 24)

    def test_proposed_links_are_not_counted(self):
        """A proposed link adds nothing to the source map."""
        before = counts(heatmaps(self.treaty)["sources"])
        proposed = ExcerptLink.objects.approved().filter(provision__slug="art-4").first()
        proposed.state = ExcerptLink.State.PROPOSED
        proposed.save()
        after = counts(heatmaps(self.treaty)["sources"])
        key = ("art-4", proposed.excerpt.source.slug)
        self.assertEqual(after.get(key, 0), before[key] - 1)

    def test_source_columns_have_short_labels_and_full_titles(self):
        """Source headers show author and date (or outlet) and carry the full title; undated ones last."""
        columns = heatmaps(self.treaty)["sources"].columns
        self.assertEqual(columns[0].label, "Konstantin Asmolov, 26 Jun 2024")
        self.assertEqual(columns[0].title, "Highlights of Vladimir Putin's visit to DPRK")
        self.assertEqual(columns[-1].label, "Konstantin Asmolov, RIAC")
        html = render_heatmaps(self.treaty)
        self.assertInHTML(
            '<abbr title="Highlights of Vladimir Putin&#x27;s visit to DPRK">'
            "Konstantin Asmolov, 26 Jun 2024</abbr>",
            html,
        )

    def test_no_annotations_gives_a_sentence_not_an_empty_table(self):
        """With no published annotation, the tag map is a sentence, not an empty table."""
        html = render_heatmaps(self.treaty)
        self.assertIn("No published annotations yet.", html)
        self.assertEqual(html.count("<table"), 1)

    def test_treaty_page_links_the_stylesheet(self):
        """The treaty page loads overview.css and has the overview section."""
        response = self.client.get(self.treaty.get_absolute_url())
        self.assertContains(response, "css/overview.css")
        self.assertContains(response, '<section aria-labelledby="overview-heading">')

    def test_treaty_template_includes_the_heatmaps(self):
        """With `heatmaps` in its context, the treaty template renders both maps in the overview section."""
        html = render_to_string(
            "treaty_app/treaty_detail.html",
            {"treaty": self.treaty, "provisions": [], "sources": [], "heatmaps": heatmaps(self.treaty)},
        )
        overview = html[html.index('id="overview-heading"') : html.index('id="sources-heading"')]
        self.assertIn('<table class="heatmap heatmap-sources">', overview)
        self.assertIn("No published annotations yet.", overview)


class HeatmapTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t")
        cls.preamble = make_provision(cls.treaty, text=TEXT)
        cls.art1 = make_provision(cls.treaty, number=1, text=TEXT, heading="Cooperation")
        cls.art2 = make_provision(cls.treaty, number=2, text=TEXT)
        cls.source = make_source("One on Article 1.\n\nTwo on Article 1.\n\nThree on Article 2.", slug="s")
        cls.excerpts = [make_excerpt(cls.source, start, end) for start, end in [(0, 17), (19, 36), (38, 57)]]
        link(cls.excerpts[0], cls.art1)
        link(cls.excerpts[1], cls.art1)
        link(cls.excerpts[2], cls.art2)
        link(cls.excerpts[2], cls.preamble, state=ExcerptLink.State.REJECTED)
        cls.ana = make_user("ana")
        cls.culture = Tag.objects.create(
            name="Culture", slug="culture", colour="#336699", description="Arts."
        )
        cls.science = Tag.objects.create(name="Science", slug="science", colour="#993366")
        cls.secret = Tag.objects.create(name="Secret", slug="secret", colour="#000000")


class TagHeatmapTests(HeatmapTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        a, now = cls.ana, timezone.now()
        make_annotation(cls.art1, a, 4, 11, visibility="public", tags=[cls.culture, cls.science])
        make_annotation(cls.art1, a, 12, 17, visibility="public", tags=[cls.culture])
        make_annotation(cls.art2, a, 4, 11, visibility="public", tags=[cls.science])
        make_annotation(cls.art2, a, 4, 11, visibility="public")  # untagged: no column, no count
        # None of these may count:
        make_annotation(cls.art1, a, 4, 11, visibility="private", tags=[cls.culture, cls.secret])
        make_annotation(cls.art1, a, 4, 11, visibility="team", tags=[cls.culture, cls.secret])
        both = [cls.culture, cls.secret]
        make_annotation(cls.art1, a, 4, 11, visibility="public", tags=both, deleted_at=now)
        make_annotation(cls.art1, a, 4, 11, visibility="public", tags=both, hidden_at=now)
        root = make_annotation(cls.preamble, a, 0, 3, visibility="team")
        reply = annotation_row(parent=root, author=a, body="Reply.", visibility="public")
        reply.tags.set([cls.secret])
        on_excerpt = annotation_row(
            excerpt=cls.excerpts[0], author=a, body="On commentary.", visibility="public",
            start=0, end=3, exact="One",
        )
        on_excerpt.tags.set([cls.secret])

    def test_counts_only_published_root_annotations_on_the_wording(self):
        """Private, team, deleted and hidden annotations, replies and excerpt annotations are not counted."""
        heatmap = heatmaps(self.treaty)["tags"]
        self.assertEqual(
            counts(heatmap), {("art-1", "culture"): 2, ("art-1", "science"): 1, ("art-2", "science"): 1}
        )
        self.assertEqual([column.label for column in heatmap.columns], ["Culture", "Science"])
        self.assertEqual([column.colour for column in heatmap.columns], ["#336699", "#993366"])

    def test_counts_agree_with_published(self):
        """Each tag cell equals Annotation.objects.published() counted for that provision and tag."""
        heatmap = heatmaps(self.treaty)["tags"]
        for row in heatmap.rows:
            for column, cell in zip(heatmap.columns, row.cells, strict=True):
                expected = Annotation.objects.published().roots().filter(
                    provision_id=row.provision.pk, tags__slug=column.slug
                ).count()
                self.assertEqual(cell.count, expected, (row.provision.slug, column.slug))

    def test_other_treaties_do_not_count(self):
        """Annotations on another treaty's provisions neither count nor add columns."""
        other = make_provision(make_treaty(), number=1, text=TEXT)
        make_annotation(other, self.ana, 4, 11, visibility="public", tags=[self.secret, self.culture])
        heatmap = heatmaps(self.treaty)["tags"]
        self.assertEqual(counts(heatmap)["art-1", "culture"], 2)
        self.assertNotIn("secret", [column.slug for column in heatmap.columns])

    def test_cells_link_to_what_they_count(self):
        """Non-zero cells link to the provision's commentary from the source, or to the filtered tag page."""
        html = render_heatmaps(self.treaty)
        self.assertIn(f'href="{self.art1.get_absolute_url()}#source-s"', html)
        self.assertIn('href="/tags/culture/?treaty=t&amp;provision=art-1"', html)
        self.assertIn('href="/tags/science/?treaty=t&amp;provision=art-2"', html)
        self.assertNotIn("?provision=preamble", html)
        self.assertNotIn("#source-s\" title=\"0", html)
        self.assertInHTML('<td class="heat heat-0">0</td>', html)
        self.assertInHTML(
            f'<a href="{self.art1.get_absolute_url()}" title="Cooperation">Article 1</a>', html
        )

    def test_tables_are_accessible_and_free_of_inline_styles(self):
        """Both maps are captioned tables with scoped headers in a focusable scrolling region; no style=."""
        html = render_heatmaps(self.treaty)
        self.assertEqual(html.count("<caption>"), 2)
        self.assertEqual(html.count('<div class="table-scroll" tabindex="0" role="region" aria-label="'), 2)
        self.assertEqual(html.count('<th scope="row">'), 6)
        self.assertNotIn("style=", html)
        self.assertIn("No published annotations yet.", render_to_string(
            "treaty_app/_heatmaps.html", {"heatmaps": heatmaps(make_provision(number=1).treaty)}
        ))

    def test_shades_follow_the_counts(self):
        """Cells carry heat-N classes from their counts relative to the map's largest count."""
        heatmap = heatmaps(self.treaty)["tags"]
        art1 = next(row for row in heatmap.rows if row.provision.slug == "art-1")
        self.assertEqual([cell.heat for cell in art1.cells], [5, 3])  # 2 of 2, 1 of 2
        html = render_heatmaps(self.treaty)
        self.assertIn('<td class="heat heat-5"><a href="/tags/culture/?treaty=t&amp;provision=art-1"', html)
        self.assertIn("1 annotation", html)  # the legend: 1 annotation, 2 annotations
        self.assertIn("2 annotations", html)


class BucketingTests(TestCase):
    def test_heat_buckets(self):
        """heat() is 0 for nothing, else ceil(5 × n / max)."""
        self.assertEqual([heat(n, 5) for n in range(6)], [0, 1, 2, 3, 4, 5])
        self.assertEqual([heat(n, 2) for n in range(3)], [0, 3, 5])
        self.assertEqual([heat(n, 100) for n in (1, 20, 21, 80, 81, 100)], [1, 1, 2, 4, 5, 5])
        self.assertEqual(heat(0, 0), 0)

    def test_legend_covers_each_count_once(self):
        """For every max, each count 1…max falls in exactly the legend step of its shade."""
        for top in range(1, 40):
            steps = legend(top)
            self.assertEqual(steps[0].low, 1)
            self.assertEqual(steps[-1].high, top)
            for n in range(1, top + 1):
                (step,) = [s for s in steps if s.low <= n <= s.high]
                self.assertEqual(step.heat, heat(n, top), (top, n))
        self.assertEqual(
            [(s.heat, s.label) for s in legend(10)],
            [(1, "1–2"), (2, "3–4"), (3, "5–6"), (4, "7–8"), (5, "9–10")],
        )


class QueryCountTests(HeatmapTestCase):
    def grow(self, times):
        """More provisions, sources, links, tags and annotations."""
        for i in range(times):
            provision = make_provision(self.treaty, number=10 + i, text=TEXT)
            source = make_source(f"Paragraph on Article {10 + i}.")
            link(make_excerpt(source, 0, 10), provision)
            link(make_excerpt(source, 11, 15), self.art1)
            tag = Tag.objects.create(name=f"Tag {i}", slug=f"tag-{i}")
            for j in range(3):
                make_annotation(provision, self.ana, j, j + 5, visibility="public", tags=[tag, self.culture])
                make_annotation(self.art1, self.ana, j, j + 5, visibility="team", tags=[tag])

    def measure(self):
        with CaptureQueriesContext(connection) as queries:
            render_heatmaps(self.treaty)
        return len(queries)

    def test_heatmaps_cost_a_fixed_number_of_queries(self):
        """Building and rendering both maps costs three queries however large the corpus."""
        small = self.measure()
        self.grow(6)
        self.assertEqual(self.measure(), small)
        self.assertEqual(small, 3)

    def test_treaty_app_never_imports_annotations(self):
        """overview.py imports nothing from the annotations app, not even through apps.get_model."""
        source = inspect.getsource(treaty_app.overview)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom):
                self.assertFalse((node.module or "").startswith("annotations"))
            elif isinstance(node, ast.Import):
                self.assertFalse(any(alias.name.startswith("annotations") for alias in node.names))
            elif isinstance(node, ast.Attribute):
                self.assertNotEqual(node.attr, "get_model")


class TagPageTests(HeatmapTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        a, now = cls.ana, timezone.now()
        cls.on_art2 = make_annotation(
            cls.art2, a, 4, 11, visibility="public", body="Public on two.", tags=[cls.culture, cls.science]
        )
        cls.on_art1 = make_annotation(
            cls.art1, a, 12, 17, visibility="public", body="Public on one.", tags=[cls.culture]
        )
        cls.on_preamble = make_annotation(
            cls.preamble, a, 4, 11, visibility="public", body="Public on *preamble*.", tags=[cls.culture]
        )
        for visibility, extra in [("private", {}), ("team", {}), ("public", {"deleted_at": now}),
                                  ("public", {"hidden_at": now})]:
            make_annotation(
                cls.art1, a, 4, 11, visibility=visibility, body=f"Unpublished {visibility} {sorted(extra)}.",
                tags=[cls.culture], **extra,
            )
        cls.on_excerpt = annotation_row(
            excerpt=cls.excerpts[0], author=a, body="Public on commentary.", visibility="public",
            start=0, end=3, exact="One",
        )
        cls.on_excerpt.tags.set([cls.culture])
        cls.url = reverse("reader:tag", args=["culture"])

    def test_anonymous_sees_only_published_annotations(self):
        """The tag page lists published annotations and never private, team, deleted or hidden ones."""
        response = self.client.get(self.url)
        bodies = ["Public on two.", "Public on one.", "Public on <em>preamble</em>.", "Public on commentary."]
        for body in bodies:
            self.assertContains(response, body, html=body.startswith("Public on <"))
        self.assertNotContains(response, "Unpublished")

    def test_analysts_too_see_only_published_annotations(self):
        """Logged in as an analyst, the public tag page still shows only published annotations."""
        self.client.force_login(self.ana)
        response = self.client.get(self.url)
        self.assertContains(response, "Public on one.")
        self.assertNotContains(response, "Unpublished")

    def test_shows_the_tag_and_each_annotation(self):
        """Name, colour code, description; each annotation's words, author, date, other tags and permalink."""
        response = self.client.get(self.url)
        self.assertContains(response, "<h1>Tag: Culture</h1>", html=True)
        self.assertContains(response, "<code>#336699</code>", html=True)
        self.assertContains(response, "Arts.")
        self.assertContains(response, f"“{self.on_art2.exact}”")
        self.assertContains(response, "ana · <time")
        self.assertContains(response, f'href="{self.art2.get_absolute_url()}#annotation-{self.on_art2.pk}"')
        self.assertContains(response, f'href="{self.excerpts[0].get_absolute_url()}"')
        self.assertContains(response, '<a href="/tags/science/">Science</a>', html=True)
        self.assertNotContains(response, '<a href="/tags/culture/">Culture</a>', html=True)
        self.assertNotContains(response, "style=")

    def test_grouped_by_provision_in_reading_order(self):
        """Groups follow the treaty's reading order, then the annotations on commentary."""
        content = self.client.get(self.url).content.decode()
        bodies = ["Public on <em>", "Public on one.", "Public on two.", "Public on commentary."]
        positions = [content.index(body) for body in bodies]
        self.assertEqual(positions, sorted(positions))
        self.assertLess(content.index(">Preamble</a>"), content.index(">Article 1</a>"))

    def test_provision_filter(self):
        """?provision= keeps only the annotations on that provision."""
        response = self.client.get(self.url, {"provision": "art-1"})
        self.assertContains(response, "Public on one.")
        self.assertNotContains(response, "Public on two.")
        self.assertNotContains(response, "Public on commentary.")
        self.assertContains(response, "Showing only the annotations on Article 1.")
        response = self.client.get(reverse("reader:tag", args=["science"]), {"provision": "art-1"})
        self.assertContains(response, "No published annotation carries this tag on Article 1 yet.")

    def test_unknown_tag_or_provision_is_404(self):
        """An unknown tag, or a filter on an unknown provision, is a 404; a POST is a 405."""
        self.assertEqual(self.client.get(reverse("reader:tag", args=["nope"])).status_code, 404)
        self.assertEqual(self.client.get(self.url, {"provision": "art-99"}).status_code, 404)
        self.assertEqual(self.client.post(self.url).status_code, 405)

    def test_tag_with_only_unpublished_annotations(self):
        """A tag whose annotations are all unpublished shows none of them and says so."""
        response = self.client.get(reverse("reader:tag", args=["secret"]))
        self.assertContains(response, "No published annotation carries this tag yet.")

    def test_query_count_does_not_grow(self):
        """The tag page costs the same number of queries with four annotations or sixty-four."""
        def measure(**params):
            versioning.changed(versioning.SHARED)  # measured after a change, not served from the page cache
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get(self.url, params).status_code, 200)
            return len(queries)

        small, small_filtered = measure(), measure(provision="art-1")
        for i in range(10):
            provision = make_provision(self.treaty, number=10 + i, text=TEXT)
            tag = Tag.objects.create(name=f"Extra {i}", slug=f"extra-{i}")
            for j in range(3):
                make_annotation(provision, self.ana, j, j + 5, visibility="public", tags=[self.culture, tag])
                make_annotation(self.art1, self.ana, j, j + 5, visibility="public", tags=[self.culture, tag])
        self.assertEqual(measure(), small)
        self.assertEqual(measure(provision="art-1"), small_filtered)
        self.assertLessEqual(small, 4)
        self.assertLessEqual(small_filtered, 5)
        self.assertContains(self.client.get(self.url), 'class="tag-annotation"', count=4 + 60)
