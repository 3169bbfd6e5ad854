"""The README's curl examples of the W3C Annotation Protocol, run as written against a live server
with the corpus loaded: the statuses they print are the ones the README says."""

import os
import re
import subprocess
import tempfile
from pathlib import Path

from django.test import LiveServerTestCase

from annotations import tokens
from annotations.models import Annotation, ApiToken
from treaty_app.importing import load_corpus

from .factories import make_user

README = Path(__file__).resolve().parent.parent / "README.md"


def protocol_examples():
    section = README.read_text().split("## W3C Web Annotation Protocol", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```sh\n(.*?)```", section, re.S)[1]


class ReadmeCurlTests(LiveServerTestCase):
    # A transactional test: restore the data migration's groups (flushed by the tests before it).
    serialized_rollback = True

    def test_the_examples_run_as_written(self):
        load_corpus()
        analyst = make_user("ana")
        secret = tokens.issue(analyst, name="readme", scope=ApiToken.Scope.WRITE)[1]
        with tempfile.TemporaryDirectory() as directory, self.settings(SITE_URL=self.live_server_url):
            run = subprocess.run(
                ["bash", "-eu", "-c", protocol_examples()], cwd=directory, capture_output=True, text=True,
                timeout=60, env={**os.environ, "GLOSSA": self.live_server_url, "TOKEN": secret},
            )
        self.assertEqual(run.returncode, 0, run.stderr)
        container, *statuses = run.stdout.strip().split("\n")
        self.assertIn('"type":["BasicContainer","AnnotationCollection"]', container)
        self.assertIn('"total":0', container)
        self.assertEqual(statuses, ["201", "200", "200", "412", "204"])
        made = Annotation.objects.get()
        self.assertEqual((made.author, made.exact, made.body),
                         (analyst, "Article 51 of the UN Charter", "Which duties of Article 51 does this import?"))
        self.assertIsNotNone(made.deleted_at)
        self.assertEqual([tag.name for tag in made.tags.all()], ["self-defence"])
