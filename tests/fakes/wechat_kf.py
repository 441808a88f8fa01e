"""The 微信客服 (qyapi.weixin.qq.com/cgi-bin/kf) endpoints of the fake and the state behind them.

微信客服 never pushes a message: the callback only says "something happened" with a short-lived
Token, and the channel must pull with ``kf/sync_msg``, paging with a cursor it persists. What makes or
breaks a channel here: resuming exactly after the last message read (no loss, no duplicate), pages
of at most ``limit``, the callback Token's 10 minutes, and the send rules (48 h and 5 replies per
customer message, only while the session is new or with the assistant).

Error codes are the real WeCom ones (global error code list): 95000 invalid open_kfid, 95001 send
count limit, 95002 send time limit (48 h), 95007 invalid msg token, 95013 session already ended,
95014 not a servicer, 95016 transition not allowed, 95018 session state forbids sending, 50100
invalid cursor, 40058 invalid parameter (the fake's choice for a bad ``limit`` or a reused ``msgid``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tests.fakes.wechat_common import ApiError, text_content

if TYPE_CHECKING:
    from tests.fakes.wechat import FakeWeChat

WINDOW = timedelta(hours=48)
REPLIES_PER_MESSAGE = 5
MAX_TEXT_BYTES = 2048
MAX_LIMIT = 1000  # sync_msg: default and maximum page size
TOKEN_LIFE = timedelta(minutes=10)  # the callback Token
EVENT_CODE_LIFE = timedelta(seconds=20)  # send_msg_on_event: within 20 s of the event, once
RETENTION = timedelta(days=3)  # sync_msg returns the last 3 days only
CUSTOMER, SYSTEM, SERVICER = 3, 4, 5  # msg_list "origin"
UNTREATED, ASSISTANT, QUEUE, HUMAN, ENDED = 0, 1, 2, 3, 4  # service_state
# Which service_state changes the API accepts (WeCom "分配客服会话"): 0 may go to the assistant,
# the queue or a servicer; the assistant may hand to the queue or a servicer; the queue only to a
# servicer; a servicer may transfer to another servicer or end. Nothing leaves 4 through the API
# (a new customer message turns 4 into 0), and nothing goes back to 0 or 1.
TRANSITIONS: dict[int, frozenset[int]] = {
    UNTREATED: frozenset({ASSISTANT, QUEUE, HUMAN}),
    ASSISTANT: frozenset({QUEUE, HUMAN}),
    QUEUE: frozenset({HUMAN}),
    HUMAN: frozenset({HUMAN, ENDED}),
}
SEND_TYPES = frozenset({"text", "image", "voice", "video", "file", "link", "miniprogram", "msgmenu", "location"})


@dataclass
class KfState:
    """Everything the fake remembers about 微信客服 besides ``service_state`` and ``sync_calls``."""

    accounts: set[str] = field(default_factory=set)  # open_kfids that exist
    log: dict[str, list[tuple[datetime, dict[str, Any]]]] = field(default_factory=dict)  # per open_kfid, in order
    cursors: dict[str, tuple[str, int]] = field(default_factory=dict)  # cursor -> (open_kfid, next index)
    positions: dict[tuple[str, int], str] = field(default_factory=dict)  # the reverse of cursors
    tokens: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # callback Token -> (open_kfid, issued)
    last_message: dict[tuple[str, str], datetime] = field(default_factory=dict)
    replies: dict[tuple[str, str], int] = field(default_factory=dict)
    servicer: dict[tuple[str, str], str] = field(default_factory=dict)
    sent_msgids: set[tuple[str, str]] = field(default_factory=set)
    servicers: set[str] = field(default_factory=set)  # if not empty, the only valid servicer_userids
    # welcome_code / msg_code -> (open_kfid, external_userid, issued): send_msg_on_event's credential
    event_codes: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)
    welcomed: dict[tuple[str, str], datetime] = field(default_factory=dict)  # the last API welcome


def gettoken(fake: FakeWeChat, query: dict[str, Any]) -> dict[str, Any]:
    """WeCom's token: the same one again while it is valid (unlike 公众号's old /cgi-bin/token)."""
    if query.get("corpid") != fake.corpid:
        raise ApiError(40013)
    if query.get("corpsecret") != fake.kf_secret:
        raise ApiError(40001)
    token = fake.work_tokens.current()
    fake.token_requests += 1
    expires_in = fake.work_tokens.seconds_left(token)
    return {"errcode": 0, "errmsg": "ok", "access_token": token.value, "expires_in": expires_in}


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


def queue_message(fake: FakeWeChat, open_kfid: str, message: dict[str, Any]) -> str:
    """Append to the open_kfid's log (as WeCom stores it) and issue the callback Token for it."""
    kf = fake.kf
    now = fake.now()
    kf.accounts.add(open_kfid)
    message.setdefault("msgid", new_id("msg"))
    message["send_time"] = int(now.timestamp())
    kf.log.setdefault(open_kfid, []).append((now, message))
    token = new_id("ENC")
    kf.tokens[token] = (open_kfid, now)
    return token


def customer_writes(fake: FakeWeChat, open_kfid: str, user: str, text: str, msgid: str | None, origin: int) -> str:
    message: dict[str, Any] = {"open_kfid": open_kfid, "external_userid": user, "origin": origin, "msgtype": "text"}
    message["text"] = {"content": text}
    if msgid is not None:
        message["msgid"] = msgid
    token = queue_message(fake, open_kfid, message)
    if origin == CUSTOMER:  # only the customer's own message opens the window and refills the quota
        key = (open_kfid, user)
        fake.kf.last_message[key] = fake.now()
        fake.kf.replies[key] = 0
        if fake.service_state.get(key, ENDED) == ENDED:
            fake.service_state[key] = UNTREATED
            fake.kf.servicer.pop(key, None)
    return token


def enter_session(fake: FakeWeChat, open_kfid: str, user: str, scene: str) -> str:
    """The event carries a welcome_code only as WeCom gives one: when the customer got no welcome
    in the last 48 hours and has not written to the account (the fake has no native welcome)."""
    event = {"event_type": "enter_session", "scene": scene, "scene_param": "", "open_kfid": open_kfid}
    event["external_userid"] = user
    key, now = (open_kfid, user), fake.now()
    welcomed, wrote = fake.kf.welcomed.get(key), fake.kf.last_message.get(key)
    if (welcomed is None or now - welcomed > WINDOW) and (wrote is None or now - wrote > WINDOW):
        event["welcome_code"] = new_id("WC")
        fake.kf.event_codes[event["welcome_code"]] = (open_kfid, user, now)
    message = {"open_kfid": open_kfid, "origin": SYSTEM, "msgtype": "event", "event": event}
    fake.service_state.setdefault((open_kfid, user), ENDED)  # entered but not written yet: "未开始"
    return queue_message(fake, open_kfid, message)


def _cursor_for(fake: FakeWeChat, open_kfid: str, index: int) -> str:
    """One stable opaque cursor per position, so a re-read from the same place gives the same cursor."""
    cursor = fake.kf.positions.get((open_kfid, index))
    if cursor is None:
        cursor = secrets.token_urlsafe(12)
        fake.kf.cursors[cursor] = (open_kfid, index)
        fake.kf.positions[(open_kfid, index)] = cursor
    return cursor


def _known_account(fake: FakeWeChat, body: dict[str, Any]) -> str:
    open_kfid = body.get("open_kfid")
    if not isinstance(open_kfid, str) or open_kfid not in fake.kf.accounts:
        raise ApiError(95000)
    return open_kfid


def sync_msg(fake: FakeWeChat, body: dict[str, Any]) -> dict[str, Any]:
    open_kfid = _known_account(fake, body)
    now = fake.now()
    token = body.get("token")
    if token:  # optional, but when given it must be a recent Token from a callback for this account
        issued = fake.kf.tokens.get(token)
        if issued is None or issued[0] != open_kfid or now - issued[1] > TOKEN_LIFE:
            raise ApiError(95007)
    limit = body.get("limit", MAX_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ApiError(40058, "limit")
    start = 0
    cursor = body.get("cursor")
    if cursor:
        position = fake.kf.cursors.get(cursor)
        if position is None or position[0] != open_kfid:
            raise ApiError(50100)
        start = position[1]
    log = fake.kf.log.get(open_kfid, [])
    fresh = [i for i in range(start, len(log)) if now - log[i][0] <= RETENTION]
    page = fresh[:limit]
    next_index = page[-1] + 1 if page else len(log)
    return {
        "errcode": 0,
        "errmsg": "ok",
        "next_cursor": _cursor_for(fake, open_kfid, next_index),
        "has_more": int(len(fresh) > limit),
        "msg_list": [dict(log[i][1]) for i in page],
    }


def send_msg(fake: FakeWeChat, body: dict[str, Any]) -> dict[str, Any]:
    open_kfid = _known_account(fake, body)
    user = body.get("touser")
    if not isinstance(user, str) or not user:
        raise ApiError(40058, "touser")
    msgtype = body.get("msgtype")
    if msgtype not in SEND_TYPES:
        raise ApiError(40008, str(msgtype))
    content = text_content(body, MAX_TEXT_BYTES) if msgtype == "text" else None
    msgid = body.get("msgid")
    if msgid is not None and (not isinstance(msgid, str) or (open_kfid, msgid) in fake.kf.sent_msgids):
        raise ApiError(40058, "msgid must be a new string for this open_kfid")
    key = (open_kfid, user)
    state = fake.service_state.get(key, ENDED)
    if state not in (UNTREATED, ASSISTANT):  # queued, with a servicer, or ended: the API may not speak
        raise ApiError(95018, f"service_state {state}")
    last = fake.kf.last_message.get(key)
    if last is None or fake.now() - last > WINDOW:
        raise ApiError(95002)
    if fake.kf.replies.get(key, 0) >= REPLIES_PER_MESSAGE:
        raise ApiError(95001)
    fake.kf.replies[key] = fake.kf.replies.get(key, 0) + 1
    if state == UNTREATED:
        fake.service_state[key] = ASSISTANT  # answering a new session through the API makes it the assistant's
    msgid = msgid or new_id("kfmsg")
    fake.kf.sent_msgids.add((open_kfid, msgid))
    fake.record_sent("kf", user, msgtype, content, open_kfid=open_kfid, msgid=msgid)
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


def state_get(fake: FakeWeChat, body: dict[str, Any]) -> dict[str, Any]:
    open_kfid = _known_account(fake, body)
    key = (open_kfid, str(body.get("external_userid", "")))
    state = fake.service_state.get(key, ENDED)
    answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "service_state": state}
    if state == HUMAN:
        answer["servicer_userid"] = fake.kf.servicer.get(key, "")
    return answer


def state_trans(fake: FakeWeChat, body: dict[str, Any]) -> dict[str, Any]:
    open_kfid = _known_account(fake, body)
    key = (open_kfid, str(body.get("external_userid", "")))
    target = body.get("service_state")
    if not isinstance(target, int) or isinstance(target, bool) or target not in range(5):
        raise ApiError(40058, "service_state")
    current = fake.service_state.get(key, ENDED)
    if current == ENDED:
        raise ApiError(95013)
    servicer = body.get("servicer_userid")
    if target == HUMAN and (not servicer or (fake.kf.servicers and servicer not in fake.kf.servicers)):
        raise ApiError(95014, str(servicer))
    if target not in TRANSITIONS.get(current, frozenset()):
        raise ApiError(95016, f"{current} -> {target}")
    fake.service_state[key] = target
    if target == HUMAN:
        fake.kf.servicer[key] = str(servicer)
    else:
        fake.kf.servicer.pop(key, None)
    answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
    if target in (QUEUE, HUMAN, ENDED):
        answer["msg_code"] = new_id("MSGCODE")  # for send_msg_on_event (greeting / closing words)
        fake.kf.event_codes[answer["msg_code"]] = (open_kfid, key[1], fake.now())
    return answer


def send_msg_on_event(fake: FakeWeChat, body: dict[str, Any]) -> dict[str, Any]:
    """A message answering an event, by the event's code (welcome_code, msg_code): only within
    20 s of the event and only once; needs no 48-hour window (the customer may never have written).
    Refused codes get 40058 (invalid parameter: the fake's choice, WeCom documents no own code)."""
    code = body.get("code")
    issued = fake.kf.event_codes.get(code) if isinstance(code, str) else None
    if issued is None:
        raise ApiError(40058, "code")
    if code in fake.kf.used_codes:
        raise ApiError(40058, "code already used")
    if fake.now() - issued[2] > EVENT_CODE_LIFE:
        raise ApiError(40058, "code older than 20 seconds")
    msgtype = body.get("msgtype")
    if msgtype not in ("text", "msgmenu"):
        raise ApiError(40008, str(msgtype))
    content = text_content(body, MAX_TEXT_BYTES) if msgtype == "text" else None
    fake.kf.used_codes.add(code)
    open_kfid, user, _ = issued
    if code.startswith("WC"):
        fake.kf.welcomed[(open_kfid, user)] = fake.now()
    msgid = body.get("msgid") if isinstance(body.get("msgid"), str) else new_id("kfevt")
    fake.record_sent("kf_event", user, msgtype, content, open_kfid=open_kfid, msgid=msgid)
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}
