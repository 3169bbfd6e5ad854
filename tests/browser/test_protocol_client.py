"""A browser page of another origin uses the W3C Annotation Protocol as a web client would: fetch()
with the Protocol's Accept header (which needs a CORS preflight), the exposed ETag, Link and Location
headers, a write with a token from an allowed origin, and the refusals a page of any other origin
gets. The client pages are served by Playwright's router (nothing of the site's, and none of its
CSP), the API by the live server on another origin."""

from .base import BrowserTestCase  # first: the skip rule for the browser

import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.test import override_settings  # noqa: E402

from annotations import tokens, writes  # noqa: E402
from annotations.models import Annotation, ApiToken  # noqa: E402

from ..factories import make_annotation, make_provision, make_treaty, make_user  # noqa: E402

pytestmark = pytest.mark.browser

TEXT = "In the event that one of the Parties is subjected to an armed attack, the other Party shall assist."
PROFILE = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
CLIENT_PAGE = b"<!doctype html><title>A web client</title><p>Client</p>"


class ClientPage(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(CLIENT_PAGE)))
        self.end_headers()
        self.wfile.write(CLIENT_PAGE)

    def log_message(self, *args):
        pass


def client_origin(test):
    """The origin of a new loopback server of the client page, stopped after the test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), ClientPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    test.addCleanup(server.server_close)
    test.addCleanup(server.shutdown)
    return f"http://127.0.0.1:{server.server_port}"


CLIENT = """async ({api, token, profile, source}) => {
  const out = {};
  const read = await fetch(api + "/annotations/", {headers: {Accept: profile}});
  out.read = {status: read.status, etag: read.headers.get("ETag"), link: read.headers.get("Link"),
              total: (await read.json()).total};
  const annotation = {"@context": "http://www.w3.org/ns/anno.jsonld", type: "Annotation",
    body: {type: "TextualBody", value: "From a web client.", format: "text/plain"},
    target: {source, selector: {type: "TextQuoteSelector", exact: "armed attack"}}};
  const made = await fetch(api + "/annotations/", {method: "POST", body: JSON.stringify(annotation),
    headers: {"Content-Type": profile, Authorization: "Bearer " + token}});
  out.create = {status: made.status, location: made.headers.get("Location"), etag: made.headers.get("ETag")};
  if (made.status === 201) {
    const document = await made.json();
    document.body = {type: "TextualBody", value: "Edited from a web client.", format: "text/plain"};
    const put = await fetch(out.create.location, {method: "PUT", body: JSON.stringify(document),
      headers: {"Content-Type": profile, Authorization: "Bearer " + token, "If-Match": out.create.etag}});
    out.update = {status: put.status, etag: put.headers.get("ETag")};
  } else {
    try {
      const put = await fetch(api + "/annotations/" + %d, {method: "DELETE",
        headers: {Authorization: "Bearer " + token}});
      out.update = {status: put.status};
    } catch (error) {
      out.update = {blocked: error.name};
    }
  }
  return out;
}"""


class ProtocolClientTests(BrowserTestCase):
    def setUp(self):
        super().setUp()
        provision = make_provision(make_treaty(slug="t"), number=4, text=TEXT)
        self.analyst = make_user("ana")
        self.published = make_annotation(provision, self.analyst, 0, 12, visibility="public")
        self.secret = tokens.issue(self.analyst, name="web client", scope=ApiToken.Scope.WRITE)[1]
        self.source = f"{self.live_server_url}/treaties/t/art-4/"
        self.tool, self.stranger = client_origin(self), client_origin(self)

    def run_client(self, origin):
        page = self.new_page()
        page.goto(f"{origin}/client.html")
        return page.evaluate(CLIENT % self.published.pk, {
            "api": self.live_server_url, "token": self.secret, "profile": PROFILE, "source": self.source})

    def test_a_client_of_an_allowed_origin_reads_creates_and_edits(self):
        with override_settings(PROTOCOL_WRITE_ORIGINS=[self.tool], SITE_URL=self.live_server_url):
            out = self.run_client(self.tool)
        self.assertEqual(out["read"]["status"], 200)
        self.assertEqual(out["read"]["total"], 1)
        self.assertRegex(out["read"]["etag"], r'^(W/)?"[0-9a-f]{32}"$')  # weak once gzipped
        self.assertIn("http://www.w3.org/ns/ldp#BasicContainer", out["read"]["link"])
        self.assertEqual(out["create"]["status"], 201)
        made = Annotation.objects.get(body="Edited from a web client.")
        self.assertEqual(out["create"]["location"], f"{self.live_server_url}/annotations/{made.pk}")
        self.assertEqual(out["update"]["status"], 200)
        self.assertNotEqual(out["update"]["etag"], out["create"]["etag"])
        self.assertEqual((made.author, made.exact, made.visibility), (self.analyst, "armed attack", "team"))

    def test_a_page_of_another_origin_reads_but_cannot_write(self):
        # The POST is sent (POST needs no permission in a preflight) and refused; the DELETE's preflight
        # does not allow the method, so the browser never sends it.
        self.expected_problems = [r"HTTP 403: POST .*/annotations/$", r"blocked by CORS policy", r"Failed to load"]
        with override_settings(PROTOCOL_WRITE_ORIGINS=[self.tool], SITE_URL=self.live_server_url):
            out = self.run_client(self.stranger)
        self.assertEqual((out["read"]["status"], out["read"]["total"]), (200, 1))
        self.assertEqual(out["create"]["status"], 403)
        self.assertEqual(out["update"], {"blocked": "TypeError"})
        self.assertEqual(Annotation.objects.count(), 1)
        self.assertIsNone(Annotation.objects.get().deleted_at)


class ProtocolAnchoringTests(BrowserTestCase):
    """An annotation made through the Protocol, read back through it by Playwright's HTTP client, is
    anchored by Apache Annotator (an outside W3C client) in the page its target names, on exactly the
    words Glossa highlights."""

    @classmethod
    def setUpClass(cls):
        # Imported first: without node_modules it skips the class (pytest.skip) before the browser starts.
        # After it, the skip would leave Playwright's loop running (pytest runs no class cleanup for a
        # skip raised in setUpClass), and every later browser class would fail to start its own.
        from .test_w3c_anchoring import ANCHOR, CLIENT_ENTRY, ESBUILD, PROJECT, utf16

        super().setUpClass()
        cls.anchor, cls.utf16 = ANCHOR, staticmethod(utf16)
        folder = tempfile.TemporaryDirectory()
        cls.addClassCleanup(folder.cleanup)
        bundle = Path(folder.name) / "apache-annotator.js"
        subprocess.run([ESBUILD, CLIENT_ENTRY, "--bundle", "--format=iife", f"--outfile={bundle}",
                        "--log-level=warning"], cwd=PROJECT, check=True, timeout=120)
        cls.client_script = bundle.read_text(encoding="utf-8")

    def test_a_protocol_annotation_anchors_where_glossa_highlights_it(self):
        make_provision(make_treaty(slug="t"), number=4, text="🇰🇵 " + TEXT)
        analyst, curator = make_user("ana"), make_user("cora", role="Curators", is_staff=True)
        secret = tokens.issue(analyst, name="client", scope=ApiToken.Scope.WRITE)[1]
        with override_settings(SITE_URL=self.live_server_url):
            created = self.page.request.post(f"{self.live_server_url}/annotations/", headers={
                "Content-Type": PROFILE, "Authorization": f"Bearer {secret}"}, data=json.dumps({
                    "@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation",
                    "body": {"type": "TextualBody", "value": "When does it begin?", "format": "text/plain"},
                    "target": {"source": f"{self.live_server_url}/treaties/t/art-4/",
                               "selector": {"type": "TextQuoteSelector", "exact": "armed attack"}}}))
            self.assertEqual(created.status, 201, created.text())
            pk = int(created.headers["location"].rsplit("/", 1)[1])
            writes.submit(pk, by=analyst)
            writes.publish(Annotation.objects.filter(pk=pk), curator=curator)
            document = self.page.request.get(created.headers["location"], headers={"Accept": PROFILE}).json()
        page_url, element = document["target"]["source"].split("#")
        self.page.goto(page_url)
        self.page.evaluate(self.client_script)
        result = self.page.evaluate(self.anchor, [element, document["target"]["selector"], pk])
        start = self.utf16(result["text"], result["text"].index("armed attack"))  # the page counts in UTF-16 units
        expected = [{"text": "armed attack", "start": start, "end": start + len("armed attack")}]
        self.assertEqual(result["found"], {"TextQuoteSelector": expected, "TextPositionSelector": expected})
        self.assertEqual(result["highlight"], [start, start + len("armed attack")])
