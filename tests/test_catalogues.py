"""The translation catalogues: current with the code, complete in every shipped language, the same
placeholders as the English, compiled, accepted by gettext's own `msgfmt --check`, and within Discord's
limits where Discord shows them (command descriptions and choice names)."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.babel_extract import DISCORD_NOTE, extract
from domain.i18n import BABEL_LOCALES, LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "domain" / "locale"
SHIPPED = [lang for lang in LANGUAGES if lang != "en"]
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: Sentences that read the same in a language as in English (names, symbols, markup only).
SAME_EVERYWHERE = {
    "English",
    "Français",
    "Español",
    "Português",
    "العربية",
    "Caucus",
    "GRULAC",
    "WEOG",
}
#: Words a language writes exactly as English does (each checked by hand: French shares these).
SAME_IN: dict[str, set[str]] = {
    "fr": {
        "Consensus",
        "consensus",
        "Organisation",
        "Organisations",
        "organisations",
        "Organisations ({filters})",
        "Point #{number}",
        "point",
        "points",
        "Positions",
        "Question #{number}",
        "Questions",
        "question",
        "questions",
        "Version",
        "version {version_number}",
    },
}


def po(lang: str) -> Catalog:
    with (LOCALE / BABEL_LOCALES[lang] / "LC_MESSAGES" / "caucus.po").open("rb") as handle:
        return read_po(handle, locale=BABEL_LOCALES[lang])


def ids(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def texts(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def formats(text: str, names: set[str]) -> bool:
    """Whether the sentence fills in as the bot fills it (str.format: a stray brace would raise)."""
    try:
        text.format(**dict.fromkeys(names, "x"))
    except (ValueError, KeyError, IndexError):
        return False
    return True


def extracted() -> set[str]:
    """The message ids the code holds now, as `pybabel extract -F pyproject.toml` finds them."""
    method_map = [("**.py", extract)]
    found: set[str] = set()
    for folder in ("bot", "cogs", "domain", "storage"):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / folder, method_map, keywords={"t": None, "tn": (1, 2)}, comment_tags=()
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_the_template_holds_every_sentence_of_the_code() -> None:
    with (LOCALE / "caucus.pot").open("rb") as handle:
        template = {ids(m)[0] for m in read_po(handle) if m.id}
    now = extracted()
    assert now - template == set(), (
        "sentences not in domain/locale/caucus.pot: run pybabel extract and update"
    )
    assert template - now == set(), "domain/locale/caucus.pot has sentences the code no longer says"


@pytest.mark.parametrize("lang", SHIPPED)
def test_every_sentence_is_translated_with_the_same_placeholders(lang: str) -> None:
    with (LOCALE / "caucus.pot").open("rb") as handle:
        template = {ids(m)[0]: m for m in read_po(handle) if m.id}
    catalog = po(lang)
    plural_forms = catalog.num_plurals
    missing, fuzzy, untranslated, wrong, english = [], [], [], [], []
    for msgid, source in template.items():
        message = catalog.get(msgid)
        if message is None:
            missing.append(msgid)
            continue
        if message.fuzzy:
            fuzzy.append(msgid)
        forms = texts(message)
        if not all(f.strip() for f in forms) or (source.pluralizable and len(forms) != plural_forms):
            untranslated.append(msgid)
            continue
        wanted = set().union(*(placeholders(i) for i in ids(source)))
        for form in forms:
            have = placeholders(form)
            # a plural form may leave out {n} (Arabic's "two members" is one word); nothing else
            if have - wanted or (wanted - {"n"}) - have or not formats(form, wanted | {"n"}):
                wrong.append((msgid, form))
        same = SAME_EVERYWHERE | SAME_IN.get(lang, set())
        words = re.search(r"[A-Za-z]{4,}", PLACEHOLDER.sub("", msgid))
        if not source.pluralizable and forms[0] == msgid and msgid not in same and words:
            english.append(msgid)
    assert missing == [], f"{lang}: not in the catalogue"
    assert fuzzy == [], f"{lang}: fuzzy (needs review)"
    assert untranslated == [], f"{lang}: not translated"
    assert wrong == [], f"{lang}: placeholders differ from the English"
    assert english == [], f"{lang}: left in English"


@pytest.mark.parametrize("lang", SHIPPED)
def test_what_discord_shows_fits_its_limits(lang: str) -> None:
    """Command and option descriptions and choice names: at most 100 characters in every language."""
    too_long = [
        (m.id, f)
        for m in po(lang)
        if m.id and DISCORD_NOTE in m.auto_comments
        for f in texts(m)
        if len(f) > 100
    ]
    assert too_long == []


@pytest.mark.parametrize("lang", SHIPPED)
def test_the_compiled_catalogue_is_current(lang: str) -> None:
    out = io.BytesIO()
    write_mo(out, po(lang))
    committed = (LOCALE / BABEL_LOCALES[lang] / "LC_MESSAGES" / "caucus.mo").read_bytes()
    assert out.getvalue() == committed, f"{lang}: run pybabel compile -d domain/locale -D caucus"


@pytest.mark.parametrize("lang", SHIPPED)
def test_gettext_msgfmt_checks_the_catalogue(lang: str, tmp_path: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        if os.environ.get("CI"):
            pytest.fail("msgfmt is missing: .ci/run installs gettext")
        pytest.skip("SKIPPED: no msgfmt on this machine (apt-get install gettext); .ci/run installs it")
    path = LOCALE / BABEL_LOCALES[lang] / "LC_MESSAGES" / "caucus.po"
    checked = subprocess.run(
        [msgfmt, "--check", "-o", str(tmp_path / "out.mo"), str(path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
