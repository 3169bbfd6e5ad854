"""Glossa's shipped benchmark: ``python -m tests.bench.run`` (see tests/bench/README.md).

Only ``test_bench_smoke.py`` here is part of the normal test run; the other modules hold no tests.
"""
