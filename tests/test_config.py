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
