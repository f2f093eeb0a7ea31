"""/org end to end, the real bot process against the fake Discord: a coalition's member list imported
from CSV across a restart, representatives asking to join and approved by the voice's direct-message
button or a coordinator's command, the voice handed over and passed on, an organisation leaving,
paging through 90 organisations, and the refusals, each one clear sentence that changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMessage
from tests.e2e.fake_discord.models import FakeMember
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows, refused

REGION_FORMS = {  # each region written the ways a spreadsheet might
    "african": ("African", "AFRICAN", "african"),
    "asia_pacific": ("Asia-Pacific", "asia_pacific", "Asia Pacific"),
    "eastern_european": ("Eastern European", "EASTERN_EUROPEAN", "eastern european"),
    "grulac": ("Latin American and Caribbean (GRULAC)", "GRULAC", "grulac"),
    "weog": ("Western European and Others (WEOG)", "WEOG", "weog"),
}
COUNTRIES = {
    "african": ("KE", "Nigeria", "ZAF", "senegal", "GH"),
    "asia_pacific": ("IN", "Indonesia", "PHL", "japan", "PK"),
    "eastern_european": ("PL", "Ukraine", "ROU", "czechia", "RS"),
    "grulac": ("BR", "Argentina", "MEX", "chile", "CO"),
    "weog": ("FR", "Germany", "GBR", "canada", "US"),
}
STAKEHOLDERS = ("Civil society", "academia", "Technical community", "private_sector", "Government",
                "intergovernmental")  # fmt: skip
REGIONS = tuple(REGION_FORMS)


def org_csv(count: int, *, delimiter: str = ",", extra: tuple[str, ...] = ()) -> bytes:
    """A member list of ``count`` organisations spread evenly over the five regions (UTF-8 with a BOM)."""
    d = delimiter
    lines = [d.join(("Name", "Acronym", "Country", "Region", "Stakeholder group", "Website"))]
    for i in range(count):
        region = REGIONS[i % 5]
        lines.append(d.join((f"Organisation {i:03d}", f"O{i}", COUNTRIES[region][(i // 5) % 5],
                             REGION_FORMS[region][i % 3], STAKEHOLDERS[i % 6], f"org{i}.example.org")))  # fmt: skip
    lines.extend(extra)
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


async def import_orgs(fake: FakeDiscord, c: Coalition, data: bytes) -> FakeMessage:
    """Preview and confirm an import as the coordinator; returns the preview message."""
    preview = await (await fake.slash(c.guild, c.coco, "org import", file=("members.csv", data))).final()
    confirm = await fake.click(preview, button(preview, "Confirm import"), c.coco)
    assert "Imported" in (await confirm.final()).text
    return preview


def org_id(bot: BotProcess, name: str) -> int:
    return int(db_rows(bot, "SELECT org_id FROM orgs WHERE name = ?", (name,))[0][0])


def voice_of(bot: BotProcess, name: str) -> int | None:
    found = db_rows(
        bot,
        "SELECT r.user_id FROM org_voices v JOIN org_reps r USING (rep_id) JOIN orgs o ON o.org_id = v.org_id "
        "WHERE o.name = ? AND v.ended_at IS NULL",
        (name,),
    )
    return int(found[0][0]) if found else None


def snapshot(bot: BotProcess) -> list[list[tuple[object, ...]]]:
    return [
        db_rows(bot, f"SELECT * FROM {t} ORDER BY 1")
        for t in ("orgs", "org_reps", "org_voices", "org_imports")
    ]


@dataclass
class World:
    c: Coalition
    other: Coalition
    members: list[FakeMember]
    bot: BotProcess


@pytest.fixture
async def world(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    c = make_coalition(fake)
    other = make_coalition(fake, "Other coalition")
    members = [fake.add_member(c.guild, f"member{i:03d}") for i in range(150)]
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    yield World(c, other, members, bot)
    if bot.process is not None and bot.process.returncode is None:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log(), bot.log()
    assert fake.unhandled == [], fake.unhandled


async def test_import_refused_whole_then_confirmed_across_a_restart(fake: FakeDiscord, world: World) -> None:
    c, bot = world.c, world.bot
    bad = org_csv(57, extra=(
        "Narnia Rights Watch,NRW,Narnia,African,Civil society,",  # line 59: unknown country
        "Atlantis Institute,,FR,Europe,academia,",  # line 60: unknown region
        "ORGANISATION 003,,FR,weog,academia,",  # line 61: repeats line 5 in another case
    ))  # fmt: skip
    text = await refused(
        await fake.slash(c.guild, c.coco, "org import", file=("members.csv", bad)), "Nothing was imported"
    )
    for fragment in ("3 lines have problems", "line 59: unknown country “Narnia”", "line 60: unknown region “Europe”",
                     "line 61: “ORGANISATION 003” repeats line 5"):  # fmt: skip
        assert fragment in text, text
    assert db_rows(bot, "SELECT count(*) FROM orgs") == [(0,)]
    assert db_rows(bot, "SELECT count(*) FROM org_imports") == [(0,)]
    await refused(await fake.slash(c.guild, c.alice, "org import", file=("m.csv", org_csv(3))),
                  "Only coordinators can import organisations")  # fmt: skip

    # fixed (and saved with semicolons this time): a preview, nothing created yet
    itx = await fake.slash(c.guild, c.coco, "org import", file=("members.csv", org_csv(60, delimiter=";")))
    preview = await itx.final()
    assert itx.ephemeral and "Import preview: 60 organisations" in preview.text
    assert "verified" in preview.text and "line 2: **Organisation 000** (O0) · KE" in preview.text
    for region in ("African: 12", "Asia-Pacific: 12", "Eastern European: 12", "GRULAC: 12", "WEOG: 12"):
        assert region in preview.text, preview.text
    assert db_rows(bot, "SELECT count(*) FROM orgs") == [(0,)]

    await bot.restart()  # the Confirm button still works, and imports once
    confirm = await fake.click(preview, button(preview, "Confirm import"), c.coco)
    done = await confirm.final()
    assert confirm.ephemeral and "Imported 60 organisations, verified" in done.text
    await eventually(lambda: any("imported 60 member organisations" in m.text for m in fake.messages(c.general)),
                     what="the public notice")  # fmt: skip
    posted = next(m for m in fake.messages(c.general) if "imported 60 member organisations" in m.text)
    assert posted.pings() == set()
    assert db_rows(bot, "SELECT state, count(*) FROM orgs GROUP BY state") == [("verified", 60)]
    assert db_rows(bot, "SELECT region, count(*) FROM orgs GROUP BY region ORDER BY region") == [
        (r, 12) for r in sorted(REGIONS)
    ]
    assert db_rows(bot, "SELECT country, website FROM orgs WHERE name = 'Organisation 007'") == [
        ("UA", "https://org7.example.org")
    ]
    again = await fake.click(preview, button(preview, "Confirm import"), c.coco)
    assert "already confirmed" in (await again.final()).text
    assert db_rows(bot, "SELECT count(*) FROM orgs") == [(60,)]


async def test_representatives_voices_and_an_organisation_leaving(fake: FakeDiscord, world: World) -> None:
    c, bot, members = world.c, world.bot, world.members
    await import_orgs(fake, c, org_csv(60))

    # 90 of the 150 members ask to represent one of 30 organisations (three each); 60 represent none.
    # The first of each: no voice yet, so a coordinator approves by command, and they become the voice.
    for i in range(30):
        itx = await fake.slash(c.guild, members[i], "org join", org=f"Organisation {i:03d}")
        await itx.response()
        assert itx.ephemeral and "It has no voice yet, so a coordinator will approve it" in itx.text, itx.text
        itx = await fake.slash(c.guild, c.coco, "org approve", org=f"Organisation {i:03d}", member=members[i])
        await itx.response()
        assert itx.ephemeral and "is its voice" in itx.text, itx.text
    assert all(voice_of(bot, f"Organisation {i:03d}") == members[i].id for i in range(30))
    await eventually(lambda: any("You now represent" in m.text for m in fake.dms(members[0])), what="a DM")
    assert "You are its voice" in next(m.text for m in fake.dms(members[0]) if "You now represent" in m.text)

    # the second wave goes to the voices by direct message, with Approve / Decline
    for i in range(30, 60):
        itx = await fake.slash(c.guild, members[i], "org join", org=f"Organisation {i % 30:03d}")
        await itx.response()
        assert f"Its voice, <@{members[i % 30].id}>, got a message to approve it" in itx.text, itx.text
    await refused(await fake.slash(c.guild, members[30], "org join", org="Organisation 000"),
                  "You already asked to represent Organisation 000")  # fmt: skip
    await refused(await fake.slash(c.guild, members[30], "org join", org="Organisation 001"),
                  "You already asked to represent Organisation 000: one request at a time")  # fmt: skip
    voice = members[0]
    asks = [m for m in fake.dms(voice) if m.buttons()]
    assert len(asks) == 1 and "asks to represent **Organisation 000**" in asks[0].text
    assert {b[0] for b in asks[0].buttons()} == {"Approve", "Decline"} and asks[0].pings() == set()
    # the DM button works after a restart, checks who clicks, and answers once
    await bot.restart()
    stranger = await fake.click(asks[0], button(asks[0], "Approve"), members[100])
    await refused(stranger, "Only the voice of Organisation 000 or a coordinator can approve")
    asker = await fake.click(asks[0], button(asks[0], "Approve"), members[30])
    await refused(asker, "can't approve your own request")
    assert db_rows(bot, "SELECT state FROM org_reps WHERE user_id = ?", (members[30].id,)) == [("requested",)]
    click = await fake.click(asks[0], button(asks[0], "Approve"), voice)
    await click.response()
    assert click.type == 7 and f"<@{members[30].id}> now represents **Organisation 000**" in click.text
    assert asks[0].buttons() == []  # the DM now says what happened
    assert db_rows(bot, "SELECT state FROM org_reps WHERE user_id = ?", (members[30].id,)) == [("active",)]
    # Decline by the voice of Organisation 001, approvals of the rest by DM
    for i in range(31, 60):
        org_voice = members[i % 30]
        ask = next(m for m in fake.dms(org_voice) if m.buttons() and f"<@{members[i].id}>" in m.text)
        label = "Decline" if i == 31 else "Approve"
        await (await fake.click(ask, button(ask, label), org_voice)).response()
    assert db_rows(bot, "SELECT state FROM org_reps WHERE user_id = ?", (members[31].id,)) == [("declined",)]
    await eventually(lambda: any("declined" in m.text for m in fake.dms(members[31])), what="the decline DM")
    assert "Organisation 001" in next(m.text for m in fake.dms(members[31]) if "declined" in m.text)
    assert db_rows(bot, "SELECT count(*) FROM org_reps WHERE state = 'active'") == [(59,)]
    # the third wave: the coordinator approves by command
    for i in range(60, 90):
        await (await fake.slash(c.guild, members[i], "org join", org=f"Organisation {i % 30:03d}")).response()
        await (await fake.slash(c.guild, c.coco, "org approve", org=f"Organisation {i % 30:03d}",
                                member=members[i])).response()  # fmt: skip
    assert db_rows(bot, "SELECT count(*) FROM org_reps WHERE state = 'active'") == [(89,)]
    assert db_rows(bot, "SELECT count(DISTINCT user_id) FROM org_reps WHERE state = 'active'") == [(89,)]
    # a member who is not the voice cannot make the organisation leave
    await refused(await fake.slash(c.guild, members[60], "org leave", org="Organisation 000"),
                  "Only the voice of Organisation 000 or a coordinator")  # fmt: skip

    # the voice of Organisation 002 hands it over; the card marks the new voice
    itx = await fake.slash(c.guild, members[2], "org voice", org="Organisation 002", member=members[62])
    await itx.response()
    assert itx.ephemeral and f"<@{members[62].id}> is now the voice of **Organisation 002**" in itx.text
    assert voice_of(bot, "Organisation 002") == members[62].id
    card = await fake.slash(c.guild, members[140], "org info", org="organisation 002")
    await card.response()
    assert f"<@{members[62].id}> — **voice**" in card.text and "Representatives (3)" in card.text
    assert "Pending requests" not in card.text
    # the voice leaves: the voice passes to the longest-serving representative
    itx = await fake.slash(c.guild, members[62], "org remove", org="Organisation 002", member=members[62])
    await itx.response()
    assert f"Its voice passed to <@{members[2].id}>, the longest-serving representative" in itx.text
    assert voice_of(bot, "Organisation 002") == members[2].id

    # Organisation 003 leaves the coalition, by its voice: kept in the record, no longer counted
    itx = await fake.slash(c.guild, members[3], "org leave", org="Organisation 003")
    await itx.response()
    assert not itx.ephemeral and "**Organisation 003** has left the coalition" in itx.text
    assert "Its 3 representatives no longer represent it" in itx.text and itx.message.pings() == set()
    assert db_rows(bot, "SELECT state FROM orgs WHERE name = 'Organisation 003'") == [("left",)]
    assert db_rows(bot, "SELECT r.state, count(*) FROM org_reps r JOIN orgs o USING (org_id) "
                        "WHERE o.name = 'Organisation 003' GROUP BY r.state") == [("ended", 3)]  # fmt: skip
    assert voice_of(bot, "Organisation 003") is None
    await refused(await fake.slash(c.guild, members[120], "org join", org="Organisation 003"),
                  "has left the coalition and takes no new representatives")  # fmt: skip
    # its former representative may now represent another organisation
    await (await fake.slash(c.guild, members[3], "org join", org="Organisation 040")).response()
    assert db_rows(bot, "SELECT o.name, r.state FROM org_reps r JOIN orgs o USING (org_id) WHERE r.user_id = ? "
                        "ORDER BY r.rep_id DESC LIMIT 1", (members[3].id,)) == [("Organisation 040", "requested")]  # fmt: skip

    # a coordinator's card shows the pending requests by name; a member's only counts them
    coord_card = await fake.slash(c.guild, c.coco, "org info", org="Organisation 040")
    await coord_card.response()
    assert f"<@{members[3].id}> asked" in coord_card.text and "Pending requests (1)" in coord_card.text
    member_card = await fake.slash(c.guild, members[149], "org info", org="Organisation 040")
    await member_card.response()
    assert "1 waiting for approval" in member_card.text and f"<@{members[3].id}>" not in member_card.text

    # /privacy export carries the representation; /privacy delete ends it, the voice passing on
    itx = await fake.slash(c.guild, members[5], "privacy export")
    exported = (await itx.final()).attachments[0].text()
    assert '"organisation": "Organisation 005"' in exported and '"is_voice_now": true' in exported
    ask = await (await fake.slash(c.guild, members[5], "privacy delete")).final()
    await (await fake.click(ask, button(ask, "Anonymise me"), members[5])).response()
    assert voice_of(bot, "Organisation 005") == members[35].id
    assert db_rows(bot, "SELECT count(*) FROM org_reps WHERE user_id = ?", (members[5].id,)) == [(0,)]
    assert db_rows(
        bot, "SELECT count(*) FROM orgs WHERE name = 'Organisation 005' AND state = 'verified'"
    ) == [(1,)]


async def test_register_verify_and_the_refusals(fake: FakeDiscord, world: World) -> None:
    c, other, bot, members = world.c, world.other, world.bot, world.members
    alice, bob, carol = c.alice, c.bob, c.carol
    itx = await fake.slash(c.guild, alice, "org register", name="Ärzte für Digitale Rechte", country="deu",
                           region="weog", stakeholder="civil_society", acronym="ÄDR", website="aedr.example.org")  # fmt: skip
    await itx.response()
    assert (
        itx.ephemeral
        and "waits for a coordinator to verify it" in itx.text
        and "you are its voice" in itx.text
    )
    assert db_rows(bot, "SELECT name, country, state, website FROM orgs") == [
        ("Ärzte für Digitale Rechte", "DE", "pending", "https://aedr.example.org")
    ]
    await (await fake.slash(other.guild, other.coco, "org register", name="Theirs", country="FR", region="weog",
                            stakeholder="academia")).response()  # fmt: skip
    theirs = org_id(bot, "Theirs")
    await (await fake.slash(c.guild, bob, "org join", org="ÄRZTE FÜR DIGITALE RECHTE")).response()
    await (await fake.slash(c.guild, carol, "org join", org="ärzte für digitale rechte")).response()

    before = snapshot(bot)
    refusals = [
        (alice, "org verify", {"org": "Ärzte für Digitale Rechte"}, "Only coordinators can verify organisations"),
        (c.coco, "org approve", {"org": "Ärzte für Digitale Rechte", "member": bob}, "is not verified yet"),
        (carol, "org register", {"name": "ÄRZTE FÜR DIGITALE RECHTE", "country": "FR", "region": "weog",
                                 "stakeholder": "academia"}, "already exists on this server (names ignore letter case)"),
        (carol, "org register", {"name": "New Org", "country": "Narnia", "region": "weog", "stakeholder": "academia"},
         "“Narnia” is not a country I know"),
        (carol, "org register", {"name": "#12", "country": "FR", "region": "weog", "stakeholder": "academia"},
         "can't be # followed by digits"),
        (c.coco, "org info", {"org": f"#{theirs}"}, "There is no organisation"),
        (c.coco, "org info", {"org": "Theirs"}, "There is no organisation “Theirs” on this server"),
        (c.coco, "org verify", {"org": f"#{theirs}"}, "There is no organisation"),
        (alice, "org join", {"org": f"#{theirs}"}, "There is no organisation"),
    ]  # fmt: skip
    for who, path, options, fragment in refusals:
        await refused(await fake.slash(c.guild, who, path, options=options), fragment)
        assert snapshot(bot) == before, (path, options)
    # a region typed by a modified client is refused by its list too
    itx = await fake.slash(c.guild, carol, "org register", client_checks=False, options={
        "name": "New Org", "country": "FR", "region": "europe", "stakeholder": "academia"})  # fmt: skip
    await refused(itx, "is not a valid value here")
    assert snapshot(bot) == before

    # verification approves the registrant, who becomes the voice (said in public, pinging nobody)
    itx = await fake.slash(c.guild, c.coco, "org verify", org="Ärzte für Digitale Rechte")
    await itx.response()
    assert not itx.ephemeral and itx.message.pings() == set()
    assert f"<@{alice.id}>, who registered it, now represents it and is its voice" in itx.text
    before = snapshot(bot)
    for who, path, options, fragment in [
        (bob, "org approve", {"org": "Ärzte für Digitale Rechte", "member": bob}, "can't approve your own request"),
        (carol, "org approve", {"org": "Ärzte für Digitale Rechte", "member": bob},
         "Only the voice of Ärzte für Digitale Rechte or a coordinator can approve"),
        (bob, "org voice", {"org": "Ärzte für Digitale Rechte", "member": bob}, "Only the voice of"),
        (alice, "org voice", {"org": "Ärzte für Digitale Rechte", "member": members[7]}, "does not represent"),
        (carol, "org edit", {"org": "Ärzte für Digitale Rechte", "acronym": "X"}, "Only the voice of"),
        (alice, "org edit", {"org": "Ärzte für Digitale Rechte", "country": "Atlantis"}, "not a country I know"),
        (bob, "org remove", {"org": "Ärzte für Digitale Rechte", "member": carol}, "Only the voice of"),
        (carol, "org leave", {"org": "Ärzte für Digitale Rechte"}, "Only the voice of"),
    ]:  # fmt: skip
        await refused(await fake.slash(c.guild, who, path, options=options), fragment)
        assert snapshot(bot) == before, (path, options)
    # a coordinator can't approve their own request either
    await (await fake.slash(c.guild, c.coco, "org register", name="Coordination Office", country="Brazil",
                            region="grulac", stakeholder="technical")).response()  # fmt: skip
    itx = await fake.slash(c.guild, c.coco, "org verify", org="coordination office")
    await itx.response()
    own = await itx.followup(0)
    assert own.ephemeral and "your own request to represent it stays pending" in own.text
    before = snapshot(bot)
    await refused(await fake.slash(c.guild, c.coco, "org approve", org="Coordination Office", member=c.coco),
                  "can't approve your own request")  # fmt: skip
    assert snapshot(bot) == before

    # the voice approves, edits, and autocomplete offers only this server's organisations, as ids
    await (
        await fake.slash(c.guild, alice, "org approve", org="Ärzte für Digitale Rechte", member=bob)
    ).response()
    itx = await fake.slash(
        c.guild, alice, "org edit", org="Ärzte für Digitale Rechte", acronym="-", country="AT"
    )
    await itx.response()
    assert (
        "Updated **Ärzte für Digitale Rechte**: acronym, country." in itx.text and "Austria (AT)" in itx.text
    )
    itx = await fake.autocomplete(c.guild, carol, "org info", focused="org", org="ärzte")
    await itx.response()
    assert [ch["value"] for ch in itx.choices] == [f"#{org_id(bot, 'Ärzte für Digitale Rechte')}"]
    itx = await fake.autocomplete(c.guild, carol, "org info", focused="org", org="the")
    await itx.response()
    assert itx.choices == []  # "Theirs" is another server's
    itx = await fake.autocomplete(c.guild, carol, "org register", focused="country", country="germ")
    await itx.response()
    assert [ch["value"] for ch in itx.choices] == ["DE"]


async def test_list_pages_through_ninety_with_filters(fake: FakeDiscord, world: World) -> None:
    c, bot = world.c, world.bot
    await import_orgs(fake, c, org_csv(90))
    await (await fake.slash(c.guild, c.alice, "org register", name="Zeta Pending", country="KE", region="african",
                            stakeholder="academia")).response()  # fmt: skip
    itx = await fake.slash(c.guild, c.bob, "org list")
    await itx.response()
    page = itx.message
    assert itx.ephemeral and "Page 1 of 7 · 91 organisations" in page.text
    seen: list[str] = []
    for number in range(1, 8):
        assert f"Page {number} of 7" in page.text
        seen += [line.split("**")[1] for line in page.embeds[0]["description"].splitlines()]
        if number < 7:
            await (await fake.click(page, button(page, "Next"), c.bob)).response()
    assert len(seen) == 91 and len(set(seen)) == 91 and seen[-1] == "Zeta Pending"
    assert [d for label, _, d in page.buttons() if label == "Next"] == [True]
    await (await fake.click(page, button(page, "Previous"), c.bob)).response()
    assert "Page 6 of 7" in page.text
    line = next(x for x in (await (await fake.slash(c.guild, c.bob, "org list")).final()).embeds[0][
        "description"].splitlines() if "Organisation 001" in x)  # fmt: skip
    assert (
        line
        == "**Organisation 001 (O1)** — India (IN) · Asia-Pacific · Academia · verified · 0 representatives"
    )

    itx = await fake.slash(c.guild, c.bob, "org list", region="african")
    await itx.response()
    assert "Page 1 of 2 · 19 organisations" in itx.text and "(African)" in itx.text
    itx = await fake.slash(
        c.guild, c.bob, "org list", region="african", stakeholder="academia", state="pending"
    )
    await itx.response()
    assert (
        "Zeta Pending" in itx.text
        and "Page 1 of 1 · 1 organisations" in itx.text
        and not itx.message.buttons()
    )
    itx = await fake.slash(c.guild, c.bob, "org list", state="left")
    await itx.response()
    assert "No organisations match" in itx.text
    # the other server sees none of them
    itx = await fake.slash(world.other.guild, world.other.alice, "org list")
    await itx.response()
    assert "No organisations match" in itx.text
    assert db_rows(bot, "SELECT count(*) FROM orgs") == [(91,)]


async def test_each_sentence_goes_to_its_readers_language(fake: FakeDiscord, world: World) -> None:
    """A reply follows the member's language (/language set, else their Discord client's), a direct message
    the recipient's, a public post the server's: Alice (who chose Arabic) reads Arabic, Bob (a French client)
    French, the server's posts and Bob's direct message English. Arabic also wraps every value in isolates."""
    c, bot = world.c, world.bot
    isolated = "**\u2068Rights Watch\u2069**"
    for member in (c.alice, c.coco):
        await (await fake.slash(c.guild, member, "language set", language="ar")).response()
    itx = await fake.slash(c.guild, c.alice, "org register", name="Rights Watch", country="FR", region="weog",
                           stakeholder="civil_society")  # fmt: skip
    await itx.response()
    # "… is registered and waits": in her own language
    assert itx.ephemeral and f"سُجّلت {isolated} وهي بانتظار" in itx.text, itx.text
    # the coordinator chose Arabic, but the announcement is for everyone: the server's language
    verified = await fake.slash(c.guild, c.coco, "org verify", org="Rights Watch")
    await verified.response()
    assert not verified.ephemeral and "**Rights Watch** is verified by" in verified.text
    assert "\u2068" not in verified.text
    # Bob's client is French: his reply and his refusals come back in French
    joined = await fake.slash(c.guild, c.bob, "org join", org="Rights Watch", locale="fr")
    await joined.response()
    assert joined.ephemeral and "Vous avez demandé à représenter **Rights Watch**." in joined.text
    await refused(await fake.slash(c.guild, c.bob, "org join", org="Rights Watch", locale="fr"),
                  "Vous avez déjà demandé à représenter Rights Watch")  # fmt: skip
    # Alice, the voice, gets the request in her language, and her click answers in it
    await eventually(lambda: any(m.buttons() for m in fake.dms(c.alice)), what="the voice's direct message")
    ask = next(m for m in fake.dms(c.alice) if m.buttons())
    assert ask.text.startswith("يطلب ") and f"تمثيل {isolated}" in ask.text  # "… asks to represent …"
    assert {label for label, _, _ in ask.buttons()} == {"قبول", "رفض"}  # "Approve", "Decline"
    click = await fake.click(ask, button(ask, "قبول"), c.alice)
    await click.response()
    assert f"أصبح \u2068<@{c.bob.id}>\u2069 من ممثّلي {isolated}" in click.text  # "… now represents …"
    # Bob chose nothing, and a direct message has no client locale: the server's language
    await eventually(
        lambda: any("You now represent" in m.text for m in fake.dms(c.bob)), what="Bob's message"
    )
    assert "\u2068" not in next(m.text for m in fake.dms(c.bob) if "You now represent" in m.text)
    assert db_rows(bot, "SELECT state FROM org_reps WHERE user_id = ?", (c.bob.id,)) == [("active",)]
