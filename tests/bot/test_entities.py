"""Rule-based entities: values normalised, offsets into the text given."""

import logging
from datetime import timedelta

import pytest

from bot.text.entities import extract_all, extract_hazards, extract_plates, placeholder_spans
from bot.text.normalize import normalize
from bot.text.tickets import EXTERNAL_FORMATS, ExternalFormat, find_tickets


def entities(text, now):
    mapped = normalize(text)
    found = []
    for e in extract_all(mapped.text, now):
        start, end = mapped.to_original(e.start, e.end)
        found.append((e.entity, e.value, text[start:end]))
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("三号楼二单元五零一", [("building", "3", "三"), ("unit", "2", "二"), ("room", "501", "五零一")]),
        ("3-2-501 马桶堵了", [("building", "3", "3"), ("unit", "2", "2"), ("room", "501", "501")]),
        ("5栋1单元1202室", [("building", "5", "5"), ("unit", "1", "1"), ("room", "1202", "1202")]),
        ("A座1502空调漏水", [("building", "A", "A"), ("room", "1502", "1502")]),
        ("十二號樓三單元八零二", [("building", "12", "十二"), ("unit", "3", "三"), ("room", "802", "八零二")]),
        # As the roster import stores a flat (common.addresses): no leading zeros.
        ("03栋2单元0501室", [("building", "3", "03"), ("unit", "2", "2"), ("room", "501", "0501")]),
        # A floor said before the flat that begins with it (Guangdong and Hong Kong habit: 座, 樓).
        ("第七座十五樓一五零六 冷氣漏水", [("building", "7", "七"), ("room", "1506", "一五零六")]),
        ("9栋6层603 门铃不响", [("building", "9", "9"), ("room", "603", "603")]),
        ("我住2座 11楼1108", [("building", "2", "2"), ("room", "1108", "1108")]),
    ],
)
def test_addresses(text, expected, now):
    assert [e for e in entities(text, now) if e[0] in ("building", "unit", "room")] == expected


@pytest.mark.parametrize(
    "text",
    [
        "6楼905 那家天天装修",  # the floor and the number disagree: no flat of that floor
        "住12楼 交了1500块",
        "在3楼 等了350分钟",
    ],
)
def test_a_number_after_a_floor_is_a_flat_only_when_it_begins_with_that_floor(text, now):
    assert not [e for e in entities(text, now) if e[0] == "room"]


def test_public_areas_have_canonical_names(now):
    assert ("public_area", "地下车库", "车库") in entities("车库的灯坏了", now)
    assert ("public_area", "电梯", "电梯") in entities("5号楼电梯坏了", now)


@pytest.mark.parametrize(
    ("text", "value", "span"),
    [
        ("我电话13812345678", "13812345678", "13812345678"),
        ("手机 138 1234 5678", "13812345678", "138 1234 5678"),
        ("幺三八幺二三四五六七八", "13812345678", "幺三八幺二三四五六七八"),
        ("手機 么五九 么七七六 二零三四", "15917762034", "么五九 么七七六 二零三四"),  # 么: a variant of 幺
        ("座机010-12345678", "01012345678", "010-12345678"),
        ("+86 138 1234 5678", "13812345678", "+86 138 1234 5678"),
        ("0086-13812345678", "13812345678", "0086-13812345678"),
    ],
)
def test_phones_are_digits_only(text, value, span, now):
    assert ("phone", value, span) in entities(text, now)


@pytest.mark.parametrize(
    ("text", "value"),
    [("车牌京a·88668", "京A88668"), ("粤B D12345", "粤BD12345"), ("京N七七幺八九", "京N77189")],
)
def test_plates_are_uppercase_without_separators(text, value, now):
    assert value in [v for name, v, _ in entities(text, now) if name == "plate"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("查一下工单BX000123", "BX000123"),
        ("bx 123进度", "BX000123"),
        ("B X 零零零 四五六", "BX000456"),
        ("TS12", "TS000012"),
        ("工单号是125", "125"),
    ],
)
def test_ticket_numbers(text, value, now):
    assert value in [v for name, v, _ in entities(text, now) if name == "ticket_id"]


def test_visit_time_is_an_iso_instant_resolved_against_now(now):
    [(_, value, span)] = [e for e in entities("我朋友明天下午三点来", now) if e[0] == "visit_time"]
    assert (value, span) == ("2026-11-22T15:00:00+08:00", "明天下午三点")


def test_visit_time_window_is_kept_for_the_pass(now):
    [time] = [e for e in extract_all(normalize("晚上七点半到九点有客人").text, now) if e.entity == "visit_time"]
    assert time.extra["start"].endswith("19:30:00+08:00")
    assert time.extra["end"].endswith("21:00:00+08:00")  # 九点 after 七点半 is 21:00
    assert time.extra["kind"] == "span"


@pytest.mark.parametrize(
    "text",
    [
        "早上好",
        "前天报的修还没人来",
        "楼上天天晚上十一点还在蹦迪",
        "今年物业费多少",
        "中午也不停",
        "现在怎么交",
        "3号楼",
    ],
)
def test_vague_past_and_non_times_are_not_visit_times(text, now):
    assert not [e for e in entities(text, now) if e[0] == "visit_time"]


def test_two_thirty_means_afternoon_for_a_visit(now):
    [(_, value, _)] = [e for e in entities("两点半朋友来", now) if e[0] == "visit_time"]
    assert value.startswith("2026-11-21T14:30")


@pytest.mark.parametrize(("said", "minutes"), [("半小时后", 30), ("两个小时以后", 120), ("四十分钟之后", 40)])
@pytest.mark.parametrize("hour", [1, 4, 10, 23])
def test_a_time_counted_from_now_is_never_moved_to_the_afternoon(now, said, minutes, hour):
    """At one in the morning 半小时后 is half past one, not half past one in the afternoon."""
    at = now.replace(hour=hour, minute=10)
    found = entities(f"朋友{said}到", at)
    [(_, value, _)] = [e for e in found if e[0] == "visit_time"]
    assert value.startswith((at + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M"))
    assert not [e for e in found if e[0] == "person_name"]  # 四十分钟之后 has no Mr 钟 in it


def test_a_clock_time_joins_the_day_said_just_before(now):
    [(_, value, _)] = [e for e in entities("明天上午 上午十点吧", now) if e[0] == "visit_time"]
    assert value.startswith((now + timedelta(days=1)).strftime("%Y-%m-%dT10:00"))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("我朋友张伟明天下午来", "张伟"),
        ("李明后天过来看我", "李明"),
        ("明天下午3点我朋友李娜过来 帮忙登记一下", "李娜"),
        ("请帮我登记访客，林志强，今天下午两点半到", "林志强"),
        ("呃 我姓王 王建军", "王建军"),
        ("让欧阳娜娜进来", "欧阳娜娜"),
        ("王经理态度很差", "王经理"),
        ("王福来", "王福来"),
        ("我朋友張偉明天來", "張偉"),  # traditional stays as the owner wrote it
        ("窗户坏了 请派人修 赵桂兰 13600001111", "赵桂兰"),  # an SMS signed with name and phone
        ("13912345678，刘德明", "刘德明"),
        ("阳台晾衣杆摇不下来。孙丽华 8栋2单元602", "孙丽华"),  # signed with the flat after the name
        ("楼道里的声控灯不亮了 请来换一下。吴国栋 9栋", "吴国栋"),  # ... or the building alone
        ("厨房水龙头关不紧一直滴 郑春梅 7-2-1203", "郑春梅"),  # ... or the flat with dashes
        ("我后天有个亲戚来 叫 刘 刘晓东 坐公交来的", "刘晓东"),  # a surname said twice in a call
        ("隔壁一直没开门 8-1-302 邻居孙秀梅", "孙秀梅"),  # signed as the neighbour
    ],
)
def test_person_names(text, name, now):
    assert [span for e, _, span in entities(text, now) if e == "person_name"] == [name]


@pytest.mark.parametrize(
    "text",
    [
        "马桶堵了",
        "谢谢啦",
        "辛苦了",
        "高空坠物砸到车了",
        "找管家",
        "钟点工来 登记一下",
        "方式 13600001111 报修",
        "水管漏了13600001111",
        "麻烦 13600001111",
        "墙上那块霉斑,颜色越来越黑了",  # 越来越 is no visit
        "上个月的水费扣了没有 麻烦帮查下",  # 帮 asks a favour: 查下 is no name
        "等了二十分钟都没来",  # 钟 ends 分钟
        "三点钟都没人",
        "门关不严 冷风直往里灌",  # 关 and 冷 start no name here
        "锁关不上了",
        "万一有人摔了咋办",
        "登记一下 车号 苏B88K21",
    ],
)
def test_everyday_words_are_not_names(text, now):
    assert not [e for e in entities(text, now) if e[0] == "person_name"]


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        ("楼道里闻到很重的煤气味", "gas_leak"),
        ("家裡有很重的瓦斯味", "gas_leak"),
        ("插座冒火花了", "fire"),
        ("5号楼电梯里有人被困了", "lift_entrapment"),
        ("暖气管爆了 满屋热水", "flooding"),
        ("11栋停电 全楼都没电", "power_outage"),
        ("我妈在浴室跌倒了", "life_threat"),
        ("整栋楼都停电了 8号楼", "power_outage"),
        ("电梯里关人了 六号楼", "lift_entrapment"),
        ("12号楼电梯卡在7楼不动，里面好像还有人", "lift_entrapment"),
        ("地下室淹水了，水一直往上漲", "flooding"),
        ("地库进水了 水很深", "flooding"),
        ("樓下著火了，濃煙一直往上冒", "fire"),
        ("有个老人摔了 头破了 流了好多血", "life_threat"),
        # Plain words, no hazard keyword (written for this test):
        ("厨房里有股臭鸡蛋味 越来越浓", "gas_leak"),
        ("燃气报警器一直在响", "gas_leak"),
        ("嗯 厨房那个报警器突然嘀嘀嘀地响 好像有点味道", "gas_leak"),
        ("我在电梯里面 电梯停了门打不开", "lift_entrapment"),
        ("喂 电梯卡住了 我们还在里面", "lift_entrapment"),
        ("部𨋢停咗 我哋喺入面出唔到", "lift_entrapment"),  # Cantonese
        ("单元门口有个大爷躺在地上 叫他没反应", "life_threat"),
        ("我爸午睡叫不醒了", "life_threat"),
        ("一开门就有股怪味 味道像臭鸡蛋", "gas_leak"),
        ("屋里有种像是天然气那种味道", "gas_leak"),
        ("卫生间那个报警器 嗯 一直嘀嘀地叫 还有点怪味", "gas_leak"),
        ("车库门口有人趴在地上 喊了半天都不答应", "life_threat"),
        ("樓上爆咗水喉 啲水一直湧落嚟", "flooding"),
        ("樓上爆水喉 水浸到我屋企", "flooding"),  # Cantonese
        # Seventh session: a smell nobody names, and fear of a spark or dizziness (gas, in plain words)
        ("客厅里一股怪怪的味道 我都不敢开灯", "gas_leak"),
        ("不敢打火 屋里全是难闻的味", "gas_leak"),
        ("一进门就有股刺鼻的异味 头好晕", "gas_leak"),
        ("屋裡有陣怪味 燈都唔敢開", "gas_leak"),  # Cantonese, traditional
        ("成棟樓冇晒電 黑蚊蚊", "power_outage"),  # Cantonese: the whole building
        ("我哋成座大廈停晒電", "power_outage"),
        # whoever is still inside a lift that stopped; things falling from a height (written for this test)
        ("6栋电梯停在半路 我外婆在里面", "lift_entrapment"),
        ("电梯坏了 里面好像有人", "lift_entrapment"),
        ("电梯突然不动了 我儿子被关里面了", "lift_entrapment"),
        ("楼上掉下来一块玻璃 差点砸到车", "life_threat"),
        ("外墙的瓷砖一直往下掉", "life_threat"),
        ("啲花盆由露台跌落嚟", "life_threat"),  # Cantonese
        # smoke with its colour said, no fire word (ninth session, written for this test)
        ("对面那户窗户里往外冒着黑烟 敲门也没人", "fire"),
        ("車庫入面冒出濃煙", "fire"),
    ],
)
def test_hazards(text, hazard):
    assert hazard in [e.value for e in extract_hazards(normalize(text).text)]


@pytest.mark.parametrize(
    "text",
    [
        "没有煤气味了",
        "不是漏气",
        "燃气灶打不着火",
        "煤气费怎么交",
        "我家停电了吗",
        "热水器打不著火",
        "手机进水了",
        "电梯里有人抽烟",
        "燃气报警器没响 也没有味道",
        "烟雾报警器响了一下 没什么味",
        "电梯停运保养到几点",
        "我在电梯里看到通知说明天停水",
        "按门铃没反应 是不是坏了",
        "有点臭 但不像是燃气的味道",
        "垃圾桶有股臭味 熏得人恶心",  # a bad smell alone is not gas
        "下水道返臭味 熏得我头晕",
        "家里没有怪味 就是灯不亮",
        "楼道灯坏了 晚上都不敢开门",
        "电梯停运了 里面没人",
        "电梯故障 停在3楼 门开着 没人在里面",
        "电梯坏了 我在里面贴了通知",
        "楼上老往下扔垃圾 烟头头发什么都有",  # littering from height: a complaint
        "空调外机那个排水管掉下来了 能来修一下不",  # a drain pipe off, not the unit falling
    ],
)
def test_negated_or_harmless_mentions_are_not_hazards(text):
    assert extract_hazards(normalize(text).text) == []


def test_a_bare_number_is_only_a_number(now):
    assert entities("501", now) == [("number", "501", "501")]


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("我家还欠多少物业费", "owed"),
        ("物业费交到几月了", "paid_until"),
        ("能开发票吗", "invoice"),
        ("滞纳金怎么算", "late_fee"),
        ("物业费多少钱一平", "standard"),
        ("公共收益在哪公示", "public_income"),
        ("物业费怎么交", "how_to_pay"),
    ],
)
def test_fee_topics(text, topic, now):
    assert ("fee_topic", topic) in [(e, v) for e, v, _ in entities(text, now)]


def test_earlier_today_is_still_a_time_the_dialogue_judges_it(now):
    """At 10:30, 今天早上八点 is extracted; the visitor form, not the parser, says it has passed."""
    [(_, value, _)] = [e for e in entities("今天早上八点朋友来过", now) if e[0] == "visit_time"]
    assert value == "2026-11-21T08:00:00+08:00"


def test_a_phrase_that_is_not_a_time_logs_no_error(now, caplog):
    """jionlp logs a traceback for each candidate it cannot parse; that is not an error of ours."""
    with caplog.at_level(logging.ERROR):
        found = entities("她每天早上来做饭", now)
    assert not [e for e in found if e[0] == "visit_time"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("停车费一个月多少钱", "parking"),
        ("地下车位管理费怎么交", "parking"),  # not the property fee's 管理费
        ("物业管理费多少钱一平", "property"),
        ("垃圾清运费要交吗", "garbage"),
        ("装修押金什么时候退", "deposit"),
        ("水费在哪交", "water"),
    ],
)
def test_the_fee_a_question_is_about(text, item, now):
    assert [(e, v) for e, v, _ in entities(text, now) if e == "fee_item"] == [("fee_item", item)]


def test_a_fee_question_without_a_fee_named_has_no_fee_item(now):
    assert not [e for e in entities("能开发票吗", now) if e[0] == "fee_item"]


# Names signed at the end of an SMS, with no phone after them (the commonest sign-off of older owners).


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("卫生间下水道返味 麻烦尽快来修 谢谢 王建国", "王建国"),
        ("楼道灯坏了一个星期 3栋2单元501 张阿姨", "张阿姨"),
        ("阳台顶上渗水——李", "李"),
        ("業主陳大文", "陳大文"),  # the offsets lead back to the traditional the owner wrote
        ("下水道堵了，请尽快处理。谢谢！刘秀英。", "刘秀英"),
        ("窗户关不上了麻烦派人看看谢谢周建华", "周建华"),
        ("单元门禁刷不开 ——老张", "老张"),
        ("空调外机噪音太大，晚上睡不着 欧阳娜娜", "欧阳娜娜"),
        ("燃气表不走字了 请安排人看一下 - 孙", "孙"),
    ],
)
def test_a_name_signed_at_the_end_of_a_message(text, name, now):
    assert [span for e, _, span in entities(text, now) if e == "person_name"] == [name]


def test_a_signature_is_marked_as_the_senders_and_a_visitor_is_not(now):
    """A repair SMS signed 王建国 that says when to come is not a visitor pass for 王建国."""
    found = extract_all(normalize("明天上午来修 我朋友李明下午也来 谢谢 王建国").text, now)
    assert [(e.value, e.extra) for e in found if e.entity == "person_name"] == [
        ("李明", {}),
        ("王建国", {"signature": True}),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "水管修好了 麻烦尽快来修 谢谢师傅",
        "谢谢师傅",  # not Mr 谢: the plumber is thanked
        "好的 知道了 好的再见",
        "门禁又坏了 麻烦了",
        "楼上漏水 漏到我家 卫生间",
        "热水器坏了 能修吗 何时",
        "能不能来修 周末",
        "电梯老是坏 你们管一下",
        "下水道堵了 麻烦 尽快 解决",
        "门锁坏了 帮忙查一下",
        "请尽快 祝好",
        "多谢关心",
        "就这样 白白",
        "修好了 谢谢 李",  # a bare surname is a signature only after a dash
        "有人吗 谢",
        "物业 你好 我家电梯 又坏了 快点",
        "灯不亮了 阳台",
        "楼下在装修 施工",
    ],
)
def test_the_last_words_of_an_ordinary_message_are_not_a_signature(text, now):
    assert not [e for e in entities(text, now) if e[0] == "person_name"]


# Ticket numbers of an external system of record, and ours.


@pytest.mark.parametrize(
    ("text", "value", "span"),
    [
        ("物业系统的单号是20261030-0017", "20261030-0017", "20261030-0017"),
        ("二零二六一零三零杠零零一七", "20261030-0017", "二零二六一零三零杠零零一七"),
        ("查一下 20261030—0017 到哪了", "20261030-0017", "20261030—0017"),
        ("单号 20261030 - 0017", "20261030-0017", "20261030 - 0017"),
        ("单号二零二六一零三零杠一七五", "20261030-175", "二零二六一零三零杠一七五"),
        ("查一下工单BX000123", "BX000123", "BX000123"),
        ("投诉单TS000045怎么样了", "TS000045", "TS000045"),
    ],
)
def test_ticket_numbers_are_read_whole(text, value, span, now):
    assert [(v, s) for e, v, s in entities(text, now) if e == "ticket_id"] == [(value, span)]


def test_an_external_number_says_which_format_it_is(now):
    [ticket] = [e for e in extract_all(normalize("单号20261030-0017").text, now) if e.entity == "ticket_id"]
    assert ticket.extra == {"system": "date_sequence"}
    [ours] = [e for e in extract_all("BX000123", now) if e.entity == "ticket_id"]
    assert ours.extra == {}


@pytest.mark.parametrize(
    "text",
    [
        "20261399-0017",  # no such day: not a dated number
        "座机0571-88886666",  # a phone
        "2026-10-30来修",  # a date
        "抬杠一下",  # 杠 outside a number stays a word
    ],
)
def test_what_only_looks_like_an_external_ticket_number_is_not_one(text, now):
    assert not [v for e, v, _ in entities(text, now) if e == "ticket_id" and "-" in v]


def test_another_systems_format_is_a_row_not_a_rule():
    """A second system (HC-2026-000123) is read by adding its row; the default table does not know it."""
    hc = ExternalFormat("hc", r"(?<![A-Za-z])HC-?(?P<year>20\d\d)-?(?P<seq>\d{6})(?!\d)", "HC-{year}-{seq}")
    text = normalize("查一下HC2026000123和20261030-0017").text
    assert [t.value for t in find_tickets(text, (*EXTERNAL_FORMATS, hc))] == ["HC-2026-000123", "20261030-0017"]
    assert [t.value for t in find_tickets(text)] == ["20261030-0017"]


# Plates with a middle dot, and eight-character new-energy plates.


@pytest.mark.parametrize(
    ("text", "value", "span"),
    [
        ("车牌粤BD·12345", "粤BD12345", "粤BD·12345"),
        ("粤B·12345", "粤B12345", "粤B·12345"),
        ("粤B・12345 今天下午来", "粤B12345", "粤B・12345"),
        ("粤B･12345", "粤B12345", "粤B･12345"),  # half-width katakana dot
        ("粤B‧D12345", "粤BD12345", "粤B‧D12345"),
        ("新能源车 粤BD12345", "粤BD12345", "粤BD12345"),
        ("大巴 粤B12345D", "粤B12345D", "粤B12345D"),
        ("浙A·DA1234", "浙ADA1234", "浙A·DA1234"),
    ],
)
def test_plates_with_a_dot_or_eight_characters(text, value, span, now):
    assert [(v, s) for e, v, s in entities(text, now) if e == "plate"] == [(value, span)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("车牌 苏E 54321 不对 苏E 54312 下午到", "苏E54312"),
        ("车牌沪C88661 说错了 是沪C88616", "沪C88616"),
        ("两辆车 浙A11111 和 浙A22222", None),  # two cars, nothing taken back
    ],
)
def test_a_plate_taken_back_keeps_the_last_one_said(text, value, now):
    plates = [v for e, v, _ in entities(text, now) if e == "plate"]
    assert plates == ([value] if value else ["浙A11111", "浙A22222"])


@pytest.mark.parametrize("text", ["浙A123456", "浙A1234567", "粤B·1234"])
def test_six_characters_after_the_letter_are_a_plate_only_in_the_new_energy_form(text, now):
    assert not [e for e in entities(text, now) if e[0] == "plate"]


# A room corrected in the same breath keeps the last one said.


def _flat(text, now):
    return [(e, v, s) for e, v, s in entities(text, now) if e in ("building", "unit", "room")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("五零三 不对 是五零二", [("room", "502", "五零二")]),
        ("501 哦不 502", [("room", "502", "502")]),
        ("3栋2单元503不是 是502", [("building", "3", "3"), ("unit", "2", "2"), ("room", "502", "502")]),
        (
            "三号楼二单元五零三 说错了 应该是五零二",
            [("building", "3", "三"), ("unit", "2", "二"), ("room", "502", "五零二")],
        ),
        ("3-2-503，不对，502 水管漏了", [("building", "3", "3"), ("unit", "2", "2"), ("room", "502", "502")]),
        ("我家不是1203 是1202", [("room", "1202", "1202")]),
        ("501 不对 502 哦不 503", [("room", "503", "503")]),
        ("八零一呃不对是八零三", [("room", "803", "八零三")]),  # a filler before the correction
    ],
)
def test_a_corrected_room_keeps_the_last_one_said(text, expected, now):
    assert _flat(text, now) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3栋2单元503不是502", [("building", "3", "3"), ("unit", "2", "2"), ("room", "503", "503")]),  # 503, not 502
        ("300块 不对 是350块", []),  # a sum
        ("500 不对 是600", []),  # round numbers are no flats
        ("工单号503 不对 是502", []),  # a ticket number
    ],
)
def test_what_is_not_a_room_correction(text, expected, now):
    assert _flat(text, now) == expected


# A bare room number closing a call that named the building and unit at the start.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "喂 我是三号楼二单元的 那个 厨房水管漏了 嗯 房号是五零一",
            [("building", "3", "三"), ("unit", "2", "二"), ("room", "501", "五零一")],
        ),
        (
            "我是3号楼2单元的 厨房的水管 漏水了 …… 501",
            [("building", "3", "3"), ("unit", "2", "2"), ("room", "501", "501")],
        ),
        (
            "8栋1单元 卧室空调不制冷 麻烦来看看 一二零二",
            [("building", "8", "8"), ("unit", "1", "1"), ("room", "1202", "一二零二")],
        ),
        ("A座 空调漏水 1502。", [("building", "A", "A"), ("room", "1502", "1502")]),
    ],
)
def test_a_room_said_last_joins_the_building_said_first(text, expected, now):
    assert _flat(text, now) == expected


@pytest.mark.parametrize(
    "text",
    [
        "3号楼2单元 物业费一年 2400",  # a sum
        "3号楼2单元 物业费 350",
        "3号楼2单元 一共 365",
        "3号楼2单元 明天下午三点 1430",  # a time
        "3号楼2单元 电话 138 1234 5678",  # a phone read in groups
        "3号楼2单元 工单 456",  # a ticket
        "厨房漏水了 501",  # no building said: only the dialogue knows what 501 answers
        "3号楼2单元 漏水了501",  # not set off from the words before it
    ],
)
def test_a_number_at_the_end_is_not_always_a_room(text, now):
    assert not [e for e in entities(text, now) if e[0] == "room"]


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        ("5栋上面有人一直往楼下丢瓶子 差点砸到小孩", "life_threat"),  # thrown from height, a near hit
        ("楼上有住户正在往下抛杂物 已经砸了两辆车", "life_threat"),
        ("有人喺天台掟玻璃樽落嚟 仲喺度掟緊", "life_threat"),  # Cantonese: still throwing
        ("电梯口一个阿姨晕过去了 喊她也没反应", "life_threat"),  # fainted and not answering
        ("我爸突然昏了 叫都叫不醒", "life_threat"),
        ("广场那棵老榕树快要倒了 下面都是人", "life_threat"),  # about to come down
        ("3号楼外墙的马赛克还在往下掉", "life_threat"),
        ("二号梯停在八楼 里面有个小朋友在哭", "lift_entrapment"),  # a child inside
        ("阿婆喺电梯口晕低咗", "life_threat"),  # Cantonese 晕低 (fainted)
        ("我爸午觉睡着了 怎么叫都叫不醒", "life_threat"),  # asleep and cannot be woken: a danger
        ("电梯卡住了 我女儿在里面", "lift_entrapment"),  # family named, no "trapped"
    ],
)
def test_dangers_told_in_plain_words(text, hazard, now):
    assert hazard in [e.value for e in extract_hazards(normalize(text).text)]


@pytest.mark.parametrize(
    "text",
    [
        "楼上总是往下扔烟头和瓜子壳",  # litter thrown down, nothing hit: a complaint
        "我昨天有点头晕 不知道是不是空调的问题",  # dizzy, no one collapsed
        "值夜班的保安在岗亭睡着了 喊都喊不醒",  # asleep on duty: a complaint
        "小区门口那棵树倒了 挡着路",  # fallen already, nobody under it: a clean-up
    ],
)
def test_what_only_sounds_like_those_dangers(text, now):
    assert "life_threat" not in [e.value for e in extract_hazards(normalize(text).text)]


@pytest.mark.parametrize(
    "text",
    [
        # something at height about to fall on people (written for this test, twelfth session)
        "@物业 9栋12楼那台空调外机螺丝都松了，整个往外歪，感觉随时会掉下去😨",  # WeChat
        "5号楼3楼窗台上的花盆被风吹得摇摇晃晃 下面就是单元门口",  # SMS
        "喂 那个 七栋顶楼那块广告牌 一边已经脱了 现在悬空吊着 底下人来人往的",  # ASR
        "2座對出嗰個冷氣機架生晒鏽，部冷氣機就快跌落嚟",  # Cantonese
        "8棟外牆的磁磚鬆了一大片 搖搖欲墜",  # traditional
        "14栋雨棚被台风掀起一半 挂在半空晃来晃去",
        "樓上個花盆喺露台邊搖緊 下面係行人路",  # Cantonese 搖緊 (swaying now)
        # someone called who does not answer
        "@管家 王阿姨躺在沙发上 隔着窗户喊她一直没反应",
        "3栋电梯口有个大爷靠着墙坐着 叫他不应 嘴唇发紫",
        "喂 我是六号楼的 我爸在卫生间里 我拍门叫了好几声 都不答应",
        "對面單位個婆婆喺走廊瞓咗喺地下，嗌極都唔應",  # Cantonese 嗌極都唔應
        "我外婆坐在椅子上 怎么叫都没反应",
        # water through a light fitting or an electrical point, or crackling with water about
        "楼上渗水 水顺着客厅吸顶灯往下滴 灯还亮着",
        "廚房插座喺度滴水 仲有噼啪聲",  # Cantonese
        "卫生间天花板漏水 然后那个浴霸开关那里啪啪响",
        "樓上漏水 啲水沿住筒燈流落嚟",  # Cantonese 沿住 (along)
    ],
)
def test_things_about_to_fall_people_not_answering_and_water_in_electrics(text):
    assert "life_threat" in [e.value for e in extract_hazards(normalize(text).text)]


@pytest.mark.parametrize(
    "text",
    [
        "空调外机的排水管快掉了 一直滴水",  # a smaller part, not the unit
        "空调外机一直晃 噪音很大",  # a machine shaking as it runs
        "窗户一直晃 关不上",  # a window rattling
        "风很大 树一直在晃",  # a tree in the wind is weather
        "卫生间墙上的瓷砖松了 快掉了",  # indoors, nothing at height over people
        "阳台的花盆不要倒水进去",
        "打了三次电话叫他们来修 一直没反应",  # the service not answering
        "叫他来处理 一直没回应",
        "叫了外卖 也没人应",
        "门口的对讲机按了没反应",  # a device
        "值班保安在岗亭睡觉 喊他也不应",  # asleep on duty: a complaint
        "厨房水龙头开关漏水 关不紧",  # a tap's 开关 is plumbing
        "热水器开关漏水",
        "灯不亮了 之前漏过水",
        "暖气管每天晚上都啪啪响",  # water hammer, nothing electric
        "電錶箱跳咗掣 揿極都冇反應",  # pressing a switch, not calling a person
    ],
)
def test_what_only_sounds_like_falling_silence_or_water_in_electrics(text):
    assert "life_threat" not in [e.value for e in extract_hazards(normalize(text).text)]


# -- thirteenth session: kinds blind batch 13 found (sentences written here, none from the batch) --


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        # a thing up high giving way over people, or about to fall a few words on
        ("@物业 10栋15楼有户人家的防盗网歪了 螺丝都锈断了 底下就是小区主路 好多人走", "life_threat"),  # WeChat
        ("6号楼高层一扇窗的玻璃松动了 风一吹就晃 下面是幼儿园门口", "life_threat"),  # SMS
        ("喂 那个 我路过九栋 九栋外墙上 有块石材 松脱了 在晃 下面有好多小朋友在玩", "life_threat"),  # ASR
        ("3座天台個鐵皮招牌鬆咗 吊喺度 下面係巴士站", "life_threat"),  # Cantonese 吊喺度 (hanging there)
        ("楼上那台空调外机歪着 支架断了一根 下面是车棚 风一大感觉随时就要掉", "life_threat"),
        # someone unseen for days behind a door nobody opens
        ("隔壁阿婆好几天没出门了 敲门敲了很久都没人应 16-2-301", "life_threat"),
        ("喂 那个 对面那户 一个人住的老头 三天没见他了 我敲门也没反应", "life_threat"),
        ("隔離屋個伯伯幾日冇出過門 拍門都冇人應", "life_threat"),  # Cantonese
        ("独居的阿姨躺地上一动不动 隔着窗户看到的", "life_threat"),  # lying on the floor, no 在
        # water from a leak onto something electric
        ("楼上的水从天花板往下浇 冰箱都湿了 8栋201", "life_threat"),
        ("楼上漏水 顺着墙流 插线板都泡了 快来", "life_threat"),
        # smoke where it has no business being
        ("楼梯间里全是烟 12栋", "fire"),
        ("烟感一直响 屋里好多烟 不知道哪里来的", "fire"),
        ("地库好大的烟 看不清", "fire"),
        ("天花板往下灌水 快来人", "flooding"),
        # batch 14's kinds (new sentences): blown loose and flapping over parked cars, water run into
        # the fuse box, a neighbour not seen coming out
        ("楼顶的光伏板被大风刮翻了 一直扑腾 随时要掉下来 下面是停车位", "life_threat"),
        ("卫生间漏水 水顺着墙渗到配电箱那了", "life_threat"),
        ("楼上一直往下滴水 都流进总闸了", "life_threat"),
        ("隔壁大爷三天没见他出门了 敲门半天没人应", "life_threat"),
    ],
)
def test_things_giving_way_over_people_someone_unseen_water_on_electrics_and_smoke(text, hazard):
    assert hazard in [e.value for e in extract_hazards(normalize(text).text)]


@pytest.mark.parametrize(
    "text",
    [
        "窗户玻璃松了 关不严 漏风",  # loose, nobody below
        "空调外机歪了 麻烦师傅来看看",
        "阳台外机架有点松 麻烦来加固一下",
        "卫生间瓷砖松了 下面的地漏也堵了",  # 下面的: the lower part, not people below
        "外墙瓷砖松了 下面是我家花园",  # nobody said to be there
        "楼下邻居一个人住 天天半夜吵 敲门也不开",  # a noise complaint: nobody unseen
        "好几天没见人来修 敲门也没人理",  # the service unseen
        "上次楼上漏水 电视柜都泡了",  # furniture, not electrics
        "楼道有烟味 有人在抽烟",  # a smell of smoke
        "楼道里好多烟头 没人扫",
        "烟感一直响 但是没有烟 是不是坏了",  # an alarm fault
        "楼上邻居往下浇花 水滴到我家衣服上",
        "大风把楼下的雨伞吹翻了",  # nothing high giving way
        "太阳能热水器不出热水了",  # a fault, not a danger
        "电闸老跳 麻烦来看看",  # no water
    ],
)
def test_what_only_sounds_like_giving_way_someone_unseen_water_on_electrics_or_smoke(text):
    assert extract_hazards(normalize(text).text) == []


@pytest.mark.parametrize(
    ("text", "building"),
    [("我住八号楼 不对 九号楼二单元302", "9"), ("12栋 哦不 13栋", "13"), ("5栋和6栋之间的路灯", None)],
)
def test_a_building_taken_back_keeps_the_last_one_said(text, building, now):
    found = [v for e, v, _ in entities(text, now) if e == "building"]
    assert found == ([building] if building else ["5", "6"])


def test_a_year_after_my_home_is_no_room(now):
    found = entities("我家2026年的物业费交了吗 5栋1201", now)
    assert [v for e, v, _ in found if e == "room"] == ["1201"]


@pytest.mark.parametrize("text", ["楼上1201半夜拖椅子", "隔壁的 就是803 天天装修"])
def test_a_neighbours_flat_is_not_taken_for_the_owners(text, now):
    """A form fills the owner's room from the message: the flat complained of is not theirs."""
    assert not [e for e in entities(text, now) if e[0] == "room"]


# -- eleventh session: kinds blind batches 15 and 16 found (sentences written here) ------------


@pytest.mark.parametrize(
    "text",
    [
        "楼上水一直往下流 吸顶灯罩里积了水 7栋1101",  # water standing in a light fitting
        "樓上漏水 水流晒入插蘇 燈一閃一閃",  # Cantonese: run into the sockets
        "小区门口长椅边上躺着个老人 叫了几声都不动",  # lying there, not stirring when called
        "我爸一个人住 电话打了一早上都没人接 6栋302",  # alone, not answering for hours
        "没人接电话 我外婆是独居的 能不能帮忙去看看",
        "隔籬個獨居婆婆三日冇出門 拍門都冇人應",  # Cantonese days: 日
    ],
)
def test_water_in_fittings_a_person_not_stirring_and_someone_alone_not_answering(text):
    assert "life_threat" in [e.value for e in extract_hazards(normalize(text).text)]


@pytest.mark.parametrize(
    "text",
    [
        "我一个人住 物业电话打了一上午都没人接",  # the office not answering: the service's
        "独居老人 打管家电话打不通",
        "灯罩里好多虫子",  # not water
    ],
)
def test_the_office_not_answering_is_no_welfare_alarm(text):
    assert "life_threat" not in [e.value for e in extract_hazards(normalize(text).text)]


@pytest.mark.parametrize(
    "text",
    ["楼道里堆满了纸箱 万一着火了怎么办", "车库里全是电动车在充电 要是起火了谁负责", "杂物堆在楼梯间 真着火了咋整"],
)
def test_a_fire_only_imagined_is_no_fire(text):
    assert extract_hazards(normalize(text).text) == []


@pytest.mark.parametrize("text", ["楼道里着火了 怎么办", "真的着火了 快来", "要是没人管 现在已经着火了"])
def test_a_fire_now_stays_a_fire(text):
    assert "fire" in [e.value for e in extract_hazards(normalize(text).text)]


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        ("快来人 3栋电梯关到人了 我女儿在里头", "lift_entrapment"),  # Sichuanese 关到
        ("楼上漏好多水 吊灯里面都在流水", "life_threat"),
        ("对门的奶奶一个人住 两天没开门了 按门铃也没人应", "life_threat"),
    ],
)
def test_batch_17s_kinds_of_danger(text, hazard):
    assert hazard in [e.value for e in extract_hazards(normalize(text).text)]


def test_a_neighbour_called_about_a_leak_who_does_not_answer_is_out_not_collapsed():
    assert extract_hazards(normalize("卫生间顶上在滴水 敲了楼上的门 喊楼上不应 不急").text) == []
    # someone called who does not answer, with no leak: still a danger
    assert "life_threat" in [e.value for e in extract_hazards(normalize("隔壁老人摔了 喊不应").text)]


# -- plates, units and names in the forms blind batches 15 to 18 used (sentences written here) --


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("喂 明天我儿子开车来 车牌是 鲁 B 七 三 K 九 二", "鲁B73K92"),  # spelt out in a call
        ("车牌 冀 A 六六八 八八", "冀A66888"),
        ("车牌 沪C·F7K231 周六来", "沪CF7K231"),  # six after the letter, said to be a plate
        ("朋友揸車嚟 車牌 KT 5521", "KT5521"),  # Hong Kong
        ("我架車係澳門車牌 MM-23-45", "MM2345"),  # Macau
        ("車牌號碼 BXR-0921 週六來", "BXR0921"),  # Taiwan
    ],
)
def test_a_plate_said_to_be_one_is_read_however_it_is_written(text, value, now):
    assert [v for e, v, _ in entities(text, now) if e == "plate"] == [value]


@pytest.mark.parametrize("text", ["浙A123456", "单号BX004712", "我的车停在B2 1234号车位"])
def test_without_the_word_plate_the_strict_forms_still_hold(text, now):
    assert not [e for e in entities(text, now) if e[0] == "plate"]


def test_a_plate_spelt_out_and_taken_back_keeps_the_last():
    found = extract_plates(normalize("车牌是 苏 E 幺 二 三 四 五 不对 苏 E 幺 二 三 四 六").text)
    assert [p.value for p in found] == ["苏E12346"]


def test_a_northern_door_is_a_unit_and_the_flat_after_it_a_room(now):
    assert _flat("7号楼2门301 暖气不热", now) == [("building", "7", "7"), ("unit", "2", "2"), ("room", "301", "301")]
    assert _flat("3号楼门口有积水", now) == [("building", "3", "3")]  # 门口 is the entrance
    assert _flat("说错了 房号应该是1602", now) == [("room", "1602", "1602")]


def test_newly_read_forms_are_not_folded_into_placeholders():
    """A plate spelt out after 车牌 and a northern 门 are extracted, but the model's input keeps its
    trained tokens for them (bench/NOTES.md: a placeholder change in training data moves close calls)."""
    text = normalize("车牌 鲁 B 七 三 K 九 二 7号楼2门301").text
    assert [kind for _, _, kind in placeholder_spans(text)] == ["address"]
    assert placeholder_spans(text)[0][1] - placeholder_spans(text)[0][0] == len("7号楼")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("货车下午到 联系人周海波 13900001111", "周海波"),
        ("查下进度 业主 区嘉欣", "区嘉欣"),
        ("领头的叫 刘建新", "刘建新"),
    ],
)
def test_names_after_a_contact_cue(text, name, now):
    assert [v for e, v, _ in entities(text, now) if e == "person_name"] == [name]


def test_a_grandson_is_no_name(now):
    assert not [e for e in entities("周日孙子来吃饭", now) if e[0] == "person_name"]


def test_a_flat_corrected_is_no_foreign_plate(now):
    assert not [e for e in entities("3号楼 不对 是A 1201", now) if e[0] == "plate"]


@pytest.mark.parametrize(
    ("text", "hazard"),
    [
        ("5栋十几楼外面的晾衣架歪出来了 眼看要掉 下面是幼儿园门口", "life_threat"),
        ("配电箱那边有股电线烧焦的味 还吱吱响", "fire"),
        ("暖气管崩了 热水往外冒", "flooding"),
        ("对面独居的大爷 五天没见着了 敲门不开", "life_threat"),
        ("雨水顺着车库坡道往下灌 车都泡了", "flooding"),
    ],
)
def test_batch_18s_kinds_of_danger(text, hazard):
    assert hazard in [e.value for e in extract_hazards(normalize(text).text)]


@pytest.mark.parametrize("text", ["冰箱一直吱吱响", "晾衣架歪了 麻烦修一下", "好几天没见着人来修"])
def test_sounds_and_tilts_without_danger_are_none(text):
    assert extract_hazards(normalize(text).text) == []


# -- numbers spelt out in a call, names glued to the flat, spelling aids, rooms said the other way round
# (the kinds blind batch 19 missed; sentences written here) --


def _values(text, kind, now):
    return [v for e, v, _ in entities(text, now) if e == kind]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("麻烦查一下 工单 B X 零 零 七 四 一 六 到哪一步了", "BX007416"),
        ("我的单 T S 零 幺 两 八 三 六", "TS012836"),
        ("工单号 零 零 八 六 二", "862"),  # a bare number after 工单号, spelt out
        ("外面那个系统的单 二零二六 零三 幺五 杠 零零四七", "20260315-0047"),  # 杠: the dash said aloud
    ],
)
def test_a_ticket_number_spelt_out_in_a_call(text, value, now):
    assert _values(text, "ticket_id", now) == [value]


@pytest.mark.parametrize(
    "text",
    [
        "单号 B X 零 零 七 四 一 2号楼也漏",  # the number may run into 2号楼: nothing rather than a wrong one
        "工单 B X 零 六 六 一直没人管",  # ... or into 一直
        "单号 B X 零 零 七 四 一 六 三 八 九",  # nine digits are none of our numbers
    ],
)
def test_a_ticket_number_spelt_out_is_read_whole_or_not_at_all(text, now):
    assert _values(text, "ticket_id", now) == []


def test_a_typed_ticket_number_stops_before_the_building_after_it(now):
    assert _values("BX000456 2号楼的那个单", "ticket_id", now) == ["BX000456"]
    assert _values("20261105-0031 3号楼", "ticket_id", now) == ["20261105-0031"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("你们打我手机 幺五零 七七 幺八 四四 二二", "15077184422"),
        ("电话是 幺三六 零零 幺二 七八 九零 下午都在家", "13600127890"),
        ("手机号 幺八八 六二零 三三 四四 五", "18862033445"),
    ],
)
def test_a_mobile_said_in_groups_after_phone(text, value, now):
    assert _values(text, "phone", now) == [value]


@pytest.mark.parametrize(
    "text",
    [
        "电话 幺八八 六二 幺三 四五",  # ten digits
        "电话 幺八八 六二零 三三 四四 五六",  # twelve
        "电话 二八八 六二零 三三 四四 五",  # eleven, but no mobile begins with 2
    ],
)
def test_groups_that_make_no_mobile_are_no_phone(text, now):
    assert _values(text, "phone", now) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("小区门口停了辆 浙B 六 二 K 八 三 堵着路", "浙B62K83"),
        ("那台 苏E 幺 二 三 四 五 好几天没动了", "苏E12345"),
    ],
)
def test_a_plate_spelt_out_without_the_word_plate(text, value, now):
    assert _values(text, "plate", now) == [value]


@pytest.mark.parametrize("text", ["苏E 幺 二 三 四 五 六 那台车", "京A 三 四 五 一直停着"])
def test_a_plate_spelt_out_without_a_cue_has_exactly_five_after_the_letter(text, now):
    assert _values(text, "plate", now) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("水龙头一直滴 9栋王丽华", "王丽华"),
        ("楼道灯又坏了 麻烦看看 5幢302赵德明", "赵德明"),
        ("门锁坏了 谢谢 2-3-402孙丽", "孙丽"),
    ],
)
def test_a_name_signed_straight_after_the_flat(text, name, now):
    assert _values(text, "person_name", now) == [name]


@pytest.mark.parametrize("text", ["灯坏了 5栋周边", "电动车被刮了 3栋车棚", "积水到了 8栋路口", "漏水 12栋房顶"])
def test_a_place_after_the_flat_is_no_name(text, now):
    assert _values(text, "person_name", now) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("访客姓岳 岳 岳飞的岳 叫岳红梅", "岳红梅"),
        ("登记一下 名字 潘家明 潘是潘金莲的潘", "潘家明"),
        ("我同事林飞的飞机晚点了 明天来", "林飞"),  # 飞机 is a plane: no spelling aid
    ],
)
def test_a_famous_name_spelling_a_character_is_no_one(text, name, now):
    assert _values(text, "person_name", now) == [name]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是2306 不是2603 刚才说反了", [("room", "2306", "2306")]),
        ("我家是803，不是308", [("room", "803", "803")]),
        ("係5座1203，唔係1302", [("building", "5", "5"), ("room", "1203", "1203")]),  # Cantonese
        ("我是七零三 十二栋 暖气不热", [("room", "703", "七零三"), ("building", "12", "十二")]),
        ("喂 我是1105 A座的 电梯坏了", [("room", "1105", "1105"), ("building", "A", "A")]),
    ],
)
def test_a_room_said_before_what_it_corrects_or_before_its_building(text, expected, now):
    assert _flat(text, now) == expected


@pytest.mark.parametrize("text", ["工单号是2306 不是2603", "收了我是1200 3栋的都这样", "电话是 703 12栋"])
def test_numbers_that_only_look_like_those_rooms(text, now):
    assert [e for e in _flat(text, now) if e[0] == "room"] == []


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("电话 幺五零 七七 幺八 四四 二二", []),
        ("那台 浙B 六 二 K 八 三", []),
        ("是2306 不是2603", []),
        ("我是703 12栋", ["address"]),  # 12栋 as before; the 703 said before it is not folded in
    ],
)
def test_forms_read_for_batch_19_are_not_folded_into_placeholders(text, kinds):
    spans = placeholder_spans(normalize(text).text)
    assert [kind for _, _, kind in spans] == kinds
    assert all(normalize(text).text[s:e].strip() in ("12栋",) for s, e, _ in spans)


@pytest.mark.parametrize(
    "text",
    [
        "我女儿把自己锁在厕所里了 才两岁 一直哭",
        "孩子被关在车里了 钥匙也在里面 太阳好大",
        "宝宝反锁在房间 叫她开门不会开",
        "敲门三天都没开 刚才里面砰的一声 之后就没声音了",
        "拍门半天也没人应 听到里面扑通一声",
        "楼顶那块彩钢板被风掀起来了 下面就是小区门口 好多人",
        "闻到一股 嗯 像那个 天然气 那个味道",
        "水由吊灯那里滴下来 灯还亮着",
    ],
)
def test_a_child_shut_in_a_thud_behind_a_door_and_loose_roofing_are_dangers(text):
    assert extract_hazards(normalize(text).text) != []


@pytest.mark.parametrize(
    "text",
    [
        "儿子把钥匙锁在家里了 能帮忙开锁吗",
        "小孩把我锁在门外了 哈哈",
        "电梯又停了 没人困在里面 快修",
        "晾衣架有点松 不是要掉 就是晃",
        "下水道堵了三天 再不来修 厨房都要被淹了",
        "楼上装修 敲门几天都不开 吵死了",
    ],
)
def test_things_locked_in_nobody_inside_and_a_threat_are_no_dangers(text):
    assert extract_hazards(normalize(text).text) == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("我表姐叫孙雅琴开辆白色宝马过来 帮忙放行", ["孙雅琴"]),  # the visitor drives in
        ("周日我爸妈过来 他们叫周建国和吴美玲", ["周建国", "吴美玲"]),  # the second of two
        ("佢哋叫梁志明同何嘉欣", ["梁志明", "何嘉欣"]),
    ],
)
def test_a_visitor_who_drives_in_and_the_second_of_two_names(text, names, now):
    assert [span for e, _, span in entities(text, now) if e == "person_name"] == names


@pytest.mark.parametrize("text", ["厨房闻起来有点像烧焦的味道", "楼道看起来好久没打扫了"])
def test_a_verb_before_qi_lai_is_no_name(text, now):
    assert not [e for e in entities(text, now) if e[0] == "person_name"]


@pytest.mark.parametrize(
    "text",
    [
        "门被风撞上了 钥匙在屋里 我女儿三岁 一个人在家",
        "我儿子自己在家 打电话说闻到一股怪怪的味 头晕",
        "楼道那个配电箱着了 快来人",
        "外墙一块水泥块松了 吊在那里 就在单元门口上面",
        "闻到楼下好臭的味 我头有点晕",
    ],
)
def test_a_child_alone_behind_a_shut_door_a_box_on_fire_and_a_slab_over_the_door_are_dangers(text):
    assert extract_hazards(normalize(text).text) != []


@pytest.mark.parametrize(
    "text",
    ["孩子自己在家写作业 想问下物业费怎么交", "灯着了 谢谢", "垃圾桶好臭 一直没人清"],
)
def test_a_child_at_home_a_light_on_and_a_bad_smell_alone_are_no_dangers(text):
    assert extract_hazards(normalize(text).text) == []


@pytest.mark.parametrize(
    "text",
    [
        "我爸一个人在屋头 打了一上午电话都不接 他心脏不好",
        "对门张奶奶家的牛奶四天没拿了 敲门不开",
        "我外婆在卫生间滑倒了 叫她没得反应",
        "楼顶的广告牌铁架断了一边 吊在那里 下面就是人走的路",
        "我妈刚才说话说不清楚 嘴角有点歪了",
        "一进门就闻到味道 怪怪的 像 像那个 臭鸡蛋",
    ],
)
def test_batch_21s_kinds_of_danger(text):
    assert extract_hazards(normalize(text).text) != []


@pytest.mark.parametrize(
    "text",
    ["燃气报警器上周响过一次 后来查了没事", "孩子一个人在家写作业 有点吵", "这牛奶三天没喝完了"],
)
def test_an_alarm_that_sounded_once_and_a_child_doing_homework_are_no_dangers(text):
    assert extract_hazards(normalize(text).text) == []


def test_a_mobile_said_in_groups_as_the_whole_answer(now):
    assert _values("幺三五 七七 八九 零 幺 二 三", "phone", now) == ["13577890123"]


def test_asking_a_favour_to_look_something_up_is_no_name(now):
    assert not [e for e in entities("能不能帮查一下 我家水费", now) if e[0] == "person_name"]


@pytest.mark.parametrize(
    "text",
    [
        "我家猫跳到窗台外面那个沿上了 下不来 随时会掉下去",
        "女儿三岁 一个人在阳台 往栏杆上爬",
        "顶楼有个花盆被风吹得在栏杆上直晃 正下面就是小朋友玩的沙池",
        "吊灯一直在滋滋响 好像进水了",
        "厨房一股味道 像灶没点着那种",
        "电梯厅有好浓的烟 看不清",
        "我个女反锁咗自己喺冲凉房 得两岁",
    ],
)
def test_batch_22s_kinds_of_danger(text):
    assert extract_hazards(normalize(text).text) != []


@pytest.mark.parametrize(
    "text",
    ["晾衣杆掉下来了 掉在阳台里面 没掉外面 麻烦修一下", "他们站在栏杆旁边聊天", "大堂地毯臭到爆 几个月没洗"],
)
def test_a_thing_fallen_inside_and_a_smell_that_is_only_very_bad_are_no_dangers(text):
    assert extract_hazards(normalize(text).text) == []


@pytest.mark.parametrize(
    "text",
    [
        "对门阿婆敲门敲伐应 电话也伐接",  # Shanghainese 伐
        "阮隔壁阿公一个人住 敲门伊无应 三天无看着伊",  # Minnan
        "鄰居長者已三日未見出入 敲門無人應",
        "楼道里一股臭鸡蛋那样的味道",
        "我女儿吃果冻噎住了 脸都发紫了",
        "我老公喘不上气 已经打了120",
        "个仔锁咗自己喺露台 出唔返嚟",
        "楼上漏水 插座那里也在滴",
    ],
)
def test_batch_23s_kinds_of_danger(text):
    assert extract_hazards(normalize(text).text) != []


@pytest.mark.parametrize("text", ["楼梯扶手松了 老人家怕摔倒", "水龙头滴答滴答的"])
def test_a_fall_feared_and_a_dripping_tap_are_no_dangers(text):
    assert extract_hazards(normalize(text).text) == []
