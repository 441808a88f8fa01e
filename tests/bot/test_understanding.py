"""Behaviour the trained model must keep, per kind of writing (regression guards, not the
benchmark: bench/nlu_heldout.yml measures accuracy on text the model never saw)."""

from __future__ import annotations

import pytest

CASES = {
    "report_repair": [
        "@物业小助手 卫生间地漏堵了，水下不去😭",  # WeChat
        "3栋厕所漏水",  # SMS
        "喂 那个 我家那个热水器 打不着火了 你们派个人来看看",  # ASR
        "廚房的水龍頭一直在滴水",  # traditional
    ],
    "report_emergency": [
        "救命 电梯卡住了 我在里面",
        "煤气味很重",
        "喂 喂 我们楼道里冒烟了 好像着火了",
        "樓上水管爆了，水一直往下流",
    ],
    "file_complaint": [
        "楼下天天半夜唱K，吵得睡不着，必须投诉！",
        "投诉保安态度差",
        "嗯 我要 投诉一下 那个 楼上装修 早上七点就开始砸墙",
        "有人把電動車停在消防通道，我要投訴",
    ],
    "ask_fee": [
        "物业费可以用微信交吗？",
        "查物业费",
        "喂 我想问一下 那个 无业费 我家欠了多少",
        "管理費收費標準是多少",
    ],
    "request_visitor_pass": [
        "周六上午我爸妈过来，帮我登记一下访客🙏",
        "登记访客",
        "嗯 那个 明天有个朋友要来 开车来的 帮我登记一下",
        "明天有朋友來訪，請幫我登記",
    ],
    "check_status": [
        "我前天报的修，现在到哪一步了？",
        "查进度",
        "喂 那个 工单 B X 零零零一二三 现在怎么样了",
        "我報的維修處理好了嗎",
    ],
    "chase_ticket": [
        "@物业小助手 都两天了还没来 😤",
        "催单",
        "喂那个我前天报的修怎么还没人来啊",
        "催一下維修",
        "怎么还没人来修",
        "催一下我的报修",
        "师傅到底什么时候来啊",
        "催单BX000123",
    ],
    "request_human": ["转人工", "人工", "嗯 你给我转个人工吧 我说不清楚", "我要找真人客服"],
}


@pytest.mark.parametrize(("intent", "text"), [(i, t) for i, texts in CASES.items() for t in texts])
def test_intent(parser, intent, text):
    assert parser.parse(text)["intent"] == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # Asking where a ticket stands is a status check; pushing to hurry it is a chase;
        # wanting the slowness or a person's attitude on record is a complaint.
        ("我的报修到哪了", "check_status"),
        ("师傅什么时候来", "check_status"),
        ("师傅到底什么时候来啊", "chase_ticket"),
        ("报修三天了都没人来 我要投诉你们！", "file_complaint"),
        ("催了好几次都没人理 我要投诉", "file_complaint"),
        ("维修师傅态度太差了", "file_complaint"),
        ("收到催费单 我交过了", "ask_fee"),
    ],
)
def test_chasing_is_neither_asking_nor_complaining(parser, text, intent):
    assert parser.parse(text)["intent"] == intent


@pytest.mark.parametrize("text", ["今天天气怎么样", "给我讲个笑话", "股票明天会涨吗"])
def test_unrelated_questions_are_out_of_scope_or_not_understood(parser, text):
    assert parser.parse(text)["intent"] in {"out_of_scope", "nlu_fallback"}


def test_menu_digit_for_elderly_sms(parser):
    assert parser.parse("1")["intent"] == "report_repair"
    assert parser.parse("0")["intent"] == "request_human"


# Twelfth session: dangers in plain words, and near-misses that are no danger now (written for this
# test in each kind of writing; none from a held-out batch). The whole pipeline, model and rules.
DANGERS_NOW = [
    "@物业 9栋12楼那台空调外机螺丝都松了，整个往外歪，感觉随时会掉下去😨 楼下是停车场",
    "5号楼3楼窗台上的花盆被风吹得摇摇晃晃 下面就是单元门口",
    "喂 那个 七栋 七栋顶楼那块广告牌 一边已经脱了 现在悬空吊着 底下人来人往的 你们赶紧来拉个警戒线",
    "2座對出嗰個冷氣機架生晒鏽，部冷氣機就快跌落嚟，下面係巴士站",
    "@管家 我邻居王阿姨躺在沙发上 隔着窗户喊她一直没反应 门从里面反锁了 5-1-302",
    "3栋电梯口有个大爷靠着墙坐着 叫他不应 嘴唇发紫",
    "喂 我是六号楼的 我爸在卫生间里 我拍门叫了好几声 都不答应 门打不开",
    "對面單位個婆婆喺走廊瞓咗喺地下，嗌極都唔應，快啲嚟 7座",
    "楼上渗水 水顺着客厅吸顶灯往下滴 灯还亮着 怎么办 12-1-801",
    "廚房插座喺度滴水 仲有噼啪聲 6座",
    "喂 那个 卫生间天花板 就是 漏水 然后那个 浴霸开关那里 啪啪响 二栋一单元六零二",
    # near-misses of the all-clears below: still emergencies
    "烟感响了 是炒菜的油锅起火了 火还很大",
    "烟感响了 不是炒菜 也没着火 但是有很浓的煤气味",
    "电梯坏了 里面没人被困 但是电梯井里在冒烟",
    "洗澡的时候热水管爆了 水喷得到处都是 关不住",
    "地漏返水了 污水一直往上冒 卫生间和客厅都淹了",
    "楼上洗澡地漏堵了 水漏到我家天花板 顺着灯往下滴",
    "昨天插座烧黑了 我以为没啥危险了 现在又冒烟了",
    # thirteenth session: a thing up high giving way over people, someone unseen behind a door, water
    # onto electrics, smoke where it should not be (new sentences, each kind of writing)
    "@物业 10栋15楼有户人家的防盗网歪了 螺丝都锈断了 底下就是小区主路 好多人走",
    "6号楼高层一扇窗的玻璃松动了 风一吹就晃 下面是幼儿园门口 麻烦赶紧来围起来",
    "喂 那个 我路过九栋 九栋外墙上 有块石材 松脱了 在晃 下面有好多小朋友在玩",
    "3座天台個鐵皮招牌鬆咗 吊喺度 下面係巴士站 快啲嚟",
    "隔壁阿婆好几天没出门了 敲门敲了很久都没人应 16-2-301",
    "隔離屋個伯伯幾日冇出過門 拍門都冇人應 8座",
    "楼上的水从天花板往下浇 冰箱都湿了 8栋201",
    "楼梯间里全是烟 烟感一直叫 12栋",
]
NO_DANGER_NOW = [
    ("刚刚楼道烟雾报警器响了 是我在门口烧艾灸熏的 没着火 别担心", "inform"),
    ("頭先煙感響咗 係我煎魚啫 冇火 同你哋講聲", "inform"),
    ("上周卫生间的灯座烧焦了 已经把总闸拉了 现在没什么危险了 麻烦约个电工来换一下 3栋1单元501", "report_repair"),
    ("喂 那个 五栋 五栋的电梯 又不动了 我看了一下 没人困在里面 你们派个师傅来修一下", "report_repair"),
    ("淋浴房的地漏堵住了 冲凉水漫到脚踝 麻烦派人来通一下 8栋1203", "report_repair"),
    ("沖涼房個地漏塞咗 沖完涼啲水浸到腳眼 搵人嚟通下 3座", "report_repair"),
    ("空调外机的排水管快掉了 一直滴水 麻烦来看看 3栋402", "report_repair"),
    ("厨房水龙头开关漏水 关不紧 麻烦师傅来看看", "report_repair"),
    ("2号楼的电梯又停了 里面没有人被困 麻烦尽快找人来修", None),  # a repair or a chase, no danger
    ("打了三次电话叫他们来修 一直没反应 你们物业到底管不管", None),
    # thirteenth session: one's own shower water however said; a gas smell explained since
    ("洗手间下水道堵了 洗了个澡水漫到小腿 麻烦来通一下 5栋702", "report_repair"),
    ("刚才说的燃气味 其实是煮粥煮糊了 不是燃气 没事了 说一声", "inform"),
    ("之前跟你们讲的煤气味 是我烧水壶烧干了 没漏气 跟你们讲一下", "inform"),
    ("窗户玻璃松了 关不严 漏风 麻烦来修一下", "report_repair"),
]


@pytest.mark.parametrize("text", DANGERS_NOW)
def test_dangers_at_height_silence_and_water_in_electrics_are_emergencies(parser, text):
    assert parser.parse(text)["intent"] == "report_emergency"


@pytest.mark.parametrize(("text", "intent"), NO_DANGER_NOW)
def test_false_alarms_dangers_made_safe_empty_lifts_and_own_drains_are_no_emergency(parser, text, intent):
    got = parser.parse(text)["intent"]
    assert got != "report_emergency"
    if intent:
        assert got == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # a billing error with a demand is a complaint; a plain fee question stays one
        ("@物业管家 这个月停车费扣了我两次😡 赶紧退回来", "file_complaint"),
        ("水费多收了80元 请更正 李秀英", "file_complaint"),
        ("喂 那个 我查了一下 你们这个季度管理费 多算了我三个月 这个要给我退了 不然我就投诉", "file_complaint"),
        ("管理費重複扣咗兩次，麻煩退返俾我", "file_complaint"),
        ("物业费一年多少钱", "ask_fee"),
        # the maintenance fund's money is a fee question; an application asked about is a status check
        ("喂 我想问一下 那个 维修资金 我们这栋楼还剩多少 换水泵够不够", "ask_fee"),
        ("維修基金係咪由業主分攤㗎？", "ask_fee"),
        ("用维修基金换电梯的申请批下来了吗", "check_status"),
        # state insurance is none of the property's business
        ("喂 那个 我想问下 医疗保险 今年交多少钱", "out_of_scope"),
        ("醫保要去邊度繳費？", "out_of_scope"),
        # the office's number
        ("請問管理中心電話幾多號？", "request_human"),
        # a visit no longer needed, thanks or not; a report that ends in thanks; a real thank-you
        ("喂 我昨天报的那个马桶 师傅不用过来了 我老公已经弄好了", "cancel"),
        ("@物业管家 下午不用上门了哈 水龙头已经换好啦👍 谢谢", "cancel"),
        ("地下室的灯不亮了 谢谢 赵明", "report_repair"),
        ("热水器修好了 谢谢师傅", "thank"),
        # a complaint said to be one, past ticket or not
        ("喂 我上个月报的那个门禁 你们修了三次都没修好 我不是来催的 我是要投诉你们这个维修水平", "file_complaint"),
        ("上周的工单BX000777我不催了 我现在要投诉那个师傅的态度😠", "file_complaint"),
        # a promised visit put off is a chase; asking us to find out is a status check
        ("管理處話聽日嚟整 等到依家都冇人嚟，唔該快啲", "chase_ticket"),
        ("帮我问一下师傅几点到", "check_status"),
        # a past fault made safe, with a fix asked for
        (
            "喂 我家卫生间那个吊顶 昨天掉下来一块 人没事 已经收拾干净了 你们找个师傅来补一下 五号楼一单元三零二",
            "report_repair",
        ),
        ("停車場的柵欄機刷不了卡，請管委會派廠商來處理", "report_repair"),
        ("冷氣機個水喉老化咗，滴咗幾日水，我用桶接住咗，想搵師傅嚟換返", "report_repair"),
    ],
)
def test_money_cancellations_and_said_complaints(parser, text, intent):
    assert parser.parse(text)["intent"] == intent
