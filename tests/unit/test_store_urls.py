"""PostgreSQL URLs: one host or several (a primary and its standby), and libpq's session attrs."""

from __future__ import annotations

import os

import pytest

from najda.projections.store.environment import postgres_env, postgres_hosts


def test_one_host_with_and_without_port() -> None:
    assert postgres_hosts("postgresql://u@db.example:6543/najda") == ("db.example", "6543")
    assert postgres_hosts("postgresql://u@db.example/najda") == ("db.example", "5432")
    env = postgres_env("postgresql://u:p%40ss@db.example/najda")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("u", "p@ss")
    assert env["POSTGRES_PRE_PING"] == "n"


def test_several_hosts_become_libpq_lists_and_pick_the_writable_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PGTARGETSESSIONATTRS", "any")  # restored (removed) after the test
    url = "postgresql://u@10.0.0.1:5432,[::1]:5433,standby/najda?target_session_attrs=read-write"
    env = postgres_env(url)
    assert env["POSTGRES_HOST"] == "10.0.0.1,::1,standby"
    assert env["POSTGRES_PORT"] == "5432,5433,5432"
    assert env["POSTGRES_DBNAME"] == "najda" and env["POSTGRES_PRE_PING"] == "y"
    assert os.environ["PGTARGETSESSIONATTRS"] == "read-write"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@h1:54x2/najda",
        "postgresql://u@h1/najda?target_session_attrs=writable",
        "postgresql://u@h1/",
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str) -> None:
    with pytest.raises(ValueError, match=r"port|target_session_attrs|no database"):
        postgres_env(url)
