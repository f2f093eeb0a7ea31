"""Caucus rules and use cases. No Discord import: ids, strings and frozen dataclasses only."""
