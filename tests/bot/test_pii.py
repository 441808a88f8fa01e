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
    ],
)
def test_personal_data_is_masked(text, hidden, kept):
    masked = mask_pii(text)
    assert hidden not in masked and kept in masked


def test_ordinary_text_is_left_alone():
    assert mask_pii("ticket BX000123 moved to in_progress") == "ticket BX000123 moved to in_progress"


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
