"""`switchboard admin create-user` and `switchboard serve` refusals."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from switchboard.cli import app
from switchboard.server.auth import verify_password
from switchboard.store import schema as s
from switchboard.store.db import current_revision, head_revision, open_db

runner = CliRunner()


def test_create_user_migrates_a_new_database_and_hashes_the_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    r = runner.invoke(app, ["admin", "create-user", "--db", url, "--username", "root",
                            "--password", "s3cret-pass", "--role", "admin",
                            "--tenant", "acme"])
    assert r.exit_code == 0, r.output
    db = open_db(url)
    assert current_revision(db) == head_revision()
    with db.connect() as conn:
        user = conn.execute(select(s.User)).one()
        tenant = conn.execute(select(s.Tenant)).one()
    db.dispose()
    assert (user.username, user.role, user.tenant_id, tenant.id) == ("root", "admin", "acme",
                                                                      "acme")
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "s3cret-pass")
    assert not verify_password(user.password_hash, "wrong")


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.db"
    base = ["admin", "create-user", "--db", url, "--username", "u"]
    cases = [
        ([*base, "--password", "short"], "password"),
        ([*base, "--password", "long-enough", "--role", "root"], "role"),
        ([*base, "--password", "long-enough", "--role", "agent"], "agent"),
        (["admin", "drop-all", "--db", url], "action"),
        (["admin", "create-user", "--db", "mysql://x/y", "--username", "u", "--password",
          "long-enough"], "db"),
    ]
    for args, field in cases:
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert r.stderr.startswith(f"error: {field}:"), r.stderr
        assert "Traceback" not in r.output
    ok = runner.invoke(app, [*base, "--password", "long-enough"])
    assert ok.exit_code == 0
    dup = runner.invoke(app, [*base, "--password", "long-enough"])
    assert dup.exit_code == 2 and "taken" in dup.stderr
    serve = runner.invoke(app, ["serve", "--db", "oracle://x/y"])
    assert serve.exit_code == 2 and serve.stderr.startswith("error: db:")
