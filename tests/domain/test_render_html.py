"""HTML sentences: the direct fill (``_ht_direct``) writes the same bytes as the marker path (``_ht_slotted``)
in every language, whatever the values are (text to escape, numbers, markup of ours, nested sentences)."""

from __future__ import annotations

import pytest

from domain.i18n import LANGUAGES, Text, t, tn
from domain.render import _ht_direct, _ht_slotted, code, ht

SENTENCES: list[Text] = [
    t("Note: {note}", note="<script>alert(\"x\")</script> & 'quotes'"),
    t("called by {member} on {date}", member="Ana <ana@example.org>", date="2026-12-01"),
    t("revision {revision_number}", revision_number=12345),
    tn("{n} objection open", "{n} objections open", 1234567),
    t("Fingerprint: {fingerprint}", fingerprint=code("e3b0c44298fc")),
    t("{label} {count}", label=t("Agree"), count=31),
    t("Note: {note}", note=t("called by {member} on {date}", member="{not a placeholder}", date="")),
    t("Note: {note}", note="مرحبا 123 abc"),
]


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.parametrize("index", range(len(SENTENCES)))
def test_the_direct_fill_writes_the_bytes_of_the_marker_path(lang: str, index: int) -> None:
    text = SENTENCES[index]
    assert _ht_direct(text, lang) == _ht_slotted(text, lang) == ht(text, lang)
    assert "<script>" not in ht(text, lang)
