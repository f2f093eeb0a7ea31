"""Config loading: every key's bad value is reported by its key, all at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config

ENV = {"DISCORD_TOKEN": "abc.def.ghi"}


def problems(data: dict, env: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, env=ENV if env is None else env)
    return info.value.problems


def test_defaults_need_only_a_token() -> None:
    config = parse_config({}, env=ENV)
    assert config.discord.token == "abc.def.ghi"
    assert config.storage.path == "caucus.db"
    assert config.schedule.timezone == "UTC"
    assert config.schedule.reminder_offsets == (timedelta(days=1), timedelta(hours=1), timedelta(minutes=10))
    assert config.permissions.coordinator_roles == ("Coordinator",)
    assert config.discord.guild_ids == ()


def test_environment_token_wins_over_file() -> None:
    config = parse_config({"discord": {"token": "from-file"}}, env={"DISCORD_TOKEN": "from-env"})
    assert config.discord.token == "from-env"
    assert parse_config({"discord": {"token": "from-file"}}, env={}).discord.token == "from-file"


def test_missing_token_names_the_key() -> None:
    [line] = problems({}, env={})
    assert "[discord] token" in line and "DISCORD_TOKEN" in line


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"discord": {"token": 5}}, "[discord] token"),
        ({"discord": {"token": "has space"}}, "[discord] token"),
        ({"discord": {"guild_ids": "123"}}, "[discord] guild_ids"),
        ({"discord": {"guild_ids": [-4]}}, "[discord] guild_ids"),
        ({"discord": {"guild_ids": ["abc"]}}, "[discord] guild_ids"),
        ({"discord": {"api_base_url": "ftp://x"}}, "[discord] api_base_url"),
        ({"discord": {"api_base_url": 3}}, "[discord] api_base_url"),
        ({"discord": {"gateway_url": "http://x"}}, "[discord] gateway_url"),
        ({"discord": {"guild_ready_timeout": "soon"}}, "[discord] guild_ready_timeout"),
        ({"discord": {"guild_ready_timeout": 600}}, "[discord] guild_ready_timeout"),
        ({"discord": {"tokne": "x"}}, "[discord] tokne"),
        ({"storage": {"path": ""}}, "[storage] path"),
        ({"storage": {"path": 7}}, "[storage] path"),
        ({"storage": []}, "[storage]"),
        ({"storage": {"purge_after_days": 0}}, "[storage] purge_after_days"),
        ({"storage": {"purge_after_days": "soon"}}, "[storage] purge_after_days"),
        ({"schedule": {"timezone": "Mars/Olympus"}}, "[schedule] timezone"),
        ({"schedule": {"timezone": 1}}, "[schedule] timezone"),
        ({"schedule": {"reminder_offsets": "1h"}}, "[schedule] reminder_offsets"),
        ({"schedule": {"reminder_offsets": ["soon"]}}, "[schedule] reminder_offsets"),
        ({"schedule": {"reminder_offsets": ["0m"]}}, "[schedule] reminder_offsets"),
        ({"schedule": {"reminder_offsets": ["100d"]}}, "[schedule] reminder_offsets"),
        ({"schedule": {"reminder_offsets": ["99999999w"]}}, "[schedule] reminder_offsets"),
        ({"schedule": {"reminder_offsets": ["٣h"]}}, "[schedule] reminder_offsets"),  # Arabic-Indic 3
        ({"schedule": {"reminder_offsets": ["1h", "60m"]}}, "[schedule] reminder_offsets"),  # the same twice
        ({"schedule": {"reminder_offsets": [f"{n}h" for n in range(1, 12)]}}, "[schedule] reminder_offsets"),
        ({"discord": {"token": "t", "guild_ids": ["²"]}}, "[discord] guild_ids"),  # "²".isdigit() is True
        ({"discord": {"token": "t", "guild_ids": [2**64]}}, "[discord] guild_ids"),
        ({"schedule": {"digest_channel": "١٢"}}, "[schedule] digest_channel"),
        ({"schedule": {"digest_time": "٠٨:٠٠", "digest_channel": 5}}, "[schedule] digest_time"),
        ({"permissions": {"coordinator_roles": "Coordinator"}}, "[permissions] coordinator_roles"),
        ({"permissions": {"coordinator_roles": [""]}}, "[permissions] coordinator_roles"),
        ({"logging": {"level": "LOUD"}}, "[logging] level"),
        ({"groups": {"manage_roles": "yes"}}, "[groups] manage_roles"),
        ({"schedule": {"digest_time": "25:00", "digest_channel": 5}}, "[schedule] digest_time"),
        ({"schedule": {"digest_time": "08:00"}}, "[schedule] digest_channel"),
        ({"schedule": {"digest_channel": "general"}}, "[schedule] digest_channel"),
        ({"agenda": {"digest_time": "8h", "digest_channel": 5}}, "[agenda] digest_time"),
        ({"agenda": {"digest_time": "08:00"}}, "[agenda] digest_channel"),
        ({"schedule": {"digest_channel": 5}, "agenda": {"digest_channel": 6}}, "[schedule] digest_channel"),
        ({"discord": {"guild_ids": ["١٢٣"]}}, "[discord] guild_ids"),
        ({"agenda": {"default_channel": -1}}, "[agenda] default_channel"),
        ({"agenda": {"discord_events": "yes"}}, "[agenda] discord_events"),
        ({"nonsense": {}}, "[nonsense]"),
        ({"discord": {"shard_count": -2}}, "[discord] shard_count"),
        ({"discord": {"shard_count": "3"}}, "[discord] shard_count"),
        ({"discord": {"shard_count": 2.5}}, "[discord] shard_count"),
        ({"discord": {"shard_count": True}}, "[discord] shard_count"),
        ({"discord": {"shard_count": 3, "shard_ids": [0, 1, 3]}}, "[discord] shard_ids"),  # out of range
        ({"discord": {"shard_count": 3, "shard_ids": [0, -1, 1, 2]}}, "[discord] shard_ids"),
        ({"discord": {"shard_count": 3, "shard_ids": [0, 1, 1, 2]}}, "[discord] shard_ids"),  # twice
        ({"discord": {"shard_count": 3, "shard_ids": "0-2"}}, "[discord] shard_ids"),
        ({"discord": {"shard_count": 3, "shard_ids": [0, "1", 2]}}, "[discord] shard_ids"),
        ({"discord": {"shard_ids": [0]}}, "[discord] shard_ids"),  # without shard_count
        ({"discord": {"shard_count": 3, "shard_ids": [1]}}, "[discord] shard_ids"),  # only some shards
        ({"storage": {"url": "mysql://caucus@db/caucus"}}, "[storage] url"),
        ({"storage": {"url": "postgresql://"}}, "[storage] url"),
        ({"storage": {"url": 5}}, "[storage] url"),
    ],
)
def test_each_bad_value_names_its_key(data: dict, key: str) -> None:
    lines = problems(data, env={} if key == "[discord] token" else None)
    assert len(lines) == 1, lines
    assert lines[0].startswith(key), lines


def test_the_digest_keys_moved_to_agenda_and_the_old_place_still_works() -> None:
    new = parse_config({"agenda": {"digest_time": "08:00", "digest_channel": 5}}, env=ENV)
    assert (new.agenda.digest_time, new.agenda.digest_channel, new.warnings) == ("08:00", 5, ())
    old = parse_config({"schedule": {"digest_time": "08:00", "digest_channel": 5}}, env=ENV)
    assert (old.agenda.digest_time, old.agenda.digest_channel) == ("08:00", 5)
    assert old.warnings == (
        "[schedule] digest_time is deprecated: move it to [agenda] digest_time",
        "[schedule] digest_channel is deprecated: move it to [agenda] digest_channel",
    )
    mixed = parse_config({"schedule": {"digest_time": "08:00"}, "agenda": {"digest_channel": 5}}, env=ENV)
    assert (mixed.agenda.digest_time, mixed.agenda.digest_channel, len(mixed.warnings)) == ("08:00", 5, 1)


def test_all_problems_reported_at_once() -> None:
    lines = problems(
        {
            "discord": {"guild_ids": ["x"], "api_base_url": "nope"},
            "schedule": {"timezone": "Nowhere/Land", "reminder_offsets": ["1x"]},
            "logging": {"level": "LOUD"},
        },
        env={},
    )
    assert len(lines) == 6
    for key in ("token", "guild_ids", "api_base_url", "timezone", "reminder_offsets", "level"):
        assert any(key in line for line in lines), key


def test_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(None, env=ENV).source.startswith("defaults")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", env=ENV)
    broken = tmp_path / "broken.toml"
    broken.write_text("[discord\ntoken = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken, env=ENV)
    good = tmp_path / "config.toml"
    good.write_text('[discord]\nguild_ids = [123]\n[schedule]\ntimezone = "Europe/Paris"\n', encoding="utf-8")
    config = load_config(None, env=ENV)
    assert config.discord.guild_ids == (123,)
    assert config.schedule.timezone == "Europe/Paris"


def test_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    config = load_config(example, env=ENV)
    assert config.storage.path == "caucus.db"


def test_shards() -> None:
    one = parse_config({}, env=ENV).discord
    assert (one.shard_count, one.shard_ids, one.shards) == (None, (), (0,))
    zero = parse_config(
        {"discord": {"shard_count": 0, "shard_ids": []}}, env=ENV
    ).discord  # PRODUCT.md's default
    assert (zero.shard_count, zero.shards) == (None, (0,))
    every = parse_config({"discord": {"shard_count": 3}}, env=ENV).discord
    assert (every.shard_count, every.shard_ids, every.shards) == (3, (), (0, 1, 2))
    listed = parse_config({"discord": {"shard_count": 3, "shard_ids": [2, 0, 1]}}, env=ENV).discord
    assert (listed.shard_count, listed.shards) == (3, (0, 1, 2))
    assert parse_config({"discord": {"shard_count": 1, "shard_ids": [0]}}, env=ENV).discord.shards == (0,)
    assert parse_config({"discord": {"shard_count": 2, "shard_ids": []}}, env=ENV).discord.shards == (0, 1)


def test_running_only_some_shards_needs_postgresql() -> None:
    lines = problems({"discord": {"shard_count": 4, "shard_ids": [0, 1]}})
    assert lines == [
        "[discord] shard_ids runs only some of the 4 shards: the other processes need the same database, so "
        'set [storage] url = "postgresql://…" (several processes cannot share one SQLite file), or list every '
        "shard, or leave shard_ids out"
    ]
    config = parse_config(
        {
            "discord": {"shard_count": 4, "shard_ids": [2, 3]},
            "storage": {"url": "postgresql://caucus@db/caucus"},
        },
        env=ENV,
    )
    assert (config.discord.shards, config.storage.url) == ((2, 3), "postgresql://caucus@db/caucus")
    # every problem of the key at once, each by its key
    lines = problems({"discord": {"shard_count": 3, "shard_ids": [3, 1, 1]}})
    assert lines == [
        "[discord] shard_ids: 3 is not a shard of 3 (from 0 to 2)",
        "[discord] shard_ids: 1 is listed twice",
    ]


def test_check_config_refuses_some_shards_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    path = tmp_path / "config.toml"
    path.write_text('[discord]\ntoken = "t"\nshard_count = 2\nshard_ids = [1]\n', encoding="utf-8")
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "[discord] shard_ids runs only some of the 2 shards" in err and "postgresql://" in err
    path.write_text('[discord]\ntoken = "t"\nshard_count = 2\nshard_ids = [1, 0]\n', encoding="utf-8")
    assert main(["check-config", "--config", str(path)]) == 0
    assert "shards [0, 1] of 2" in capsys.readouterr().out


def test_an_empty_storage_url_is_the_sqlite_file() -> None:
    config = parse_config({"storage": {"url": "", "path": "coalition.db"}}, env=ENV)
    assert config.storage.path == "coalition.db"
