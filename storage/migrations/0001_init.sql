-- 0001: the foundation. Servers the bot has seen, members it has recorded, and its own small state.

CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE guilds (
    guild_id   INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    joined_at  INTEGER NOT NULL,
    removed_at INTEGER
) STRICT;

-- Display names as the bot saw them, so exports and histories name people without asking Discord
-- (and without pinging anyone). left_at is set when the member leaves the server.
CREATE TABLE members (
    guild_id     INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    display_name TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    seen_at      INTEGER NOT NULL,
    left_at      INTEGER,
    PRIMARY KEY (guild_id, user_id)
) STRICT;
