-- 0002: working groups and their members.

CREATE TABLE groups (
    group_id        INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    -- casefolded name: unique per server in any letter case (SQLite's NOCASE folds ASCII only)
    name_key        TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    home_channel_id INTEGER,
    due_at          INTEGER,
    role_id         INTEGER,
    created_by      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    archived_at     INTEGER,
    archived_by     INTEGER,
    UNIQUE (guild_id, name_key)
) STRICT;

CREATE INDEX groups_by_guild ON groups (guild_id, archived_at);

CREATE TABLE group_members (
    group_id    INTEGER NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    is_convener INTEGER NOT NULL DEFAULT 0 CHECK (is_convener IN (0, 1)),
    joined_at   INTEGER NOT NULL,
    added_by    INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) STRICT;

CREATE INDEX group_members_by_user ON group_members (user_id);
