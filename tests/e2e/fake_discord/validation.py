"""The subset of Discord's server-side validation that catches real bot bugs."""

from __future__ import annotations

import re
from typing import Any

from .errors import ApiError, form_error, invalid_form_body
from .models import walk_components

_NAME = re.compile(r"^[-_\w]{1,32}$")

EMBED_LIMITS = {"title": 256, "description": 4096}


def _too_long(path: str, limit: int) -> ApiError:
    return invalid_form_body(form_error(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."))


MAX_MENTIONS = 100  # ids in allowed_mentions.users / .roles
MAX_NONCE = 25
SELECT_MAX = 25  # options of a select, and its max_values


def validate_message(payload: dict[str, Any], *, has_files: bool, creating: bool) -> None:
    """Raise ApiError the way Discord answers an invalid message create/edit."""
    content = payload.get("content")
    if content is not None and len(str(content)) > 2000:
        raise _too_long("content", 2000)
    nonce = payload.get("nonce")
    if nonce is not None and len(str(nonce)) > MAX_NONCE:
        raise _too_long("nonce", MAX_NONCE)
    _validate_allowed_mentions(payload.get("allowed_mentions"))
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        raise _too_long("embeds", 10)
    total = 0  # Discord counts the 6,000 characters across every embed of the message
    for i, embed in enumerate(embeds):
        for key, limit in EMBED_LIMITS.items():
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                raise _too_long(f"embeds.{i}.{key}", limit)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            raise _too_long(f"embeds.{i}.fields", 25)
        for j, fld in enumerate(fields):
            if not fld.get("name") or not fld.get("value"):
                raise invalid_form_body(
                    form_error(f"embeds.{i}.fields.{j}.value", "BASE_TYPE_REQUIRED", "This field is required")
                )
            if len(fld["name"]) > 256:
                raise _too_long(f"embeds.{i}.fields.{j}.name", 256)
            if len(fld["value"]) > 1024:
                raise _too_long(f"embeds.{i}.fields.{j}.value", 1024)
            total += len(fld["name"]) + len(fld["value"])
        footer = (embed.get("footer") or {}).get("text") or ""
        if len(footer) > 2048:
            raise _too_long(f"embeds.{i}.footer.text", 2048)
        author = (embed.get("author") or {}).get("name") or ""
        if len(author) > 256:
            raise _too_long(f"embeds.{i}.author.name", 256)
        total += len(footer) + len(author)
    if total > 6000:
        raise invalid_form_body(
            form_error("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
        )
    components = payload.get("components") or []
    is_v2 = bool(int(payload.get("flags") or 0) & (1 << 15))
    if not is_v2 and len(components) > 5:
        raise _too_long("components", 5)
    for comp in walk_components(components):
        custom_id = comp.get("custom_id")
        if custom_id is not None and len(custom_id) > 100:
            raise _too_long("components.custom_id", 100)
        if comp.get("type") == 2 and comp.get("label") and len(comp["label"]) > 80:
            raise _too_long("components.label", 80)
        if comp.get("type") == 1 and len(comp.get("components") or []) > 5:
            raise _too_long("components.components", 5)
        if comp.get("type") in (3, 5, 6, 7, 8):
            _validate_select(comp)
    if creating:
        has_body = (
            bool(content)
            or embeds
            or components
            or has_files
            or payload.get("sticker_ids")
            or payload.get("poll")
        )
        if not has_body:
            raise ApiError(400, 50006, "Cannot send an empty message")


def _validate_allowed_mentions(allowed: Any) -> None:
    """At most 100 user ids and 100 role ids; ``parse`` and an explicit list of the same kind exclude each other."""
    if not isinstance(allowed, dict):
        return
    parse = allowed.get("parse") or []
    for kind in ("users", "roles"):
        ids = allowed.get(kind) or []
        if len(ids) > MAX_MENTIONS:
            raise _too_long(f"allowed_mentions.{kind}", MAX_MENTIONS)
        if ids and kind in parse:
            raise invalid_form_body(
                form_error(
                    "allowed_mentions",
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                )
            )


def _validate_select(comp: dict[str, Any]) -> None:
    """A select menu: 1 to 25 options (string selects), 0 ≤ min_values ≤ max_values ≤ 25 (and ≤ the options)."""
    options = comp.get("options") or []
    string_select = comp.get("type") == 3
    if string_select and not 1 <= len(options) <= SELECT_MAX:
        raise invalid_form_body(
            form_error("components.options", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
        )
    for option in options:
        for key in ("label", "value", "description"):
            if len(str(option.get(key) or "")) > 100:
                raise _too_long(f"components.options.{key}", 100)
        if not option.get("label") or not option.get("value"):
            raise invalid_form_body(
                form_error("components.options.label", "BASE_TYPE_REQUIRED", "This field is required")
            )
    if len(str(comp.get("placeholder") or "")) > 150:
        raise _too_long("components.placeholder", 150)
    low, high = int(comp.get("min_values", 1)), int(comp.get("max_values", 1))
    if not 0 <= low <= SELECT_MAX:
        raise invalid_form_body(
            form_error(
                "components.min_values", "NUMBER_TYPE_MAX", "int value should be less than or equal to 25."
            )
        )
    if not 1 <= high <= SELECT_MAX or (string_select and high > len(options)):
        raise invalid_form_body(
            form_error("components.max_values", "SELECT_COMPONENT_MAX_VALUES_TOO_HIGH", "max_values too high")
        )
    if low > high:
        raise invalid_form_body(
            form_error(
                "components.min_values",
                "SELECT_COMPONENT_MIN_VALUES_TOO_HIGH",
                "min_values exceeds max_values",
            )
        )


def validate_choices(choices: Any) -> None:
    """An autocomplete answer: at most 25 choices, each with a name of 1 to 100 characters and a value."""
    if not isinstance(choices, list):
        raise invalid_form_body(form_error("data.choices", "BASE_TYPE_REQUIRED", "This field is required"))
    if len(choices) > 25:
        raise invalid_form_body(
            form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        )
    for n, choice in enumerate(choices):
        name = str(choice.get("name") or "")
        if not 1 <= len(name) <= 100:
            raise invalid_form_body(
                form_error(
                    f"data.choices.{n}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            )
        value = choice.get("value")
        if value is None or (isinstance(value, str) and len(value) > 100):
            raise invalid_form_body(
                form_error(
                    f"data.choices.{n}.value", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            )


def validate_commands(commands: list[dict[str, Any]]) -> None:
    """Check a bulk overwrite body like Discord does (names, descriptions, option order)."""
    seen: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        kind = cmd.get("type", 1)
        key = (cmd.get("name", ""), kind)
        if key in seen:
            raise invalid_form_body(
                form_error(f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "duplicate name")
            )
        seen.add(key)
        if kind == 1:
            _validate_node(cmd, str(i))


def _validate_node(node: dict[str, Any], path: str) -> None:
    name = node.get("name", "")
    if not _NAME.match(name) or name != name.lower():
        raise invalid_form_body(
            form_error(f"{path}.name", "APPLICATION_COMMAND_INVALID_NAME", f"Invalid name {name!r}")
        )
    desc = node.get("description", "")
    if not 1 <= len(desc) <= 100:
        raise invalid_form_body(
            form_error(f"{path}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        )
    options = node.get("options") or []
    if len(options) > 25:
        raise _too_long(f"{path}.options", 25)
    optional_seen = False
    for j, opt in enumerate(options):
        if opt.get("type") in (1, 2):
            _validate_node(opt, f"{path}.options.{j}")
            continue
        if not opt.get("required"):
            optional_seen = True
        elif optional_seen:
            raise invalid_form_body(
                form_error(
                    f"{path}.options",
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
            )
        _validate_node(
            {"name": opt.get("name", ""), "description": opt.get("description", "")}, f"{path}.options.{j}"
        )
        if len(opt.get("choices") or []) > 25:
            raise _too_long(f"{path}.options.{j}.choices", 25)
