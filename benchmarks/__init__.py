"""Caucus benchmarks: figures (not pass/fail) measured through the fake Discord server on 127.0.0.1.

Run with ``python -m benchmarks`` (``--quick`` for smaller sizes, ``--json`` for one JSON object).
"""
