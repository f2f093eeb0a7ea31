"""Caucus storage: one SQLite file, numbered migrations, queries per feature. No Discord import."""
