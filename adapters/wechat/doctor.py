"""``chorus doctor``'s WeChat check: one ``stable_token`` call with the app id and secret.

Without ``force_refresh`` WeChat hands back the token every caller already shares, so the
check neither spends the daily token quota's refreshes nor invalidates the running hub's.
"""

from __future__ import annotations

from adapters.wechat.config import WeChatConfig
from hub.channels.checks import UNREACHABLE, CheckResult, ProbeContext, missing_setting, unreachable

# What the usual refusals mean, in words an operator can act on.
FIXES = {
    40013: "copy the AppID (开发者ID) from 开发 → 基本配置 into CHORUS_WECHAT__APP_ID",
    40125: "reset the AppSecret in 开发 → 基本配置 and set CHORUS_WECHAT__APP_SECRET",
    40164: "add this host's public IP to the IP whitelist (IP白名单) in 开发 → 基本配置",
}


async def check_credentials(section: WeChatConfig, ctx: ProbeContext) -> CheckResult:
    secret = section.app_secret.get_secret_value()
    if not section.app_id:
        return missing_setting("wechat", "app_id")
    if not secret:
        return missing_setting("wechat", "app_secret")
    url = section.api_base_url.rstrip("/") + "/cgi-bin/stable_token"
    body = {"grant_type": "client_credential", "appid": section.app_id, "secret": secret}
    try:
        async with ctx.http.post(url, json=body | {"force_refresh": False}) as resp:
            answer = await resp.json(content_type=None)
    except UNREACHABLE as exc:
        return unreachable("wechat", url, exc)
    if isinstance(answer, dict) and answer.get("access_token"):
        return CheckResult("wechat.credentials", "pass", f"stable_token: {section.app_id}")
    code = answer.get("errcode") if isinstance(answer, dict) else None
    message = answer.get("errmsg", "") if isinstance(answer, dict) else ""
    return CheckResult(
        "wechat.credentials",
        "fail",
        f"stable_token refused: {code} {message}".rstrip(),
        FIXES.get(code, "check wechat.app_id and wechat.app_secret against 开发 → 基本配置")
        if isinstance(code, int)
        else "check wechat.api_base_url and this host's outbound network",
    )
