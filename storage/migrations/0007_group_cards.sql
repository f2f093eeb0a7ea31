-- 0007: where each working group's card is posted, so every copy shows the current members.

CREATE TABLE group_cards (
    group_id   INTEGER NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (group_id, message_id)
) STRICT;
