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
