"""Tables and the imperative mapping of the domain classes onto them.

Imperative (classical) mapping keeps SQLAlchemy out of the domain model. Times are
stored as UTC and always come back timezone-aware, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import composite, registry, relationship

from backend_bridge.domain import model


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware values")
        value = value.astimezone(timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _enum(cls) -> Enum:
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


metadata = MetaData()
# A conversation id: a ticket's sender, a notification's recipient, an actor in a ticket's
# history (the owner who rated or chased) all keep one, so all are as wide as the APIs accept.
SENDER = String(model.MAX_CONVERSATION_ID)

# One company, many communities: flats, tickets and conversations name theirs by its code.
communities = Table(
    "communities",
    metadata,
    Column("code", String(model.MAX_CODE), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("address", String(128), nullable=False, default=""),
)
COMMUNITY = String(model.MAX_CODE)

rooms = Table(
    "rooms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community", COMMUNITY, ForeignKey("communities.code"), nullable=False, index=True),
    Column("building", String(16), nullable=False),
    Column("unit", String(8), nullable=False),
    Column("room", String(8), nullable=False),
    Column("area_m2", Float, nullable=False, default=0.0),
    UniqueConstraint("community", "building", "unit", "room", name="uq_room_address"),
)

owners = Table(
    "owners",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("room_id", ForeignKey("rooms.id"), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("phone", String(20), nullable=False, index=True),
    Column("role", String(16), nullable=False, default="owner"),
)

bills = Table(
    "bills",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("room_id", ForeignKey("rooms.id"), nullable=False, index=True),
    Column("period", String(7), nullable=False),
    Column("item", String(32), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("due_date", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime),
    UniqueConstraint("room_id", "period", "item", name="uq_bill"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", _enum(model.TicketKind), nullable=False),
    Column("priority", _enum(model.Priority), nullable=False),
    Column("status", _enum(model.TicketStatus), nullable=False, index=True),
    Column("category", String(32), nullable=False, index=True),
    Column("building", String(16)),
    Column("unit", String(8)),
    Column("room", String(8)),
    Column("public_area", String(32)),
    Column("description", Text, nullable=False),
    Column("hazard", String(32)),
    Column("sender", SENDER, nullable=False, index=True),
    Column("anonymous", Boolean, nullable=False, default=False),
    Column("intake", _enum(model.Intake), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("assignee", String(64), index=True),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Column("updated_at", UTCDateTime),
    Column("respond_by", UTCDateTime, nullable=False),
    Column("resolve_by", UTCDateTime, nullable=False),
    Column("responded_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("survey_sent_at", UTCDateTime),
    Column("rating", Integer),
    Column("merged_into", ForeignKey("tickets.id"), index=True),
    Column("external_id", String(64), unique=True),
    Column("community", COMMUNITY, ForeignKey("communities.code"), index=True),
    # When the SLA scheduler must look next (Ticket.sweep_at): it reads ``sweep_at <= now`` only.
    Column("sweep_at", UTCDateTime, index=True),
    # The external system is owed a cancellation since then (Ticket.external_cancel_owed_at);
    # SyncTickets reads ``IS NOT NULL`` only, through the index.
    Column("external_cancel_owed_at", UTCDateTime, index=True),
    # Optimistic locking: an UPDATE names the version it read, so two commands on one ticket at
    # once cannot both win (the message bus re-runs the loser on the new state).
    Column("version", Integer, nullable=False, server_default="1"),
)

# Append-only: rows are inserted, never updated or deleted (the ticket's history).
ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("type", _enum(model.EventType), nullable=False),
    Column("actor", SENDER, nullable=False),
    Column("status", _enum(model.TicketStatus)),
    Column("note", Text, nullable=False, default=""),
    Column("data", JSON, nullable=False, default=dict),
)

# A sender may be bound to one flat per community (a landlord with flats in two is asked which).
bindings = Table(
    "bindings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", SENDER, nullable=False, index=True),
    Column("room_id", ForeignKey("rooms.id"), nullable=False),
    Column("owner_id", ForeignKey("owners.id"), nullable=False),
    Column("bound_at", UTCDateTime, nullable=False),
    UniqueConstraint("sender", "room_id", name="uq_binding"),
)

binding_attempts = Table(
    "binding_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", SENDER, nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("flat", String(40), nullable=False, default="", index=True),
)

visitor_passes = Table(
    "visitor_passes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(8), nullable=False, index=True),
    Column("room_id", ForeignKey("rooms.id"), nullable=False),
    Column("visitor_name", String(64), nullable=False),
    Column("plate", String(16)),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_until", UTCDateTime, nullable=False, index=True),
    Column("issued_to", SENDER, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("used_at", UTCDateTime),
    Column("used_by", String(64)),
    # Optimistic locking, as on tickets: two gates using one code at the same moment both read it
    # unused, but only the first UPDATE finds the version it read; the other is re-run and refused.
    Column("version", Integer, nullable=False, server_default="1"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("sender", SENDER, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("state", _enum(model.ConversationState), nullable=False, index=True),
    Column("script", String(16)),
    Column("handoff_reason", String(64)),
    Column("handed_off_at", UTCDateTime),
    Column("last_inbound_at", UTCDateTime),
    Column("community", COMMUNITY, ForeignKey("communities.code"), index=True),
    Column("assignee", String(64), index=True),  # the staff member answering it now (the console's claim)
    Column("claimed_at", UTCDateTime),
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", ForeignKey("conversations.sender"), nullable=False, index=True),
    Column("reason", String(64), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("ended_by", String(64)),
)

# Staff notes on a conversation: for colleagues, never sent to the owner (no outbox row).
conversation_notes = Table(
    "conversation_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", ForeignKey("conversations.sender"), nullable=False, index=True),
    Column("author", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# 常用语: words staff often send; community None: the whole company's.
canned_replies = Table(
    "canned_replies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(model.MAX_CANNED_TITLE), nullable=False),
    Column("text", Text, nullable=False),
    Column("community", COMMUNITY, ForeignKey("communities.code"), index=True),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", SENDER, nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("client_message_id", String(64)),
    Column("status", _enum(model.InboundStatus), nullable=False, index=True),
    Column("replies", JSON, nullable=False, default=list),
    Column("attempts", Integer, nullable=False, default=0),
    # when a gateway last took it over to answer it (MessageRepository.claim): a retry, the
    # backlog, or its own late first attempt; NULL: only its arrival's attempt has
    Column("claimed_at", UTCDateTime),
    UniqueConstraint("sender", "client_message_id", name="uq_inbound_client_id"),
    # Every owner message asks for the sender's unanswered ones (RecordInbound, the backlog):
    # by sender alone that walks the sender's whole history, which grows for months.
    Index("ix_inbound_sender_status", "sender", "status", "id"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recipient", SENDER, nullable=False),
    Column("key", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("ticket_id", ForeignKey("tickets.id")),
    Column("status", _enum(model.NotificationStatus), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Column("fields", JSON),  # the notice's structured content (ticket number, status, times…)
    Column("delivered_via", String(32)),  # how the channel got it through (mailbox, custom, template…)
    Column("provider_message_id", String(64)),  # a paid platform's id for it (SMS), named by receipts
    Column("billed_parts", Integer),  # SMS parts billed (70 characters in one, 67 per part beyond)
    Column("confirmed_at", UTCDateTime),  # the platform's receipt: it reached the handset
    Index("ix_notifications_due", "status", "next_attempt_at"),
    Index("ix_notifications_provider_message_id", "provider_message_id"),
    Index("ix_notifications_recipient", "recipient", "status", "id"),
)

# What pull channels (the web chat) show: a notification lands here once, whatever retries.
mailbox = Table(
    "mailbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("recipient", SENDER, nullable=False),
    Column("key", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_mailbox_recipient", "recipient", "id"),
)

# Who may deliver to a recipient (or run a singleton job) right now: one dispatcher at a time,
# so each owner's notifications go out in order; a crashed holder's lease simply runs out.
leases = Table(
    "leases",
    metadata,
    Column("name", String(170), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("until", UTCDateTime, nullable=False),
)

# What channels keep between calls and share between processes: a platform's access token, a
# message cursor, an owner who unsubscribed, which parts of a long message already went out.
channel_state = Table(
    "channel_state",
    metadata,
    Column("name", String(170), primary_key=True),
    Column("value", Text, nullable=False),
    Column("until", UTCDateTime),  # forgotten after this; None: kept
)

staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("name", String(64), nullable=False),
    Column("role", _enum(model.Role), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("communities", JSON, nullable=False, default=list),  # codes; empty: company-wide
    Column("wecom_userid", String(64)),  # their WeCom UserID; None: notices go to the log
    Column("password_hash", String(255)),  # argon2id (the console); None: no password yet
    Column("invite_hash", String(64), unique=True),  # sha256 of an open invite link's token
    Column("invite_expires_at", UTCDateTime),
)

# Signed-in console browsers (domain/staff_sessions.py): looked up by the cookie's sha256 on every
# request; the member's are revoked together (logout, deactivation, a new password).
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("username", String(64), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("credential", String(64)),  # the built-in admin's: sha256 of the admin token it was granted on
)

# Webhook deliveries from an external property system already applied: a redelivery changes nothing.
external_events = Table(
    "external_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("system", String(32), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("system", "event_id", name="uq_external_event"),
)

mapper_registry = registry(metadata=metadata)
_mapped = False


def _with_event_list(obj, _context=None) -> None:
    obj.events = []


def start_mappers() -> None:
    """Map the domain classes once per process (idempotent)."""
    global _mapped
    if _mapped:
        return
    _mapped = True
    m = mapper_registry.map_imperatively
    m(model.Community, communities)
    m(model.Owner, owners)
    m(model.Bill, bills)
    m(
        model.Room,
        rooms,
        properties={
            "owners": relationship(model.Owner, lazy="selectin", cascade="all, delete-orphan"),
            "bills": relationship(model.Bill, lazy="selectin", cascade="all, delete-orphan"),
        },
    )
    m(model.TicketEvent, ticket_events)
    m(
        model.Ticket,
        tickets,
        version_id_col=tickets.c.version,
        properties={
            "location": composite(
                model.Location, tickets.c.building, tickets.c.unit, tickets.c.room, tickets.c.public_area
            ),
            "history": relationship(
                model.TicketEvent, lazy="selectin", cascade="all, delete-orphan", order_by=ticket_events.c.id
            ),
        },
    )
    m(model.Binding, bindings)
    m(model.BindingAttempt, binding_attempts)
    m(model.VisitorPass, visitor_passes, version_id_col=visitor_passes.c.version)
    m(model.Handoff, handoffs)
    m(
        model.Conversation,
        conversations,
        properties={
            "handoffs": relationship(
                model.Handoff, lazy="selectin", cascade="all, delete-orphan", order_by=handoffs.c.id
            )
        },
    )
    m(model.Note, conversation_notes)
    m(model.CannedReply, canned_replies)
    m(model.InboundMessage, inbound_messages)
    m(model.Notification, notifications)
    m(model.StaffMember, staff)
    m(model.StaffSession, staff_sessions)
    event.listen(model.Ticket, "load", _with_event_list)
    event.listen(model.Conversation, "load", _with_event_list)
    event.listen(model.InboundMessage, "load", _with_event_list)
