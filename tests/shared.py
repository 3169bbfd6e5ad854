"""Test material that lives beside the clone, in ../shared: the real captures and the W3C test suite.

CI provides it; a clone on a laptop may not. `needs_shared(path)` decorates a test class (or one test):
when `path` is missing it is skipped with a reason, except under GLOSSA_REQUIRE_SHARED=1 (CI sets it),
where each of its tests fails instead, so a run that quietly skipped them cannot pass.
"""

import functools
import os
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
SOURCES = SHARED / "sources"
W3C_TESTS = SHARED / "w3c-annotation-tests"


def required():
    return os.environ.get("GLOSSA_REQUIRE_SHARED") == "1"


def needs_shared(*paths):
    """Skip (or, under GLOSSA_REQUIRE_SHARED=1, fail) the decorated class or test when a path is missing."""
    missing = [path for path in paths if not path.exists()]
    reason = f"{', '.join(str(path) for path in missing)} not found (the ../shared test material)"

    def decorate(test):
        if not missing:
            return test
        if not required():
            import unittest

            return unittest.skip(reason)(test)
        message = f"GLOSSA_REQUIRE_SHARED=1 but {reason}"
        if isinstance(test, type):
            # Before anything the class sets up reads the files, so every test of it errors with this message.
            def fail(cls):
                raise AssertionError(message)

            test.setUpClass = classmethod(fail)
            return test

        @functools.wraps(test)
        def failing(*args, **kwargs):
            raise AssertionError(message)

        return failing

    return decorate
