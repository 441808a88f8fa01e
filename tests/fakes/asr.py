"""Fake ASR providers: they post a recorded call's recognition result to our callback URL over
real HTTP, in the provider's own shape, and judge our answer the way the provider does.

Aliyun's recording recognition posts JSON (TaskId, StatusCode 21050000, Result.Sentences with
ChannelId / BeginTime / EndTime / Text). Tencent's CreateRecTask callback posts a form
(code, requestId, text, resultDetail as a JSON list with FinalSentence / StartMs / EndMs /
SpeakerId) and takes {"code": 0} as received. Both retry an answer that is not that (Tencent at
most twice more); ``attempts`` records every post with its answer.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

RETRIES = 2  # Tencent: "最多2次" more after the first
SUCCESS = {"aliyun": 21050000, "tencent": 0}


@dataclass
class FakeAsr:
    provider: str  # aliyun / tencent
    attempts: list[tuple[int, Any]] = field(default_factory=list)

    def result(
        self, lines: list[tuple[int, str]], *, task_id: str | None = None, status: int | None = None
    ) -> tuple[bytes, str]:
        """The callback body for a call: ``lines`` are (speaker or track, text) in speaking order,
        three seconds each. Returns (body, content type)."""
        task = task_id or str(secrets.randbelow(10**10) + 4 * 10**9)
        code = SUCCESS[self.provider] if status is None else status
        timed = [(speaker, 3000 * i, 3000 * i + 2800, text) for i, (speaker, text) in enumerate(lines)]
        if self.provider == "aliyun":
            sentences = [
                {"ChannelId": s, "BeginTime": b, "EndTime": e, "Text": t, "SpeechRate": 200, "EmotionValue": 5.0}
                for s, b, e, t in timed
            ]
            body = {"TaskId": task, "StatusCode": code, "StatusText": "SUCCESS" if code == 21050000 else "FAILED"}
            if code == 21050000:
                body |= {"RequestTime": 1764460800000, "SolveTime": 1764460830000, "Result": {"Sentences": sentences}}
            return json.dumps(body, ensure_ascii=False).encode(), "application/json"
        detail = [
            {"FinalSentence": t, "SliceSentence": t, "StartMs": b, "EndMs": e, "SpeakerId": s, "WordsNum": len(t)}
            for s, b, e, t in timed
        ]
        form = {
            "code": code,
            "message": "" if code == 0 else "识别失败",
            "requestId": task,
            "appid": 1250000000,
            "projectid": 0,
            "text": "\n".join(f"[0:{b / 1000:.3f},0:{e / 1000:.3f}]  {t}" for _, b, e, t in timed),
            "resultDetail": json.dumps(detail, ensure_ascii=False) if code == 0 else "",
            "audioTime": f"{len(lines) * 3:.6f}",
        }
        return urlencode(form).encode(), "application/x-www-form-urlencoded"

    async def post(self, url: str, body: bytes, content_type: str) -> tuple[int, Any]:
        """Post until the answer is the provider's 'received' (at most 1 + RETRIES times);
        the last (status, answer)."""
        async with aiohttp.ClientSession() as http:
            for _ in range(1 + RETRIES):
                async with http.post(url, data=body, headers={"Content-Type": content_type}) as resp:
                    text = await resp.text()
                try:
                    answer: Any = json.loads(text)
                except ValueError:
                    answer = text
                self.attempts.append((resp.status, answer))
                if resp.status == 200 and isinstance(answer, dict) and answer.get("code") == 0:
                    break
        return self.attempts[-1]
