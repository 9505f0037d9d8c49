"""The accounts seam of the service: authenticate once, then require_role before each action."""

from __future__ import annotations

import pytest

from annotator.core.errors import AnnotatorError, AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError


def test_authenticate_and_require_role(service):
    service.accounts.add_user("ana", "annotator", "ana's password")
    service.accounts.add_user("rita", "reviewer", "rita's password")
    ana = service.accounts.authenticate("ana", "ana's password")
    assert ana.name == "ana" and ana.role == "annotator" and ana.has_password
    assert "hash" not in ana.model_dump_json()
    assert service.accounts.require_role(ana, "annotator", "admin") is ana
    with pytest.raises(PermissionDeniedError) as err:
        service.accounts.require_role(ana, "admin")
    assert isinstance(err.value, AnnotatorError)
    assert "Expected: role admin" in err.value.message and "set-role ana admin" in err.value.message
    rita = service.accounts.authenticate("rita", "rita's password")
    service.accounts.require_role(rita, "reviewer")


def test_wrong_password_and_unknown_user_get_the_same_refusal(service):
    service.accounts.add_user("ana", "annotator", "ana's password")
    service.accounts.add_user("local", "annotator", None)
    messages = set()
    for name, password in (("ana", "not her password"), ("nobody", "ana's password"), ("local", "")):
        with pytest.raises(AuthenticationError) as err:
            service.accounts.authenticate(name, password)
        messages.add(err.value.message.replace(repr(name), "NAME"))
    assert len(messages) == 1


def test_list_set_role_reset_password(service):
    service.accounts.add_user("bo", "admin", "bo's password")
    service.accounts.add_user("ana", "annotator", "ana's password")
    assert [(u.name, u.role) for u in service.accounts.list_users()] == [("ana", "annotator"), ("bo", "admin")]
    assert service.accounts.set_role("ana", "reviewer").role == "reviewer"
    service.accounts.reset_password("ana", "a new password")
    with pytest.raises(AuthenticationError):
        service.accounts.authenticate("ana", "ana's password")
    assert service.accounts.authenticate("ana", "a new password").role == "reviewer"
    with pytest.raises(ValidationError, match="Unknown role"):
        service.accounts.set_role("ana", "superuser")
    with pytest.raises(NotFoundError):
        service.accounts.reset_password("nobody", "whatever password")


def test_people_who_labelled_before_accounts_get_a_login(service):
    service.projects.create_project("small", ["a", "b"])
    service.imports.import_records("small", [{"text": "one"}, {"text": "two"}])
    item = service.queue.next_item("small", user="ana")
    service.queue.submit("small", "ana", item.item_id, ["a"])
    assert [(u.name, u.role, u.has_password) for u in service.accounts.list_users()] == [("ana", "annotator", False)]
    with pytest.raises(AuthenticationError):
        service.accounts.authenticate("ana", "")
    service.accounts.reset_password("ana", "ana's password")
    assert service.accounts.authenticate("ana", "ana's password").name == "ana"


# ---- login through the throttle ----------------------------------------------------------------

def test_login_slows_wrong_passwords_and_locks_the_name(service):
    from annotator.core.errors import LoginRefusedError
    from annotator.auth.throttle import LoginThrottle

    now = [0.0]
    service.accounts.login_throttle = LoginThrottle(base_delay_s=1.0, lock_after=3, lock_s=120.0, clock=lambda: now[0])
    service.accounts.add_user("ana", "annotator", "ana's password")
    assert service.accounts.login("ana", "ana's password").name == "ana"
    delays = []
    for _ in range(3):
        with pytest.raises(LoginRefusedError) as err:
            service.accounts.login("ana", "wrong password")
        delays.append(err.value.delay_s)
    assert delays == [1.0, 2.0, 4.0]
    assert err.value.locked_s == 120.0
    # Locked: even the right password is refused, without a password check, saying how long to wait.
    with pytest.raises(LoginRefusedError) as err:
        service.accounts.login("ana", "ana's password")
    assert "too many failed logins" in err.value.message and "wait 120 s" in err.value.message
    assert isinstance(err.value, AuthenticationError)
    now[0] += 121.0
    assert service.accounts.login("ana", "ana's password").role == "annotator"
    with pytest.raises(LoginRefusedError) as err:
        service.accounts.login("ana", "wrong again")
    assert err.value.delay_s == 1.0  # the success forgave the earlier failures


def test_auth_required_follows_passwords_and_setting(service):
    assert service.accounts.auth_required() is False  # single-user mode
    service.accounts.add_user("bo", "annotator", None)
    assert service.accounts.auth_required() is False  # an account without a password asks no login
    service.accounts.reset_password("bo", "bo's password")
    assert service.accounts.auth_required() is True
    service.settings.auth_required = True
    assert service.accounts.auth_required() is True


def test_last_admin_cannot_be_demoted(service):
    service.accounts.add_user("root", "admin", "root's password")
    with pytest.raises(ValidationError) as err:
        service.accounts.set_role("root", "annotator")
    assert "last admin" in err.value.message
    service.accounts.add_user("bo", "admin", "bo's password")
    assert service.accounts.set_role("root", "annotator").role == "annotator"


def test_login_counts_failures_per_address_too(service):
    from annotator.core.errors import LoginRefusedError
    from annotator.auth.throttle import LoginThrottle

    now = [0.0]
    service.accounts.login_throttle = LoginThrottle(base_delay_s=1.0, lock_after=5, lock_s=60.0, clock=lambda: now[0])
    service.accounts.address_throttle = LoginThrottle(base_delay_s=1.0, lock_after=3, lock_s=60.0, clock=lambda: now[0])
    service.accounts.add_user("ana", "annotator", "ana's password")
    delays = []
    for name in ("bo", "cy", "dee"):  # one guess per name from one address
        with pytest.raises(LoginRefusedError) as err:
            service.accounts.login(name, "guess", address="10.0.0.9")
        delays.append(err.value.delay_s)
    assert delays == [1.0, 2.0, 4.0]
    with pytest.raises(LoginRefusedError) as err:
        service.accounts.login("ana", "ana's password", address="10.0.0.9")
    assert "from 10.0.0.9" in err.value.message
    assert service.accounts.login("ana", "ana's password", address="10.0.0.7").name == "ana"  # another address
    assert service.accounts.login("ana", "ana's password").name == "ana"  # no address known: per name only
