"""The benchmark still runs: a tiny corpus, one scenario for a second, against a real gunicorn.

It uses a database of its own (a temporary SQLite file, or ``glossa_bench_smoke_<pid>`` on the
PostgreSQL server of DATABASE_URL), never the test database, and drops it afterwards.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.bench import corpus

ROOT = Path(__file__).resolve().parents[2]


def smoke_database_url(tmp):
    url = os.environ.get("DATABASE_URL", "")
    if corpus.is_postgres(url):
        return urlunsplit(urlsplit(url)._replace(path=f"/glossa_bench_smoke_{os.getpid()}"))
    return f"sqlite:///{tmp}/bench-smoke.sqlite3"


def test_benchmark_runs_one_scenario_against_gunicorn():
    with tempfile.TemporaryDirectory() as tmp:
        url = smoke_database_url(tmp)
        out = Path(tmp) / "bench.json"
        try:
            run = subprocess.run(
                [sys.executable, "-m", "tests.bench.run", "--smoke", "--database-url", url, "--no-sqlite",
                 "--seconds", "1", "--concurrency", "2", "--out", str(out)],
                cwd=ROOT, capture_output=True, text=True, timeout=120,
            )
        finally:
            corpus.drop_database(url)
        assert run.returncode == 0, run.stderr[-3000:]
        result = json.loads(out.read_text())
    assert {"machine", "databases", "mode", "total_seconds"} <= result.keys()
    assert {"cpu", "cores", "memory_gb", "python", "django"} <= result["machine"].keys()
    (database,) = result["databases"]
    assert database["corpus"]["annotations"] == corpus.SMOKE.total
    rows = {row["scenario"]: row for row in database["scenarios"]}
    page = rows["public page N=10 render"]
    for key in ("p50_ms", "p95_ms", "rps", "requests", "errors", "queries_per_request", "worker_peak_rss_mb"):
        assert key in page
    assert page["requests"] > 0 and page["errors"] == 0, page
    assert rows["ceiling: static page (whitenoise)"]["requests"] > 0
    assert "| public page N=10 render | 2 |" in run.stdout
