-- 0012: counting per organisation. A point or a poll counts per person (as before) or per organisation,
-- fixed when it is created. Per organisation only the voice's position or ballot counts for its
-- organisation: the organisations' positions, their objection register and their open ballots live in
-- tables of their own, keyed by organisation (and kept when the voice changes hands); every member's own
-- position stays in positions (shown, not counted). Anonymous ballots per organisation go in
-- poll_secret_ballots like every anonymous ballot: under a keyed hash, with no organisation and no member.
-- Which organisations counted when a point was decided or a poll closed is kept, so the record does not
-- change when an organisation leaves afterwards.

ALTER TABLE items ADD COLUMN counting TEXT NOT NULL DEFAULT 'people'
    CHECK (counting IN ('people', 'organisations') AND (counting = 'people' OR kind = 'point'));
-- a poll per organisation may be limited to a working group (its organisations), not to a role
ALTER TABLE polls ADD COLUMN counting TEXT NOT NULL DEFAULT 'people'
    CHECK (counting IN ('people', 'organisations') AND (counting = 'people' OR role_id IS NULL));

CREATE TRIGGER items_counting_is_fixed BEFORE UPDATE OF counting ON items
WHEN NEW.counting IS NOT OLD.counting
BEGIN
    SELECT RAISE(ABORT, 'an item counts as it was proposed');
END;

CREATE TRIGGER polls_counting_is_fixed BEFORE UPDATE OF counting ON polls
WHEN NEW.counting IS NOT OLD.counting
BEGIN
    SELECT RAISE(ABORT, 'a poll counts as it was created');
END;

-- An organisation's position on a revision of a point counted per organisation: the last one its voice
-- stated (stated_by: that member), replaced when a voice states another.
CREATE TABLE org_positions (
    item_id    INTEGER NOT NULL REFERENCES items (item_id) ON DELETE CASCADE,
    revision   INTEGER NOT NULL CHECK (revision > 0),
    org_id     INTEGER NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
    stance     TEXT NOT NULL CHECK (stance IN ('agree', 'stand_aside', 'object', 'block')),
    reason     TEXT CHECK (reason IS NULL OR length(reason) <= 1000),
    stated_by  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (item_id, revision, org_id),
    CHECK (stance IN ('agree', 'stand_aside') OR length(trim(coalesce(reason, ''))) > 0)
) STRICT, WITHOUT ROWID;

CREATE INDEX org_positions_by_org ON org_positions (org_id, item_id);

-- The objection register of a point counted per organisation: one entry per organisation and revision.
CREATE TABLE org_objections (
    objection_id INTEGER PRIMARY KEY,
    item_id      INTEGER NOT NULL REFERENCES items (item_id) ON DELETE CASCADE,
    revision     INTEGER NOT NULL CHECK (revision > 0),
    org_id       INTEGER NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
    stance       TEXT NOT NULL CHECK (stance IN ('object', 'block')),
    reason       TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    stated_by    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'addressed', 'in_the_rough', 'withdrawn')),
    note         TEXT CHECK (note IS NULL OR length(note) <= 1000),
    resolved_by  INTEGER,
    resolved_at  INTEGER,
    UNIQUE (item_id, revision, org_id)
) STRICT;

-- The organisations that counted for a point when it was decided (removed when it is reopened).
CREATE TABLE item_org_scope (
    item_id INTEGER NOT NULL REFERENCES items (item_id) ON DELETE CASCADE,
    org_id  INTEGER NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, org_id)
) STRICT, WITHOUT ROWID;

-- Ballots of open (not anonymous) polls counted per organisation: one per organisation, cast by its voice.
CREATE TABLE poll_org_votes (
    poll_id    INTEGER NOT NULL REFERENCES polls (poll_id) ON DELETE CASCADE,
    org_id     INTEGER NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
    picks      INTEGER NOT NULL CHECK (picks > 0 AND picks < 33554432),
    cast_by    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (poll_id, org_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX poll_org_votes_by_org ON poll_org_votes (org_id);

-- The organisations that counted for a poll when it closed (its electorate, never who voted what).
CREATE TABLE poll_org_scope (
    poll_id INTEGER NOT NULL REFERENCES polls (poll_id) ON DELETE CASCADE,
    org_id  INTEGER NOT NULL REFERENCES orgs (org_id) ON DELETE CASCADE,
    PRIMARY KEY (poll_id, org_id)
) STRICT, WITHOUT ROWID;

-- The database refuses a position or ballot in the wrong mode's table.
CREATE TRIGGER org_positions_on_org_items BEFORE INSERT ON org_positions
WHEN (SELECT counting FROM items WHERE item_id = NEW.item_id) IS NOT 'organisations'
BEGIN
    SELECT RAISE(ABORT, 'only a point counted per organisation takes organisations'' positions');
END;

CREATE TRIGGER org_objections_on_org_items BEFORE INSERT ON org_objections
WHEN (SELECT counting FROM items WHERE item_id = NEW.item_id) IS NOT 'organisations'
BEGIN
    SELECT RAISE(ABORT, 'only a point counted per organisation takes organisations'' objections');
END;

CREATE TRIGGER poll_org_votes_open_org_polls_only BEFORE INSERT ON poll_org_votes
WHEN (SELECT counting = 'organisations' AND anonymous = 0 FROM polls WHERE poll_id = NEW.poll_id) IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'organisations'' open ballots go only to open polls counted per organisation');
END;

CREATE TRIGGER poll_votes_people_polls_only BEFORE INSERT ON poll_votes
WHEN (SELECT counting FROM polls WHERE poll_id = NEW.poll_id) IS NOT 'people'
BEGIN
    SELECT RAISE(ABORT, 'a poll counted per organisation takes one ballot per organisation');
END;

-- The raw tally follows every organisation's ballot as it follows every member's (see 0004). What counts
-- is the ballots of the organisations counted and in scope (domain.counting), which a left organisation's
-- ballot no longer is: it stays in the record, uncounted.
CREATE TRIGGER poll_org_votes_counted_insert AFTER INSERT ON poll_org_votes
BEGIN
    UPDATE poll_counts SET votes = votes + 1
    WHERE poll_id = NEW.poll_id AND (NEW.picks >> (position - 1)) & 1;
    UPDATE polls SET ballots = ballots + 1 WHERE poll_id = NEW.poll_id;
END;

CREATE TRIGGER poll_org_votes_counted_update AFTER UPDATE OF picks ON poll_org_votes
BEGIN
    UPDATE poll_counts
    SET votes = votes + ((NEW.picks >> (position - 1)) & 1) - ((OLD.picks >> (position - 1)) & 1)
    WHERE poll_id = NEW.poll_id AND (((NEW.picks | OLD.picks) - (NEW.picks & OLD.picks)) >> (position - 1)) & 1;
END;

CREATE TRIGGER poll_org_votes_counted_delete AFTER DELETE ON poll_org_votes
BEGIN
    UPDATE poll_counts SET votes = votes - 1
    WHERE poll_id = OLD.poll_id AND (OLD.picks >> (position - 1)) & 1;
    UPDATE polls SET ballots = ballots - 1 WHERE poll_id = OLD.poll_id;
END;
