"""The W3C Web Annotation Protocol at /annotations/ (issue 16 §3): the Protocol's MUSTs for an
Annotation Server (ported from the W3C test suite's server assertions: annotation and container
headers, representations, paging, preferences, create, update, delete), personal API tokens, the
workspace's write rules through this door, CORS and content negotiation."""

import json
from datetime import timedelta

from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotations import tokens, writes
from annotations.models import Annotation, ApiToken, Tag
from annotations.protocol import LDP, PREFER_DESCRIPTIONS, PREFER_IRIS, PREFER_MINIMAL
from annotations.w3c_schemas import musts
from treaty_app.site import site_url

from .factories import link, make_annotation, make_excerpt, make_provision, make_source, make_treaty, make_user

TEXT = ("In the event that one of the Parties is subjected to an armed attack and thus finds itself in a state "
        "of war, the other Party shall immediately provide military and other assistance.")
PROFILE = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
CONTAINER = "/annotations/"


def new_annotation(source, exact, *, start=None, body="Armed attack: *when* does it begin?", **extra):
    selectors = [{"type": "TextQuoteSelector", "exact": exact}]
    if start is not None:
        selectors.append({"type": "TextPositionSelector", "start": start, "end": start + len(exact)})
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "body": [{"type": "TextualBody", "value": body, "format": "text/markdown", "purpose": "commenting"},
                 {"type": "TextualBody", "value": "mutual defence", "purpose": "tagging"}],
        "target": {"source": source, "selector": selectors},
        **extra,
    }


class ProtocolTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.treaty = make_treaty(slug="t", short_title="Partnership Treaty")
        cls.provision = make_provision(cls.treaty, number=4, text=TEXT)
        cls.analyst = make_user("ana")
        cls.other = make_user("ben")
        cls.curator = make_user("cora", role="Curators", is_staff=True)
        cls.reader_secret = tokens.issue(cls.analyst, name="reader", scope=ApiToken.Scope.READ)[1]
        cls.writer_secret = tokens.issue(cls.analyst, name="script", scope=ApiToken.Scope.WRITE)[1]
        cls.ben_secret = tokens.issue(cls.other, name="ben's", scope=ApiToken.Scope.WRITE)[1]
        cls.source_iri = f"{site_url()}/treaties/t/art-4/"

    def call(self, method, path, document=None, *, token=None, content_type=PROFILE, **headers):
        extra = {f"HTTP_{name.upper()}": value for name, value in headers.items()}
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        if document is not None:
            return self.client.generic(method, path, json.dumps(document), content_type=content_type, **extra)
        return self.client.generic(method, path, **extra)

    def post(self, document, token=None, **headers):
        return self.call("POST", CONTAINER, document, token=token or self.writer_secret, **headers)

    def created(self, exact="armed attack", **extra):
        response = self.post(new_annotation(self.source_iri, exact, start=TEXT.index(exact), **extra))
        self.assertEqual(response.status_code, 201, response.content)
        return response

    def path_of(self, iri):
        return iri.removeprefix(site_url())

    def publish(self, pk):
        writes.submit(pk, by=Annotation.objects.get(pk=pk).author)
        writes.publish(Annotation.objects.filter(pk=pk), curator=self.curator)


class AnnotationResourceTests(ProtocolTestCase):
    """4.1 of the Protocol: retrieving an annotation."""

    def setUp(self):
        self.annotation = make_annotation(self.provision, self.analyst, 18, 30, visibility="public")

    def test_get_answers_the_annotation_with_the_protocols_headers(self):
        response = self.call("GET", f"/annotations/{self.annotation.pk}", ACCEPT=PROFILE)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], PROFILE)
        self.assertIn(f'<{LDP}Resource>; rel="type"', response["Link"])
        self.assertEqual({m.strip() for m in response["Allow"].split(",")}, {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
        self.assertIn("Accept", response["Vary"])
        self.assertRegex(response["ETag"], r'^"\d+-[0-9a-f]{32}"$')
        document = response.json()
        self.assertEqual(document["@context"], "http://www.w3.org/ns/anno.jsonld")
        self.assertEqual(document["id"], f"{site_url()}/annotations/{self.annotation.pk}")
        self.assertEqual(musts().annotation_failures(document), [])

    def test_head_and_options(self):
        head = self.call("HEAD", f"/annotations/{self.annotation.pk}")
        get = self.call("GET", f"/annotations/{self.annotation.pk}")
        self.assertEqual((head.status_code, head.content, head["ETag"]), (200, b"", get["ETag"]))
        options = self.call("OPTIONS", f"/annotations/{self.annotation.pk}")
        self.assertEqual(options.status_code, 200)
        self.assertIn("PUT", options["Allow"])

    def test_if_none_match_revalidates(self):
        etag = self.call("GET", f"/annotations/{self.annotation.pk}")["ETag"]
        response = self.call("GET", f"/annotations/{self.annotation.pk}", IF_NONE_MATCH=etag)
        self.assertEqual((response.status_code, response.content), (304, b""))

    def test_content_negotiation(self):
        html = self.call("GET", f"/annotations/{self.annotation.pk}", ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
        self.assertEqual(html.status_code, 303)
        self.assertEqual(html["Location"], f"{site_url()}/treaties/t/art-4/#annotation-{self.annotation.pk}")
        self.assertEqual(self.call("GET", f"/annotations/{self.annotation.pk}", ACCEPT="application/json").status_code, 200)
        refused = self.call("GET", f"/annotations/{self.annotation.pk}", ACCEPT="image/png")
        self.assertEqual(refused.status_code, 406)
        self.assertIn("application/ld+json", refused.json()["error"])

    def test_what_the_caller_may_not_read_is_not_found(self):
        team = make_annotation(self.provision, self.analyst, 0, 12, visibility="team")
        private = make_annotation(self.provision, self.other, 0, 12, visibility="private")
        self.assertEqual(self.call("GET", f"/annotations/{team.pk}").status_code, 404)  # the public
        self.assertEqual(self.call("GET", f"/annotations/{team.pk}", token=self.reader_secret).status_code, 200)
        self.assertEqual(self.call("GET", f"/annotations/{private.pk}", token=self.reader_secret).status_code, 404)
        self.assertEqual(self.call("GET", f"/annotations/{private.pk}", token=self.ben_secret).status_code, 200)
        self.assertEqual(self.call("GET", "/annotations/99999999999999999999999").status_code, 404)

    def test_the_session_is_never_used(self):
        team = make_annotation(self.provision, self.analyst, 0, 12, visibility="team")
        self.client.force_login(self.analyst)
        self.assertEqual(self.call("GET", f"/annotations/{team.pk}").status_code, 404)
        response = self.call("POST", CONTAINER, new_annotation(self.source_iri, "armed attack"))
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response["WWW-Authenticate"], 'Bearer realm="glossa"')


class ContainerTests(ProtocolTestCase):
    """4.2 and 5: the container, its pages and the Prefer header."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for index in range(150):
            make_annotation(cls.provision, cls.analyst, 18, 30, visibility="public", body=f"Note {index}")
        make_annotation(cls.provision, cls.analyst, 0, 12, visibility="team")

    def test_container_headers_and_representation(self):
        response = self.call("GET", CONTAINER, ACCEPT=PROFILE)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], PROFILE)
        self.assertIn(f'<{LDP}BasicContainer>; rel="type"', response["Link"])
        self.assertIn(f'rel="{LDP}constrainedBy"', response["Link"])
        self.assertEqual({m.strip() for m in response["Allow"].split(",")}, {"GET", "HEAD", "OPTIONS", "POST"})
        self.assertEqual(response["Accept-Post"], PROFILE)
        self.assertIn("ETag", response)
        self.assertEqual([v.strip() for v in response["Vary"].split(",")][:2], ["Accept", "Prefer"])
        document = response.json()
        self.assertEqual(document["@context"], ["http://www.w3.org/ns/anno.jsonld", "http://www.w3.org/ns/ldp.jsonld"])
        self.assertEqual(document["type"], ["BasicContainer", "AnnotationCollection"])
        self.assertEqual(document["total"], 150)  # the public's: not the team note
        self.assertEqual(len(document["first"]["items"]), 100)
        self.assertEqual(document["first"]["next"], f"{site_url()}/annotations/?page=2")
        self.assertEqual(document["last"], f"{site_url()}/annotations/?page=2")
        self.assertEqual(self.call("GET", CONTAINER, token=self.reader_secret).json()["total"], 151)

    def test_pages(self):
        page = self.call("GET", CONTAINER + "?page=2").json()
        self.assertEqual((page["type"], page["startIndex"], len(page["items"])), ("AnnotationPage", 100, 50))
        self.assertEqual(page["partOf"]["id"], f"{site_url()}/annotations/")
        self.assertEqual(page["partOf"]["total"], 150)
        self.assertEqual(page["prev"], f"{site_url()}/annotations/?page=1")
        self.assertNotIn("next", page)
        every = [item["id"] for item in self.call("GET", CONTAINER + "?page=1").json()["items"]] + [
            item["id"] for item in page["items"]]
        self.assertEqual(len(set(every)), 150)
        self.assertEqual(self.call("GET", CONTAINER + "?page=3").status_code, 404)
        self.assertEqual(self.call("GET", CONTAINER + "?page=x").status_code, 404)

    def test_prefer_minimal_iris_and_descriptions(self):
        def prefer(uri):
            return self.call("GET", CONTAINER, PREFER=f'return=representation;include="{uri}"')

        minimal = prefer(PREFER_MINIMAL)
        self.assertEqual(minimal["Preference-Applied"], "return=representation")
        self.assertEqual(minimal.json()["first"], f"{site_url()}/annotations/?page=1")
        iris = prefer(PREFER_IRIS).json()
        self.assertTrue(all(isinstance(item, str) and item.startswith(f"{site_url()}/annotations/")
                            for item in iris["first"]["items"]))
        self.assertEqual(iris["last"], f"{site_url()}/annotations/?page=2&iris=1")
        described = prefer(PREFER_DESCRIPTIONS).json()
        self.assertEqual(described["first"]["items"][0]["type"], "Annotation")
        # An IRI of an item dereferences to that item.
        self.assertEqual(self.call("GET", self.path_of(iris["first"]["items"][0])).json()["id"], iris["first"]["items"][0])

    def test_the_browser_gets_the_reading_pages(self):
        response = self.call("GET", CONTAINER, ACCEPT="text/html")
        self.assertEqual((response.status_code, response["Location"]), (303, "/"))

    def test_query_count_is_flat(self):
        # Page 2 holds 50 annotations and page 1 holds 100, with their tags and replies' parents.
        with CaptureQueriesContext(connection) as few:
            self.call("GET", CONTAINER + "?page=2")
        with CaptureQueriesContext(connection) as many:
            self.call("GET", CONTAINER + "?page=1")
        self.assertEqual(len(few), len(many))


class CreateTests(ProtocolTestCase):
    """4.2 Create: POST to the container, through writes.create and the workspace's form."""

    def test_post_creates_a_team_note_with_its_tags(self):
        response = self.created()
        self.assertEqual(response["Content-Type"], PROFILE)
        annotation = Annotation.objects.get()
        location = f"{site_url()}/annotations/{annotation.pk}"
        self.assertEqual(response["Location"], location)
        document = response.json()
        self.assertEqual(document["id"], location)
        self.assertEqual(response["ETag"], self.call("GET", self.path_of(location), token=self.writer_secret)["ETag"])
        self.assertEqual((annotation.author, annotation.visibility, annotation.exact), (self.analyst, "team", "armed attack"))
        self.assertEqual(annotation.body, "Armed attack: *when* does it begin?")
        self.assertEqual([tag.name for tag in annotation.tags.all()], ["mutual defence"])
        self.assertEqual(annotation.history.get().history_change_reason, "Created")

    def test_a_quote_without_a_position_is_found_and_a_moved_position_corrected(self):
        response = self.post(new_annotation(self.source_iri, "state of war"))
        self.assertEqual(response.status_code, 201, response.content)
        annotation = Annotation.objects.get()
        self.assertEqual((annotation.start, annotation.exact), (TEXT.index("state of war"), "state of war"))
        moved = self.post(new_annotation(self.source_iri, "armed attack", start=3))
        self.assertEqual(moved.status_code, 201)
        self.assertEqual(Annotation.objects.get(pk=moved.json()["id"].rsplit("/", 1)[1]).start, TEXT.index("armed attack"))

    def test_words_not_in_the_wording_are_a_conflict(self):
        response = self.post(new_annotation(self.source_iri, "naval blockade"))
        self.assertEqual(response.status_code, 409)
        self.assertIn("not in the wording", response.json()["error"])
        self.assertFalse(Annotation.objects.exists())

    def test_a_client_cannot_publish_nor_set_the_curators_state(self):
        for extra in ({"glossa:visibility": "public"}, {"glossa:review": "published"}):
            with self.subTest(extra):
                response = self.post(new_annotation(self.source_iri, "armed attack", **extra))
                self.assertEqual(response.status_code, 403)
        self.assertFalse(Annotation.objects.exists())

    def test_a_read_token_cannot_write_and_no_token_cannot_either(self):
        document = new_annotation(self.source_iri, "armed attack")
        self.assertEqual(self.post(document, token=self.reader_secret).status_code, 403)
        self.assertEqual(self.call("POST", CONTAINER, document).status_code, 401)
        self.assertEqual(self.call("POST", CONTAINER, document, token="glossa_not-a-token").status_code, 401)
        ApiToken.objects.filter(name="script").update(revoked_at=timezone.now())
        self.assertEqual(self.post(document).status_code, 401)
        self.assertFalse(Annotation.objects.exists())

    def test_the_forms_rules_hold(self):
        too_long = self.post(new_annotation(self.source_iri, "armed attack", body="x" * 20_001))
        self.assertEqual(too_long.status_code, 422, too_long.content)
        self.assertIn("Note: Ensure this value has at most 20000 characters", too_long.json()["error"])
        long_tag = new_annotation(self.source_iri, "armed attack")
        long_tag["body"][1]["value"] = "t" * 61
        refused = self.post(long_tag)  # refused while reading, as a file import would be
        self.assertEqual(refused.status_code, 400)
        self.assertIn("60", refused.json()["error"])
        no_assessment = new_annotation(self.source_iri, "armed attack")
        no_assessment["body"].append({"type": "TextualBody", "purpose": "describing", "value": "x",
                                      "glossa:field": "nonexistent"})
        self.assertEqual(self.post(no_assessment).status_code, 422)
        self.assertFalse(Annotation.objects.exists())

    def test_bad_requests(self):
        self.assertEqual(self.call("POST", CONTAINER, {"x": 1}, token=self.writer_secret,
                                   content_type="text/plain").status_code, 415)
        broken = self.client.post(CONTAINER, "{not json", content_type=PROFILE,
                                  HTTP_AUTHORIZATION=f"Bearer {self.writer_secret}")
        self.assertEqual(broken.status_code, 400)
        self.assertIn("not JSON", broken.json()["error"])
        self.assertEqual(self.post([new_annotation(self.source_iri, "armed attack")]).status_code, 400)
        elsewhere = self.post(new_annotation("https://example.org/page", "armed attack"))
        self.assertEqual(elsewhere.status_code, 400)
        missing = self.post(new_annotation(f"{site_url()}/treaties/t/art-9/", "armed attack"))
        self.assertEqual(missing.status_code, 404)
        self.assertFalse(Annotation.objects.exists())

    def test_a_reply_goes_to_review_under_a_published_note(self):
        parent = self.created().json()["id"]
        self.publish(int(parent.rsplit("/", 1)[1]))
        reply = {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation", "motivation": "replying",
                 "body": {"type": "TextualBody", "value": "Agreed."}, "target": parent}
        response = self.post(reply, token=self.ben_secret)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["target"], parent)
        made = Annotation.objects.get(parent__isnull=False)
        self.assertEqual((made.author, made.review, made.visibility), (self.other, "submitted", "team"))
        self.assertEqual(self.call("GET", self.path_of(response["Location"])).status_code, 404)  # not public yet

    def test_on_a_commentary_excerpt(self):
        source = make_source(body="The clause revives the 1961 alliance.")
        excerpt = make_excerpt(source, 0, len(source.body))
        link(excerpt, self.provision)
        iri = f"{site_url()}/sources/{source.slug}/#excerpt-{excerpt.pk}"
        response = self.post(new_annotation(iri, "1961 alliance"))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Annotation.objects.get().excerpt, excerpt)

    def test_the_rate_limit(self):
        with override_settings(API_REQUESTS_PER_MINUTE=2):
            statuses = [self.call("GET", CONTAINER, token=self.reader_secret).status_code for _ in range(3)]
            self.assertEqual(statuses, [200, 200, 429])
            refused = self.call("GET", CONTAINER, token=self.reader_secret)
            self.assertTrue(1 <= int(refused["Retry-After"]) <= 60)
            token = ApiToken.objects.get(name="reader")
            tokens.spend(token, now=token.window_start + timedelta(minutes=1))  # a new minute counts afresh
            self.assertEqual(ApiToken.objects.get(pk=token.pk).window_count, 1)


class UpdateTests(ProtocolTestCase):
    """4.3 Update and 4.4 Delete."""

    def setUp(self):
        response = self.created()
        self.iri, self.etag, self.document = response["Location"], response["ETag"], response.json()
        self.pk = int(self.iri.rsplit("/", 1)[1])

    def put(self, document, etag, token=None):
        return self.call("PUT", self.path_of(self.iri), document, token=token or self.writer_secret, IF_MATCH=etag)

    def edited(self, body):
        document = dict(self.document)
        document["body"] = [{"type": "TextualBody", "value": body, "format": "text/markdown"},
                            {"type": "TextualBody", "value": "sanctions", "purpose": "tagging"}]
        return document

    def test_put_replaces_the_note_and_tags(self):
        response = self.put(self.edited("Revised."), self.etag)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertNotEqual(response["ETag"], self.etag)
        annotation = Annotation.objects.get(pk=self.pk)
        self.assertEqual((annotation.body, [t.name for t in annotation.tags.all()]), ("Revised.", ["sanctions"]))
        self.assertEqual(response.json()["body"][0]["value"], "Revised.")

    def test_a_stale_etag_gets_412_and_changes_nothing(self):
        self.assertEqual(self.put(self.edited("First."), self.etag).status_code, 200)
        stale = self.put(self.edited("Second."), self.etag)
        self.assertEqual(stale.status_code, 412)
        self.assertEqual(Annotation.objects.get(pk=self.pk).body, "First.")

    def test_put_needs_if_match(self):
        response = self.call("PUT", self.path_of(self.iri), self.edited("x"), token=self.writer_secret)
        self.assertEqual(response.status_code, 428)

    def test_only_the_author_writes_and_a_reader_token_never(self):
        self.assertEqual(self.put(self.edited("Ben's."), self.etag, token=self.ben_secret).status_code, 403)
        self.assertEqual(self.put(self.edited("Read."), self.etag, token=self.reader_secret).status_code, 403)
        self.assertEqual(self.call("DELETE", self.path_of(self.iri), token=self.ben_secret).status_code, 403)
        self.assertEqual(Annotation.objects.get(pk=self.pk).body, "Armed attack: *when* does it begin?")

    def test_a_body_naming_another_annotation_is_refused(self):
        other = dict(self.edited("Elsewhere."), id=f"{site_url()}/annotations/{self.pk + 1}")
        self.assertEqual(self.put(other, self.etag).status_code, 400)
        unnamed = self.edited("Without an id.")
        del unnamed["id"]
        self.assertEqual(self.put(unnamed, self.etag).status_code, 200)
        self.assertEqual(Annotation.objects.get(pk=self.pk).body, "Without an id.")

    def test_the_target_cannot_move(self):
        moved = self.edited("Moved.")
        moved["target"] = {"source": self.source_iri, "selector": [{"type": "TextQuoteSelector", "exact": "state of war"}]}
        self.assertEqual(self.put(moved, self.etag).status_code, 409)

    def test_an_edit_of_a_published_note_is_a_revision_for_review(self):
        self.publish(self.pk)
        read = self.call("GET", self.path_of(self.iri), token=self.writer_secret)
        document = read.json()  # as read: glossa:visibility "public", which a PUT may send back
        self.assertEqual(document["glossa:visibility"], "public")
        document["body"][0]["value"] = "Rewritten after publication."
        response = self.put(document, read["ETag"])
        self.assertEqual(response.status_code, 200, response.content)
        annotation = Annotation.objects.get(pk=self.pk)
        self.assertEqual((annotation.body, annotation.revision_body, annotation.review),
                         ("Armed attack: *when* does it begin?", "Rewritten after publication.", "submitted"))
        public = self.call("GET", self.path_of(self.iri)).json()
        self.assertEqual(public["body"][0]["value"], "Armed attack: *when* does it begin?")

    def test_delete_is_the_workspaces_soft_delete(self):
        stale = self.call("DELETE", self.path_of(self.iri), token=self.writer_secret, IF_MATCH='"0-0"')
        self.assertEqual(stale.status_code, 412)
        response = self.call("DELETE", self.path_of(self.iri), token=self.writer_secret, IF_MATCH=self.etag)
        self.assertEqual(response.status_code, 204)
        annotation = Annotation.objects.get(pk=self.pk)
        self.assertEqual(annotation.deleted_by, self.analyst)
        self.assertEqual(self.call("GET", self.path_of(self.iri), token=self.writer_secret).status_code, 404)
        writes.undo_delete(self.pk, by=self.analyst)  # the workspace's undo still works
        self.assertIsNone(Annotation.objects.get(pk=self.pk).deleted_at)


class CorsTests(ProtocolTestCase):
    def test_reads_from_any_origin_expose_the_headers(self):
        response = self.call("GET", CONTAINER, ORIGIN="https://reader.example")
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")
        for name in ("ETag", "Link", "Location", "Allow"):
            self.assertIn(name, response["Access-Control-Expose-Headers"])

    def test_a_preflight_with_the_protocols_accept_header(self):
        response = self.call("OPTIONS", CONTAINER, ORIGIN="https://reader.example", ACCESS_CONTROL_REQUEST_METHOD="GET",
                             ACCESS_CONTROL_REQUEST_HEADERS="accept")
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")
        self.assertIn("Accept", response["Access-Control-Allow-Headers"])
        self.assertEqual(response["Access-Control-Allow-Methods"], "GET, HEAD, OPTIONS")

    @override_settings(PROTOCOL_WRITE_ORIGINS=["https://tool.example"])
    def test_writes_only_from_allowed_origins(self):
        document = new_annotation(self.source_iri, "armed attack")
        refused = self.post(document, ORIGIN="https://evil.example")
        self.assertEqual(refused.status_code, 403)
        preflight = self.call("OPTIONS", CONTAINER, ORIGIN="https://tool.example", ACCESS_CONTROL_REQUEST_METHOD="POST")
        self.assertEqual(preflight["Access-Control-Allow-Origin"], "https://tool.example")
        self.assertIn("POST", preflight["Access-Control-Allow-Methods"])
        allowed = self.post(document, ORIGIN="https://tool.example")
        self.assertEqual(allowed.status_code, 201)
        self.assertEqual(allowed["Access-Control-Allow-Origin"], "https://tool.example")
        self.assertEqual(Annotation.objects.count(), 1)


class TokenPageTests(ProtocolTestCase):
    def test_an_analyst_makes_sees_once_and_revokes_a_token(self):
        self.client.force_login(self.other)
        page = self.client.get(reverse("annotations:tokens"))
        self.assertEqual(page.status_code, 200)
        made = self.client.post(reverse("annotations:tokens"), {"name": "my script", "scope": "write"})
        self.assertEqual(made.status_code, 200)
        secret = made.context["secret"]
        self.assertContains(made, secret)
        token = ApiToken.objects.get(name="my script")
        self.assertEqual((token.user, token.scope, token.digest), (self.other, "write", tokens.digest(secret)))
        self.assertNotContains(self.client.get(reverse("annotations:tokens")), secret)
        self.assertEqual(self.call("GET", CONTAINER, token=secret).status_code, 200)
        self.client.post(reverse("annotations:token-revoke", args=[token.pk]))
        self.assertEqual(self.call("GET", CONTAINER, token=secret).status_code, 401)

    def test_no_one_revokes_anothers_token(self):
        self.client.force_login(self.other)
        theirs = ApiToken.objects.get(name="script")
        self.assertEqual(self.client.post(reverse("annotations:token-revoke", args=[theirs.pk])).status_code, 404)
        self.assertIsNone(ApiToken.objects.get(pk=theirs.pk).revoked_at)

    def test_a_bad_name_is_refused(self):
        self.client.force_login(self.other)
        response = self.client.post(reverse("annotations:tokens"), {"name": "", "scope": "admin"})
        self.assertEqual(response.status_code, 422)
        self.assertFalse(ApiToken.objects.filter(user=self.other).exclude(name="ben's").exists())


class DiscoveryTests(ProtocolTestCase):
    def test_pages_link_their_json_ld_and_the_container(self):
        for url in ("/", "/treaties/t/", "/treaties/t/art-4/", "/search/?q=war"):
            with self.subTest(url):
                page = self.client.get(url, follow=True).content.decode()
                self.assertIn('<link rel="http://www.w3.org/ns/oa#annotationService" href="/annotations/">', page)
                self.assertIn('<link rel="alternate" type="application/ld+json"', page)
        provision = self.client.get("/treaties/t/art-4/").content.decode()
        self.assertIn('type="application/ld+json" href="/treaties/t/art-4/annotations.jsonld"', provision)


class TagsThroughTheProtocolTests(ProtocolTestCase):
    def test_an_existing_tag_is_reused_by_its_iri_or_name(self):
        tag = Tag.objects.create(name="Mutual defence", slug="mutual-defence")
        self.created()
        self.assertEqual(list(Annotation.objects.get().tags.all()), [tag])


class MoreDoorsTests(ProtocolTestCase):
    """The workspace's other rules through this door: replies are edited as replies, a translation pair is
    checked by writes.create, and an account that can no longer sign in cannot use its tokens."""

    def reply_to(self, parent_iri, text="Agreed.", token=None):
        reply = {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation", "motivation": "replying",
                 "body": {"type": "TextualBody", "value": text}, "target": parent_iri}
        return self.post(reply, token=token)

    def test_a_reply_is_edited_with_its_target_kept(self):
        parent = self.created().json()["id"]
        made = self.reply_to(parent)
        document, etag = made.json(), made["ETag"]
        document["body"] = {"type": "TextualBody", "value": "Agreed, with a caveat."}
        path = self.path_of(made["Location"])
        moved = dict(document, target=f"{site_url()}/annotations/999")
        self.assertEqual(self.call("PUT", path, moved, token=self.writer_secret, IF_MATCH=etag).status_code, 409)
        response = self.call("PUT", path, document, token=self.writer_secret, IF_MATCH=etag)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(Annotation.objects.get(parent__isnull=False).body, "Agreed, with a caveat.")
        tagged = dict(document, body=[document["body"], {"type": "TextualBody", "value": "x", "purpose": "tagging"}])
        self.assertEqual(self.call("PUT", path, tagged, token=self.writer_secret,
                                   IF_MATCH=response["ETag"]).status_code, 422)

    def test_a_pair_where_there_is_no_other_text_is_refused(self):
        english = self.created().json()["id"]
        refused = self.post(new_annotation(self.source_iri, "state of war", **{"glossa:counterpart": english}))
        self.assertEqual(refused.status_code, 409)
        self.assertEqual(Annotation.objects.count(), 1)

    def test_a_translation_pair_is_checked_by_the_workspaces_rule(self):
        from treaty_app.models import LanguageVersion

        russian = LanguageVersion.objects.create(provision=self.provision, language="ru",
                                                 text="Другая Сторона незамедлительно окажет военную помощь.")
        english = int(self.created().json()["id"].rsplit("/", 1)[1])
        iri = f"{site_url()}/treaties/t/art-4/ru/"
        same_text = self.post(new_annotation(self.source_iri, "state of war",
                                             **{"glossa:counterpart": f"{site_url()}/annotations/{english}"}))
        self.assertEqual(same_text.status_code, 409)
        self.assertIn("same text", same_text.json()["error"])
        paired = self.post(new_annotation(iri, "военную помощь",
                                          **{"glossa:counterpart": f"{site_url()}/annotations/{english}"}))
        self.assertEqual(paired.status_code, 201, paired.content)
        made = Annotation.objects.get(language_version=russian)
        self.assertEqual(made.counterpart_id, english)
        self.assertEqual(paired.json()["target"]["source"], {"id": f"{site_url()}/treaties/t/art-4/ru/#wording",
                                                             "language": "ru"})

    def test_an_inactive_account_cannot_use_its_token(self):
        self.analyst.is_active = False
        self.analyst.save()
        self.assertEqual(self.call("GET", CONTAINER, token=self.reader_secret).status_code, 401)
        self.assertEqual(self.post(new_annotation(self.source_iri, "armed attack")).status_code, 401)


class W3CServerMustsTests(ProtocolTestCase):
    """The W3C test suite's server MUST assertions (web-platform-tests, annotation-protocol/server/
    server-musts-manual.html), one by one, against Glossa. Where an assertion's own annotation targets
    another site's page (the suite's http://www.example.com/index.html), Glossa's constraint (it
    annotates its own texts, as its constrainedBy link says) takes a target here instead."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for index in range(101):  # two pages: the first has next, the last has prev
            make_annotation(cls.provision, cls.analyst, 18, 30, visibility="public", body=f"Note {index}")

    def test_container_musts(self):
        self.assertTrue(CONTAINER.endswith("/"))  # Container MUST end in a "/" character
        response = self.call("GET", CONTAINER)  # no Accept: the default representation
        for method in ("GET", "HEAD", "OPTIONS"):
            self.assertIn(method, response["Allow"])
        self.assertRegex(response["Content-Type"], r"application/ld\+json")
        body = response.json()
        self.assertIn("BasicContainer", body["type"])
        self.assertIn("AnnotationCollection", body["type"])
        self.assertIn("ETag", response)
        self.assertIn("Accept", response["Vary"])
        self.assertIn(f'<{LDP}BasicContainer>; rel="type"', response["Link"])
        self.assertIn(f'<http://www.w3.org/TR/annotation-protocol/>; rel="{LDP}constrainedBy"', response["Link"])
        self.assertEqual(self.call("HEAD", CONTAINER).status_code, 200)
        self.assertEqual(self.call("OPTIONS", CONTAINER).status_code, 200)
        # Containers MUST include a Content-Location header with the IRI as its value, matching the id.
        self.assertEqual(response["Content-Location"], body["id"])
        first = self.call("GET", self.path_of(body["first"]["id"])).json()
        last = self.call("GET", self.path_of(body["last"])).json()
        self.assertEqual(first["partOf"]["id"], body["id"])
        self.assertIn("next", first)
        self.assertIn("prev", last)

    def test_annotation_musts(self):
        pk = Annotation.objects.order_by("pk").first().pk
        response = self.call("GET", f"/annotations/{pk}")
        for method in ("GET", "HEAD", "OPTIONS"):
            self.assertIn(method, response["Allow"])
        self.assertRegex(response["Content-Type"], r"application/ld\+json")
        self.assertEqual(response["Link"], f'<{LDP}Resource>; rel="type"')
        self.assertIn("ETag", response)
        self.assertIn("Accept", response["Vary"])
        self.assertEqual(self.call("HEAD", f"/annotations/{pk}").status_code, 200)
        self.assertEqual(self.call("OPTIONS", f"/annotations/{pk}").status_code, 200)

    def test_create_update_delete_musts(self):
        annotation = {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation",
                      "body": {"type": "TextualBody", "value": "I like this page!"},
                      "target": {"source": self.source_iri,
                                 "selector": {"type": "TextQuoteSelector", "exact": "armed attack"}},
                      "canonical": "urn:uuid:0f8e3b3c-6a47-4c8e-9d39-5b1b8f4f1a11"}
        created = self.call("POST", CONTAINER, annotation, token=self.writer_secret, content_type="application/ld+json")
        self.assertEqual(created.status_code, 201)
        body = created.json()
        self.assertTrue(body["id"].startswith(f"{site_url()}{CONTAINER}"))
        self.assertEqual(body["canonical"], annotation["canonical"])  # MUST preserve any canonical IRI
        self.assertEqual(created["Location"], body["id"])
        body["body"] = {"type": "TextualBody", "value": "I like this article."}
        updated = self.call("PUT", self.path_of(body["id"]), body, token=self.writer_secret,
                            content_type="application/ld+json", IF_MATCH=created["ETag"])
        self.assertEqual(updated.json()["body"][0]["value"], "I like this article.")
        deleted = self.call("DELETE", self.path_of(body["id"]), token=self.writer_secret)
        self.assertEqual(deleted.status_code, 204)


class WriteRulesOnEveryMethodTests(ProtocolTestCase):
    """The rules a POST is tested against, on PUT and DELETE too: no publishing, a read token never
    writes, the edit form's limits, and the write origins."""

    def setUp(self):
        response = self.created()
        self.path, self.etag, self.document = self.path_of(response["Location"]), response["ETag"], response.json()
        self.pk = int(self.path.rsplit("/", 1)[1])

    def unchanged(self):
        annotation = Annotation.objects.get(pk=self.pk)
        self.assertEqual((annotation.body, annotation.visibility, annotation.deleted_at, annotation.version),
                         ("Armed attack: *when* does it begin?", "team", None, 1))

    def test_a_put_cannot_publish(self):
        public = dict(self.document, **{"glossa:visibility": "public"})
        response = self.call("PUT", self.path, public, token=self.writer_secret, IF_MATCH=self.etag)
        self.assertEqual(response.status_code, 403)
        self.unchanged()

    def test_a_read_token_cannot_delete(self):
        self.assertEqual(self.call("DELETE", self.path, token=self.reader_secret).status_code, 403)
        self.unchanged()

    def test_a_put_obeys_the_edit_forms_limits(self):
        long = dict(self.document, body=[{"type": "TextualBody", "value": "x" * 20_001, "format": "text/markdown"}])
        response = self.call("PUT", self.path, long, token=self.writer_secret, IF_MATCH=self.etag)
        self.assertEqual(response.status_code, 422)
        self.assertIn("at most 20000 characters", response.json()["error"])
        self.unchanged()

    @override_settings(PROTOCOL_WRITE_ORIGINS=["https://tool.example"])
    def test_put_and_delete_only_from_allowed_origins(self):
        edited = dict(self.document, body=[{"type": "TextualBody", "value": "Elsewhere.", "format": "text/plain"}])
        put = self.call("PUT", self.path, edited, token=self.writer_secret, IF_MATCH=self.etag,
                        ORIGIN="https://evil.example")
        self.assertEqual(put.status_code, 403)
        self.assertEqual(self.call("DELETE", self.path, token=self.writer_secret, ORIGIN="https://evil.example")
                         .status_code, 403)
        self.unchanged()
