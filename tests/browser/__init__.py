"""Tests that drive a real Chromium through Playwright (see test_workspace.py)."""
