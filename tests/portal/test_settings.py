"""A missing or invalid setting stops start-up with a message naming it."""

import os
import subprocess
import sys

import pytest

from tests.support.processes import REPO


def start_with(**environment) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("DEBUG", "maybe", "must be true or false"),
        ("DATABASE_URL", "mysql://db/portal", "must be a sqlite:/// or postgres:// URL"),
        ("REDIS_URL", "http://127.0.0.1:6379", "must be a redis:// URL"),
        ("SECRET_KEY", "short", "is shorter than 32 characters"),
        ("ALLOWED_HOSTS", " , ", "is empty"),
        ("HOST_CHECK_INTERVAL_SECONDS", "often", "must be a whole number of seconds"),
        ("IMAGE_UPLOAD_MAX_BYTES", "1G", "must be a whole number of bytes"),
        ("SNAPSHOT_CHAIN_WARNING_DEPTH", "0", "must be positive"),
        ("CONSOLE_TICKET_SECONDS", "0", "must be positive"),
        ("CONSOLE_TICKET_SECONDS", "2min", "must be a whole number of seconds"),
        ("CONSOLE_PROXY_URL", "http://127.0.0.1:6080", "must be a ws://host:port URL"),
        ("CONSOLE_PROXY_URL", "ws://127.0.0.1", "must be a ws://host:port URL"),
        ("BEHIND_HTTPS_PROXY", "perhaps", "must be true or false"),
    ],
)
def test_it_refuses_to_start_with_a_bad_setting_and_names_it(name, value, words):
    result = start_with(**{name: value})
    assert result.returncode != 0
    assert f"Setting {name} {words}" in result.stderr


def test_it_starts_with_the_defaults():
    result = start_with()
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def deploy_check(**environment) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update({"DEBUG": "false", **environment})  # SECRET_KEY: the one generated into var/
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def test_behind_an_https_proxy_the_deploy_check_is_clean():
    plain = deploy_check()
    assert plain.returncode != 0
    assert all(code in plain.stderr for code in ("W004", "W008", "W012", "W016"))
    behind = deploy_check(BEHIND_HTTPS_PROXY="true")
    assert behind.returncode == 0, behind.stderr
    assert "no issues" in behind.stdout
