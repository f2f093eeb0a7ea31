-- 0008: member organisations, the people who represent them, and each organisation's voice.
-- Nothing is deleted when a representation or an organisation ends: the record shows who represented
-- which organisation, and who was its voice, at any time (counting per organisation reads it).

CREATE TABLE orgs (
    org_id      INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    -- casefolded (NFKC) name: unique per server in any letter case, "Ärzte" and "ÄRZTE" included
    name_key    TEXT NOT NULL,
    acronym     TEXT NOT NULL DEFAULT '' CHECK (length(acronym) <= 20),
    country     TEXT NOT NULL CHECK (length(country) = 2 AND country = upper(country)), -- ISO 3166-1 alpha-2
    region      TEXT NOT NULL
                CHECK (region IN ('african', 'asia_pacific', 'eastern_european', 'grulac', 'weog')),
    stakeholder TEXT NOT NULL CHECK (stakeholder IN
                ('civil_society', 'academia', 'technical', 'private_sector', 'government', 'intergovernmental')),
    website     TEXT NOT NULL DEFAULT '' CHECK (length(website) <= 200),
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'verified', 'left')),
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    verified_by INTEGER,
    verified_at INTEGER,
    left_by     INTEGER,
    left_at     INTEGER, -- the last time it left (kept if it is admitted again)
    UNIQUE (guild_id, name_key),
    UNIQUE (org_id, guild_id),
    CHECK (state != 'pending' OR verified_at IS NULL),
    CHECK (state != 'verified' OR verified_at IS NOT NULL),
    CHECK (state != 'left' OR left_at IS NOT NULL)
) STRICT;

CREATE INDEX orgs_by_guild ON orgs (guild_id, state);

-- A request to represent an organisation, and, once approved, the representation itself.
-- requested -> active (approved) | declined | withdrawn; active -> ended.
CREATE TABLE org_reps (
    rep_id       INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL,
    guild_id     INTEGER NOT NULL, -- the organisation's server (the foreign key below keeps it so)
    user_id      INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('requested', 'active', 'declined', 'withdrawn', 'ended')),
    requested_at INTEGER NOT NULL,
    decided_by   INTEGER, -- who approved or declined the request
    started_at   INTEGER, -- approved: represents from then on
    ended_by     INTEGER,
    ended_at     INTEGER,
    FOREIGN KEY (org_id, guild_id) REFERENCES orgs (org_id, guild_id) ON DELETE CASCADE,
    UNIQUE (rep_id, org_id),
    CHECK ((state IN ('active', 'ended')) = (started_at IS NOT NULL)),
    CHECK ((state IN ('requested', 'active')) = (ended_at IS NULL)),
    CHECK (ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at)
) STRICT;

-- A member represents at most one organisation at a time, and has at most one open request (or none
-- while they represent one): one open row per member and server.
CREATE UNIQUE INDEX org_reps_one_open ON org_reps (guild_id, user_id) WHERE state IN ('requested', 'active');
-- ... and so at most one organisation at a time; this index also answers "whom does this member represent
-- now", which every click on a point counted per organisation asks.
CREATE UNIQUE INDEX org_reps_one_current ON org_reps (guild_id, user_id) WHERE state = 'active';
CREATE INDEX org_reps_by_member ON org_reps (guild_id, user_id, started_at);
CREATE INDEX org_reps_by_org ON org_reps (org_id, state);

-- Who was each organisation's voice, and when; the current one has no ended_at.
CREATE TABLE org_voices (
    voice_id   INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL,
    rep_id     INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at   INTEGER CHECK (ended_at IS NULL OR ended_at >= started_at),
    FOREIGN KEY (rep_id, org_id) REFERENCES org_reps (rep_id, org_id) ON DELETE CASCADE
) STRICT;

CREATE UNIQUE INDEX org_voices_one_per_org ON org_voices (org_id) WHERE ended_at IS NULL;
CREATE INDEX org_voices_by_rep ON org_voices (rep_id);

-- An import waits here between its preview and the Confirm button (which works after a restart too).
CREATE TABLE org_imports (
    import_id  INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    done_at    INTEGER
) STRICT;

-- The invariants that span tables: a voice is a current representative; only a verified organisation
-- has current representatives (leaving ends them first).
CREATE TRIGGER org_voice_is_current_rep BEFORE INSERT ON org_voices
WHEN (SELECT state FROM org_reps WHERE rep_id = NEW.rep_id) IS NOT 'active'
BEGIN
    SELECT RAISE(ABORT, 'a voice must be a current representative');
END;

CREATE TRIGGER org_rep_ends_voice_first BEFORE UPDATE OF state ON org_reps
WHEN OLD.state = 'active' AND NEW.state != 'active'
     AND EXISTS (SELECT 1 FROM org_voices v WHERE v.rep_id = OLD.rep_id AND v.ended_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'end the voice before the representation');
END;

CREATE TRIGGER org_rep_needs_verified_org BEFORE UPDATE OF state ON org_reps
WHEN NEW.state = 'active' AND (SELECT state FROM orgs WHERE org_id = NEW.org_id) IS NOT 'verified'
BEGIN
    SELECT RAISE(ABORT, 'only a verified organisation has representatives');
END;

CREATE TRIGGER org_leaves_without_reps BEFORE UPDATE OF state ON orgs
WHEN NEW.state != 'verified'
     AND EXISTS (SELECT 1 FROM org_reps r WHERE r.org_id = OLD.org_id AND r.state = 'active')
BEGIN
    SELECT RAISE(ABORT, 'end the representations before the organisation stops being verified');
END;

CREATE TRIGGER org_rep_inserted_active_needs_verified_org BEFORE INSERT ON org_reps
WHEN NEW.state = 'active' AND (SELECT state FROM orgs WHERE org_id = NEW.org_id) IS NOT 'verified'
BEGIN
    SELECT RAISE(ABORT, 'only a verified organisation has representatives');
END;
