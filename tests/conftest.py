import pytest
from django.core.cache import caches
from django.test import TransactionTestCase


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts with empty caches: a test database is rolled back, a process's cache is not."""
    for cache in caches.all():
        cache.clear()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run transactional tests (the browser tests) last, after pytest-randomly's shuffle.

    They end by flushing the database, which takes the data-migration rows (groups, the content
    version) with it; Django's own runner orders them last for that reason.
    """

    def transactional(item):
        cls = getattr(item, "cls", None)
        return bool(cls and issubclass(cls, TransactionTestCase) and not hasattr(cls, "setUpTestData"))

    items.sort(key=transactional)


def _deserialize_then_reset_sequences(original):
    """Django's serialized rollback puts the data-migration rows back with their own keys but leaves
    PostgreSQL's sequences where they are: after a test with ``reset_sequences`` (which restarts them
    at 1), the next new row took a key a restored row holds (an assessment field made in the admin
    answered 500). Put every sequence past the rows it restored."""

    def deserialize_db_from_string(self, data):
        original(self, data)
        if self.connection.vendor != "postgresql":
            return
        from django.apps import apps
        from django.core.management.color import no_style

        statements = self.connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True))
        with self.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return deserialize_db_from_string


def pytest_configure(config):
    from django.db.backends.base.creation import BaseDatabaseCreation

    BaseDatabaseCreation.deserialize_db_from_string = _deserialize_then_reset_sequences(
        BaseDatabaseCreation.deserialize_db_from_string)
