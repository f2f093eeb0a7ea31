-- 0003: consensus items (points and questions), their revisions, positions and the objection register;
-- and scheduled posts (reminders and deadlines), claimed before they are sent so none goes out twice.

CREATE TABLE items (
    item_id      INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    number       INTEGER NOT NULL CHECK (number > 0),
    kind         TEXT NOT NULL CHECK (kind IN ('point', 'question')),
    group_id     INTEGER REFERENCES groups (group_id) ON DELETE SET NULL,
    author_id    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    revision     INTEGER NOT NULL DEFAULT 1 CHECK (revision > 0),
    status       TEXT NOT NULL DEFAULT 'open',
    outcome_note TEXT CHECK (outcome_note IS NULL OR length(outcome_note) <= 1000),
    answer       TEXT CHECK (answer IS NULL OR length(answer) <= 1500),
    decided_by   INTEGER,
    decided_at   INTEGER,
    deadline_at  INTEGER,
    channel_id   INTEGER,
    message_id   INTEGER,
    UNIQUE (guild_id, number),
    CHECK (
        (kind = 'point' AND status IN ('open', 'consensus', 'rough_consensus', 'no_consensus', 'withdrawn'))
        OR (kind = 'question' AND status IN ('open', 'answered', 'dropped'))
    ),
    CHECK ((status = 'open') = (decided_at IS NULL))
) STRICT;

CREATE INDEX items_by_guild ON items (guild_id, status, kind);
CREATE INDEX items_by_group ON items (group_id);

CREATE TABLE item_revisions (
    item_id    INTEGER NOT NULL REFERENCES items (item_id) ON DELETE CASCADE,
    revision   INTEGER NOT NULL CHECK (revision > 0),
    text       TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 1500),
    author_id  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (item_id, revision)
) STRICT;

-- One position per member per revision; changing it replaces it. Object and block carry a reason.
CREATE TABLE positions (
    item_id    INTEGER NOT NULL REFERENCES items (item_id) ON DELETE CASCADE,
    revision   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    stance     TEXT NOT NULL CHECK (stance IN ('agree', 'stand_aside', 'object', 'block')),
    reason     TEXT CHECK (reason IS NULL OR length(reason) <= 1000),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (item_id, revision, user_id),
    CHECK (stance IN ('agree', 'stand_aside') OR length(trim(coalesce(reason, ''))) > 0)
) STRICT;

-- The objection register: one entry per objector per revision, kept when the position changes.
CREATE TABLE objections (
    objection_id INTEGER PRIMARY KEY,
    item_id      INTEGER NOT NULL REFERENCES items (item_id) ON DELETE CASCADE,
    revision     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    stance       TEXT NOT NULL CHECK (stance IN ('object', 'block')),
    reason       TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    created_at   INTEGER NOT NULL,
    state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'addressed', 'in_the_rough', 'withdrawn')),
    note         TEXT CHECK (note IS NULL OR length(note) <= 1000),
    resolved_by  INTEGER,
    resolved_at  INTEGER,
    UNIQUE (item_id, revision, user_id)
) STRICT;

CREATE TABLE scheduled_posts (
    post_id    INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    ref_id     INTEGER NOT NULL,
    due_at     INTEGER NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed', 'sent', 'skipped', 'cancelled')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    claimed_at INTEGER,
    done_at    INTEGER,
    late       INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    UNIQUE (kind, ref_id, due_at)
) STRICT;

CREATE INDEX scheduled_posts_pending ON scheduled_posts (state, due_at);
CREATE INDEX scheduled_posts_by_ref ON scheduled_posts (kind, ref_id);
