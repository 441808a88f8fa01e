"""Visitor names (张伟, 欧阳娜娜, 王先生) in Chinese text, without a trained tagger.

jieba glues a given name to the next word (张伟明/天, 李/明后天), so token-level
taggers learn misaligned spans. A Chinese name is a surname plus one or two
characters, so we try both lengths and keep the one followed by a boundary (a time
word, a visit verb, punctuation, the end). To stay clear of 马桶 or 高空坠物 a name
must follow a cue (朋友, 叫, 访客…), precede a visit verb, stand beside a phone number
(an SMS signed 王秀英 13600001111), or be the whole message.

Every character may start a name, so each candidate reads only a bounded stretch around it
(CONTEXT) and no pattern can match one stretch in many ways: linear time in the message.
"""

from __future__ import annotations

import re

COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
    "司徒",
    "夏侯",
    "长孙",
    "宇文",
    "澹台",
    "端木",
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕季裴霍涂成苗谷盛"
    "曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席"
    "卫米柏宗瞿桂佟臧闵苟邬边卞姬仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥班储栗"
    "燕楚鄢劳谌奚皮粟冼蔺闻厉伊仝郜阚朴盖练廉祖漆丰卿狄索宣晋容敬扈晁芮阙浦鹿薄邸雍辜羊裘亓邰赫杭况逯隆茹慕亢"
    "嵇湛宾戎勾茅呼揭尉冶斯束檀阴昝智幸奉植衡富尧闭区"
)
# Left out on purpose: surnames that are everyday words here (来, 楼, 单, 门, 明, 元, 修, 师…).
HONORIFICS = "先生|女士|小姐|太太|阿姨|叔叔|伯伯|大爷|大妈|奶奶|爷爷|师傅|老师|经理|主管|管家|主任|医生|护士|同学"
_CUE = re.compile(
    r"(朋友|亲戚|同事|同学|家人|客人|访客|来访人|来访者|业主|住户|表哥|表姐|表弟|表妹|堂哥|堂姐|哥哥|姐姐|弟弟|妹妹|"
    r"儿子|女儿|女婿|儿媳|孙子|孙女|父亲|母亲|爸爸|妈妈|岳父|岳母|公公|婆婆|舅舅|姑姑|阿姨|叔叔|老公|老婆|"
    r"保姆|钟点工|快递员|师傅|邻居|姓名|名字|名叫|叫做|叫|是|让|帮|给|登记|联络人|联系人|负责人|领头的|"
    r"姓[\u4e00-\u9fff])\s*[:：,，、]?\s*$"
)
_TIME_WORDS = (
    r"大后天|明天|今天|后天|今晚|明晚|昨天|下午|上午|中午|晚上|早上|傍晚|等会儿?|等下|一会儿?|待会儿?|马上|"
    r"下周.?|这周.?|本周.?|周.|星期.|礼拜.|\d+点半?|\d+:\d+(?!\d)"  # 11:111:1 is not two times
)
# How far a name's cues and visit verb may stand from it (李明|明天下午3点半|过来 is 9).
CONTEXT = 24
# What may follow a given name. A word starting *inside* a two-character given name
# (李娜|过来 read as 李娜过|来) is caught by trying the one-character name as well.
_BOUNDARY = re.compile(
    rf"(\s|$|[,，.。!！?？、;；)）~～]|{_TIME_WORDS}|月|号|\d|来|过来|会来|要来|到|进来|进|去|上门|拜访|来访|"
    r"到访|探望|看|送|取|的|和|跟|与|开车|车牌|坐|带|一起|他|她|是|先生|女士|大概|可能|预计|约|手机|电话|"
    r"吧|啊|呀|哈|登记|办|通行|进出|一下|需要|能|可以|同|开(?:个|着|辆|一辆|的|车))"
)
# A visit verb right after the name, past any time words (李明后天过来), marks a visitor.
_VISIT_VERB = re.compile(
    rf"^(?:\s|[,，]|{_TIME_WORDS})*(?:要|会|将|大概|可能|预计)?(?:来(?!越)|过来|到访|来访|拜访|上门|进来|到了?[\s,，。!！]|到$)"
)
# ...but only when the name opens a clause (not 我家马桶明天来人修吗).
_CLAUSE_END = re.compile(rf"(^|[\s,，.。!！?？、;；:：]|{_TIME_WORDS}|[点分半])\s*$")
# Everyday words that look like surname + given name.
_AND = re.compile(r"\s*(?:同|和|跟|与|及|、)\s*")
_NOT_NAMES = re.compile(
    r"^(钟点工|马桶|马上|麻烦|方式|高空|高层|方便|方向|金额|金属|石头|白天|白色|黄色|江边|安全|安装|安排|齐全|易燃|"
    r"谢谢|谢了|辛苦|程序|温度|温水|常常|常用|付款|付费|严重|毛病|章程|路灯|路面|车位|车库|车牌|项目|"
    r"曲线|苗木|华为|贾|成本|成功|成都|关门|关闭|包裹|包装|宁可|尚未|封闭|管道|管理|管家|费用|向下|叶子|"
    r"田地|范围|蒋|司机|司法|古老|宫|时候|武汉|孔|顾客|雷电|冷水|冷气|房东|房间|房子|房产|左边|左右|邱|颜色|万一|冷风|车号|车主|孙子|孙女|"
    # a verb and 起 before 来 (闻起来像塑料烧焦: how it smells, not 闻起 come to visit)
    r"闻起|看起|听起|想起|说起|用起|摸起|吃起|"
    r"查一下|查下|查查|查看|查询)"  # 帮查一下: asking a favour, 查 is no surname here
)
_NEXT_WORD = re.compile(
    rf"{_TIME_WORDS}|过来|会来|要来|进来|上门|登记|等|来(?=[\s,，。.!！]|$|看|找|玩|送|取|修|装|拜访|接)|"
    r"开(?=车|个|着|辆|一辆|的)"  # 同事叫陈浩开个黑色大众: the visitor drives in
)
# An SMS signed with a name beside the phone number (修一下窗户 王秀英 13600001111).
_PHONE_AFTER = re.compile(r"\s*(?:[,，:：]\s*)?(?:(?:(?:电话|手机)[:：]?|[:：])\s*)?1\d{10}(?!\d)")
_PHONE_BEFORE = re.compile(r"(?<!\d)1\d{10}\s*(?:[,，]\s*)?$")
# ... or beside the flat that closes it (抽油烟机不出风。李建国 15号楼1103).
_FLAT = (
    r"(?:\d{1,3}\s*(?:号楼|栋|幢|座)\s*(?:\d{1,2}\s*单元\s*)?(?:\d{3,4}\s*(?:室|号)?)?"
    r"|\d{1,3}-\d{1,2}-\d{3,4}|\d{1,3}-\d{3,4})"
)
_ADDRESS_AFTER = re.compile(rf"\s*(?:[,，:：]\s*)?{_FLAT}\s*[.。!！]?\s*$")
_SEPARATED = " ,，.。!！?？、;；:："
_HAN = r"[\u4e00-\u9fff]"
_WHOLE_NAME = re.compile(rf"(?:{'|'.join(COMPOUND_SURNAMES)}|[{SURNAMES}])(?:{HONORIFICS}|{_HAN}{{1,2}})")
_SURNAME_AT = re.compile(rf"{'|'.join(COMPOUND_SURNAMES)}|[{SURNAMES}]")
# A given name never starts with a particle or an adverb: 帮查下 asks to check, 分钟都没来 waits.
_NOT_GIVEN_START = re.compile(r"[下了的吗吧啊呢呀么嘛哈哦啦都也就还又再很太不没]")
# A surname character that ends the word before it (廿分钟, 三点钟) starts no name.
_GLUED_BEFORE = re.compile(r"分钟|点钟")
# A surname said twice in a transcript (叫 王 王志远): the cue stands before the first.
_STUTTER = re.compile(r"(\S)\s+$")
_TITLE = re.compile(HONORIFICS)
# A famous name said to spell one of its characters (姓岳 岳飞的岳, 名字里有个飞 岳飞的飞字): "X的Y", Y a
# character of X, names no one. Its surname may run on into the next words (岳飞的岳叫岳红梅); another of
# its characters must stand alone (岳飞的飞机 is about a plane).
_SPELLING_AID = re.compile(r"\s*的\s*(\S)(字|(?![\u4e00-\u9fff]))?")


# An SMS signed with a name and nothing after it (…麻烦尽快来修 谢谢 王建国, …——李): the name is the
# last word, set off by a space, punctuation, a dash or a thank-you. The last word of an ordinary
# message is often a surname character too (谢谢师傅, 何时, 卫生间, 管一下, 祝好), so a signature is
# checked harder than a name with a cue: no particles or noun suffixes in the given name, no time
# word, none of the everyday words below, and a bare surname (——李) only after a dash.
_SIGN_OFF_TRAIL = " ,，.。!！~～"
_SIGN_OFF_BEFORE = re.compile(
    r"(?:[\s,，.。!！?？、;；:：~～…)）]|—|-|(?:谢谢|多谢|感谢|麻烦了|辛苦了|拜托了|麻烦你们了?))$"
)
# ... or glued to the flat the message closes with (…麻烦来看看 9栋王丽华, …谢谢 5幢302赵德明): an SMS
# signed "address name" without a space. The flat must have its building marker: a bare number
# before a name (1502陈) is too little to go on.
_SIGN_OFF_FLAT = re.compile(rf"(?<![\d-]){_FLAT}$")
# Where a place is named right after a flat (5栋周边, 3栋车棚, 12栋房顶, 8栋路口): a word ending in one of
# these names a part of the building, not its owner.
_PLACE_END = re.compile(r"[上里边面处口顶旁外内前后侧角棚库池坛廊道梯台]$")
_SIGN_OFF_DASH = re.compile(r"(?:—|-|~|～)\s*$")
_SIGNATURE = re.compile(
    rf"(?:老|小)(?:[{SURNAMES}])|(?:{'|'.join(COMPOUND_SURNAMES)}|[{SURNAMES}])(?:{HONORIFICS}|{_HAN}{{0,2}})"
)
# Characters that end or glue words, never part of a given name at the end of a message.
_NOT_GIVEN = re.compile(
    r"[了的吗吧啊呢呀么嘛哈哦噢啦呗咯喔们下个不没是在有来去很都也还就又再说看修坏漏号室栋单元楼点天]"
)
_NOT_LAST_GIVEN = re.compile(r"[子头儿间]$")
_NOT_SIGNATURES = re.compile(
    r"^(谢$|谢过|查|白白|费心|劳驾|劳烦|祝|万分|万谢|万一|何时|何日|何处|何必|关心|关注|关于|关掉|关上|卫生|阳台|施工|解决|解释|申请|"
    r"高兴|高温|高峰|许多|许可|曾经|任何|任务|陆续|余额|杜绝|胡说|夏天|冬天|秋天|春天|段时间|莫名|文明|文件|"
    r"简单|尤其|饶了|迟迟|迟到|毕竟|季度|焦急|郑重|商量|沙发|荣幸|容易|符合|舒服|舒适|连续|于是|安心|安静|幸好|"
    r"幸亏|闻到|厉害|宣传|敬请|呼叫|智能|郁闷|储藏|游泳|边上|管|包括|包修|常来|路上|路过|小米|小区|小心|小时|老毛|"
    r"欧了|司机|车子|车辆|金额|周到|江湖|向您|康复|平安|顺利)"
)
# 谢 after 谢/感/多… is the verb: 谢谢师傅 thanks the plumber, it is not Mr 谢.
_THANKS = re.compile(r"[谢感多致答道]谢")
# Time words that start with a surname character (周六, 周末); 周建华 is a name.
_TIME_WORD = re.compile(r"周[一二三四五六日天末\d]|凌晨")


def signature(text: str) -> tuple[int, int] | None:
    """The span of a name signed at the very end of ``text``, if the last word is one: the sender's own
    name, most likely, not a visitor's (bot.text.entities marks it so)."""
    end = len(text.rstrip(_SIGN_OFF_TRAIL))
    for size in (4, 3, 2, 1):
        start = end - size
        if start <= 0:
            continue
        word = text[start:end]
        if not _SIGNATURE.fullmatch(word):
            continue
        set_off = _SIGN_OFF_BEFORE.search(text, max(0, start - 6), start)
        after_flat = not set_off and _SIGN_OFF_FLAT.search(text, max(0, start - 16), start)
        if not set_off and not after_flat:
            continue
        if not text[:start].strip(_SIGN_OFF_TRAIL + "—-"):
            return None  # nothing before it: the whole-message rule's call
        surname = _SURNAME_AT.match(word)
        given = word[surname.end() :] if surname else ""
        if _TITLE.fullmatch(given) or word[0] in "老小":
            pass
        elif not given:
            if not _SIGN_OFF_DASH.search(text, max(0, start - 3), start):
                return None  # 谢谢 王 is too little to go on; ——王 is a signature
        elif _NOT_GIVEN.search(given) or _NOT_LAST_GIVEN.search(given) or (after_flat and _PLACE_END.search(given)):
            return None  # 5栋车棚 (after_flat): a place, not its owner
        if len(word) == 2 and word[0] == word[1]:
            return None  # 白白, 常常: a doubled character is a word, not a name
        if _NOT_NAMES.match(word) or _NOT_SIGNATURES.match(word) or _TIME_WORD.match(word):
            return None
        return start, end
    return None


def _name_at(text: str, start: int) -> tuple[int, bool] | None:
    """(end, titled) of the best name starting at ``start``: surname + honorific or given name."""
    m = _SURNAME_AT.match(text, start)
    if not m:
        return None
    after = m.end()
    title = _TITLE.match(text, after)
    if title:
        return title.end(), True
    for size in (2, 1):
        given = text[after : after + size]
        if len(given) != size or not re.fullmatch(f"{_HAN}+", given) or _NOT_GIVEN_START.match(given):
            continue
        if size == 2 and _NEXT_WORD.match(text, after + 1):
            continue  # 李娜过来: the second character starts the next word
        if _BOUNDARY.match(text, after + size):
            return after + size, False
    return None


def _before_stutter(text: str, start: int) -> str:
    """The six characters before a surname said twice (叫 王 王志远 → "叫 "), else nothing."""
    m = _STUTTER.search(text, max(0, start - 3), start)
    if m is None or m.group(1) != text[start]:
        return ""
    return text[max(0, m.start() - 6) : m.start()]


def extract_person_names(text: str) -> list[tuple[int, int]]:
    """Spans of person names in ``text`` (normalised, simplified)."""
    stripped = text.strip(" ,，.。!！")
    head = len(text) - len(text.lstrip(" ,，.。!！"))
    if _WHOLE_NAME.fullmatch(stripped) and not _NOT_NAMES.match(stripped):
        return [(head, head + len(stripped))]  # the answer to 访客怎么称呼: 王福来
    spans: list[tuple[int, int]] = []
    for start in range(len(text)):
        if spans and start < spans[-1][1]:
            continue
        found = _name_at(text, start)
        if found is None:
            continue
        end, titled = found
        if _NOT_NAMES.match(text[start:end]) or _THANKS.match(text, max(0, start - 1), start + 1):
            continue
        if start and _GLUED_BEFORE.match(text, start - 1):
            continue
        aid = _SPELLING_AID.match(text, end)
        if aid and (aid.group(1) == text[start] or (aid.group(2) is not None and aid.group(1) in text[start:end])):
            continue
        whole_message = text[start:end] == stripped
        cued = bool(
            _CUE.search(text[max(0, start - 6) : start])
            or _CUE.search(_before_stutter(text, start))
            or (spans and _AND.fullmatch(text[spans[-1][1] : start]))  # 叫黄志强同李淑仪: the second of two
        )
        visiting = bool(
            _VISIT_VERB.match(text[end : end + CONTEXT]) and _CLAUSE_END.search(text[max(0, start - CONTEXT) : start])
        )
        standing_alone = (start == 0 or text[start - 1] in _SEPARATED) and (end == len(text) or text[end] in _SEPARATED)
        signed = standing_alone and bool(
            _PHONE_AFTER.match(text, end)
            or _PHONE_BEFORE.search(text, max(0, start - CONTEXT), start)
            or _ADDRESS_AFTER.match(text, end)
        )
        if whole_message or cued or visiting or titled or signed:
            spans.append((start, end))
    signed = signature(text)
    if signed and not any(s < signed[1] and signed[0] < e for s, e in spans):
        spans.append(signed)
    return spans
