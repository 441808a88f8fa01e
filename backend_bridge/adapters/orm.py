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

rooms = Table(
    "rooms", metadata,
    Column("id", Integer, primary_key=True),
    Column("building", String(16), nullable=False),
    Column("unit", String(8), nullable=False),
    Column("room", String(8), nullable=False),
    Column("area_m2", Float, nullable=False, default=0.0),
    UniqueConstraint("building", "unit", "room", name="uq_room_address"),
)  # fmt: skip

owners = Table(
    "owners", metadata,
    Column("id", Integer, primary_key=True),
    Column("room_id", ForeignKey("rooms.id"), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("phone", String(20), nullable=False, index=True),
    Column("role", String(16), nullable=False, default="owner"),
)  # fmt: skip

bills = Table(
    "bills", metadata,
    Column("id", Integer, primary_key=True),
    Column("room_id", ForeignKey("rooms.id"), nullable=False, index=True),
    Column("period", String(7), nullable=False),
    Column("item", String(32), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("due_date", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime),
    UniqueConstraint("room_id", "period", "item", name="uq_bill"),
)  # fmt: skip

tickets = Table(
    "tickets", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", _enum(model.TicketKind), nullable=False),
    Column("priority", _enum(model.Priority), nullable=False),
    Column("status", _enum(model.TicketStatus), nullable=False, index=True),
    Column("category", String(32), nullable=False),
    Column("building", String(16)),
    Column("unit", String(8)),
    Column("room", String(8)),
    Column("public_area", String(32)),
    Column("description", Text, nullable=False),
    Column("hazard", String(32)),
    Column("sender", String(160), nullable=False, index=True),
    Column("anonymous", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Column("updated_at", UTCDateTime),
    Column("respond_by", UTCDateTime, nullable=False),
    Column("resolve_by", UTCDateTime, nullable=False),
)  # fmt: skip

ticket_changes = Table(
    "ticket_changes", metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("status", _enum(model.TicketStatus), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("note", Text, nullable=False, default=""),
)  # fmt: skip

bindings = Table(
    "bindings", metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", String(160), nullable=False, unique=True),
    Column("room_id", ForeignKey("rooms.id"), nullable=False),
    Column("owner_id", ForeignKey("owners.id"), nullable=False),
    Column("bound_at", UTCDateTime, nullable=False),
)  # fmt: skip

binding_attempts = Table(
    "binding_attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", String(160), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("flat", String(40), nullable=False, default="", index=True),
)  # fmt: skip

visitor_passes = Table(
    "visitor_passes", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(8), nullable=False, index=True),
    Column("room_id", ForeignKey("rooms.id"), nullable=False),
    Column("visitor_name", String(64), nullable=False),
    Column("plate", String(16)),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_until", UTCDateTime, nullable=False, index=True),
    Column("issued_to", String(160), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)  # fmt: skip

conversations = Table(
    "conversations", metadata,
    Column("sender", String(160), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("state", _enum(model.ConversationState), nullable=False, index=True),
    Column("script", String(16)),
    Column("handoff_reason", String(64)),
    Column("handed_off_at", UTCDateTime),
    Column("last_inbound_at", UTCDateTime),
)  # fmt: skip

inbound_messages = Table(
    "inbound_messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", String(160), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("client_message_id", String(64)),
    Column("status", _enum(model.InboundStatus), nullable=False, index=True),
    Column("replies", JSON, nullable=False, default=list),
    Column("attempts", Integer, nullable=False, default=0),
    UniqueConstraint("sender", "client_message_id", name="uq_inbound_client_id"),
)  # fmt: skip

outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", String(160), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
)  # fmt: skip

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
    m(model.TicketChange, ticket_changes)
    m(
        model.Ticket,
        tickets,
        properties={
            "location": composite(
                model.Location, tickets.c.building, tickets.c.unit, tickets.c.room, tickets.c.public_area
            ),
            "history": relationship(
                model.TicketChange, lazy="selectin", cascade="all, delete-orphan", order_by=ticket_changes.c.id
            ),
        },
    )
    m(model.Binding, bindings)
    m(model.BindingAttempt, binding_attempts)
    m(model.VisitorPass, visitor_passes)
    m(model.Conversation, conversations)
    m(model.InboundMessage, inbound_messages)
    m(model.OutboundMessage, outbox)
    event.listen(model.Ticket, "load", _with_event_list)
    event.listen(model.Conversation, "load", _with_event_list)
