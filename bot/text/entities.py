"""Rule-based entities on normalised text: address, phone, plate, ticket, time, hazard, fee topic.

These have exact formats (3号楼2单元501, 13812345678, 京A88668, BX000123) or safety
stakes (gas, fire, trapped in a lift), so rules beat a statistical tagger trained on
our own examples. Values are normalised; offsets index the text passed in (the
Rasa component maps them back to the owner's original text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.text.danger import SUPPOSING
from bot.text.names import extract_person_names, signature
from bot.text.numerals import DIGIT_OF, SAID_DIGIT, SAID_END, SAID_GAP, SPOKEN_DIGITS, said_digits
from bot.text.tickets import find_tickets
from bot.text.timeparse import find_times
from common.addresses import address_part
from common.fees import FEE_ITEMS
from common.phones import normalize_mobile


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int
    extra: dict = field(default_factory=dict, compare=False, hash=False)


_SEP = r"[-－—_/、]"
# 3-2-501 / 3栋-2-501: the usual 楼-单元-室 shorthand.
_TRIPLE = re.compile(
    rf"(?<![\d.])(\d{{1,3}})\s*(?:(?:号楼|栋|幢|#)\s*)?{_SEP}\s*(\d{{1,2}})\s*(?:单元\s*)?{_SEP}\s*(\d{{3,4}})(?!\d)"
)
_BUILDING = re.compile(r"(?<![\d.A-Za-z])(\d{1,3}|[A-Za-z])\s*(?:号楼|号院|栋|幢|座|#)")
_UNIT = re.compile(r"(?<![\d.])(\d{1,2})\s*(?:单元|门洞)")
# 4号楼3门102: in Beijing and the north a unit is a 门, said after the building.
_DOOR = r"门(?![口前外卫禁铃锁把框面岗厅洞])"
_UNIT_DOOR = re.compile(rf"(?:号楼|栋|幢|座|#)\s*(\d{{1,2}})\s*{_DOOR}")
_ROOM_AFTER_DOOR = re.compile(rf"(?:号楼|栋|幢|座|#)\s*\d{{1,2}}\s*{_DOOR}\s*(\d{{3,4}})(?!\d)")
# A room follows a building/unit marker, carries its own marker, or follows 房号/我家.
_ROOM_AFTER_MARKER = re.compile(r"(?:单元|号楼|栋|幢|座|#)\s*(\d{3,4})(?!\d)(?!\s*(?:号楼|栋|幢|单元))")
# 3座12楼1203 / 5栋8层802: a floor said before the flat, which begins with that floor.
_ROOM_AFTER_FLOOR = re.compile(r"(?<![\d.])(\d{1,2})\s*(?:楼|层)\s*(\d{3,4})(?!\d)(?!\s*(?:号楼|栋|幢|座|单元))")
# 我是502 18栋: in a call the flat may come first and its building after. After 是, a number that
# could be a flat, then a building at once: read when no other rule found the room.
_ROOM_BEFORE_BUILDING = re.compile(
    r"(?<!不)是\s*(\d{3,4})(?!\d)\s*(?:室|号)?\s*(?:[,，]\s*)?(?=(?:\d{1,3}|[A-Za-z])\s*(?:号楼|栋|幢|座))"
)
_ROOM_MARKED = re.compile(r"(?<![\d.])(\d{3,4})\s*(?:室|号房|房)(?!间)")
_ROOM_CUE = re.compile(
    r"(?:房号|房间号?|门牌号?|我家|家住|住在?|业主)\s*(?:(?:应该是|是|为|:|：)\s*)?"
    r"(\d{3,4})(?!\d)(?!\s*(?:号楼|栋|幢|单元))(?!年|元|块|月|日|天|次|个|平|米|度|斤|%|点|分)"
)

# Words that take back what was just said (503 不对 502, 粤B12345 说错了 粤B12346, 17号楼 哦不 16号楼).
_TAKEN_BACK_WORDS = r"不对|哦不|不不|说错了?|搞错了|错了|口误|更正一下|更正"
# A room taken back in the same breath keeps the last one said: 503 不对 是502, 501 哦不 502,
# 503不是 是502, 不是503 是502. (503不是502 alone is "503, not 502" and keeps 503: no rule here.)
# Each \s* follows a character it cannot share with the next one, so a match is found one way.
_ROOM_SAID = r"(\d{3,4})(?!\d)\s*(?:(?:室|号)\s*)?(?:[啊呃哦噢]\s*)?(?:[,，.。]\s*)?"
_ROOM_INSTEAD = r"(\d{3,4})(?!\d)(?!\s*(?:号楼|栋|幢|单元|元|块|点|分|个|岁|年|月|日|天|次|平|米|度|斤|%))"  # not 350块
_IT_IS = r"(?:[,，.。!！]\s*)?(?:应该|其实|而)?是\s*"
_ROOM_CORRECTIONS = (
    re.compile(
        # rooms also take 噢不, 喔不, 纠正一下 (plates and buildings do not yet)
        rf"(?<![\dA-Za-z.]){_ROOM_SAID}(?:{_TAKEN_BACK_WORDS}|噢不|喔不|纠正一下)"
        rf"\s*(?:{_IT_IS}|(?:[,，.。!！]\s*)?(?:改成|改为)\s*|[,，.。!！]\s*)?{_ROOM_INSTEAD}"
    ),
    re.compile(rf"(?<![\dA-Za-z.]){_ROOM_SAID}不是\s*{_IT_IS}{_ROOM_INSTEAD}"),  # 503不是 是502
    re.compile(rf"不是\s*{_ROOM_SAID}{_IT_IS}{_ROOM_INSTEAD}"),  # 不是503 是502
)
# 是502 不是503 (Cantonese 係502 唔係503): the room meant said first, after 是, and the one taken back
# after 不是. Without the 是 (502 不是503) it is left alone, as 503不是502 is above.
_ROOM_MEANT_FIRST = re.compile(rf"(?<!不)是\s*{_ROOM_INSTEAD}\s*(?:[,，.。]\s*)?不是\s*{_ROOM_INSTEAD}")
# A room number said alone at the end of a call that named the building at the start (我是3栋2单元的
# …… 501): the last thing in the message, set off from what precedes it, 3–4 digits that could be a
# flat (not ending in 00), with no word nearby that makes it a price, a time, a phone or a code.
_LAST_NUMBER = re.compile(r"(?:^|(?<=[\s,，.。!！?？、;；:：…~～是]))(\d{3,4})\s*(?:室|号|的|吧|啊|呀|哈)?$")
_NOT_A_ROOM = re.compile(
    r"钱|元|块|费|价|共|总|计|交|付|扣|退|赔|电话|手机|号码|尾号|单号|工单|编号|码|点|分钟|小时|年|月|天|次|个|平|米|度|岁|斤|公里|%|\d\s+$"
)
_LAST_NUMBER_WINDOW = 40
# A plate or a building taken back in the same breath (粤B12345 不对 粤B12346, 17号楼 不对 16号楼):
# the last one said is the one meant.
_TAKEN_BACK = re.compile(rf"^[\s,，.。]*(?:[啊呃哦噢]\s*)?(?:{_TAKEN_BACK_WORDS})[\s,，.。]*(?:是|应该是)?\s*$")
# A number right after one of these is a ticket, a phone's tail, a code or a plate, corrected or not.
_OTHER_NUMBER_CUE = re.compile(
    r"(?:工单号?|单号|编号|尾号|号码|电话|手机|密码|验证码|车牌号?)\s*(?:是|为|:|：)?\s*(?:不是)?\s*$"
)
_ROOM_TAIL_TRAIL = " ,，.。!！~～"

# Where a mainland mobile stands in a message, with or without the country code (+86 138…, 86-138…,
# 0086 138…); what it is worth is common.phones' to say.
_CELL = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
# ... or said in groups after 电话 or 手机 in a call (电话是 幺五零 七七 幺八 …), read when the groups
# make one mobile, no more and no fewer digits (common.phones decides).
_SAID_MOBILE = re.compile(
    # after 电话/手机, or as the whole answer to "your phone?" (幺八六 七七 八九 零 幺 二 三)
    rf"(?:(?:电话|手机)(?:号码|号)?\s*(?:是|为|:|：)?\s*|^\s*)({SAID_DIGIT}(?:{SAID_GAP}{SAID_DIGIT}){{10,12}}){SAID_END}"
)
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# The dot owners put after the city letter (粤B·12345), or after the first character of a new-energy
# plate's number (粤BD·12345): · • ・ ‧ ∙ ⋅ . or a dash; NFKC has already made ･ and ． half width.
_PLATE_DOT = r"(?:[·•・‧∙⋅.\-]\s*)?"
_PLATE = re.compile(
    rf"([{_PROVINCES}])\s*([A-Za-z])\s*{_PLATE_DOT}([A-Za-z0-9])\s*{_PLATE_DOT}([A-Za-z0-9]{{4,5}})(?![A-Za-z0-9])"
)
# Five characters: an ordinary plate. Six: a new-energy plate, D/F first (粤BD12345, 粤BDA1234)
# or last (粤B12345D); any other six is not a plate (浙A123456 is a typo or another number).
_NEW_ENERGY = re.compile(r"[DFdf][A-Za-z0-9]\d{4}|\d{5}[DFdf]")
# After 车牌 the owner has said it is a plate, so it is read however it is written: letter by
# letter in a call (津 C 六 六 八 八 九), six characters that are no standard new-energy plate, or
# a Hong Kong, Macau or Taiwan plate (PK 1234, MX-12-34, ABC-1234).
_PLATE_WORD = r"车牌(?:号(?:码)?)?(?:是|系|为|:|：)?\s*"
_PLATE_CUE = rf"(?:{_PLATE_WORD}|(?:{_TAKEN_BACK_WORDS})\s*(?:应该是|是)?\s*)"  # or a mainland plate's correction
_PLATE_CHAR = rf"[A-Za-z0-9{SPOKEN_DIGITS}]"
_CUED_PLATE = re.compile(
    rf"{_PLATE_CUE}([{_PROVINCES}])\s*([A-Za-z])((?:\s*{_PLATE_DOT}{_PLATE_CHAR}){{5,6}})(?!\s*{_PLATE_CHAR})"
)
# Without 车牌, a plate spelt out character by character (一辆白的 浙B 六 二 K 八 三) is still told by its
# shape: a province, its city letter, then exactly five letters or digits (no digit that starts a word,
# 一直) and no sixth. A sixth may be a new-energy plate's or the next word's: no guess.
_SPELT_PLATE = re.compile(
    rf"([{_PROVINCES}])\s*([A-Za-z])((?:\s*{_PLATE_DOT}(?:[A-Za-z]|{SAID_DIGIT})){{5}})(?!\s*{_PLATE_CHAR})"
)
_CUED_OTHER_PLATE = re.compile(rf"{_PLATE_WORD}([A-Z]{{1,3}})[\s\-]?(\d{{1,4}})(?:[\s\-](\d{{2}}))?(?![A-Za-z0-9])")
_BARE_NUMBER = re.compile(r"^\s*(\d{1,4})\s*(?:[.。!！]\s*)?$")

PUBLIC_AREAS = {
    "电梯": "电梯",
    "电梯间": "电梯",
    "电梯厅": "电梯",
    "楼道": "楼道",
    "走廊": "楼道",
    "过道": "楼道",
    "楼梯": "楼梯",
    "楼梯间": "楼梯",
    "地下车库": "地下车库",
    "车库": "地下车库",
    "停车场": "停车场",
    "地下室": "地下室",
    "大门": "小区大门",
    "小区门口": "小区大门",
    "东门": "东门",
    "西门": "西门",
    "南门": "南门",
    "北门": "北门",
    "大堂": "大堂",
    "单元门": "单元门",
    "门禁": "门禁",
    "花园": "花园",
    "绿化带": "绿化带",
    "草坪": "草坪",
    "广场": "广场",
    "健身器材": "健身区",
    "健身区": "健身区",
    "儿童乐园": "儿童乐园",
    "游乐场": "儿童乐园",
    "路灯": "路灯",
    "垃圾站": "垃圾站",
    "垃圾房": "垃圾站",
    "垃圾桶": "垃圾桶",
    "天台": "楼顶",
    "楼顶": "楼顶",
    "屋顶": "楼顶",
    "外墙": "外墙",
    "消防通道": "消防通道",
    "消防栓": "消防栓",
    "水泵房": "水泵房",
    "配电房": "配电房",
    "信报箱": "信报箱",
    "快递柜": "快递柜",
    "充电桩": "充电桩",
    "泳池": "泳池",
    "会所": "会所",
    "篮球场": "篮球场",
    "公共区域": "公共区域",
}
# Public areas that belong to one building, so a report needs the building too.
IN_A_BUILDING = frozenset(
    {"电梯", "楼道", "楼梯", "大堂", "单元门", "门禁", "楼顶", "外墙", "地下室", "信报箱", "消防栓"}
)
_PUBLIC_AREA = re.compile("|".join(sorted(PUBLIC_AREAS, key=len, reverse=True)))

_NEGATION = re.compile(r"(没有人?|没人|没|不是|不|无人?|别|未)\s*$")
# Not daring to make a spark: what people do when they fear gas (不敢开灯, 火都不敢点).
_NO_SPARK = (
    r"(?:(?:不敢|别|不要|不能)(?:开灯|开火|点火|打火|开电|用电|按开关|开开关|按电梯)"
    r"|(?:灯|火|开关|电)(?:都|也)?不敢(?:开|点|打|按|碰|用))"
)
# Something at height about to come down on whoever is below. Big things outdoors (a tree, a wall,
# scaffolding) only when they are about to fall: a tree swaying in the wind is weather. Things hung
# up high also when they hang out, askew or loose (一半悬在外面, 歪着挂在那); the light ones (a
# flowerpot, a sign, an awning) also when they sway, not a machine or a pane (an outdoor unit that
# shakes as it runs, a window rattling in the wind). Between the thing and the words, no smaller part
# of it: 空调外机的排水管快掉了 is a pipe.
_STANDING = r"大?树|树枝|树干|围墙|脚手架"
_SWAYS_HIGH = (
    r"花盆|花架子?|晾衣架|空调架|外机架|雨棚|雨篷|遮阳棚|遮阳篷|防盗网|灯箱|广告牌|招牌|铁皮|彩钢板|挂板|"
    r"太阳能(?:热水器|板)?|光伏板|楼顶(?:的)?(?:板子|盖板|铁皮)"
)
_FIXED_HIGH = (
    r"空调外机|外机|窗框|窗扇|整扇窗|"
    r"外墙(?:的)?(?:瓷砖|砖|墙皮|皮|马赛克|石材|玻璃|挂板)?|(?:阳台|窗户?|窗外|楼上|高处)的?玻璃"
)
_NO_SMALLER_PART = r"(?:(?!管|线|盖|罩|漆|滴水|遥控)[^。!！?？]){0,20}"
_SOON = (
    r"(?<![不别])(?<!不是)(?<!不会)"  # 不是要掉 就是有点晃: not about to fall, said outright
    r"(?:快(?:要)?|就要|要|随时(?:都)?(?:会|要|可能)?(?:会|要)?|马上(?:就)?(?:要)?|眼看(?:就)?(?:要)?)"
)
_ABOUT_TO_FALL = rf"{_SOON}(?:掉|跌|坠|砸|塌|倒)(?![漆色水垃])|往下(?:掉|砸)|掉下来|摇摇欲坠"
_HANGING_LOOSE = (
    r"悬(?:在|着)?(?:外面|外边|半空|空中|窗外|楼外)|悬空|一半(?:悬|挂|伸|露)|歪(?:着|斜)?(?:挂|吊)|斜着?挂|"
    r"挂在半空|松脱|晃来晃去|摇来摇去|(?:翻|掀|卷)(?:出来|起来|开)了?"
)
_SWAYING = (
    r"摇摇晃晃|晃晃悠悠|(?:在|一直|不停地?)(?:晃|摇)|(?:晃|摇)得(?:很|好|特别)?厉害|"
    # blown loose by the wind and flapping (被风吹起来了 一直在那呼扇)
    r"被(?:大?风)?(?:吹|刮)(?:起来|翻|开|松)|呼扇|扑腾|翘起来"
)
# A thing up high giving way (loose, askew, moving, its bracket or screws gone): a repair on its own
# (窗户玻璃松了 关不严), a danger where people are below (下面就是人行道, 底下是幼儿园门口) or where
# the message goes on to say it may come down (歪了 支架螺丝都掉了 … 随时会掉). Said of the thing
# itself, no smaller part of it between; the people are said to be there (是, 有, 就是), not
# "下面的门口" (the lower part of something).
_HIGH_THING = rf"{_FIXED_HIGH}|{_SWAYS_HIGH}|玻璃|窗|瓷砖|墙砖|墙皮|石材|石屎|水泥块|混凝土块"
_GIVING_WAY = (
    r"松(?:了|动|脱|掉|开)|歪(?:了|掉|着|斜|出来)|(?:在|一直|不停地?|直)(?:晃|摇|动)|晃动|摇晃|吊在那里|脱落|"
    r"(?:支架|架子|螺丝|螺栓|钉子|固定)[^。!！?？]{0,4}(?:掉了|没了|断了|松了|脱了|锈断|锈穿|烂了)|"
    rf"{_HANGING_LOOSE}|{_SWAYING}"
)
_NO_SMALLER_PART_ON = r"(?:(?!管|线|盖|罩|漆|滴水|遥控)[^。!！?？]){0,30}"
_PEOPLE_BELOW = (
    r"(?:(?:门口|出入口|入口|通道|人行道|走道|楼梯口)(?:的)?(?:正)?上(?:面|方|边|头)|人行来行去|人走来走去|"
    r"(?:下面|下边|下方|底下|楼下)(?:就|正好|刚好|都)?(?:是|有|全是|就是)?(?:(?!的)[^。!！?？]){0,8}?"
    r"(?:人行道|行人|路人|过路|人来人往|人走的(?:路|道)|走人的|(?:好|很)多人|人(?:很|好|特别)?多|小孩|孩子|小朋友|学生|老人|"
    r"幼儿园|幼稚园|学校|出入口|门口|通道|走道|广场|儿童乐园|游乐场|巴士站|公交站|车站|停车|车位|车子))"
)
_GIVES_WAY_OVER_PEOPLE = (
    rf"(?:{_HIGH_THING}){_NO_SMALLER_PART}(?:{_GIVING_WAY})[^。!！?？]{{0,30}}{_PEOPLE_BELOW}|"
    rf"{_PEOPLE_BELOW}[^。!！?？]{{0,20}}(?:{_HIGH_THING}){_NO_SMALLER_PART}(?:{_GIVING_WAY})|"
    rf"(?:{_FIXED_HIGH}|{_SWAYS_HIGH}){_NO_SMALLER_PART}(?:{_GIVING_WAY}){_NO_SMALLER_PART_ON}(?:{_ABOUT_TO_FALL})"
)
# Someone not seen for days who does not open the door (几天没见人了 敲门也没人应): a person who may
# have collapsed inside. Neither alone: a door nobody opens is a neighbour out or a noise complaint,
# and "几天没见人来修" is the service's.
_UNSEEN = (
    r"(?:报纸|牛奶|快递|外卖|信)[^。!！?？]{0,4}[几两三四五六七八九十多]+[天日](?:了)?(?:都|也)?没(?:人)?(?:拿|收|取|动)|"
    r"[几两三四五六七八九十多]+[天日](?:了)?(?:都|也)?(?:没|不|无|未)(?:有)?(?:见(?:到|着|过)?(?:人|他|她|伊|面|人影)(?!来|上门|修|处理)|见(?:到|着)了|"
    r"见(?:过)?出入|看(?:见|到|着)(?:人|他|她|伊)|"
    r"见(?:到|着)?(?:他|她|人)?出(?:来|门)|"
    r"看(?:见|到)(?:人|他|她)|出(?:过)?门|出来|露(?:过)?面|开(?:过)?门)"
)
_NO_DOOR = (
    # the doorbell rung for nothing (按电铃也没人应)
    r"(?:按|摁|打)(?:了)?(?:门铃|电铃)(?:好久|半天|很久|几次|好几次|几下)?(?:都|也)?(?:没人?应|没人开|没反应|没有反应|没人理|不应|没动静)|"
    r"[敲拍](?:门)?不开|[敲拍](?:了)?(?:好久|半天|很久|几次|好几次|几下)?(?:的)?门(?:[敲拍]了?(?:好久|半天|很久|几次|好几次|几下)?)?"
    r"(?:好久|半天|很久|几次|好几次|几下|[几两三四五六七八九十]+天)?(?:都|也)?(?:他|她|伊)?"
    r"(?:没人?应|没人开|没反应|没有反应|不开|没开|没人理|不应|没动静|伐应|无人?应|冇人应)"
)
# Someone living alone who has not answered the phone for hours (我妈一个人住 电话打了一上午没人接):
# a relative far away asks for a look; a fall at home is what they fear. Not a number that is busy
# or the office's phone (物业电话打不通 is the service's).
_LIVES_ALONE = r"独居|一个人住|独自(?:一人)?住|自己一个人住|一个人在家住|一个人在(?:家|家里|屋里|屋头)(?!写|做|玩|看)"
_OFFICE = r"物业|管家|客服|你们|前台|管理|值班|办公|热线"
_PHONE_UNANSWERED = (
    rf"(?:(?<!物业)(?<!管家)(?<!客服)(?<!前台)(?<!你们)电话|(?<!电话)打了?)(?:(?!{_OFFICE})[^。!！?？]){{0,10}}"
    r"(?:没人接|都没接|也没接|不接|伐接|无接|没有人接|无人接听|打不通|没人听)|(?:没人|没有人|不)接(?:电话|手机)"
)
_ALONE_UNANSWERED = (
    rf"(?:{_LIVES_ALONE})(?:(?!{_OFFICE})[^。!！?？]){{0,30}}(?:{_PHONE_UNANSWERED})|"
    rf"(?:{_PHONE_UNANSWERED})[^。!！?？]{{0,24}}(?:{_LIVES_ALONE})"
)
# A thud behind that door, then silence, or the phone unanswered too (敲门不开 听到里面咚一声 然后就没动静了).
_THUD = r"(?:咚|砰|嘭|扑通|哐)(?:的)?一声|一声(?:闷响|巨响)|摔(?:倒)?的声音"
_UNSEEN_BEHIND_A_DOOR = (
    rf"(?:{_UNSEEN})[^。!！?？]{{0,24}}(?:{_NO_DOOR})|(?:{_NO_DOOR})[^。!！?？]{{0,24}}(?:{_UNSEEN})|"
    rf"(?:{_NO_DOOR})[^。!！?？]{{0,30}}(?:{_THUD}|{_PHONE_UNANSWERED})|(?:{_THUD})[^。!！?？]{{0,30}}(?:{_NO_DOOR})"
)
# A child shut in (小孩把自己反锁在卫生间, 宝宝被锁在车里): out of reach, and a closed car or a
# bathroom with the heater on can kill. Not a thing locked in by a child (儿子把钥匙锁在家里), nor
# anyone locked out (把我锁在门外).
_CHILD_WORD = r"(?:小孩|孩子|小朋友|宝宝|儿子|女儿|孙子|孙女|个仔|细路|他(?!们)|她(?!们))"
_CHILD = (
    r"(?:小孩|孩子|小朋友|宝宝|婴儿|娃娃?|儿子|女儿|孙子|孙女|外孙子?|外孙女|个仔|我仔|个女|我女|细路仔?|BB|"
    r"[1-9一两二三四五六七八九]岁(?:多)?的?(?:孩子|小孩|宝宝|娃)?)"
)
_SHUT_IN = (
    r"(?:反锁|锁|关|困)(?:了)?(?:自己)?(?:在|到)了?(?:(?!门外|外面|外头)[^。!！?？]){0,6}"
    r"(?:车里|车上|车内|卫生间|厕所|浴室|洗手间|冲凉房|房间|屋里|里面|里头|阳台|露台|柜子|电梯)"
)
_AT_THE_EDGE = (
    r"(?:护栏|栏杆|围栏|窗台|窗户|女儿墙)\s*(?:外面|外边|外头)[^。!！?？]{0,16}(?:下不来|(?:随时|快|要)(?:要)?掉|掉下去)|"
    rf"{_CHILD_WORD}[^。!！?？]{{0,40}}(?:护栏|栏杆|围栏|窗台)\s*上?\s*(?:往上)?\s*(?:爬|站|翻)|"
    rf"{_CHILD_WORD}[^。!！?？]{{0,40}}(?:爬|站|翻)\s*(?:上|到|出)\s*(?:了)?\s*(?:护栏|栏杆|围栏|窗台)"
)
_CHILD_SHUT_IN = rf"{_CHILD}(?:(?!钥匙|手机|东西|门外|我|妈|爸)[^。!！?？]){{0,10}}{_SHUT_IN}"
# ... or a child alone inside while nobody can get in (门一关就带上了 钥匙在里面 孩子一个人在里面), or
# alone and unwell or at an open window: the child on their own, not a child at home.
_ALONE_INSIDE = r"(?:一个人|自己|独自)(?:一个人)?(?:在)?(?:里面|里头|家里?|屋里|房间)"
_CANNOT_GET_IN = (
    r"钥匙(?:还)?(?:在|锁在|放在)?(?:里面|屋里|家里)|进不去|回不去|返不到去|锁在外面|"
    r"门(?:一关)?(?:就)?(?:被)?(?:风)?(?:带上|锁上|关上|撞上)了"
)
_ALONE_AND = r"窗户?(?:还|都)?(?:是)?开着|头晕|闻到"
_CHILD_ALONE = (
    rf"{_CHILD}[^。!！?？]{{0,12}}{_ALONE_INSIDE}[^。!！?？]{{0,40}}(?:{_CANNOT_GET_IN}|{_ALONE_AND})|"
    rf"(?:{_CANNOT_GET_IN})[^。!！?？]{{0,30}}{_CHILD}[^。!！?？]{{0,12}}{_ALONE_INSIDE}"
)
# Water from a leak onto something electric (楼上漏水 电视都湿了, 水渗到插线板上 都泡了): a shock or a
# fire in the making. Not the furniture it stands on (电视柜, 电视墙).
_ELECTRICS = r"电视|电脑|冰箱|电器|家电|插座|插线板|插排|电箱|配电箱|电表箱|路由器|音响|电线|电闸|总闸|电源"
_WATER_ON_ELECTRICS = (
    rf"(?:漏水|渗水|水)[^。!！?？]{{0,16}}(?:{_ELECTRICS})(?:机)?(?![柜墙架台])[^。!！?？]{{0,3}}"
    r"(?:都|也|全|已经|全部)?(?:湿了|湿透|淋湿|泡了|泡水|浸了|进水了|浇湿|打湿)|"
    # ... or running into it (水从楼上流下来 流到电闸那了)
    rf"水[^。!！?？]{{0,16}}(?:流|渗|漏|淌|滴|灌)(?:晒|了)?(?:到|进|在|入)了?(?:{_ELECTRICS})(?![柜墙架台])"
)
# Smoke where it has no business being: a shared space full of it (楼道有烟, 楼梯间全是烟), or an
# alarm sounding and smoke there. Not a smell of smoke (楼道有烟味, someone smoking), a cigarette end
# or the alarm itself (烟感, 烟雾报警器).
_SHARED_SPACE = r"楼道|楼梯间?|走廊|过道|电梯间|电梯井|电梯厅|地库|车库|地下室|大堂|配电房|管道井|电井|消防通道"
_SMOKE = r"(?:浓|黑|白|青)?烟(?!味|头|蒂|盒|酒|花|囱|机|草|感|雾(?:报|探|感|传))"
_SMOKE_THERE = (
    r"(?:有(?:好|很)?(?:浓|大)的|有|全是|都是|好多|很多|好大的?|很大的?|好浓的?|很浓的?|一股|一片|冒|在冒|进了?|飘)"
)
_ALARM_SOUNDING = (
    r"(?:烟感|烟雾报警器?|烟报警器|烟雾探测器|火警报警器?|消防报警器?|报警器|警报器?|警铃)"
    r"[^。!！?？]{0,6}(?:响|叫|鸣|报警)"
)
_SMOKE_WHERE_IT_SHOULD_NOT_BE = (
    rf"(?:{_SHARED_SPACE})(?:里|里面|里头)?{_SMOKE_THERE}{_SMOKE}|"
    rf"{_ALARM_SOUNDING}[^。!！?？]{{0,12}}(?<![没无不]){_SMOKE_THERE}{_SMOKE}"
)
# Calling someone who does not answer: 喊她没反应, 叫了几声都不应, 叫都叫不应, Cantonese 叫極都唔應
# (怎么叫都不应). Called by pronoun or as a person (not 他们: 叫他们来修 一直没反应 is the service),
# and nothing between the call and the silence about coming, fixing or the phone.
_CALLED = r"(?:叫|喊|拍|摇|推)"
_WHO = (
    r"(?:她|他(?!们)|老人家?|老太太?|老头|老伯|伯伯|阿伯|阿婆|婆婆|奶奶|爷爷|大爷|大妈|阿姨|叔叔|小孩|孩子|"
    r"我妈|我爸|妈妈|爸爸|老公|老婆|老伴|外婆|外公)"
)
_NO_ANSWER = r"(?:没反应|没有反应|没得反应|不应|不答应|没答应|没人应|不回应|没回应|不吭声|不出声|不说话|没声音|没动静)"
_NOT_ABOUT_SERVICE = r"(?:(?![来修办处回电信])[^。!！?？]){0,6}"
_CALL_UNANSWERED = (
    rf"{_CALLED}{_WHO}{_NOT_ABOUT_SERVICE}?(?:都|也)?{_NO_ANSWER}|"
    rf"{_CALLED}(?:了)?(?:好|半天|很久|一会儿?)?[0-9一两二三四五六七八九十几]*(?:声|下|遍|次)?[\s,，]?(?:都|也){_CALLED}?"
    r"(?:不应|不答应|没人应)|(?:叫|喊)不应|"
    r"怎么(?:叫|喊)(?:都|也)(?:没反应|没有反应)"
)
# Water running through a light fitting or another electrical point (水沿着灯位流下来, 插座在滴水), or
# one crackling (啪啪声): water and electricity, a shock or a fire in the making.
# (not a tap's, a valve's or an appliance's 开关: 水龙头开关漏水, 热水器开关漏水 are plumbing)
_LIVE_POINT = r"(?:吊灯|筒灯|吸顶灯|灯座|灯位|灯头|灯|插座|(?<![头阀水器])开关|电箱|配电箱|电表箱|电线|电闸|线管)"
_WATER_THROUGH_POINT = (
    rf"水[^。!！?？]{{0,8}}(?:沿|顺|从|由|通过)(?:着)?[^。!！?？]{{0,4}}{_LIVE_POINT}[^。!！?？]{{0,6}}"
    r"(?:流|淌|滴|漏|渗|冒|喷|灌|往下|下来|出来)|"
    rf"{_LIVE_POINT}(?:里|里面|上|口|孔|盒|罩|那里|那儿|那边)?(?:都|也)?(?:在|一直|不停地?|还在)?"
    r"(?:漏水|滴水|流水|渗水|出水|冒水|往下(?:滴|流|淌|漏)|滴(?![答滴]))|"
    # water standing in it (灯泡里都是水, 灯罩里积了水)
    rf"{_LIVE_POINT}(?:泡|罩|座|盒)?(?:里|里面|里头)(?:都是|全是|有|进了?|积了?|灌满了?|满是)水"
)
_CRACKLING = r"(?:啪啪|噼啪|噼里啪啦|劈啪|劈里啪啦|滋滋|吱吱|嗞嗞)"
_CRACKLING_POINT = (
    rf"(?:插座|(?<![头阀水器])开关|电箱|配电箱|电表箱|电线|电闸|灯位|灯座|电灯|吊灯|筒灯|吸顶灯|灯泡|线管)[^。!！?？]{{0,8}}{_CRACKLING}|"
    rf"水[^。!！?？]{{0,30}}{_LIVE_POINT}[^。!！?？]{{0,20}}{_CRACKLING}"
)
# Each hazard: phrases (regex alternatives) that name it. Keep them specific: 煤气费 is
# a fee question, 煤气味 an emergency.
HAZARDS = {
    "gas_leak": [
        "煤气味",
        "燃气味",
        "天然气味",
        "液化气味",
        "瓦斯味",
        "瓦斯外泄",
        "瓦斯漏",
        "煤气泄漏",
        "燃气泄漏",
        "天然气泄漏",
        "漏气",
        "煤气漏",
        "燃气漏",
        "闻到(?:一股)?(?:煤气|燃气|天然气)",
        # What gas is made to smell of, and gas named only by likeness, by owners who know no gas word.
        "臭鸡蛋(?:的|一样的?|似的|那种|那样的?)?(?:气)?味",
        # 味道像臭鸡蛋, and with a caller's fillers (味道 臭臭的 像 像那个 臭鸡蛋)
        "味[道儿]?[^。!！?？]{0,8}像(?:是)?\\s*(?:像)?\\s*(?:那个|那种)?\\s*(?:燃气|煤气|天然气|液化气|臭鸡蛋)",
        # like a hob left unlit (像灶没点着那种): gas by what it is like
        "像(?:是)?[^。!！?？]{0,4}(?:灶|炉)[^。!！?？]{0,3}没(?:有)?点(?:着|燃)",
        # 像是燃气那种味道, and with a caller's fillers between (像那个 煤气那个味道)
        "像(?:是)?(?:那个|那种)?\\s*(?:燃气|煤气|天然气|液化气)\\s*(?:那种|那个|一样|似的|的)?\\s*味",
        # A gas alarm sounding, or any alarm sounding with a smell: with no gap, 报警器没响 never matches.
        "(?:燃气|煤气|天然气|可燃气体?)报警器?(?:一直|突然|又|还)?在?(?:响|叫|嘀|滴|报警)(?!过)",
        "报警器[^。！？没不]{0,12}(?:响|叫|嘀|滴)[^。！？]{0,20}(?<![没无不])(?<!没有)(?<!没什么)味",
        # A smell nobody can name, and what people do about a gas leak: they dare not make a spark,
        # or an odd smell makes them dizzy. Either order; "没有怪味" never matches (the smell must be
        # there), and a bad smell alone (垃圾臭得恶心) is not gas.
        f"(?<![没无不])(?:怪|异|刺鼻)[^。!！?？]{{0,3}}味[^。!！?？]{{0,16}}(?:{_NO_SPARK}|头[^。!！?？]{{0,3}}(?:晕|疼|痛))",
        f"(?<![没无不])(?:怪|异|臭|刺鼻|难闻)[^。!！?？]{{0,3}}味[^。!！?？]{{0,16}}{_NO_SPARK}",
        # a foul smell that makes someone dizzy (闻到好臭的味 头晕): fumes until someone has looked
        # (said to be smelt, not a drain that stinks: 下水道返臭味 熏得头晕 is the drain's)
        "(?<![没无不])闻到(?:(?!下水|地漏|垃圾|厕所|马桶|化粪)[^。!！?？]){0,6}(?:臭|难闻)[^。!！?？]{0,3}味[^。!！?？]{0,8}头[^。!！?？]{0,2}晕",
        f"{_NO_SPARK}[^。!！?？]{{0,12}}(?<![没无不])(?:怪|异|臭|刺鼻|难闻)[^。!！?？]{{0,3}}味",
    ],
    "fire": [
        "着火",
        "著火",
        "(?:电表箱|电箱|配电箱|插座|插排|插线板|电线|电闸|电动车|电瓶车|电瓶)(?:那里|那边)?(?:烧)?着了",
        "起火",
        "失火",
        "火灾",
        "冒烟",
        # smoke pouring out, its colour said (窗户往外冒黑烟, 冒浓烟): a fire somewhere behind it
        "冒(?:着|出)?(?:黑|浓|白|青)烟",
        "冒火",
        _SMOKE_WHERE_IT_SHOULD_NOT_BE,
        "火花",
        "烧起来",
        "烧焦味",
        # a burning smell named by what burns (塑料烧焦的味, 烧塑料那种味)
        "(?:塑料|胶皮|电线|绝缘皮)[^。!！?？]{0,2}(?:烧焦|烧糊|焦糊)的?味|烧(?:塑料|胶皮|电线)[^。!！?？]{0,4}味",
        "焦糊味",
        "电线烧",
        "插座烧",
    ],
    "lift_entrapment": [
        "困在电梯",
        "被困电梯",
        "电梯困人",
        "电梯里(?:有人)?(?:被)?困",
        "困电梯",
        "关在电梯",
        "卡在电梯",
        "电梯(?:里)?出不来",
        "困在里面",
        "电梯里?关(?:了|到|住)?人",
        "(?:卡住|卡在|停在|困在)[^。!！?？]{0,12}里(?:面|头)?(?:好像|可能|估计)?还?有(?:个|一个|两个)?(?:人|小孩|孩子|小朋友|老人|宝宝|婴儿)",
        # The caller inside a lift that stopped or will not open, with no word for "trapped".
        "在电梯里(?:面|头)?[^。!！?？]{0,10}(?:停了|停住|停在|卡住|卡了|卡在|不动|打不开|开不了|开不开|出不去|出不到)",
        "电梯[^。!！?？]{0,6}(?:停|卡)(?:住|了|在)[^。!！?？]{0,10}(?<![没无])(?:我|我们|人|孩子|老人|小孩|女儿|儿子|我妈|我爸|老公|老婆|孙子|孙女|宝宝|家人)(?:还|都)?在(?:里面|里头|里边)",
        # A lift that stopped, stuck or broke, and whoever is still inside: 我妈在里面, 里面有人, 被关里面.
        "电梯[^。!！?？]{0,12}(?:停|卡|坏|不动|故障)[^。!！?？]{0,16}"
        "(?:(?<![没无])(?<!没人)(?<!没有人)(?<!没人困)(?<!没有人困)(?<!没人被困)在(?:电梯)?(?:里面|里头|里边)(?=$|[\\s,，。!！?？]|出不|打不|开不|喊|叫|哭|呢|啊|了|还没)"
        "|关在?(?:电梯)?(?:里面|里头|里边|里)|里(?:面|头|边)(?:好像|可能)?(?:还)?有人)",
    ],
    "flooding": [
        "爆管",
        "(?:水|暖气|热水|下水)?管(?:子|道)?(?:爆|破裂|裂开|崩)",
        "爆(?:了)?(?:水|暖气|热水)管",
        "水[^。!！?？]{0,6}(?:涌|灌|喷)(?:下来|进来|出来)",
        "爆裂",
        "水漫",
        "淹了",
        "被淹",
        "水淹",
        "涌水",
        "喷水",
        "水一直往外冒",
        "到处是水",
        "满屋(?:都是|全是)?热?水",
        "淹水",
        "(?:地下室|地库|车库)(?:里)?进水",
        # water pouring down into the car park, the cars standing in it
        "水[^。!！?？]{0,16}往下(?:灌|涌)",
        "车(?:子)?(?:都|全)(?:被)?(?:泡|淹)(?:了|在水里)",
        # water pouring down through the ceiling (从顶上往下浇, 天花板往下灌水)
        "(?:顶上|天花板?|吊顶|屋顶|房顶)[^。!！?？]{0,4}(?:往下(?:浇|泼|灌)|(?:浇|泼|灌)下来)",
    ],
    "power_outage": [
        "(?:整栋|整幢|整座|整个小区|全小区|大面积|整单元|整个单元)(?:楼|大厦|大楼)?(?:都|全)?(?:停电|没电|断电)",
        "(?:栋|幢|号楼)(?:全部|都|全)?(?:停电|断电)",
        "(?:整栋|整幢|整个|全)楼(?:好像)?(?:全部|都|全)?(?:停电|没电|断电|黑了)",
    ],
    "life_threat": [
        "救命",
        "晕倒",
        "昏倒",
        "昏迷",
        "跌倒",
        "摔倒",
        "触电",
        "被电打",
        "被电到",
        "电到人",
        "漏电",
        "坠落",
        "砸到人",
        "砸伤",
        "高空坠物",
        # Things falling from a height, or off a building: 楼上掉下来一个花盆, 外墙的瓷砖一直往下掉.
        "(?:楼上|高处|高空|楼顶|外墙|窗外|阳台|露台|天台)[^。!！?？]{0,8}(?:(?:掉|跌|砸|坠)了?下(?:来|去)|往下(?:掉|坠|砸))"
        "[^。!！?？]{0,6}(?:玻璃|花盆|砖|石|铁|板|窗|一块|一个|一根|架子)",
        # the thing itself falls (空调外机那个排水管掉下来了 is a pipe, not the unit: no gap allowed)
        "(?:玻璃|花盆|墙皮|瓷砖|广告牌|空调外机|窗户?)(?:(?:由|从)(?:楼上|高处|露台|阳台|天台|窗台|楼顶))?"
        "(?:都|也|又|一直|突然|直接|在|正在|还在)?(?:(?:掉|跌|坠|砸)了?下(?:来|去)|往下(?:掉|坠))",
        "外墙[^。!！?？]{0,8}(?:在|还在|正在|一直|不停地?)往下(?:掉|坠)",
        # a tree, a sign or scaffolding about to come down, or shedding onto whatever is below
        f"(?:{_STANDING})[^。!！?？]{{0,10}}(?:{_ABOUT_TO_FALL})",
        f"(?:{_SWAYS_HIGH}){_NO_SMALLER_PART}(?:{_ABOUT_TO_FALL}|{_HANGING_LOOSE}|{_SWAYING})",
        f"(?:{_FIXED_HIGH}){_NO_SMALLER_PART}(?:{_ABOUT_TO_FALL}|{_HANGING_LOOSE})",
        # Things thrown down from a height, hitting or nearly hitting, or still being thrown (高空抛物
        # now); throwing litter down with nothing hit (楼上老是往下扔烟头) is a complaint.
        "高空抛物",
        "(?:高层|高楼|楼上|高处|高空|楼顶|天台|窗口|窗外|往楼下|往下|向下)[^。!！?？]{0,8}(?:扔|抛|丢|掷)[^。!！?？]{0,24}"
        "(?:砸(?:到|中|了|伤)|打(?:中|到)|差点|险些|还在(?:扔|抛|丢)|正在(?:扔|抛|丢)|一直在(?:扔|抛|丢))",
        "有人受伤",
        "流血",
        "流了(?:好多|很多|一地)?血",
        "头破了",
        "没有呼吸",
        "不省人事",
        "被电了",
        "叫不醒",
        "喊不醒",
        # Someone lying down and not responding, told in plain words.
        "(?:晕|昏)(?:了|过去|倒了)[^。!！?？]{0,12}(?:没反应|没有反应|叫不醒|喊不醒|不省人事|一动不动|不应|不醒)",
        "(?:躺|倒|趴|瘫)(?:在|(?=地上|地下|地板))[^。!！?？]{0,12}(?:没反应|没有反应|一动不动|不应|不答应|没答应|不回应|不吭声|不说话|没声音|没气了)",
        # someone lying there (躺着一个人) who does not stir when called (叫他也不动)
        "(?:躺|倒|趴|瘫)着[^。!！?？]{0,12}(?:叫|喊|拍|推)(?:了)?(?:他|她|人)?(?:几声|几下|半天)?(?:也|都)?(?:不动|没动|不醒|没反应|没有反应|一动不动)",
        # Someone called who does not answer (喊她没反应, 叫都叫不应).
        _CALL_UNANSWERED,
        # A thing up high giving way over people; someone unseen for days behind a door nobody opens.
        _GIVES_WAY_OVER_PEOPLE,
        _UNSEEN_BEHIND_A_DOOR,
        _ALONE_UNANSWERED,
        _CHILD_SHUT_IN,
        _AT_THE_EDGE,
        _CHILD_ALONE,
        # Choking or not breathing, an ambulance on its way (喘不上气 脸都发紫了, 打了120)
        "喘不(?:上|过)气|呼吸困难|(?:脸|嘴唇|嘴)(?:都|已经)?(?:发|变)(?:紫|青)|噎住了|打了(?:120|999)|叫了救护车",
        # A stroke's signs (嘴巴歪了, 半边身子不能动): minutes matter.
        "嘴(?:巴|角)?(?:好像|有点|突然)?(?:歪|斜)(?:了|掉)|口眼歪斜|半边(?:身子?|脸|手脚)(?:突然)?(?:麻|不能动|动不了|没知觉|没力)",
        # Water and electricity together.
        _WATER_THROUGH_POINT,
        _WATER_ON_ELECTRICS,
        _CRACKLING_POINT,
    ],
}
_HAZARD = re.compile("|".join(f"(?P<{name}>{'|'.join(phrases)})" for name, phrases in HAZARDS.items()))

# Checked in this order: personal ledger questions first (我家还欠多少 is not about the standard).
FEE_TOPICS = {
    "owed": [
        "欠[了费多]?",
        "还差",
        "要交多少",
        "该交多少",
        "应交多少",
        "应缴",
        "未缴",
        "没交",
        "待缴",
        "交了没",
        "交没交",
        "缴清",
        "结清",
    ],
    "paid_until": ["交到", "缴到", "到期", "交到什么时候", "到几月", "交到哪"],
    "bills": ["账单", "明细", "缴费记录", "交费记录", "缴费情况", "交费情况", "历史记录", "扣费"],
    "invoice": ["发票", "收据", "开票"],
    "late_fee": ["滞纳金", "违约金", "逾期", "晚交", "迟交", "罚款", "罚金"],
    "standard": [
        "收费标准",
        "多少钱一平",
        "一平米?多少",
        "每平米?",
        "单价",
        "怎么收费",
        "怎么算的?",
        "收费依据",
        "标准是",
        "按什么收",
        "为什么这么贵",
        "涨价",
    ],
    "public_income": ["公共收益", "收益", "公示", "收支", "公开", "广告费", "停车费收入", "账目"],
    "how_to_pay": [
        "怎么交",
        "怎么缴",
        "如何交",
        "如何缴",
        "在哪交",
        "在哪里交",
        "哪里交",
        "去哪交",
        "到哪交",
        "怎么付",
        "怎么支付",
        "缴费方式",
        "交费方式",
        "支付方式",
        "微信交",
        "支付宝",
        "网上交",
        "线上交",
        "手机上交",
        "交费渠道",
        "缴费渠道",
        "能不能代扣",
        "自动扣",
    ],
}
_FEE_TOPIC = [(topic, re.compile("|".join(phrases))) for topic, phrases in FEE_TOPICS.items()]

# Which fee a question is about (common/fees.py says why it matters).
_FEE_ITEM_OF = {phrase: item for item, phrases in FEE_ITEMS.items() for phrase in phrases}
_FEE_ITEM = re.compile("|".join(sorted(_FEE_ITEM_OF, key=len, reverse=True)))  # 车位管理费 before 管理费


class Taken:
    """The characters of a text that entities already stand on. Asking about a span costs its
    length, not the number of entities found so far (a pasted wall of 3号楼 has hundreds)."""

    def __init__(self, size: int) -> None:
        self._chars = bytearray(size)

    def overlaps(self, start: int, end: int) -> bool:
        return self._chars.find(1, start, end) != -1

    def take(self, start: int, end: int) -> None:
        self._chars[start:end] = b"\x01" * (end - start)


def extract_address(text: str) -> list[Entity]:
    found: list[Entity] = []
    taken = Taken(len(text))

    def add(name: str, value: str | None, start: int, end: int, extra: dict | None = None) -> None:
        if value is None or taken.overlaps(start, end):
            return
        found.append(Entity(name, value, start, end, extra or {}))
        taken.take(start, end)

    def add_part(part: str, m: re.Match[str], group: int, **extra: bool) -> None:
        """A flat's part as the store keys it (0501 → 501, a → A): the roster import reads cells the same way."""
        add(part, address_part(m.group(group), part), *m.span(group), extra)

    corrections = _room_corrections(text)
    for said, _, _ in corrections:
        taken.take(*said)  # the room taken back is no room (and no other rule's either)
    for _, instead, newly_read in corrections:
        if not newly_read:
            add("room", address_part(text[instead[0] : instead[1]], "room"), *instead)
    for m in _TRIPLE.finditer(text):
        add_part("building", m, 1)
        add_part("unit", m, 2)
        add_part("room", m, 3)
    buildings = list(_BUILDING.finditer(text))
    for i, m in enumerate(buildings):
        if i + 1 < len(buildings) and _TAKEN_BACK.match(text[m.end() : buildings[i + 1].start()]):
            taken.take(*m.span())  # 17号楼 不对 16号楼: the building taken back is no building
            continue
        add_part("building", m, 1)
    for m in _UNIT.finditer(text):
        add_part("unit", m, 1)
    for m in _UNIT_DOOR.finditer(text):
        add_part("unit", m, 1, newly_read=True)
    for m in _ROOM_AFTER_FLOOR.finditer(text):
        floor, room = m.group(1), m.group(2)
        if room.startswith(floor) and len(room) == len(floor) + 2:
            add_part("room", m, 2)
    for pattern in (_ROOM_AFTER_MARKER, _ROOM_MARKED, _ROOM_CUE):
        for m in pattern.finditer(text):
            add_part("room", m, 1)
    for m in _ROOM_AFTER_DOOR.finditer(text):
        add_part("room", m, 1, newly_read=True)
    for _, instead, newly_read in corrections:  # after the rules above: one that reads it too keeps it as it was
        if newly_read:
            add("room", address_part(text[instead[0] : instead[1]], "room"), *instead, {"newly_read": True})
    if not any(e.entity == "room" for e in found):
        for m in _ROOM_BEFORE_BUILDING.finditer(text):
            said_as = _OTHER_NUMBER_CUE.search(text, max(0, m.start() - 8), m.start() + 1)  # 电话是 502 …
            if _plausible_room(m.group(1).lstrip("0")) and not said_as:
                add_part("room", m, 1, newly_read=True)
    last_room = _room_at_the_end(text, found)
    if last_room is not None:
        add("room", address_part(text[last_room[0] : last_room[1]], "room"), *last_room)
    for m in _PUBLIC_AREA.finditer(text):
        add("public_area", PUBLIC_AREAS[m.group()], *m.span())
    return found


def _plausible_room(number: str) -> bool:
    """501, 1202: a floor and a door. 500 or 1200 is a round sum, not a flat."""
    return 3 <= len(number) <= 4 and not number.endswith("00")


def _room_corrections(text: str) -> list[tuple[tuple[int, int], tuple[int, int], bool]]:
    """(span said, span said instead, newly read) for each room the owner corrected, in order."""
    corrections: list[tuple[tuple[int, int], tuple[int, int], bool]] = []
    seen: set[tuple[int, int]] = set()

    def keep(m: re.Match[str] | None, said: int = 1, meant: int = 2, newly_read: bool = False) -> None:
        if m is None or m.span(said) in seen or not _plausible_room(m.group(meant).lstrip("0")):
            return
        if _OTHER_NUMBER_CUE.search(text, max(0, m.start(1) - 8), m.start(1)):
            return  # 工单号503 不对 是502 corrects a ticket number, not a room
        seen.add(m.span(said))
        corrections.append((m.span(said), m.span(meant), newly_read))

    for pattern in _ROOM_CORRECTIONS:
        for m in pattern.finditer(text):
            keep(m)
    for m in _ROOM_MEANT_FIRST.finditer(text):
        keep(m, said=2, meant=1, newly_read=True)
    # 501 不对 502 哦不 503: the second correction starts on the first one's answer, which finditer
    # had already passed. One more look from each answer finds every link of a chain.
    for _, (start, _end), _ in list(corrections):
        for pattern in _ROOM_CORRECTIONS[:2]:
            keep(pattern.match(text, start))
    return corrections


def _room_at_the_end(text: str, found: list[Entity]) -> tuple[int, int] | None:
    """The span of a bare room number closing a message whose building was said before it."""
    if any(e.entity == "room" for e in found):
        return None
    end = len(text.rstrip(_ROOM_TAIL_TRAIL))
    m = _LAST_NUMBER.search(text, max(0, end - 8), end)
    if m is None or not _plausible_room(m.group(1).lstrip("0")):
        return None
    start = m.start(1)
    said = [e.end for e in found if e.entity in ("building", "unit") and e.end <= start]
    if not said:
        return None
    after_address = max(said) + len(_ADDRESS_TAIL.match(text, max(said)).group())  # past 单元 (元 is no price)
    if _NOT_A_ROOM.search(text, max(after_address, start - _LAST_NUMBER_WINDOW), start):
        return None
    return m.span(1)


_ADDRESS_GLUE = re.compile(r"^\s*(?:(?:号楼|号院|栋|幢|座|#|单元|门洞|室|号房|房|[-－—_/、])\s*)?$")


_ADDRESS_TAIL = re.compile(r"\s*(?:号楼|号院|栋|幢|座|#|单元|门洞|室|号房|号|房)?")


def placeholder_spans(text: str) -> list[tuple[int, int, str]]:
    """Where an address, phone or plate stands in ``text``, as (start, end, kind).

    For intent, *that* an owner gave a flat or a phone matters, not *which* one:
    the tokenizer turns each span into one placeholder token. Forms read since the model's
    training data was last looked at with them (``newly_read``: 4号楼3门, a plate spelt out, a
    mobile said in groups after 电话, a room said before its building or before the one it takes back)
    are extracted but not folded into a placeholder: folding them changes a few training
    sentences' tokens, and the ninth and eleventh sessions measured such a change moving
    dozens of DIET's close calls elsewhere (bench/NOTES.md). Folded in with the next data review.
    """
    flat = sorted(
        (e.start, e.end) for e in extract_address(text) if e.entity != "public_area" and not e.extra.get("newly_read")
    )
    merged: list[list[int]] = []
    for start, end in flat:  # 3号楼2单元501: three entities, one address
        if merged and _ADDRESS_GLUE.match(text[merged[-1][1] : start]):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for span in merged:  # ...and its closing marker: 5号楼 is one address, not 5 + 号楼
        span[1] += len(_ADDRESS_TAIL.match(text, span[1]).group())
    spans = [(s, e, "address") for s, e in merged]
    spans += [(e.start, e.end, "phone") for e in extract_phones(text) if not e.extra.get("newly_read")]
    spans += [(e.start, e.end, "plate") for e in extract_plates(text) if not e.extra.get("newly_read")]
    return sorted(spans)


def extract_phones(text: str) -> list[Entity]:
    """Mobiles (valued as the 11 digits every side stores, by :mod:`common.phones`) and landlines.
    One said in groups after 电话 is ``newly_read`` (see :func:`placeholder_spans`)."""
    phones = [
        Entity("phone", value, *m.span())
        for m in _CELL.finditer(text)
        if (value := normalize_mobile(m.group())) is not None
    ]
    for m in _SAID_MOBILE.finditer(text):
        # No said_number_is_whole here: a mobile has one length, so a digit glued to the next word
        # (… 5栋) could only have made it a number that is no mobile.
        value = normalize_mobile(said_digits(m.group(1)))
        if value is not None and not any(p.start < m.end() and m.start(1) < p.end for p in phones):
            phones.append(Entity("phone", value, *m.span(1), {"newly_read": True}))
    phones += [
        Entity("phone", "".join(m.groups()), *m.span())
        for m in _LANDLINE.finditer(text)
        if not any(p.start < m.end() and m.start() < p.end for p in phones)
    ]
    return phones


def extract_plates(text: str) -> list[Entity]:
    """Plates valued as written on the car, without dots or spaces: 粤BD·12345 → 粤BD12345; one
    taken back in the same breath (粤B12345 不对 粤B12346) gives way to the next."""
    plates: list[Entity] = []
    for m in _PLATE.finditer(text):
        number = m.group(3) + m.group(4)
        if len(number) == 5 or _NEW_ENERGY.fullmatch(number):
            plates.append(Entity("plate", (m.group(1) + m.group(2) + number).upper(), *m.span()))
    for m in _CUED_PLATE.finditer(text):
        number = "".join(DIGIT_OF.get(c, c) for c in m.group(3) if c.isalnum())
        if not any(p.start < m.end() and m.start(1) < p.end for p in plates):
            plate = (m.group(1) + m.group(2) + number).upper()
            plates.append(Entity("plate", plate, m.start(1), m.end(), {"newly_read": True}))
    for m in _SPELT_PLATE.finditer(text):
        if not any(p.start < m.end() and m.start() < p.end for p in plates):
            plate = (m.group(1) + m.group(2) + said_digits(re.sub(r"[^\w]", "", m.group(3)))).upper()
            plates.append(Entity("plate", plate, *m.span(), {"newly_read": True}))
    for m in _CUED_OTHER_PLATE.finditer(text):
        value = "".join(g for g in m.groups() if g)
        if 4 <= len(value) <= 8 and not any(p.start < m.end() and m.start(1) < p.end for p in plates):
            plates.append(Entity("plate", value, m.start(1), m.end(), {"newly_read": True}))
    kept: list[Entity] = []
    for plate in sorted(plates, key=lambda p: p.start):
        if kept and _TAKEN_BACK.match(text[kept[-1].end : plate.start]):
            kept.pop()
        kept.append(plate)
    return kept


def extract_tickets(text: str) -> list[Entity]:
    """Ours (BX000123) and external systems' numbers (20261030-0017, bot.text.tickets says which);
    an external one says its format in ``extra["system"]``."""
    return [
        Entity("ticket_id", t.value, t.start, t.end, {"system": t.system} if t.system else {})
        for t in find_tickets(text)
    ]


_ASLEEP = re.compile(r"睡觉|睡着|睡得|在睡|打瞌睡|睡死")
_WAKE = re.compile(rf"[叫喊]不醒|{_CALL_UNANSWERED}")
_CALLED_ABOUT_A_LEAK = re.compile(r"楼上|楼下|邻居|隔壁|对门|上面")
_LEAK_WORDS = re.compile(r"漏|滴|渗|水印|水渍")
_ON_DUTY = re.compile(r"值班|上班|岗亭|保安|门卫|值夜|夜班|门岗")


# A danger only imagined (楼道堆满杂物 真着火了咋整, 万一起火谁负责): the grievance about what could
# happen, not a fire now. Both the "if" before and the "what then" after must be there.
# A consequence threatened if nobody comes (再不来 楼下都要被淹了): a chase's urgency, not a flood now.
_UNLESS_SOMEONE_COMES = re.compile(
    r"再(?:不|没人?)(?:来|修|管|处理|派人|弄)[^。!！?？]{0,8}?(?:都|就|也)?(?:要|会|得)(?:被)?\s*$"
)
# Something that fell, said to have fallen inside (掉在阳台里面, 没掉外面): no danger to anyone below.
_FALLS = re.compile(r"掉|坠|跌|砸")
_FELL_INSIDE = re.compile(
    r"掉(?:是掉)?在(?:阳台|屋|家|房间|地板)?(?:里面|里头|里)|没(?:有)?掉(?:到|在)?(?:外面|外边|下去|楼下)"
)
_FEARED = re.compile(r"(?:怕|担心|以免|防止|小心|免得)\s*$")
_FALL_OF_A_PERSON = re.compile(r"跌倒|摔倒")
_IF_BEFORE = re.compile(rf"(?:{SUPPOSING}|真的?|真要|哪天)\s*$")
_WHAT_THEN = re.compile(
    r"^[了的话]{0,2}[^。!！?？]{0,6}(?:咋整|咋办|怎么办|怎么跑|谁负责|谁管|谁来管|谁担|后果|就完了|跑都跑不)"
)


def extract_hazards(text: str) -> list[Entity]:
    """Emergencies, unless negated (没有煤气味) or only imagined (万一着火怎么办) — a false alarm
    is cheaper than a miss."""
    hazards = []
    for m in _HAZARD.finditer(text):
        if _NEGATION.search(text[max(0, m.start() - 3) : m.start()]):
            continue
        if _UNLESS_SOMEONE_COMES.search(text, max(0, m.start() - 14), m.start()):
            continue
        if _FALL_OF_A_PERSON.fullmatch(m.group()) and _FEARED.search(text, max(0, m.start() - 3), m.start()):
            continue  # 我妈年纪大了怕跌倒: what could happen, not what did
        if _FALLS.search(m.group()) and _FELL_INSIDE.search(text):
            continue  # 晾衣架掉下来 … 掉在阳台里面 没掉外面: nothing fell on anyone
        if _IF_BEFORE.search(text[max(0, m.start() - 3) : m.start()]) and _WHAT_THEN.search(
            text[m.end() : m.end() + 12]
        ):
            continue
        if (
            _CALLED_ABOUT_A_LEAK.search(text, max(0, m.start() - 4), m.start())
            and _WAKE.fullmatch(m.group())
            and _LEAK_WORDS.search(text)
        ):
            continue  # 楼上漏水 喊楼上不应: the neighbour is out, nobody collapsed
        if (
            _WAKE.fullmatch(m.group())
            and _ASLEEP.search(text, max(0, m.start() - 6), m.start())
            and _ON_DUTY.search(text)
        ):
            # 保安值班睡觉 叫都叫不醒 / 喊他也不应: asleep on duty, a complaint (我爸睡着了叫不醒 stays a danger)
            continue
        hazards.append(Entity("hazard", m.lastgroup or "life_threat", *m.span()))
    return hazards


# How the second look joins the owner's earlier message and the next one (normalised texts).
_JOIN = "，"


def hazard_read_together(earlier: str, latest: str) -> str | None:
    """A hazard that only the owner's earlier message and their next one show together (normalised
    texts): "厨房有股怪味" then "我都不敢开灯", "电梯停了" then "我还在里面". The second look of
    issue 15 at a missed emergency: each message alone passed the hazard rules. A hazard the latest
    message shows by itself is the NLU's to catch (bot/components/intent_override.py), and one the
    earlier message showed alone was caught then; only a match that reaches into both counts."""
    if not earlier.strip() or not latest.strip():
        return None
    joined = earlier + _JOIN + latest
    seam = len(earlier)
    for hazard in extract_hazards(joined):
        if hazard.start < seam and hazard.end > seam + len(_JOIN):
            return hazard.value
    return None


def extract_fee_topic(text: str) -> list[Entity]:
    for topic, pattern in _FEE_TOPIC:
        m = pattern.search(text)
        if m:
            return [Entity("fee_topic", topic, *m.span())]
    return []


def extract_fee_item(text: str) -> list[Entity]:
    """The fee asked about (停车费一个月多少钱 → parking), the first one named."""
    m = _FEE_ITEM.search(text)
    return [Entity("fee_item", _FEE_ITEM_OF[m.group()], *m.span())] if m else []


def _taken_by(entities: list[Entity], size: int) -> Taken:
    taken = Taken(size)
    for e in entities:
        taken.take(e.start, e.end)
    return taken


def extract_times(text: str, now: datetime, avoid: list[Entity]) -> list[Entity]:
    times = []
    for t in find_times(text, now):
        if any(o.start < t.end and t.start < o.end for o in avoid):
            continue  # 3号楼 is an address, not the 3rd of the month
        extra = {
            "start": t.begins.isoformat(),
            "end": (t.ends + timedelta(seconds=1) if t.ends.second == 59 else t.ends).isoformat(),
            "kind": t.kind,
        }
        times.append(Entity("visit_time", t.begins.isoformat(), t.start, t.end, extra))
    return times


def extract_all(text: str, now: datetime) -> list[Entity]:
    """Every rule-based entity in ``text``; ``now`` (tz-aware) resolves relative times."""
    bare = _BARE_NUMBER.match(text)
    if bare:  # 501 / 2 alone: only the dialogue knows which question it answers
        return [Entity("number", bare.group(1), *bare.span(1))]
    exact = extract_phones(text) + extract_plates(text) + extract_tickets(text)
    taken = _taken_by(exact, len(text))
    address = [e for e in extract_address(text) if not taken.overlaps(e.start, e.end)]
    found = exact + address
    taken = _taken_by(found, len(text))
    times = extract_times(text, now, avoid=found)
    signed = signature(text)
    names = [
        Entity("person_name", text[s:e], s, e, {"signature": True} if (s, e) == signed else {})
        for s, e in extract_person_names(text)
        if not taken.overlaps(s, e) and not any(t.start <= s < t.end for t in times)  # 四十分钟之后: no Mr 钟
    ]
    found += names + [t for t in times if not any(n.start < t.end and t.start < n.end for n in names)]
    found += extract_hazards(text)
    found += extract_fee_topic(text)
    found += extract_fee_item(text)
    return sorted(found, key=lambda e: (e.start, e.end))
