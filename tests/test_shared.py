"""The rule for tests that read ../shared: skipped with a reason locally, failing under GLOSSA_REQUIRE_SHARED=1."""

import unittest
from pathlib import Path
from unittest import mock

from django.test import SimpleTestCase

from .shared import needs_shared

MISSING = Path(__file__).resolve().parent / "no-such-shared-material"


def run(test_class):
    """Run `test_class`'s tests; return the unittest result."""
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(test_class).run(result)
    return result


class NeedsSharedTests(SimpleTestCase):
    def decorated(self, path):
        @needs_shared(path)
        class ReadsShared(unittest.TestCase):
            def test_reads(self):
                path.read_text()

        return ReadsShared

    def test_missing_material_skips_with_a_reason(self):
        """Without GLOSSA_REQUIRE_SHARED, a class whose material is missing is skipped, and says what is missing."""
        with mock.patch.dict("os.environ", {"GLOSSA_REQUIRE_SHARED": ""}):
            result = run(self.decorated(MISSING))
        self.assertEqual([(reason, len(result.errors)) for _, reason in result.skipped],
                         [(f"{MISSING} not found (the ../shared test material)", 0)])

    def test_missing_material_fails_when_required(self):
        """Under GLOSSA_REQUIRE_SHARED=1 the same class errors, naming the variable and the path, and skips nothing."""
        with mock.patch.dict("os.environ", {"GLOSSA_REQUIRE_SHARED": "1"}):
            result = run(self.decorated(MISSING))
        self.assertEqual((len(result.skipped), len(result.errors)), (0, 1))
        self.assertIn(f"GLOSSA_REQUIRE_SHARED=1 but {MISSING} not found", result.errors[0][1])

    def test_present_material_runs_the_tests(self):
        """With the material there, the class is left as it is and its tests run."""
        with mock.patch.dict("os.environ", {"GLOSSA_REQUIRE_SHARED": "1"}):
            result = run(self.decorated(Path(__file__)))
        self.assertEqual((result.testsRun, len(result.skipped), len(result.errors)), (1, 0, 0))
