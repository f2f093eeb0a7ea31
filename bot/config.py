"""Reading config.toml into frozen dataclasses, reporting every problem at once by its key."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from domain.errors import Invalid
from domain.i18n import LANGUAGES
from domain.text import is_ascii_number
from domain.timeparse import REMINDER_OFFSETS_MAX, parse_offset, parse_zone


@dataclass(frozen=True)
class DiscordConfig:
    token: str = ""
    guild_ids: tuple[int, ...] = ()
    api_base_url: str = ""
    gateway_url: str = ""
    guild_ready_timeout: float = 2.0
    #: None: one gateway connection, as a bot in fewer than 2,500 servers has. Otherwise Discord's shard count.
    shard_count: int | None = None
    #: The shards this process runs (all of them when shard_count is set and this is empty).
    shard_ids: tuple[int, ...] = ()

    @property
    def shards(self) -> tuple[int, ...]:
        """The shard ids this process runs: (0,) without sharding."""
        if self.shard_count is None:
            return (0,)
        return self.shard_ids or tuple(range(self.shard_count))


@dataclass(frozen=True)
class StorageConfig:
    path: str = "caucus.db"  # the SQLite file; with a url, where the key files live (<path>.ballot-key …)
    purge_after_days: int = 30
    url: str = ""  # postgresql://…: the PostgreSQL database instead of the SQLite file


@dataclass(frozen=True)
class ScheduleConfig:
    """Time settings every feature shares: the zone times are typed in, reminder offsets."""

    timezone: str = "UTC"
    reminder_offsets: tuple[timedelta, ...] = (timedelta(days=1), timedelta(hours=1), timedelta(minutes=10))


@dataclass(frozen=True)
class AgendaConfig:
    default_channel: int = 0
    discord_events: bool = False
    digest_time: str = ""
    digest_channel: int = 0


@dataclass(frozen=True)
class RecordConfig:
    """The decision record: where checkpoints are posted, and when the daily one is signed."""

    channel: int = 0
    daily_time: str = "23:55"


@dataclass(frozen=True)
class I18nConfig:
    """The server's language: public posts, and replies to members whose Discord language Caucus lacks."""

    language: str = "en"


@dataclass(frozen=True)
class PermissionsConfig:
    coordinator_roles: tuple[str, ...] = ("Coordinator",)


@dataclass(frozen=True)
class GroupsConfig:
    manage_roles: bool = False


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"


@dataclass(frozen=True)
class Config:
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    permissions: PermissionsConfig = field(default_factory=PermissionsConfig)
    groups: GroupsConfig = field(default_factory=GroupsConfig)
    agenda: AgendaConfig = field(default_factory=AgendaConfig)
    record: RecordConfig = field(default_factory=RecordConfig)
    i18n: I18nConfig = field(default_factory=I18nConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    source: str = "defaults"
    #: Things that work but should change (deprecated keys), each naming its key.
    warnings: tuple[str, ...] = ()


SNOWFLAKE_END = 2**63  # Discord ids are 64-bit; SQLite holds up to 2**63 - 1


class ConfigError(Exception):
    """One or more problems in the configuration, each naming its key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


_KNOWN: dict[str, set[str]] = {
    "discord": {
        "token",
        "guild_ids",
        "api_base_url",
        "gateway_url",
        "guild_ready_timeout",
        "shard_count",
        "shard_ids",
    },
    "storage": {"path", "purge_after_days", "url"},
    "schedule": {"timezone", "reminder_offsets", "digest_time", "digest_channel"},
    "agenda": {"default_channel", "discord_events", "digest_time", "digest_channel"},
    "record": {"channel", "daily_time"},
    "i18n": {"language"},
    "permissions": {"coordinator_roles"},
    "groups": {"manage_roles"},
    "logging": {"level"},
}
_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


class _Reader:
    """Collects problems instead of stopping at the first."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            self.problems.append(f"[{name}] must be a table, e.g. a line [{name}] followed by its keys")
            return {}
        for key in value:
            if key not in _KNOWN[name]:
                self.problems.append(
                    f"[{name}] {key}: unknown key (known: {', '.join(sorted(_KNOWN[name]))})"
                )
        return value

    def string(self, sec: dict[str, Any], section: str, key: str, default: str) -> str:
        value = sec.get(key, default)
        if not isinstance(value, str):
            self.problems.append(f"[{section}] {key} must be a string in quotes, got {value!r}")
            return default
        return value

    def channel_id(self, sec: dict[str, Any], section: str, key: str) -> int:
        value = sec.get(key, 0)
        if isinstance(value, str) and is_ascii_number(value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < SNOWFLAKE_END:
            self.problems.append(
                f"[{section}] {key} must be a channel id (a number; 0 for none), got {value!r}"
            )
            return 0
        return value

    def string_list(self, sec: dict[str, Any], section: str, key: str, default: tuple[str, ...]) -> list[str]:
        value = sec.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(
                f'[{section}] {key} must be a list of strings, e.g. ["a", "b"], got {value!r}'
            )
            return list(default)
        return value


def _check_url(reader: _Reader, key: str, value: str, schemes: tuple[str, ...]) -> None:
    if not value:
        return
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        reader.problems.append(
            f"[discord] {key} must be empty or a {' or '.join(s + '://' for s in schemes)} URL, got {value!r}"
        )


#: Keys that moved: (old section, key) -> new section. The old place still works, with a warning.
_MOVED = {("schedule", "digest_time"): "agenda", ("schedule", "digest_channel"): "agenda"}


def _moved(reader: _Reader, sections: dict[str, dict[str, Any]], section: str, key: str) -> dict[str, Any]:
    """The section holding ``key`` for ``section``: itself, or the deprecated old place (with a warning)."""
    for (old, old_key), new in _MOVED.items():
        if new == section and old_key == key and key in sections[old]:
            if key in sections[section]:
                reader.problems.append(f"[{old}] {key} moved to [{section}] {key}: keep only the new one")
            else:
                reader.warnings.append(f"[{old}] {key} is deprecated: move it to [{section}] {key}")
                return sections[old]
    return sections[section]


def _guild_ids(reader: _Reader, raw: Any) -> list[int]:
    if not isinstance(raw, list):
        reader.problems.append(
            f"[discord] guild_ids must be a list of server ids, e.g. [123456789012345678], got {raw!r}"
        )
        return []
    ids: list[int] = []
    for item in raw:
        text = str(item)
        valid = (
            not isinstance(item, bool) and isinstance(item, int | str) and text.isascii() and text.isdigit()
        )
        if not valid or not 0 < int(item) < SNOWFLAKE_END:
            reader.problems.append(f"[discord] guild_ids: {item!r} is not a server id (a positive number)")
        else:
            ids.append(int(item))
    return ids


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shards(reader: _Reader, d: dict[str, Any]) -> tuple[int | None, tuple[int, ...]]:
    """[discord] shard_count and shard_ids: Discord's shards, and those this process runs."""
    count = d.get("shard_count")
    if _is_whole(count) and count == 0:
        count = None  # 0, as PRODUCT.md writes it: one connection, every shard in this process
    count_ok = count is None or (_is_whole(count) and count >= 1)
    if not count_ok:
        reader.problems.append(
            f"[discord] shard_count must be a whole number of shards, 1 or more (0 or left out: one "
            f"connection), got {count!r}"
        )
    raw = d.get("shard_ids", [])
    if not isinstance(raw, list) or not all(_is_whole(i) for i in raw):
        reader.problems.append(
            f"[discord] shard_ids must be a list of shard numbers, e.g. [0, 1, 2], got {raw!r}"
        )
        raw = []
    if not count_ok:
        return None, ()
    if count is None:
        if raw:
            reader.problems.append("[discord] shard_ids needs shard_count: the shards are numbered out of it")
        return None, ()
    ids: list[int] = []
    for shard_id in raw:
        if not 0 <= shard_id < count:
            reader.problems.append(
                f"[discord] shard_ids: {shard_id} is not a shard of {count} (from 0 to {count - 1})"
            )
        elif shard_id in ids:
            reader.problems.append(f"[discord] shard_ids: {shard_id} is listed twice")
        else:
            ids.append(shard_id)
    return count, tuple(sorted(ids))


def _check_processes(reader: _Reader, discord: DiscordConfig, storage: StorageConfig) -> None:
    """Only some shards in this process means other processes run the rest: they need one PostgreSQL."""
    count, ids = discord.shard_count, discord.shard_ids
    if any(p.startswith("[discord] shard") for p in reader.problems):
        return  # the shards themselves are wrong: that is said already
    if count and ids and set(ids) != set(range(count)) and not storage.url:
        # several processes cannot share one SQLite file: each would send the same scheduled posts
        reader.problems.append(
            f"[discord] shard_ids runs only some of the {count} shards: the other processes need the same "
            'database, so set [storage] url = "postgresql://…" (several processes cannot share one SQLite '
            "file), or list every shard, or leave shard_ids out"
        )


def _discord(reader: _Reader, d: dict[str, Any], env: dict[str, str]) -> DiscordConfig:
    before = len(reader.problems)
    file_token = reader.string(d, "discord", "token", "").strip()
    token = env.get("DISCORD_TOKEN", "").strip() or file_token
    if len(reader.problems) > before:
        pass  # the file's token has the wrong type: already reported
    elif not token:
        reader.problems.append(
            "[discord] token is missing: set DISCORD_TOKEN or token in the config (Developer Portal > Bot > Token)"
        )
    elif any(ch.isspace() for ch in token):
        reader.problems.append("[discord] token must not contain spaces or line breaks")

    guild_ids = _guild_ids(reader, d.get("guild_ids", []))

    api_base_url = reader.string(d, "discord", "api_base_url", "").strip().rstrip("/")
    _check_url(reader, "api_base_url", api_base_url, ("http", "https"))
    gateway_url = reader.string(d, "discord", "gateway_url", "").strip()
    _check_url(reader, "gateway_url", gateway_url, ("ws", "wss"))

    ready_timeout = d.get("guild_ready_timeout", 2.0)
    if (
        isinstance(ready_timeout, bool)
        or not isinstance(ready_timeout, int | float)
        or not 0 <= ready_timeout <= 60
    ):
        reader.problems.append(
            f"[discord] guild_ready_timeout must be a number of seconds from 0 to 60, got {ready_timeout!r}"
        )
        ready_timeout = 2.0
    shard_count, shard_ids = _shards(reader, d)
    return DiscordConfig(
        token=token,
        guild_ids=tuple(guild_ids),
        api_base_url=api_base_url,
        gateway_url=gateway_url,
        guild_ready_timeout=float(ready_timeout),
        shard_count=shard_count,
        shard_ids=shard_ids,
    )


def _storage(reader: _Reader, s: dict[str, Any]) -> StorageConfig:
    path = reader.string(s, "storage", "path", "caucus.db").strip()
    if not path:
        reader.problems.append('[storage] path must name a file, e.g. "caucus.db"')
    purge_days = s.get("purge_after_days", 30)
    if isinstance(purge_days, bool) or not isinstance(purge_days, int) or not 1 <= purge_days <= 3650:
        reader.problems.append(
            f"[storage] purge_after_days must be a whole number of days from 1 to 3650, got {purge_days!r}"
        )
        purge_days = 30
    url = reader.string(s, "storage", "url", "").strip()
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("postgresql", "postgres") or not (parsed.hostname or parsed.path.strip("/")):
            reader.problems.append(
                "[storage] url must be a PostgreSQL address such as "
                '"postgresql://caucus@db.example.org/caucus", or empty for the SQLite file at [storage] path'
            )
    return StorageConfig(path=path, purge_after_days=purge_days, url=url)


def _schedule(reader: _Reader, sch: dict[str, Any]) -> ScheduleConfig:
    timezone = reader.string(sch, "schedule", "timezone", "UTC").strip()
    try:
        parse_zone(timezone)
    except Invalid:
        reader.problems.append(
            f'[schedule] timezone {timezone!r} is not an IANA time zone, e.g. "Europe/Paris" or "UTC"'
        )
    offsets: list[timedelta] = []
    texts = reader.string_list(sch, "schedule", "reminder_offsets", ("1d", "1h", "10m"))
    for text in texts:
        try:
            delta = parse_offset(text)  # the rule of /agenda add reminders: too
        except Invalid as exc:
            reader.problems.append(f"[schedule] reminder_offsets: {text!r}: {exc}")
            continue
        if delta in offsets:
            reader.problems.append(f"[schedule] reminder_offsets: {text!r} is listed twice")
            continue
        offsets.append(delta)
    if len(texts) > REMINDER_OFFSETS_MAX:
        reader.problems.append(
            f"[schedule] reminder_offsets: at most {REMINDER_OFFSETS_MAX} reminders, got {len(texts)}"
        )
    return ScheduleConfig(timezone=timezone, reminder_offsets=tuple(sorted(set(offsets), reverse=True)))


def _agenda(reader: _Reader, sections: dict[str, dict[str, Any]]) -> AgendaConfig:
    ag = sections["agenda"]
    default_channel = reader.channel_id(ag, "agenda", "default_channel")
    discord_events = ag.get("discord_events", False)
    if not isinstance(discord_events, bool):
        reader.problems.append(f"[agenda] discord_events must be true or false, got {discord_events!r}")
        discord_events = False
    time_section = _moved(reader, sections, "agenda", "digest_time")
    time_where = "schedule" if time_section is not ag else "agenda"
    digest_time = reader.string(time_section, time_where, "digest_time", "").strip()
    if digest_time and not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?", digest_time, re.ASCII):
        reader.problems.append(
            f'[{time_where}] digest_time must be empty or a time like "08:00", got {digest_time!r}'
        )
        digest_time = ""
    channel_section = _moved(reader, sections, "agenda", "digest_channel")
    channel_where = "schedule" if channel_section is not ag else "agenda"
    if "digest_channel" not in channel_section:
        channel_where = time_where  # missing: name it beside the digest_time that needs it
    digest_channel = reader.channel_id(channel_section, channel_where, "digest_channel")
    if digest_time and not digest_channel:
        reader.problems.append(
            f"[{channel_where}] digest_channel must name a channel id when digest_time is set"
        )
    return AgendaConfig(
        default_channel=default_channel,
        discord_events=discord_events,
        digest_time=digest_time,
        digest_channel=digest_channel,
    )


_TIME_OF_DAY = re.compile(r"([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?", re.ASCII)


def _record(reader: _Reader, rec: dict[str, Any]) -> RecordConfig:
    channel = reader.channel_id(rec, "record", "channel")
    daily_time = reader.string(rec, "record", "daily_time", "23:55").strip()
    if daily_time and not _TIME_OF_DAY.fullmatch(daily_time):
        reader.problems.append(
            f'[record] daily_time must be empty or a time like "23:55", got {daily_time!r}'
        )
        daily_time = "23:55"
    return RecordConfig(channel=channel, daily_time=daily_time)


def _flag(reader: _Reader, sec: dict[str, Any], section: str, key: str) -> bool:
    value = sec.get(key, False)
    if not isinstance(value, bool):
        reader.problems.append(f"[{section}] {key} must be true or false, got {value!r}")
        return False
    return value


def parse_config(
    data: dict[str, Any], *, env: dict[str, str] | None = None, source: str = "defaults"
) -> Config:
    """A Config from parsed TOML data and the environment; raises ConfigError listing every problem."""
    env = dict(os.environ) if env is None else env
    reader = _Reader(data)
    for name in data:
        if name not in _KNOWN:
            reader.problems.append(f"[{name}]: unknown section (known: {', '.join(sorted(_KNOWN))})")
    sections = {name: reader.section(name) for name in _KNOWN}

    discord = _discord(reader, sections["discord"], env)
    storage = _storage(reader, sections["storage"])
    _check_processes(reader, discord, storage)
    schedule = _schedule(reader, sections["schedule"])
    agenda = _agenda(reader, sections)
    record = _record(reader, sections["record"])

    p = sections["permissions"]
    roles = [r.strip() for r in reader.string_list(p, "permissions", "coordinator_roles", ("Coordinator",))]
    if any(not r for r in roles):
        reader.problems.append("[permissions] coordinator_roles must not contain empty names")
    manage_roles = _flag(reader, sections["groups"], "groups", "manage_roles")
    language = reader.string(sections["i18n"], "i18n", "language", "en").strip().lower()
    if language not in LANGUAGES:
        reader.problems.append(f"[i18n] language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    level = reader.string(sections["logging"], "logging", "level", "INFO").strip().upper()
    if level not in _LEVELS:
        reader.problems.append(f"[logging] level must be one of {', '.join(sorted(_LEVELS))}, got {level!r}")

    if reader.problems:
        raise ConfigError(reader.problems)
    return Config(
        discord=discord,
        storage=storage,
        schedule=schedule,
        agenda=agenda,
        record=record,
        i18n=I18nConfig(language=language),
        permissions=PermissionsConfig(coordinator_roles=tuple(r for r in roles if r)),
        groups=GroupsConfig(manage_roles=manage_roles),
        logging=LoggingConfig(level=level),
        source=source,
        warnings=tuple(reader.warnings),
    )


def load_config(path: str | Path | None, *, env: dict[str, str] | None = None) -> Config:
    """Load the config file (defaults when ``path`` is None or the default file is absent)."""
    if path is None:
        default = Path("config.toml")
        if not default.exists():
            return parse_config({}, env=env, source="defaults (no config.toml)")
        path = default
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"config file {str(file)!r} does not exist"]) from None
    except OSError as exc:
        raise ConfigError([f"config file {str(file)!r} cannot be read: {exc.strerror}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"config file {str(file)!r} is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"config file {str(file)!r} is not valid TOML: {exc}"]) from None
    return parse_config(data, env=env, source=str(file))
