"""The app's settings, unchanged but for the URLconf of the floor view (see floor.py)."""

from treaty_app.settings import *  # noqa: F401,F403

ROOT_URLCONF = "tests.bench.floor"
