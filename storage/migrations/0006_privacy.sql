-- 0006: members' data rights. A member who asked to be anonymised is known here only by a pseudonym
-- derived with the bot's key (which is not in this database); their positions and ballots keep counting
-- under it, and what they do later is stored under it too, so nothing is counted twice.

CREATE TABLE erasures (
    guild_id  INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    pseudo_id INTEGER NOT NULL CHECK (pseudo_id < 0),
    erased_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, pseudo_id)
) STRICT;

CREATE INDEX guilds_removed ON guilds (removed_at) WHERE removed_at IS NOT NULL;
