"""Cantonese words in their Mandarin form, so one reading serves owners in Guangdong and Hong Kong.

OpenCC turns traditional characters into simplified ones, but Cantonese is more than a script:
its words differ (冇 for 没, 咗 for 了, 水喉 for 水管, 䢂 for 电梯). Without this step the model
meets them only in the few Cantonese examples it was trained on, and a Cantonese "yes, that's
right" or a burst 水喉 is a coin toss; with it, everything learnt from Mandarin applies.

The worst case was 唔 (not): the filler rule drops 嗯/呃/唔 as hesitation sounds, so 唔系 (no,
it isn't) became 系 → "yes". Here 唔 directly before a word becomes 不; a 唔 standing alone (a
hesitation in a Mandarin call) is left for the filler rule.

Input is simplified text (after OpenCC). The list holds words whose Cantonese sense is the only
one owners use in messages to their property company; words with a common Mandarin sense are
mapped only in context (系 stays in 联系/系统, 仲 in 仲裁). Longest match first.
"""

from __future__ import annotations

import re

# Cantonese → Mandarin, simplified. Grouped for review; one table, longest words tried first.
WORDS: dict[str, str] = {
    # thanks, please, yes and no
    "唔该晒": "谢谢",
    "多谢晒": "谢谢",
    "系咪": "是不是",
    "系唔系": "是不是",
    "唔系": "不是",
    "唔使": "不用",
    "唔驶": "不用",
    "唔好": "不要",
    "唔得": "不行",
    "唔知": "不知道",
    "唔识": "不会",
    "冇": "没",
    "啱啱": "刚刚",
    "好彩": "幸好",
    "差啲": "差点",
    "依家": "现在",
    "几日": "几天",
    "无啦啦": "无缘无故",
    "啱": "对",
    # grammar words
    "咗": "了",
    "嘅": "的",
    "喺": "在",
    "啲": "些",
    "佢哋": "他们",
    "我哋": "我们",
    "你哋": "你们",
    "佢": "他",
    "乜嘢": "什么",
    "咩": "什么",
    "点解": "为什么",
    "点样": "怎样",
    "点算": "怎么办",
    "几多": "多少",
    "几钱": "多少钱",
    "几时": "什么时候",
    "边度": "哪里",
    "边个": "谁",
    "而家": "现在",
    "琴日": "昨天",
    "寻日": "昨天",
    "听日": "明天",
    "今日": "今天",
    "嚟": "来",
    # 嗰 (that): OpenCC writes it 𠮶, which no reading knows
    "嗰": "那",
    "𠮶": "那",
    "喺度": "在",
    "嗰度": "那里",
    "𠮶度": "那里",
    "呢度": "这里",
    # 呢 before a measure word is "this" (呢张单, 呢个), never the Mandarin question particle
    "呢张": "这张",
    "呢个": "这个",
    "呢间": "这间",
    "呢单": "这单",
    "点叫": "怎么叫",
    "睇": "看",
    "揾": "找",
    "畀": "给",
    # 俾 is how Hong Kong owners often write 畀 (give, pay); in Mandarin it is only literary
    "俾": "给",
    "夹钱": "凑钱",
    "攞": "拿",
    "嘢": "东西",
    "单嘢": "件事",
    "仲未": "还没",
    "咁耐": "这么久",
    "好耐": "很久",
    "成日": "整天",
    "成个": "整个",
    "成栋": "整栋",
    "成座": "整座",
    "成幢": "整幢",
    "冇晒": "全没",
    "停晒": "全停",
    "唔郁": "不动",
    "郁唔到": "动不了",
    # that's all, goodbye
    "冇其他嘢": "没别的事",
    "冇嘢喇": "没事了",
    "冇嘢啦": "没事了",
    "先咁啦": "先这样吧",
    "先咁": "先这样",
    "得闲再倾": "有空再聊",
    "唔阻你": "不打扰你",
    "好似": "好像",
    "屋企": "家",
    "入面": "里面",
    "揸车": "开车",
    "泊车": "停车",
    "泊喺": "停在",
    # the flat and its fittings
    "水喉": "水管",
    "水掣": "水阀",
    "电掣": "开关",
    "跳掣": "跳闸",
    "跳咗掣": "跳了闸",
    "门钟": "门铃",
    "揿": "按",
    "插苏": "插座",
    "灯胆": "灯泡",
    "雪柜": "冰箱",
    "冷气机": "空调",
    "冷气": "空调",
    "䢂": "电梯",
    "升降机": "电梯",
    "石油气": "液化气",
    "水浸": "淹水",
    "塞咗": "堵了",
    "浸晒": "全淹了",
    "跌落嚟": "掉下来",
    "跌落去": "掉下去",
    "跌落": "掉下",  # 就快跌落街: about to fall into the street
    # 喺度 after hanging is "there" (吊喺度郁紧: hanging there, moving), not the "-ing" it is elsewhere
    "吊喺度": "吊在那里",
    "挂喺度": "挂在那里",
    "吊吊揈": "晃来晃去",  # dangling
    # 紧 after a verb is "-ing" (摇紧 = swaying), only where no Mandarin 拧紧/关紧 (tighten) is meant
    "摇紧": "在摇",
    "晃紧": "在晃",
    "郁紧": "在动",
    "漏紧": "在漏",
    "滴紧": "在滴",
    "响紧": "在响",
    "冒紧": "在冒",
    "烧紧": "在烧",
    # 住 after a verb is "along / holding" (沿住 = 沿着)
    "沿住": "沿着",
    "顺住": "顺着",
    # calling someone however much (叫极都唔应 = 怎么叫都不应)
    "叫极都": "怎么叫都",
    "嗌极都": "怎么喊都",
    "拍极都": "怎么拍都",
    "嗌": "喊",
    # 瞓 lies down or sleeps: asleep where 觉/着 say so, lying otherwise (瞓咗喺门口)
    "瞓觉": "睡觉",
    "瞓晏觉": "睡午觉",
    "瞓唔着": "睡不着",
    "瞓着": "睡着",
    "瞓醒": "睡醒",
    "瞓": "躺",
    "落嚟": "下来",
    "落去": "下去",
    "熄咗": "关了",
    "总掣": "总闸",
    "嘈": "吵",
    "嚟整": "来修",
    "搵人整": "找人修",
    "整返": "修好",
    "整番": "修好",
    "整好": "修好",
    # 返 after a verb: back as it was (补返 patch it up, 换返 put a new one in)
    "补返": "补好",
    "换返": "换",
    "搞掂": "搞定",
    "晕低": "晕倒",
    "关唔埋": "关不上",
    "未整好": "没修好",
    # throwing things down, a car in my space
    "掟紧": "扔",
    "掟": "扔",
    "霸住": "占着",
    "霸咗": "占了",
}
_WORDS = re.compile("|".join(sorted(map(re.escape, WORDS), key=len, reverse=True)))
# 系 as the Cantonese copula (系呀, 我系业主), not inside 联系, 关系, 系统, 体系…
_COPULA = re.compile(r"(?<![联关体派维中世直院星父母水])系(?![统列数])")
# 唔该: "please" before a request (唔该帮我睇下), "thanks" on its own.
_PLEASE = re.compile(r"唔该(?=[\u4e00-\u9fff])")
_THANKS = re.compile(r"唔该")
# 唔 right before a word is Cantonese "not"; alone it is a hesitation sound (the filler rule's).
_NOT = re.compile(r"唔(?=[\u4e00-\u9fff])(?![唔嗯])")
# 仲 as "still" (仲未, 仲系), not in 仲裁 or 仲夏.
_STILL = re.compile(r"仲(?![裁夏介])")
# 话 as "said" after someone who speaks (师傅话今日嚟, 佢话冇人手, 又话): never in 电话, 说话,
# 其他话, nor before 费/筒/题 (话费, 话筒, 话题).
_SAID = re.compile(r"(?:(?<=师傅)|(?<=管理处)|(?<=物业)|(?<=保安)|(?<=管家)|(?<=[佢又都]))话(?![费筒题])")


def cantonese_edits(text: str) -> list[tuple[int, int, str]]:
    """Edits (start, end, replacement) turning Cantonese words in ``text`` into Mandarin ones."""
    edits = [(m.start(), m.end(), WORDS[m.group()]) for m in _WORDS.finditer(text)]
    taken = [False] * len(text)
    for start, end, _ in edits:
        for i in range(start, end):
            taken[i] = True
    for pattern, replacement in (
        (_PLEASE, "麻烦"),
        (_THANKS, "谢谢"),
        (_COPULA, "是"),
        (_NOT, "不"),
        (_STILL, "还"),
        (_SAID, "说"),
    ):
        for m in pattern.finditer(text):
            if not any(taken[m.start() : m.end()]):
                edits.append((m.start(), m.end(), replacement))
                taken[m.start() : m.end()] = [True] * (m.end() - m.start())
    return sorted(edits)
