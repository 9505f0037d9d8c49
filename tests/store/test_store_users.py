"""Accounts in the store: argon2 hashes, roles, and the 0001 → 0002 upgrade keeping old users."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from annotator.core.errors import ConflictError, NotFoundError, ValidationError
from annotator.store import make_engine, transaction
from annotator.store import users as user_q
from annotator.store.engine import MIGRATIONS_DIR


def test_password_is_stored_only_as_an_argon2_hash(engine):
    with transaction(engine) as s:
        user_q.add_user(s, "ana", role="reviewer", password="correct horse")
    with transaction(engine) as s:
        stored = user_q.get_user(s, "ana").password_hash
        assert stored.startswith("$argon2id$") and "correct horse" not in stored
        assert user_q.verify_password(s, "ana", "correct horse").name == "ana"
        assert user_q.verify_password(s, "ana", "wrong horse!") is None
        assert user_q.verify_password(s, "nobody", "correct horse") is None


def test_same_password_gets_a_different_salted_hash(engine):
    with transaction(engine) as s:
        a = user_q.add_user(s, "a", password="same password").password_hash
        b = user_q.add_user(s, "b", password="same password").password_hash
    assert a != b


def test_user_without_password_cannot_log_in(engine):
    with transaction(engine) as s:
        user_q.add_user(s, "local")
        assert user_q.verify_password(s, "local", "") is None
        assert user_q.get_user(s, "local").role == "annotator"


def test_roles_and_passwords_change(engine):
    with transaction(engine) as s:
        user_q.add_user(s, "ana", password="first password")
        assert user_q.set_role(s, "ana", "admin").role == "admin"
        user_q.set_password(s, "ana", "second password")
        assert user_q.verify_password(s, "ana", "first password") is None
        assert user_q.verify_password(s, "ana", "second password") is not None


def test_errors_say_what_and_how_to_fix(engine):
    with transaction(engine) as s:
        user_q.add_user(s, "ana", password="a password")
    with pytest.raises(ValidationError, match="admin | annotator | reviewer"), transaction(engine) as s:
        user_q.add_user(s, "bo", role="owner")
    with pytest.raises(ConflictError, match="already exists"), transaction(engine) as s:
        user_q.add_user(s, "ana")
    with pytest.raises(NotFoundError) as err, transaction(engine) as s:
        user_q.set_role(s, "anna", "admin")
    assert "ana" in err.value.message and "Fix:" in err.value.message
    with pytest.raises(ValidationError, match="too short"), transaction(engine) as s:
        user_q.set_password(s, "ana", "short")


def test_upgrade_from_0001_keeps_existing_users_and_their_answers(tmp_path):
    """A data directory from before accounts, with people's answers pointing at their users (foreign
    keys on, as the app runs SQLite), upgrades in place; odd roles become 'annotator'."""
    from alembic import command
    from alembic.config import Config

    from annotator.core.config import Settings
    from annotator.embeddings import make_embedder
    from annotator.service import AnnotatorService

    settings = Settings(data_dir=tmp_path, demo=False, embedding_model="hashing")
    service = AnnotatorService.from_settings(settings, embedder=make_embedder("hashing"))
    service.projects.create_project("p", ["a", "b"])
    service.imports.import_records("p", [{"text": f"text {i}"} for i in range(6)])
    for _ in range(3):
        item = service.queue.next_item("p", "ana")
        service.queue.submit("p", "ana", item.item_id, ["a"])
    service.close()

    engine = make_engine(settings.resolved_database_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0001")
    with engine.begin() as c:
        c.execute(text("UPDATE user SET role = 'owner' WHERE name = 'ana'"))
    with engine.begin() as c:
        cfg.attributes["connection"] = c
        command.upgrade(cfg, "head")
    with transaction(engine) as s:
        got = {u.name: (u.role, u.password_hash) for u in user_q.list_users(s)}
        assert got["ana"] == ("annotator", None)
        user_q.set_password(s, "ana", "now with a password")
    with transaction(engine) as s:
        assert user_q.verify_password(s, "ana", "now with a password") is not None
    engine.dispose()
    service = AnnotatorService.from_settings(settings, embedder=make_embedder("hashing"))
    assert service.queue.progress("p").labelled == 3  # nothing that was stored is lost
    service.close()


def test_upgrade_from_0006_starts_existing_users_at_session_version_0(engine):
    """SQLite and PostgreSQL: the 0007 migration adds ``session_version`` (existing rows get 0) and the
    ``login_failure`` table, and a downgrade takes both away again."""
    from alembic import command
    from alembic.config import Config

    from annotator.store.engine import table_names

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0006")
    assert "login_failure" not in table_names(engine)
    with engine.begin() as c:
        c.execute(text("INSERT INTO \"user\" (name, role, is_system, created_at) "
                       "VALUES ('ana', 'annotator', false, CURRENT_TIMESTAMP)"))
    with engine.begin() as c:
        cfg.attributes["connection"] = c
        command.upgrade(cfg, "head")
    assert "login_failure" in table_names(engine)
    with transaction(engine) as s:
        assert user_q.session_version(s, "ana") == 0
        user_q.set_password(s, "ana", "a new password")
    with transaction(engine) as s:
        assert user_q.session_version(s, "ana") == 1


def test_a_password_reset_or_a_role_change_bumps_the_session_version(engine):
    with transaction(engine) as s:
        user_q.add_user(s, "ana", password="first password")
        assert user_q.session_version(s, "ana") == 0
        assert user_q.session_version(s, "nobody") is None
    with transaction(engine) as s:
        user_q.set_password(s, "ana", "second password")
    with transaction(engine) as s:
        assert user_q.session_version(s, "ana") == 1
        user_q.set_role(s, "ana", "annotator")  # the same role: nothing changes, logins stay
    with transaction(engine) as s:
        assert user_q.session_version(s, "ana") == 1
        user_q.set_role(s, "ana", "reviewer")
    with transaction(engine) as s:
        assert user_q.session_version(s, "ana") == 2
