"""Write bench/RESULTS.md from the last results in bench/results/ (run by `make bench`)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.faults import markdown as faults_markdown
from bench.growth import markdown as growth_markdown
from bench.load import markdown as load_markdown
from bench.nlu_eval import markdown as nlu_markdown
from bench.parse import markdown as parse_markdown

HERE = Path(__file__).parent
NOTES = HERE / "NOTES.md"  # hand-written interpretation, kept across regenerations
BLIND = HERE / "BLIND.md"  # the blind scores of each held-out batch, shown before everything else


def outbox_markdown(report: dict) -> str:
    lines = [
        f"On {report['machine']}, Python {report['python']}; PostgreSQL and Redis on the same machine.",
        "",
        "Tickets opened through the bot API (HTTP on loopback, what the chat actions call):",
        "",
        "| database | concurrent callers | tickets | seconds | tickets/s |",
        "| --- | --- | --- | --- | --- |",
    ]
    for run in report["tickets"]:
        lines.append(
            f"| {run['database']} | {run['callers']} | {run['tickets']} | {run['seconds']} | {run['per_second']} |"
        )
    lines += [
        "",
        "Status change committed → message in the owner's web chat mailbox (PostgreSQL). Burst: every",
        "ticket assigned and started by 8 writers at once (owner and technician notifications);",
        "steady: tickets resolved at a fixed rate.",
        "",
        "| dispatchers | wake-up | burst notifications | burst written s | burst drained s | burst p50 ms | "
        "burst p99 ms | steady rate/s | steady p50 ms | steady p99 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in report["delivery"]:
        burst, steady = run["burst"], run["steady"]
        lines.append(
            f"| {run['dispatchers']} | {run['mode']} | {burst['notifications']} | {burst['written_s']} | "
            f"{burst['drained_s']} | {burst['p50_ms']} | {burst['p99_ms']} | {steady['rate_per_s']} | "
            f"{steady['p50_ms']} | {steady['p99_ms']} |"
        )
    return "\n".join(lines)


def wechat_markdown(report: dict) -> str:
    lines = [
        f"Measured {report['measured_at']} on {report['machine']}, Python {report['python']}: the public app "
        f"against the fake WeChat (tests/fakes/wechat.py) on loopback, {report['mode']} mode, {report['store']} store, "
        f"Rasa replaced by a stand-in answering in {report['rasa_stand_in_delay_ms']} ms (so this is our code's time). "
        "Ratio: WeChat's figure over the web chat baseline measured in the same run.",
        "",
        "Acknowledgement of the callback as WeChat sees it (baseline: POST /api/chat); target p99 < 1 s:",
        "",
        "| concurrent owners | messages | web chat p50 / p99 ms | WeChat p50 / p99 ms | answered in the reply | "
        "ratio p50 | ratio p99 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in report["acknowledgement"]:
        web, wechat = run["webchat"], run["wechat"]
        lines.append(
            f"| {run['concurrent_owners']} | {run['messages']} | {web['p50_ms']} / {web['p99_ms']} | "
            f"{wechat['p50_ms']} / {wechat['p99_ms']} | {wechat['answered_in_the_reply']} | "
            f"{run['ratio_p50']} | {run['ratio_p99']} |"
        )
    run = report["delivery"]
    web, wechat = run["webchat"], run["wechat"]
    lines += [
        "",
        f"Status change committed → message at the fake platform (baseline: in a web chat owner's mailbox), "
        f"one dispatcher polling every {run['poll_s']} s, {run['rate_per_s']} changes/s; target p99 < 1 s:",
        "",
        "| updates per channel | web chat p50 / p99 ms | WeChat p50 / p99 ms | ratio p50 | ratio p99 |",
        "| --- | --- | --- | --- | --- |",
        f"| {wechat['n']} | {web['p50_ms']} / {web['p99_ms']} | {wechat['p50_ms']} / {wechat['p99_ms']} | "
        f"{run['ratio_p50']} | {run['ratio_p99']} |",
    ]
    return "\n".join(lines)


def wecom_markdown(report: dict) -> str:
    wecom, web, duty = report["wecom"], report["webchat"], report["duty_group"]
    return "\n".join(
        [
            f"Measured {report['measured_at']} on {report['machine']}, Python {report['python']}: the backend with "
            f"the wecom channel against the fake WeCom (tests/fakes/wecom.py) on loopback, {report['store']} store, "
            f"one dispatcher polling every {report['poll_s']} s, {report['rate_per_s']} assignments/s (two notices "
            "each, the delivery load of the WeChat run), "
            f"{report['technicians']} technicians (none past WeCom's 30 a minute). Ratio: WeCom's figure over the "
            "owner's web chat mailbox for the same change, measured in the same run.",
            "",
            "Assignment committed → app message at the fake WeCom; emergency committed → duty group robot's post; "
            "target p99 < 1 s:",
            "",
            "| path | n | p50 / p99 ms | ratio p50 | ratio p99 | dropped by WeCom |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| web chat mailbox (baseline) | {web['n']} | {web['p50_ms']} / {web['p99_ms']} | | | |",
            f"| WeCom app message | {wecom['n']} | {wecom['p50_ms']} / {wecom['p99_ms']} | {report['ratio_p50']} | "
            f"{report['ratio_p99']} | {report['dropped_by_wecom']} |",
            f"| duty group robot | {duty['n']} | {duty['p50_ms']} / {duty['p99_ms']} | | | |",
        ]
    )


def sms_markdown(report: dict) -> str:
    first = report["runs"][0]
    lines = [
        f"Measured {report['measured_at']} on {report['machine']}, Python {report['python']}: the backend with "
        f"the sms channel against the fake Aliyun and Tencent SMS (tests/fakes/sms.py) on loopback, each provider "
        f"in its own run, {report['store']} store, one dispatcher polling every {first['poll_s']} s, "
        f"{first['rate_per_s']} status changes/s (SMS and web chat owners alternating, one mobile per ticket so "
        "none nears the daily cap of 10). Ratio: SMS's figure over the web chat owners' mailbox for the same "
        "change, measured in the same run.",
        "",
        "Status change (in progress) committed → template message at the fake provider; target p99 < 1 s:",
        "",
        "| provider | n | web chat p50 / p99 ms | SMS p50 / p99 ms | ratio p50 | ratio p99 | refused by provider |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in report["runs"]:
        web, sms = run["webchat"], run["sms"]
        lines.append(
            f"| {run['provider']} | {sms['n']} | {web['p50_ms']} / {web['p99_ms']} | {sms['p50_ms']} / "
            f"{sms['p99_ms']} | {run['ratio_p50']} | {run['ratio_p99']} | {run['refused_by_provider']} |"
        )
    return "\n".join(lines)


def previous_sections() -> dict[str, str]:
    """The sections of the current RESULTS.md by heading: a benchmark not rerun (its json absent,
    bench/results/ is not committed) keeps its last published table instead of disappearing."""
    results = HERE / "RESULTS.md"
    if not results.exists():
        return {}
    sections: dict[str, str] = {}
    for chunk in results.read_text().split("\n## ")[1:]:
        heading, _, body = chunk.partition("\n")
        sections[f"## {heading}"] = body.strip()
    return sections


def console_markdown(report: dict) -> str:
    def row(label: str, figures: dict) -> str:
        return (
            f"| {label} | {figures['samples']} | {figures['p50_ms']} | {figures['p90_ms']} | {figures['p99_ms']} | "
            f"{figures['max_ms']} |"
        )

    verdict = "met" if report["meets_target"] else "**not met**"
    return "\n".join(
        [
            f"Measured {report['measured_at']} on {report['machine']}; {report['browser']}, against the stack "
            "`make run` starts (demo data, embedded SQLite). Baselines measured in the same run.",
            "",
            "| what | samples | p50 ms | p90 ms | p99 ms | max ms |",
            "| --- | --- | --- | --- | --- | --- |",
            row("page load: login → 会话 rows visible", report["page_load"]),
            row("baseline: the same API calls over HTTP", report["page_load_baseline"]),
            row("handoff visible in the console (owner sends 转人工 → row in 待人工)", report["handoff_visible"]),
            row("baseline: the web chat's answer to that message", report["chat_answer_baseline"]),
            row("baseline: polling /api/conversations every 50 ms", report["api_poll_baseline"]),
            "",
            f"Target (handoff visible p99 < {report['handoff_visible_p99_target_ms'] / 1000:g} s): {verdict}.",
        ]
    )


def scale_markdown(report: dict) -> str:
    """bench/scale.py: two Rasa instances against one, as ratios of the same round."""
    lines = [
        f"Measured {report['measured_at']} on {report['machine']}; load average "
        f"{report['load_average_at_start']} at the start, {report['load_average_at_end']} at the end (the machine "
        "is shared). Closed loop through one gateway, PostgreSQL and Redis; rounds alternate between a stack with "
        "one Rasa instance and one with two (each with its own action server); ratios are two/one, the median "
        f"over rounds, {report['conversations_per_run']} conversations per run.",
        "",
        "| concurrent senders | rounds | messages/s, one | messages/s, two | throughput two/one | p50 two/one | "
        "p99 two/one |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in report["ratios"]:
        lines.append(
            f"| {r['concurrent_senders']} | {r['rounds']} | {r['one_messages_per_second']} | "
            f"{r['two_messages_per_second']} | {r['throughput_two_over_one']} | {r['p50_two_over_one']} | "
            f"{r['p99_two_over_one']} |"
        )
    lines += [
        "",
        "Both Rasa processes share this machine's two cores with the gateway, the action servers and the databases:",
        "the ratio is what a second instance buys on one machine; on a second machine it adds cores as well.",
    ]
    return "\n".join(lines)


CALLBACKS = "load_<channel>"  # the callbacks' load runs: one section, a part per channel's file
CALLBACK_PARTS = (
    ("wechat", "### WeChat 公众号 callback (`make load CHANNEL=wechat`)"),
    ("sms", "### SMS upstream push (`make load CHANNEL=sms`)"),
    ("sms_redis", "### SMS upstream push, stores on Redis (`LOAD_ARGS=--redis-url …`, out load_sms_redis.json)"),
)


def callbacks_markdown() -> str | None:
    """bench/load.py --channel wechat|sms: each channel's run that has a results file."""
    parts = []
    for channel, title in CALLBACK_PARTS:
        path = HERE / "results" / f"load_{channel}.json"
        if path.exists():
            parts += [title, "", load_markdown(json.loads(path.read_text())), ""]
    return "\n".join(parts).strip() or None


def main() -> None:
    previous = previous_sections()
    parts = ["# Benchmark results", "", "Regenerated by `make bench` from bench/results/*.json.", ""]
    if BLIND.exists():
        parts += [BLIND.read_text().strip(), ""]
    for name, heading, render in (
        ("nlu_eval", "## Held-out NLU evaluation (bench/nlu_eval.py)", nlu_markdown),
        ("parse", "## Bulk `make parse` (bench/parse.py)", parse_markdown),
        ("load", "## Load: web chat API against bare Rasa (bench/load.py, `make load`)", load_markdown),
        ("soak", "## Soak: memory over a long run (bench/load.py --soak, `make soak`)", load_markdown),
        (
            "load_rasa1",
            "## Load on Redis, one Rasa instance (bench/load.py --rasa-instances 1 --redis-url …)",
            load_markdown,
        ),
        (
            "load_rasa2",
            "## Load on Redis, two Rasa instances (bench/load.py --rasa-instances 2 --redis-url …)",
            load_markdown,
        ),
        (CALLBACKS, "## Load over the WeChat and SMS callbacks (bench/load.py --channel wechat|sms)", None),
        ("outbox", "## Tickets and status-update delivery (bench/outbox.py)", outbox_markdown),
        ("wechat", "## WeChat (bench/wechat.py)", wechat_markdown),
        ("wecom", "## WeCom for staff (bench/wecom.py)", wecom_markdown),
        ("sms", "## SMS to owners (bench/sms.py)", sms_markdown),
        ("console", "## Staff console in a browser (bench/console.py)", console_markdown),
        ("faults", "## Faults under load (bench/faults.py, `make faults`)", faults_markdown),
        ("scale", "## One Rasa instance against two (bench/scale.py)", scale_markdown),
        ("growth", "## Cost that grows with the work (bench/growth.py)", growth_markdown),
    ):
        path = HERE / "results" / f"{name}.json"
        body = callbacks_markdown() if name == CALLBACKS else None
        if body is None and render is not None and path.exists():
            body = render(json.loads(path.read_text()))
        if body is not None:
            parts += [heading, "", body, ""]
        elif heading in previous:
            parts += [heading, "", previous[heading], ""]
    if NOTES.exists():
        parts += [NOTES.read_text().strip(), ""]
    (HERE / "RESULTS.md").write_text("\n".join(parts))
    print((HERE / "RESULTS.md").read_text())


if __name__ == "__main__":
    main()
