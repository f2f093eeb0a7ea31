"""The one parser of each kind of typed input, at its edges: durations, dates and times in any zone up to the
year 9999, reminder offsets, numbers typed as text, and the cleaning of stored text.

Each bad value gets one sentence (a domain error), never an exception Python raises on its own
(ValueError, OverflowError) and never a value the member did not type.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.consensus import parse_deadline
from domain.errors import Invalid
from domain.i18n import joined, t
from domain.polls import close_time
from domain.refs import number_of
from domain.text import has_other_digits, quote, strip_controls, well_formed
from domain.timeparse import (
    REMINDER_OFFSETS_MAX,
    human,
    looks_like_duration,
    parse_date,
    parse_duration,
    parse_offsets,
    parse_when,
    parse_zone,
    spoken,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14, the earliest zone
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")  # UTC-11, among the latest
UNICODE_DIGITS = ["٣", "３", "²", "١٢", "１２", "۳"]  # Arabic-Indic, full-width, superscript, Persian


def refused(error: pytest.ExceptionInfo[Invalid]) -> str:
    """One plain sentence, and exactly a domain error."""
    assert isinstance(error.value, Invalid), type(error.value).__name__
    text = str(error.value)
    assert text.endswith(".") and "\n" not in text and len(text) <= 300, text
    return text


# -- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", timedelta(minutes=30)), (" 1d 12h ", timedelta(days=1, hours=12)), ("2W", timedelta(weeks=2))],
)
def test_durations_in_ascii_digits(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("digit", UNICODE_DIGITS)
def test_a_duration_in_other_digits_is_refused_not_read(digit: str) -> None:
    # Python's \d matches "٣" and "３", and int() reads them: 3 hours the member may not have meant;
    # "²" passes str.isdigit() and makes int() raise.
    with pytest.raises(Invalid) as err:
        parse_duration(f"{digit}h")

    assert "digits other than 0-9" in refused(err)


@pytest.mark.parametrize("text", ["999999w", "99999999w", "9" * 5000 + "s", "3653d1s"])
def test_a_huge_duration_is_refused_before_any_arithmetic(text: str) -> None:
    # 999999w is 19,000 years: added to now it overflowed (OverflowError); 5,000 digits exceed int()'s limit.
    with pytest.raises(Invalid) as err:
        parse_duration(text)

    assert "too long: a duration is at most 10 years" in refused(err)


@pytest.mark.parametrize(("text", "fragment"), [("-1h", "negative"), ("-1", "negative"), ("1e9", "not a duration"),
                                                ("", "Give a duration"), ("\u200b", "Give a duration"), ("1.5h", "not a duration")])  # fmt: skip
def test_not_durations(text: str, fragment: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_duration(text)

    assert fragment in refused(err)


def test_a_features_limit_words_its_own_rule() -> None:
    with pytest.raises(Invalid) as err:
        parse_duration("8d", longest=timedelta(days=7), rule="a session lasts at most {limit}")

    assert refused(err) == "“8d” is too long: a session lasts at most 7 days."


def test_duration_shapes_are_told_from_dates() -> None:
    assert looks_like_duration("48h") and looks_like_duration("-2d") and looks_like_duration("٣h")
    assert (
        looks_like_duration("²h") and not looks_like_duration("2026-12-01") and not looks_like_duration("x")
    )


@pytest.mark.parametrize(
    ("delta", "words"),
    [(timedelta(days=90), "90 days"), (timedelta(days=366), "a year"), (timedelta(days=3653), "10 years"),
     (timedelta(hours=1), "an hour"), (timedelta(minutes=90), "90 minutes")],
)  # fmt: skip
def test_limits_in_words(delta: timedelta, words: str) -> None:
    assert str(human(delta)) == words  # a Text, rendered in the reader's language


# -- reminder offsets --------------------------------------------------------------------------


def test_ten_reminders_are_fine_eleven_are_not() -> None:
    ten = [f"{n}h" for n in range(1, REMINDER_OFFSETS_MAX + 1)]
    assert parse_offsets(ten) == tuple(timedelta(hours=n) for n in range(10, 0, -1))

    with pytest.raises(Invalid) as err:
        parse_offsets([*ten, "11h"])

    assert refused(err) == "A session can have at most 10 reminders before its start; 11 were given."


@pytest.mark.parametrize(
    ("texts", "fragment"),
    [
        (["1h", "60m"], "“60m” is given twice"),  # the same offset spelt two ways
        (["1h", "0m"], "more than 0 minutes"),
        (["91d"], "at most 90 days before the start"),
        (["99999999w"], "at most 90 days before the start"),
        (["١h"], "digits other than 0-9"),
    ],
)
def test_bad_reminder_offsets(texts: list[str], fragment: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_offsets(texts)

    assert fragment in refused(err)


# -- dates and times ---------------------------------------------------------------------------


def test_the_last_minute_of_9999_east_of_utc_is_a_real_instant() -> None:
    # 9999-12-31 23:59 in Kiritimati (UTC+14) is 09:59 UTC the same day: inside datetime's range.
    assert parse_when("9999-12-31 23:59", KIRITIMATI) == datetime(9999, 12, 31, 9, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("9999-12-31 23:59", PAGO_PAGO),  # UTC-11: the instant is in the year 10000 (was OverflowError)
        ("0001-01-01 00:00", ZoneInfo("Asia/Tokyo")),  # east of UTC: the instant is in the year 0
    ],
)
def test_a_wall_time_whose_instant_no_datetime_holds_is_refused(text: str, zone: ZoneInfo) -> None:
    with pytest.raises(Invalid) as err:
        parse_when(text, zone)

    assert "outside the calendar" in refused(err)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0000-01-01 00:00", "not a real date"),
        ("10000-01-01 00:00", "not a date and time"),
        ("２０２６-12-01 18:00", "digits other than 0-9"),
        ("٢٠٢٦-١٢-٠١ ١٨:٠٠", "digits other than 0-9"),
        ("2026-12-01 1８:00", "digits other than 0-9"),
        ("2026-12-01 18:00:00.5", "not a date and time"),
        ("2027-03-28 02:30", "does not exist in Europe/Paris"),  # the spring-forward gap
    ],
)
def test_dates_that_are_not_accepted(text: str, fragment: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_when(text, PARIS)

    assert fragment in refused(err)


def test_the_repeated_hour_of_autumn_is_its_first_occurrence() -> None:
    # 02:30 happens twice in Paris on 2026-10-25: the first (summer time, UTC+2) is taken.
    assert parse_when("2026-10-25 02:30", PARIS) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["20261124", "2026-W48-2", "２０２６-11-24", "2026-11-31", "2026-11-24 10:00", ""]
)
def test_only_real_dates_in_one_spelling(text: str) -> None:
    # date.fromisoformat took "20261124" and ISO week dates ("2026-W48-2" is 2026-11-24) without a word.
    with pytest.raises(Invalid):
        parse_date(text)


def test_a_date() -> None:
    assert parse_date(" 2026-11-24 ") == date(2026, 11, 24)


# -- feature limits on far-away times ------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "closes", "fragment"),
    [
        (None, "9999-12-31 23:59", "outside the calendar"),  # in Pago Pago: the year 10000 in UTC
        (None, "2027-03-01 12:01", "a poll closes at most 90 days from now"),
        ("99999999w", None, "a poll runs at most 90 days"),
        ("91d", None, "a poll runs at most 90 days"),
        ("0m", None, "must run for some time"),
        ("-1", None, "can't be negative"),
        ("٣h", None, "digits other than 0-9"),
    ],
)
def test_poll_close_times_are_bounded(duration: str | None, closes: str | None, fragment: str) -> None:
    with pytest.raises(Invalid) as err:
        close_time(duration, closes, PAGO_PAGO, NOW)

    assert fragment in refused(err)


def test_a_poll_may_close_ninety_days_from_now() -> None:
    assert close_time("90d", None, PARIS, NOW) == NOW + timedelta(days=90)

    with pytest.raises(Invalid) as err:
        close_time(None, "9999-12-31 23:59", KIRITIMATI, NOW)
    assert "a poll closes at most 90 days from now" in refused(err)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("99999999w", "a comment deadline is at most a year away"),  # was OverflowError: now + 19,000 years
        ("367d", "a comment deadline is at most a year away"),
        ("9999-12-31 23:59", "a comment deadline is at most a year away"),
        ("١٢h", "digits other than 0-9"),
        ("２０２７-01-01 10:00", "digits other than 0-9"),
        ("-1", "not a deadline"),
        ("1e9", "not a deadline"),
    ],
)
def test_comment_deadlines_are_bounded(text: str, fragment: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_deadline(text, KIRITIMATI, NOW)

    assert fragment in refused(err)


# -- time zones --------------------------------------------------------------------------------


def test_a_zone_name_with_invisible_characters_is_the_zone() -> None:
    assert parse_zone("Europe/Paris\u200b").key == "Europe/Paris"
    assert parse_zone("Europe/Pa\x00ris").key == "Europe/Paris"  # cleaned as every typed text is


@pytest.mark.parametrize("name", ["Europe/" + "x" * 6000, "\ud800", "١٢", "../etc/passwd", "\x00"])
def test_names_that_are_no_zone(name: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_zone(name)

    assert "is not a time zone" in refused(err)


# -- numbers typed as text -------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["3", "#3", " # 3 ", "#003"])
def test_item_numbers(ref: str) -> None:
    assert number_of(ref, "an item") == 3


@pytest.mark.parametrize("ref", ["١٢", "#１２", "²", "#٣"])
def test_item_numbers_in_other_digits_are_refused(ref: str) -> None:
    # "²".isdigit() is True and int("²") raises; int("١٢") is 12, a number the member may not have typed.
    with pytest.raises(Invalid) as err:
        number_of(ref, "an item")

    assert "digits other than 0-9" in refused(err)


@pytest.mark.parametrize("ref", ["-1", "1e9", "9" * 30, "3.0", "#3a", "#3 4"])
def test_not_item_numbers(ref: str) -> None:
    with pytest.raises(Invalid) as err:
        number_of(ref, "an item")

    assert "is not an item number" in refused(err)


@pytest.mark.parametrize("ref", ["", "#", "\ud800", "\u200b\u202e"])
def test_no_item_number_at_all(ref: str) -> None:
    with pytest.raises(Invalid) as err:
        number_of(ref, "an item")

    assert refused(err) == "Give an item number, like #3 (autocomplete helps)."


# -- cleaning text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x00b", "ab"),  # SQLite counts a string only up to a NUL
        ("\u202egnp.exe", "gnp.exe"),  # a right-to-left override
        ("x" + "\u200b" * 5000 + "y", "xy"),  # a zero-width flood
        ("\ud800ok\udfff", "ok"),  # lone surrogates: no UTF-8 for them, SQLite refused the whole text
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # a family emoji keeps its joiners
        ("می\u200cخواهم", "می\u200cخواهم"),  # Persian keeps its zero-width non-joiner
        ("a" + "\u200d" * 4000 + "b", "a\u200db"),  # a run of joiners is one joiner
        ("\u200da b\u200c", "a b"),  # a joiner at an edge or next to a space joins nothing
        ("line 1\n\tline 2", "line 1\n\tline 2"),
        ("e\u0301", "é"),  # a combining accent typed apart counts once
    ],
)
def test_strip_controls(raw: str, clean: str) -> None:
    assert strip_controls(raw) == clean
    strip_controls(raw).encode("utf-8")  # always storable


def test_a_flood_of_combining_marks_is_counted_after_cleaning() -> None:
    # 1,500 visible letters each carrying five stacked marks: 9,000 code points, not 1,500 characters.
    text = ("a" + "\u0316\u0317\u0318\u0319\u031a") * 1500
    assert len(strip_controls(text)) == 9000


def test_quote_and_digits() -> None:
    assert quote("\u202eab\u0000c" + "x" * 100, 10) == "abcxxxxxx…"
    assert [has_other_digits(t) for t in ("12", "١٢", "²", "a")] == [False, True, True, False]


def test_well_formed_text_drops_lone_surrogates_and_joins_split_pairs() -> None:
    assert well_formed("a\ud800b\udfffc") == "abc"
    assert well_formed("\ud83d\ude00") == "😀"  # a pair decoded as two code points


@pytest.mark.parametrize(
    ("delta", "lang", "said"),
    [
        (timedelta(days=1), "en", "1 day"),
        (timedelta(hours=1, minutes=30), "en", "1 hour and 30 minutes"),
        (timedelta(seconds=6), "fr", "6 secondes"),
        (timedelta(days=2, hours=3), "es", "2 días y 3 horas"),
        (timedelta(minutes=10), "pt", "10 minutos"),
        (timedelta(hours=1), "ar", "ساعة واحدة"),  # Arabic says "one hour" without the number
    ],
)
def test_a_reminder_offset_is_said_in_words_of_the_language(delta: timedelta, lang: str, said: str) -> None:
    # as the session card says it (the reminders' sentence), in the reader's language
    shown = t("{offsets} before, and at the start", offsets=joined([spoken(delta)])).render(lang)
    assert said in shown and "{" not in shown
    assert (
        shown != t("{offsets} before, and at the start", offsets=joined([spoken(delta)])).render("en")
        or lang == "en"
    )
