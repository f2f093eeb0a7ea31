-- 0005: the agenda. A session keeps the wall time and IANA zone it was given; its occurrences hold the
-- UTC instants (one for a single session, many for a recurring one), computed with zoneinfo so a weekly
-- 09:00 Europe/Paris call stays at 09:00 Paris time across daylight-saving changes.

CREATE TABLE sessions (
    session_id   INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    number       INTEGER NOT NULL CHECK (number > 0),
    uid          TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    start_local  TEXT NOT NULL,
    zone         TEXT NOT NULL,
    duration_min INTEGER NOT NULL CHECK (duration_min BETWEEN 1 AND 10080),
    group_id     INTEGER REFERENCES groups (group_id) ON DELETE SET NULL,
    channel_id   INTEGER,
    moderators   TEXT NOT NULL DEFAULT '' CHECK (length(moderators) <= 300),
    note_taker   TEXT NOT NULL DEFAULT '' CHECK (length(note_taker) <= 100),
    location     TEXT NOT NULL DEFAULT '' CHECK (length(location) <= 300),
    notes        TEXT NOT NULL DEFAULT '' CHECK (length(notes) <= 1000),
    recur_days   INTEGER CHECK (recur_days IS NULL OR recur_days BETWEEN 1 AND 365),
    recur_until  TEXT,
    offsets      TEXT NOT NULL,
    event_id     INTEGER,
    created_by   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (guild_id, number)
) STRICT;

CREATE TABLE occurrences (
    occurrence_id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: scheduled posts refer to it
    session_id    INTEGER NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL CHECK (ends_at > starts_at),
    UNIQUE (session_id, starts_at)
) STRICT;

CREATE INDEX occurrences_by_time ON occurrences (starts_at);

-- Members who pressed "Remind me": they get a direct message with the next reminders.
CREATE TABLE session_subscribers (
    session_id INTEGER NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    PRIMARY KEY (session_id, user_id)
) STRICT;

-- An import waits here between its preview and the Confirm button (which works after a restart too).
CREATE TABLE agenda_imports (
    import_id  INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    done_at    INTEGER
) STRICT;
