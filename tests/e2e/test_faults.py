"""The fault campaign (bench/faults.py, `make faults`), short: owners chat and staff move tickets
while parts of the stack die one after another; nothing an owner wrote is lost or answered twice,
and every status change reaches its owner once.

One stack of its own (PostgreSQL and a Redis the campaign starts, so killing them touches nothing
shared). Rasa's kill -9 is left to `make faults`: reloading the model takes longer than this test may."""

from __future__ import annotations

import psycopg
import pytest

from bench import faults
from tests.conftest import service_unavailable

SHORT = ["actions", "gateway", "dispatcher", "postgres", "redis"]


def test_nothing_is_lost_or_doubled_when_parts_of_the_stack_die_under_load(tmp_path):
    try:
        psycopg.connect(faults.POSTGRES_ADMIN, connect_timeout=5).close()
    except psycopg.Error as exc:
        service_unavailable("PostgreSQL", exc)
    report = faults.run_campaign(3, 8.0, SHORT, 90.0, tmp_path, print)
    table = faults.markdown(report)
    for phase in report["phases"]:
        assert phase.get("sent", 0) > 0, table
        for count in ("lost", "doubled", "notes_lost", "notes_doubled", "notes_stray"):
            assert phase.get(count, 0) == 0, table
        assert phase["delivered"] == phase["expected"] > 0, table
        assert phase["recovery_seconds"] is not None, table
    assert report["findings"] == [], table


@pytest.fixture(autouse=True)
def _redis_server_installed():
    if faults.shutil.which("redis-server") is None:
        service_unavailable("redis-server", FileNotFoundError("redis-server"))
