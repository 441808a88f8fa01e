"""Fake Aliyun SMS and fake Tencent Cloud SMS: real HTTP servers on 127.0.0.1 for tests.

Each checks a SendSms call the way the provider does: the request signature (Aliyun's
ACS3-HMAC-SHA256, Tencent's TC3-HMAC-SHA256, both recomputed here from the secret, with the
signed time near the real time since the SDKs sign with it), the sign name and template code it
approved, the template's variables (all of them, none other, each at most 35 characters), a
mainland number, and per-number limits counted on the test's clock. It answers in the
provider's shape with its real error codes (Aliyun isv.BUSINESS_LIMIT_CONTROL, Tencent
LimitExceeded.PhoneNumberDailyLimit, …), fails on demand, and plays the provider's side of the
pushes: an owner's reply (SmsUp / reply callback) and a delivery receipt (SmsReport / status
callback) as the JSON the provider POSTs. Nothing here reaches the Internet.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from aiohttp import web

MAX_AGE = 15 * 60  # seconds a signed request stays acceptable
MAX_VARIABLE = 35
LEVELS = {"minute": "分钟", "hour": "小时", "day": "天"}  # Aliyun's words for its limits


class Refusal(Exception):
    def __init__(self, code: str, message: str = "", http_status: int = 200) -> None:
        super().__init__(code)
        self.code, self.message, self.http_status = code, message or code, http_status


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def billed_parts(text: str) -> int:
    return 1 if len(text) <= 70 else -(-len(text) // 67)


class _FakeSms:
    """What both fakes share: the server, the clock, limits, failures on demand, what was sent."""

    provider = ""

    def __init__(
        self,
        *,
        key_id: str = "test-key-id",
        key_secret: str = "test-key-secret",
        sign_name: str = "阳光物业",
        templates: dict[str, list[str]] | None = None,
        clock: Callable[[], datetime] | None = None,
        per_minute: int | None = None,
        per_hour: int | None = None,
        per_day: int | None = 10,
    ) -> None:
        self.key_id, self.key_secret, self.sign_name = key_id, key_secret, sign_name
        # template code → its variables, in order (what the operator had approved)
        self.templates = templates or {}
        self.clock = clock
        self.per_minute, self.per_hour, self.per_day = per_minute, per_hour, per_day
        self.sent: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        # called with each entry of ``sent`` as it is taken, on the fake's loop (bench/owners.py)
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self.url = ""
        self._failures: deque[tuple[str, int]] = deque()
        self._nonces: set[str] = set()
        self._ids = 0
        self._runner: web.AppRunner | None = None

    async def __aenter__(self):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def now(self) -> datetime:
        return self.clock() if self.clock is not None else datetime.now(timezone.utc)

    def fail_next(self, code: str, times: int = 1, *, http_status: int = 200) -> None:
        """The next ``times`` sends fail before any check: with the provider's ``code`` (HTTP 200),
        or with ``http_status`` (500, 503…) and an HTML body."""
        self._failures.extend([(code, http_status)] * times)

    def texts_to(self, mobile: str) -> list[dict[str, Any]]:
        return [s for s in self.sent if s["mobile"] == mobile]

    def _check_message(self, mobile: str, sign: str, template: str, values: dict[str, str]) -> None:
        raise NotImplementedError

    def _limit(self, mobile: str) -> str | None:
        """Which per-number limit the next message to ``mobile`` would break, if any."""
        now = self.now()
        times = [s["at"] for s in self.sent if s["mobile"] == mobile]
        local_day = (now + timedelta(hours=8)).date()
        checks = (
            ("minute", self.per_minute, [t for t in times if now - t < timedelta(minutes=1)]),
            ("hour", self.per_hour, [t for t in times if now - t < timedelta(hours=1)]),
            ("day", self.per_day, [t for t in times if (t + timedelta(hours=8)).date() == local_day]),
        )
        return next((name for name, cap, within in checks if cap is not None and len(within) >= cap), None)

    def _record(self, mobile: str, template: str, values: dict[str, str], out_id: str, message_id: str) -> None:
        entry = {"mobile": mobile, "template": template, "values": values, "out_id": out_id, "id": message_id}
        entry |= {"sign": self.sign_name, "at": self.now()}
        self.sent.append(entry)
        for listener in self.listeners:
            listener(entry)

    def _variables(self, template: str, values: dict[str, str]) -> None:
        for value in values.values():
            if not isinstance(value, str) or not value or len(value) > MAX_VARIABLE:
                raise Refusal(self.LENGTH_CODE, f"a variable over {MAX_VARIABLE} characters or empty")

    async def _dispatch(self, request: web.Request) -> web.Response:
        raise NotImplementedError


class FakeAliyunSms(_FakeSms):
    """dysmsapi.aliyuncs.com: RPC SendSms (2017-05-25), answered {Code, Message, BizId, RequestId}."""

    provider = "aliyun"
    LENGTH_CODE = "isv.PARAM_LENGTH_LIMIT"

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("templates", {"SMS_STATUS": ["number", "status"], "SMS_REPLY": ["content"]})
        super().__init__(**kw)

    # -- the provider's pushes, for tests to POST to our endpoints ----------------------------
    def reply_push(self, mobile: str, text: str, *, sequence_id: int | None = None) -> bytes:
        """SmsUp: an owner's reply as Aliyun pushes it."""
        self._ids += 1
        item = {
            "phone_number": mobile,
            "send_time": self.now().astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S"),
            "content": text,
            "sign_name": self.sign_name,
            "dest_code": "1234",
            "sequence_id": sequence_id if sequence_id is not None else 1_000_000 + self._ids,
        }
        return json.dumps([item], ensure_ascii=False).encode("utf-8")

    def receipt_push(self, message_id: str, *, success: bool = True, err_code: str = "DELIVERED") -> bytes:
        """SmsReport: the handset's receipt for a message we sent."""
        sent = next(s for s in self.sent if s["id"] == message_id)
        stamp = self.now().astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")
        item = {
            "phone_number": sent["mobile"],
            "send_time": stamp,
            "report_time": stamp,
            "success": success,
            "err_code": err_code,
            "err_msg": "用户接收成功" if success else "失败",
            "sms_size": "1",
            "biz_id": message_id,
            "out_id": sent["out_id"],
        }
        return json.dumps([item], ensure_ascii=False).encode("utf-8")

    # -- the API -------------------------------------------------------------------------------
    def _verify(self, request: web.Request, body: bytes) -> None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("ACS3-HMAC-SHA256 "):
            raise Refusal("MissingSignature", "no ACS3-HMAC-SHA256 Authorization", 400)
        fields = dict(part.strip().split("=", 1) for part in auth[len("ACS3-HMAC-SHA256 ") :].split(",") if "=" in part)
        if fields.get("Credential") != self.key_id:
            raise Refusal("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        signed = fields.get("SignedHeaders", "").split(";")
        if not {"host", "x-acs-date", "x-acs-action", "x-acs-signature-nonce", "x-acs-content-sha256"} <= set(signed):
            raise Refusal("IncompleteSignature", "required headers are not signed", 400)
        if request.headers.get("x-acs-content-sha256") != _sha256(body):
            raise Refusal("SignatureDoesNotMatch", "payload hash", 400)
        query = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(request.query.items()))
        headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed)
        canonical = "\n".join(
            [request.method, request.path, query, headers, ";".join(signed), request.headers["x-acs-content-sha256"]]
        )
        to_sign = f"ACS3-HMAC-SHA256\n{_sha256(canonical.encode('utf-8'))}"
        expected = hmac.new(self.key_secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(fields.get("Signature", ""), expected):
            raise Refusal("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.", 400)
        signed_at = datetime.strptime(request.headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        if abs(time.time() - signed_at.timestamp()) > MAX_AGE:
            raise Refusal("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", 400)
        nonce = request.headers["x-acs-signature-nonce"]
        if nonce in self._nonces:
            raise Refusal("SignatureNonceUsed", "Specified signature nonce was used already.", 400)
        self._nonces.add(nonce)
        if request.headers.get("x-acs-action") != "SendSms" or request.headers.get("x-acs-version") != "2017-05-25":
            raise Refusal(
                "InvalidAction.NotFound", "Specified api is not found, please check your url and method.", 404
            )

    def _send(self, query: dict[str, str]) -> dict[str, Any]:
        mobile = query.get("PhoneNumbers", "")
        if not (len(mobile) == 11 and mobile.isdigit() and mobile.startswith("1")):
            raise Refusal("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if query.get("SignName") != self.sign_name:
            raise Refusal("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        template = query.get("TemplateCode", "")
        if template not in self.templates:
            raise Refusal("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(query.get("TemplateParam", "{}"))
        except ValueError:
            raise Refusal("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值") from None
        if not isinstance(values, dict) or set(values) != set(self.templates[template]):
            raise Refusal("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        self._variables(template, values)
        limit = self._limit(mobile)
        if limit is not None:
            raise Refusal("isv.BUSINESS_LIMIT_CONTROL", f"触发{LEVELS[limit]}级流控Permits:1")
        self._ids += 1
        biz_id = f"{900000 + self._ids}^0"
        self._record(mobile, template, values, query.get("OutId", ""), biz_id)
        return {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": secrets.token_hex(8).upper()}

    async def _dispatch(self, request: web.Request) -> web.Response:
        body = await request.read()
        query = dict(request.query)
        if self._failures:
            code, status = self._failures.popleft()
            self.refused.append({"code": code, "query": query, "http_status": status})
            if status != 200:
                return web.Response(status=status, text=f"<html>{status} injected</html>")
            return _json({"Code": code, "Message": "injected", "RequestId": secrets.token_hex(8).upper()})
        try:
            self._verify(request, body)
            return _json(self._send(query))
        except Refusal as exc:
            self.refused.append({"code": exc.code, "query": query, "http_status": exc.http_status})
            answer = {"Code": exc.code, "Message": exc.message, "RequestId": secrets.token_hex(8).upper()}
            return _json(answer, exc.http_status)


class FakeTencentSms(_FakeSms):
    """sms.tencentcloudapi.com: API 3.0 SendSms (2021-01-11), answered {"Response": {...}}."""

    provider = "tencent"
    LENGTH_CODE = "InvalidParameterValue.TemplateParameterLengthLimit"

    def __init__(self, *, app_id: str = "1400000001", **kw: Any) -> None:
        kw.setdefault("templates", {"1001": ["number", "status"], "1002": ["content"]})
        super().__init__(**kw)
        self.app_id = app_id

    def reply_push(self, mobile: str, text: str, *, at: int | None = None) -> bytes:
        """The reply callback: one object per owner's SMS (no id: phone + time + text identify it)."""
        item = {"extend": "", "mobile": mobile, "nationcode": "86", "sign": self.sign_name, "text": text}
        item["time"] = at if at is not None else int(self.now().timestamp())
        return json.dumps(item, ensure_ascii=False).encode("utf-8")

    def receipt_push(self, message_id: str, *, success: bool = True, errmsg: str = "DELIVRD") -> bytes:
        sent = next(s for s in self.sent if s["id"] == message_id)
        item = {
            "user_receive_time": self.now().astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S"),
            "nationcode": "86",
            "mobile": sent["mobile"],
            "report_status": "SUCCESS" if success else "FAIL",
            "errmsg": errmsg,
            "description": "用户短信送达成功" if success else "用户短信未送达",
            "sid": message_id,
        }
        return json.dumps([item], ensure_ascii=False).encode("utf-8")

    def _verify(self, request: web.Request, body: bytes) -> None:
        auth = request.headers.get("Authorization", "")
        prefix = "TC3-HMAC-SHA256 "
        if not auth.startswith(prefix):
            raise Refusal("AuthFailure.SignatureFailure", "no TC3-HMAC-SHA256 Authorization")
        fields = dict(part.strip().split("=", 1) for part in auth[len(prefix) :].split(",") if "=" in part)
        credential = fields.get("Credential", "").split("/")
        if len(credential) != 4 or credential[0] != self.key_id:
            raise Refusal("AuthFailure.SecretIdNotFound", "The SecretId is not found")
        _, date, service, _ = credential
        stamp = request.headers.get("X-TC-Timestamp", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            raise Refusal("AuthFailure.SignatureExpire", "Signature expired")
        if datetime.fromtimestamp(int(stamp), timezone.utc).strftime("%Y-%m-%d") != date or service != "sms":
            raise Refusal("AuthFailure.SignatureFailure", "credential scope does not match")
        signed = fields.get("SignedHeaders", "")
        headers = "".join(f"{h}:{request.headers.get(h, '')}\n" for h in signed.split(";"))
        canonical = "\n".join([request.method, request.path, request.query_string, headers, signed, _sha256(body)])
        scope = f"{date}/sms/tc3_request"
        to_sign = f"TC3-HMAC-SHA256\n{stamp}\n{scope}\n{_sha256(canonical.encode('utf-8'))}"
        key = _hmac(_hmac(_hmac(f"TC3{self.key_secret}".encode(), date), "sms"), "tc3_request")
        expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        if "host" not in signed.split(";") or not hmac.compare_digest(fields.get("Signature", ""), expected):
            raise Refusal("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        if request.headers.get("X-TC-Action") != "SendSms" or request.headers.get("X-TC-Version") != "2021-01-11":
            raise Refusal("InvalidAction", "The action is not found")

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("SmsSdkAppId") != self.app_id:
            raise Refusal("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId verify fail")
        if body.get("SignName") != self.sign_name:
            raise Refusal("FailedOperation.SignatureIncorrectOrUnapproved", "signature incorrect or unapproved")
        template = body.get("TemplateId")
        if template not in self.templates:
            raise Refusal("FailedOperation.TemplateIncorrectOrUnapproved", "template incorrect or unapproved")
        params = body.get("TemplateParamSet") or []
        if not isinstance(params, list) or len(params) != len(self.templates[template]):
            raise Refusal("FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "params do not match")
        values = dict(zip(self.templates[template], params, strict=True))
        self._variables(template, values)
        numbers = body.get("PhoneNumberSet") or []
        if not isinstance(numbers, list) or not 1 <= len(numbers) <= 200:
            raise Refusal("InvalidParameterValue.IncorrectPhoneNumber", "PhoneNumberSet")
        statuses = []
        for number in numbers:
            mobile = number[3:] if isinstance(number, str) and number.startswith("+86") else ""
            status = {
                "PhoneNumber": number,
                "Fee": 0,
                "SessionContext": body.get("SessionContext", ""),
                "IsoCode": "CN",
            }
            limit = self._limit(mobile) if len(mobile) == 11 and mobile.isdigit() else "bad"
            if limit == "bad":
                status |= {
                    "SerialNo": "",
                    "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                    "Message": "bad number",
                }
            elif limit is not None:
                code = {"minute": "PhoneNumberThirtySecondLimit", "hour": "PhoneNumberOneHourLimit"}.get(
                    limit, "PhoneNumberDailyLimit"
                )
                status |= {"SerialNo": "", "Code": f"LimitExceeded.{code}", "Message": "limit exceeded"}
                self.refused.append({"code": status["Code"], "body": body, "http_status": 200})
            else:
                self._ids += 1
                serial = f"2433:{3400000000 + self._ids}"
                self._record(mobile, template, values, body.get("SessionContext", ""), serial)
                text = f"【{self.sign_name}】" + "".join(values.values())
                status |= {"SerialNo": serial, "Code": "Ok", "Message": "send success", "Fee": billed_parts(text)}
            statuses.append(status)
        return {"SendStatusSet": statuses}

    async def _dispatch(self, request: web.Request) -> web.Response:
        raw = await request.read()
        request_id = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}"
        if self._failures:
            code, status = self._failures.popleft()
            self.refused.append({"code": code, "body": raw, "http_status": status})
            if status != 200:
                return web.Response(status=status, text=f"<html>{status} injected</html>")
            return _json({"Response": {"Error": {"Code": code, "Message": "injected"}, "RequestId": request_id}})
        try:
            self._verify(request, raw)
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise Refusal("InvalidParameter", "body is not JSON") from None
            answer = self._send(body)
        except Refusal as exc:
            self.refused.append({"code": exc.code, "body": raw, "http_status": 200})
            return _json({"Response": {"Error": {"Code": exc.code, "Message": exc.message}, "RequestId": request_id}})
        return _json({"Response": answer | {"RequestId": request_id}})


def _json(answer: dict[str, Any], status: int = 200) -> web.Response:
    """JSON with the bare Content-Type both providers send (Tencent's SDK looks for errors only then)."""
    body = json.dumps(answer, ensure_ascii=False).encode("utf-8")
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})
