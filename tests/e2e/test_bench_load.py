"""bench/load.py for a few seconds against a real stack and a bare Rasa beside it (slow).

Protects: the benchmark starts the stack and bare Rasa (same model, same action server), plays
the mixed traffic through both in every mode, counts every message once (answered, held, empty
or error) with none lost or failing on an idle stack, reads the gateway's phase timings and
bare Rasa's /model/parse, reports every process's memory before and after the soak, and stops
every process it started. No timing is asserted: the numbers are bench/'s business.
"""

from __future__ import annotations

from bench import load

KINDS = ("answered", "held", "empty", "errors")


def counted_once(side: dict) -> bool:
    return side["sent"] == sum(side[k] for k in KINDS)


SHORT = "--sequential 4 --senders 2 --rates 2 --seconds 3 --warmup 1 --budget 3 --profile 2 --soak 2 --soak-rate 2"


def test_a_short_run_counts_every_reply_through_the_gateway_and_bare_rasa():
    args = load.parse_args(SHORT.split())
    report = load.run(args)

    runs = [report["sequential"], *report["closed_loop"], *report["open_loop"], report["soak"]]
    for run in runs:
        for side in ("gateway", "bare"):
            assert counted_once(run[side])
            assert run[side]["sent"] > 0 and run[side]["errors"] == 0 and run[side]["held"] == 0
    assert report["sequential"]["gateway"]["answered"] == report["sequential"]["bare"]["answered"] == 4

    budget = report["budget"]
    assert {"lock", "record", "respond", "reply", "turn", "rasa_call"} <= budget["gateway_phases_mean_ms"].keys()
    assert budget["bare_parse_mean_ms"] > 0

    profile = report["profile"]  # py-spy is a bench-only dependency: absent, the run says so and goes on
    assert "skipped" in profile or {"rasa_samples_percent", "gateway_samples_percent"} <= profile.keys()
    assert {"gateway", "rasa"} <= budget["cpu_ms_per_message_through_gateway"].keys()

    processes = {"actions", "rasa", "gateway", "dispatcher", "bare_rasa"}
    assert processes <= report["soak"]["memory_before_mb"].keys()
    assert processes <= report["soak"]["memory_after_mb"].keys()
    assert report["load_average_before"] and report["load_average_after"]
