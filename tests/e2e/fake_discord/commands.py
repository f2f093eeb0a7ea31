"""Turn a test's ``slash(...)`` call into the ``data`` Discord would send, checking the schema."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ClientWouldReject, SchemaError
from .models import FakeChannel, FakeMember, FakeRole, FakeUser

SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
ATTACHMENT = 11

TYPE_NAMES = {
    STRING: "string",
    INTEGER: "integer",
    BOOLEAN: "boolean",
    USER: "user",
    CHANNEL: "channel",
    ROLE: "role",
    MENTIONABLE: "mentionable",
    NUMBER: "number",
    ATTACHMENT: "attachment",
}


@dataclass
class Resolved:
    """The ``resolved`` part of interaction data, filled as options are converted."""

    users: dict[str, Any] = field(default_factory=dict)
    members: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, Any] = field(default_factory=dict)
    channels: dict[str, Any] = field(default_factory=dict)
    attachments: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v}


class Resolver:
    """Callbacks into the fake to look up entities and store attachments."""

    def __init__(
        self,
        *,
        user: Callable[[Any], tuple[FakeUser, FakeMember | None]],
        role: Callable[[Any], FakeRole],
        channel: Callable[[Any], FakeChannel],
        member_permissions: Callable[[FakeMember], int],
        channel_permissions: Callable[[FakeChannel], int],
        attachment: Callable[[str, bytes, str | None], dict[str, Any]],
    ) -> None:
        self.user = user
        self.role = role
        self.channel = channel
        self.member_permissions = member_permissions
        self.channel_permissions = channel_permissions
        self.attachment = attachment


def find_command(
    commands: list[dict[str, Any]], path: str
) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """Find ``"group sub leaf"``; return (top-level command, sub-path names, leaf with options)."""
    words = path.split()
    if not words:
        raise SchemaError("empty command path")
    top = next((c for c in commands if c["name"] == words[0] and c.get("type", 1) == 1), None)
    if top is None:
        known = sorted(c["name"] for c in commands if c.get("type", 1) == 1)
        raise SchemaError(f"no slash command {words[0]!r} registered (known: {known})")
    node = top
    for word in words[1:]:
        options = node.get("options", []) or []
        child = next(
            (o for o in options if o["name"] == word and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)), None
        )
        if child is None:
            subs = [o["name"] for o in options if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
            raise SchemaError(f"{node['name']!r} has no subcommand {word!r} (has: {subs})")
        if node is not top and node["type"] == SUB_COMMAND:
            raise SchemaError(f"{node['name']!r} is a subcommand and cannot have children")
        node = child
    if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in node.get("options", []) or []):
        raise SchemaError(f"{path!r} is a group: name a subcommand")
    return top, words[1:], node


def _lookup_kwarg(values: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    if name in values:
        return True, values[name]
    alt = name.replace("-", "_")
    if alt in values:
        return True, values[alt]
    return False, None


def build_options(
    leaf: dict[str, Any],
    values: Mapping[str, Any],
    resolver: Resolver,
    resolved: Resolved,
    *,
    client_checks: bool,
    focused: str | None = None,
) -> list[dict[str, Any]]:
    """Convert test values into interaction options for ``leaf``'s parameters."""
    schema = {o["name"]: o for o in leaf.get("options", []) or []}
    known = set(schema) | {n.replace("-", "_") for n in schema}
    unknown = [k for k in values if k not in known]
    if unknown:
        raise SchemaError(f"{leaf['name']!r} has no option(s) {unknown} (has: {sorted(schema)})")
    if focused is not None and focused not in schema and focused.replace("_", "-") not in schema:
        raise SchemaError(f"{leaf['name']!r} has no option {focused!r} to focus")
    out: list[dict[str, Any]] = []
    for name, opt in schema.items():
        present, value = _lookup_kwarg(values, name)
        is_focused = focused is not None and name in (focused, focused.replace("_", "-"))
        if not present:
            if opt.get("required") and focused is None:
                raise SchemaError(f"{leaf['name']!r}: required option {name!r} missing")
            continue
        if is_focused:
            if not opt.get("autocomplete"):
                raise SchemaError(f"option {name!r} has no autocomplete")
            out.append({"name": name, "type": opt["type"], "value": str(value), "focused": True})
            continue
        out.append(
            {
                "name": name,
                "type": opt["type"],
                "value": convert(opt, value, resolver, resolved, client_checks),
            }
        )
    return out


def convert(
    opt: dict[str, Any], value: Any, resolver: Resolver, resolved: Resolved, client_checks: bool
) -> Any:
    kind = opt["type"]
    name = opt["name"]
    tname = TYPE_NAMES.get(kind, str(kind))
    if kind == STRING:
        if not isinstance(value, str):
            raise SchemaError(f"option {name!r} is a string, got {value!r}")
        if client_checks:
            if "min_length" in opt and len(value) < opt["min_length"]:
                raise ClientWouldReject(f"{name!r} shorter than min_length {opt['min_length']}")
            if "max_length" in opt and len(value) > opt["max_length"]:
                raise ClientWouldReject(f"{name!r} longer than max_length {opt['max_length']}")
            _check_choices(opt, value)
        return value
    if kind in (INTEGER, NUMBER):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SchemaError(f"option {name!r} is an {tname}, got {value!r}")
        if client_checks:
            if kind == INTEGER and not float(value).is_integer():
                raise ClientWouldReject(f"{name!r} must be a whole number, got {value!r}")
            if opt.get("min_value") is not None and value < opt["min_value"]:
                raise ClientWouldReject(f"{name!r} below min_value {opt['min_value']}")
            if opt.get("max_value") is not None and value > opt["max_value"]:
                raise ClientWouldReject(f"{name!r} above max_value {opt['max_value']}")
            _check_choices(opt, value)
            if kind == INTEGER:
                value = int(value)
        return value
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            raise SchemaError(f"option {name!r} is a boolean, got {value!r}")
        return value
    if kind == USER or (kind == MENTIONABLE and not isinstance(value, FakeRole)):
        if isinstance(value, FakeRole | FakeChannel | str | float | tuple):
            raise SchemaError(f"option {name!r} is a {tname}, got {value!r}")
        try:
            user, member = resolver.user(value)
        except KeyError:
            if kind == MENTIONABLE:
                return _role(opt, value, resolver, resolved)
            raise SchemaError(f"option {name!r}: unknown user {value!r}") from None
        resolved.users[str(user.id)] = user.to_dict()
        if member is not None:
            resolved.members[str(user.id)] = member.to_dict(
                with_user=False, permissions=resolver.member_permissions(member)
            )
        return str(user.id)
    if kind in (ROLE, MENTIONABLE):
        return _role(opt, value, resolver, resolved)
    if kind == CHANNEL:
        if isinstance(value, FakeRole | FakeUser | FakeMember | str | float):
            raise SchemaError(f"option {name!r} is a channel, got {value!r}")
        try:
            channel = resolver.channel(value)
        except KeyError:
            raise SchemaError(f"option {name!r}: unknown channel {value!r}") from None
        types = opt.get("channel_types")
        if client_checks and types and channel.type not in types:
            raise ClientWouldReject(f"{name!r} only accepts channel types {types}, got {channel.type}")
        data = {
            "id": str(channel.id),
            "name": channel.name,
            "type": channel.type,
            "permissions": str(resolver.channel_permissions(channel)),
            "parent_id": str(channel.parent_id) if channel.parent_id else None,
        }
        resolved.channels[str(channel.id)] = data
        return str(channel.id)
    if kind == ATTACHMENT:
        if not (isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[1], bytes)):
            raise SchemaError(f"option {name!r} is an attachment: give (filename, bytes[, content_type])")
        content_type = value[2] if len(value) == 3 else None
        data = resolver.attachment(value[0], value[1], content_type)
        resolved.attachments[data["id"]] = data
        return data["id"]
    raise SchemaError(f"option {name!r} has unsupported type {kind}")


def _role(opt: dict[str, Any], value: Any, resolver: Resolver, resolved: Resolved) -> str:
    if isinstance(value, FakeUser | FakeMember | FakeChannel | str | float):
        raise SchemaError(f"option {opt['name']!r} is a role, got {value!r}")
    try:
        role = resolver.role(value)
    except KeyError:
        raise SchemaError(f"option {opt['name']!r}: unknown role {value!r}") from None
    resolved.roles[str(role.id)] = role.to_dict()
    return str(role.id)


def _check_choices(opt: dict[str, Any], value: Any) -> None:
    choices = opt.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ClientWouldReject(f"{opt['name']!r}: {value!r} is not one of the choices")


def nest_options(
    sub_path: list[str], leaf_options: list[dict[str, Any]], top: dict[str, Any]
) -> list[dict[str, Any]]:
    """Wrap the leaf's options in sub_command / sub_command_group layers as Discord does."""
    if not sub_path:
        return leaf_options
    # walk the schema again to learn each layer's type
    layers: list[tuple[str, int]] = []
    node = top
    for word in sub_path:
        node = next(o for o in node.get("options", []) if o["name"] == word)
        layers.append((word, node["type"]))
    options = leaf_options
    for name, kind in reversed(layers):
        options = [{"name": name, "type": kind, "options": options}]
    return options
