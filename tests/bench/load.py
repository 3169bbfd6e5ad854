"""A bounded, closed-loop HTTP load generator for 127.0.0.1 only (pure Python: threads + http.client).

Each of ``concurrency`` threads keeps one connection and sends requests back to back until ``seconds``
have passed or ``max_requests`` have been sent in total. Per-request latency is measured from just
before the request is written to just after the whole body is read.

The generator runs on the same machine as the server and competes with it for CPU (and, being Python,
for its own GIL). The ceiling (a static file served by the same gunicorn) is measured the same way, so
ratios to it stay meaningful; absolute requests/s are lower than a C load generator would show.

A *workload* is an object with ``request(worker, seq)`` returning ``(method, path, body, headers)`` and
optionally ``response(worker, status, headers, body)``, called after each response (e.g. to follow a
version number). ``expected`` is the set of statuses that count as success; ``counted`` statuses (e.g.
409) are neither success nor error but counted apart.
"""

import http.client
import statistics
import threading
import time

ALLOWED_HOSTS = {"127.0.0.1", "localhost"}


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def run(host, port, workload, *, concurrency, seconds, max_requests=100_000, expected=(200,), counted=(),
        timeout=30.0):
    if host not in ALLOWED_HOSTS:
        raise ValueError(f"The load generator only targets 127.0.0.1, not {host!r}.")
    expected, counted = set(expected), set(counted)
    lock = threading.Lock()
    budget = {"left": max_requests}
    results = [[] for _ in range(concurrency)]  # per worker: latencies of the expected answers
    server = [[] for _ in range(concurrency)]  # per worker: the app's own Server-Timing, where it sent one
    errors = [0] * concurrency
    statuses = {}
    first_error = []
    start_barrier = threading.Barrier(concurrency + 1)
    deadline_box = {}

    def take():
        with lock:
            if budget["left"] <= 0:
                return False
            budget["left"] -= 1
            return True

    def worker(index):
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        seq = 0
        start_barrier.wait()
        deadline = deadline_box["t"]
        while time.perf_counter() < deadline and take():
            method, path, body, headers = workload.request(index, seq)
            seq += 1
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=timeout)
                errors[index] += 1
                with lock:
                    statuses["exception"] = statuses.get("exception", 0) + 1
                    if not first_error:
                        first_error.append(repr(error))
                continue
            elapsed = time.perf_counter() - t0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
            if status in expected:
                results[index].append(elapsed)
                timing = response.headers.get("Server-Timing", "")
                if timing.startswith("app;dur="):
                    server[index].append(float(timing.removeprefix("app;dur=")) / 1000)
            elif status not in counted:
                errors[index] += 1
                with lock:
                    if not first_error:
                        first_error.append(f"{method} {path} -> {status}: {data[:200]!r}")
            hook = getattr(workload, "response", None)
            if hook:
                hook(index, status, response.headers, data)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    begin = time.perf_counter()
    deadline_box["t"] = begin + seconds
    start_barrier.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - begin
    latencies = [value for per_worker in results for value in per_worker]
    ok = len(latencies)
    return {
        "concurrency": concurrency,
        "seconds": round(wall, 3),
        "requests": ok,
        "errors": sum(errors),
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))},
        "rps": round(ok / wall, 1) if wall else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 2) if latencies else None,
        "server_p95_ms": _ms(percentile([v for per_worker in server for v in per_worker], 0.95)),
        "first_error": first_error[0] if first_error else None,
    }


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000, 2)


class Fixed:
    """The same request every time (optionally with a unique ``?r=`` to defeat the page cache)."""

    def __init__(self, path, headers=None, *, unique=False, method="GET", body=None):
        self.path, self.headers, self.unique, self.method, self.body = path, dict(headers or {}), unique, method, body
        self.counter = 0
        self.lock = threading.Lock()

    def request(self, worker, seq):
        path = self.path
        if self.unique:
            with self.lock:
                self.counter += 1
                n = self.counter
            path += ("&" if "?" in path else "?") + f"r={time.time_ns()}-{worker}-{n}"
        return self.method, path, self.body, self.headers
