"""What an owner's words say outright, when the model follows the wrong part of a message.

The model reads a message by its most vivid words. Owners often wrap what they want in other
words, and then the model follows the wrapping:

* **Chasing (催单)** restates the problem: "上周报的厨房漏水 到现在还没人来 还在滴". The model sees
  a leak (a new repair) or anger (a complaint). What makes it a chase is that the owner says it
  was *reported before* and that *nothing has happened since*: :func:`urges_an_earlier_request`.
* **A broken thing told in frustration** ("电梯怎么又坏了") is still a repair; the model hears
  the frustration and reads a complaint. A complaint is about people — the service, staff,
  neighbours, noise, parking — and says so: :func:`reports_a_fault` without
  :func:`complains_about_people`.
* **Thanks with praise** ("王师傅修得又快又好 谢谢 给你们点赞") names a repair and a person; the
  model reads a repair or a complaint. Thanks with nothing still wrong: :func:`thanks_only`.
* **Asking for the office's phone number** ("物业办公室电话多少") is asking for a person, not a
  status check: :func:`asks_for_the_office`.
* **Asking to report a fault** ("请问可以报修吗 排风扇不转了") is a repair, not a status question.
* **Money** (:func:`_money_reading`): a billing error with a demand ("扣了我两次 退回来") or a
  grievance beside the fee with no question is a complaint; the maintenance fund's money
  (维修基金 谁出 每户多少) is a fee question; social or medical insurance is out of scope.
* **A visit no longer needed** ("不用来了 已经弄好了 谢谢") is a cancellation, not thanks.
* **A complaint said to be one** ("我不是催 我是要投诉") is one, whatever past ticket it names.
* **Asked to cancel what was booked** ("后天的访客预约取消一下") is a cancellation, not a new pass.
* **A "no" explained** ("不是的 我没有报过修") is a denial; **the weather or a recommendation**
  ("附近哪家游泳班靠谱") is out of scope; **a repair with its price asked in passing** ("能上门弄一下吗
  要收费吗") is the repair; **a fee taken in vain** ("收着物业费 结果垃圾没人清") is a complaint.
* **Information and the wrong place**: a bare phone number, or a correction with its value ("不对 是5单元",
  "写错了 房号应该是1302"), informs; a wrong number or the government's papers are out of scope.
* **Visits**: a fault with when someone is home ("空调不冻 明天下午有人在") is the repair; someone
  coming with when, or a delivery ("清洁公司明早九点来 车牌…", "家具要送来 货车十点到"), a visitor pass;
  a fault back after an earlier complaint with a visit asked for now is a new repair.

Each cue is explicit wording, never a guess: the override component (bot/components/
intent_override.py) applies one only where the model's reading is one of the few it is confused
with, so a cue can correct a confusion but never invent a request. Input is the normalised text
(simplified characters, Arabic digits). Patterns are alternations with short bounded gaps: linear
time on any input.
"""

from __future__ import annotations

import re

from bot.text.danger import HANDLING, false_alarm_explained, without_cooking
from bot.text.tickets import find_tickets

# Said to have been reported, asked or arranged before.
_REPORTED = re.compile(
    r"报修?(?:过|了|的)|反[映应](?:过|了|的)|打过电话|打了.{0,3}电话|说过|提过|找过|登记过|"
    r"(?:已经|早就|之前|上次|前[天几两]天?|昨天|上周|上个?星期|上礼拜|上个?月).{0,6}(?:报(?!警)|说|反映|联系|打电话)|"
    # a visit promised within days (你们说三天之内来修, 话咗三日内上来)
    r"(?:说|话|讲|答应)(?:了|咗)?[^。!！?？]{0,4}(?:[一二三两几\d]+(?:天|日|个?星期|个?礼拜)之?内|今日|听日)[^。!！?？]{0,4}(?:来|上来|上门)|"
    r"约好|约了|说好|讲好|说定|讲定|答应|(?:约|定|说)的(?:是)?(?:今天|明天|后天|周[一二三四五六日末]|星期.|礼拜.)|派了?单|工单|单号|单子|BX\d|TS\d|投诉过|"
    # a promise to act (物业说会协调, 管家说马上安排): arranged, though nothing came of it
    r"(?:物业|管理处|管家|客服|前台|你们|他们)(?:的人)?(?:说|讲|答应)(?:了)?(?:会|要|马上|尽快|立刻|帮忙|去)|"
    # a visit promised (师傅说明天来, 又说下午到): arranged, whoever said it
    r"(?:(?:师傅|他|她|物业|管理处|管家|客服|前台|保安|你们|又)|^)(?:不是)?(?:说|讲)(?:了|好)?(?:的)?"
    r"(?:今天|明天|后天|昨天|前天|下午|上午|晚上|早上|朝早|马上|等下|一会儿?|过两天|半个?小时|\d+分钟|[一两三几]个?小时)"
    r".{0,6}(?:来|到|上门|修好)|"
    # reported a while ago (报修都一个礼拜了, 报了快半个月了)
    r"报(?:修|的|了)?(?:都|已经|快)[^。!！?？]{0,4}(?:天|周|星期|礼拜|个?月)|"
    r"报(?:修|了)[0-9一两三四五六七八九十几半]+个?(?:天|周|星期|礼拜|月)了|"
    # waited days for it (等三天了还没人来), a visit promised in Cantonese (话了今天朝早来修)
    r"等了?[0-9一两三四五六七八九十几半]+个?(?:天|周|星期|礼拜|月)了|^话了?(?:今天|明天|朝早|下午|上午|晚上)",
    re.IGNORECASE,
)
# Nothing since: nobody came, still not fixed, no answer.
_NOTHING_SINCE = re.compile(
    r"(?:还|一直|始终|仍然?|都)(?:没|未|不)(?:有人|人|来|上门|修|好|弄|处理|换|派|解决|动静|消息|回复|回音|联系|见)|"
    r"迟迟|至今|到现在(?:还|都|也|仍)|怎么还|咋还|人影|没见(?:到)?人|(?:都|也|人|师傅)没来|结果.{0,4}没|"
    r"还是(?:漏|坏|堵|停|不亮|不通|不冷|不热|不凉|没好|没修|没人|没来|没弄|没处理|没换)|还在(?:漏|滴|响)|人呢|"
    r"没人(?:来|管|理|处理|修|联系|回)|没有人(?:来|管|理|处理|修|联系|回)|"
    r"没动静|没有动静|(?:一点|半点|任何)(?:动静|消息|回音|回复)(?:都|也)?(?:没有?)|没消息|没下文|没回[复音应]|没人?回[复音应]|石沉大海|等了.{0,4}(?:天|周|星期|礼拜|个月|小时)|"
    r"[到在]底什么时候|还要等多久|要等到什么时候|"
    # put off again and again (明天又明天, 一拖再拖)
    r"(今天|明天|后天|下午|晚上|周末|下周|下星期)又\1|一拖再拖|拖来拖去|推来推去|一直拖|老是拖|总是拖|又拖|"
    r"拖了.{0,4}(?:天|周|星期|礼拜|个?月)|(?:每次|每回|老是|总是)(?:问)?都说(?:在)?(?:排期|安排|等)|"
    # waited for nothing (又白等一天), the promised thing asked after (说好的配件呢), days counted
    r"白等|空等|干等|[\s,，]没来|未见人|(?:还是|又)没(?:有)?(?:人)?来|都过了[^。!！?？]{0,4}(?:天|星期|礼拜|个?月)|超过(?:了)?(?:处理)?时限|超时了|"
    r"(?:说好|答应|讲好)的[^,，。!！?？]{0,8}呢|(?:都|这都)多少天了|都几天了|"
    r"(?:一直|老是|总是|每次)(?:都)?说(?:在)?(?:排队|排期|安排|等)|(?:把|将)?(?:我的?)?(?:单子?|工单|报修)(?:给)?忘了|"
    # the promised day gone by (说好星期二来 今天星期四了)
    r"今天(?:都|已经)?(?:是)?(?:星期|周|礼拜)[一二三四五六日天]了|今天都\d+号了|"
    r"(?:都|已经)第[几两三四五六七八九十\d]+天了|没得(?:一个)?人(?:来|管|理)|一个人都没(?:来|有来)|搞忘(?:记)?了"
)
# Someone else's car in my space, rubbish nobody collects: grievances, whatever else is said.
_SPACE_OR_RUBBISH = (
    r"占(?:了|着|用)?(?:我|我家|我们)?的?车位|(?:把|将)[^。!！?？]{0,6}(?:停|泊)(?:了)?(?:在|到)(?:我|我家|我们)(?:的|个)?车位|占(?:了|着|用)?(?:我|我家|我们)(?:的|个)?位(?!置)|(?:天天|老是|总是|经常|又|一直|乱|随便|长期).{0,4}停(?:在|到)?(?:我|我家|我们)的?车位|"
    r"车位.{0,6}(?:被|给).{0,12}(?:占|停|泊)|(?:把|将)车停(?:在|到)(?:我|我家|我们)的?车位|"
    r"垃圾.{0,12}(?:没(?:有)?人?来?(?:收|清|运|倒|管)|不(?:收|清|运))"
)
# ... and the service's handling of something past (处理得太差, 给个说法, 谁负责).
_HANDLING = HANDLING
# Grievances that stay complaints even where the model heard a repair or a visitor pass.
_GRIEVANCE_RE = re.compile(_SPACE_OR_RUBBISH + "|" + _HANDLING)
_SPACE_OR_RUBBISH_RE = re.compile(_SPACE_OR_RUBBISH)
_HANDLING_RE = re.compile(_HANDLING)
# A complaint about people: the service, staff, neighbours, noise, parking, pets, rubbish.
_ABOUT_PEOPLE = re.compile(
    r"投诉|举报|曝光|差评|(?<!\d)12345(?!\d)|市长热线|" + _HANDLING + "|"
    r"态度|服务(?:太|真|很|差|不)|不作为|不负责|敷衍|推脱|踢皮球|"
    r"物业.{0,6}(?:干什么|干啥|不管|不作为|怎么管|管不管|不理|收钱不)|乱收费|"
    r"吵|噪音|扰民|声音(?:太|好|很|特别|非常)(?:响|大)|午睡|打麻(?:将|雀)|拖(?:凳|櫈|椅)|装修|唱歌|广场舞|乱停|占用|占道|堵门|挡住|遛狗不|狗屎|狗叫|宠物|垃圾.{0,4}(?:乱|堆|不清|没人清)|"
    r"(?:到底|究竟)(?:有没有|有没|管不管)(?:人)?(?:在)?管|"
    r"违建|搭建|偷|素质|(?:保安|保全|警卫|门卫|管理员|保洁(?:员)?)[^,，。!！?？]{0,6}(?:不|没|睡|玩|打牌|聊天|凶|骂|态度|刁难|脾气|人影)|"
    r"邻居|隔壁|楼上的|楼下的|对门|"
    r"有人(?:在|把|从|往|乱)|乱扔|乱丢|丢.{0,4}下来|扔.{0,4}下来|烟头|堆(?:满|放|了|着)|杂物|"
    r"(?:占|堵|停|放|堆).{0,6}消防通道|消防通道.{0,6}(?:被|堆|停|放|占|堵)|" + _SPACE_OR_RUBBISH
)
# A thing that is broken or not working.
_FAULT = re.compile(
    r"坏|不亮|不灵|失灵|漏水|渗水|滴水|漏了|渗|堵(?:了|住|塞|死|的)|不通(?!知)|不出(?:热)?水|没水|没有水|没(?:有)?热水|打不开|关不上|锁不上|开不了|关不了|"
    r"卡住|卡死|卡了|卡(?:在)?一半|跳了闸|咣当|哐当|嘎吱|咯吱|(?:还|一直|老是|总是)抖|抖(?:得|个不停)|停(?:在)?半路|开(?:到)?一半|"
    r"不好用|生(?:晒)?锈|锈死|扭不(?:到|动|开)|发黄|铁锈味|水(?:很|好)?浑|"
    r"(?i:\bleak(?:ing|s|ed)?\b|\bbroken\b|not working|doesn'?t work|stopped working|\bclogged\b|\bblocked\b)|"
    r"(?:我家|家里|屋里)停电|(?:空开|空气开关|漏保|电闸|总闸)[^,，。!！?？]{0,3}跳|推不上去|合不上|门[^,，。!！?？]{0,6}(?:夹(?:人|一下|到)|弹开)|甩(?:晒|了)|(?<![不没])(?:入水|进水)|泡(?:坏|花|烂)|发霉|起皮|脱皮|掉漆|熏黑|不转|不动了|停了|停运|故障|掉了|脱落|松了|裂|破了|不能用|用不了|不工作|没反应|没信号|没(?:有)?声(?:音)?|"
    r"(?:一直|整天|老是|总是|无缘无故|半夜)[^。!！?？]{0,4}(?:响|叫|报警)|断了|过期了|"
    r"异响|不制冷|不制热|不加热|打不着|跳闸|没电|短路|不亮了|闪|黑了|烧(?:过|坏|了|焦)|不走字|不计数|"
    r"[摇拉推放降升转拧按]不(?:下来|上去|动|开|回去)|[点打]不[着著燃]|火花|"
    # heating or hot water that stays cold (地暖不热, 暖气片冰凉, 热水器出来是凉的)
    r"(?:暖气|地暖|暖气片|散热器|热水|热水器|水温)[^,，。!！?？]{0,12}(?:不热|不暖|冰凉|冰冷|凉的|是凉|是冷)|"
    # fallen or hanging (窗扇掉下来, 批荡跌了下来: not a person falling), worn out, a card refused
    r"掉了?下来|掉下去|(?<![人爸妈我他她婆公奶爷])跌了?下来|卡在|老化|刷不(?:过|了|开|上)|"
    # a lift at the wrong floor or a door that shuts half way, a drain that smells, cold air that
    # is not (空调不冻 吹热风), a roof the wind lifted (石棉瓦让风掀了)
    r"(?<![不没])不响|关不紧|拧不紧|离线|扫不(?:起|了|上)|充不(?:了|上|进)(?:电)?|(?:莫|没)法(?:充|用)|不会(?:转|动|亮|响)了?|滴滴答答|滴答|不认(?:指纹|卡|人|脸)?|识别不(?:了|出)|停错(?:层|楼)|关(?:到)?一半|返味|反味|返臭|(?:空调|冷气)[^,，。!！?？]{0,8}(?:不冻|不凉|不冷|吹热风)|掀(?:了|掉|翻|飞|开)"
)
# Gratitude or praise.
_THANKS = re.compile(
    r"谢谢|谢了|感谢|多谢|辛苦(?:师傅|你们|您|大家)?[了啦]|点赞|点个赞|表扬|好评|锦旗|唔该晒|"
    r"(?<![A-Za-z])(?i:xs|3q|thx|thanks|thank you)(?![A-Za-z])"  # 谢谢 in pinyin initials (xs), or English
)
# Done and working again.
_RESOLVED = re.compile(r"(?<![不没未])(?:修好|弄好|搞定|解决了|处理好|好了|通了|亮了|能用了|换好)|不漏了")
# Asking for something (thanks in advance is not a thank-you).
_ASKING = re.compile(
    r"(?<![还也都])帮(?:我|忙|业主)|请(?:派|帮|来|尽快|安排)|麻烦(?:派|帮|来|尽快|安排|看|你们?(?:派|帮|来|过来))|报(?:个|一下)?修|登记|"
    r"派(?:个|人|师傅)|(?:来|过来|上门)(?:看一?下|看看|修一?下|处理一?下)|查(?!过)|进度|问一下|想问|能不能|可不可以|[?？吗]"
)
# ... and nothing still wrong.
_STILL_WRONG = re.compile(
    r"但是|可是|不过|就是.{0,4}(?:还|又)|还是(?:不|没|漏|坏|堵|响)|还没|没修好|没弄好|没处理好|又(?:坏|漏|堵|停|不|响)|"
    r"不行|太差|太慢|怎么还|再来|再派"
)
# The office, its counter or its staff, and a way to reach them.
_OFFICE_CONTACT = re.compile(
    r"(?:物业|物管|管理处|管理公司|管理员|管理中心|管委会|办事处|办公室|服务中心|客服中心|服务台|客服|前台|管家|值班室|维修部|工程部)"
    r"[^费]{0,8}(?:电话|号码|手机|联系方式|联络方式|座机|热线)"
    r"(?:[^费交缴付]{0,3}(?:多少|几多|几号|是什么|是啥|是几|给我|告诉|发我|有没有|有吗|吗|呢|[?？])|$)|"
    r"(?:怎么|怎样|如何)(?:联系|联络|找到?)(?:物业|物管|管理处|客服|前台|管家|你们)|"
    r"(?:提供|给我|告诉我|发我|发一下)[^。!！?？]{0,5}(?:物业|物管|管理处|管理中心|办公室|服务中心|客服|前台|管家|值班室)"
    r"[^费]{0,6}(?:电话|号码|联系方式|座机)"
)


# Urging in so many words.
_URGES = re.compile(
    r"催(?:单|一下|下|促|办|了|你们)|再催|加急|"
    r"(?:打|催|找|问|报|反映)了?(?:你们|物业|他们|管家|客服)?(?:[2-9两三四五六七八九几]|好几|无数)(?:次|遍|回|趟)(?:电话)?|"
    # asked for the third time (第三次问了, 第N回打电话)
    r"第(?:[2-9两二三四五六七八九几]|好几)(?:次|回|遍)"
    r"(?:问|催|打|找|反映|讲|说|来问|打电话|发(?:短信|信息|消息)?|(?i:follow ?up)|跟进)|"
    r"[又再](?:问|催)(?:一遍|一次|了一次)|"
    # dispatch it now (赶紧给我派一下, 快点派单)
    r"(?:赶紧|赶快|快点|快些)(?:给我)?派(?:一下|单|人|个人)"
)


def urges_an_earlier_request(text: str) -> bool:
    """Whether the owner urges in so many words (催单), or says something was reported before and
    nothing has happened since."""
    return bool(_URGES.search(text) or (_REPORTED.search(text) and _NOTHING_SINCE.search(text)))


def reports_a_fault(text: str) -> bool:
    """Whether the message says something is broken or not working."""
    return _FAULT.search(text) is not None


def complains_about_people(text: str) -> bool:
    """Whether the message complains about people (service, staff, neighbours, noise…) outright."""
    return _ABOUT_PEOPLE.search(text) is not None


def thanks_only(text: str) -> bool:
    """Thanks or praise, with nothing still wrong and nothing asked for; a fault named in it must
    be said to be fixed (空调修好了 谢谢)."""
    if not _THANKS.search(text) or _STILL_WRONG.search(text) or _ASKING.search(text) or _ASKS_PROGRESS.search(text):
        return False  # 请问投诉TS000842有结果了没有 谢谢: a question, thanked for in advance
    if _GRIEVANCE_RE.search(text) or _SARCASM.search(text):
        return False  # 辛苦了 垃圾三天没人收 这物业费交得真值: scorn
    return not reports_a_fault(text) or _RESOLVED.search(text) is not None


def asks_for_the_office(text: str) -> bool:
    """Whether the owner asks how to reach the office or its staff (电话多少, 怎么联系物业)."""
    return _OFFICE_CONTACT.search(text) is not None


# Which reading each cue corrects, and from which of the model's readings only: the ones it is
# confused with (blind batches 5 and 6). Checked in this order; the first that applies wins.
CHASE_FROM = frozenset(
    {
        "report_repair",
        "file_complaint",
        "check_status",
        "inform",
        "nlu_fallback",
        "request_visitor_pass",
        "out_of_scope",
    }
)
REPAIR_FROM = frozenset({"file_complaint"})
THANK_FROM = frozenset({"file_complaint", "report_repair", "check_status", "inform", "nlu_fallback", "ask_fee"})
OFFICE_FROM = frozenset(
    {
        "check_status",
        "inform",
        "nlu_fallback",
        "ask_fee",
        "out_of_scope",
        "file_complaint",
        "report_repair",
        "greet",
        "request_visitor_pass",
    }
)
REPORT_FROM = frozenset(
    {
        "thank",
        "check_status",
        "inform",
        "nlu_fallback",
        "out_of_scope",
        "file_complaint",
        "cancel",
        "request_visitor_pass",
        "request_human",
    }
)
# Asking for a repair now (可以报修吗, 帮我报个修, 找人来换一下, 麻烦修下), not about one reported before.
_ASKS_TO_REPORT = re.compile(
    r"(?:我要|我想|想|要|可以|能|能不能|帮我|帮忙|麻烦|申请|请)报修|报个修|报一?下修|报修一下|"
    r"能不能(?:派人)?(?:来|过来|上门)(?:帮我)?(?:看|修)|安排(?:个|一个)?(?i:technician|师傅|工人)|"
    r"(?:请|找人|找个人|派人|派个人|麻烦|让他|叫人)(?:你们)?(?:先)?(?:来|过来|去|上来|上门)?(?:帮(?:我|忙))?"
    r"(?:换|修|看看|看一下|看下|看一?眼|瞅瞅|瞧瞧|弄一下|处理一下|来一趟|检查|查查|查一下|疏通|通一下)|"
    r"(?:麻烦|请|帮忙)(?:你们)?(?:check|睇|看)(?:一?下|吓)|"
    r"(?i:(?:come|someone)[^。!！?？]{0,12}\b(?:fix|repair|check|look)|please (?:fix|repair|check)|"
    r"send (?:someone|a technician))|"
    # a landlord far away: get in touch with whoever lives there (麻烦你们联系租客)
    r"(?:麻烦|请)(?:你们)?(?:直接)?(?:联系|联络)(?:一下)?(?:他|她|租客|租户|住户)|"
    r"[修换补]一?下[吧啦呀]?|补补|修修|换(?:个|一个|块|节)|抽空(?:来)?(?:换|修|看)|来一趟|安排(?:一?下|个人|师傅)|"
    # a tradesman sent for (约师傅来补好, 叫厂商来修)
    r"(?:请|找|派|叫|让|约)(?:个|一下)?(?:师傅|厂商|厂家|工人|电工|水电工|维修工|修理工|维保)(?:尽快|赶紧)?(?:来|过来|上门)?"
    r"(?:帮(?:我|忙))?(?:换|修|补|通|装|看看|看一下|看一?眼|瞅瞅|瞧瞧|查查|弄|处理|检查)"
)
_SAYS_COMPLAINT = re.compile(r"投诉|举报")
# A complaint made before (我之前投诉过 … 一点动静都没有): what is chased, not what is said now.
_PAST_COMPLAINT = re.compile(r"投诉(?:过|了|的)")
# A question about progress: the model's status reading stands even when the owner adds that
# nobody has said anything yet.
_ASKS_PROGRESS = re.compile(
    r"(?i:any update|what'?s the status|status of|progress on)|"
    r"[修弄处理]+(?:好|完)了?[没吗么]|好了[没吗么]|怎么样了|怎样了?$|怎样了|进度|进展|到哪|处理到|"
    r"(?<!给个)(?<!给我)(?<!一个)(?<!要个)处理结果(?!给)|结果怎么样|有结果|"
    # asked about as done or not: 修了吗, 派出去了吗, 处理了没有, 有下文了吗, 有没有人在跟
    # (按了没声音 is 了 + "no sound", not a question)
    r"了[吗么嘛]|了没有?(?![声电水气反信用人法办动])|有下文|有说法|有没有(?:人)?(?:在)?(?:跟|处理|管|回复|下文|说法|结果)|"
    # asking us to find out (帮我问一下师傅几点到): a question, however late the visit is
    r"帮(?:我|忙)(?:问|查|打听)(?:一下|问|查)"
)
# A ticket named: ours, an external system's (20261030-0017), or "this/that ticket".
_NAMES_A_TICKET = re.compile(r"BX\d|TS\d|\d{8}-\d{3,4}|单号|工单|(?:这|那|张|个|的)单", re.IGNORECASE)
# A fault that was there before: the owner's history, not a new report. (还是 as "or" — 找你们还是
# 找热力公司 — says nothing of before.)
_BEFORE = re.compile(r"还是(?![找去问打叫给选要用我你他她])|还没|仍然|依然|又(?:坏|漏|堵|不)|老是|总是|一直")
# When someone comes or came: a question about a visit already arranged.
_WHEN = re.compile(r"什么时候|啥时候|几点|哪天|多久|来了没|来没来|到了没|到没到")
# Asking for a person in so many words: stays a request for a person whatever else is said.
_WANTS_A_PERSON = re.compile(r"人工|真人|客服|转接|接线|经理|主管|领导|打(?:个)?电话给我|回(?:个)?电话|回电")
# That is all: a goodbye said outright.
_GOODBYE = re.compile(r"拜拜|再见|88$|回头聊|回聊|有空再聊|先这样|没别的事|没其他事|没事了")

# Asking to be called back (请让维修部的人打我电话): a person, not a complaint or a status check.
_CALL_ME = re.compile(
    r"(?:让|叫|请|麻烦)[^。!！?？]{0,10}(?:打(?:个)?(?:我|给我)的?(?:电话|手机)|给我(?:打|回)(?:个)?电话|回(?:个)?电话|联系我|"
    r"(?:来)?接(?:个)?电话|出来(?:说话|跟我说)|来跟我说)"
)
# A visit to fix something (请回电话 约个时间来换锁): the model's repair reading stands.
_COME_TO_FIX = re.compile(r"(?:来|上门)(?:帮(?:我|忙))?(?:换|修|补|通|装|看|弄|处理)")
CALL_ME_FROM = frozenset({"file_complaint", "check_status", "inform", "nlu_fallback", "out_of_scope", "report_repair"})
# What a visitor pass needs (a day, a time, a plate, registering): without any, a fault named
# beside visitors (门铃坏了 访客按了没声) is a repair.
_PASS_WORDS = re.compile(
    r"登记|放行|通行|访客码|邀请码|预约|车牌|开车|[今明后]天|[点号](?:来|到)|来访|来看|过来|要来|会来"
)

STATUS_FROM = frozenset({"inform", "nlu_fallback", "thank"})

# -- money: a billing error the owner wants put right, the maintenance fund, insurance --------
# The service charged wrongly (多扣, 收了我两次), not the owner's own slip (我多交了一个月).
_BILLING_ERROR = re.compile(
    r"多(?:扣|收|算|计)|重复(?:收|扣|计)|(?:收|扣|抄|算|计|读|录)错|乱扣|"
    # an item that appeared on the bill (多了一项, 无缘无故多出一笔)
    r"多(?:了|出|出来)(?:一|几|两)?(?:项|笔)|(?:莫名其妙|无缘无故|凭空)(?:地)?(?:多|扣)|"
    r"(?:收|扣)了?(?:我)?(?:[2两二]|好几)次|(?:收|扣)了?我?.{0,6}(?:[2两二三3]|好几)(?:个月|次|遍)"
)
# ... and a demand to put it right: a refund, a correction, or a complaint.
_PUT_RIGHT = re.compile(
    r"退(?:回|还|返|给我|钱|款|费)|更正|改正|纠正|改过来|冲[正回销]|给(?:我)?(?:个)?说法|(?:这个|这)怎么说|投诉|要求|"
    r"不会(?:给|交|付)|(?:拒绝|不)(?:交|给|付)(?:这|那)?(?:笔|个|钱)|(?:要|给)(?:你们|我)?(?:个)?解释"
)
# ... or a check asked for, of an error said for certain (收错了 请查); one only suspected (好像多扣了
# 帮我查一下) is a question about the fee.
_CHECK_IT = re.compile(r"请(?:你们)?查|查一下|核实|核查|重新(?:算|核|抄)")
_SUSPECTED = re.compile(r"好像|是不是|(?<!不)可能|似乎|不知道|怎么|吗|[?？]")
FEE_COMPLAINT_FROM = frozenset({"ask_fee", "check_status", "inform", "nlu_fallback"})
# Any question at all: a fee message without one (物业费交得真憋屈) is not asking about the fee.
_ASKS_ANYTHING = re.compile(
    r"[?？吗么嘛]|多少|几多|几[个号月天]|怎么|怎样|咋|如何|哪|什么|啥|谁|能不能|可不可以|可以|是否|有没有|是不是|想问|请问|问一?下|查"
)
# A repair asked for, in passing, beside the fee (报个修一个礼拜没人理).
_A_REPAIR_ASKED = re.compile(r"报(?:个|了|的)?修")
# The building's maintenance fund, and its money: who pays, how much, from where.
_FUND = re.compile(r"维修(?:基金|资金)|公共维修金|大修基金|专项维修")
_FUND_MONEY = re.compile(
    r"掏钱|出钱|凑钱|交钱|付钱|给钱|出资|分摊|摊|多少|几多|谁(?:出|付|交|承担|负责)|哪(?:里|儿)?(?:出|来|扣)|"
    r"要(?:交|付|给|出)|另外|每户|每家|按面积|余额|够不够|怎么(?:算|收|用|交)"
)
# Social or medical insurance, housing fund: the government's, not the property company's.
_STATE_SCHEMES = re.compile(r"医保|社保|医疗保险|社会保险|养老保险|失业保险|公积金|新农合|农村合作医疗")
# ... unless the message names the property's own charges too.
_PROPERTY_CHARGES = re.compile(r"物业费|管理费|停车费|车位费|水费|电费|燃气费|垃圾费|维修基金|维修资金")

# The fee taken in vain: paid for a service not given (收着物业费 结果杂草比人高), or asked whether the
# money is earned (这钱收得心安吗): a grievance, however it ends.
_FEE_IN_VAIN = re.compile(
    r"(?:钱|费)[^,，。!！?？]{0,3}收得[^。!！?？]{0,6}(?:是不是|合理|心安|好意思|亏心|值|过分|离谱)|"
    r"(?:物业费|管理费)[^。!！?？]{0,6}(?:结果|却|可是|但是)[^。!！?？]{0,20}"
    r"(?:杂草|蚊子|老鼠|垃圾|脏|乱|没人管|不管|没人打扫|没人清|卫生|差)"
)
# Where the money went, said to be unfair (钱都用到哪去了 我觉得不合理): a grievance; asked with a
# wish to see the accounts (广告的钱用在哪了 有没有公示), a question about the fee.
_MONEY_WHERE = re.compile(r"(?:钱|费)[^,，。!！?？]{0,3}(?:都)?(?:用到|花到|用在|花在)哪")
# Praise that means the opposite (这物业费交得真值, 服务真是一流啊 三天没人管).
_SARCASM = re.compile(r"(?:交|花|收)得(?:真|太|好)值|真(?:是)?(?:一流|到位|周到)(?:啊|呢|哈)?[^。!！?？]{0,12}没人")
_UNFAIR = re.compile(r"不合理|凭什么|乱花|贪|黑心|回扣|不透明|一年比一年贵|越来越贵|乱收|乱来")
# A charge raised without the owners told or asked (物业费涨了也不通知, 加了20%都没开会): a grievance.
_RAISED_UNANNOUNCED = re.compile(
    r"(?:物业费|管理费|停车费|车位费|收费|费用?|价钱|价格)[^。!！?？]{0,4}(?:涨|加|提|上调|调高|调涨)"
    r"[^。!！?？]{0,12}(?:不|没有?|也不|都不|都没有?|也没有?)(?:提前)?(?:通知|公示|开(?:业主)?(?:大)?会|征求|商量|说一声|告诉|问)"
)
RAISED_FROM = frozenset({"ask_fee", "check_status", "inform", "nlu_fallback", "report_repair"})
# ... a charge the owner refuses (这钱我不认, 我不交): said outright, not asked.
# ... or judged unfair outright (这个不合理, 凭什么又单收一份).
_VERDICT = re.compile(r"(?:这个|这样|这|太|很|非常|真)(?:也)?不合理|凭什么[^。!！?？]{0,12}(?:收|要|让|单收|涨|加)")
_REFUSED = re.compile(
    r"(?:钱|费|这笔)[^。!！?？]{0,3}(?:我)?不认|我?(?:不认|拒交|拒付)|(?:我|就)?不(?:交|给|付)(?:了|的)?(?=$|[,，。!！\s])"
)
# A fault with a visit asked for, and what the visit costs (有没有师傅上门弄一下 要收费的话怎么算):
# the owner wants the repair; its price is a question inside it, not the message's purpose.
_COST_OF_A_VISIT = re.compile(r"收费|要钱|收钱|费用|多少钱|怎么算|贵不贵|免费")

# A fault told beside a fee question (物业费交到哪个月了 顺便说一下 晾衣架摇不下来了): the repair is what
# someone must act on; the fee question is answered when the owner asks it again.
# (A fault with the fee asked "顺便问下" keeps the fee question: there the fee is the ask.)
_FEE_FIRST = re.compile(r"先问|不急|不着急|不要紧")  # 渗水 不急 先问钱的事: the owner says which comes first
_ALSO = re.compile(r"顺便(?:说|讲|提)|还有就是|还有一个|另外|有没(?:有)?师傅")

# -- not the property's business: the weather, a recommendation for a school or a shop ---------
# asked as a forecast (明天会不会下雨, 今日会唔会落雨, 要不要带伞), not rain that did something here
_WEATHER = re.compile(
    r"(?:会不会|会唔会|会下|要不要|[今明后]天|周末|下午|晚上)[^,，。!！?？]{0,4}(?:下雨|落雨|下雪|刮风|打风|降温|升温|出太阳|来台风|刮台风|台风)|"
    r"天气(?:怎么样|如何|好[吗不]|预报)|气温|多少度|几度|带伞|带遮|风球|台风(?:什么时候|几时|几号|会不会)"
)
# selling or buying second-hand (想买二手沙发吗, 闲置转让): a market, not the property
# the city's rules for cars (限号, 尾号限行): the traffic police's
_CITY_RULES = re.compile(r"限号|限行|尾号")
_SELLING = re.compile(r"二手|闲置|转让|出售|(?:想|要)买[^。!！?？]{0,6}(?:吗|嘛|[?？])")
_RECOMMENDATION = re.compile(
    r"(?:哪家|哪个|哪间|哪里的?|边间)[^。!！?？]{0,10}(?:比较|最|更)?(?:好|靠谱|便宜|好吃)|推荐(?:一?下|个|一个)|有什么好的"
)
# ... unless the property, its staff or its charges are named.
_PROPERTY_WORDS = re.compile(
    r"物业|物管|管理处|管理费|管家|师傅|维修|保安|保洁|客服|前台|小区(?:的)?(?:门|路|车|电梯|绿化)|楼道|电梯|停车|车位|费|"
    r"地库|车库|积水|漏|排水|水管"
)
OUT_OF_SCOPE_FROM = frozenset(
    {"request_visitor_pass", "inform", "nlu_fallback", "check_status", "file_complaint", "report_repair"}
)

# -- a "yes" that points (对对 就是东门那个, 系呀 就是那个单位): agreeing, not telling anything new --
_YES_AT_START = re.compile(r"^(?:对头|要得|对|是|嗯|系|好|没错)[对是嗯系好的啊呀哦,，。.!！\s]*")
_POINTS_AT = re.compile(
    r"^(?:就是|是|就系)?(?:那个|这个|那|这|嗰个|我家|我们家|东门|西门|南门|北门|那间|那户|那栋|这栋)[^\d]{0,6}$"
)
AFFIRM_FROM = frozenset({"inform", "check_status", "nlu_fallback"})
# -- one's own phone given, and when to call (我的电话是 139…, 晚上才有空听): information -----------
_OWN_PHONE = re.compile(r"(?:我的?|我家|本人)(?:的)?(?:电话|手机|号码|联系方式)(?:号码)?(?:是|系|:|：)?\s*1\d{10}")
PHONE_GIVEN_FROM = frozenset({"report_repair", "check_status", "nlu_fallback", "request_human"})
# -- a visit asked to be scheduled for a new fault (师傅啥时候能来瞅瞅): the repair -----------------
_WHEN_CAN_YOU_COME = re.compile(r"(?:师傅|人|你们)?(?:啥时候|什么时候|几点|哪天)(?:能|可以|方便)(?:来|过来|上门)")

# -- a "no" explained (不是的 我没有报过修): a denial, however the explanation is read -------------
_NO_AT_START = re.compile(
    r"^(?:(?:啊|嗯|呃|哦|噢)\s*)?(?:不是|不对|没有|不用|不要|唔系|唔是|冇)(?:的|啊|呀|哦|喔|啦|吧)?[,，。.!！\s]+"
)
_SELF_DENIAL = re.compile(r"^(?:我们家|我家|我们|我)?(?:没有?|未|不是|并没有?|从来没有?|冇)")
DENY_FROM = frozenset({"check_status", "inform", "nlu_fallback"})

# -- done with: a visit no longer needed (不用来了, 师傅别来了): a cancellation, thanks or not ----
_NO_LONGER_NEEDED = re.compile(
    r"(?:不用|不要|别|无需|不需要|没必要|不使)(?:再)?(?:派人|派师傅)?(?:来|过来|上门|派人|派师傅|修)(?:修|看)?"
    r"(?=[了啦喇啊咯呀吧哈,，。.!！\s]|$)"
)
# ... unless another time is asked for (今天不用来了 改明天), or a fix another way (不用修了 换个新的).
_ANOTHER_TIME = re.compile(
    r"改(?:[今明后]天|下周|下星期|周[一二三四五六日末]|天|到|成|在|时间|约)|换(?:个)?时间|[明后]天再|下次再|[明后]天(?:上午|下午|晚上)?(?:再)?来"
)
CANCEL_FROM = frozenset({"check_status", "thank", "inform", "nlu_fallback", "report_repair", "chase_ticket"})
# Asked to cancel in so many words (明天的访客登记请取消, 帮我把报修撤销掉): what was booked is named.
_CANCEL_THIS = re.compile(
    r"(?:登记|预约|访客|通行证?|访客码|邀请码|报修|工单|申请|单子?|那单)[^。!！?？]{0,6}"
    r"(?:请|帮我|麻烦|要|想|给我)?(?:取消|撤销|撤回|作废|(?i:cancel))(?!了[吗没么]|[吗么]|的)|"
    r"(?:请|帮我|麻烦|我要|我想|要|想)(?:把|将)?[^。!！?？]{0,12}(?:取消|撤销|撤回|作废)(?:掉|了)?(?:吧|啦)?(?=[,，。.!！\s]|$)|"
    # 刚那个报修撤了吧
    r"(?:登记|预约|访客|报修|工单|申请|单子?)[^。!！?？]{0,3}撤(?:了|掉)(?:吧|啦)"
)
# ... not asked about (怎么被取消了, 为什么撤销), nor one cancelled by someone else
_CANCEL_ASKED_ABOUT = re.compile(
    r"被(?:取消|撤销|撤回|作废)|为什么|怎么|咋|谁|[?？]|你们(?:把|给|就|竟然|居然)|凭什么|过分|擅自"
)
CANCEL_THIS_FROM = frozenset(
    {"request_visitor_pass", "check_status", "inform", "nlu_fallback", "report_repair", "file_complaint"}
)

# -- a complaint said to be one (我是要投诉, 我不是催 是投诉): over a past ticket named in it -----
_MEANS_A_COMPLAINT = re.compile(
    r"(?:我|我们)(?:是|现在|这次|今天|就是)?(?:要|想)(?:去)?(?:投诉|举报)(?!的)|不是催.{0,6}(?:是|要).{0,3}投诉|"
    r"表示(?:强烈|极度|十分|非常)?不满|强烈不满"
)
# A threat that depends on what happens next (不然我要投诉): the message is about that, not this.
_IF_NOT = re.compile(r"不然|否则|再不|如果|要是|的话|再这样")
SAYS_COMPLAINT_FROM = frozenset(
    {"check_status", "chase_ticket", "inform", "nlu_fallback", "report_repair", "request_human", "ask_fee"}
)
# repair and visitor pass: only for a car in my space or rubbish nobody collects, with no fault named
COMPLAINT_FROM = frozenset({"check_status", "nlu_fallback", "report_repair", "request_visitor_pass", "request_human"})
# Not chase_ticket: "快点派人来修" is a chase by the contract (impatience), and the chase action
# registers a repair when nothing is open (actions/chase.py).
NEW_REPAIR_FROM = frozenset({"check_status", "inform", "nlu_fallback", "deny"})
GOODBYE_FROM = frozenset({"inform", "nlu_fallback", "affirm"})
ANOTHER_MATTER_FROM = frozenset({"check_status", "chase_ticket", "inform", "nlu_fallback"})
# A false alarm told with its reason (烟感响了 是我炒菜呛的 没着火 跟你们说一声) only informs: once the
# emergency reading is gone, the model's leftovers (cancel, deny, affirm at ~0) are no reading at all,
# and a "thank" or a "cancel" the words do not say is a guess at the tone. An owner who says to call
# it off (不用来了, 取消) keeps the model's cancel, one who thanks keeps its thanks.
INFORM_FROM = frozenset({"cancel", "deny", "affirm", "thank", "nlu_fallback", "out_of_scope", "greet"})
_CALLS_OFF = re.compile(r"取消|撤销|不用来|别来|不用派|不用过来|算了")


# -- a fault back after an earlier complaint, and a visit asked for now (上次投诉过楼上漏水 现在又渗了
# 派人来看看): a new repair, whatever the model made of the history told first -----------------
_CAME_BACK = re.compile(r"又(?:开始|在)?(?:漏|渗|滴|坏|堵|响|不|裂|掉|停|冒)|(?:现在|这回|这次|最近)又|又开始")
_VISIT_ASKED = re.compile(
    r"(?:派|叫|找|请)(?:个|一个)?(?:懂行的|专业的)?(?:人|师傅|电工|水电工)(?:来|过来|上门)?(?:看|修|查|处理|弄)?|"
    r"(?:来|过来|上门)(?:人|个人)?(?:看看|看一?下|看吓|修一?下|查一?下|处理一?下)|(?:给|帮)(?:我|我们)?(?:看看|看一?下|修一?下)"
)
# A complaint made about the owner (楼下已经上来投诉了): the neighbour's, not the owner's grievance.
_COMPLAINED_OF = re.compile(
    r"(?:楼下|楼上|邻居|隔壁|对门|人家|他们)[^。!！?？]{0,6}投诉(?:了|过)?(?:我|我们)?|被(?:人|邻居|楼下|楼上)?投诉"
)
RECURRED_FROM = frozenset({"file_complaint", "check_status", "chase_ticket"})

# -- a visit announced: someone coming, and when (清洁公司明早九点来 三个人 车牌…; 后天有装修工人来我家;
# 带个看房的客户进去 三点): a visitor pass, when the model heard a complaint or only information --
_SOMEONE = (
    r"(?:朋友|亲戚|客人|客户|访客|同学|同事|家人|父母|阿妈|阿爸|我妈|我爸|老妈|老爸|婆婆|公公|岳父|岳母|丈母娘|"
    r"爷爷|奶奶|外公|外婆|姥姥|姥爷|儿子|女儿|孙子|孙女|保姆|阿姨|"
    r"工人|师傅们|装修(?:工人?|队|师傅)|搬家(?:公司|的)|清洁(?:公司|工|阿姨)|(?:叫|请|约|订)了?(?:个|一个)?(?:保洁|钟点工)(?:阿姨|员)?|家政|送货的|"
    r"送(?:家具|家电|煤气罐?)的|(?:修|装|清洗|安装)[^。!！?？]{1,5}的(?:师傅|人|工人)?|"
    r"(?:空调|冷气|网络|宽带|燃气|家电|水电|装修|维修|搬家|开锁)师傅)"
)
_COMES = r"(?:来|过来|进来|进去|上来|上门|到|回来|来住|过来住)"
_WHEN_COMING = (
    r"(?:今天|明天|后天|今晚|明早|听朝|周[一二三四五六日末]|星期[一二三四五六日天]|礼拜[一二三四五六日天]|"
    r"上午|下午|晚上|中午|早上|\d{1,2}点|[一二三四五六七八九十两]+点|几天)"
)
_VISIT_ANNOUNCED = re.compile(
    r"(?i:\b(?:friends?|guests?|visitors?|mother|father|mum|mom|dad|parents|relatives?|cleaner|driver)\b"
    r"[^。!！?？]{0,30}\b(?:visit|visiting|come|coming|arrive|arriving)\b|let (?:him|her|them) in)|"
    r"(?:家具|家电|货|东西|冰箱|沙发|床垫)(?:要|会)?送(?:来|过来|到|上门)|货车[^。!！?？]{0,8}(?:到|来|进)|"
    rf"{_SOMEONE}[^。!！?？]{{0,16}}(?<![没不]){_COMES}|{_COMES}[^。!！?？]{{0,4}}{_SOMEONE}|带(?:个|几个|两个|一个)?[^。!！?？]{{0,6}}{_SOMEONE}"
)
_WHEN_COMING_RE = re.compile(
    _WHEN_COMING + r"|(?i:\btomorrow\b|\btonight\b|\btoday\b|this (?:morning|afternoon|evening)|\d{1,2}\s?(?:am|pm)\b)"
)
_SOMEONE_RE = re.compile(_SOMEONE)
_PLATE_OR_CARD = re.compile(
    r"车牌|[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z]|门卡|门禁卡|通知(?:一下)?(?:保安|门岗|门卫)|放行"
)
PASS_FROM = frozenset({"inform", "file_complaint", "nlu_fallback"})

# -- a fault and when someone is home for the visit (冷气不冻 明天下午有人在; 能约个师傅周末来吗): the
# repair, not a pass for the repairman ---------------------------------------------------------
_HOME_FOR_THE_VISIT = re.compile(
    r"(?:点|后|前|上午|下午|晚上|中午|全天|周末|整天|都|下昼|上昼|晏昼)(?:以后|之后)?(?:家里)?有人(?:在家|在)?|有人在家|"
    r"约(?:个|一下)?(?:师傅|时间)|(?:师傅|人)(?:周末|明天|后天|今天|下午|上午|晚上)?(?:能|可以)?(?:来|上门)(?:吗|吧|么)?"
)
_VISITOR_NAMED = re.compile(rf"{_SOMEONE}|访客|来访|车牌|开车|放行|通行|门卡")

# -- only a phone number (13570216688, 电话 139…): the owner answering "your phone?" ---------------
_ONLY_A_PHONE = re.compile(r"^(?:我的?)?(?:电话|手机|号码|联系电话)?(?:号码)?(?:是|:|：)?\s*1\d{10}\s*$")
ONLY_PHONE_FROM = frozenset(
    {"goodbye", "greet", "affirm", "deny", "thank", "nlu_fallback", "out_of_scope", "check_status"}
)

# -- a correction (不对 是5单元, 不对不对 是3单元 501): what the owner meant, told, not a "no" ---------
_CORRECTION = re.compile(
    r"(?:不对|不是|错了|[说写打]错了?|搞错了?)(?:不对|不是)*[,，\s]*(?:房号|门牌|楼号|地址|号码)?(?:是|应该是|应该|改成)\s*\d+"
    r"(?:号楼|号|栋|幢|座|单元|门|室|楼|层)?|"
    # said with both numbers (是1502 不是1052, 503 不是 502 是503)
    r"\d{3,4}\s*[,，]?\s*(?:不是|并不是)\s*\d{3,4}|(?:不是|不对)\s*\d{3,4}\s*[,，]?\s*(?:是|应该是)\s*\d{3,4}|"
    # the number again, the slip owned (1502室 刚才打错了)
    r"\d{3,4}[^\d。!！?？]{0,8}?(?:打错|写错|输错|发错)了?"
)

CORRECTION_FROM = frozenset({"out_of_scope", "nlu_fallback", "check_status"})
# -- a greeting and nothing else (大家好, 早上好呀): a greeting -----------------------------------
_GREETING_ONLY = re.compile(
    r"^(?:大家|各位|你们|您|你)?(?:好|早上好|上午好|下午好|晚上好|早安|早)(?:呀|啊|哈|哦|喔)?[!！~～。.\s]*$|^(?i:hi|hello|hey)[!！~～。.\s]*$"
)
GREET_FROM = frozenset({"inform", "nlu_fallback", "out_of_scope"})
_MANAGER_OUT = re.compile(
    r"(?:让|叫|请)(?:你们)?(?:的)?(?:经理|主管|领导|负责人|老板)(?:出来|过来|来)(?:跟我)?(?:说|讲|谈|解释|处理|接电话|见我)?"
)
MANAGER_FROM = frozenset({"check_status", "inform", "nlu_fallback", "file_complaint"})
# -- a machine's noise (空调外机嗡嗡震 吵得睡不着) with a look asked for: a repair, not the neighbours --
_MACHINE_NOISE = re.compile(
    r"(?:空调外机|外机|空调|水泵|风机|排风扇|抽风机|冷却塔|变压器|电梯|热水器|冰箱)[^。!！?？]{0,10}"
    r"(?:嗡嗡|轰轰|隆隆|震|响|吵|噪音|异响)"
)
# -- another matter than the one rung about before (不是那个事 是另外一个事): told as news -----------
_ANOTHER_MATTER = re.compile(r"另外(?:一个|一件)?(?:的)?事|另一(?:个|件)事|别的事|不是那个事")
# -- a complaint made before, asked about (我上礼拜反映的楼道堆杂物的事 怎么样了): its status --------
_MATTER_ASKED_ABOUT = re.compile(r"(?:反映|投诉|报|说)(?:过)?的[^。!！?？]{0,16}(?:事|问题|情况)")
# -- an inspection asked for (请你们检查下燃气管道): a repair visit, whether anything is broken yet ---
_INSPECTION = re.compile(r"检查|检修|查查|查一下|看一?下|看看")
_ASKED_POLITELY = re.compile(r"请|麻烦|帮")  # 想请你们…, 麻烦…: the visit is asked for
_FIXTURE = re.compile(r"管道|管子|线路|电路|电线|燃气|煤气|天然气|水管|下水|电箱|电梯|门禁|热水器|阀门|水表|电表")
# -- someone one booked oneself coming, named (师傅叫马强 电话…, 保洁叫刘芳): a pass ----------------
_VISITOR_NAME = re.compile(r"(?:叫|姓)[\u4e00-\u9fff]{1,3}|电话|手机|车牌")
# -- one's name given (我姓林 双木林, 我叫陈秀芳): information, whatever the model heard -------------
_NAME_GIVEN = re.compile(r"(?:我|本人)(?:的名字)?(?:姓|叫|是)\s*[\u4e00-\u9fff]|(?:名字|全名)(?:是|叫)")
NAME_GIVEN_FROM = frozenset({"request_human", "nlu_fallback", "out_of_scope", "check_status", "file_complaint"})


def _only_tells(text: str) -> bool:
    """Short, and nothing asked for, broken, wanted from a person or complained of."""
    return (
        len(text) <= 30
        and not _ASKING.search(text)
        and not reports_a_fault(text)
        and not _WANTS_A_PERSON.search(text)
        and not complains_about_people(text)
    )


# -- not the property's business: papers from the government, a wrong number ------------------
_GOVERNMENT_PAPERS = re.compile(
    r"上(?:小学|初中|幼儿园)|入学|学区|学位|划片|老年证|身份证|户口|居住证|暂住证|结婚证|出生证|准生证|社保卡|医保卡|低保|残疾证|护照|港澳通行证|核酸|疫苗|选民"
)
_WRONG_NUMBER = re.compile(
    r"是(?:那个)?(?:派出所|医院|人社局|社保局|税务局|公安局|交警队|燃气公司|煤气公司|电力公司|供电局|自来水公司|银行|快递公司?|出租车公司)(?:吗|吧|啊)|"
    r"(?<!\d)(?<!室)(?<!号)打错(?:了|电话)|发错(?:人|群|地方)了?|是.?医生(?:吗|吧)|挂[^。!！?？]{0,6}的号|^(?:不好意思\s*[,，]?\s*)?发错了(?:[\s,，。!！]*(?:不好意思|sorry|抱歉))?[\s。!！]*$|找错(?:人|地方)了|^(?:你好|您好|喂)?\s*[,，]?\s*是.?老板(?:吗|吧|啊)|不是(?:物业|你们)(?:啊|呀|吗)?(?:那)?(?:打错)"
)
# A message meant for the family (妈 晚上我不回来吃饭了): sent to the wrong chat.
_TO_FAMILY = re.compile(
    r"^(?:妈|爸|老妈|老爸|老婆|老公|媳妇|宝贝|儿子|闺女|孙子|奶奶|爷爷)\s*[,，\s][^。!！?？]{0,12}(?:吃饭|回来|回家)"
)
_FOR_US = re.compile(r"登记|放行|通行|帮|麻烦|请")
WRONG_PLACE_FROM = frozenset(
    {"deny", "greet", "inform", "nlu_fallback", "affirm", "request_visitor_pass", "check_status"}
)

# -- a repair badly done (这也叫修好了, 修了等于没修, 把地砖敲碎了), a neighbour's noise, staff asleep
# or on their phones at work: complaints, whatever fault or fee is told beside them -------------
_BADLY_DONE = re.compile(
    r"这也叫修好|(?:修|整|弄|搞)了等于没(?:修|整|弄|搞)|越修越(?:坏|糟|差)|糊弄|敷衍了事|应付了事|偷工减料|"
    r"(?:修|整|弄|换)(?:好|完)了?(?:之后|以后)?[^。!！?？]{0,8}?(?:还|又|仍然?)(?:是)?(?:漏|渗|坏|堵|不通|不亮)|这叫修好|"
    r"留(?:了|下)?(?:个|一个)?大?(?:洞|坑)|比(?:修)?(?:原来|之前|以前)(?:还|更)(?:严重|厉害|差|大)|"
    r"(?:把|给)[^。!！?？]{0,8}砸(?:了|出)?(?:一个|个)?大?(?:洞|坑)|(?:把|给)[^。!！?？]{0,8}(?:敲碎|弄坏|弄脏|砸坏|搞坏|弄碎)|不关他的?事"
)
BADLY_DONE_FROM = frozenset({"check_status", "report_repair", "out_of_scope", "ask_fee", "nlu_fallback"})
_NOISE = re.compile(
    r"狗[^,，。!！?？]{0,4}叫|吵|噪音|扰民|拖椅子|拖凳子|拖櫈|打麻(?:将|雀)|跳来跳去|弹钢琴|弹琴|唱歌|广场舞"
)
_STAFF_MISCONDUCT = re.compile(
    r"(?:保安|保全|门卫|管理员|前台|客服|管家)[^。!！?？]{0,10}(?:睡觉|打瞌睡|玩手机|刷手机|滑手机|打牌|不在岗|脱岗)|"
    # taking money or favours to let people in (保安收外卖员的钱才放进来)
    r"(?:保安|保全|门卫|门岗|管理员)[^。!！?？]{0,4}(?:收|要|拿)(?:了)?[^。!！?？]{0,8}(?:钱|块|元|红包|好处|小费|烟)|"
    r"(?:保安|保全|门卫|门岗|管理员|前台|客服|管家)[^。!！?？]{0,16}(?:没礼貌|不礼貌|好凶|好恶|很凶|骂人|吼人)"
)
MISCONDUCT_FROM = frozenset(
    {"ask_fee", "check_status", "inform", "request_human", "nlu_fallback", "report_repair", "request_visitor_pass"}
)

# -- a ticket named and asked about in so many words (问一下 20261102-0017 这个单) -----------------
_ASKS_ABOUT = re.compile(r"问一?下|查一?下|看一?下|想问|请问|帮我查|帮忙查")

# -- an issue raised (我想反映个事儿 …): a complaint, over a status check or a bare story ----------
_RAISES_AN_ISSUE = re.compile(r"(?:我|我们)?(?:想|要)(?:跟你们)?反[映应](?:个|一个|一下|下)?(?:事|问题|情况)")
RAISES_FROM = frozenset({"check_status", "inform", "nlu_fallback"})

# -- a fund on the bill, asked what it is (这张单有个特别维修基金 是什么来的): a fee question ---------
_WHAT_IS_IT = re.compile(r"是什么|是啥|什么来|干什么用|干嘛用|做什么用|什么意思|咩")


# A space between Chinese characters: a call's pause, or a word boundary to someone who writes
# Mandarin as a second language (我 家 的 灯 坏 报 了 师傅 没来 三天 了).
_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff])[ \u3000]+(?=[\u4e00-\u9fff])")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def without_word_spaces(text: str) -> str:
    """``text`` without the spaces between Chinese characters when nearly every word is spaced
    (one gap for every three characters at least): the cues' phrases are written unspaced, and such
    a writer's spaces are word boundaries, not pauses. A call's pauses between phrases (喂 我家
    厨房的水管 漏了) are fewer, and that text is read as it is."""
    gaps = len(_CJK_GAP.findall(text))
    if gaps >= 6 and gaps * 3 >= len(_CJK.findall(text)):
        return _CJK_GAP.sub("", text)
    return text


def corrected_intent(text: str, current: str | None) -> str | None:
    """The intent the owner's explicit words give, when the model's ``current`` reading is one
    they are known to be confused with; None to keep the model's."""
    text = without_word_spaces(text)
    if current in ONLY_PHONE_FROM and _ONLY_A_PHONE.match(text):
        return "inform"
    if current == "deny" and _CORRECTION.search(text):
        return "inform"
    if (
        current in CORRECTION_FROM
        and _CORRECTION.search(text)
        and not reports_a_fault(text)
        and not _ASKING.search(text)
    ):  # 是1502 不是1052 刚打错了: the answer put right, not an unrelated message
        return "inform"
    if current in MANAGER_FROM and _MANAGER_OUT.search(text) and not reports_a_fault(text):
        return "request_human"  # 让你们经理出来说句话: a person with authority, not a status check
    if current in GREET_FROM and _GREETING_ONLY.match(text):
        return "greet"
    if current in NAME_GIVEN_FROM and _NAME_GIVEN.search(text) and _only_tells(text):
        return "inform"  # 我姓林 双木林 叫林秀英: answering "your name?", not asking for anyone
    if current in WRONG_PLACE_FROM and _WRONG_NUMBER.search(text) and not reports_a_fault(text):
        return "out_of_scope"
    if (
        current in WRONG_PLACE_FROM
        and _TO_FAMILY.search(text)
        and not _FOR_US.search(text)
        and not _PROPERTY_WORDS.search(text)
        and not reports_a_fault(text)
    ):
        return "out_of_scope"
    if (
        current in CANCEL_FROM
        and _NO_LONGER_NEEDED.search(text)
        and not _STILL_WRONG.search(text)
        and not _ANOTHER_TIME.search(text)
        and not (reports_a_fault(text) and _ASKS_TO_REPORT.search(text))
    ):
        return "cancel"
    if (
        current in CANCEL_THIS_FROM
        and _CANCEL_THIS.search(text)
        and not _CANCEL_ASKED_ABOUT.search(text)
        and not _BILLING_ERROR.search(text)
        and not _ANOTHER_TIME.search(text)
    ):
        return "cancel"
    if current in DENY_FROM and _denies_and_explains(text):
        return "deny"
    if current in AFFIRM_FROM and _agrees_and_points(text):
        return "affirm"
    if (
        current in PHONE_GIVEN_FROM
        and _OWN_PHONE.search(text)
        and not reports_a_fault(text)
        and not _ASKS_TO_REPORT.search(text)
        and not _ASKS_PROGRESS.search(text)
        and not _WANTS_A_PERSON.search(text)
    ):
        return "inform"
    if (
        current == "check_status"
        and _WHEN_CAN_YOU_COME.search(text)
        and reports_a_fault(text)
        and not _REPORTED.search(text)
        and not _NOTHING_SINCE.search(text)
        and not _NAMES_A_TICKET.search(text)
    ):  # a new fault and when someone can come: asking for the visit, not about one arranged
        return "report_repair"
    if current in OUT_OF_SCOPE_FROM and _not_our_business(text):
        return "out_of_scope"
    if (
        current == "file_complaint"
        and _MACHINE_NOISE.search(text)
        and (_ASKS_TO_REPORT.search(text) or _VISIT_ASKED.search(text))
        and not complains_about_people(_MACHINE_NOISE.sub(" ", _NOISE.sub(" ", text)))
    ):  # 空调外机一开就嗡嗡震 吵得睡不着 派师傅看一眼: the machine's noise, a repair
        return "report_repair"
    if current in ANOTHER_MATTER_FROM and (m := _ANOTHER_MATTER.search(text)) and _new_fault(text[m.end() :]):
        return "report_repair"  # 昨天打过电话 不是那个事 是另外一个事 推拉门轨道掉了: news after all
    if (
        current == "file_complaint"
        and _MATTER_ASKED_ABOUT.search(text)
        and _ASKS_PROGRESS.search(text)
        and not _NOTHING_SINCE.search(text)
        and not _URGES.search(text)
        and not _SAYS_COMPLAINT.search(_MATTER_ASKED_ABOUT.sub(" ", text))
    ):  # 我上礼拜反映的楼道堆杂物的事 怎么样了: how it stands, not a new grievance
        return "check_status"
    if (
        current in ("nlu_fallback", "check_status", "inform")
        and _INSPECTION.search(text)
        and _FIXTURE.search(text)
        and (_ASKS_TO_REPORT.search(text) or _ASKED_POLITELY.search(text))
        and not _REPORTED.search(text)
        and not _ASKS_PROGRESS.search(text)
        and not _NAMES_A_TICKET.search(text)
    ):  # 想请你们检查下燃气管道 没有味道: a visit asked for, nothing broken yet
        return "report_repair"
    if (
        current == "report_repair"
        and _VISIT_ANNOUNCED.search(text)
        and _WHEN_COMING_RE.search(text)
        and _VISITOR_NAME.search(text)
        and not reports_a_fault(text)
        and not _ASKS_TO_REPORT.search(text)
    ):  # 周六有修热水器的来 师傅叫马强 电话…: one's own tradesman at the gate, a pass
        return "request_visitor_pass"
    if (
        current == "ask_fee"
        and reports_a_fault(text)
        and (_ASKS_TO_REPORT.search(text) or _COME_TO_FIX.search(text) or _ALSO.search(text))
        and not _FEE_FIRST.search(text)
        and not _BILLING_ERROR.search(text)
        and not _FEE_IN_VAIN.search(text)
        and not complains_about_people(text)
        and not _URGES.search(text)
        and _PROPERTY_CHARGES.search(text)
    ):  # 物业费是不是这个月交 还有就是门铃不响了 来修一下: a fee question and a fault, the fault acted on
        return "report_repair"
    if (
        current == "ask_fee"
        and reports_a_fault(text)
        and (_ASKS_TO_REPORT.search(text) or _COME_TO_FIX.search(text))
        and _COST_OF_A_VISIT.search(text)
        and not _PROPERTY_CHARGES.search(text)
        and not _BILLING_ERROR.search(text)
    ):  # the repair wanted, and its price asked in passing
        return "report_repair"
    if (
        current in SAYS_COMPLAINT_FROM
        and _MEANS_A_COMPLAINT.search(text)
        and not _IF_NOT.search(text)
        and not _ASKS_PROGRESS.search(text)
        and not (current == "request_human" and _WANTS_A_PERSON.search(text))
    ):
        return "file_complaint"
    if (
        current in RAISES_FROM
        and _RAISES_AN_ISSUE.search(text)
        and not reports_a_fault(text)
        and not _ASKS_PROGRESS.search(text)
        and not _NAMES_A_TICKET.search(text)
    ):  # 我想反映个事儿 师傅修完了收了我二百: an issue raised, not a question about a ticket
        return "file_complaint"
    if (
        current in ("inform", "nlu_fallback")
        and find_tickets(text)  # ours or an external system's, as the extractor reads them
        and _ASKS_ABOUT.search(text)
        and not reports_a_fault(text)
        and not _URGES.search(text)
    ):
        return "check_status"
    if (
        current == "check_status"
        and _FUND.search(text)
        and _WHAT_IS_IT.search(text)
        and not _ASKS_PROGRESS.search(text)
    ):
        return "ask_fee"  # 这张单有个特别维修基金 是什么来的: the bill, not a ticket
    if (
        current in RECURRED_FROM
        and _CAME_BACK.search(text)
        and _VISIT_ASKED.search(text)
        and reports_a_fault(text)
        and not _URGES.search(text)
        and not _WHEN.search(text)
        and not _ASKS_PROGRESS.search(text)
        and not _NAMES_A_TICKET.search(text)
    ):  # 上次投诉过楼上漏水 现在又渗了 派人来看看: the fault is back, and a visit asked for now
        return "report_repair"
    if current in BADLY_DONE_FROM and _BADLY_DONE.search(text) and not _ASKS_TO_REPORT.search(text):
        return "file_complaint"  # 师傅把地砖敲碎了 这也叫修好了?: how it was done, not a new fault
    if current in MISCONDUCT_FROM and _STAFF_MISCONDUCT.search(text) and not _WANTS_A_PERSON.search(text):
        return "file_complaint"
    if (
        current in ("report_repair", "chase_ticket")
        and _NOISE.search(text)
        and not reports_a_fault(_NOISE.sub(" ", text))  # 狗半夜叫 is no alarm that sounds
        and not _NAMES_A_TICKET.search(text)
    ):  # 楼下的狗天天半夜叫 说了好几次都没用: the neighbours, not a fault, however often told
        return "file_complaint"
    fee_reading = _money_reading(text, current)
    if fee_reading:
        return fee_reading
    if (
        current == "ask_fee"
        and _URGES.search(text)
        and reports_a_fault(text)
        and not _PROPERTY_CHARGES.search(text)
        and not _BILLING_ERROR.search(text)
    ):  # 第二次发短信了 厕所还是堵的: urged in so many words, and no fee in it
        return "chase_ticket"
    if (
        current == "thank"
        and (_GRIEVANCE_RE.search(text) or _FEE_IN_VAIN.search(text) or _SARCASM.search(text))
        and not _RESOLVED.search(text)
    ):  # 物业真是辛苦了 垃圾三天没人收 这物业费交得真值: thanks said in scorn
        return "file_complaint"
    if (
        current == "cancel"
        and urges_an_earlier_request(text)
        and not _NO_LONGER_NEEDED.search(text)
        and not _CALLS_OFF.search(text)
    ):  # 单子搞了半个月了 没得一个人来 是不是搞忘记了: urging, not calling it off
        return "chase_ticket"
    if current in CHASE_FROM and urges_an_earlier_request(text):
        said_now = _PAST_COMPLAINT.sub("", text)  # a complaint made before is what is chased
        if (
            not _SAYS_COMPLAINT.search(said_now)
            and not (
                current == "file_complaint"
                and complains_about_people(said_now)
                and not (_URGES.search(text) and _NAMES_A_TICKET.search(text))
            )  # a grievance that recurs (第三次问了 TS000421: urging its ticket, a chase)
            and not (current == "check_status" and _ASKS_PROGRESS.search(text) and not _URGES.search(text))
            and not (current == "request_visitor_pass" and _VISITOR_NAMED.search(text))
        ):
            return "chase_ticket"
    if (
        current not in ("file_complaint", "chase_ticket", "request_human", "report_emergency")
        and _HANDLING_RE.search(text)
        and not reports_a_fault(text)
        and not _ASKS_PROGRESS.search(text)
    ):  # how something was handled (上周电梯困人 你们来得太慢): whatever the model heard around it
        return "file_complaint"
    if (
        current in REPAIR_FROM
        and reports_a_fault(text)
        and not complains_about_people(_NOISE.sub(" ", text) if _MACHINE_NOISE.search(text) else text)
    ):  # 水泵坏了 吵得睡不着: the machine's noise is the fault's, nobody is blamed
        return "report_repair"
    if (
        current == "file_complaint"
        and _COMPLAINED_OF.search(text)
        and reports_a_fault(text)
        and _ASKS_TO_REPORT.search(text)
        and not complains_about_people(_COMPLAINED_OF.sub(" ", text))
    ):  # 空调滴水到楼下 楼下已经上来投诉了 想找人来修: my fault, complained of by others
        return "report_repair"
    if current in THANK_FROM and thanks_only(text):
        return "thank"
    if current in OFFICE_FROM and asks_for_the_office(text):
        return "request_human"
    if (
        current in REPORT_FROM
        and _ASKS_TO_REPORT.search(text)
        and reports_a_fault(text)
        and not _REPORTED.search(text)
        and not _ASKS_PROGRESS.search(text)
        and not complains_about_people(_request_part(text))
        and not (current == "request_human" and _WANTS_A_PERSON.search(text))
    ):
        return "report_repair"
    if (
        current in CALL_ME_FROM
        and _CALL_ME.search(text)
        and not reports_a_fault(text)
        and not (current == "report_repair" and (_ASKS_TO_REPORT.search(text) or _COME_TO_FIX.search(text)))
    ):
        return "request_human"
    if current in STATUS_FROM and _NAMES_A_TICKET.search(text) and _ASKS_PROGRESS.search(text):
        return "check_status"
    if (
        current in COMPLAINT_FROM
        and complains_about_people(text)
        and (
            current not in ("report_repair", "request_visitor_pass")
            or (_GRIEVANCE_RE.search(text) and not reports_a_fault(text))
        )
        and not _SAYS_COMPLAINT.search(text)  # "我的投诉处理了吗": a complaint made before, asked about
        and not _ASKS_PROGRESS.search(text)
        and not _NAMES_A_TICKET.search(text)
        and not _REPORTED.search(text)
        and not (current == "request_human" and _WANTS_A_PERSON.search(text))
    ):
        return "file_complaint"
    if current == "request_visitor_pass" and _new_fault(text) and not _PASS_WORDS.search(text):
        return "report_repair"
    if (
        current == "request_visitor_pass"
        and reports_a_fault(text)
        and _HOME_FOR_THE_VISIT.search(text)
        and not _VISITOR_NAMED.search(text)
        and not _REPORTED.search(text)
        and not complains_about_people(_HOME_FOR_THE_VISIT.sub(" ", text))  # 有人在 is someone home
    ):  # 冷气不冻 明天下午有人在: when the repairman can come, not a pass
        return "report_repair"
    if (
        current in PASS_FROM
        and _VISIT_ANNOUNCED.search(text)
        and (_WHEN_COMING_RE.search(text) or _PLATE_OR_CARD.search(text))
        and not reports_a_fault(text)
        and not complains_about_people(_SOMEONE_RE.sub(" ", text))
        and not _REPORTED.search(text)
        and not _ASKS_PROGRESS.search(text)
    ):  # 清洁公司明早九点来 车牌…: someone coming, and when
        return "request_visitor_pass"
    if current in NEW_REPAIR_FROM and _new_fault(text) and not (current == "deny" and _NO_AT_START.match(text)):
        return "report_repair"
    if (
        current in INFORM_FROM
        and only_tells_of_a_false_alarm(text)
        and not (current == "cancel" and _CALLS_OFF.search(text))
        and not (current == "thank" and _THANKS.search(text))
    ):
        return "inform"
    if current in GOODBYE_FROM and _GOODBYE.search(text) and not _ASKING.search(text) and not reports_a_fault(text):
        return "goodbye"
    return None


def only_tells_of_a_false_alarm(text: str, nothing_else: bool = False) -> bool:
    """A false alarm told with its reason (烟感响了 是炒菜呛的 没着火, 刚才的煤气味是锅烧干了 不是煤气
    跟你们说一声), and nothing asked for and nothing broken: the owner is only letting us know. With
    ``nothing_else``, no visit called off and no thanks either (those readings are the model's)."""
    return (
        false_alarm_explained(text)
        and not _ASKING.search(text)
        and not reports_a_fault(without_cooking(text))  # 烧焦的饭 is the reason, not a fault
        and not (nothing_else and (_CALLS_OFF.search(text) or _THANKS.search(text)))
    )


def _money_reading(text: str, current: str | None) -> str | None:
    """A fee message read by what it says of the money: a billing error with a demand, or a
    grievance with no question, is a complaint; the maintenance fund is a fee question even
    when the model heard a status check; social insurance is not the property's business."""
    if current in FEE_COMPLAINT_FROM and _BILLING_ERROR.search(text) and _PUT_RIGHT.search(text):
        return "file_complaint"
    if (
        current in FEE_COMPLAINT_FROM
        and _BILLING_ERROR.search(text)
        and _CHECK_IT.search(text)
        and not _SUSPECTED.search(text)
    ):
        return "file_complaint"
    if current in FEE_COMPLAINT_FROM and _FEE_IN_VAIN.search(text) and not _ASKS_PROGRESS.search(text):
        return "file_complaint"
    if current in RAISED_FROM and _RAISED_UNANNOUNCED.search(text) and not _ASKS_PROGRESS.search(text):
        return "file_complaint"  # 管理费涨了也不开会通知: how it was decided, not what it costs
    if (
        current in FEE_COMPLAINT_FROM | {"out_of_scope"}
        and _UNFAIR.search(text)
        and (_REFUSED.search(text) or _VERDICT.search(text))
    ):
        return "file_complaint"  # 凭什么一起摊 这钱我不认: refused as unfair, however it is asked
    if (
        current in FEE_COMPLAINT_FROM
        and _MONEY_WHERE.search(text)
        and _UNFAIR.search(text)
        and not re.search("公示|公开|账目", text)
    ):
        return "file_complaint"
    if (
        current == "ask_fee"
        and not _ASKS_ANYTHING.search(text)
        and (
            complains_about_people(text)
            or _UNFAIR.search(text)  # 收了我50 说是材料费 不合理
            or (_A_REPAIR_ASKED.search(text) and _NOTHING_SINCE.search(text))
        )
    ):
        return "file_complaint"
    if (
        current in ("check_status", "inform", "nlu_fallback", "out_of_scope")
        and _FUND.search(text)
        and _FUND_MONEY.search(text)
        and not _ASKS_PROGRESS.search(text)
        and not _NAMES_A_TICKET.search(text)
    ):
        return "ask_fee"
    if current == "ask_fee" and _STATE_SCHEMES.search(text) and not _PROPERTY_CHARGES.search(text):
        return "out_of_scope"
    if current == "ask_fee" and _SPACE_OR_RUBBISH_RE.search(text) and not _BILLING_ERROR.search(text):
        return "file_complaint"  # 我交了月租 车位还被占: the grievance, not the rent
    if (
        current == "report_repair"
        and _FUND.search(text)
        and _FUND_MONEY.search(text)
        and _ASKS_ANYTHING.search(text)
        and not _ASKS_TO_REPORT.search(text)
    ):  # 楼顶防水坏了 是不是得动维修基金: a question about the fund, the repair its occasion
        return "ask_fee"
    return None


# How much of a long call's end is its request: callers tell a story first (praise, an old
# complaint, background) and ask last, so a guard mentioned in passing is not a complaint.
REQUEST_CHARS = 40


def _denies_and_explains(text: str) -> bool:
    """A "no" that opens the message and an explanation about the owner that asks for nothing:
    不是的 我没有报过修, 不对 我们家没有订过. A "no" followed by a request (不是 我要报修) or a
    question (不是 我问的是进度) is that request."""
    m = _NO_AT_START.match(text)
    if m is None:
        return False
    rest = text[m.end() :]
    return (
        len(rest) <= 20
        and _SELF_DENIAL.match(rest) is not None
        and not _ASKING.search(rest)
        and not _ASKS_PROGRESS.search(rest)
        and not reports_a_fault(rest)
    )


def _agrees_and_points(text: str) -> bool:
    """A yes that opens the message and only points at what was said (对对 就是东门那个)."""
    m = _YES_AT_START.match(text)
    if not m or m.end() == len(text):
        return False
    rest = text[m.end() :].strip(" ,，。.!！")
    return _POINTS_AT.match(rest) is not None and not reports_a_fault(rest) and not _ASKING.search(rest)


def _not_our_business(text: str) -> bool:
    """The weather or a recommendation (附近哪家幼儿园好), with nothing of the property's named and
    nothing broken or complained of."""
    return (
        bool(
            _WEATHER.search(text)
            or _RECOMMENDATION.search(text)
            or _GOVERNMENT_PAPERS.search(text)
            or _SELLING.search(text)
            or _CITY_RULES.search(text)
            or _STATE_SCHEMES.search(text)
        )
        and not _PROPERTY_WORDS.search(text)
        and not reports_a_fault(text)
        and not complains_about_people(text)
    )


def _request_part(text: str) -> str:
    """The end of a message, where a long call puts its request."""
    return text[-REQUEST_CHARS:]


def _new_fault(text: str) -> bool:
    """A fault told as news: nothing says it was reported, asked about or there before, and nobody
    is blamed. A status check or a chase needs an earlier request; "地下车库的灯全黑了" has none."""
    return (
        reports_a_fault(text)
        and not _REPORTED.search(text)
        and not _NOTHING_SINCE.search(text)
        and not _URGES.search(text)
        and not _ASKS_PROGRESS.search(text)
        and not _NAMES_A_TICKET.search(text)
        and not _BEFORE.search(text)
        and not _WHEN.search(text)
        and not complains_about_people(text)
    )
