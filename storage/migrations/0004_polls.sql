-- 0004: quick polls. A poll, its options, the running tally (poll_counts) kept by triggers in the same
-- transaction as every ballot change, and the ballots: open polls by user id, anonymous polls only by a
-- keyed hash of (poll id, user id) whose key is not in this database.

CREATE TABLE polls (
    poll_id      INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    number       INTEGER NOT NULL CHECK (number > 0),
    question     TEXT NOT NULL CHECK (length(question) BETWEEN 1 AND 300),
    author_id    INTEGER NOT NULL,
    group_id     INTEGER REFERENCES groups (group_id) ON DELETE SET NULL,
    role_id      INTEGER,
    role_name    TEXT CHECK (role_name IS NULL OR length(role_name) <= 100),
    option_count INTEGER NOT NULL CHECK (option_count BETWEEN 2 AND 25),
    choices      INTEGER NOT NULL CHECK (choices BETWEEN 1 AND option_count),
    anonymous    INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
    hide_results INTEGER NOT NULL CHECK (hide_results IN (0, 1)),
    -- anonymous polls: a check value derived from the ballot key, to notice a replaced key file
    key_check    BLOB CHECK ((anonymous = 1) = (key_check IS NOT NULL)),
    created_at   INTEGER NOT NULL,
    closes_at    INTEGER NOT NULL CHECK (closes_at > created_at),
    closed_at    INTEGER,
    closed_by    INTEGER, -- NULL with closed_at set: closed by its deadline
    announced_at INTEGER, -- the closing post was claimed for sending
    nudged_at    INTEGER,
    ballots      INTEGER NOT NULL DEFAULT 0 CHECK (ballots >= 0), -- kept by the ballot triggers
    channel_id   INTEGER,
    message_id   INTEGER,
    UNIQUE (guild_id, number),
    CHECK (group_id IS NULL OR role_id IS NULL),
    CHECK (closed_by IS NULL OR closed_at IS NOT NULL)
) STRICT;

CREATE INDEX polls_by_guild ON polls (guild_id, closed_at);

CREATE TABLE poll_options (
    poll_id  INTEGER NOT NULL REFERENCES polls (poll_id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 25),
    label    TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 80),
    PRIMARY KEY (poll_id, position)
) STRICT, WITHOUT ROWID;

-- The tally: one row per option, changed by the triggers below, never recounted on a vote.
CREATE TABLE poll_counts (
    poll_id  INTEGER NOT NULL REFERENCES polls (poll_id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 25),
    votes    INTEGER NOT NULL DEFAULT 0 CHECK (votes >= 0),
    PRIMARY KEY (poll_id, position)
) STRICT, WITHOUT ROWID;

-- A ballot's picks are a bit mask: bit (position - 1) set means that option is chosen.
-- Ballots of open polls: who chose what is part of the record.
CREATE TABLE poll_votes (
    poll_id    INTEGER NOT NULL REFERENCES polls (poll_id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    picks      INTEGER NOT NULL CHECK (picks > 0 AND picks < 33554432),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (poll_id, user_id)
) STRICT, WITHOUT ROWID;

-- Ballots of anonymous polls: no user id, no time; ordered by the keyed hash, not by arrival.
CREATE TABLE poll_secret_ballots (
    poll_id   INTEGER NOT NULL REFERENCES polls (poll_id) ON DELETE CASCADE,
    voter_key BLOB NOT NULL CHECK (length(voter_key) = 32),
    picks     INTEGER NOT NULL CHECK (picks > 0 AND picks < 33554432),
    PRIMARY KEY (poll_id, voter_key)
) STRICT, WITHOUT ROWID;

-- The database itself refuses a ballot in the wrong table: no user id can land on an anonymous poll.
CREATE TRIGGER poll_votes_open_only BEFORE INSERT ON poll_votes
WHEN (SELECT anonymous FROM polls WHERE poll_id = NEW.poll_id) != 0
BEGIN
    SELECT RAISE(ABORT, 'anonymous polls keep no user ids');
END;

CREATE TRIGGER poll_secret_ballots_anonymous_only BEFORE INSERT ON poll_secret_ballots
WHEN (SELECT anonymous FROM polls WHERE poll_id = NEW.poll_id) != 1
BEGIN
    SELECT RAISE(ABORT, 'open polls keep ballots by user id');
END;

-- The tally follows every ballot change in the same statement, so it always equals a recount.
CREATE TRIGGER poll_votes_counted_insert AFTER INSERT ON poll_votes
BEGIN
    UPDATE poll_counts SET votes = votes + 1
    WHERE poll_id = NEW.poll_id AND (NEW.picks >> (position - 1)) & 1;
    UPDATE polls SET ballots = ballots + 1 WHERE poll_id = NEW.poll_id;
END;

CREATE TRIGGER poll_votes_counted_update AFTER UPDATE OF picks ON poll_votes
BEGIN
    UPDATE poll_counts
    SET votes = votes + ((NEW.picks >> (position - 1)) & 1) - ((OLD.picks >> (position - 1)) & 1)
    WHERE poll_id = NEW.poll_id AND (((NEW.picks | OLD.picks) - (NEW.picks & OLD.picks)) >> (position - 1)) & 1;
END;

CREATE TRIGGER poll_votes_counted_delete AFTER DELETE ON poll_votes
BEGIN
    UPDATE poll_counts SET votes = votes - 1
    WHERE poll_id = OLD.poll_id AND (OLD.picks >> (position - 1)) & 1;
    UPDATE polls SET ballots = ballots - 1 WHERE poll_id = OLD.poll_id;
END;

CREATE TRIGGER poll_secret_ballots_counted_insert AFTER INSERT ON poll_secret_ballots
BEGIN
    UPDATE poll_counts SET votes = votes + 1
    WHERE poll_id = NEW.poll_id AND (NEW.picks >> (position - 1)) & 1;
    UPDATE polls SET ballots = ballots + 1 WHERE poll_id = NEW.poll_id;
END;

CREATE TRIGGER poll_secret_ballots_counted_update AFTER UPDATE OF picks ON poll_secret_ballots
BEGIN
    UPDATE poll_counts
    SET votes = votes + ((NEW.picks >> (position - 1)) & 1) - ((OLD.picks >> (position - 1)) & 1)
    WHERE poll_id = NEW.poll_id AND (((NEW.picks | OLD.picks) - (NEW.picks & OLD.picks)) >> (position - 1)) & 1;
END;

CREATE TRIGGER poll_secret_ballots_counted_delete AFTER DELETE ON poll_secret_ballots
BEGIN
    UPDATE poll_counts SET votes = votes - 1
    WHERE poll_id = OLD.poll_id AND (OLD.picks >> (position - 1)) & 1;
    UPDATE polls SET ballots = ballots - 1 WHERE poll_id = OLD.poll_id;
END;
