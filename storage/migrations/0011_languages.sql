-- 0011: languages. A member's own choice for the bot's replies to them (needed for Arabic, which Discord's
-- clients do not offer), and a working group's language for its public posts (reminders, cards).

CREATE TABLE member_languages (
    guild_id INTEGER NOT NULL REFERENCES guilds (guild_id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('en', 'fr', 'es', 'pt', 'ar')),
    set_at   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) STRICT;

ALTER TABLE groups ADD COLUMN language TEXT CHECK (language IS NULL OR language IN ('en', 'fr', 'es', 'pt', 'ar'));
