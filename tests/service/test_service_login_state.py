"""Login state in the database through the service: the throttle is shared by every service on one
database (other processes, the next start), and session versions follow resets and role changes."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from annotator.core.config import Settings
from annotator.core.errors import LoginRefusedError
from annotator.service import AnnotatorService


def _service(settings: Settings, embedder) -> AnnotatorService:
    return AnnotatorService.from_settings(settings, embedder=embedder)


def test_a_lock_outlives_a_restart_and_holds_in_another_process(settings, fake_embedder):
    first = _service(settings, fake_embedder)
    first.accounts.add_user("ana", "annotator", "ana's password")
    for _ in range(settings.login_lock_after):
        with pytest.raises(LoginRefusedError):
            first.accounts.login("ana", "a wrong password")
    first.close()
    again = _service(settings, fake_embedder)  # the next start, or a second process on the same database
    try:
        with pytest.raises(LoginRefusedError) as err:
            again.accounts.login("ana", "ana's password")
        assert "too many failed logins" in err.value.message and err.value.locked_s > 0
        assert again.accounts.login_throttle.failures("ana") == settings.login_lock_after
    finally:
        again.close()


def test_address_failures_add_up_across_services(settings, fake_embedder):
    settings.login_address_lock_after = 4
    one, two = _service(settings, fake_embedder), _service(settings, fake_embedder)
    try:
        one.accounts.add_user("ana", "annotator", "ana's password")
        for svc, name in ((one, "bo"), (two, "cy"), (one, "dee"), (two, "eve")):
            with pytest.raises(LoginRefusedError):
                svc.accounts.login(name, "summer2026!", address="10.0.0.9")
        for svc in (one, two):
            with pytest.raises(LoginRefusedError, match="from 10.0.0.9"):
                svc.accounts.login("ana", "ana's password", address="10.0.0.9")
        assert two.accounts.login("ana", "ana's password", address="10.0.0.7").name == "ana"
    finally:
        one.close()
        two.close()


def test_session_version_follows_resets_and_role_changes(service):
    service.accounts.add_user("root", "admin", "root's password")
    service.accounts.add_user("ana", "annotator", "ana's password")
    assert service.accounts.session_version("ana") == 0
    assert service.accounts.session_version("nobody") is None
    service.accounts.reset_password("ana", "a new password")
    assert service.accounts.session_version("ana") == 1
    service.accounts.set_role("ana", "reviewer")
    assert service.accounts.session_version("ana") == 2
    service.accounts.set_role("ana", "reviewer")  # no change: open logins stay
    assert service.accounts.session_version("ana") == 2
    with pytest.raises(Exception, match="last admin"):
        service.accounts.set_role("root", "annotator")
    assert service.accounts.session_version("root") == 0  # a refused change bumps nothing


@pytest.mark.postgres
def test_postgres_throttle_and_session_versions_under_concurrent_services(pg_database_url, tmp_path, fake_embedder):
    """PostgreSQL: services on their own connections count every failure of one name (row locks),
    and a reset by one is seen by the other."""
    from annotator.store import make_engine

    engine = make_engine(pg_database_url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_database_url, demo=False,
                        login_lock_after=0, login_delay_s=0.0)
    services = [_service(settings, fake_embedder) for _ in range(4)]
    try:
        services[0].accounts.add_user("ana", "annotator", "ana's password")

        def guess(svc: AnnotatorService) -> None:
            for _ in range(10):
                with pytest.raises(LoginRefusedError):
                    svc.accounts.login("ana", "a wrong password")

        threads = [threading.Thread(target=guess, args=(svc,)) for svc in services]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert services[3].accounts.login_throttle.failures("ana") == 40
        services[1].accounts.reset_password("ana", "a new password")
        assert services[2].accounts.session_version("ana") == 1
    finally:
        for svc in services:
            svc.close()
