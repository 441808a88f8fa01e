"""Content an operator edits without touching code: the company's defaults and each community's own.

Fee answers, hotlines, published service levels and emergency advice change more often than code,
so they live in YAML an operator edits directly:

    content/company.yml               the company-wide default, complete (every section)
    content/communities/<code>.yml    one per community (小区); states only what differs

One deployment serves many communities, and most of what they tell owners is the company's, so a
community file overrides the company file section by section, key by key (mappings are merged,
anything else is replaced) and the merged document is validated as a whole. A community's name,
address and aliases are its own and are never inherited.

The files are re-read when they change (looked at no more than twice a second), a new community
file is picked up and a removed one dropped, all without a restart. An edit that does not
validate is logged with the file's name and the last good version of that file stays in use, so
a typo never takes the assistant down; an unknown community code gets the company default rather
than an error.
"""

from __future__ import annotations

import logging
import os
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from backend_bridge.domain.communities import valid_code
from backend_bridge.domain.model import NOTICE_FIELDS, Priority, ServiceLevel, TicketKind
from common.fees import FEE_ITEMS, PROPERTY_FEE

log = logging.getLogger(__name__)

FEE_TOPICS = ("overview", "how_to_pay", "invoice", "late_fee", "standard", "public_income")
# What a fee is and how to pay it differ by fee; invoices, late fees and public income do not.
ITEM_TOPICS = ("overview", "how_to_pay", "standard")
# Deadlines per kind and priority tier; a complaint has no emergency tier of its own.
TIERS = {
    "repair": ("emergency", "urgent", "normal", "low"),
    "complaint": ("urgent", "normal", "low"),
}
PROMISES = ("repair", "emergency", "complaint")
COMPANY_FILE = "company.yml"
COMMUNITIES_DIR = "communities"
IDENTITY = ("address", "aliases")  # community keys a community never inherits from the company
MAX_WARNED_CODES = 1024  # unknown codes remembered to warn once each, whatever callers pass


class ContentError(ValueError):
    pass


@dataclass(frozen=True)
class MessageTemplate:
    """A platform's pre-approved message template for one kind of notification (a WeChat template
    message): its id and, per template key, the text to put there, written with the
    notification's fields ("{number}", "{expected_at:%m月%d日 %H:%M}", "{text}")."""

    template_id: str
    fields: dict[str, str]
    url: str = ""  # where tapping the message leads; empty: nowhere


@dataclass(frozen=True)
class CommunityContent:
    name: str
    service_hotline: str
    duty_hotline: str
    office_hours: str
    fees: dict[str, str]  # about the property fee, by topic
    service_levels: dict[str, dict[str, ServiceLevel]]
    promises: dict[str, str]
    emergency_advice: dict[str, str]
    warn_before_minutes: int = 30  # warn the accountable person this long before a deadline
    follow_up_close_hours: int = 72  # an unanswered rating question closes the ticket after this
    code: str = ""  # the community's code (its file name); "" for the company default
    address: str = ""
    aliases: tuple[str, ...] = ()  # names owners use for the community; always includes the name
    # notification kind → WeChat template: how a status update reaches an owner outside the 48 h
    # in which customer-service messages may be sent (optional; without one it is dead-lettered)
    wechat_templates: dict[str, MessageTemplate] = field(default_factory=dict)
    # other fees than the property fee (common/fees.py): item → answer; an item not here is not covered
    fee_items: dict[str, str] = field(default_factory=dict)
    # notification kind → approved SMS template (template code, variables from the fields): mainland
    # SMS may only carry these; "late_reply" is the generic one for the assistant's answers
    sms_templates: dict[str, MessageTemplate] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in self.aliases:
            object.__setattr__(self, "aliases", (self.name, *self.aliases))

    def fee_answer(self, topic: str, item: str | None = None) -> str | None:
        """The answer about ``topic`` of the property fee, or of another fee (``item``) when the
        content covers it; None when it does not (the assistant says so and offers a person)."""
        if item and item != PROPERTY_FEE and topic in ITEM_TOPICS:
            return self.fee_items.get(item)
        return self.fees.get(topic) or self.fees["overview"]

    def advice(self, hazard: str) -> str:
        return self.emergency_advice.get(hazard) or self.emergency_advice["default"]

    def level(self, kind: TicketKind | str, priority: Priority | str) -> ServiceLevel:
        kind, priority = TicketKind(kind).value, Priority(priority).value
        return self.service_levels[kind].get(priority) or self.service_levels["repair"][priority]

    def promise(self, kind: TicketKind | str, priority: Priority | str) -> str:
        """The published promise for a ticket, e.g. 维修人员会在30分钟内联系您，24小时内处理好。"""
        level = self.level(kind, priority)
        name = "emergency" if Priority(priority) is Priority.EMERGENCY else TicketKind(kind).value
        return self.promises[name].format(
            respond=_duration(level.respond_minutes), resolve=_duration(level.resolve_hours * 60)
        )


def _duration(minutes: int) -> str:
    if minutes % 60 == 0 and minutes >= 60:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟"


# --- validation ---------------------------------------------------------------------------------


def parse_content(raw: object, *, code: str = "") -> CommunityContent:
    """Validate a complete YAML document; raises ContentError naming the first problem."""
    if not isinstance(raw, dict):
        raise ContentError("the file must be a mapping")

    def section(name: str, keys: tuple[str, ...] = ()) -> dict:
        value = raw.get(name)
        if not isinstance(value, dict):
            raise ContentError(f"section '{name}' is missing")
        for key in keys:
            if key not in value:
                raise ContentError(f"'{name}.{key}' is missing")
        return value

    community = section("community", ("name", "service_hotline", "duty_hotline", "office_hours"))
    fees = dict(section("fees", FEE_TOPICS))
    fee_items = _fee_items(fees.pop("items", None))
    levels = section("service_levels", tuple(TIERS))
    promises = section("promises", PROMISES)
    advice = section("emergency_advice", ("default",))
    service_levels, warn_before, close_after = _service_levels(levels, raw.get("sla") or {})
    _check_texts(community, fees, promises, advice)
    name = str(community["name"])
    return CommunityContent(
        name=name,
        service_hotline=str(community["service_hotline"]),
        duty_hotline=str(community["duty_hotline"]),
        office_hours=str(community["office_hours"]),
        fees={k: v.strip() for k, v in fees.items()},
        service_levels=service_levels,
        promises={k: v.strip() for k, v in promises.items()},
        emergency_advice={k: str(v).strip() for k, v in advice.items()},
        warn_before_minutes=warn_before,
        follow_up_close_hours=close_after,
        code=code,
        address=str(community.get("address", "")),
        aliases=_aliases(name, community.get("aliases")),
        wechat_templates=_templates(raw.get("wechat_templates"), "wechat_templates"),
        fee_items=fee_items,
        sms_templates=_templates(raw.get("sms_templates"), "sms_templates"),
    )


def _fee_items(raw: object) -> dict[str, str]:
    """fees.items: other fees the community answers about, by the names in common/fees.py."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ContentError("'fees.items' must map fees to answers")
    for item, text in raw.items():
        if item not in FEE_ITEMS or item == PROPERTY_FEE:
            others = sorted(set(FEE_ITEMS) - {PROPERTY_FEE})
            raise ContentError(f"'fees.items.{item}' is not a fee we know; use one of {others}")
        if not isinstance(text, str) or not text.strip():
            raise ContentError(f"'fees.items.{item}' must be non-empty text")
    return {item: text.strip() for item, text in raw.items()}


def _templates(raw: object, section: str) -> dict[str, MessageTemplate]:
    """kind → {template_id, fields: {key: text with {field} placeholders}, url?}; checked here, so a
    placeholder typo fails when the file is loaded, not in front of an owner."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ContentError(f"'{section}' must map notification kinds to templates")
    found = {}
    for kind, entry in raw.items():
        where = f"{section}.{kind}"
        if not isinstance(entry, dict) or not isinstance(entry.get("template_id"), str) or not entry["template_id"]:
            raise ContentError(f"'{where}.template_id' is missing")
        fields = entry.get("fields")
        if not isinstance(fields, dict) or not fields:
            raise ContentError(f"'{where}.fields' must map template keys to texts")
        for key, text in fields.items():
            if not isinstance(text, str):
                raise ContentError(f"'{where}.fields.{key}' must be text")
            try:
                names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            except ValueError as exc:
                raise ContentError(f"'{where}.fields.{key}' is not a valid template: {exc}") from exc
            unknown = sorted(n for n in names if n not in NOTICE_FIELDS)
            if unknown:
                raise ContentError(
                    f"'{where}.fields.{key}' names {', '.join(unknown)}; use {', '.join(sorted(NOTICE_FIELDS))}"
                )
        url = entry.get("url", "")
        if not isinstance(url, str):
            raise ContentError(f"'{where}.url' must be text")
        found[str(kind)] = MessageTemplate(entry["template_id"], {str(k): v for k, v in fields.items()}, url)
    return found


def _service_levels(levels: dict, sla: object) -> tuple[dict[str, dict[str, ServiceLevel]], int, int]:
    service_levels: dict[str, dict[str, ServiceLevel]] = {}
    try:
        for kind, tiers in TIERS.items():
            service_levels[kind] = {}
            for tier in tiers:
                entry = levels[kind][tier]
                level = ServiceLevel(int(entry["respond_minutes"]), int(entry["resolve_hours"]))
                if level.respond_minutes <= 0 or level.resolve_hours <= 0:
                    raise ContentError(f"service_levels.{kind}.{tier} must be positive")
                service_levels[kind][tier] = level
        warn_before = int(sla.get("warn_before_minutes", 30))
        close_after = int(sla.get("follow_up_close_hours", 72))
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        if isinstance(exc, ContentError):
            raise
        raise ContentError(f"service_levels/sla: missing or not a number: {exc}") from exc
    if warn_before < 0 or close_after <= 0:
        raise ContentError("sla values must be positive")
    return service_levels, warn_before, close_after


def _check_texts(community: dict, fees: dict, promises: dict, advice: dict) -> None:
    texts = (
        {f"fees.{k}": v for k, v in fees.items()}
        | {f"promises.{k}": v for k, v in promises.items()}
        | {f"emergency_advice.{k}": v for k, v in advice.items()}
    )
    for key, value in texts.items():
        if not isinstance(value, str) or not value.strip():
            raise ContentError(f"'{key}' must be non-empty text")
    for key, value in community.items():  # a hotline may be written as a bare number
        if key == "aliases":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            raise ContentError(f"'community.{key}' must be non-empty text")
    for name in PROMISES:  # a placeholder typo must fail here, not in front of an owner
        try:
            promises[name].format(respond="", resolve="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ContentError(
                f"'promises.{name}' has a bad placeholder ({exc!r}); use {{respond}} and {{resolve}}"
            ) from exc


def _aliases(name: str, value: object) -> tuple[str, ...]:
    """The name first, then the aliases as written, without repeats."""
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        raise ContentError("'community.aliases' must be a list of non-empty texts, e.g. [阳光, 阳光小区]")
    return tuple(dict.fromkeys([name, *(a.strip() for a in value)]))


# --- company defaults and community overrides ---------------------------------------------------------


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """`base` with `override` on top: mappings are merged key by key, anything else is replaced.

    A key left empty (null) where the base has a mapping inherits it: an operator who comments
    out every line of a section means "as the company says", not "nothing".
    """
    merged = dict(base)
    for key, value in override.items():
        below = base.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(below, value)
        elif not (isinstance(below, Mapping) and value is None):
            merged[key] = value
    return merged


def parse_community(company: Mapping, raw: object, code: str) -> CommunityContent:
    """A community file's document over the (valid) company document, validated as a whole."""
    if not isinstance(raw, dict):
        raise ContentError("the file must be a mapping")
    own = raw.get("community")
    if not isinstance(own, dict):
        raise ContentError("section 'community' is missing")
    if "name" not in own:
        raise ContentError("'community.name' is missing")
    inherited = {k: v for k, v in company["community"].items() if k not in IDENTITY}
    return parse_content(deep_merge({**company, "community": inherited}, raw), code=code)


def _read(path: Path) -> object:
    """The YAML document in the file; OSError if it cannot be read, ContentError if it is not YAML."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ContentError(f"not UTF-8 YAML: {exc}") from exc


Stamp = tuple[int, int]  # (mtime in ns, size): a change in either means the file was edited


def _stamp(path: Path) -> Stamp | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


@dataclass(frozen=True)
class _Community:
    """A community file as last seen: its stamp, and its last good document and content (if any)."""

    stamp: Stamp
    raw: dict | None = None
    content: CommunityContent | None = None


@dataclass
class _Company:
    """The company file as last seen, and its last good document and content."""

    path: Path
    stamp: Stamp | None
    raw: dict
    content: CommunityContent


# --- the store ------------------------------------------------------------------------------------------


class ContentStore:
    """Hands out each community's current content, reloading files whose mtime or size changed.

    `path` is the content directory (company.yml, communities/) or, as before communities
    existed, a single company file. The files are looked at again at most every `check_every`
    seconds (0: on every call); `refresh()` looks now.
    """

    def __init__(self, path: Path, *, check_every: float = 0.5) -> None:
        self.path = Path(path)
        is_dir = self.path.is_dir()
        company_path = self.path / COMPANY_FILE if is_dir else self.path
        self._communities_dir = self.path / COMMUNITIES_DIR if is_dir else None
        self._check_every = check_every
        self._next_check = 0.0
        self._warned_codes: set[str] = set()  # unknown codes, logged once each
        self._ignored: set[str] = set()  # ill-named files and an unlistable folder, logged once each
        stamp = _stamp(company_path)  # before reading: an edit in between is loaded next time
        raw = _read(company_path)
        self._company = _Company(company_path, stamp, raw, parse_content(raw))
        self._communities: dict[str, _Community] = {}
        self._by_code: dict[str, CommunityContent] = {}
        self._sorted: tuple[CommunityContent, ...] = ()
        self.refresh()

    def get(self, code: str | None = None) -> CommunityContent:
        """The community's content; the company default for None, "" or an unknown code."""
        self._maybe_refresh()
        if not code:
            return self._company.content
        content = self._by_code.get(code)
        if content is None:
            if code not in self._warned_codes and len(self._warned_codes) < MAX_WARNED_CODES:
                self._warned_codes.add(code)
                log.warning("unknown community code %r: answering with the company default", code)
            return self._company.content
        return content

    def company(self) -> CommunityContent:
        return self.get(None)

    def communities(self) -> tuple[CommunityContent, ...]:
        """Every community whose file validated (now or before), sorted by code."""
        self._maybe_refresh()
        return self._sorted

    def refresh(self) -> None:
        """Look at the files now: reload the changed ones, pick up new ones, drop removed ones."""
        self._next_check = time.monotonic() + self._check_every
        company_changed = self._refresh_company()
        files = self._community_files()
        current = self._communities
        if files is None:  # the folder could not be listed: keep what we have
            files = {code: (self._communities_dir / f"{code}.yml", c.stamp) for code, c in current.items()}
        updated: dict[str, _Community] = {}
        for code, (path, stamp) in files.items():
            known = current.get(code)
            if known is None or known.stamp != stamp:
                updated[code] = self._load_community(code, path, stamp, known)
            elif company_changed and known.raw is not None:
                updated[code] = self._remerge(code, known)
            else:
                updated[code] = known
        for code in current.keys() - updated.keys():
            log.info("community %s removed (its file is gone); it gets the company default now", code)
        self._communities = updated
        self._publish()

    # -- helpers ----------------------------------------------------------------------------------

    def _maybe_refresh(self) -> None:
        if time.monotonic() >= self._next_check:
            self.refresh()

    def _refresh_company(self) -> bool:
        """Reload the company file if it changed; True when a new version is in use."""
        company = self._company
        stamp = _stamp(company.path)
        if stamp is None:
            if company.stamp is not None:
                log.error("content %s is unreadable; keeping the last good version", company.path)
            company.stamp = None
            return False
        if stamp == company.stamp:
            return False
        company.stamp = stamp
        try:
            raw = _read(company.path)
            content = parse_content(raw)
        except (ContentError, OSError) as exc:
            log.error("content %s rejected (%s); keeping the last good version", company.path, exc)
            return False
        company.raw, company.content = raw, content
        log.info("reloaded content from %s", company.path)
        return True

    def _community_files(self) -> dict[str, tuple[Path, Stamp]] | None:
        """code -> (path, stamp) of every well-named community file; None if the folder is unreadable."""
        folder = self._communities_dir
        if folder is None:
            return {}
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except OSError as exc:
            self._warn_once(str(folder), "cannot list %s (%s); keeping the communities loaded", folder, exc)
            return None
        files: dict[str, tuple[Path, Stamp]] = {}
        for entry in entries:
            code = self._code_of(entry)
            stamp = _stamp(Path(entry.path)) if code else None
            if code and stamp is not None:
                files[code] = (Path(entry.path), stamp)
        return files

    def _code_of(self, entry: os.DirEntry) -> str | None:
        """The community code a file in communities/ stands for; None (logged once) if ill-named."""
        if entry.name.startswith("."):  # editors' swap and backup files
            return None
        stem, dot, suffix = entry.name.rpartition(".")
        if dot and suffix == "yml" and valid_code(stem) and entry.is_file():
            return stem
        self._warn_once(
            entry.path,
            "ignoring %s: a community file is named <code>.yml, the code being 1-32 of a-z, 0-9, '-', '_'",
            entry.path,
        )
        return None

    def _load_community(self, code: str, path: Path, stamp: Stamp, known: _Community | None) -> _Community:
        try:
            raw = _read(path)
            content = parse_community(self._company.raw, raw, code)
        except (ContentError, OSError) as exc:
            if known is not None and known.content is not None:
                log.error("content %s rejected (%s); keeping the last good version", path, exc)
            else:
                log.error("content %s rejected (%s); community %s is not served until it is fixed", path, exc, code)
            return replace(known, stamp=stamp) if known is not None else _Community(stamp)
        log.info("loaded content of community %s from %s", code, path)
        self._warned_codes.discard(code)  # warn again should it disappear
        return _Community(stamp, raw, content)

    def _remerge(self, code: str, known: _Community) -> _Community:
        """The community's last good document over the new company document."""
        try:
            content = parse_community(self._company.raw, known.raw, code)
        except ContentError as exc:
            log.error(
                "community %s does not fit the new company content (%s); keeping its last good version", code, exc
            )
            return known
        return replace(known, content=content)

    def _publish(self) -> None:
        self._by_code = {code: c.content for code, c in self._communities.items() if c.content is not None}
        self._sorted = tuple(self._by_code[code] for code in sorted(self._by_code))

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._ignored:
            self._ignored.add(key)
            log.warning(message, *args)
