"""The normaliser: one form for WeChat, SMS, ASR transcripts and traditional characters."""

import pytest

from bot.text.normalize import normalize


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("三號樓二單元五零一，請儘快", "3号楼2单元501,请尽快"),  # traditional + numerals + full-width comma
        ("ＡＢＣ１２３", "ABC123"),  # full-width letters and digits
        ("嗯 那个 我家三号楼二单元五零一", "我家3号楼2单元501"),  # ASR fillers
        ("二十三栋一百零一室", "23栋101室"),  # positional numerals
        ("电话幺三八幺二三四五六七八", "电话13812345678"),  # 幺 for 1 in phone numbers
        ("@物业小助手\u2005明早九点朋友来", "明天早上九点朋友来"),  # WeChat mention; 明早
        ("我要投诉🙄", "我要投诉"),  # emoji carry mood, not intent
        ("我想保修一下", "我想报修一下"),  # ASR homophone
        ("无业费怎么交", "物业费怎么交"),
    ],
)
def test_normal_forms(written, normal):
    assert normalize(written).text == normal


@pytest.mark.parametrize(
    "text",
    [
        "一直漏水",  # cn2an on the whole text would write 1直
        "看一下",
        "十一月三号下午两点",  # a date is left for the time parser
        "喂猫的人太多了",  # 喂 here is a verb (feeding cats), not a filler
        "那个灯坏了",
    ],
)
def test_words_that_only_look_like_numbers_or_fillers_survive(text):
    normal = normalize(text).text
    assert normal.replace(" ", "") in {text, text[2:]}  # at most a clause-initial 那个 goes
    assert "1直" not in normal and "看1下" not in normal
    if text.startswith("喂猫"):
        assert normal == text


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("怎么三号楼又停水", "怎么3号楼又停水"),  # 么 is 1 only beside a number, never in 怎么/什么/要么
        ("要么五号楼要么六号楼", "要么5号楼要么6号楼"),
        ("电话么三六 么二二零 八八九九", "电话136 1220 8899"),  # 么, a variant of 幺
    ],
)
def test_yao_written_as_its_variant_is_one_only_inside_a_number(written, normal):
    assert normalize(written).text == normal


def test_emoji_only_messages_are_kept():
    assert normalize("👍").text == "👍"


def test_offsets_lead_back_to_the_owner_text():
    written = "嗯 三號樓二單元五零一 廚房漏水"
    m = normalize(written)
    start = m.text.index("501")
    s, e = m.to_original(start, start + 3)
    assert written[s:e] == "五零一"


def test_control_characters_and_binary_junk_do_not_break_it():
    m = normalize("\x00\x07报修\ufeff\u200b")
    assert m.text == "报修"


def test_not_yet_repaired_is_not_read_as_repair():
    assert normalize("报了一个月 至今未修").text == "报了一个月 至今未修"  # 未修 (not yet), no 维修
    assert normalize("我想保修").text == "我想报修"  # the homophone rule still works around it


def test_homophones_that_are_real_words_are_not_touched():
    assert normalize("房客明天搬走").text == "房客明天搬走"  # 房客 (tenant) is not 访客
    assert normalize("克服困难").text == "克服困难"  # not 客服


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("唔係 我冇叫人嚟", "不是 我没叫人来"),  # Cantonese "no": never the filler 唔, never "yes"
        ("係呀 啱晒", "是呀 对晒"),  # "yes, right"
        ("唔該幫我睇下 浴室水喉爆咗", "麻烦帮我看下 浴室水管爆了"),  # please …; a burst pipe
        ("部𨋢停咗 我哋喺入面", "部电梯停了 我们在里面"),
        ("琴日報嘅維修仲未有人嚟整", "昨天报的维修还没有人来修"),  # a chase in Cantonese
        ("好嘅 唔該", "好的 谢谢"),  # 唔该 alone: thanks
        ("喂 唔 我家漏水", "我家漏水"),  # a Mandarin hesitation 唔 is still a filler
        ("请联系我 门禁系统坏了", "请联系我 门禁系统坏了"),  # 系 in 联系/系统 is not the copula
        ("劳动仲裁的电话", "劳动仲裁的电话"),
        ("成座大廈停晒電 升降機都唔郁", "整座大厦全停电 电梯都不动"),  # the whole building
        ("冇其他嘢喇 拜拜", "没别的事喇 拜拜"),  # that's all
        ("好 先咁啦", "好 先这样吧"),
        ("隔籬屋企啲細路喺度掟紧波", "隔篱家些细路在扔波"),  # 掟 (throw); 喺度 …紧 (doing now)
        ("嗰部冷氣機依家仲未整好", "那部空调现在还没修好"),  # 嗰 never OpenCC's 𠮶; 整好 (fixed)
        ("有部電單車霸咗我車位", "有部电单车占了我车位"),
        ("電錶箱跳咗掣 揿極都冇反應", "电表箱跳了闸 按极都没反应"),
        # said (话 after a speaker), never 电话, 话费, 说话
        ("保安話聽日先有人嚟", "保安说明天先有人来"),
        ("佢又話冇零件", "他又说没零件"),
        ("打電話俾管理處 問話費幾多錢", "打电话给管理处 问话费多少钱"),
        ("屋苑要每戶夾錢俾維修基金", "屋苑要每户凑钱给维修基金"),  # 俾 (give, pay); 夹钱 (chip in)
        ("好彩呢度冇人", "幸好这里没人"),
        ("想搵人嚟補返嗰度", "想找人来补好那里"),  # 补返: patch it up; 嗰度: there
    ],
)
def test_cantonese_words_read_as_mandarin(written, normal):
    assert normalize(written).text == normal


@pytest.mark.parametrize(
    ("said", "description"),
    [
        ("喂 那个 我家厨房的水管 嗯 漏水了", "我家厨房的水管 漏水了"),  # a call's fillers go
        ("嗯嗯 就是说 那個 冷氣 唔凍", "冷氣 唔凍"),  # in the owner's script; Cantonese 唔 (not) stays
        ("唔該幫我睇下 廚房水喉爆咗", "唔該幫我睇下 廚房水喉爆咗"),
        ("喂猫的碗打翻了 三号楼二单元五零一", "喂猫的碗打翻了 三号楼二单元五零一"),  # words, numerals as written
        ("厨房漏水了😭", "厨房漏水了😭"),
    ],
)
def test_descriptions_staff_read_keep_the_owners_words_without_fillers(said, description):
    from bot.text.normalize import without_fillers

    assert without_fillers(said) == description


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("@物业小助手催一下我的报修", "催一下我的报修"),  # typed by hand, no separator: never the whole message
        ("@客服 楼道灯不亮", "楼道灯不亮"),
        ("电梯又坏了 @物业小助手", "电梯又坏了"),  # closing the message
        ("@小李3号楼漏水", "小李3号楼漏水"),  # an unknown name with nothing after it: only the @ goes
    ],
)
def test_mentions_go_and_the_message_stays(written, normal):
    assert normalize(written).text == normal


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("個花盆就快跌落街", "个花盆就快掉下街"),  # 跌落 (fall down)
        ("招牌喺度搖緊", "招牌在在摇"),  # 搖緊: swaying now
        ("啲水沿住燈位滴落嚟", "些水沿着灯位滴下来"),  # 沿住 = 沿着
        ("阿伯瞓咗喺樓梯 叫極都唔應", "阿伯躺了在楼梯 怎么叫都不应"),  # 瞓 lies; 叫極都 however much called
        ("嘈到我瞓唔着", "吵到我睡不着"),  # 瞓 sleeps where 着 says so
        ("嗌佢都冇反應", "喊他都没反应"),  # 嗌 (call out)
        ("水喉拧紧咗", "水管拧紧了"),  # Mandarin 拧紧 (tighten) is no Cantonese "-ing"
    ],
)
def test_cantonese_words_for_falling_lying_and_calling(written, normal):
    assert normalize(written).text == normal


@pytest.mark.parametrize(
    ("written", "normal"),
    [("係呀 就係呢張單", "是呀 就是这张单"), ("呢個電梯成日壞", "这个电梯整天坏"), ("你去边度呢", "你去哪里呢")],
)
def test_cantonese_this_before_a_measure_word(written, normal):
    assert normalize(written).text == normal
