"""Does a message say *what* is wrong, or only *that* the owner wants to report something?

报修 / 我要投诉 / 3号楼2单元501报修 open a form that must still ask for the problem;
厨房水管漏水了 already answers it. What remains after removing request words,
addresses, punctuation and emoji decides.
"""

from __future__ import annotations

import re

from bot.text.entities import extract_address, extract_phones, placeholder_spans
from bot.text.normalize import normalize, without_mentions

REQUEST_WORDS = (
    "我要",
    "我想",
    "想要",
    "需要",
    "要",
    "想",
    "麻烦",
    "请问",
    "请",
    "帮忙",
    "帮我",
    "给我",
    "帮",
    "一下",
    "你好",
    "您好",
    "在吗",
    "在不在",
    "喂",
    "哈喽",
    "物业",
    "物业公司",
    "管家",
    "客服",
    "报修",
    "报个修",
    "维修",
    "修理",
    "修一下",
    "来修",
    "修",
    "投诉",
    "反映",
    "举报",
    "意见",
    "建议",
    "登记",
    "提交",
    "我家",
    "我们家",
    "家里",
    "我",
    "的",
    "了",
    "啊",
    "呀",
    "吧",
    "呢",
    "哦",
    "嗯",
    "个",
    "有",
    "有个",
    "有点",
    "问题",
    "事",
    "事情",
    "情况",
    "东西",
    "这里",
    "那里",
    "号楼",
    "栋",
    "幢",
    "座",
    "单元",
    "室",
    "房",
    "楼",
    "小区",
    "业主",
    "电话",
    "手机",
    "号码",
    "人工",
    "工作人员",
    "谢谢",
    "急",
    "快",
    "紧急",
)
_REQUEST_WORDS = re.compile("|".join(map(re.escape, sorted(REQUEST_WORDS, key=len, reverse=True))))
_NON_HAN = re.compile(r"[^\u4e00-\u9fff]")


def says_what(text: str) -> bool:
    """True when ``text`` describes a problem beyond a bare request and an address."""
    norm = normalize(text).text
    for e in sorted(extract_address(norm) + extract_phones(norm), key=lambda e: -e.start):
        if e.entity != "public_area":  # 电梯 is part of the description
            norm = norm[: e.start] + " " + norm[e.end :]
    rest = _NON_HAN.sub("", _REQUEST_WORDS.sub(" ", norm))
    return len(rest) >= 2


_EDGE = " ,，.。:：;；、!！~～"


def without_address(text: str) -> str:
    """The owner's words with @-mentions dropped and an address that opens or closes the
    message cut off (it is stored apart): @物业小助手 3号楼2单元501 厨房漏水 → 厨房漏水.
    An address in mid-sentence (我是3号楼2单元501的…) is grammar and stays."""
    mapped = normalize(text)
    spans = [(s, e) for s, e, kind in placeholder_spans(mapped.text) if kind == "address"]
    if spans:
        start, end = mapped.to_original(spans[0][0], spans[-1][1])
        before = without_mentions(text[:start]).strip(_EDGE)
        after = text[end:].strip(_EDGE)
        if (not before or not after) and len(before or after) >= 2:
            text = before or after
    return without_mentions(text)
