"""Glossa's benchmark: ``python -m tests.bench.run [--quick] [--database-url URL] [--seconds N]``.

See tests/bench/README.md for what it measures and how to read the table. In short: it builds a
scaled corpus in a dedicated database, starts the app under gunicorn exactly as the README deploys it
(DEBUG off, collectstatic + whitenoise, ``--workers 3``), drives it with a closed-loop Python load
generator on 127.0.0.1, and reports latency, throughput, the ratio to a static-file ceiling, SQL
queries per request and worker memory. One child process per database (Django's settings are bound
to one database per process); the parent merges their results.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from . import corpus, load

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/glossa_bench"
WORKERS = 3  # the README's recommendation for a 2-core machine
HOST = "127.0.0.1"
# The scenarios a full run repeats on SQLite (after all of them on PostgreSQL).
SQLITE_COMPARISON = ["ceiling", "floor", "N=2000", "search", "create"]


# --- processes ------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_env(database_url, static_root, settings="treaty_app.settings"):
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update({
        "DJANGO_SETTINGS_MODULE": settings,
        "SECRET_KEY": env.get("BENCH_SECRET_KEY", "bench-secret-key-" + "x" * 40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "0",
        "SECURE_HSTS_PRELOAD": "0",
        "DATABASE_URL": database_url,
        "STATIC_ROOT": str(static_root),
        "PYTHONPATH": str(ROOT),
    })
    return env


class Gunicorn:
    def __init__(self, env, app="treaty_app.wsgi:application", workers=WORKERS, log=None):
        self.port = free_port()
        self.log = log or open(os.devnull, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", app, "--bind", f"{HOST}:{self.port}", "--workers", str(workers),
             "--worker-class", "sync", "--timeout", "300", "--graceful-timeout", "5", "--no-control-socket"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode} (see its log)")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("gunicorn did not start within 60 s")
        # Wait until every worker is up (they import Django after the master binds).
        while time.time() < deadline and len(self.worker_pids()) < workers:
            time.sleep(0.1)
        time.sleep(0.5)
        if self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn's workers failed to boot (exit {self.proc.returncode}; see its log)")

    def worker_pids(self):
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def peak_rss_mb(self):
        """The largest VmHWM (peak resident set) among the workers, in MB."""
        peaks = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if match:
                peaks.append(int(match.group(1)) / 1024)
        return round(max(peaks), 1) if peaks else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # gunicorn's master stops its own workers
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# --- HTTP helpers ----------------------------------------------------------------------------------

def http(port, method, path, body=None, headers=None):
    import http.client

    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def cookies_from(headers):
    jar = {}
    for value in headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def log_in(port, username, password):
    """Log in through /accounts/login/ like a browser; return the cookies (session + CSRF)."""
    status, headers, body = http(port, "GET", "/accounts/login/")
    jar = cookies_from(headers)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    status, headers, body = http(port, "POST", "/accounts/login/", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={jar['csrftoken']}",
    })
    if status != 302:
        raise RuntimeError(f"Logging in as {username} answered {status}")
    jar.update(cookies_from(headers))
    return jar


def cookie_header(jar):
    return "; ".join(f"{k}={v}" for k, v in jar.items())


# --- workloads with state --------------------------------------------------------------------------

class CreateWorkload:
    """HTMX creates on the write provision, each with a unique marker in its body."""

    def __init__(self, path, text, jar, marker):
        self.path, self.text, self.marker = path, text, marker
        self.headers = {
            "Cookie": cookie_header(jar), "X-CSRFToken": jar["csrftoken"], "HX-Request": "true",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        self.token = jar["csrftoken"]
        self.created = 0
        self.lock = threading.Lock()

    def request(self, worker, seq):
        start = (worker * 7919 + seq * 37) % (len(self.text) - 60)
        end = start + 24
        body = urllib.parse.urlencode({
            "exact": self.text[start:end], "start": start, "end": end, "visibility": "team",
            "body": f"Benchmark note *{self.marker}-{worker}-{seq}* with a [link](https://example.org/{seq}).",
            "csrfmiddlewaretoken": self.token,
        })
        return "POST", self.path, body, self.headers

    def response(self, worker, status, headers, body):
        if status == 200:
            with self.lock:
                self.created += 1


class EditWorkload:
    """Every connection edits the same annotation, sending the version it last saw: concurrent
    edits make stale ones, which must get 409 (counted apart) and carry the current version."""

    def __init__(self, pk, jar, concurrency):
        self.path = f"/workspace/annotations/{pk}/edit/"
        self.headers = {
            "Cookie": cookie_header(jar), "X-CSRFToken": jar["csrftoken"], "HX-Request": "true",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        self.token = jar["csrftoken"]
        self.known = [None] * concurrency
        self.version = 1
        self.lock = threading.Lock()
        self.saved = self.conflicts = 0

    def request(self, worker, seq):
        with self.lock:
            version = self.known[worker] or self.version
        body = urllib.parse.urlencode({
            "body": f"Edited by connection {worker}, request {seq}, *again*.", "visibility": "team",
            "version": version, "csrfmiddlewaretoken": self.token,
        })
        return "POST", self.path, body, self.headers

    def response(self, worker, status, headers, body):
        with self.lock:
            if status == 200:
                self.saved += 1
                self.known[worker] = (self.known[worker] or self.version) + 1
            elif status == 409:
                self.conflicts += 1
                match = re.search(rb'name="version" value="(\d+)"', body)
                self.known[worker] = int(match.group(1)) if match else None


# --- the child: one database -----------------------------------------------------------------------

def machine():
    cpu = "unknown"
    try:
        cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M).group(1)
    except (OSError, AttributeError):
        pass
    mem = None
    try:
        mem = round(int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) / 1024 ** 2, 1)
    except (OSError, AttributeError):
        pass
    import django
    import gunicorn

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem, "python": platform.python_version(),
            "django": django.__version__, "gunicorn": gunicorn.__version__, "platform": platform.platform()}


def child(args):
    spec = {"full": corpus.FULL, "quick": corpus.QUICK, "smoke": corpus.SMOKE}[args.mode]
    url = args.database_url
    try:
        corpus.prepare_database(url)
    except corpus.RefuseDatabase as error:
        print(f"REFUSED: {error}", file=sys.stderr)
        return 2
    static_root = Path(tempfile.mkdtemp(prefix="glossa-bench-static-"))
    os.environ.pop("DEBUG", None)  # measured as deployed: DEBUG off (make test sets it)
    os.environ.update(server_env(url, static_root))
    import django

    django.setup()
    servers = []
    result = {"database_url": url, "mode": args.mode, "scenarios": [], "checks": {}, "machine": machine()}
    try:
        result.update(run_database(args, spec, url, static_root, servers, result))
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(static_root, ignore_errors=True)
    Path(args.child_out).write_text(json.dumps(result, indent=2))
    return 0


def run_database(args, spec, url, static_root, servers, result):
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from annotations.anchoring import quote_selector
    from annotations.models import Annotation
    from treaty_app import versioning
    from treaty_app.models import Provision

    say = (lambda *a: print(*a, file=sys.stderr, flush=True))
    say(f"[{connection.vendor}] building the corpus ({args.mode}: {spec.total} annotations)")
    result["corpus"] = corpus.build(spec, log=say)
    result["database_version"] = connection.pg_version if connection.vendor == "postgresql" else None
    if connection.vendor == "sqlite":
        import sqlite3

        result["database_version"] = sqlite3.sqlite_version
    call_command("collectstatic", interactive=False, verbosity=0)

    t = corpus.TREATY
    page = lambda slug: f"/treaties/{t}/{slug}/"  # noqa: E731
    anon = Client(HTTP_HOST=HOST)
    analyst_user = User.objects.get(username=corpus.ANALYST)
    analyst = Client(HTTP_HOST=HOST)
    analyst.force_login(analyst_user)
    curator = Client(HTTP_HOST=HOST)
    curator.force_login(User.objects.get(username=corpus.CURATOR))

    # The ceiling: the exact bytes of the public page at N=1,000 (or the largest N below), as a static file.
    ceiling_n = max(n for n in spec.sizes if n <= 1000)
    ceiling_bytes = anon.get(page(spec.provision_for(ceiling_n))).content
    (static_root / "bench").mkdir()
    (static_root / "bench" / "page.html").write_bytes(ceiling_bytes)

    write = Provision.objects.get(treaty__slug=t, slug=corpus.WRITE_PROVISION)

    def new_own_annotation(note):
        quote = quote_selector(write.text, 100, 130)
        return Annotation.objects.create(
            provision=write, author=analyst_user, body=note, visibility="team", start=100, end=130,
            exact=quote.exact, prefix=quote.prefix, suffix=quote.suffix, text_version=write.text_version,
        )

    def count_queries(client, method, path, **extra):
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(path, **extra)
        return len(queries), response.status_code

    # Scenarios: (name, group, factory of (workload, expected, counted), query-count thunk, target)
    scenarios = []

    def add(name, make, queries, expected=(200,), counted=(), target="app", note=""):
        scenarios.append({"name": name, "make": make, "queries": queries, "expected": expected,
                          "counted": counted, "target": target, "note": note})

    smoke = args.mode == "smoke"
    add("ceiling: static page (whitenoise)", lambda ctx: load.Fixed("/static/bench/page.html"),
        lambda: count_queries(anon, "get", "/static/bench/page.html"))
    if not smoke:
        add("floor: one-line Django view", lambda ctx: load.Fixed("/bench/floor/"),
            lambda: _floor_queries(anon, count_queries, override_settings), target="floor")
    def after_a_change(client, path):
        # What a request meets right after a change to what the page shows: a new content version.
        versioning.changed(versioning.SHARED)
        return count_queries(client, "get", path)

    for n in spec.sizes:
        slug = spec.provision_for(n)
        p = page(slug)
        # "render" rows go to a server with no page cache (PAGE_CACHE_MB=0): every request renders the
        # page, as after a change; the fragments (cards, highlight pieces, JSON-LD items) are made once
        # per version of what each shows, as they are after a change to one annotation.
        add(f"public page N={n} render", lambda ctx, p=p: load.Fixed(p, unique=True),
            lambda p=p: after_a_change(anon, p), target="uncached")
        if smoke:
            continue
        add(f"public page N={n} cached", lambda ctx, p=p: load.Fixed(p),
            lambda p=p: (anon.get(p), count_queries(anon, "get", p))[1])
        add(f"public page N={n} revalidate 304",
            lambda ctx, p=p: load.Fixed(p, {"If-None-Match": http(ctx["port"], "GET", p)[1]["ETag"]}),
            lambda p=p: count_queries(anon, "get", p, HTTP_IF_NONE_MATCH=anon.get(p)["ETag"]), expected=(304,))
        j = p + "annotations.jsonld"
        add(f"provision JSON-LD N={n} render", lambda ctx, j=j: load.Fixed(j, unique=True),
            lambda j=j: after_a_change(anon, j), target="uncached")
        add(f"provision JSON-LD N={n} cached", lambda ctx, j=j: load.Fixed(j),
            lambda j=j: (anon.get(j), count_queries(anon, "get", j))[1])
        w = f"/workspace/{t}/{slug}/"
        add(f"workspace N={n} (analyst)", lambda ctx, w=w: load.Fixed(w, {"Cookie": cookie_header(ctx["analyst"])}),
            lambda w=w: count_queries(analyst, "get", w))
    if not smoke:
        for term in (corpus.COMMON_TERM, corpus.RARE_TERM):
            s = f"/search/?q={term}"
            add(f"search '{term}'", lambda ctx, s=s: load.Fixed(s), lambda s=s: count_queries(anon, "get", s))
        add("admin annotation changelist (curator)",
            lambda ctx: load.Fixed("/admin/annotations/annotation/", {"Cookie": cookie_header(ctx["curator"])}),
            lambda: count_queries(curator, "get", "/admin/annotations/annotation/"))
        edit_probe = new_own_annotation("query-count probe for edits")
        add("edit annotation (HTMX, one shared annotation)", "edit",
            lambda: count_queries(analyst, "post", f"/workspace/annotations/{edit_probe.pk}/edit/",
                                  data={"body": "probe edit", "visibility": "team", "version": 1},
                                  HTTP_HX_REQUEST="true"),
            counted=(409,))
        create_path = f"/workspace/{t}/{corpus.WRITE_PROVISION}/annotations/"
        add("create annotation (HTMX)", "create",
            lambda: count_queries(analyst, "post", create_path,
                                  data={"exact": write.text[200:230], "start": 200, "end": 230, "visibility": "team",
                                        "body": "query-count probe"}, HTTP_HX_REQUEST="true"))
    if args.only:
        scenarios = [s for s in scenarios if any(o in s["name"] for o in args.only)]

    # Query counts first, in-process, against the same database (writes before the load: they bump the
    # content version, and the load runs afterwards on a fresh cache anyway).
    for scenario in scenarios:
        try:
            scenario["query_count"], scenario["query_status"] = scenario["queries"]()
        except Exception as error:  # a scenario whose count fails still gets measured
            scenario["query_count"], scenario["query_status"] = None, repr(error)[:200]
    connection.close()

    logs = Path(tempfile.mkdtemp(prefix="glossa-bench-logs-"))
    app = Gunicorn(server_env(url, static_root), log=open(logs / "app.log", "wb"))
    servers.append(app)
    ctx = {"port": app.port, "analyst": log_in(app.port, corpus.ANALYST, corpus.PASSWORD)}
    if not smoke:
        ctx["curator"] = log_in(app.port, corpus.CURATOR, corpus.PASSWORD)
    floor = uncached = None
    rows = []
    for scenario in scenarios:
        port, server = app.port, app
        if scenario["target"] == "uncached":
            uncached = uncached or Gunicorn({**server_env(url, static_root), "PAGE_CACHE_MB": "0"},
                                            log=open(logs / "uncached.log", "wb"))
            servers.append(uncached)
            port, server = uncached.port, uncached
        if scenario["target"] == "floor":
            floor = floor or Gunicorn(server_env(url, static_root, "tests.bench.floor_settings"),
                                      app="tests.bench.floor:application", log=open(logs / "floor.log", "wb"))
            servers.append(floor)
            port, server = floor.port, floor
        for concurrency in args.concurrency:
            say(f"  {scenario['name']} @ {concurrency}")
            extra = {}
            if scenario["make"] == "edit":
                pk = new_own_annotation(f"edit target c={concurrency}").pk
                connection.close()
                workload = EditWorkload(pk, ctx["analyst"], concurrency)
            elif scenario["make"] == "create":
                marker = f"bench-create-{os.getpid()}-{concurrency}-{time.time_ns()}"
                workload = CreateWorkload(f"/workspace/{t}/{corpus.WRITE_PROVISION}/annotations/",
                                          write.text, ctx["analyst"], marker)
            else:
                workload = scenario["make"](ctx)
                if not smoke:
                    # Warm-up: every worker's page cache for the cached rows; otherwise a request per worker
                    # (connections, compiled templates), not more: at N=10,000 one request takes seconds.
                    cached = scenario["name"].endswith("cached")
                    load.run(HOST, port, workload, concurrency=WORKERS,
                             seconds=120 if cached else min(1.0, args.seconds / 4),
                             max_requests=4 * WORKERS if cached else WORKERS,
                             expected=scenario["expected"], counted=scenario["counted"], timeout=600)
            figures = load.run(HOST, port, workload, concurrency=concurrency, seconds=args.seconds,
                               max_requests=args.max_requests, expected=scenario["expected"],
                               counted=scenario["counted"], timeout=600)
            if scenario["make"] == "edit":
                final = Annotation.objects.get(pk=pk).version
                extra = {"saved": workload.saved, "conflicts_409": workload.conflicts, "final_version": final,
                         "no_lost_edit": final == workload.saved + 1}
            elif scenario["make"] == "create":
                stored = Annotation.objects.filter(body__contains=workload.marker).count()
                extra = {"created_200": workload.created, "stored": stored,
                         "all_stored_once": stored == workload.created}
            connection.close()
            rows.append({"scenario": scenario["name"], **figures, **extra,
                         "queries_per_request": scenario["query_count"], "query_probe_status": scenario["query_status"],
                         "worker_peak_rss_mb": server.peak_rss_mb()})
            if figures["statuses"].get("501"):
                rows[-1]["not_available"] = "answered 501"
    out = {"scenarios": rows, "workers": WORKERS, "logs": str(logs)}
    if not smoke:
        out["workspace_html"] = workspace_html(analyst, spec, t, say)
        if not args.only or any("browser" in o for o in args.only):
            out["browser"] = browser_timing(app.port, ctx["analyst"], spec, t, say)
        if not args.only:
            out["rss_by_n"] = rss_by_n(url, static_root, servers, ctx["analyst"], spec, t, say)

    if not smoke and connection.vendor == "postgresql" and not args.only:
        out["checks"] = {"two_servers": two_servers(url, static_root, servers, ctx, write, args, say)}
    for server in servers:
        server.stop()
    if not smoke and not args.only:
        out["export"] = export_memory(url, static_root, say)
    return out


def rss_by_n(url, static_root, servers, jar, spec, treaty, say, requests=20):
    """Worker peak RSS after `requests` workspace requests at the smallest and the largest N, each on a
    gunicorn of its own started for it: the table's RSS column is cumulative, this is per N."""
    peaks = {}
    for n in (min(spec.sizes), max(spec.sizes)):
        say(f"  worker peak RSS: workspace N={n}")
        server = Gunicorn(server_env(url, static_root))
        servers.append(server)
        path = f"/workspace/{treaty}/{spec.provision_for(n)}/"
        statuses = [http(server.port, "GET", path, headers={"Cookie": cookie_header(jar)})[0]
                    for _ in range(requests)]
        peaks[str(n)] = {"peak_rss_mb": server.peak_rss_mb(), "requests": requests,
                         "all_200": statuses == [200] * requests}
        server.stop()
    small, large = peaks[str(min(spec.sizes))]["peak_rss_mb"], peaks[str(max(spec.sizes))]["peak_rss_mb"]
    peaks["growth"] = round(large / small - 1, 3) if small else None
    return peaks


def workspace_html(client, spec, treaty, say):
    """The workspace's HTML weight per annotation at each N (uncompressed, the whole page)."""
    say("  workspace HTML weight")
    weights = {}
    for n in spec.sizes:
        body = client.get(f"/workspace/{treaty}/{spec.provision_for(n)}/").content
        weights[str(n)] = {"bytes": len(body), "kb_per_annotation": round(len(body) / 1024 / n, 3)}
    return weights


def browser_timing(port, jar, spec, treaty, say, runs=5):
    """In Debian's Chromium (Playwright): from navigation to the workspace (N=2,000, or the largest N
    below) until its first highlight and its first card are visible, median of `runs` fresh contexts;
    then every card reached through the pager, page by page, counted against N."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"not_available": "playwright is not installed"}
    if not Path("/usr/bin/chromium").exists():
        return {"not_available": "/usr/bin/chromium is missing"}
    n = max(size for size in spec.sizes if size <= 2000)
    url = f"http://{HOST}:{port}/workspace/{treaty}/{spec.provision_for(n)}/"
    say(f"  browser: workspace N={n}")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    timings, cards_seen, pages = [], 0, 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        try:
            for _ in range(runs):
                context = browser.new_context()
                context.add_cookies([{"name": k, "value": v, "domain": HOST, "path": "/"} for k, v in jar.items()])
                page = context.new_page()
                started = time.perf_counter()
                page.goto(url, wait_until="commit")
                page.locator("#wording mark.hl").first.wait_for(state="visible")
                page.locator("#cards li.card").first.wait_for(state="visible")
                timings.append((time.perf_counter() - started) * 1000)
                context.close()
            context = browser.new_context()
            context.add_cookies([{"name": k, "value": v, "domain": HOST, "path": "/"} for k, v in jar.items()])
            page = context.new_page()
            page.goto(url)
            while True:
                pages += 1
                cards_seen += page.locator("#cards li.card[data-annotation]").count()
                following = page.locator(".card-pager a[rel=next]")
                if not following.count():
                    break
                following.first.click()
                page.wait_for_load_state()
            context.close()
        finally:
            browser.close()
    return {"n": n, "first_highlight_and_card_ms": [round(t) for t in timings],
            "median_ms": round(sorted(timings)[len(timings) // 2]), "pages": pages, "cards_seen": cards_seen,
            "every_card_reached": cards_seen >= n}


def _floor_queries(client, count_queries, override_settings):
    with override_settings(ROOT_URLCONF="tests.bench.floor"):
        return count_queries(client, "get", "/bench/floor/")


def two_servers(url, static_root, servers, ctx, write, args, say):
    """Creates and edits through two app servers sharing the database at once."""
    from django.db import connection

    from annotations.anchoring import quote_selector
    from annotations.models import Annotation

    say("  two app servers, one database: creates and edits")
    second = Gunicorn(server_env(url, static_root))
    servers.append(second)
    ports = [ctx["port"], second.port]
    analyst = write.annotations.model.objects.filter(author__username=corpus.ANALYST).first().author
    quote = quote_selector(write.text, 300, 330)
    target = Annotation.objects.create(
        provision=write, author=analyst, body="two-server edit target", visibility="team", start=300, end=330,
        exact=quote.exact, prefix=quote.prefix, suffix=quote.suffix, text_version=write.text_version,
    )
    connection.close()
    marker = f"bench-two-servers-{time.time_ns()}"
    creates = [CreateWorkload(f"/workspace/{corpus.TREATY}/{corpus.WRITE_PROVISION}/annotations/", write.text,
                              ctx["analyst"], f"{marker}-{i}") for i in range(2)]
    edits = EditWorkload(target.pk, ctx["analyst"], 8)

    class Half:
        def __init__(self, inner, offset):
            self.inner, self.offset = inner, offset

        def request(self, worker, seq):
            return self.inner.request(worker + self.offset, seq)

        def response(self, worker, status, headers, body):
            return self.inner.response(worker + self.offset, status, headers, body)

    figures = {}

    def drive(i):
        figures[f"create@{ports[i]}"] = load.run(HOST, ports[i], creates[i], concurrency=2, seconds=args.seconds)
        figures[f"edit@{ports[i]}"] = load.run(HOST, ports[i], Half(edits, 4 * i), concurrency=4,
                                               seconds=args.seconds, counted=(409,))

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = sum(c.created for c in creates)
    per_marker = [Annotation.objects.filter(body__contains=f"{c.marker}-").count() for c in creates]
    # Each create's body carries marker-worker-seq: no body may occur twice.
    bodies = list(Annotation.objects.filter(body__contains=marker).values_list("body", flat=True))
    final = Annotation.objects.get(pk=target.pk).version
    connection.close()
    second.stop()
    return {
        "figures": figures, "created_200": created, "stored": sum(per_marker),
        "each_created_exactly_once": sum(per_marker) == created and len(bodies) == len(set(bodies)),
        "edits_saved": edits.saved, "edits_409": edits.conflicts, "final_version": final,
        "no_lost_edit": final == edits.saved + 1,
    }


def _vm_hwm_kb(pid):
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # it has just exited
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def export_memory(url, static_root, say):
    """export_annotations: time to the last byte and peak RSS, at the full size and cut to 10,000."""
    from django.db import connection

    env = server_env(url, static_root)
    check = subprocess.run([sys.executable, "manage.py", "help", "export_annotations"], cwd=ROOT, env=env,
                           capture_output=True)
    if check.returncode:
        return {"not_available": "manage.py export_annotations does not exist"}

    def measure():
        out = Path(tempfile.mkdtemp(prefix="glossa-bench-export-")) / "export.jsonld"
        from annotations.models import Annotation

        count = Annotation.objects.count()
        connection.close()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "manage.py", "export_annotations", str(out), "--all"], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # The export's own peak (VmHWM of its address space), read until it exits. Not wait4's ru_maxrss:
        # Linux carries the parent's peak over the fork into the child's, and this parent holds the corpus.
        peak_kb = 0
        while proc.poll() is None:
            peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            time.sleep(0.02)
        seconds = time.perf_counter() - t0
        size = out.stat().st_size if out.exists() else None
        shutil.rmtree(out.parent, ignore_errors=True)
        return {"annotations": count, "seconds": round(seconds, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
                "bytes": size, "exit": proc.returncode, "stderr": proc.stderr.read().decode()[-300:]}

    say("  export_annotations at full size")
    results = [measure()]
    # Cut the corpus down to its 10,000 lowest ids (roots; their tags go with them) and export again.
    from annotations.models import Annotation

    ids = list(Annotation.objects.order_by("pk").values_list("pk", flat=True)[9_999:10_000])
    if ids and Annotation.objects.count() > 10_000:
        cutoff = ids[0]
        through = Annotation.tags.through._meta.db_table
        table = Annotation._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {through} WHERE annotation_id > %s", [cutoff])
            cursor.execute(f"DELETE FROM {table} WHERE id > %s AND parent_id IS NOT NULL", [cutoff])
            cursor.execute(f"DELETE FROM {table} WHERE id > %s", [cutoff])
        say("  export_annotations at 10,000")
        results.append(measure())
    return {"runs": results}


# --- the parent: both databases, the table --------------------------------------------------------

COLUMNS = ["scenario", "C", "p50 ms", "p95 ms", "server p95 ms", "req/s", "× ceiling", "queries", "RSS MB", "errors"]


def table(result):
    lines = []
    for db in result["databases"]:
        if "scenarios" not in db:
            continue
        ceiling = {r["concurrency"]: r["rps"] for r in db["scenarios"] if r["scenario"].startswith("ceiling")}
        lines.append(f"\n{db['label']} ({db['mode']}, {db.get('corpus', {}).get('annotations')} annotations)\n")
        lines.append("| " + " | ".join(COLUMNS) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(COLUMNS) - 1)) + "|")
        for r in db["scenarios"]:
            ratio = r["rps"] / ceiling[r["concurrency"]] if ceiling.get(r["concurrency"]) else None
            errors = str(r["errors"])
            if r.get("conflicts_409") is not None:
                errors += f" (+{r['conflicts_409']}×409, lost edits: {'none' if r['no_lost_edit'] else 'YES'})"
            if r.get("all_stored_once") is not None:
                errors += "" if r["all_stored_once"] else " (creates missing!)"
            if r.get("not_available"):
                errors = "not available (501)"
            cells = [r["scenario"], r["concurrency"], r["p50_ms"], r["p95_ms"], r.get("server_p95_ms"), r["rps"],
                     f"{ratio:.2f}" if ratio is not None else "—", r["queries_per_request"],
                     r["worker_peak_rss_mb"], errors]
            lines.append("| " + " | ".join("—" if c is None else str(c) for c in cells) + " |")
        for name, check in db.get("checks", {}).items():
            lines.append(f"\n{name}: " + json.dumps({k: v for k, v in check.items() if k != "figures"}))
        if "export" in db:
            lines.append("\nexport_annotations --all: " + json.dumps(db["export"]))
        if "workspace_html" in db:
            lines.append("\nworkspace HTML: " + json.dumps(db["workspace_html"]))
        if "browser" in db:
            lines.append("\nbrowser (Chromium), workspace: " + json.dumps(db["browser"]))
        if "rss_by_n" in db:
            lines.append("\nworker peak RSS by N (workspace, a fresh server each): " + json.dumps(db["rss_by_n"]))
    return "\n".join(lines)


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 annotations, 2 s per scenario, PostgreSQL only.")
    parser.add_argument("--database-url", default=DEFAULT_PG, help=f"PostgreSQL database to use (default {DEFAULT_PG}).")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=None,
                        help="Also run on SQLite (default: yes, except with --quick).")
    parser.add_argument("--seconds", type=float, help="Seconds per scenario and concurrency (default 3; --quick 2).")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--max-requests", type=int, default=100_000, help="Upper bound per run.")
    parser.add_argument("--only", nargs="+", help="Only scenarios whose name contains one of these strings.")
    parser.add_argument("--out", help="The JSON file to write (default tests/bench/results/bench-<timestamp>.json).")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = 1.0 if args.smoke else 2.0 if args.quick else 3.0
    if args.sqlite is None:
        args.sqlite = not args.quick and not args.smoke
    args.mode = args.mode or ("smoke" if args.smoke else "quick" if args.quick else "full")
    return args


def main(argv=None):
    args = parse(argv)
    if args.child_out:
        return child(args)
    if not corpus.is_postgres(args.database_url) and not args.database_url.startswith("sqlite:"):
        print("--database-url must be postgres://… or sqlite:///…", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    databases = [("PostgreSQL" if corpus.is_postgres(args.database_url) else "SQLite", args.database_url)]
    if args.sqlite and corpus.is_postgres(args.database_url):
        databases.append(("SQLite", f"sqlite:///{RESULTS / 'bench.sqlite3'}"))
    started = time.perf_counter()
    result = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "mode": args.mode, "seconds_per_run": args.seconds,
              "concurrency": args.concurrency, "workers": WORKERS, "databases": []}
    for label, url in databases:
        child_out = Path(tempfile.mkstemp(prefix="glossa-bench-", suffix=".json")[1])
        cmd = [sys.executable, "-m", "tests.bench.run", "--child-out", str(child_out), "--mode", args.mode,
               "--database-url", url, "--seconds", str(args.seconds), "--max-requests", str(args.max_requests),
               "--concurrency", *map(str, args.concurrency)]
        if args.only:
            cmd += ["--only", *args.only]
        elif label == "SQLite" and len(databases) > 1:
            # The comparison with PostgreSQL, not the whole run again: it keeps the full run under 15 minutes.
            cmd += ["--only", *SQLITE_COMPARISON]
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
        try:
            code = proc.wait()
        except BaseException:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            raise
        if code == 2:
            return 2
        if code:
            print(f"The {label} run failed (exit {code}).", file=sys.stderr)
            result["databases"].append({"label": label, "database_url": url, "mode": args.mode, "failed": code})
            continue
        data = json.loads(child_out.read_text())
        child_out.unlink()
        result["machine"] = data.pop("machine")
        result["databases"].append({"label": f"{label} {data.get('database_version') or ''}".strip(), **data})
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    out = Path(args.out) if args.out else RESULTS / f"bench-{stamp}.json"
    out.write_text(json.dumps(result, indent=2))
    print(table(result))
    print(f"\nTotal {result['total_seconds']} s. Raw figures: {out}")
    return 0 if all("failed" not in db for db in result["databases"]) else 1


if __name__ == "__main__":
    sys.exit(main())
