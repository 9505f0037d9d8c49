"""The accounts seam of the service: authenticate once, then require_role before each action."""

from __future__ import annotations

import pytest

from annotator.errors import AnnotatorError, AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError


def test_authenticate_and_require_role(service):
    service.add_user("ana", "annotator", "ana's password")
    service.add_user("rita", "reviewer", "rita's password")
    ana = service.authenticate("ana", "ana's password")
    assert ana.name == "ana" and ana.role == "annotator" and ana.has_password
    assert "hash" not in ana.model_dump_json()
    assert service.require_role(ana, "annotator", "admin") is ana
    with pytest.raises(PermissionDeniedError) as err:
        service.require_role(ana, "admin")
    assert isinstance(err.value, AnnotatorError)
    assert "Expected: role admin" in err.value.message and "set-role ana admin" in err.value.message
    rita = service.authenticate("rita", "rita's password")
    service.require_role(rita, "reviewer")


def test_wrong_password_and_unknown_user_get_the_same_refusal(service):
    service.add_user("ana", "annotator", "ana's password")
    service.add_user("local", "annotator", None)
    messages = set()
    for name, password in (("ana", "not her password"), ("nobody", "ana's password"), ("local", "")):
        with pytest.raises(AuthenticationError) as err:
            service.authenticate(name, password)
        messages.add(err.value.message.replace(repr(name), "NAME"))
    assert len(messages) == 1


def test_list_set_role_reset_password(service):
    service.add_user("bo", "admin", "bo's password")
    service.add_user("ana", "annotator", "ana's password")
    assert [(u.name, u.role) for u in service.list_users()] == [("ana", "annotator"), ("bo", "admin")]
    assert service.set_role("ana", "reviewer").role == "reviewer"
    service.reset_password("ana", "a new password")
    with pytest.raises(AuthenticationError):
        service.authenticate("ana", "ana's password")
    assert service.authenticate("ana", "a new password").role == "reviewer"
    with pytest.raises(ValidationError, match="Unknown role"):
        service.set_role("ana", "superuser")
    with pytest.raises(NotFoundError):
        service.reset_password("nobody", "whatever password")


def test_people_who_labelled_before_accounts_get_a_login(service):
    service.create_project("small", ["a", "b"])
    service.import_records("small", [{"text": "one"}, {"text": "two"}])
    item = service.next_item("small", user="ana")
    service.submit("small", "ana", item.item_id, ["a"])
    assert [(u.name, u.role, u.has_password) for u in service.list_users()] == [("ana", "annotator", False)]
    with pytest.raises(AuthenticationError):
        service.authenticate("ana", "")
    service.reset_password("ana", "ana's password")
    assert service.authenticate("ana", "ana's password").name == "ana"
