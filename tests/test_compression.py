"""Issue 13 §8: HTML goes out gzipped to clients that accept it, with ETags and caches still right,
and as it was to clients that do not ask (the benchmark's load generator)."""

import gzip
import re

from django.test import TestCase
from django.urls import reverse

from treaty_app.importing import load_corpus
from treaty_app.models import Treaty

from .factories import make_user

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


class CompressionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        load_corpus()
        cls.url = Treaty.objects.get().get_absolute_url()

    def test_a_compressed_page_is_the_page(self):
        """The treaty page gzipped decompresses to exactly the bytes sent uncompressed."""
        plain = self.client.get(self.url)
        packed = self.client.get(self.url, headers=GZIP)
        self.assertEqual(gzip.decompress(packed.content), plain.content)

    def test_it_says_it_is_gzipped(self):
        self.assertEqual(self.client.get(self.url, headers=GZIP)["Content-Encoding"], "gzip")

    def test_it_is_much_smaller(self):
        """The treaty page compresses to less than a quarter of its size."""
        plain, packed = self.client.get(self.url), self.client.get(self.url, headers=GZIP)
        self.assertLess(len(packed.content) * 4, len(plain.content))

    def test_caches_are_told_it_varies_by_accept_encoding(self):
        """Both encodings of the page carry Vary: Accept-Encoding, so no shared cache mixes them up."""
        for headers in ({}, GZIP):
            with self.subTest(headers=headers):
                vary = self.client.get(self.url, headers=headers)["Vary"]
                self.assertIn("accept-encoding", [part.strip().lower() for part in vary.split(",")])

    def test_a_client_that_asks_for_identity_gets_it(self):
        """The benchmark's http.client sends Accept-Encoding: identity: its figures stay uncompressed."""
        response = self.client.get(self.url, headers={"Accept-Encoding": "identity"})
        self.assertFalse(response.has_header("Content-Encoding"))

    def test_both_encodings_carry_the_same_weak_etag(self):
        """The ETag names the content, not the bytes: the same weak tag, gzipped or not."""
        plain, packed = (self.client.get(self.url, headers=headers)["ETag"] for headers in ({}, GZIP))
        self.assertEqual((packed, plain[:3]), (plain, 'W/"'))

    def test_the_gzipped_pages_etag_revalidates(self):
        """A gzip client sending back the ETag it got is answered 304."""
        etag = self.client.get(self.url, headers=GZIP)["ETag"]
        self.assertEqual(self.client.get(self.url, headers={**GZIP, "If-None-Match": etag}).status_code, 304)

    def test_compressed_lengths_vary(self):
        """Each compressed response carries random padding (Heal The Breach): ten responses of the same
        page do not all have the same length."""
        lengths = {len(self.client.get(self.url, headers=GZIP).content) for _ in range(10)}
        self.assertGreater(len(lengths), 1)

    def test_pages_with_a_csrf_token_mask_it_afresh(self):
        """A signed-in page's CSRF token (the secret BREACH would read) is not the same in two
        compressed responses."""
        self.client.force_login(make_user("ana"))
        bodies = [gzip.decompress(self.client.get(reverse("annotations:home"), headers=GZIP).content).decode()
                  for _ in range(2)]
        first, second = (re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1) for body in bodies)
        self.assertNotEqual(first, second)
