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


def validate_message(payload: dict[str, Any], *, has_files: bool, creating: bool) -> None:
    """Raise ApiError the way Discord answers an invalid message create/edit."""
    content = payload.get("content")
    if content is not None and len(str(content)) > 2000:
        raise _too_long("content", 2000)
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        raise _too_long("embeds", 10)
    for i, embed in enumerate(embeds):
        total = 0
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
        total += len(footer) + len((embed.get("author") or {}).get("name") or "")
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
        if comp.get("type") == 3 and len(comp.get("options") or []) > 25:
            raise _too_long("components.options", 25)
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
