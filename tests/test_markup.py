"""Every page is valid HTML: the Nu Html Checker (the W3C's validator, from the vnu-jar npm package) finds
no error in any of them.

The pages are fetched with the test client (tests/site_pages.py lists them) and checked in one run of the
checker's jar under Java. Without Java or the jar (`npm ci` installs it) the test is skipped locally and
fails where GLOSSA_REQUIRE_BROWSER=1 (CI), as the browser tests do.
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.test import TestCase

from .site_pages import make_site

VNU_JAR = Path(settings.BASE_DIR) / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
HTMX = {"HX-Request": "true"}


def checker_missing():
    if shutil.which("java") is None:
        return "java is missing (apt-get install default-jre-headless)"
    if not VNU_JAR.exists():
        return f"{VNU_JAR} is missing (npm ci --ignore-scripts)"
    return None


def nu_messages(documents):
    """The Nu Html Checker's messages on each of `documents` ({name: html}), as {name: [message, ...]}."""
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for index, (name, html) in enumerate(documents.items()):
            path = Path(folder) / f"page-{index}.html"
            path.write_text(html, encoding="utf-8")
            paths[path.name] = name
        run = subprocess.run(
            ["java", "-Xss4m", "-jar", str(VNU_JAR), "--format", "json", "--stdout", *map(str, Path(folder).glob("*.html"))],
            capture_output=True, text=True, timeout=300,
        )
    report = json.loads(run.stdout or "{}")
    found = {name: [] for name in documents}
    for message in report.get("messages", []):
        url = message.get("url", "")
        name = paths.get(url.rsplit("/", 1)[-1], url)
        found.setdefault(name, []).append(message)
    return found


def describe(message):
    return f"{message.get('type')}/{message.get('subType', '')} line {message.get('lastLine')}: {message.get('message')}"


def as_document(fragment):
    """An HTMX fragment inside the smallest valid page, so the checker judges the fragment alone."""
    if fragment.lstrip().startswith("<li"):
        fragment = f"<ol>{fragment}</ol>"  # a card's fragment goes into the list of cards
    return f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fragment</title></head><body>{fragment}</body></html>'


class NuHtmlCheckerTests(TestCase):
    maxDiff = None

    @classmethod
    def setUpTestData(cls):
        cls.site = make_site()

    def setUp(self):
        if (missing := checker_missing()) is not None:
            if os.environ.get("GLOSSA_REQUIRE_BROWSER") == "1":
                self.fail(f"GLOSSA_REQUIRE_BROWSER=1 but the Nu Html Checker cannot run: {missing}.")
            self.skipTest(f"the Nu Html Checker cannot run: {missing}")

    def fetch(self, pages, user=None):
        if user is not None:
            self.client.force_login(user)
        documents = {}
        for kind, url in pages:
            response = self.client.get(url, follow=True)
            self.assertEqual(response.status_code, 200, url)
            documents[f"{kind} ({url})"] = response.content.decode()
        self.client.logout()
        return documents

    def test_every_page_is_valid_html(self):
        """The public pages, the workspace pages logged in and the curator's review queue: no Nu error."""
        documents = self.fetch(self.site.public)
        documents |= self.fetch(self.site.workspace, self.site.analyst)
        documents |= self.fetch(self.site.admin, self.site.curator)
        found = nu_messages(documents)
        errors = {name: [describe(m) for m in messages if m.get("type") == "error" or m.get("subType") == "fatal"]
                  for name, messages in found.items()}
        self.assertEqual({name: e for name, e in errors.items() if e}, {})
        warnings = sum(1 for messages in found.values() for m in messages if m.get("subType") == "warning")
        print(f"\nNu Html Checker: {len(documents)} pages, 0 errors, {warnings} warnings")

    def test_workspace_answers_are_valid_html(self):
        """What the workspace's HTMX writes and forms answer (new card, edit form, confirmation) is valid too."""
        from annotations.models import Annotation

        self.client.force_login(self.site.analyst)
        draft = Annotation.objects.get(body="A draft with a tag.")
        article = draft.provision
        start = article.text.index("and thus finds itself")
        create = self.client.post(
            self.site.workspace_url + "annotations/",
            {"exact": "and thus finds itself", "start": start, "end": start + len("and thus finds itself"),
             "body": "New.", "visibility": "team"}, headers=HTMX,
        )
        refused = self.client.post(self.site.workspace_url + "annotations/", {"exact": "", "body": ""}, headers=HTMX)
        fragments = {
            "create answer": create.content.decode(),
            "refused create": refused.content.decode(),
            "edit form": self.client.get(f"/workspace/annotations/{draft.pk}/edit/", headers=HTMX).content.decode(),
            "delete confirmation": self.client.get(f"/workspace/annotations/{draft.pk}/delete/", headers=HTMX).content.decode(),
            "reply form": self.client.get(f"/workspace/annotations/{draft.pk}/reply/", headers=HTMX).content.decode(),
        }
        self.assertEqual((create.status_code, refused.status_code, article.slug), (200, 422, "art-4"))
        found = nu_messages({name: as_document(html) for name, html in fragments.items()})
        errors = {name: [describe(m) for m in messages if m.get("type") == "error"] for name, messages in found.items()}
        self.assertEqual({name: e for name, e in errors.items() if e}, {})
