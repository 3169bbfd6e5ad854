"""The benchmark's dedicated database and its scaled corpus.

``prepare_database(url)`` makes sure the database is one the benchmark may fill: it creates it when
missing, and refuses (``RefuseDatabase``) when it holds tables but no ``glossa_bench_marker`` table.
A database that carries the marker was made by an earlier benchmark run and is emptied again.

``build(spec)`` (Django set up on that database) migrates, runs ``load_corpus``, gives the measured
provisions a long synthetic wording (coverage ``full``, as ``import_treaty`` would) and bulk-inserts
tags, users and annotations. Everything goes in with ``bulk_create`` in batches, so 100,000
annotations take about a minute; no history rows are written for them (simple_history records
saves, not bulk inserts), which the pages do not read.
"""

import json
import random
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

MARKER = "glossa_bench_marker"
TREATY = "dprk-russia-2024"
PASSWORD = "bench-password-not-a-secret-42"
ANALYST, CURATOR = "bench-analyst", "bench-curator"
WRITE_PROVISION = "art-5"  # creates and edits go here, never onto the measured N provisions
RARE_TERM = "zyxquorum"
COMMON_TERM = "security"


class RefuseDatabase(Exception):
    pass


@dataclass
class Spec:
    sizes: list = field(default_factory=lambda: [10, 1000, 2000, 10000])
    total: int = 100_000
    wording_chars: int = 25_000
    other_wording_chars: int = 6_000
    seed: int = 2024

    def provision_for(self, n):
        return f"art-{self.sizes.index(n) + 1}"


FULL = Spec()
QUICK = Spec(sizes=[10, 1000, 2000], total=10_000)
SMOKE = Spec(sizes=[10], total=200, wording_chars=3000, other_wording_chars=1000)


# --- the database itself (no Django needed) -------------------------------------------------------

def _pg_params(url):
    parts = urlsplit(url)
    return {
        "dbname": unquote(parts.path.lstrip("/")),
        "user": unquote(parts.username or "") or None,
        "password": unquote(parts.password or "") or None,
        "host": parts.hostname or None,
        "port": parts.port or None,
    }


def _pg_connect(params, dbname):
    import psycopg

    return psycopg.connect(**{**{k: v for k, v in params.items() if v is not None}, "dbname": dbname},
                           autocommit=True)


def is_postgres(url):
    return urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}


def prepare_database(url):
    """Create the database if missing; empty it if a benchmark made it; refuse anything else."""
    if is_postgres(url):
        params = _pg_params(url)
        name = params["dbname"]
        if not name or not name.replace("_", "").isalnum():
            raise RefuseDatabase(f"Refusing database name {name!r}: use letters, digits and _ only.")
        with _pg_connect(params, "postgres") as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists:
                with _pg_connect(params, name) as conn:
                    tables = {row[0] for row in conn.execute(
                        "SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                    )}
                if tables and MARKER not in tables:
                    raise RefuseDatabase(
                        f"Database {name!r} already holds {len(tables)} tables and no {MARKER} table: it was not "
                        "made by the benchmark. Refusing to touch it; pass --database-url with another name."
                    )
                if tables:
                    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                    exists = False
            if not exists:
                admin.execute(f'CREATE DATABASE "{name}"')
        return
    path = Path(unquote(urlsplit(url).path))
    if path.exists():
        with sqlite3.connect(path) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        conn.close()
        if tables and MARKER not in tables:
            raise RefuseDatabase(f"{path} already holds tables and no {MARKER} table: refusing to touch it.")
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)


def drop_database(url):
    """Drop a database this module made (used by the smoke test)."""
    if is_postgres(url):
        params = _pg_params(url)
        with _pg_connect(params, "postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{params["dbname"]}" WITH (FORCE)')
    else:
        Path(unquote(urlsplit(url).path)).unlink(missing_ok=True)


# --- the corpus (Django set up) ---------------------------------------------------------------------

WORDS = (
    "the parties shall cooperate in matters of security defence trade energy and culture and each party "
    "undertakes to consult the other without delay on questions of mutual interest including assistance "
    "in the event of armed attack in accordance with article fifty one of the charter of the united nations "
    "and the laws of both states obligations under this treaty shall not affect rights of third states"
).split()

BODIES = [
    "This clause *echoes* the 1961 treaty almost word for word. See [the commentary]({url}) for the drafting "
    "history. Note {n}.",
    "The **obligation** here is conditional: it applies only *without delay* after an attack. Commentators "
    "disagree on whether consultation is required first. Note {n}.",
    "Compare with the mutual-defence wording of other treaties; the {term} language is broader than usual. "
    "Discussed [here]({url}). Note {n}.",
    "A *key* phrase for sanctions analysis.\n\n- trade\n- energy\n- labour\n\nNote {n}.",
    "Read together with the preamble: the parties frame cooperation as **security** cooperation. The text "
    "is silent on duration. Note {n}.",
    "> shall provide military and other assistance\n\nThis is the core of the alliance reading. "
    "See [analysis]({url}). Note {n}.",
]


def synthetic_wording(rng, chars):
    paragraphs, size = [], 0
    while size < chars:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(12, 30))]
            sentences.append(" ".join(words).capitalize() + ".")
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:chars].rstrip() + "."


def build(spec, log=print):
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import F
    from django.utils import timezone

    from annotations.anchoring import quote_selector
    from annotations import writes
    from annotations.models import Annotation, Tag
    from annotations.sanitize import render_markdown
    from treaty_app.importing import load_corpus
    from treaty_app.models import Provision

    rng = random.Random(spec.seed)
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {MARKER} (spec TEXT NOT NULL)")
        cursor.execute(f"INSERT INTO {MARKER} (spec) VALUES (%s)", [json.dumps(asdict(spec))])
    load_corpus()
    log(f"  migrated and loaded the corpus in {time.perf_counter() - t0:.1f}s")

    with transaction.atomic():
        provisions = {p.slug: p for p in Provision.objects.filter(treaty__slug=TREATY)}
        measured = [spec.provision_for(n) for n in spec.sizes] + [WRITE_PROVISION]
        for slug, provision in provisions.items():
            chars = spec.wording_chars if slug in measured else spec.other_wording_chars
            text = synthetic_wording(rng, chars)
            Provision.objects.filter(pk=provision.pk).update(
                text=text, coverage=Provision.Coverage.FULL, text_version=F("text_version") + 1
            )
        provisions = {p.slug: p for p in Provision.objects.filter(treaty__slug=TREATY)}

        password = make_password(PASSWORD)
        analysts, curators = Group.objects.get(name="Analysts"), Group.objects.get(name="Curators")
        users = User.objects.bulk_create(
            [User(username=ANALYST, password=password), User(username=CURATOR, password=password, is_staff=True)]
            + [User(username=f"analyst-{i:02}", password=password) for i in range(18)]
        )
        users = list(User.objects.filter(username__in=[u.username for u in users]).order_by("pk"))
        curator = next(u for u in users if u.username == CURATOR)
        for user in users:
            user.groups.add(curators if user is curator else analysts)
        authors = [u for u in users if u is not curator]

        topics = ["security", "trade", "energy", "labour", "sanctions", "military", "culture", "law", "un", "tech"]
        tags = Tag.objects.bulk_create([
            Tag(name=f"{topics[i % 10]}-{i:03}", slug=f"{topics[i % 10]}-{i:03}",
                colour=f"#{rng.randrange(0x1000000):06x}", created_by=curator)
            for i in range(200)
        ])
        tags = list(Tag.objects.order_by("pk"))

        rendered = [
            (body, render_markdown(body.format(n="NUMBERTOKEN", url="https://example.org/c", term=COMMON_TERM)))
            for body in BODIES
        ]
        now = timezone.now()
        roots_total = round(spec.total / 1.1)
        write_n = 10
        rest = max(0, roots_total - sum(spec.sizes) - write_n)
        others = [slug for slug in provisions if slug not in measured]
        plan = [(spec.provision_for(n), n, True) for n in spec.sizes] + [(WRITE_PROVISION, write_n, True)]
        per_other, extra = divmod(rest, len(others))
        plan += [(slug, per_other + (1 if i < extra else 0), False) for i, slug in enumerate(others)]

        counter = 0

        def make(provision, public, parent=None):
            nonlocal counter
            counter += 1
            n = counter
            template, html = rendered[n % len(rendered)]
            body = template.format(n=n, url="https://example.org/c", term=COMMON_TERM)
            if n % 33_331 == 7:
                body += f" Also {RARE_TERM}."
                html = render_markdown(body)
            else:
                html = html.replace("NUMBERTOKEN", str(n))
            row = Annotation(
                author=authors[n % len(authors)], body=body, body_html=html,
                visibility="public" if public else "team",
                review="published" if public else "none",
                reviewed_at=now if public else None, reviewed_by=curator if public else None,
                created_at=now - timezone.timedelta(seconds=n),
            )
            if parent is not None:
                row.parent = parent
                row.visibility, row.review = parent.visibility, parent.review
                return row
            text = provision.text
            start = rng.randrange(0, max(1, len(text) - 60))
            end = min(len(text), start + rng.randint(5, 50))
            quote = quote_selector(text, start, end)
            row.provision = provision
            row.start, row.end = start, end
            row.exact, row.prefix, row.suffix = quote.exact, quote.prefix, quote.suffix
            row.text_version = provision.text_version
            return row

        through = Annotation.tags.through
        created_roots = []
        batch = []

        def flush(rows):
            chosen = [rng.sample(tags, rng.randint(2, 4)) for _ in rows]
            for row, its_tags in zip(rows, chosen):  # the tag rows below are bulk-inserted: no signal
                row.tag_keys = writes.tag_keys_of(tag.pk for tag in its_tags)
            made = Annotation.objects.bulk_create(rows, batch_size=2000)
            links = []
            for annotation, its_tags in zip(made, chosen):
                for tag in its_tags:
                    links.append(through(annotation_id=annotation.pk, tag_id=tag.pk))
            through.objects.bulk_create(links, batch_size=5000)
            return made

        for slug, count, all_public in plan:
            provision = provisions[slug]
            for i in range(count):
                batch.append(make(provision, all_public or rng.random() < 0.75))
                if len(batch) >= 5000:
                    created_roots += flush(batch)
                    batch = []
        created_roots += flush(batch)
        log(f"  {len(created_roots)} root annotations in {time.perf_counter() - t0:.1f}s")

        replies_total = spec.total - len(created_roots)
        parents = rng.sample(created_roots, min(replies_total, len(created_roots)))
        batch = [make(None, parent.visibility == "public", parent=parent) for parent in parents]
        for i in range(0, len(batch), 5000):
            Annotation.objects.bulk_create(batch[i:i + 5000], batch_size=2000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    total = Annotation.objects.count()
    log(f"  corpus built: {total} annotations in {time.perf_counter() - t0:.1f}s")
    return {"annotations": total, "seconds": round(time.perf_counter() - t0, 1), "spec": asdict(spec)}
