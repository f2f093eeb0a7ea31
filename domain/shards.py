"""Discord's shards: which gateway connection a server's events arrive on, and so which process does its
scheduled work (posts, poll and statement closes, purges) and registers the commands."""

from __future__ import annotations

from dataclasses import dataclass

#: A snowflake's low 22 bits are worker, process and increment; the rest is its time.
_TIME_SHIFT = 22


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard a server's events arrive on: Discord's documented ``(guild_id >> 22) % shard_count``."""
    if shard_count < 1:
        raise ValueError(f"a shard count is 1 or more, got {shard_count}")
    return (guild_id >> _TIME_SHIFT) % shard_count


@dataclass(frozen=True)
class Shards:
    """The shards one process runs, out of ``count``; ``Shards()`` is one connection without sharding."""

    count: int = 1
    ids: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        if self.count < 1 or not self.ids or any(not 0 <= i < self.count for i in self.ids):
            raise ValueError(f"shards {self.ids} out of {self.count}")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"shards {self.ids} list one twice")

    @classmethod
    def all_of(cls, count: int) -> Shards:
        """Every shard of ``count`` in one process."""
        return cls(count, tuple(range(count)))

    def holds(self, guild_id: int) -> bool:
        """Whether this process runs the shard of this server (does its scheduled work)."""
        return shard_of(guild_id, self.count) in self.ids

    @property
    def everything(self) -> bool:
        """Whether this process runs every shard (so every server is its own)."""
        return len(self.ids) == self.count

    @property
    def registers_commands(self) -> bool:
        """Commands are registered by one process only: the one holding shard 0."""
        return 0 in self.ids
