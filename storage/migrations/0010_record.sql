-- 0010: the decision record, an append-only log per server hashed into a Merkle tree (RFC 6962), and the
-- signed checkpoints of that tree. Entries hold no individual's name or id (domain/record.py refuses them).

CREATE TABLE record_entries (
    guild_id   INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL CHECK (idx >= 0),
    entry      BLOB NOT NULL CHECK (length(entry) > 0),
    leaf_hash  BLOB NOT NULL CHECK (length(leaf_hash) = 32),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, idx)
) STRICT;

-- Append-only for the bot's own code: an entry is never rewritten, and only goes with its whole server
-- (the purge of a server the bot left). Whoever holds the file can drop these triggers; the Merkle check
-- before each signature is what catches that.
CREATE TRIGGER record_entries_no_update BEFORE UPDATE ON record_entries
BEGIN
    SELECT RAISE(ABORT, 'the decision record is append-only');
END;

CREATE TRIGGER record_entries_no_delete BEFORE DELETE ON record_entries
WHEN EXISTS (SELECT 1 FROM guilds WHERE guild_id = OLD.guild_id)
BEGIN
    SELECT RAISE(ABORT, 'the decision record is append-only');
END;

CREATE TABLE record_checkpoints (
    checkpoint_id INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    tree_size     INTEGER NOT NULL CHECK (tree_size > 0),
    root_hash     BLOB NOT NULL CHECK (length(root_hash) = 32),
    note          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    channel_id    INTEGER,
    message_id    INTEGER,
    UNIQUE (guild_id, tree_size)
) STRICT;
