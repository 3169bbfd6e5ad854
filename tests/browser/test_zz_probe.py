import os

from django.test.testcases import LiveServerThread

from .base import BrowserTestCase, LiveServerOneRequestAtATime
from treaty_app.importing import load_corpus


class Probe(BrowserTestCase):
    server_thread_class = LiveServerThread if os.environ.get("NOLOCK") else LiveServerOneRequestAtATime

    def test_parallel(self):
        load_corpus()
        self.page.goto("/search/")
        for i in range(40):
            statuses = self.page.evaluate("""() => Promise.all(["state of war", "armed attack", "war", "assistance"].map(
                (q) => fetch("/search/?q=" + encodeURIComponent(q), {headers: {"HX-Request": "true"}}).then((r) => r.status)))""")
            assert statuses == [200] * 4, statuses
