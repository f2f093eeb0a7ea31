"""A fixed coalition record used by the summary golden files and benchmarks: every status, every state."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from domain import servers
from domain.agenda import Agenda, SessionSpec
from domain.clock import FakeClock
from domain.consensus import Consensus
from domain.groups import Target, WorkingGroups
from domain.permissions import Actor, Policy
from domain.polls import Polls
from storage.db import Database

GUILD = 424242
ZONE = ZoneInfo("Europe/Paris")
INJECT_TEXT = (
    '=HYPERLINK("http://evil.example","x") <script>alert(1)</script> @everyone [click](http://evil.example)'
)
MEMBERS = {10: "Coco", 20: "Cora", 21: "Otto", 30: "Alice", 31: "Bob", 32: "Carol", 33: "Dan"}


def actor(user_id: int, *, coordinator: bool = False) -> Actor:
    roles = frozenset({"Coordinator"}) if coordinator else frozenset()
    return Actor(GUILD, user_id, MEMBERS[user_id], role_names=roles)


async def build_scenario(db: Database, clock: FakeClock) -> None:
    """Two groups, points in every status, objections in every state, questions, two polls, two sessions."""
    policy = Policy(("Coordinator",))
    groups = WorkingGroups(db, clock, policy, ZONE)
    items = Consensus(db, clock, groups, ZONE, (timedelta(days=1),))
    polls = Polls(db, clock, groups, ZONE, b"0123456789abcdef0123456789abcdef")
    agenda = Agenda(db, clock, groups, ZONE, (timedelta(hours=1),))
    coco = actor(10, coordinator=True)
    await servers.server_joined(db, clock, GUILD, "Coalition for an Open Internet", list(MEMBERS.items()))
    principles = await groups.create(coco, "Principles", description="Core principles of the joint statement")
    roadmap = await groups.create(coco, "Roadmap")
    await groups.set_convener(coco, principles, Target(20, "Cora"))
    await groups.set_convener(coco, roadmap, Target(21, "Otto"))
    for uid in (30, 31, 32):
        await groups.join(actor(uid), principles)
    await groups.join(actor(33), roadmap)

    async def point(text: str, group: str | None, author: int = 30) -> int:
        clock.advance(timedelta(minutes=5))
        return (await items.propose(actor(author), "point", text, group=group)).number

    n1 = await point("The Internet must remain open and interoperable.", "Principles")
    for uid in (30, 31):
        await items.set_position(actor(uid), (await items.resolve(GUILD, str(n1))).item_id, "agree")
    await items.set_position(
        actor(32), (await items.resolve(GUILD, str(n1))).item_id, "object", "Add encryption."
    )
    await items.resolve_objection(actor(20), str(n1), 32, "addressed", "Encryption added to the preamble.")
    await items.decide(actor(20), str(n1), "consensus", "Agreed on the 24 November call")

    n2 = await point("Multistakeholder processes need civil society seats.", "Principles", author=31)
    item2 = (await items.resolve(GUILD, str(n2))).item_id
    await items.set_position(actor(30), item2, "agree")
    await items.set_position(actor(31), item2, "stand_aside")
    await items.set_position(actor(32), item2, "block", INJECT_TEXT)
    await items.resolve_objection(coco, str(n2), 32, "in_the_rough", "Raised twice; the group goes ahead.")
    await items.decide(actor(20), str(n2), "rough_consensus")

    n3 = await point("IANA functions move to a new body. " + INJECT_TEXT, "Roadmap", author=33)
    item3 = (await items.resolve(GUILD, str(n3))).item_id
    await items.set_position(actor(33), item3, "object", "Too early.")
    await items.set_position(actor(30), item3, "block", "Not without oversight.")
    await items.decide(actor(21), str(n3), "no_consensus", "Back to the drawing board")

    n4 = await point("Publish all drafts weekly.", "Roadmap", author=33)
    item4 = (await items.resolve(GUILD, str(n4))).item_id
    await items.set_position(actor(31), item4, "object", "Too much work.")
    await items.set_position(actor(31), item4, "agree")  # the objection is withdrawn
    await items.decide(coco, str(n4), "withdrawn")

    n5 = await point("A point still under discussion, with **markdown** and <b>html</b>.", None, author=30)
    item5 = (await items.resolve(GUILD, str(n5))).item_id
    await items.set_position(actor(31), item5, "object", "Needs data.")

    clock.advance(timedelta(minutes=5))
    q1 = await items.propose(actor(32), "question", "Do we endorse the WSIS+20 text?", group="Principles")
    await items.answer(actor(20), str(q1.number), "Yes, with a caveat on paragraph 3.")
    clock.advance(timedelta(minutes=5))
    await items.propose(actor(31), "question", "Who speaks for us at the open forum?")

    open_poll = await polls.create(coco, "Which day for the call?", "Monday; Tuesday; Friday", duration="2d",
                                   group="Principles")  # fmt: skip
    await polls.vote(actor(30), open_poll.poll_id, [1])
    await polls.vote(actor(31), open_poll.poll_id, [3])
    await polls.vote(actor(32), open_poll.poll_id, [1])
    await polls.close(coco, str(open_poll.number))
    secret = await polls.create(coco, "Sign the joint letter?", "Yes; No", duration="1d", anonymous=True)
    for uid in (30, 31, 33):
        await polls.vote(actor(uid), secret.poll_id, [1 if uid != 33 else 2])
    await polls.close(coco, str(secret.number))

    await agenda.add(coco, SessionSpec(title="Principles drafting", start="2026-12-08 09:00", duration="2h",
                                       group="Principles", moderators="Cora", location="Room B"))  # fmt: skip
    await agenda.add(coco, SessionSpec(title="Roadmap check-in", start="2026-12-09 15:30", end="16:30",
                                       group="Roadmap", zone="America/Sao_Paulo", moderators="Otto"))  # fmt: skip


async def build_org_scenario(db: Database, clock: FakeClock) -> None:
    """The scenario, then three member organisations (and one that left) and what counts per organisation:
    a point of Principles (Bob speaks for ACME's members but not for ACME, Dan is in no group), a decided
    point of the server, an open poll and an anonymous one."""
    from domain.orgs import Org, Organisations

    await build_scenario(db, clock)
    clock.advance(
        timedelta(hours=1)
    )  # what the scenario's members said before, they said for no organisation
    policy = Policy(("Coordinator",))
    groups = WorkingGroups(db, clock, policy, ZONE)
    items = Consensus(db, clock, groups, ZONE, (timedelta(days=1),))
    polls = Polls(db, clock, groups, ZONE, b"0123456789abcdef0123456789abcdef")
    orgs = Organisations(db, clock, policy)
    coco = actor(10, coordinator=True)

    async def org(voice: int, name: str, acronym: str, country: str, region: str, stakeholder: str) -> Org:
        made = await orgs.register(actor(voice), name, country=country, region=region, stakeholder=stakeholder,
                                   acronym=acronym)  # fmt: skip
        return (await orgs.verify(coco, made.org)).org

    acme = await org(30, "ACME Digital Rights", "ACME", "FR", "weog", "civil_society")
    await org(32, "Beta University", "", "KE", "african", "academia")
    await org(33, "Gamma Network", "GN", "BR", "grulac", "technical")
    gone = await org(21, "Delta Foundation", "", "IN", "asia_pacific", "civil_society")
    await orgs.join(actor(31), acme)
    await orgs.approve(actor(30), acme, Target(31, "Bob"))
    clock.advance(timedelta(minutes=5))

    n8 = await items.propose(actor(30), "point", "Civil society chairs one session.", group="Principles",
                             count="organisations")  # fmt: skip
    await items.set_position(actor(30), n8.item_id, "agree")  # ACME, by its voice
    await items.set_position(
        actor(31), n8.item_id, "object", "Two sessions."
    )  # ACME's member: shown, not counted
    await items.set_position(actor(32), n8.item_id, "block", "Not without academia.")  # Beta
    await items.set_position(actor(21), n8.item_id, "agree")  # Delta: not in Principles, not counted
    clock.advance(timedelta(minutes=5))
    n9 = await items.propose(coco, "point", "Publish the member list.", count="organisations")
    await items.set_position(actor(33), n9.item_id, "object", "Ask each organisation first.")
    await items.set_position(actor(32), n9.item_id, "agree")
    await items.set_position(actor(21), n9.item_id, "agree")
    await items.decide(coco, str(n9.number), "rough_consensus", "Gamma's concern noted.")
    await orgs.leave(actor(21), gone)  # after the decision: the decision keeps counting it

    clock.advance(timedelta(minutes=5))
    open_poll = await polls.create(
        coco, "Host city?", "Geneva; Nairobi", duration="2d", count="organisations"
    )
    await polls.vote(actor(30), open_poll.poll_id, [1])
    await polls.vote(actor(32), open_poll.poll_id, [2])
    secret = await polls.create(
        coco, "Endorse?", "Yes; No", duration="1d", anonymous=True, count="organisations"
    )
    for uid in (30, 32, 33):
        await polls.vote(actor(uid), secret.poll_id, [1 if uid != 33 else 2])
    await polls.close(coco, str(secret.number))
