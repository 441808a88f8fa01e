"""The SMS providers behind one small interface: send one approved template to one mobile.

Aliyun goes through its SDK's async client (alibabacloud-dysmsapi20170525, ``send_sms_async``,
ACS3-HMAC-SHA256 signed); Tencent Cloud through its SDK's async client
(tencentcloud-sdk-python-sms, ``sms_client_async``, TC3-HMAC-SHA256 signed, over httpx). Both
take the endpoint from WUYE_SMS_ENDPOINT, scheme and port included, so tests reach a fake on
127.0.0.1. Each provider's answer becomes a message id (what its receipts name) or a
ProviderError with the provider's own code, which the channel decides about.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from connectors.settings import SmsSettings

TIMEOUT_MS = 5000


@dataclass(frozen=True)
class Outgoing:
    mobile: str  # 11 digits
    template_code: str
    variables: dict[str, str]  # in the template's order (Tencent's parameters are positional)
    out_id: str  # our key for it (Aliyun echoes OutId, Tencent SessionContext)


@dataclass(frozen=True)
class Taken:
    """The provider accepted the message: its id, and the parts it billed when it says."""

    message_id: str
    parts: int | None = None


class ProviderError(Exception):
    """The provider refused or failed: ``code`` is its own error code ("" when it never answered)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code or 'no answer'}: {message[:200]}")
        self.code = code


class Provider(Protocol):
    name: str
    # The provider's codes: over a per-number limit (wait for tomorrow); never worth retrying.
    limit_codes: frozenset[str]
    permanent_codes: frozenset[str]

    async def send(self, message: Outgoing) -> Taken: ...

    async def close(self) -> None: ...


def _host(endpoint: str) -> tuple[str, str]:
    parts = urlsplit(endpoint)
    return parts.scheme or "https", parts.netloc


class Aliyun:
    name = "aliyun"
    limit_codes = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"})
    permanent_codes = frozenset(
        {
            "isv.MOBILE_NUMBER_ILLEGAL",
            "isv.SMS_TEMPLATE_ILLEGAL",
            "isv.SMS_SIGNATURE_ILLEGAL",
            "isv.TEMPLATE_MISSING_PARAMETERS",
            "isv.INVALID_PARAMETERS",
            "isv.PARAM_LENGTH_LIMIT",
            "isv.BLACK_KEY_CONTROL_LIMIT",
            "InvalidAccessKeyId.NotFound",
            "SignatureDoesNotMatch",
        }
    )

    def __init__(self, settings: SmsSettings) -> None:
        from alibabacloud_dysmsapi20170525.client import Client  # noqa: PLC0415 - only when chosen
        from alibabacloud_tea_openapi import models as openapi  # noqa: PLC0415

        scheme, host = _host(settings.endpoint)
        config = openapi.Config(
            access_key_id=settings.key_id,
            access_key_secret=settings.key_secret,
            endpoint=host,
            protocol=scheme,
            read_timeout=TIMEOUT_MS,
            connect_timeout=TIMEOUT_MS,
        )
        self.client = Client(config)
        self.sign_name = settings.sign_name

    async def close(self) -> None:
        """Nothing held: the SDK's async calls open and close their own aiohttp session."""

    async def send(self, message: Outgoing) -> Taken:
        from alibabacloud_dysmsapi20170525 import models  # noqa: PLC0415
        from darabonba.runtime import RuntimeOptions  # noqa: PLC0415

        request = models.SendSmsRequest(
            phone_numbers=message.mobile,
            sign_name=self.sign_name,
            template_code=message.template_code,
            template_param=json.dumps(message.variables, ensure_ascii=False, separators=(",", ":")),
            out_id=message.out_id,
        )
        runtime = RuntimeOptions(autoretry=False, read_timeout=TIMEOUT_MS, connect_timeout=TIMEOUT_MS)
        try:
            answer = await self.client.send_sms_with_options_async(request, runtime)
        except Exception as exc:
            raise ProviderError(str(getattr(exc, "code", "") or ""), f"{type(exc).__name__}: {exc}") from exc
        body = answer.body
        if body is None or body.code != "OK" or not body.biz_id:
            code = (body.code if body else "") or ""
            raise ProviderError(code, (body.message if body else "") or "no BizId")
        return Taken(body.biz_id)


class Tencent:
    name = "tencent"
    limit_codes = frozenset(
        {
            "LimitExceeded.PhoneNumberDailyLimit",
            "LimitExceeded.PhoneNumberOneHourLimit",
            "LimitExceeded.PhoneNumberThirtySecondLimit",
            "LimitExceeded.PhoneNumberSameContentDailyLimit",
        }
    )
    permanent_codes = frozenset(
        {
            "InvalidParameterValue.IncorrectPhoneNumber",
            "FailedOperation.TemplateIncorrectOrUnapproved",
            "FailedOperation.SignatureIncorrectOrUnapproved",
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            "InvalidParameterValue.TemplateParameterLengthLimit",
            "FailedOperation.PhoneNumberInBlacklist",
            "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
            "AuthFailure.SignatureFailure",
            "AuthFailure.SecretIdNotFound",
        }
    )

    def __init__(self, settings: SmsSettings) -> None:
        from tencentcloud.common import credential  # noqa: PLC0415 - only when chosen
        from tencentcloud.common.profile.client_profile import ClientProfile  # noqa: PLC0415
        from tencentcloud.common.profile.http_profile import HttpProfile  # noqa: PLC0415
        from tencentcloud.sms.v20210111.sms_client_async import SmsClient  # noqa: PLC0415

        scheme, host = _host(settings.endpoint)
        http = HttpProfile(endpoint=host, reqTimeout=TIMEOUT_MS // 1000)
        http.scheme = scheme
        secret = credential.Credential(settings.key_id, settings.key_secret)
        self.client = SmsClient(secret, settings.region, ClientProfile(httpProfile=http))
        self.app_id = settings.app_id
        self.sign_name = settings.sign_name

    async def close(self) -> None:
        await self.client.close()  # its httpx connection pool

    async def send(self, message: Outgoing) -> Taken:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (  # noqa: PLC0415
            TencentCloudSDKException,
        )
        from tencentcloud.sms.v20210111 import models  # noqa: PLC0415

        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{message.mobile}"]
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = message.template_code
        request.TemplateParamSet = list(message.variables.values())
        request.SessionContext = message.out_id
        try:
            answer = await self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise ProviderError(exc.code or "", exc.message or "") from exc
        except Exception as exc:
            raise ProviderError("", f"{type(exc).__name__}: {exc}") from exc
        statuses = answer.SendStatusSet or []
        if len(statuses) != 1:
            raise ProviderError("", "no SendStatusSet for the one number sent")
        status = statuses[0]
        if status.Code != "Ok" or not status.SerialNo:
            raise ProviderError(status.Code or "", status.Message or "")
        return Taken(status.SerialNo, status.Fee or None)


def provider_for(settings: SmsSettings) -> Provider | None:
    """The configured provider; None: the log provider."""
    if settings.provider == "aliyun":
        return Aliyun(settings)
    if settings.provider == "tencent":
        return Tencent(settings)
    return None
