"""Layering and custom_id rules from STYLE.md, checked on the code itself."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import discord

import cogs

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_domain_and_storage_do_not_import_discord_or_upper_layers() -> None:
    checked = 0
    for layer, banned in (("domain", {"discord", "cogs", "bot"}), ("storage", {"discord", "cogs", "bot"})):
        for path in (ROOT / layer).rglob("*.py"):
            bad = _imports(path) & banned
            assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
            checked += 1
    assert checked >= 6


def test_cogs_do_not_import_storage() -> None:
    """A cog is a thin adapter: it calls the domain, never SQL (imports inside functions included)."""
    checked = 0
    for path in (ROOT / "cogs").rglob("*.py"):
        assert "storage" not in _imports(path), f"{path.relative_to(ROOT)} imports storage"
        checked += 1
    assert checked >= 10


def test_the_layer_bans_are_configured_for_ruff() -> None:
    """The same rules in pyproject.toml, so `ruff check` names a wrong import where it is written."""
    import tomllib

    lint = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    assert {"discord", "cogs", "bot"} <= set(lint["flake8-tidy-imports"]["banned-api"])
    assert "storage" in lint["flake8-tidy-imports"]["banned-module-level-imports"]
    ignores = lint["per-file-ignores"]
    for layer in ("domain/**", "storage/**"):
        assert "TID251" not in ignores.get(layer, []), f"{layer} may import discord"
    assert "TID253" not in ignores.get("cogs/**", []), "cogs/ may import storage"


def _dynamic_items() -> list[type]:
    for module in pkgutil.walk_packages(cogs.__path__, "cogs."):
        importlib.import_module(module.name)
    found: list[type] = []
    stack = list(discord.ui.DynamicItem.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return [c for c in found if c.__module__.startswith("cogs.")]


def test_custom_id_templates_have_unique_anchored_prefixes() -> None:
    items = _dynamic_items()
    assert items, "no DynamicItem found in cogs/"
    literals: dict[type, str] = {}
    for cls in items:
        pattern: str = cls.__discord_ui_compiled_template__.pattern  # type: ignore[attr-defined]
        literal = pattern.split("(", 1)[0]
        assert re.fullmatch(r"[a-z]+:([a-z0-9_-]+:)*", literal), (
            f"{cls.__name__}: template must start with 'feature:'"
        )
        assert ":v" in pattern, f"{cls.__name__}: custom_ids carry a version (feature:action:vN:ids)"
        # ids are read from ASCII digits only (\d also matches "١" and "²"), short enough for SQLite's 64 bits
        assert "\\d" not in pattern, f"{cls.__name__}: use [0-9] for ids, not \\d"
        for width in re.findall(r"\[0-9\]\{1,(\d+)\}", pattern):
            assert int(width) <= 20, f"{cls.__name__}: an id of {width} digits overflows SQLite"
        literals[cls] = literal
    # discord.py fires every template that matches: no literal prefix may be a prefix of another's
    for cls, literal in literals.items():
        for other, other_literal in literals.items():
            if other is not cls:
                assert not other_literal.startswith(literal), (cls.__name__, other.__name__)
