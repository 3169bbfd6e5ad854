"""Small helpers that make corpus rows for tests."""

import itertools

from treaty_app.models import Excerpt, ExcerptLink, Provision, Source, Treaty

_counter = itertools.count(1)


def make_treaty(**fields):
    n = next(_counter)
    defaults = {
        "slug": f"treaty-{n}",
        "title": f"Treaty number {n}",
        "short_title": f"Treaty {n}",
        "parties": "Party A; Party B",
    }
    return Treaty.objects.create(**(defaults | fields))


def make_provision(treaty=None, *, number=None, text="", **fields):
    treaty = treaty or make_treaty()
    if number is None:
        defaults = {"kind": Provision.Kind.PREAMBLE, "slug": "preamble", "position": 0}
    else:
        defaults = {"kind": Provision.Kind.ARTICLE, "slug": f"art-{number}", "position": number}
    defaults |= {"coverage": Provision.Coverage.QUOTED if text else Provision.Coverage.NONE}
    return Provision.objects.create(treaty=treaty, number=number, text=text, **(defaults | fields))


def make_source(body="A commentary.\n\nIt has two paragraphs.", **fields):
    n = next(_counter)
    defaults = {
        "slug": f"source-{n}",
        "title": f"Commentary {n}",
        "author": "A. Writer",
        "outlet": "An Outlet",
        "capture_name": f"capture-{n}.txt",
        "capture": body,
    }
    return Source.objects.create(body=body, **(defaults | fields))


def make_excerpt(source, start, end):
    return Excerpt.objects.create(source=source, start=start, end=end, text=source.body[start:end])


def link(excerpt, provision, *, state=ExcerptLink.State.APPROVED, method=ExcerptLink.Method.IMPLICIT, **fields):
    return ExcerptLink.objects.create(excerpt=excerpt, provision=provision, state=state, method=method, **fields)


def make_user(username, role="Analysts", **fields):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username, password="a-long-test-password", **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_annotation(provision, author, start, end, *, body="A note.", visibility="team", tags=(), **fields):
    """A row made directly, as a fixture (the app itself writes only through annotations.writes)."""
    from annotations.anchoring import quote_selector
    from annotations.models import Annotation
    from annotations.sanitize import render_markdown

    quote = quote_selector(provision.text, start, end)
    annotation = Annotation.objects.create(
        provision=provision, author=author, body=body, body_html=render_markdown(body), visibility=visibility,
        start=start, end=end, exact=quote.exact, prefix=quote.prefix, suffix=quote.suffix,
        original_exact=quote.exact, text_version=provision.text_version,
        original_text_version=provision.text_version, **fields,
    )
    annotation.tags.set(tags)
    return annotation


def make_annotations(provision, author, count, *, tags=()):
    """`count` annotations spread over the provision's text, overlapping, in one bulk insert."""
    from annotations.anchoring import quote_selector
    from annotations.models import Annotation

    text, rows = provision.text, []
    for i in range(count):
        start = (i * 7) % max(1, len(text) - 12)
        end = min(len(text), start + 5 + i % 9)
        quote = quote_selector(text, start, end)
        rows.append(Annotation(
            provision=provision, author=author, body=f"Note {i} with *emphasis*.", body_html=f"<p>Note {i}</p>",
            visibility="team", start=start, end=end, exact=quote.exact, prefix=quote.prefix, suffix=quote.suffix,
            original_exact=quote.exact, text_version=provision.text_version,
            original_text_version=provision.text_version,
        ))
    created = Annotation.objects.bulk_create(rows)
    if tags:
        through = Annotation.tags.through
        through.objects.bulk_create(
            [through(annotation_id=a.pk, tag_id=tag.pk) for a in created for tag in tags]
        )
    return created


def annotation_row(**fields):
    """An annotation row made directly (a reply, an annotation on an excerpt), with its body rendered."""
    from annotations.models import Annotation
    from annotations.sanitize import render_markdown

    fields.setdefault("body_html", render_markdown(fields.get("body", "")))
    if "exact" in fields:
        fields.setdefault("original_exact", fields["exact"])
    return Annotation.objects.create(**fields)
