"""Tests for annotations.sanitize: annotation Markdown renders to inert, allowlisted HTML."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.test import SimpleTestCase
from django.utils.safestring import SafeString, mark_safe

from annotations.sanitize import LINK_REL, _cleaner, render_markdown

_EVENT_HANDLER = re.compile(r"\son\w+\s*=", re.IGNORECASE)
_TAG = re.compile(r"<\s*([a-zA-Z][a-zA-Z0-9]*)")
_ALLOWED = {"p", "br", "em", "strong", "ul", "ol", "li", "a", "blockquote", "code", "pre"}


class InertMixin:
    def assertInert(self, html: str) -> None:
        lowered = html.lower()
        self.assertNotIn("<script", lowered)
        self.assertNotIn("javascript:", lowered)
        self.assertNotIn("vbscript:", lowered)
        self.assertNotIn("data:", lowered)
        self.assertNotIn("style=", lowered)
        self.assertNotIn("<!--", html)
        self.assertIsNone(_EVENT_HANDLER.search(html), html)
        self.assertLessEqual({t.lower() for t in _TAG.findall(html)}, _ALLOWED, html)


class NeutralisedTests(InertMixin, SimpleTestCase):
    def test_script_tag_is_neutralised(self):
        """A <script> element never reaches the output as markup."""
        html = render_markdown("Before <script>alert(1)</script> after\n\n<script>\nalert(2)\n</script>")
        self.assertInert(html)
        self.assertIn("Before", html)

    def test_img_onerror_is_neutralised(self):
        """<img onerror=...> is removed entirely (img is not allowed, nor are handlers)."""
        html = render_markdown('x <img src=x onerror="alert(1)"> y\n\n<img src=x onerror=alert(1)>')
        self.assertInert(html)
        self.assertNotIn("onerror", html)

    def test_onclick_on_allowed_tag_is_neutralised(self):
        """Event handlers on otherwise allowed tags are dropped."""
        html = render_markdown('<p onclick="steal()">para</p>\n\ntext <em onclick="steal()">hi</em>')
        self.assertInert(html)
        self.assertNotIn("steal", html)
        self.assertIn("para", html)
        self.assertIn("hi", html)

    def test_markdown_javascript_link_is_neutralised(self):
        """[x](javascript:...) keeps its text but loses the link."""
        html = render_markdown("[click](javascript:alert(1))")
        self.assertInert(html)
        self.assertEqual(html, "<p>click</p>")

    def test_mixed_case_and_obfuscated_javascript_href_is_neutralised(self):
        """JaVaScRiPt:, entity-obfuscated and space-prefixed schemes are all rejected."""
        for source in (
            '<a href="JaVaScRiPt:alert(1)">x</a>',
            "[x](JaVaScRiPt:alert(1))",
            "[x](jav&#x09;ascript:alert(1))",
            "[x](  javascript:alert(1))",
            "[x](vbscript:msgbox(1))",
        ):
            with self.subTest(source=source):
                html = render_markdown(source)
                self.assertInert(html)
                self.assertNotIn("<a", html)

    def test_data_url_is_neutralised(self):
        """data: URLs are not an allowed protocol, in links or images."""
        html = render_markdown(
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)\n\n"
            "![i](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)"
        )
        self.assertInert(html)
        self.assertNotIn("<a", html)

    def test_svg_script_and_onload_are_neutralised(self):
        """<svg><script> and <svg onload> leave no svg, script or handler behind."""
        html = render_markdown("<svg><script>alert(1)</script></svg>\n\ntext <svg onload=alert(1)>x</svg>")
        self.assertInert(html)
        self.assertNotIn("<svg", html.lower())
        self.assertNotIn("onload", html)

    def test_style_element_and_attribute_are_neutralised(self):
        """<style> elements and style="" attributes are removed."""
        html = render_markdown(
            '<style>body { display: none }</style>\n\n<p style="color:red">x</p>\n\n'
            'a <strong style="position:fixed">b</strong>'
        )
        self.assertInert(html)
        self.assertNotIn("<style", html.lower())

    def test_iframe_and_object_are_neutralised(self):
        """<iframe>, <object> and <embed> are removed."""
        html = render_markdown(
            '<iframe src="https://evil.example"></iframe>\n\n<object data="x.swf"></object>\n\n'
            'a <embed src="x.swf"> b'
        )
        self.assertInert(html)
        for tag in ("<iframe", "<object", "<embed"):
            self.assertNotIn(tag, html.lower())

    def test_html_comments_are_removed(self):
        """Block and inline HTML comments are stripped."""
        html = render_markdown("<!-- block comment -->\n\na <!-- inline --> b")
        self.assertInert(html)
        self.assertNotIn("comment", html)
        self.assertNotIn("inline", html)

    def test_raw_allowed_tags_do_not_become_live_markup(self):
        """Raw HTML in the source keeps its words but never its markup, even allowed tags."""
        html = render_markdown("<b>bold</b> and <em>raw</em>\n\n<div>block <i>text</i></div>")
        self.assertNotIn("<b>", html)
        self.assertNotIn("<em>", html)
        self.assertNotIn("<div", html)
        for word in ("bold", "raw", "block", "text"):
            self.assertIn(word, html)

    def test_tag_splitting_trick_is_escaped(self):
        """<scr<script>ipt> leaves only escaped text."""
        html = render_markdown("<scr<script>ipt>alert(1)</script>")
        self.assertInert(html)

    def test_cleaner_alone_neutralises_raw_html(self):
        """Second layer: bleach strips what a Markdown regression might let through."""
        html = _cleaner().clean(
            '<a href="javascript:x()" onclick="y()">t</a><em style="a:b">e</em>'
            "<script>s()</script><!-- c --><iframe src=x></iframe><svg onload=x()></svg>"
            '<img src=x onerror=x()><a href="data:text/html,x">d</a>'
        )
        self.assertInert(html)
        self.assertIn("<em>e</em>", html)
        self.assertNotIn("<a", html)


class KeptTests(InertMixin, SimpleTestCase):
    def test_paragraphs(self):
        """Blank-line separated text becomes paragraphs; two trailing spaces give <br>."""
        html = render_markdown("First para.\n\nSecond line one  \nline two")
        self.assertEqual(html, "<p>First para.</p>\n<p>Second line one<br>\nline two</p>")

    def test_emphasis_and_strong(self):
        """*em* and **strong** survive."""
        html = render_markdown("*em* and **strong**")
        self.assertEqual(html, "<p><em>em</em> and <strong>strong</strong></p>")

    def test_lists(self):
        """Bulleted and numbered lists survive."""
        html = render_markdown("- a\n- b\n\n1. x\n2. y")
        self.assertIn("<ul>\n<li>a</li>\n<li>b</li>\n</ul>", html)
        self.assertIn("<ol>\n<li>x</li>\n<li>y</li>\n</ol>", html)
        self.assertInert(html)

    def test_link_gets_rel(self):
        """An http(s) link keeps href and title and gains rel="nofollow noopener"."""
        html = render_markdown('[the text](https://example.org/a?b=1&c=2 "Title")')
        self.assertEqual(
            html,
            '<p><a href="https://example.org/a?b=1&amp;c=2" title="Title" rel="nofollow noopener">'
            "the text</a></p>",
        )

    def test_mailto_link_is_kept(self):
        """mailto: is an allowed protocol."""
        html = render_markdown("[write](mailto:desk@example.org)")
        self.assertIn(f'href="mailto:desk@example.org" rel="{LINK_REL}"', html)

    def test_every_link_has_rel(self):
        """Markdown links, autolinks and linkified bare URLs all carry the rel."""
        html = render_markdown(
            "[a](http://a.example.org) <https://b.example.org> "
            "see https://c.example.org/x and www.d.example.com."
        )
        links = re.findall(r"<a [^>]*>", html)
        self.assertEqual(len(links), 4, html)
        for link in links:
            self.assertIn(f'rel="{LINK_REL}"', link)

    def test_bare_url_in_code_is_not_linkified(self):
        """URLs inside code stay text."""
        html = render_markdown("`https://example.org`\n\n    https://example.org/block")
        self.assertNotIn("<a", html)

    def test_blockquote(self):
        """> quotes become blockquote."""
        html = render_markdown("> quoted *text*")
        self.assertEqual(html, "<blockquote>\n<p>quoted <em>text</em></p>\n</blockquote>")

    def test_inline_code_escapes_angle_brackets(self):
        """Inline code keeps `<` as &lt;, not as markup."""
        html = render_markdown("Use `a < b && <script>` here")
        self.assertIn("<code>a &lt; b &amp;&amp; &lt;script&gt;</code>", html)
        self.assertInert(html)

    def test_code_block_escapes_angle_brackets(self):
        """Indented code blocks become pre/code with `<` escaped."""
        html = render_markdown("Example:\n\n    <script>alert(1)</script>\n    if a < b: pass")
        self.assertIn(
            "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\nif a &lt; b: pass\n</code></pre>", html
        )
        self.assertInert(html)

    def test_entities_are_kept_as_text(self):
        """HTML entities and bare ampersands render as text."""
        self.assertEqual(render_markdown("&copy; A & B"), "<p>&copy; A &amp; B</p>")

    def test_unicode_text_passes_through(self):
        """Non-ASCII annotation text is unchanged."""
        html = render_markdown("Статья 5 — 조약 *é* 😀")
        self.assertEqual(html, "<p>Статья 5 — 조약 <em>é</em> 😀</p>")

    def test_disallowed_markdown_degrades_to_text(self):
        """Headings lose their tag but keep their words; images disappear."""
        html = render_markdown("# Heading\n\n![alt](https://example.org/i.png)")
        self.assertIn("Heading", html)
        self.assertNotIn("<h1", html)
        self.assertNotIn("<img", html)

    def test_empty_source(self):
        """An empty body renders as an empty string."""
        self.assertEqual(render_markdown(""), "")

    def test_output_can_be_marked_safe(self):
        """The result is a plain str that templates can mark_safe."""
        html = render_markdown("*x*")
        self.assertIsInstance(mark_safe(html), SafeString)


class StructureTests(SimpleTestCase):
    def test_cleaner_is_cached(self):
        """One Cleaner instance is built and reused within a thread."""
        self.assertIs(_cleaner(), _cleaner())

    def test_threads_get_their_own_cleaner(self):
        """bleach's Cleaner is not thread-safe, so another thread gets another instance."""
        seen: list[object] = []
        worker = threading.Thread(target=lambda: seen.append(_cleaner()))
        worker.start()
        worker.join()
        self.assertIsNot(seen[0], _cleaner())

    def test_concurrent_rendering_is_consistent(self):
        """Rendering from several threads at once gives the same output as serially."""
        sources = [f"*{i}* [l{i}](https://example.org/{i}) <script>x</script>" for i in range(40)]
        expected = [render_markdown(s) for s in sources]
        with ThreadPoolExecutor(max_workers=8) as pool:
            self.assertEqual(list(pool.map(render_markdown, sources)), expected)

    def test_only_sanitize_imports_bleach(self):
        """bleach stays behind annotations/sanitize.py so replacing it touches one file."""
        root = Path(__file__).resolve().parent.parent
        pattern = re.compile(r"^\s*(import\s+bleach|from\s+bleach[\s.])", re.MULTILINE)
        offenders = [
            str(path.relative_to(root))
            for path in root.rglob("*.py")
            if "tests" not in path.relative_to(root).parts
            and not any(part.startswith(".") or part in {"node_modules", "venv"} for part in path.parts)
            and path != root / "annotations" / "sanitize.py"
            and pattern.search(path.read_text(encoding="utf-8", errors="replace"))
        ]
        self.assertEqual(offenders, [])
