"""The ASR providers' result callbacks for recorded hotline calls, read and checked.

Two shapes, one result. Aliyun's recording recognition (录音文件识别) POSTs JSON:
``{"TaskId", "StatusCode": 21050000, "StatusText", "Result": {"Sentences": [{"ChannelId",
"BeginTime", "EndTime", "Text"}]}}``, one sentence per stretch of speech, ChannelId the track
(a call centre records the caller and the agent on their own tracks). Tencent's (CreateRecTask
with a CallbackUrl) POSTs a form: ``code=0&requestId=<task id>&text=…&resultDetail=<JSON list
of {"FinalSentence", "StartMs", "EndMs", "SpeakerId"}>`` (speaker separation, or one speaker id per
track). Which track or speaker is the caller is the call centre's to say (a setting).

Neither result names the caller: the call centre puts the caller's number in the callback URL it
gives the provider with each task (both providers advise carrying one's own ids there). Everything
is checked before anything is processed; a push that is not the provider's shape refuses whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from common.phones import normalize_mobile
from connectors.callbacks import Refused, parse_json

MAX_BODY = 512 * 1024  # a two-hour call is a few hundred sentences of JSON
MAX_SENTENCES = 2000
MAX_SENTENCE = 1000  # characters: ASR cuts speech into sentences far shorter than this
PROVIDERS = ("aliyun", "tencent")
ALIYUN_SUCCESS = 21050000  # and 21050003: the recording was silent (a success with no sentences)
ALIYUN_SILENT = 21050003
# How each provider wants its callback answered (anything else is retried).
ANSWERS = {"aliyun": {"code": 0, "message": "success"}, "tencent": {"code": 0, "message": "success"}}


@dataclass(frozen=True)
class Turn:
    """What one side said before the other spoke (consecutive sentences of a side joined)."""

    caller: bool
    text: str


@dataclass(frozen=True)
class Call:
    """A transcribed call. ``recognised`` False: the provider could not transcribe it (its
    ``failure`` says why); ``turns`` is then empty and staff should call the owner back."""

    task_id: str
    mobile: str
    turns: tuple[Turn, ...]
    recognised: bool = True
    failure: str = ""

    @property
    def caller_turns(self) -> list[Turn]:
        return [turn for turn in self.turns if turn.caller]


def caller_mobile(value: str | None) -> str:
    """The caller's number from the callback URL (?caller=…), as 11 mainland digits."""
    mobile = normalize_mobile(value or "")
    if mobile is None:
        raise Refused(400, "the callback URL carries no mainland mobile as ?caller=")
    return mobile


def _number(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Refused(400, f"a missing or malformed {name}")
    try:
        return int(float(value))
    except ValueError:
        raise Refused(400, f"a missing or malformed {name}") from None


def _task_id(value: object) -> str:
    task = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not task or len(task) > 64 or not task.replace("-", "").replace("_", "").isalnum() or not task.isascii():
        raise Refused(400, "a missing or malformed task id")
    return task


def _sentences(items: object, *, text: str, start: str, speaker: str) -> list[tuple[int, int, str]]:
    """(start, speaker, text) for each sentence, checked."""
    if not isinstance(items, list) or len(items) > MAX_SENTENCES:
        raise Refused(400, f"sentences are not a list of at most {MAX_SENTENCES}")
    found = []
    for item in items:
        if not isinstance(item, dict):
            raise Refused(400, "a sentence that is not an object")
        said = item.get(text)
        if not isinstance(said, str) or len(said) > MAX_SENTENCE:
            raise Refused(400, f"a missing or malformed {text}")
        found.append((_number(item.get(start, 0), start), _number(item.get(speaker, 0), speaker), said))
    return found


def _turns(sentences: list[tuple[int, int, str]], caller_channel: int) -> tuple[Turn, ...]:
    """In the order they were spoken; a side's consecutive sentences are one turn (an owner
    saying where and what in two breaths is one message to the assistant)."""
    turns: list[Turn] = []
    for _, speaker, said in sorted(sentences, key=lambda s: s[0]):
        said = said.strip()
        if not said:
            continue
        caller = speaker == caller_channel
        if turns and turns[-1].caller == caller:
            turns[-1] = Turn(caller, f"{turns[-1].text}，{said}")
        else:
            turns.append(Turn(caller, said))
    return tuple(turns)


def parse(provider: str, body: bytes, mobile: str, caller_channel: int) -> Call:
    if len(body) > MAX_BODY:
        raise Refused(413, "body over 512 KB")
    if provider == "aliyun":
        data = parse_json(body)
        if not isinstance(data, dict):
            raise Refused(400, "not a JSON object")
        task, status = _task_id(data.get("TaskId")), _number(data.get("StatusCode"), "StatusCode")
        if status == ALIYUN_SILENT:
            return Call(task, mobile, ())
        if status != ALIYUN_SUCCESS:
            return Call(task, mobile, (), recognised=False, failure=f"{status} {str(data.get('StatusText'))[:64]}")
        result = data.get("Result")
        if not isinstance(result, dict):
            raise Refused(400, "a missing or malformed Result")
        found = _sentences(result.get("Sentences"), text="Text", start="BeginTime", speaker="ChannelId")
        return Call(task, mobile, _turns(found, caller_channel))
    if provider == "tencent":
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            raise Refused(400, "not a UTF-8 form") from None
        fields = {name: values[0] for name, values in form.items()}
        task, code = _task_id(fields.get("requestId")), _number(fields.get("code"), "code")
        if code != 0:
            return Call(task, mobile, (), recognised=False, failure=f"{code} {fields.get('message', '')[:64]}")
        detail = fields.get("resultDetail") or ""
        if not detail:  # the task was created without sentence details: nothing says who spoke
            raise Refused(400, "no resultDetail (create the task with ResTextFormat ≥ 1)")
        found = _sentences(parse_json(detail), text="FinalSentence", start="StartMs", speaker="SpeakerId")
        return Call(task, mobile, _turns(found, caller_channel))
    raise Refused(404, "unknown provider")
