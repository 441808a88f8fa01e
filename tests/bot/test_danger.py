"""Signs of danger gate the model's emergency calls: present in plain-word emergencies, absent in faults."""

import pytest

from bot.text.danger import danger_is_over, harmless_water, shows_danger
from bot.text.normalize import normalize


@pytest.mark.parametrize(
    "text",
    [
        "楼上的水顺着吊灯往下淌 地板都泡了",
        "隔壁门口一股怪怪的味道 敲门也没人应",
        "电梯停在两层中间 我儿子还在里面",
        "爷爷在卫生间摔了起不来",
        "配电箱那里啪啪响还冒白烟",
        "樓上啲水一直流落嚟 停唔到",
        "阳台玻璃裂开了 随时会掉下去",
    ],
)
def test_plain_word_emergencies_show_danger(text):
    assert shows_danger(normalize(text).text)


@pytest.mark.parametrize(
    "text",
    [
        "阳台推拉门卡住了",
        "厨房灯不亮了",
        "3号楼电梯又坏了",
        "车库卷帘门卡住了 车开不出来",
        "马桶水箱不停地响",
        "物业费多少钱一平",
    ],
)
def test_ordinary_faults_and_questions_show_none(text):
    assert not shows_danger(normalize(text).text)


def test_a_long_message_is_checked_in_linear_time():
    assert not shows_danger("门卡住了" * 5000)
    assert shows_danger("门卡住了" * 5000 + "快来人")


@pytest.mark.parametrize(
    "text",
    [
        "上周插座冒过火花 现在闸已经关了 麻烦派个电工来看看",
        "插座上周冒了火花，已经拉闸了，一直没用",
        "昨天有点煤气味 现在已经没味了 想请人来检查下",
        "前几天配电箱响过 后来就没响了",
        "上个礼拜个插苏冒过火花 我已经熄咗总掣",  # Cantonese
        "上个月闻到过一点煤气味 燃气公司来查过了 说没有漏 现在就是灶打不着",
        "前两天热水管爆过 已经修好了 就是墙面泡坏了想找人补一下",
        # a past emergency complained of: for the complaint desk, not the duty staff
        "前天晚上电梯关人的事 保安过了半小时才有人来 你们要给业主一个交代",
        "上个月地库着火那件事到底谁负责",
        "尋日部𨋢困住我阿媽 你哋處理得好慢",
        # batch 11's kinds (eighth session), in new words
        "前天地下室冒烟那件事已经过去了 就是墙面熏黑了想重新刷一下",
        "今早电梯关了人 已经救出来了 麻烦查一下什么毛病",
        "厨房的电线闪了一下 现在已经不闪了 总闸我也关了",
        "厨房报警器响个不停 估计是电池没电 没有烟",  # an alarm beeping for a flat battery
        "刚刚楼道有烟味 是楼下在烧纸 没事了",  # an all-clear said outright
        "上个月电梯困人 你们保安到得太慢了",
        "前几天楼上水管爆了 我家冰箱都泡坏了 要求他们赔偿",  # the damage claimed for
    ],
)
def test_a_danger_that_is_past_and_made_safe_is_over(text):
    assert danger_is_over(normalize(text).text)


@pytest.mark.parametrize(
    "text",
    [
        "厨房插座冒火花了",  # now
        "煤气味很大 快来人",
        "昨天冒过火花 现在又开始冒烟了",  # back
        "刚才着火了 已经灭了 但是还有很大的烟",  # still there
        "昨天就有煤气味 已经关了阀门 救命 头好晕",  # a call for help
        "上周漏水那单怎么样了",  # a question, not made safe
        "已经关了总闸 水还在往下流",  # made safe, not past, and still there
        "上周电梯困人你们处理得很差 今天又困人了",  # complained of, and back
        "昨天的事先不说 现在电梯里困了人 快来",
        "我妈晕倒了 以为没事了 现在叫她没反应",  # an all-clear taken back
        "闪了一下火花 现在还在冒烟",
        "今天早上就有煤气味 已经关了阀门",  # earlier today and shut: the smell may well be there
        "着火了 人都出来了",  # people out of a fire is not the fire out
        # people safe is not the danger over: no reason it is an all-clear
        "厨房着火了 人都跑出来了 没事了",
        "刚才楼道起火了 我们都没事了",
        "燃气泄漏 我们人没事 不用来了 自己处理",
        # a past grievance told beside a new danger
        "上周漏水你们处理得太慢 现在卫生间水管爆了",
        "前天停电那次你们来得太慢 今天又停电了 电梯里有人",
        "昨天漏水泡坏了地板要赔偿 现在楼上还在往下漏 插座都湿了",  # a claim, and the water still coming
    ],
)
def test_a_danger_now_back_or_still_there_is_not_over(text):
    assert not danger_is_over(normalize(text).text)


def test_the_past_danger_check_is_linear():
    assert not danger_is_over("上周" * 20000)
    assert not danger_is_over("已经关了" * 20000)


@pytest.mark.parametrize(
    "text",
    [
        "中庭草坪的洒水喷头爆了 水一直往外喷",  # a garden fitting, outdoors
        "7栋门口的喷泉水管裂了 地上都是水",
        "车库出口那根雨水管裂了 一下雨就渗水",  # a seep that comes with the rain
    ],
)
def test_water_that_is_no_flood(text):
    assert harmless_water(normalize(text).text)


@pytest.mark.parametrize(
    "text",
    [
        "厨房水管爆了 一直往外喷",  # indoors
        "花园浇水的管子爆了 水灌进一楼客厅了",  # from the garden into a home
        "卧室天花板一下雨就渗水 现在淹了",
        "绿化带的消防栓撞坏了 水喷得满地都是 流进地库了",  # outdoors, but flooding a car park
    ],
)
def test_water_indoors_or_in_volume_is_not_harmless(text):
    assert not harmless_water(normalize(text).text)


@pytest.mark.parametrize(
    "text",
    [
        # a false alarm denied outright with its reason (twelfth session, new sentences)
        "刚刚楼道烟雾报警器响了 是我在门口烧艾灸熏的 没着火 别担心",  # WeChat
        "烟感响了 是煎鱼的油烟 没着火",  # SMS
        "喂 那个 我家那个烟感 刚才叫了 就是 因为我在炒菜 没有着火 跟你们讲一下",  # ASR
        "頭先煙感響咗 係我煎魚啫 冇火 同你哋講聲",  # Cantonese
        # no danger any more, said outright, of a danger past
        "上周卫生间的灯座烧焦了 已经把总闸拉了 现在没什么危险了 麻烦约个电工来换一下",
        "前天配電箱冒過煙 已經熄咗總掣 冇咩危險喇",  # Cantonese
        # a lift with nobody in it, said outright
        "2号楼的电梯又停了 里面没有人被困 麻烦找人来修",
        "喂 那个 五栋的电梯 又不动了 我看了一下 没人困在里面 你们派个师傅来修一下",
        "升降機又壞咗 入面冇人 搵人嚟整下",  # Cantonese
    ],
)
def test_a_false_alarm_no_danger_left_or_an_empty_lift_said_outright_is_over(text):
    assert danger_is_over(normalize(text).text)


@pytest.mark.parametrize(
    "text",
    [
        "烟感响了 是炒菜的油锅起火了 火还很大",  # the cooking is the fire
        "烟感响了 不是炒菜 也没着火 但是有很浓的煤气味",  # another danger left over
        "烟感一直响 没着火 也没炒菜",  # no reason given
        "昨天插座烧黑了 我以为没啥危险了 现在又冒烟了",  # back
        "会不会有危险啊 插座一直冒烟",  # a worried question is no "no danger"
        "电梯坏了 里面没人被困 但是电梯井里在冒烟",  # nobody inside, but smoke
        "电梯停了 没人困住 但我闻到煤气味",
        "电梯停了 里面没人 我妈在另一部电梯里出不来",
    ],
)
def test_a_denial_beside_another_danger_is_no_all_clear(text):
    assert not danger_is_over(normalize(text).text)


@pytest.mark.parametrize(
    "text",
    [
        "淋浴房的地漏堵住了 冲凉水漫到脚踝 麻烦派人来通一下",  # one's own shower water
        "沖涼房個地漏塞咗 沖完涼啲水浸到腳眼",  # Cantonese
        "厨房水槽堵了 洗碗水漫出来了",
        "洗衣机排水堵了 水漫了一地",
        # however the shower and the drain are said (thirteenth session)
        "洗手间下水道堵了 洗了个澡水漫到小腿 麻烦来通一下",
        "冲完澡 淋浴间排水不下去 水漫到脚踝了",
    ],
)
def test_ones_own_water_backing_up_a_blocked_drain_is_no_flood(text):
    assert harmless_water(normalize(text).text)


@pytest.mark.parametrize(
    "text",
    [
        "洗澡的时候热水管爆了 水喷得到处都是",  # a burst pipe
        "地漏返水了 污水一直往上冒 卫生间淹了",  # coming up from elsewhere
        "楼上洗澡地漏堵了 水漏到我家天花板",  # someone else's, through the ceiling
        "洗澡地漏堵了 水漫到客厅插座那边了",  # reaching other rooms and electricity
        "地漏堵了 洗澡水漫出来 水龙头也关不住",  # cannot be shut off
        "冲个澡下水道就往上返水 卫生间淹了",  # coming back up
    ],
)
def test_a_drain_backing_up_with_worse_stays_a_flood(text):
    assert not harmless_water(normalize(text).text)


@pytest.mark.parametrize(
    "text",
    [
        # a gas smell told before, explained since by a pot or food burnt (thirteenth session)
        "刚才说的燃气味 其实是煮粥煮糊了 不是燃气 没事了 说一声",
        "之前跟你们讲的煤气味 是我烧水壶烧干了 没漏气 跟你们讲一下",
        "頭先講嘅煤氣味 係我煲湯煲乾咗 唔係煤氣 冇事喇",  # Cantonese
    ],
)
def test_a_gas_smell_explained_by_burnt_cooking_is_over(text):
    assert danger_is_over(normalize(text).text)


@pytest.mark.parametrize(
    "text",
    [
        "不是煤气 是锅烧干了 但是厨房插座在冒烟",  # another danger left over
        "插座烧焦了 不是着火 是插座烧焦",  # a socket burnt is no cooking
        "锅烧干了 不是煤气 但是煤气味还在",  # the smell still there
    ],
)
def test_burnt_cooking_beside_another_danger_is_no_all_clear(text):
    assert not danger_is_over(normalize(text).text)


@pytest.mark.parametrize("text", ["楼上的水从顶上往下浇", "玻璃松了 快来拉警戒线"])
def test_water_pouring_down_and_a_cordon_asked_for_show_danger(text):
    assert shows_danger(normalize(text).text)


def test_no_water_from_a_frozen_pipe_is_nobody_trapped():
    assert not shows_danger(normalize("厨房水管冻住了 出不来水").text)
    assert shows_danger(normalize("电梯卡住了 我出不来").text)


def test_a_lift_entrapment_over_with_the_lift_still_broken_is_over():
    assert danger_is_over(normalize("昨天电梯困人 人已经出来了 电梯还是坏的").text)
    assert not danger_is_over(normalize("电梯困人 出来一个 还有人在里面").text)


@pytest.mark.parametrize(
    "text", ["前天开关冒过火花 我当时就把电闸拉了", "上周插线板烧过一次 后来一直不敢用了 想换个插座"]
)
def test_a_spark_past_with_the_switch_pulled_or_the_socket_left_alone_is_over(text):
    assert danger_is_over(normalize(text).text)


@pytest.mark.parametrize(
    "text", ["部lift又停咗 冇人困住 快啲整", "电梯刚才停了一下 我被关在里面 后来门又开了 我已经出来了"]
)
def test_a_lift_fault_with_nobody_inside_or_the_passenger_out_is_over(text):
    assert danger_is_over(normalize(text).text)


def test_a_socket_charred_last_night_in_cantonese_with_the_breaker_back_is_over():
    assert danger_is_over(normalize("琴晚個插蘇燒黑咗 已經冇用佢 想換個新嘅").text)


def test_a_fire_only_imagined_beside_out_of_date_kit_is_no_danger_now():
    assert danger_is_over(normalize("消防栓里的水带烂了 万一着火怎么办 请尽快换").text)


def test_a_fire_imagined_beside_real_smoke_is_a_danger_now():
    assert not danger_is_over(normalize("楼道里在冒烟 万一着火怎么办").text)


def test_smoke_told_after_an_imagined_fire_is_read_as_it_stands():
    assert not danger_is_over(normalize("灭火器过期了 万一着火 楼道里烟很大 怎么办").text)
