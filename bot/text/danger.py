"""Signs of danger: weaker than a hazard (bot/text/entities.HAZARDS), broader, never enough alone.

A hazard phrase (煤气味, 着火, 困在电梯) makes a message an emergency whatever the model thinks.
Many real emergencies name no hazard (老伴倒了叫不醒, 水哗哗地往下流, 楼道里全是烟), and the model
catches those; but the model is overconfident on close calls and differs between machines (it once
read 阳台推拉门卡住了 as an emergency at 0.965). So the model's emergency call is trusted only when
the message shows at least one sign of danger below: a smell or gas, smoke, fire or heat, someone
trapped or hurt or not answering, water in volume, power gone, something falling, or a cry for
help. A stuck door, a dripping tap or a dead light shows none, and is read as the model's next guess.

And a danger that is over is not an emergency: "上周插座冒过火花 现在闸已经关了" (sparks last week,
the breaker off since) asks for an electrician, not the duty staff; :func:`danger_is_over` says
so when the message puts the danger in the past *and* says it has been made safe, and nothing in it
says the danger is back or still there (还在, 又, 救命…). A danger denied outright is over too when
nothing else in the message shows one: a false alarm with its reason (烟感响了 是我炒菜呛的 没着火), a
lift out of order with nobody in it (里面没人困住). And one's own shower water over a blocked drain
is no flood (:func:`harmless_water`).

Input is the normalised text (simplified characters, Arabic digits). Patterns are plain
alternations with short bounded gaps: linear time on any input.
"""

from __future__ import annotations

import re

DANGER_SIGNS = {
    "smell": ["味", "臭鸡蛋", "嘶嘶", "燃气", "煤气", "天然气", "液化气", "报警器"],
    "smoke_or_fire": [
        "烟",
        "火",
        "烧",
        "焦",
        "烫",
        "冒",
        "爆炸",
        "炸了",
        "电线.{0,4}(?:响|闪|打)",
        "啪啪",
        "噼啪",
        "劈啪",
    ],
    "trapped": ["出不来(?!水)", "出不去", "困", "关在", "夹", "卡在.{0,6}中间", "在里面", "里面有人", "喘不"],
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
        "往下浇",
        "浇下来",
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
        "(?<!到)(?<!得)爆(?!满)",  # 臭到爆, 挤爆满 are only "very"
    ],
    "power": ["停电", "断电", "没电", "漏电", "触电", "电到", "跳闸.{0,6}(?:整|全)"],
    "falling": [
        "掉下",
        "往下掉",
        "砸",
        "坠",
        "塌",
        "裂开",
        "倾斜",
        "快倒",
        "要倒",
        "快掉",
        "要掉下",
        "摇摇欲坠",
        "悬在外",
        "悬空",
    ],
    # 警戒: a cordon asked for (拉个警戒线), people to keep away from something
    "help": [
        "救命",
        "快来人",
        "来人啊",
        "赶紧来",
        "快点来",
        "快过来",
        "快上来",
        "马上来",
        "危险",
        "紧急",
        "急死",
        "警戒",
    ],
}
_DANGER = re.compile("|".join(p for phrases in DANGER_SIGNS.values() for p in phrases))


def shows_danger(text: str) -> bool:
    """Whether ``text`` (normalised) shows any sign of danger at all."""
    return _DANGER.search(text) is not None


# When it happened: before today, or "earlier" / "once".
_PAST = re.compile(
    r"上周|上个?星期|上个?礼拜|前几天|前两天|前天|昨天|昨晚|琴晚|寻晚|琴日|寻日|上次|上回|之前|以前|那天|上个月|前阵子|前段时间|"
    r"[冒闪响漏烧]过|有过|(?:冒|闪|响|漏|烧|跳)了一下"
)
# Made safe since: switched off, shut, gone, no smell any more.
_MADE_SAFE = re.compile(
    r"(?:已经|现在|早就|一直|都|后来|当时就|马上就).{0,8}?(?:关[了掉上着住]|断[了开掉]|拉[了下掉]?闸|跳[了]?闸|"
    r"闸(?:给)?(?:拉|关|断)(?:了|掉|下来)|"  # 把总闸拉了
    r"不冒|没[有再]?冒|不响|没[有再]?响|没[有]?味|闻不到|灭了|停了|没事|不漏|没[有再]?漏|没用过?|[没不]敢(?:再)?用|不用了|拔[了掉]|"
    r"处理好|修好|解决了|搞定|过去了)|"
    r"没有?(?:再)?(?:冒|烟|火|味道?)了?|"
    # no danger any more, said outright (没啥危险了, 已经安全了)
    r"没(?:有)?(?:啥|什么)?(?:危险|隐患)了|不(?:再)?危险了|(?:已经|现在)安全了|"
    # checked since and found safe (燃气公司来检查过了 说没漏气)
    r"(?:检查|查|看)(?:过|了).{0,10}(?:没|不|无)(?:有)?(?:漏|问题|事|危险)"
)
# ... unless it is back, still there, or the owner calls for help.
_STILL = re.compile(
    r"还在|还有|还是|又(?:开始|[冒响漏烧有困着停爆淹倒晕])|越来越|快来|"
    # now, and not "now no longer": 现在水管爆了, never 现在已经不冒了
    r"现在(?:(?!不|没|已经|都好)[^。!！?？]){0,6}(?:冒|烧|漏|响|有味|困|爆|着火|起火|淹|灌|喷|停电|断电|晕|倒|掉)|"
    r"叫不醒|喊不醒|没反应|没有反应|没呼吸|流血|" + "|".join(DANGER_SIGNS["help"])
)


# ... or complains of how it was handled (上礼拜电梯困人的事 你们处理得太慢 必须给个说法): a
# grievance about a past emergency, for the complaint desk, not the duty staff.
# HANDLING is also a complaint's own wording (bot/text/intent_cues.py), over any past matter.
HANDLING = (
    r"(?:处理|来|到|反应|响应|通知)得?(?:也|都)?(?:太|好|很|非常)?(?:慢|差|晚|不及时)|"
    r"给(?:个|一个|我们|我)?(?:说法|交代)|谁(?:来)?负责"
)
_HANDLED_BADLY = re.compile(HANDLING + r"|(?:才|先)有人来|等了.{0,8}(?:才|先)(?:有人|来)")
# ... or the damage it did, claimed for (电视都泡了 要求赔偿): a grievance about what is over.
_DAMAGE_CLAIMED = re.compile(r"赔偿|索赔|赔钱|赔(?:给)?我|赔损失|报销|损失(?:谁|怎么)")


# ... or a false alarm, past word or not: an alarm beeping for a flat battery, a "误报" …
_FALSE_ALARM = re.compile(r"虚惊一场|误报|假警报|(?:应该|估计|可能)是(?:电池)?没电|电池没电")
# ... or an all-clear ("没事了", "no need to come") with the reason it is one: not gas after all, the
# smell was someone's cooking, checked since. "着火了 人都跑出来了 没事了" has no reason: people
# safe is not the fire out, and it stays an emergency.
_ALL_CLEAR = re.compile(r"没事了|没事啦|没事喇|不用来了?|不使来")
# ... or a lift's passengers out: the entrapment is over whenever it was (the lift is a repair). Only
# a lift: "着火了 人都出来了" is people safe, not the fire out.
_LIFT = re.compile(r"电梯|升降机|(?<![A-Za-z])(?i:lift|elevator)(?![A-Za-z])")  # 部lift: Hong Kong's word
# ... and the lift still broken since (电梯还是坏的) is the fault, not someone still inside.
_LIFT_STILL_BROKEN = re.compile(r"(?:电梯|梯)?还是(?:坏|停|不动|不能用|没修|没好)")
_LET_OUT = re.compile(r"(?:已经|都|人)(?:被)?[救放弄拉]?出来了")
_CLEARED_BY = re.compile(
    r"不是(?:煤气|燃气|天然气|着火|火灾|漏电)|原来是|检查过|查过|"
    r"是(?:楼下|楼上|邻居|隔壁|隔篱|对面)[^。!！?？]{0,8}(?:烧|煮|做饭|炒|烤|焦)"
)


# "No danger" said outright is no cry for help: 危险 in 没啥危险了 must not count as still there.
_NO_DANGER_SAID = re.compile(r"(?<!会)(?:没|没有|不|无)(?:啥|什么|任何|再|算)?(?:危险|隐患)")

# ... or a false alarm explained: denied outright (没着火, 冇火, 没事了) with its reason, cooking or
# incense (是我家炒辣椒呛的, 是楼下烧纸). The alarm, the denial and the cooking's own smoke explain
# themselves; any other sign of danger left over (是炒菜的油锅起火了, 但是有煤气味) keeps the danger.
_ALARM = re.compile(
    r"(?:烟感|烟雾(?:报警器?|探测器?|传感器)|火警(?:报警器?|铃)?|消防报警器?|报警器|警报器?|警铃)"
    r"(?:[^。!！?？]{0,4}?(?:响|叫|鸣|报警|嘀)[了过]?)?"
)
_NO_FIRE = re.compile(r"(?<!会)(?:没|没有|并没有?|不是)(?:着火|起火|失火|火灾|烧起来|火(?![花苗]))")
# A pot or food burnt dry or black (锅烧干了, 烧焦的饭) is cooking too; never "烧焦" of anything else
# (插座烧焦了 is a fire hazard).
_BURNT_FOOD = (
    r"(?:锅|饭|菜|汤|粥|肉|鱼|奶|水壶)(?:烧|煮|炖|熬|煎|烤)?(?:干|糊|焦)|"
    r"(?:烧|煮|炖|熬|煎|烤)(?:干|糊|焦)了?的?(?:锅|饭|菜|汤|粥|肉|鱼|奶)|干锅|干烧|烧干|煮干|煮糊"
)
_COOKING = (
    rf"{_BURNT_FOOD}|炒|煮|煎|炸|烤|蒸|煲|做饭|烧(?:菜|饭|水|烤|香|纸|艾)|油烟|蒸汽|水汽|水蒸气|抽烟|吸烟|蚊香|艾灸|熏"
)
_REASON = re.compile(
    rf"(?<!不)是[^。!！?？]{{0,10}}?(?:{_COOKING})|因为[^。!！?？]{{0,10}}?(?:{_COOKING})|"
    rf"(?:{_COOKING})[^。!！?？]{{0,8}}?(?:呛|熏|触发|引起|弄|搞|惹)(?:的|到|了)"
)
_EXPLAINED = re.compile(rf"{_COOKING}|烟味?|焦味?|糊味?|呛")
_COOKING_RE = re.compile(_COOKING)
# ... or a gas smell denied (不是煤气, 没漏气): then the smell told of is the one explained.
_NO_GAS = re.compile(r"(?<!会)(?:不是|并不是|并非|没有?)(?:煤气|燃气|天然气|液化气)(?:泄漏|漏|味道?)?|没(?:有)?漏气")
_SMELL_TOLD = re.compile(r"(?:煤气|燃气|天然气|液化气)?(?:味道?|气味)")

# ... or a lift with nobody in it, said outright (里面没人困住, 入面冇人困住, 没有人被困). The denial's
# own words (困, 在里面) are no sign of danger; any other is.
_INSIDE = r"(?:里面|里头|里边)"
_NOBODY_INSIDE = re.compile(
    rf"(?:{_INSIDE}|电梯里|轿厢里?)(?:没|没有|无)(?:人|人员)(?:被)?(?:困|关|卡)?(?:住|着)?|"
    rf"(?:没|没有|无)(?:人|人员)(?:被)?(?:困|关|卡)(?:住|着)?(?:在(?:电梯)?{_INSIDE}?)?|"
    rf"(?:没|没有)(?:人|人员)在(?:电梯)?{_INSIDE}"
)


def _only_danger_denied(text: str, *explained: re.Pattern[str]) -> bool:
    """Whether nothing in ``text`` shows danger, or says one is back or still there, once the words
    that deny or explain it are out."""
    rest = text
    for pattern in explained:
        rest = pattern.sub(" ", rest)
    return not shows_danger(rest) and not _STILL.search(rest)


def without_cooking(text: str) -> str:
    """``text`` without its cooking words: a pot burnt dry (锅烧干了, 烧焦的饭) is no fault to repair."""
    return _COOKING_RE.sub(" ", text)


def false_alarm_explained(text: str) -> bool:
    """A false alarm denied outright with its reason (烟感响了 是我炒菜呛的 没着火), and no other danger."""
    no_gas = _NO_GAS.search(text)
    denied = _NO_FIRE.search(text) or _ALL_CLEAR.search(text) or no_gas
    explained = (_ALARM, _NO_FIRE, _ALL_CLEAR, _NO_GAS, _SMELL_TOLD) if no_gas else (_ALARM, _NO_FIRE, _ALL_CLEAR)
    return bool(denied and _REASON.search(text)) and _only_danger_denied(text, *explained, _EXPLAINED)


# ... and the lift's own fault (电梯又不动了, 停了, 卡住了) is said of the lift, not of a person.
_LIFT_FAULT = re.compile(r"(?:电梯|梯|(?i:lift))[^,，。!！?？]{0,8}?(?:不动了?|停了|停住|卡住了?|卡了|坏了|故障)")


def _lift_with_nobody_inside(text: str) -> bool:
    """A lift out of order with nobody in it said outright (电梯又坏了 里面没人困住): a repair, the
    lift stopped again (又停了) or not: that is the fault recurring, not a danger back."""
    return bool(_LIFT.search(text) and _NOBODY_INSIDE.search(text)) and _only_danger_denied(
        text, _NOBODY_INSIDE, _LIFT_FAULT
    )


# The words that suppose (万一, 要是): a danger after them is one the owner imagines. Shared with
# bot/text/entities.py, whose hazard rules skip one imagined with its "what then" (万一着火怎么办).
SUPPOSING = r"万一|要是|如果|假如|一旦"
# ... or only imagined (灭火器过期了 万一着火怎么办): what the owner fears, not what is happening. Only
# the supposed danger itself is taken out before the rest is read: whatever follows it (怎么办, or
# 烟很大 said after it) is read as it stands.
_IMAGINED = re.compile(rf"(?:{SUPPOSING})[^。!！?？]{{0,6}}(?:着火|起火|失火|火灾|漏电|漏气|爆炸|跌倒|摔倒)")


# The kit that prevents a danger is no sign of one (灭火器过期了, 防火门关不上).
_SAFETY_KIT = re.compile(r"灭火器|消防栓|消火栓|防火门|防火卷帘|烟感|喷淋")


def danger_is_over(text: str) -> bool:
    """Whether ``text`` (normalised) tells of a danger that is past and made safe, past and
    complained of, or cleared outright, or only imagined, and of none now."""
    if _IMAGINED.search(text) and _only_danger_denied(text, _IMAGINED, _SAFETY_KIT):
        return True
    if _lift_with_nobody_inside(text):
        return True
    if _LIFT.search(text) and _LET_OUT.search(text) and not _STILL.search(_LIFT_STILL_BROKEN.sub(" ", text)):
        return True  # 昨晚电梯关人 人已经出来了 电梯还是坏的: the lift is still broken, nobody inside
    if _STILL.search(_NO_DANGER_SAID.sub(" ", text)):
        return False
    past_and_done = _PAST.search(text) and (
        _MADE_SAFE.search(text) or _HANDLED_BADLY.search(text) or _DAMAGE_CLAIMED.search(text)
    )
    cleared = _ALL_CLEAR.search(text) and _CLEARED_BY.search(text)
    let_out = _LIFT.search(text) and _LET_OUT.search(text)
    return bool(past_and_done or cleared or let_out or _FALSE_ALARM.search(text) or false_alarm_explained(text))


# Water that is no flood: a garden sprinkler or fountain spraying outdoors, or a seep that comes
# only when it rains (阳台排水管裂了 下雨就渗水). Nothing indoors in volume, no other danger.
_OUTDOOR_WATER = re.compile(r"喷淋|喷头|喷泉|洒水|浇花|浇水|绿化|草坪|水景|花园")
# Water in volume or near electricity: never harmless. Indoors (or where people and cars are): a
# garden fitting's water that reached there is no garden matter any more.
_WORSE = re.compile(r"淹|灌|涌|漫|到处|满地|漏电|插座|配电|电箱|电梯")
_INDOORS = re.compile(r"家里|屋里|室内|房间|天花板|客厅|卧室|厨房|卫生间|地板|车库|地库|地下室|楼道|大堂|消防栓")
_ONLY_WHEN_IT_RAINS = re.compile(r"(?:下雨|下大雨|雨天|一下雨|雨水)(?:天|的时候|时)?[^。!！?？]{0,6}渗")


# Water one lets run oneself, into one's own blocked drain (洗澡 地漏堵了 水漫到脚脖子): it stops when
# the shower does, so it is a blocked drain to clear, however deep it stands. Not when it comes back
# up the drain from elsewhere (返水, 倒灌, 往上冒), cannot be shut off, is someone else's (楼上),
# reaches other rooms, a neighbour below or anything electric, or a pipe burst: those stay floods.
_DRAIN_BLOCKED = re.compile(
    r"(?:地漏|下水|排水|马桶|水池|水槽|洗手盆|洗脸盆|面盆|浴缸|淋浴)[^。!！?？]{0,6}?"
    r"(?:堵|塞|不下水|下不去|不下去|排不[出走掉下]|不通|走不了)"
)
_OWN_USE = re.compile(
    r"(?:洗|冲)(?:了|完|个|一个|一下|下)*(?:澡|凉)|淋浴|洗头|洗衣|洗碗|洗菜|拖地|冲厕所|冲马桶|放水|用水"
)
_NOT_OWN_WATER = re.compile(
    r"爆|裂|喷|涌|灌|冒|返水|反水|往上|止不住|关不住|关不了|停不|一直流|流个不停|"
    r"电(?!话)|插座|开关|楼上|楼下|邻居|隔壁|漏到|渗到|滴到|天花板|客厅|卧室|房间|满屋|整个家|到处|地库|车库|楼道"
)


def _own_drain_backing_up(text: str) -> bool:
    """Whether the water is one's own, running into one's own blocked drain, and nothing worse."""
    return bool(_DRAIN_BLOCKED.search(text) and _OWN_USE.search(text) and not _NOT_OWN_WATER.search(text))


def harmless_water(text: str) -> bool:
    """Whether the only water ``text`` (normalised) tells of is outdoors in a garden fitting, a
    seep that comes when it rains, or one's own water backing up a blocked drain: a repair,
    however it sprays or stands."""
    if _ONLY_WHEN_IT_RAINS.search(text) and not _WORSE.search(text):
        return True
    if _own_drain_backing_up(text):
        return True
    return bool(_OUTDOOR_WATER.search(text) and not _WORSE.search(text) and not _INDOORS.search(text))
