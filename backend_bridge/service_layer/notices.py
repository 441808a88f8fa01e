"""Who hears what, in which words: the one home of every notification the backend writes.

``NOTICES`` maps each domain event to the rule that turns it into outbox rows (owners hear about
their tickets, staff about their work). The unit of work runs it over every event its aggregates
raised, just before it commits (``NoticeWriter.write``), so a change and the notices it causes are
stored together or not at all, and a use case cannot change a ticket and forget to tell anyone.
``SILENT`` names the events nobody is told about; the test over both tables fails for an event
type in neither, so a new event needs a decision here before it can ship.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from backend_bridge.domain import categories, events, model

if TYPE_CHECKING:
    from backend_bridge.service_layer.unit_of_work import UnitOfWork

# -- the words -----------------------------------------------------------------------------------

OWNER_MESSAGES = {
    model.TicketStatus.IN_PROGRESS: "您的工单 {number} 正在处理中。",
    model.TicketStatus.ON_HOLD: "您的工单 {number} 暂停处理。有进展我们会马上告诉您。",
    model.TicketStatus.RESOLVED: (
        "您的工单 {number} 已处理完。请您评价：回复“满意”“一般”或“不满意”，"
        "也可以打分，如“5分”（5分最满意，1分最不满意）。"
    ),
    model.TicketStatus.REOPENED: "您的工单 {number} 已重新打开，我们会重新安排处理。",
    model.TicketStatus.CLOSED: "您的工单 {number} 已办结，感谢您的支持。",
    model.TicketStatus.CANCELLED: "您的工单 {number} 已取消。",
}
# Owners of merged duplicates follow the primary but cannot rate it: they are told it is done.
MERGED_OWNER_RESOLVED = "您的工单 {number} 已处理完。"
MERGED_OWNER_CANCELLED = "您的工单 {number} 和另一张工单是同一个问题，{note}，进度会继续通知您。"
ASSIGNED_FIRST = "您的工单 {number} 已派单，由{name}负责"
ASSIGNED_AGAIN = "您的工单 {number} 改由{name}负责"
ARRIVAL_EXPECTED = "，预计{time}前到。"
ARRIVAL_UNKNOWN = "，会尽快和您联系。"
STAFF_ASSIGNMENT = "新派工单 {number}（{where}）：{what}"
STAFF_EMERGENCY = "急修 {number}（{where}）：{what}"
# Once per flood (tickets.emergency_paging): the leads and the duty group hear that more unverified
# emergencies are coming than can be paged one by one, and where to look.
EMERGENCY_FLOOD = (
    "【急修异常】{window}分钟内已有{count}起未核实身份的紧急报告（最新 {number}），疑似刷单；"
    "此后同类报告不再逐条通知，请在工单池查看急修工单并核实。"
)
EMERGENCY_WITHDRAWN = "【更正】急修 {number}（{where}）：业主说明不是紧急情况，已改为普通报修，按普通时限处理。"
STAFF_CHASE = "业主催单：工单 {number}（第{times}次）"
STAFF_WITHDRAWN = "业主已撤销工单 {number}（{where}），不用再上门处理。"
STAFF_POOR_RATING = "差评 {score} 分，工单 {number} 已重新打开"
SLA_WARNING = "工单 {number} 将于 {due} 超过{label}时限"
SLA_ESCALATION = "工单 {number} 已超过{label}时限（{due}），请主管跟进"
DEADLINE_LABELS = {"respond": "响应", "resolve": "完成"}
DUTY_ALERT = {
    model.Priority.EMERGENCY.value: "【急修】新工单 {number}（{where}）：{what}",
    model.Priority.URGENT.value: "【加急】新工单 {number}（{where}）：{what}",
}
SUMMARY_CHARS = 80  # how much of a ticket's description a staff alert quotes

# The kind of the notice that tells the owner's channel the conversation went to staff or back
# (written only for channels that follow handoffs, NoticeWriter.handoff_channels); its text is for
# the message log.
# Staff hear that an owner waits for a person, and why (the handoff's reason; "emergency:<hazard>").
HANDOFF_WAITING = "业主在等人工接待：{why}。请到会话列表接手。"
HANDOFF_WHY = {
    "requested": "业主要求转人工",
    "not_understood": "助手两次没听懂",
    "assistant_unreachable": "助手暂时无法应答",
    "call_not_transcribed": "来电录音未能转写，请回电",
}
RELEASED_WHY = "接待的同事{previous}已停用"
CONVERSATION_STATE = "conversation_state"
CONVERSATION_STATE_TEXT = {"handed_off": "[会话转给人工客服]", "bot": "[会话交还智能助手]"}
# A ticket staff opened with no owner contact has nobody to push to.
OWNER_CHANNELS_WITHOUT_PUSH = frozenset({"staff"})
# Shared log recipients while nobody holds the role yet.
NO_SUPERVISOR, NO_AGENT = "supervisors", "desk"


def staff(username: str) -> str:
    """The outbox recipient of a staff member."""
    return f"staff:{username}"


def duty(community: str | None) -> str:
    """The outbox recipient of a community's duty group ("duty:" while the ticket has none): the
    WeCom group robot when one is set up (connectors/wecom), else the log."""
    return f"duty:{community or ''}"


# -- the rules -----------------------------------------------------------------------------------


@dataclass
class NoticeContext:
    """What a rule may read while the transaction is open; role look-ups are made once per commit."""

    uow: UnitOfWork
    now: datetime
    timezone: ZoneInfo
    handoff_channels: frozenset[str] = frozenset()  # NoticeWriter.handoff_channels
    _roles: dict[model.Role, list[model.StaffMember]] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict)

    async def holders(self, role: model.Role, nobody: str, community: str | None) -> list[str]:
        """The role's members who work in ``community`` (company-wide ones included)."""
        if role not in self._roles:
            self._roles[role] = await self.uow.staff.with_role(role)
        return [m.username for m in self._roles[role] if m.sees(community)] or [nobody]

    async def supervisors(self, ticket: model.Ticket) -> list[str]:
        """Who escalations go to: the supervisors of the ticket's community; with none, a shared
        log recipient."""
        return await self.holders(model.Role.SUPERVISOR, NO_SUPERVISOR, ticket.community)

    async def agents(self, ticket: model.Ticket) -> list[str]:
        return await self.holders(model.Role.AGENT, NO_AGENT, ticket.community)

    def local_time(self, when: datetime) -> str:
        return model.local_time(when, self.timezone)

    def iso(self, when: datetime) -> str:
        """A time for a notice's fields: ISO 8601 with the local offset (2026-11-21T15:00:00+08:00)."""
        return when.astimezone(self.timezone).isoformat(timespec="seconds")

    async def name_of(self, username: str) -> str:
        """A staff member's name as owners are told it (the username for someone without an account)."""
        if username not in self._names:
            member = await self.uow.staff.by_username(username)
            self._names[username] = member.name if member else username
        return self._names[username]

    async def ticket_fields(self, ticket: model.Ticket, number: str, **extra: object) -> dict:
        """What a ticket notice says, structured: for channels that build their own message (a
        WeChat template). ``extra`` adds the event's own (expected_at, note, due, score, …)."""
        fields = {
            "number": number,
            "ticket_kind": ticket.kind.value,
            "category": categories.LABELS.get(ticket.category, ticket.category),
            "place": ticket.location.describe(),
            "summary": ticket.description[:SUMMARY_CHARS],
            "status": ticket.status.value,
            "status_label": model.STATUS_LABELS[ticket.status],
            "at": self.iso(self.now),
        }
        if ticket.assignee:
            fields["assignee"] = await self.name_of(ticket.assignee)
        fields.update({k: self.iso(v) if isinstance(v, datetime) else v for k, v in extra.items() if v is not None})
        return fields


@dataclass(frozen=True)
class Notice:
    recipient: str
    text: str
    kind: str
    ticket_id: int | None = None
    fields: dict | None = None  # the text's content, structured (NoticeContext.ticket_fields)


Rule = Callable[[events.Event, object, NoticeContext], Awaitable[list[Notice]]]


async def _owners(
    ctx: NoticeContext,
    ticket: model.Ticket,
    text: str,
    kind: str,
    fields: dict,
    *,
    skip: str | None = None,
    merged_text: str | None = None,
    merged_fields: dict | None = None,
) -> list[Notice]:
    """The ticket's owner and the owners of tickets merged into it (``merged_text`` and
    ``merged_fields`` when theirs differ); ``skip`` is an owner who caused it and was answered in
    the chat."""
    recipients = [ticket.sender] + [t.sender for t in await ctx.uow.tickets.merged_into(ticket.id)]
    return [
        Notice(recipient, text, kind, ticket.id, fields)
        if recipient == ticket.sender
        else Notice(recipient, merged_text or text, kind, ticket.id, merged_fields or fields)
        for recipient in dict.fromkeys(recipients)
        if recipient != skip and recipient.split(":", 1)[0] not in OWNER_CHANNELS_WITHOUT_PUSH
    ]


def _staff(
    usernames: Iterable[str], text: str, kind: str, ticket_id: int | None, fields: dict | None = None
) -> list[Notice]:
    return [Notice(staff(username), text, kind, ticket_id, fields) for username in dict.fromkeys(usernames)]


def _assignee_or(ticket: model.Ticket, others: list[str]) -> list[str]:
    """The ticket's accountable person, or ``others`` while it has none."""
    return [ticket.assignee] if ticket.assignee else list(others)


async def ticket_assigned(event: events.TicketAssigned, ticket: model.Ticket, ctx: NoticeContext) -> list[Notice]:
    """The owner hears who is coming and when; the assignee gets the work (unless an external
    system's technician, who has no account here)."""
    member = await ctx.uow.staff.by_username(event.assignee)
    name = member.name if member else event.assignee
    first = event.previous_status in (model.TicketStatus.NEW.value, model.TicketStatus.REOPENED.value)
    text = (ASSIGNED_FIRST if first else ASSIGNED_AGAIN).format(number=event.number, name=name)
    expected = event.expected_at
    text += ARRIVAL_EXPECTED.format(time=ctx.local_time(expected)) if expected else ARRIVAL_UNKNOWN
    fields = await ctx.ticket_fields(ticket, event.number, assignee=name, expected_at=expected)
    notices = await _owners(ctx, ticket, text, "ticket_assigned", fields)
    if member is not None:
        work = STAFF_ASSIGNMENT.format(
            number=event.number, where=ticket.location.describe(), what=ticket.description[:SUMMARY_CHARS]
        )
        notices += _staff([event.assignee], work, "assignment", ticket.id, fields)
    return notices


async def ticket_status_changed(
    event: events.TicketStatusChanged, ticket: model.Ticket, ctx: NoticeContext
) -> list[Notice]:
    """Owners hear every status change; the owner who caused it (a rating) was answered in the chat."""
    status = model.TicketStatus(event.status)
    if ticket.merged_into is not None and status is model.TicketStatus.CANCELLED:
        text = MERGED_OWNER_CANCELLED.format(number=event.number, note=event.note)
    else:
        text = OWNER_MESSAGES[status].format(number=event.number)
        if event.note and status is not model.TicketStatus.RESOLVED:
            text += f"\n说明：{event.note}"
    # The owners of merged duplicates are other people: they hear the status, never the note staff
    # wrote for this ticket's owner (it may name the flat, the owner, what was found inside).
    plain = OWNER_MESSAGES[status].format(number=event.number)
    resolved = status is model.TicketStatus.RESOLVED
    merged_text = MERGED_OWNER_RESOLVED.format(number=event.number) if resolved else plain
    fields = await ctx.ticket_fields(
        ticket, event.number, status=status.value, status_label=model.STATUS_LABELS[status], note=event.note or None
    )
    kind = f"ticket_{event.status}"
    return await _owners(
        ctx,
        ticket,
        text,
        kind,
        fields,
        skip=event.actor,
        merged_text=merged_text,
        merged_fields=fields | {"note": None},
    )


async def ticket_chased(event: events.TicketChased, ticket: model.Ticket, ctx: NoticeContext) -> list[Notice]:
    """催单 reaches the assignee; a repeated, overdue or unassigned one escalates to a lead."""
    who = [event.assignee] if event.assignee else []
    if event.overdue or event.times > 1 or not event.assignee:
        who += await ctx.supervisors(ticket)
    fields = await ctx.ticket_fields(ticket, event.number, times=event.times)
    return _staff(who, STAFF_CHASE.format(number=event.number, times=event.times), "chase", ticket.id, fields)


async def ticket_withdrawn(event: events.TicketWithdrawn, ticket: model.Ticket, ctx: NoticeContext) -> list[Notice]:
    """Whoever holds the ticket hears that the owner took it back, so nobody comes for nothing;
    one still unassigned simply leaves the queue (the owner was answered in the chat)."""
    if not event.assignee:
        return []
    fields = await ctx.ticket_fields(ticket, event.number, note=event.note)
    text = STAFF_WITHDRAWN.format(number=event.number, where=ticket.location.describe())
    return _staff([event.assignee], text, "withdrawn", ticket.id, fields)


async def poor_rating(event: events.PoorRating, ticket: model.Ticket, ctx: NoticeContext) -> list[Notice]:
    text = STAFF_POOR_RATING.format(score=event.score, number=event.number)
    text += f"：{event.comment}" if event.comment else ""
    fields = await ctx.ticket_fields(ticket, event.number, score=event.score, note=event.comment or None)
    return _staff([*_assignee_or(ticket, []), *await ctx.supervisors(ticket)], text, "poor_rating", ticket.id, fields)


async def emergency_reported(event: events.EmergencyReported, ticket: model.Ticket, ctx: NoticeContext) -> list[Notice]:
    """急修 pages the leads at once; the owner was answered in the chat. Past the limit of
    unverified emergencies (tickets.emergency_paging) one alert stands for the rest."""
    paging = model.EmergencyPaging(event.paging)
    if paging is model.EmergencyPaging.FLAGGED:
        return []
    fields = await ctx.ticket_fields(ticket, event.number, hazard=ticket.hazard)
    if paging is model.EmergencyPaging.FLOOD_ALERT:
        window = int(model.UNVERIFIED_EMERGENCY_WINDOW.total_seconds() // 60)
        text = EMERGENCY_FLOOD.format(window=window, count=event.unverified, number=event.number)
        leads = _staff(await ctx.supervisors(ticket), text, "emergency_flood", ticket.id, fields)
        return [*leads, Notice(duty(ticket.community), text, "emergency_flood", ticket.id, fields)]
    text = STAFF_EMERGENCY.format(
        number=event.number, where=ticket.location.describe(), what=ticket.description[:SUMMARY_CHARS]
    )
    return _staff(await ctx.supervisors(ticket), text, "emergency", ticket.id, fields)


async def emergency_withdrawn(
    event: events.EmergencyWithdrawn, ticket: model.Ticket, ctx: NoticeContext
) -> list[Notice]:
    """Whoever the emergency paged hears that the owner took it back: the leads, the duty group
    and the person already sent, if any (tickets.not_an_emergency)."""
    text = EMERGENCY_WITHDRAWN.format(number=event.number, where=ticket.location.describe())
    fields = await ctx.ticket_fields(ticket, event.number, hazard=ticket.hazard)
    paged = [*_assignee_or(ticket, []), *await ctx.supervisors(ticket)]
    staff = _staff(paged, text, "emergency_withdrawn", ticket.id, fields)
    return [*staff, Notice(duty(ticket.community), text, "emergency_withdrawn", ticket.id, fields)]


async def ticket_opened(event: events.TicketOpened, ticket: model.Ticket, ctx: NoticeContext) -> list[Notice]:
    """A new urgent or emergency ticket is posted to the duty group, whoever it is assigned to
    later: the people on duty see it at once (the owner was answered in the chat)."""
    words = DUTY_ALERT.get(event.priority)
    if words is None or event.quiet:
        return []
    text = words.format(number=event.number, where=ticket.location.describe(), what=ticket.description[:SUMMARY_CHARS])
    fields = await ctx.ticket_fields(ticket, event.number, hazard=ticket.hazard)
    return [Notice(duty(ticket.community), text, f"duty_{event.priority}", ticket.id, fields)]


async def deadline_alerted(event: events.DeadlineAlerted, ticket: model.Ticket, ctx: NoticeContext) -> list[Notice]:
    """A warning goes to the accountable person (the desk while nobody is); an escalation also
    to the leads."""
    label, due = DEADLINE_LABELS[event.deadline], ctx.local_time(event.due)
    if event.alert == model.EventType.SLA_WARNING.value:
        who = _assignee_or(ticket, await ctx.agents(ticket))
        text = SLA_WARNING.format(number=event.number, due=due, label=label)
    else:
        who = [*_assignee_or(ticket, []), *await ctx.supervisors(ticket)]
        text = SLA_ESCALATION.format(number=event.number, due=due, label=label)
    fields = await ctx.ticket_fields(ticket, event.number, deadline=event.deadline, due=event.due)
    return _staff(who, text, event.alert, ticket.id, fields)


async def staff_message_sent(event: events.StaffMessageSent, _source: object, ctx: NoticeContext) -> list[Notice]:
    # who wrote it: the message log shows the author (never the owner: their channel sends the text)
    return [Notice(event.sender, event.text, "staff", fields={"author": event.actor})]


async def replies_deferred(event: events.RepliesDeferred, _source: object, ctx: NoticeContext) -> list[Notice]:
    return [Notice(event.sender, reply, "late_reply") for reply in event.replies]


async def conversation_moved(
    event: events.ConversationHandedOff | events.ConversationHandedBack, conversation: object, ctx: NoticeContext
) -> list[Notice]:
    """No words for the owner (the assistant or staff say what happens), but a channel whose
    platform keeps its own session state (微信客服's service_state) must follow the handoff at
    once, not at the owner's next message: written only for those channels (handoff_channels).
    A handoff also tells the desk of the conversation's community that an owner is waiting, and
    why (in WeCom when they have it): nobody has to watch a list to see it. Not for an emergency,
    whose page to the supervisors and the duty group says it already."""
    notices = []
    # An emergency has paged the supervisors and the duty group already (emergency_reported).
    # Nor when a member took it from the assistant themselves (STAFF_TOOK_OVER): nobody waits.
    if isinstance(event, events.ConversationHandedOff) and not event.reason.startswith(
        ("emergency", model.STAFF_TOOK_OVER)
    ):
        community = getattr(conversation, "community", None)
        why = HANDOFF_WHY.get(event.reason.split(":", 1)[0], event.reason)
        fields = {"sender": event.sender, "reason": event.reason, "at": ctx.iso(ctx.now)}
        agents = await ctx.holders(model.Role.AGENT, NO_AGENT, community)
        notices += _staff(agents, HANDOFF_WAITING.format(why=why), "handoff_waiting", None, fields)
    if event.sender.split(":", 1)[0] in ctx.handoff_channels:
        state = "handed_off" if isinstance(event, events.ConversationHandedOff) else "bot"
        notices.append(
            Notice(event.sender, CONVERSATION_STATE_TEXT[state], CONVERSATION_STATE, fields={"status": state})
        )
    return notices


async def conversation_released(
    event: events.ConversationReleased, conversation: object, ctx: NoticeContext
) -> list[Notice]:
    """The member who held it was deactivated: the owner waits again, and the desk of the
    conversation's community is told so, as for a new handoff."""
    community = getattr(conversation, "community", None)
    fields = {"sender": event.sender, "reason": "released", "at": ctx.iso(ctx.now)}
    agents = await ctx.holders(model.Role.AGENT, NO_AGENT, community)
    why = RELEASED_WHY.format(previous=event.previous)
    return _staff(agents, HANDOFF_WAITING.format(why=why), "handoff_waiting", None, fields)


NOTICES: dict[type[events.Event], Rule] = {
    events.TicketOpened: ticket_opened,
    events.TicketAssigned: ticket_assigned,
    events.TicketStatusChanged: ticket_status_changed,
    events.TicketChased: ticket_chased,
    events.TicketWithdrawn: ticket_withdrawn,
    events.PoorRating: poor_rating,
    events.EmergencyReported: emergency_reported,
    events.EmergencyWithdrawn: emergency_withdrawn,
    events.DeadlineAlerted: deadline_alerted,
    events.StaffMessageSent: staff_message_sent,
    events.RepliesDeferred: replies_deferred,
    events.ConversationHandedOff: conversation_moved,
    events.ConversationHandedBack: conversation_moved,
    events.ConversationReleased: conversation_released,
}  # type: ignore[dict-item]
# Nobody is told: the owner was answered in the chat, or the event is for logs and other systems.
# A claim: the member who took it knows, and the console's live feed shows the others.
SILENT: frozenset[type[events.Event]] = frozenset({events.ConversationClaimed})


class NoticeWriter:
    """Writes the notices of a unit of work's events into its outbox, before it commits."""

    def __init__(self, clock: Callable[[], datetime], timezone: ZoneInfo) -> None:
        self.clock = clock
        self.timezone = timezone
        # Channels that follow handoffs (connectors: a channel with follows_handoff, installed in
        # the process that hands conversations off); only their conversations get CONVERSATION_STATE.
        self.handoff_channels: frozenset[str] = frozenset()

    async def write(self, uow: UnitOfWork, raised: Iterable[tuple[object, events.Event]]) -> None:
        """``raised``: (aggregate, event) pairs not written yet. Unknown event types raise, so a
        new event cannot slip past without a decision in ``NOTICES`` or ``SILENT``."""
        ctx = NoticeContext(uow, self.clock(), self.timezone, self.handoff_channels)
        for source, event in raised:
            if type(event) in SILENT:
                continue
            rule = NOTICES.get(type(event))
            if rule is None:
                raise TypeError(f"no notice rule for {type(event).__name__}: add it to NOTICES or SILENT")
            for notice in await rule(event, source, ctx):
                await uow.notifications.add(
                    model.Notification(
                        notice.recipient,
                        notice.text,
                        notice.kind,
                        ctx.now,
                        ticket_id=notice.ticket_id,
                        fields=notice.fields,
                    )
                )
