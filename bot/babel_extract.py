"""The Babel extractor for Caucus sources: every ``t()``/``tn()`` sentence, and the strings of the slash
command tree (command, group and option descriptions, choice names), which discord.py hands to our
translator (cogs/languages.py) but which are written as plain keyword arguments in the decorators.

Configured in pyproject.toml ([tool.babel.extractors] and [[tool.babel.mappings]]); run with
``pybabel extract -F pyproject.toml -k t -k tn:1,2 -o domain/locale/caucus.pot bot cogs domain``.
Strings of the command tree carry the extracted comment ``discord: at most 100 characters`` so the
catalogue checks can hold each translation to Discord's limit. Sentences written inside an f-string
(``f"## {t('Sessions').render(lang)}"``) are found here too: on Python 3.11 Babel's own extractor sees an
f-string as one token and never looks inside it.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from babel.messages.extract import extract_python

DISCORD_NOTE = "discord: at most 100 characters"
_DESCRIPTION_KEYWORDS = {"description", "group_description"}


def extract(
    fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str], options: dict[str, Any]
) -> Iterator[Any]:
    """Babel's own Python extraction, then the command tree's strings of the same file (the tuples Babel's
    extractors yield: line, function, message, comments)."""
    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    fileobj.seek(0)
    try:
        tree = ast.parse(fileobj.read().decode(options.get("encoding", "utf-8")))
    except SyntaxError:
        return
    for node in ast.walk(tree):
        for lineno, text in _command_strings(node):
            yield lineno, None, text, [DISCORD_NOTE]
        if isinstance(node, ast.JoinedStr):
            yield from _inside_fstring(node, keywords)


def _inside_fstring(node: ast.JoinedStr, keywords: Mapping[str, Any]) -> Iterator[Any]:
    """The ``t()``/``tn()`` calls inside an f-string, as Babel's Python extractor yields calls (a message
    is one string, or a tuple of the positional arguments with None for those that are not strings)."""
    for sub in ast.walk(node):
        if not (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id in keywords):
            continue
        args = [
            a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in sub.args
        ]
        if args and args[0] is not None:
            yield sub.lineno, sub.func.id, args[0] if len(args) == 1 else tuple(args), []


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value
    return None


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _command_strings(node: ast.AST) -> Iterator[tuple[int, str]]:
    if isinstance(node, ast.ClassDef):  # class X(commands.GroupCog, group_name=..., group_description="...")
        for keyword in node.keywords:
            if keyword.arg in _DESCRIPTION_KEYWORDS and (text := _literal(keyword.value)):
                yield keyword.value.lineno, text
        return
    if not isinstance(node, ast.Call):
        return
    called = _called(node)
    if called in ("command", "Group", "GroupCog"):
        for keyword in node.keywords:
            if keyword.arg in _DESCRIPTION_KEYWORDS and (text := _literal(keyword.value)):
                yield keyword.value.lineno, text
    elif called == "describe":  # @app_commands.describe(option="what it is", ...)
        for keyword in node.keywords:
            if text := _literal(keyword.value):
                yield keyword.value.lineno, text
    elif called == "Choice":  # app_commands.Choice(name="shown", value=...)
        name = next((k.value for k in node.keywords if k.arg == "name"), node.args[0] if node.args else None)
        if text := _literal(name):
            yield name.lineno if name is not None else node.lineno, text
