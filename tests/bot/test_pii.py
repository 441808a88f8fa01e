"""Owners' phones, addresses, plates and names never reach a log file."""

from __future__ import annotations

import io
import logging

import pytest

from bot.text.pii import MAX_LOGGED, install_log_masking, mask_pii


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("电话13812345678", "13812345678", "138****5678"),
        ("+86 138 1234 5678 打我电话", "1234", "5678"),
        ("嗯 幺三八幺二三四五六七八", "二三四", "五六七八"),
        ("住3号楼2单元501", "501", "号楼"),
        ("三號樓二單元五零一", "五零一", "號樓"),
        ("车牌京A88668", "88668", "京A"),
        ("我朋友张伟明天来", "张伟", "张*"),
        ("电话138.1234.5678", "1234", "5678"),
        ("电话 138/1234/5678", "1234", "5678"),
        ("电话 138 1234 5678", "1234", "5678"),
        ("call 1 3 8 1 2 3 4 5 6 7 8 later", "4 5 6", "later"),
        ("phone=1381 234 5678", "234", "phone="),
        ("身份证11010519491231002X", "19491231", "身份证"),
        ("身份证号 110105194912310021。", "19491231", "。"),
    ],
)
def test_personal_data_is_masked(text, hidden, kept):
    masked = mask_pii(text)
    assert hidden not in masked and kept in masked


def test_ordinary_text_is_left_alone():
    assert mask_pii("ticket BX000123 moved to in_progress") == "ticket BX000123 moved to in_progress"
    for line in ("GET http://127.0.0.1:5005/status 200", "at 2026-11-21T10:30:00+08:00 took 138.25 ms"):
        assert mask_pii(line) == line


CHAT_ID = "a1B2c3D4e5F6"  # a web chat id doubles as the conversation's secret


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (f"unexpected error on GET /api/conversations/webchat:{CHAT_ID}/messages", "/api/conversations/webchat:"),
        (f"GET /api/chat/{CHAT_ID}/updates?after=3 200", "/updates?after=3 200"),
        (f"POST http://127.0.0.1:5005/conversations/webchat%3A{CHAT_ID}/tracker/events 200", "127.0.0.1:5005/conv"),
        (f"GET /bot/v1/tickets?sender=webchat:{CHAT_ID}&open=1: 503", "&open=1: 503"),
        (f"POST /wechat/mp?signature=9f1c&timestamp=1795228200&nonce=53&openid={CHAT_ID} 200", "&nonce=53&openid="),
        (f"tracker {{'sender_id': 'webchat:{CHAT_ID}', 'slots': {{}}}}", "'slots'"),
        (f'{{"sender": "webchat:{CHAT_ID}", "message": "hi"}}', '"message": "hi"'),
    ],
)
def test_chat_ids_in_paths_queries_and_dumps_are_masked(line, kept):
    masked = mask_pii(line)
    assert CHAT_ID not in masked and kept in masked


@pytest.fixture
def captured():
    """A logger with its own handler that does not propagate, like sanic's."""
    stream = io.StringIO()
    logger = logging.getLogger("test.pii.own-handler")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    install_log_masking()  # installed before or after the handler: records are masked at creation
    yield logger, stream
    logger.removeHandler(handler)


def test_records_of_any_logger_are_masked(captured):
    logger, stream = captured
    logger.info("owner %s at %s", "13812345678", "3号楼2单元501")
    assert "13812345678" not in stream.getvalue() and "138****5678" in stream.getvalue()


def test_exceptions_are_masked_and_dumps_cut(captured):
    logger, stream = captured
    try:
        raise ValueError("body=" + "x" * 5000 + " phone 13912345678")
    except ValueError:
        logger.exception("action failed")
    written = stream.getvalue()
    assert "13912345678" not in written
    assert "characters not logged" in written and len(written) < MAX_LOGGED + 500


def test_a_cut_traceback_keeps_its_last_lines_the_exception_type_and_message(captured):
    logger, stream = captured

    def deep(n: int) -> None:
        if n == 0:
            raise KeyError("the part that says what went wrong")
        deeper(n - 1)

    def deeper(n: int) -> None:  # two functions in turn: Python shortens a frame repeated in a row
        deep(n)

    try:
        deep(60)  # a traceback far longer than MAX_LOGGED
    except KeyError:
        logger.exception("backlog retry failed")
    written = stream.getvalue()
    assert "characters not logged" in written and len(written) < MAX_LOGGED + 500
    assert written.rstrip().endswith("KeyError: 'the part that says what went wrong'")
    assert "in deep" in written  # the innermost frames, where it happened


def test_sender_ids_in_access_logs_are_masked():
    """sanic (Rasa, the action server) puts the request line in the record's ``request``, not its message."""
    stream = io.StringIO()
    logger = logging.getLogger("sanic.access")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(request)s %(message)s %(status)d"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    install_log_masking()
    try:
        request = f"POST http://127.0.0.1:5005/conversations/webchat%3A{CHAT_ID}/tracker/events"
        logger.info("", extra={"request": request, "status": 200})
    finally:
        logger.removeHandler(handler)
    assert CHAT_ID not in stream.getvalue() and "/tracker/events" in stream.getvalue()
