-- 0009: the parts of a scheduled post, decided at its first attempt and kept until it is finished, so
-- every attempt sends the same parts (with the same nonces) and skips the parts already sent.

CREATE TABLE post_parts (
    post_id    INTEGER NOT NULL REFERENCES scheduled_posts (post_id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL CHECK (seq >= 1),           -- the order in which the parts are sent
    target     INTEGER NOT NULL,                            -- a channel id, or a user id for a direct message
    direct     INTEGER NOT NULL CHECK (direct IN (0, 1)),
    part       INTEGER NOT NULL CHECK (part >= 1),          -- the part's number for its target (its nonce)
    payload    TEXT NOT NULL,                               -- what the cog renders, as it decided it
    message_id INTEGER,                                     -- set once sent (0: given up, e.g. closed DMs)
    PRIMARY KEY (post_id, seq),
    UNIQUE (post_id, direct, target, part)
) STRICT;
