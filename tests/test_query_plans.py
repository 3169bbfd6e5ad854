"""The statements pages make for their highlights read PostgreSQL's highlight index in its order.

A page draws every highlight of a provision: a workspace or public page at 10,000 notes read them
through the provision's index and sorted them (12.4 ms); migration annotations 0019 keeps them in an
index in the pages' order, so the statement needs no sort. Each test takes the statement a page
really sent and asks PostgreSQL how it would run it with sorting and sequential scans priced out:
if the page's order or the index's columns drift apart, a Sort node comes back and the test fails.
"""

import unittest

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import Annotation

from .factories import make_annotation, make_provision, make_treaty, make_user

on_postgresql = unittest.skipUnless(
    connection.vendor == "postgresql", "the index is PostgreSQL's (SQLite has none); CI runs this file on it too"
)
TEXT = "The Parties shall immediately provide military and other assistance with all means in their possession."


@on_postgresql
class HighlightIndexTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.provision = make_provision(make_treaty(slug="t"), number=4, text=TEXT)
        cls.ana = make_user("ana")
        for start in range(0, 60, 6):
            make_annotation(cls.provision, cls.ana, start, start + 8, visibility="public")
        cls.reply = Annotation.objects.create(parent=Annotation.objects.first(), author=cls.ana, body="A reply.",
                                              body_html="<p>A reply.</p>", visibility="public")

    def highlight_statement(self, url):
        """The page's statement that reads the light rows of the provision's highlights, in order."""
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(url).status_code, 200)
        light_rows = 'SELECT "annotations_annotation"."id" AS "pk", "annotations_annotation"."start" AS "start", '
        found = [query["sql"] for query in queries.captured_queries
                 if query["sql"].startswith(light_rows) and "ORDER BY" in query["sql"]
                 and f'"annotations_annotation"."provision_id" = {self.provision.pk}' in query["sql"]]
        self.assertEqual(len(found), 1, found)
        return found[0]

    def plan(self, sql):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql)
            return "\n".join(line for (line,) in cursor.fetchall())

    def assert_read_in_order(self, url):
        plan = self.plan(self.highlight_statement(url))
        self.assertIn("annotation_highlight_order", plan)
        self.assertNotIn("Sort", plan)

    def test_the_workspace(self):
        self.client.force_login(self.ana)
        self.assert_read_in_order(reverse("annotations:workspace", args=["t", "art-4"]))

    def test_the_public_page(self):
        self.assert_read_in_order(reverse("reader:provision", args=["t", "art-4"]))
