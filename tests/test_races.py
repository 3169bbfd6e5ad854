"""Concurrent writes, with real database connections on PostgreSQL.

Each race is ordered the way the outside test ordered it: a second connection (as from psql) holds
the annotation's row lock while two writers queue behind it in threads of their own, each on its
own connection; then the lock is released and they run in the order they queued. SQLite has no
row locks (a write transaction takes the whole database: settings' IMMEDIATE mode), so there these
races cannot happen; the test of atomicity runs on both.
"""

import threading
import time
import unittest
from unittest import mock

import psycopg
from django.db import connection, connections
from django.test import TestCase, TransactionTestCase

from annotations import writes
from annotations.models import Annotation
from treaty_app import treaty_text
from treaty_app.importing import CorpusError
from treaty_app.treaty_text import import_treaty
from treaty_app.models import Provision

from .factories import make_provision, make_treaty, make_user
from .test_akn import akn_text

TEXT = "In the event that one of the Parties finds itself in a state of war, the other Party shall assist it."
WORDS = "state of war"

on_postgresql = unittest.skipUnless(
    connection.vendor == "postgresql", "row-lock races need PostgreSQL; CI runs this file on it too"
)


def second_connection():
    """A plain connection to the test database, as psql would be."""
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None, port=settings["PORT"] or None,
    )


class Writer(threading.Thread):
    """Runs `call` on its own database connection and keeps its result or the exception it raised."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call, self.result, self.error = call, None, None

    def run(self):
        try:
            self.result = self.call()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            self.error = error
        finally:
            connections.close_all()


def waiting_for_locks(psql, count, timeout=10):
    """Wait until `count` other backends are blocked on a lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psql.cursor() as cursor:
            # Within a transaction the activity view is a snapshot taken at its first read: take a new one.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.02)
    with psql.cursor() as cursor:
        cursor.execute("SELECT state, wait_event_type, wait_event, left(query, 100) FROM pg_stat_activity "
                       "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'")
        activity = cursor.fetchall()
    raise AssertionError(f"{count} writer(s) never queued on the lock: {activity}")


@on_postgresql
class RowRaceTests(TransactionTestCase):
    serialized_rollback = True  # the role groups of the data migration come back after each flush

    def setUp(self):
        self.treaty = make_treaty(slug="t")
        self.provision = make_provision(self.treaty, number=4, text=TEXT)
        self.ana = make_user("ana")
        self.cora = make_user("cora", role="Curators", is_staff=True)
        start = TEXT.index(WORDS)
        self.note = writes.create(author=self.ana, target=self.provision, start=start, end=start + len(WORDS),
                                  exact=WORDS, body="First words.")
        self.psql = second_connection()
        self.addCleanup(self.psql.close)

    def race(self, first, second):
        """Hold the row, queue `first` then `second` behind it, release; return both writers."""
        with self.psql.cursor() as cursor:
            cursor.execute("SELECT id FROM annotations_annotation WHERE id = %s FOR UPDATE", [self.note.pk])
            self.assertEqual(cursor.rowcount, 1, "the second connection holds the row")
        writers = []
        for number, call in enumerate((first, second), start=1):
            writer = Writer(call)
            writer.start()
            try:
                waiting_for_locks(self.psql, number)
            except AssertionError as error:
                writer.join(1)
                raise AssertionError(f"writer {number} did not queue ({writer.error!r}): {error}") from None
            writers.append(writer)
        self.psql.commit()
        for writer in writers:
            writer.join(10)
            self.assertFalse(writer.is_alive(), "a writer is still blocked")
        return writers

    def stale_edit(self):
        return lambda: writes.edit(self.note.pk, by=self.ana, version=self.note.version, body="Stale words.")

    def test_a_stale_edit_never_brings_back_a_deleted_note(self):
        deleting, editing = self.race(lambda: writes.delete(self.note.pk, by=self.ana), self.stale_edit())
        self.assertIsNone(deleting.error)
        self.assertIsInstance(editing.error, writes.NotFound)
        note = Annotation.objects.get(pk=self.note.pk)
        self.assertIsNotNone(note.deleted_at)
        self.assertEqual(note.body, "First words.")

    def test_a_stale_edit_never_brings_back_a_hidden_note(self):
        hiding, editing = self.race(
            lambda: writes.hide(Annotation.objects.filter(pk=self.note.pk), curator=self.cora), self.stale_edit()
        )
        self.assertEqual((hiding.error, hiding.result), (None, 1))
        self.assertIsInstance(editing.error, writes.NotFound)
        note = Annotation.objects.get(pk=self.note.pk)
        self.assertEqual((note.hidden_by, note.body), (self.cora, "First words."))

    def test_two_edits_at_one_version_save_one_and_refuse_the_other(self):
        first, second = self.race(
            lambda: writes.edit(self.note.pk, by=self.ana, version=self.note.version, body="Edit one."),
            lambda: writes.edit(self.note.pk, by=self.ana, version=self.note.version, body="Edit two."),
        )
        self.assertIsNone(first.error)
        self.assertIsInstance(second.error, writes.Conflict)
        self.assertEqual(Annotation.objects.get(pk=self.note.pk).body, "Edit one.")

    def test_history_records_the_committed_state(self):
        """An edit commits while a delete waits: the delete's history record holds the edited text and
        the version after it, a state that existed."""
        editing, deleting = self.race(
            lambda: writes.edit(self.note.pk, by=self.ana, version=self.note.version, body="Edited first."),
            lambda: writes.delete(self.note.pk, by=self.ana),
        )
        self.assertEqual((editing.error, deleting.error), (None, None))
        records = list(Annotation.objects.get(pk=self.note.pk).history.order_by("history_id"))
        self.assertEqual(
            [(record.body, record.version, record.deleted_at is not None) for record in records],
            [("First words.", 1, False), ("Edited first.", 2, False), ("Edited first.", 3, True)],
        )

    def test_a_publication_and_a_send_back_at_once(self):
        """Both curators act on the same submitted note: the one that locked second sees it published."""
        writes.submit(self.note.pk, by=self.ana)
        publishing, sending = self.race(
            lambda: writes.publish(Annotation.objects.filter(pk=self.note.pk), curator=self.cora),
            lambda: writes.send_back(Annotation.objects.filter(pk=self.note.pk), curator=self.cora, reason="No."),
        )
        self.assertEqual((publishing.result, sending.result), (1, 1))
        note = Annotation.objects.get(pk=self.note.pk)
        # Sending back a published note withdraws it from the public, as the curator asked last.
        self.assertEqual((note.visibility, note.review), ("team", "returned"))


@on_postgresql
class ImportLockTests(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        self.treaty = make_treaty(slug="t")
        self.provision = make_provision(self.treaty, number=4, text=TEXT)
        self.ana = make_user("ana")
        start = TEXT.index(WORDS)
        self.note = writes.create(author=self.ana, target=self.provision, start=start, end=start + len(WORDS),
                                  exact=WORDS, body="Words.")
        self.psql = second_connection()
        self.addCleanup(self.psql.close)
        self.new_text = f"Article 4\nAs amended: {TEXT}\n"

    def test_an_import_waits_for_a_writer_and_never_deadlocks(self):
        """A writer holds an annotation and then bumps the treaty's content version (the order that
        deadlocked before: the import held that version row and wanted the annotation); the import
        waits, then finishes."""
        with self.psql.cursor() as cursor:
            cursor.execute("SELECT id FROM annotations_annotation WHERE id = %s FOR UPDATE", [self.note.pk])
        importer = Writer(lambda: import_treaty(self.new_text, treaty=self.treaty))
        importer.start()
        waiting_for_locks(self.psql, 1)
        with self.psql.cursor() as cursor:
            cursor.execute(
                "INSERT INTO treaty_app_contentversion (scope, version, changed_at) VALUES ('treaty:t', 1, now()) "
                "ON CONFLICT (scope) DO UPDATE SET version = treaty_app_contentversion.version + 1"
            )
        self.psql.commit()
        importer.join(15)
        self.assertIsNone(importer.error)
        note = Annotation.objects.get(pk=self.note.pk)
        self.assertEqual(Provision.objects.get(pk=self.provision.pk).text[note.start:note.end], WORDS)

    def test_an_import_that_cannot_get_its_locks_says_so_and_changes_nothing(self):
        with self.psql.cursor() as cursor:
            cursor.execute("SELECT id FROM annotations_annotation WHERE id = %s FOR UPDATE", [self.note.pk])
        with mock.patch.object(treaty_text, "LOCK_TIMEOUT", 1):
            with self.assertRaisesMessage(CorpusError, "nothing was imported"):
                import_treaty(self.new_text, treaty=self.treaty)
        self.psql.rollback()
        self.assertEqual(Provision.objects.get(pk=self.provision.pk).text, TEXT)
        self.assertEqual(Annotation.objects.get(pk=self.note.pk).version, self.note.version)

    def test_an_akoma_ntoso_import_that_cannot_get_its_locks_says_so_too(self):
        """The same lock timeout holds for an Akoma Ntoso document: it takes the same import."""
        document = akn_text(self.treaty.title, {4: ("", [f"As amended: {TEXT}"])})
        with self.psql.cursor() as cursor:
            cursor.execute("SELECT id FROM annotations_annotation WHERE id = %s FOR UPDATE", [self.note.pk])
        with mock.patch.object(treaty_text, "LOCK_TIMEOUT", 1), self.assertRaisesMessage(CorpusError, "nothing was"):
            import_treaty(document, treaty=self.treaty)
        self.psql.rollback()
        self.assertEqual(Provision.objects.get(pk=self.provision.pk).text, TEXT)
        import_treaty(document, treaty=self.treaty)
        self.assertEqual(Provision.objects.get(pk=self.provision.pk).text, f"As amended: {TEXT}")


class AtomicityTests(TestCase):
    """A write that fails midway leaves nothing: not the row, not a history record, not a version bump."""

    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t")
        cls.provision = make_provision(cls.treaty, number=4, text=TEXT)
        cls.ana = make_user("ana")
        cls.cora = make_user("cora", role="Curators", is_staff=True)

    def test_a_crash_before_the_history_record_undoes_the_delete(self):
        from treaty_app import versioning

        start = TEXT.index(WORDS)
        note = writes.create(author=self.ana, target=self.provision, start=start, end=start + len(WORDS),
                             exact=WORDS, body="Words.")
        writes.submit(note.pk, by=self.ana)
        writes.publish(Annotation.objects.filter(pk=note.pk), curator=self.cora)
        versions, records = versioning.current(), note.history.count()
        with mock.patch.object(writes, "_record", side_effect=RuntimeError("the server died")):
            with self.assertRaises(RuntimeError):
                writes.delete(note.pk, by=self.ana)
        note.refresh_from_db()
        self.assertIsNone(note.deleted_at)
        self.assertEqual((note.history.count(), versioning.current()), (records, versions))


@on_postgresql
class ProtocolRaceTests(TransactionTestCase):
    """Two W3C Protocol clients PUT with the same ETag at once (each passes If-Match before either
    writes): the row lock orders them, one is saved and the other gets 412; a PUT queued behind a
    DELETE gets 404 and never brings the note back."""

    serialized_rollback = True
    race = RowRaceTests.race
    setUp = RowRaceTests.setUp

    def put(self, body):
        from django.test import Client

        from annotations import tokens
        from annotations.models import ApiToken

        secret = tokens.issue(self.ana, name=body, scope=ApiToken.Scope.WRITE)[1]
        client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
        read = client.get(f"/annotations/{self.note.pk}")
        document = read.json()
        document["body"] = [{"type": "TextualBody", "value": body, "format": "text/markdown"}]

        def send():
            return client.put(f"/annotations/{self.note.pk}", data=document, HTTP_IF_MATCH=read["ETag"],
                              content_type="application/ld+json").status_code
        return send, client

    def test_two_puts_at_one_etag_save_one_and_refuse_the_other(self):
        (first, _), (second, _) = self.put("PUT one."), self.put("PUT two.")
        one, two = self.race(first, second)
        self.assertEqual((one.error, two.error, one.result, two.result), (None, None, 200, 412))
        self.assertEqual(Annotation.objects.get(pk=self.note.pk).body, "PUT one.")

    def test_a_put_behind_a_delete_is_not_found(self):
        send, client = self.put("Too late.")
        deleting, putting = self.race(lambda: client.delete(f"/annotations/{self.note.pk}").status_code, send)
        self.assertEqual((deleting.result, putting.result), (204, 404))
        note = Annotation.objects.get(pk=self.note.pk)
        self.assertEqual((note.body, note.deleted_at is not None), ("First words.", True))
