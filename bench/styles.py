"""One training sentence in the other ways owners write it: an ASR transcript, an SMS, a long call.

NOT USED FOR TRAINING. An experiment of issue 15 (bench/NOTES.md, "Augmentation by style"): with
these variants of a third of the request intents' examples added (+21% examples, +25% training
CPU), the mean held-out accuracy over three DIET seeds rose 0.3 points, a quarter of the seed spread,
ASR not at all, so no generated file is in data/. Kept to rerun the experiment when data changes:

    .venv-rasa/bin/python -m bench.styles --out data/nlu/generated/styles.yml   # then train, evaluate
    rm -r data/nlu/generated                                                     # Rasa reads data/ recursively

Issue 15 asked whether training data written in every style would lift every style at once.
Only what survives the normaliser (bot/text/normalize.py) can teach the model anything: it
already turns traditional characters into simplified ones, Cantonese words into Mandarin,
spoken numerals in addresses and phones into digits, drops 嗯/呃/就是说/a leading 喂/a
clause-initial 那个, and repairs ASR homophones of its curated keywords (保修 → 报修). A variant
made of those changes normalises back to its original and is a duplicate for the model, so
none is made here. What is left, and what these functions write:

- **ASR** (:func:`asr_form`): no punctuation and no emoji; either no spaces at all or phrase
  breaks only; a filler the normaliser keeps (然后, 就是, 反正, 这个, a mid-sentence 那个); a
  count or time said in words (3天 → 三天: the normaliser converts numerals only in
  addresses, phones, plates and tickets); and sometimes a real-word homophone the normaliser
  leaves alone on purpose (师傅/师父, 访客/房客, 物业/午夜).
- **SMS** (:func:`sms_form`): terse: no greeting, no 麻烦/请, no leading 我家, no sentence-final
  particles (啊, 呢, 吧, 哈…), spaces for punctuation; sometimes a sign-off (王女士, 3栋业主).
- **Long call** (:func:`call_form`): the ASR form after a preamble clause that says nothing about
  the request (是这样的, 我跟你说一下啊, 我是3栋的业主): the request follows a story.

Every function is pure and deterministic: the random choices come from a ``random.Random``
seeded with the seed *and* the sentence, so a sentence's variant does not depend on which
other sentences are generated. Rasa entity markup (``[3](building)``, ``[王伟]{"entity": …}``)
is kept verbatim: annotated spans are swapped for private-use placeholders before the edits
and put back after, and a variant that lost or reordered one is not returned.
"""

from __future__ import annotations

import argparse
import random
import re
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

# Intents whose messages come in every style: requests and reports. Short replies (是, 不用,
# 再见) look the same in every channel, and `inform` answers are bare addresses and times.
STYLE_INTENTS = frozenset(
    {
        "report_repair",
        "report_emergency",
        "file_complaint",
        "ask_fee",
        "request_visitor_pass",
        "check_status",
        "chase_ticket",
        "request_human",
    }
)
STYLES = ("asr", "sms", "call")

# [text](entity), [text](entity:value), [text]{"entity": ...}: Rasa 3's markup.
_ANNOTATION = re.compile(r"\[[^\[\]]+\](?:\([^()]+\)|\{[^{}]+\})")
_PLACEHOLDER_BASE = 0xE000  # Unicode private use: no rule below matches it
_PLACEHOLDER = re.compile("[\ue000-\ue0ff]")
_MENTION = re.compile(r"@[^\s\u2005@]{1,24}[\u2005 ]")
_PUNCTUATION = re.compile(r"[,，.。!！?？、;；:：~～…\"“”'‘’()（）【】《》\-—]+")
_HAN = r"[\u4e00-\u9fff]"


def _is_symbol(ch: str) -> bool:
    """Emoji and pictographs (Unicode So and the variation selector/ZWJ that glue them)."""
    return unicodedata.category(ch) == "So" or ch in "\ufe0f\u200d"


def _protect(example: str) -> tuple[str, list[str]]:
    spans = _ANNOTATION.findall(example)
    if len(spans) > 0xFF:
        raise ValueError("too many annotations")
    numbers = iter(range(len(spans)))
    text = _ANNOTATION.sub(lambda _m: chr(_PLACEHOLDER_BASE + next(numbers)), example)
    return text, spans


def _restore(text: str, spans: list[str]) -> str | None:
    marks = [ord(ch) - _PLACEHOLDER_BASE for ch in _PLACEHOLDER.findall(text)]
    if marks != list(range(len(spans))):  # an annotation was lost, doubled or moved past another
        return None
    return _PLACEHOLDER.sub(lambda m: spans[ord(m.group()) - _PLACEHOLDER_BASE], text)


def _rng(seed: int | str, style: str, example: str) -> random.Random:
    # str seeds go through SHA-512 in random.Random: stable across runs and PYTHONHASHSEED.
    return random.Random(f"{seed}\x1f{style}\x1f{example}")


def _plain(text: str) -> str:
    """Without @-mentions and emoji: neither is in a transcript or a plain SMS."""
    text = _MENTION.sub(" ", text + " ")
    return " ".join("".join(" " if _is_symbol(ch) else ch for ch in text).split())


# ---------------------------------------------------------------- ASR


# Said as words in a call. Only counts and clock times: a number in an address, a phone, a
# plate or a ticket is turned back into digits by the normaliser, so saying it is a no-op.
_COUNT = re.compile(r"(?<![\d.A-Za-z\-])(\d{1,2})(?=\s*(?:天|个|次|小时|分钟|周|星期|点|年|月|块|元|遍|回|层楼))")
_DIGITS = "零一二三四五六七八九"


def spoken_number(n: int) -> str:
    """0–99 as said aloud: 3 → 三, 10 → 十, 15 → 十五, 20 → 二十, 2 before a measure → 两."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def _say_counts(text: str) -> str:
    def say(m: re.Match[str]) -> str:
        n = int(m.group(1))
        rest = text[m.end() :].lstrip()
        if n == 2 and not rest.startswith("月"):
            return "两"  # 两天, 两个, 两点; but 二月
        return spoken_number(n)

    return _COUNT.sub(say, text)


# Fillers the normaliser keeps (its own list drops 嗯, 呃, 就是说, 怎么说呢, a leading 喂 and a
# clause-initial 那个): they stay in what the model sees, so the model should have seen them.
_KEPT_FILLERS = ("然后", "就是", "反正", "这个", "那个", "怎么讲")
# Real words an ASR engine writes for domain words, and that homophones.py leaves alone on
# purpose (a wrong "fix" of a real word would be worse). Not 煤气/没气: the safety words stay.
_ASR_HOMOPHONES = (
    (re.compile("师傅"), "师父"),
    (re.compile("访客"), "房客"),
    (re.compile("物业(?!费|公司|管理费)"), "午夜"),
)


_SUBJECT = re.compile(rf"^(?:我们家|我家|我们|家里|我)(?={_HAN}{{2}})")


def _with_filler(phrases: list[str], rng: random.Random, spaced: bool) -> list[str]:
    """A filler where a speaker pauses: at a phrase break (where punctuation or a space was) or
    after a leading 我家/我们; never first and never inside a word. A clause-initial 那个 is
    dropped by the normaliser, so 那个 goes only where no space precedes it."""
    gaps = [(i, 0) for i in range(1, len(phrases)) if re.match(_HAN, phrases[i])]
    subject = _SUBJECT.match(phrases[0]) if phrases else None
    if subject:
        gaps.append((0, subject.end()))
    if not gaps:
        return phrases
    i, at = rng.choice(gaps)
    clause_start = at == 0 and spaced
    filler = rng.choice([f for f in _KEPT_FILLERS if not (clause_start and f == "那个")])
    out = list(phrases)
    out[i] = out[i][:at] + filler + out[i][at:]
    return out


def asr_form(example: str, seed: int | str = 0) -> str | None:
    """The sentence as a call-centre ASR transcript would write it, or None if unchanged.

    Punctuation, emoji and @-mentions go; spaces either all go or stay as phrase breaks (both
    occur in transcripts); seven in ten get a kept filler; counts are said in words; one in
    four gets a homophone from _ASR_HOMOPHONES. Entity markup is kept as written.
    """
    text, spans = _protect(example)
    rng = _rng(seed, "asr", example)
    phrases = _say_counts(_plain(_PUNCTUATION.sub(" ", text))).split()
    spaced = rng.random() < 0.5
    if rng.random() < 0.7:
        phrases = _with_filler(phrases, rng, spaced)
    text = (" " if spaced else "").join(phrases)
    if rng.random() < 0.25:
        for pattern, word in _ASR_HOMOPHONES:
            if pattern.search(text):
                text = pattern.sub(word, text, count=1)
                break
    out = _restore(text, spans)
    return out if out and out != example else None


# ---------------------------------------------------------------- SMS

# A transcript's hesitations, standing alone between spaces, are not typed into an SMS.
_SPOKEN_FILLERS = re.compile(r"(?<=\s)(?:喂|嗯|呃|那个|就是说)(?=\s)")
_GREETING = re.compile(r"^(?:物业)?(?:你好|您好)(?:物业)?[\s,，!！。]*|^(?:物业|管家)[\s,，:：]+")
_POLITE = re.compile(rf"(?:^|(?<=\s))(?:麻烦你们|麻烦您|麻烦|请你们|请)(?={_HAN})")
_MY_HOME = re.compile(rf"^(?:我们家|我家)(?=的?{_HAN})的?")
# Sentence-final particles, at a clause's end only (吧台, 啊姨 are rare but 哈尔滨 is not first).
_PARTICLES = re.compile(r"(?:啊|呀|呢|吧|啦|哦|嘛|哈+|喔)+(?=\s|[,，.。!！?？~～]|$)")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙朱胡郭何高林罗郑梁谢宋唐"
_TITLES = ("先生", "女士", "阿姨", "师傅")


def _sign_off(rng: random.Random) -> str:
    """How owners end an SMS: a surname and title, or the building they live in."""
    kind = rng.random()
    surname = rng.choice(_SURNAMES)
    if kind < 0.6:
        return surname + rng.choice(_TITLES[:3])
    if kind < 0.85:
        return f"{rng.randint(1, 12)}栋业主"
    return f"业主{surname}"


def sms_form(example: str, seed: int | str = 0, sign_off: bool = True) -> str | None:
    """The sentence as a terse SMS, or None if unchanged.

    Greeting, 麻烦/请, a leading 我家 and clause-final particles go; punctuation becomes spaces
    (SMS from feature phones and older owners rarely has any); with ``sign_off`` one in three
    ends with a name or a building, as owners sign texts that carry no sender name.
    """
    text, spans = _protect(example)
    rng = _rng(seed, "sms", example)
    text = _SPOKEN_FILLERS.sub(" ", f" {_plain(text)} ").strip()
    text = _GREETING.sub("", text)
    text = _POLITE.sub("", text, count=1)
    text = _MY_HOME.sub("", text)
    text = _PARTICLES.sub("", text)
    text = " ".join(_PUNCTUATION.sub(" ", text).split())
    if not re.search(_HAN, text.replace(" ", "")) and not spans:
        return None  # nothing left but a code or a digit
    if sign_off and rng.random() < 0.35:
        text = f"{text} {_sign_off(rng)}"
    out = _restore(text, spans)
    return out if out and out != example else None


# ---------------------------------------------------------------- long call

# Clauses that open a call and say nothing about what the owner wants: no fault, no time, no
# question word, no hazard, no cue of any intent (so they cannot teach a wrong one).
PREAMBLES = (
    "是这样的",
    "我跟你说一下啊",
    "你好我这边是业主",
    "我是{b}栋的业主",
    "我住{b}号楼的",
    "我刚下班回来",
    "我打这个电话主要是",
    "我家里人让我打个电话",
    "我在小区住了好几年了",
    "之前也打过电话的",
)


def call_form(example: str, seed: int | str = 0) -> str | None:
    """The ASR form after a preamble clause: a long call where the request follows a story."""
    rng = _rng(seed, "call", example)
    body = asr_form(example, seed) or _plain(_PUNCTUATION.sub(" ", example))
    preamble = rng.choice(PREAMBLES).format(b=rng.randint(1, 15))
    joiner = " " if " " in body else ""
    out = preamble + joiner + body
    return out if out != example else None


_FORMS = {"asr": asr_form, "sms": sms_form, "call": call_form}


def style_variant(example: str, style: str, seed: int | str = 0) -> str | None:
    """``example`` in ``style`` (one of STYLES), or None when the style changes nothing."""
    return _FORMS[style](example, seed)


def pick_style(example: str, seed: int | str = 0, weights: tuple[float, ...] = (0.45, 0.35, 0.2)) -> str:
    """Which one style an example gets, seeded by the example: ASR, SMS or a long call."""
    return _rng(seed, "pick", example).choices(STYLES, weights=weights)[0]


def markup_text(example: str) -> str:
    """The text an annotated example stands for: ``[3](building)号楼`` → ``3号楼``."""
    return _ANNOTATION.sub(lambda m: m.group()[1 : m.group().index("]")], example)


def generate(
    examples: dict[str, list[str]],
    seed: int | str = 0,
    fraction: float = 0.5,
    key=lambda text: text.replace(" ", ""),
) -> dict[str, list[tuple[str, str]]]:
    """Style variants of ``examples`` (intent → Rasa example lines): intent → [(style, line)].

    Only STYLE_INTENTS, and of their examples a seeded ``fraction`` (chosen per example, so
    adding one sentence does not reshuffle the rest), one variant each in the style
    :func:`pick_style` gives it. A variant is dropped when ``key`` (the generator passes the
    normal form without spaces: what the model sees) equals the key of any example, of any
    intent, or of a variant already kept, so nothing the model has seen is added again and no
    text is given two labels.
    """
    seen = {key(markup_text(line)) for lines in examples.values() for line in lines}
    out: dict[str, list[tuple[str, str]]] = {}
    for intent in sorted(examples):
        if intent not in STYLE_INTENTS:
            continue
        kept = []
        for line in examples[intent]:
            if _rng(seed, "take", line).random() >= fraction:
                continue
            style = pick_style(line, seed)
            variant = style_variant(line, style, seed)
            if variant is None:
                continue
            k = key(markup_text(variant))
            if not k or k in seen:
                continue
            seen.add(k)
            kept.append((style, variant))
        out[intent] = kept
    return out


ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEED = 20261201


# ---------------------------------------------------------------- the generator


def read_examples(data_dir: Path) -> dict[str, list[str]]:
    """intent → example lines (Rasa markup kept) of every data_dir/*.yml, in file order."""
    examples: dict[str, list[str]] = {}
    for path in sorted(data_dir.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue
            lines = examples.setdefault(block["intent"], [])
            lines += [
                line.strip()[2:].strip() for line in block.get("examples", "").splitlines() if line.strip()[:2] == "- "
            ]
    return examples


def normal_key(text: str) -> str:
    """What the model sees of a text, spaces aside (the tokenizer drops them)."""
    from bot.text.normalize import normalize  # noqa: PLC0415 - OpenCC, pypinyin: the generator's only

    return normalize(text).text.replace(" ", "")


def render(variants: dict[str, list[tuple[str, str]]], seed: int, fraction: float) -> str:
    lines = [
        "# GENERATED by bench/styles.py from data/nlu/*.yml: do not edit by hand. Regenerate with",
        f"#   .venv-rasa/bin/python -m bench.styles --seed {seed} --fraction {fraction} --out <this file>",
        "# Style variants (ASR transcript, terse SMS, long call) of the request intents' examples;",
        "# bench/styles.py says what each style changes and why (and that it did not pay: bench/NOTES.md).",
        'version: "3.1"',
        "nlu:",
    ]
    for intent, kept in variants.items():
        if not kept:
            continue
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for _style, text in kept]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "nlu", help="hand-written NLU files (*.yml)")
    # No default: a file under data/ is training data, and these variants are not used (bench/NOTES.md).
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--fraction", type=float, default=0.5)
    args = ap.parse_args()
    variants = generate(read_examples(args.data), args.seed, args.fraction, key=normal_key)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(variants, args.seed, args.fraction), encoding="utf-8")
    styles = Counter(style for kept in variants.values() for style, _ in kept)
    per_intent = ", ".join(f"{intent} {len(kept)}" for intent, kept in variants.items())
    print(f"{sum(styles.values())} variants ({dict(styles)}): {per_intent} -> {args.out}")


if __name__ == "__main__":
    main()
