"""Operations: the Rasa endpoints each configuration gets, secrets on first start, settings."""

from __future__ import annotations

import stat
import sys

import pytest

from connectors.settings import Settings
from ops.stack import REDIS_STORE, SQL_STORE, ensure_secrets, rasa_endpoints


def test_embedded_mode_keeps_rasa_conversations_in_a_sqlite_file_in_var(tmp_path):
    doc = rasa_endpoints("http://127.0.0.1:5055", None, None, tmp_path)
    assert doc == {
        "action_endpoint": {"url": "http://127.0.0.1:5055/webhook"},
        "tracker_store": {"type": SQL_STORE, "dialect": "sqlite", "db": str(tmp_path / "rasa_trackers.db")},
    }


def test_redis_url_moves_tracker_and_lock_stores_to_redis():
    doc = rasa_endpoints("http://a", "redis://:secret@cache.internal:6380/3", "postgresql://u:p@db/wuye", None, 90)
    assert doc["tracker_store"].pop("record_exp") == 90 * 24 * 3600  # conversations age out with messages
    assert doc["tracker_store"].pop("type") == REDIS_STORE  # Rasa's, with bounded sessions
    assert doc["lock_store"].pop("type") == "redis"
    for store in ("tracker_store", "lock_store"):
        assert doc[store] | {"password": "secret"} == {
            "url": "cache.internal",
            "port": 6380,
            "db": 3,
            "key_prefix": "wuye",
            "use_ssl": False,
            "password": "secret",
        }


def test_postgres_without_redis_keeps_the_tracker_in_postgres():
    doc = rasa_endpoints("http://a", None, "postgresql://wuye:pw@db.internal:5433/wuye")
    assert doc["tracker_store"] == {
        "type": SQL_STORE,
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 5433,
        "db": "wuye",
        "username": "wuye",
        "password": "pw",
    }
    assert "lock_store" not in doc


def test_a_session_length_cap_reaches_the_tracker_store(tmp_path):
    doc = rasa_endpoints("http://a", None, None, tmp_path, session_events=40)
    assert doc["tracker_store"]["max_session_events"] == 40


def test_secrets_are_generated_once_kept_private_and_reused(tmp_path):
    tokens, first = ensure_secrets(tmp_path, {})
    assert first and all(len(t) >= 32 for t in tokens.values())
    path = tmp_path / "secrets.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, generated = ensure_secrets(tmp_path, {})
    assert again == tokens and not generated


def test_a_token_from_the_environment_wins_and_is_not_written(tmp_path):
    tokens, _ = ensure_secrets(tmp_path, {"WUYE_ADMIN_TOKEN": "from-env"})
    assert tokens["WUYE_ADMIN_TOKEN"] == "from-env"
    assert "from-env" not in (tmp_path / "secrets.env").read_text()


def test_settings_refuse_to_start_without_tokens():
    with pytest.raises(SystemExit, match="WUYE_ADMIN_TOKEN"):
        Settings.from_env({})


def test_settings_defaults_are_embedded_and_loopback(tmp_path):
    settings = Settings.from_env(
        {"WUYE_ADMIN_TOKEN": "a", "WUYE_INTERNAL_TOKEN": "b", "WUYE_RASA_TOKEN": "c", "WUYE_VAR_DIR": str(tmp_path)}
    )
    assert settings.database_url == f"sqlite:///{tmp_path / 'wuye.db'}"
    assert settings.host == "127.0.0.1" and settings.port == 8080
    assert settings.demo_data is None


def test_rasa_s_token_is_never_on_its_command_line_and_reaches_it_as_one_word(tmp_path):
    """`ps` shows command lines to every local user; argparse reads `--auth-token -abc` as a
    missing value, so the wrapper passes it as one word."""
    from ops.rasa_run import rasa_argv
    from ops.stack import Stack

    stack = Stack(var_dir=tmp_path, env={"WUYE_RASA_TOKEN": "-starts-with-a-dash"})
    stack.tokens, _ = ensure_secrets(tmp_path, stack.env)
    argv = stack.rasa_command(tmp_path / "endpoints.yml")
    assert not any("starts-with-a-dash" in arg for arg in argv)
    assert argv[1:3] == ["-m", "ops.rasa_run"]
    inside = rasa_argv(argv[3:], {"WUYE_RASA_TOKEN": "-starts-with-a-dash"})
    assert inside[0] == "rasa" and inside[-1] == "--auth-token=-starts-with-a-dash"
    with pytest.raises(SystemExit):
        rasa_argv(argv[3:], {})


def test_secrets_endpoints_and_logs_are_private_from_the_first_byte(tmp_path):
    from ops.stack import Stack, write_private

    var = tmp_path / "var"
    ensure_secrets(var, {})
    assert (var / "secrets.env").stat().st_mode & 0o777 == 0o600
    old = tmp_path / "endpoints.yml"
    old.write_text("x")
    old.chmod(0o644)
    write_private(old, "password: s3cret")
    assert old.stat().st_mode & 0o777 == 0o600
    stack = Stack(var_dir=var, env={})
    made = tmp_path / "made.db"
    stack._spawn("gateway", [sys.executable, "-c", "import sys; open(sys.argv[1], 'w').close()", str(made)], {})
    try:
        stack.processes["gateway"].wait(10)
    finally:
        stack.stop()
    assert (var / "log" / "gateway.log").stat().st_mode & 0o777 == 0o600
    assert made.stat().st_mode & 0o777 == 0o600  # the children's umask: the SQLite store too


def test_stopping_the_stack_stops_every_process_it_started(tmp_path):
    """Ctrl+C on `make run` must not leave a dispatcher delivering in the background."""
    from ops.stack import Stack

    stack = Stack(var_dir=tmp_path, env={})
    for name in ("actions", "rasa", "gateway", "dispatcher"):
        stack._spawn(name, [sys.executable, "-c", "import time; time.sleep(120)"], {})
    started = dict(stack.processes)
    stack.stop()
    assert {name: proc.poll() is not None for name, proc in started.items()} == dict.fromkeys(started, True)
    assert stack.processes == {}


def test_a_process_that_dies_is_restarted_with_back_off_and_the_others_keep_running(tmp_path):
    """kill -9 of Rasa used to take the gateway, actions and dispatcher down with it."""
    import signal

    from ops.stack import RESTART_BACKOFF, Stack

    stack = Stack(var_dir=tmp_path, env={})
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    for name in ("rasa", "gateway"):
        stack._spawn(name, sleeper, {})
    try:
        gateway = stack.processes["gateway"]
        first = stack.processes["rasa"]
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        now = stack.started_at["rasa"]
        [said] = stack.supervise(now)
        assert said.startswith(f"rasa stopped (exit code -9); restarting it in {RESTART_BACKOFF[0]} s")
        assert stack.supervise(now + RESTART_BACKOFF[0] / 2) == []  # waits its back-off
        assert stack.supervise(now + RESTART_BACKOFF[0]) == ["rasa restarted (restart 1 in a row)"]
        second = stack.processes["rasa"]
        assert second.pid != first.pid and second.poll() is None
        second.send_signal(signal.SIGKILL)  # dies again at once: the next wait is longer
        second.wait(5)
        [said] = stack.supervise(now + RESTART_BACKOFF[0] + 1)
        assert f"restarting it in {RESTART_BACKOFF[1]} s" in said
        assert stack.processes["gateway"] is gateway and gateway.poll() is None  # never touched
    finally:
        stack.stop()
