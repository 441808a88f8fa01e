"""Signs of danger: weaker than a hazard (bot/text/entities.HAZARDS), broader, never enough alone.

A hazard phrase (煤气味, 着火, 困在电梯) makes a message an emergency whatever the model thinks.
Many real emergencies name no hazard (老伴倒了叫不醒, 水哗哗地往下流, 楼道里全是烟), and the model
catches those; but the model is overconfident on close calls and differs between machines (it once
read 阳台推拉门卡住了 as an emergency at 0.965). So the model's emergency call is trusted only when
the message shows at least one sign of danger below: a smell or gas, smoke, fire or heat, someone
trapped or hurt or not answering, water in volume, power gone, something falling, or a cry for
help. A stuck door, a dripping tap or a dead light shows none, and is read as the model's next guess.

Input is the normalised text (simplified characters, Arabic digits). Patterns are plain
alternations with short bounded gaps: linear time on any input.
"""

from __future__ import annotations

import re

DANGER_SIGNS = {
    "smell": ["味", "臭鸡蛋", "嘶嘶", "燃气", "煤气", "天然气", "液化气", "报警器"],
    "smoke_or_fire": ["烟", "火", "烧", "焦", "烫", "冒", "爆炸", "炸了", "电线.{0,4}(?:响|闪|打)"],
    "trapped": ["出不来", "出不去", "困", "关在", "夹", "卡在.{0,6}中间", "在里面", "里面有人", "喘不"],
    "person": [
        "倒",
        "晕",
        "昏",
        "没反应",
        "不应",
        "叫不醒",
        "一动不动",
        "不动了",
        "不省人事",
        "起不来",
        "受伤",
        "血",
        "呼吸",
        "120",
        "999",
        "110",
        "119",
    ],
    "water_volume": [
        "哗哗",
        "灌",
        "淹",
        "漫",
        "涌",
        "喷",
        "往下流",
        "往下淌",
        "往下灌",
        "泡了",
        "一直流",
        "流个不停",
        "止不住",
        "关不住",
        "关不了",
        "成河",
        "没过",
        "到处",
        "满地",
        "满屋",
        "爆",
    ],
    "power": ["停电", "断电", "没电", "漏电", "触电", "电到", "跳闸.{0,6}(?:整|全)"],
    "falling": ["掉下", "砸", "坠", "塌", "裂开", "倾斜"],
    "help": ["救命", "快来人", "来人啊", "赶紧来", "快点来", "快过来", "快上来", "马上来", "危险", "紧急", "急死"],
}
_DANGER = re.compile("|".join(p for phrases in DANGER_SIGNS.values() for p in phrases))


def shows_danger(text: str) -> bool:
    """Whether ``text`` (normalised) shows any sign of danger at all."""
    return _DANGER.search(text) is not None
