-- 0013: sign-on statements: numbered per server, their versions (each with the SHA-256 fingerprint of
-- its text), the signatures of organisations and individuals, and the messages that show them.
-- Nothing is deleted when a signature is withdrawn: the row keeps when and by whom, as the decision
-- record keeps its entries.

CREATE TABLE statements (
    statement_id  INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    number        INTEGER NOT NULL CHECK (number > 0),
    title         TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    group_id      INTEGER REFERENCES groups (group_id) ON DELETE SET NULL,
    author_id     INTEGER NOT NULL,
    state         TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'open', 'closed')),
    version       INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1), -- the current version
    individuals   INTEGER NOT NULL DEFAULT 0 CHECK (individuals IN (0, 1)), -- individuals may sign too
    channel_id    INTEGER, -- where it was posted for sign-on
    created_at    INTEGER NOT NULL,
    opened_by     INTEGER,
    opened_at     INTEGER,
    closes_at     INTEGER,
    closed_by     INTEGER, -- NULL when it closed at its deadline
    closed_at     INTEGER,
    close_index   INTEGER, -- the decision record's entry of the close
    close_post_id INTEGER, -- the scheduled post that announces the close (taken once)
    UNIQUE (guild_id, number),
    CHECK ((state = 'draft') = (opened_at IS NULL)),
    CHECK (state = 'draft' OR (closes_at IS NOT NULL AND channel_id IS NOT NULL AND closes_at > opened_at)),
    CHECK ((state = 'closed') = (closed_at IS NOT NULL)),
    CHECK ((state = 'closed') = (close_index IS NOT NULL))
) STRICT;

CREATE INDEX statements_open ON statements (guild_id, state);

-- While a statement is a draft its one version is edited in place; once it is open, each amendment adds
-- a version (the text signed is never changed afterwards).
CREATE TABLE statement_versions (
    version_id   INTEGER PRIMARY KEY,
    statement_id INTEGER NOT NULL REFERENCES statements (statement_id) ON DELETE CASCADE,
    version      INTEGER NOT NULL CHECK (version >= 1),
    text         TEXT NOT NULL CHECK (length(text) <= 20000),
    fingerprint  TEXT NOT NULL CHECK (length(fingerprint) = 64 AND fingerprint NOT GLOB '*[^0-9a-f]*'),
    created_by   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    record_index INTEGER, -- the decision record's entry of this version (opened or amended)
    UNIQUE (statement_id, version)
) STRICT;

CREATE TRIGGER statement_version_frozen BEFORE UPDATE OF text ON statement_versions
WHEN (SELECT state FROM statements WHERE statement_id = OLD.statement_id) != 'draft'
BEGIN
    SELECT RAISE(ABORT, 'a version that was opened for signature never changes');
END;

-- A signature by an organisation (org_id) or, when the statement allows it, by an individual (no org_id).
-- signer_id is the member who signed (their record id). listed: the organisation chose to be listed by
-- name; the record then holds its name (recorded_name), else a random pseudonym (anon-<hex>).
CREATE TABLE statement_signatures (
    signature_id   INTEGER PRIMARY KEY,
    statement_id   INTEGER NOT NULL REFERENCES statements (statement_id) ON DELETE CASCADE,
    guild_id       INTEGER NOT NULL,
    org_id         INTEGER REFERENCES orgs (org_id) ON DELETE CASCADE,
    signer_id      INTEGER NOT NULL,
    listed         INTEGER NOT NULL CHECK (listed IN (0, 1)),
    recorded_name  TEXT CHECK (recorded_name IS NULL OR length(recorded_name) BETWEEN 1 AND 200),
    pseudonym      TEXT CHECK (pseudonym IS NULL OR (length(pseudonym) = 21 AND pseudonym GLOB 'anon-*')),
    version        INTEGER NOT NULL, -- the version it was given to (or last confirmed for)
    signed_at      INTEGER NOT NULL,
    confirmed_by   INTEGER,
    confirmed_at   INTEGER,
    record_index   INTEGER NOT NULL, -- the decision record's entry of its latest "given"
    withdrawn_by   INTEGER,
    withdrawn_at   INTEGER,
    withdraw_index INTEGER,
    FOREIGN KEY (statement_id, version) REFERENCES statement_versions (statement_id, version),
    CHECK (listed = (recorded_name IS NOT NULL)),
    CHECK (listed != (pseudonym IS NOT NULL)),
    CHECK (org_id IS NOT NULL OR listed = 0),
    CHECK ((withdrawn_at IS NULL) = (withdrawn_by IS NULL)),
    CHECK ((confirmed_at IS NULL) = (confirmed_by IS NULL))
) STRICT;

-- One live signature per organisation per statement, and one per individual.
CREATE UNIQUE INDEX statement_signatures_one_per_org ON statement_signatures (statement_id, org_id)
    WHERE org_id IS NOT NULL AND withdrawn_at IS NULL;
CREATE UNIQUE INDEX statement_signatures_one_per_individual ON statement_signatures (statement_id, signer_id)
    WHERE org_id IS NULL AND withdrawn_at IS NULL;
CREATE INDEX statement_signatures_by_signer ON statement_signatures (guild_id, signer_id);

-- Only an open statement takes signatures.
CREATE TRIGGER statement_signature_needs_open BEFORE INSERT ON statement_signatures
WHEN (SELECT state FROM statements WHERE statement_id = NEW.statement_id) IS NOT 'open'
BEGIN
    SELECT RAISE(ABORT, 'only an open statement takes signatures');
END;

-- Every message the bot posted for a statement: the parts of each version's text, and its card (the last
-- part, with the buttons).
CREATE TABLE statement_messages (
    statement_id INTEGER NOT NULL REFERENCES statements (statement_id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    part         INTEGER NOT NULL CHECK (part >= 1),
    channel_id   INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    card         INTEGER NOT NULL CHECK (card IN (0, 1)),
    PRIMARY KEY (statement_id, version, part)
) STRICT;

CREATE INDEX statement_messages_by_message ON statement_messages (message_id);
