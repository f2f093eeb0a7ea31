"""Caucus runtime: client, config, scheduler, command line."""

__version__ = "0.1.0"
