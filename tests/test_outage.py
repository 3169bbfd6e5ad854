"""A database outage answers 503 with Retry-After and a short page, logged once per outage."""

import unittest
from unittest import mock

from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import TestCase, TransactionTestCase

from treaty_app import outage

from .factories import make_provision


def unreachable(self, *args, **kwargs):
    raise OperationalError("connection to server at \"127.0.0.1\", port 5432 failed: Connection refused")


class OutageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.url = make_provision(text="Words.", number=1).get_absolute_url()

    def setUp(self):
        outage._since = None

    def test_every_request_answers_503_and_the_log_says_it_once(self):
        with self.assertLogs("glossa.outage", "WARNING") as logs:
            with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", unreachable):
                responses = [self.client.get(self.url) for _ in range(3)]
            back = self.client.get(self.url)
        self.assertEqual([r.status_code for r in responses], [503, 503, 503])
        self.assertEqual({r["Retry-After"] for r in responses}, {"30"})
        self.assertContains(responses[0], "Please try again in 30 seconds.", status_code=503)
        self.assertEqual(back.status_code, 200)
        self.assertEqual(len(logs.records), 2, [r.getMessage() for r in logs.records])
        self.assertIn("The database is unreachable", logs.records[0].getMessage())
        self.assertIn("The database is reachable again", logs.records[1].getMessage())

    def test_an_error_in_a_query_is_not_an_outage(self):
        """A lock timeout or a bad query is the request's problem: a 500, not a 503 for everyone."""
        def bad_query(self, *args, **kwargs):
            raise OperationalError("canceling statement due to lock timeout")

        with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", bad_query):
            with self.assertRaises(OperationalError):
                self.client.get(self.url)
        self.assertIsNone(outage._since)


@unittest.skipUnless(connection.vendor == "postgresql", "a server to stop being reachable: PostgreSQL")
class RealOutageTests(TransactionTestCase):
    serialized_rollback = True

    def test_a_server_that_refuses_connections(self):
        url = make_provision(text="Words.", number=1).get_absolute_url()
        outage._since = None
        port = connection.settings_dict["PORT"]
        connection.close()
        connection.settings_dict["PORT"] = "1"  # nothing listens there
        try:
            with self.assertLogs("glossa.outage", "ERROR"):
                response = self.client.get(url)
        finally:
            connection.close()
            connection.settings_dict["PORT"] = port
        self.assertEqual((response.status_code, response["Retry-After"]), (503, "30"))
        self.assertEqual(self.client.get(url).status_code, 200)
