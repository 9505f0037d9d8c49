"""Accounts: users, roles, passwords, session versions and the login throttles.

A password reset or a role change bumps the account's session version in the database (whichever
face asks: UI, CLI, API); the app ends every login made under an older version at its next request
(``session_version``). The throttles keep their counts in the database too
(``service.throttle_state``), so every process of the app and every restart share them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from annotator import store
from annotator.auth.throttle import LoginThrottle
from annotator.core.errors import (
    AuthenticationError,
    LoginRefusedError,
    PermissionDeniedError,
    ValidationError,
)
from annotator.core.schema import (
    Role,
    UserInfo,
)
from annotator.service.part import ServicePart
from annotator.service.throttle_state import DbThrottleState
from annotator.store import users as user_q

if TYPE_CHECKING:
    from annotator.service.facade import AnnotatorService

log = logging.getLogger(__name__)


class AccountsService(ServicePart):
    """People's accounts and logins (``svc.accounts``): add, list, set roles and passwords, log in behind
    the failed-login throttles. The last admin cannot be demoted, whichever face asks."""

    def __init__(self, svc: AnnotatorService) -> None:
        super().__init__(svc)
        # made on first use from the settings; tests replace them to inject a clock
        self._login_throttle: LoginThrottle | None = None
        self._address_throttle: LoginThrottle | None = None

    def local_admin(self, s, name: str) -> bool:  # noqa: ANN001 - session
        """Single-user mode (no account has a password, no auth_required): the local user is admin."""
        return name == self.settings.default_user and not self.settings.auth_required and not user_q.any_password(s)

    def add_user(self, name: str, role: str = Role.annotator.value, password: str | None = None) -> UserInfo:
        """Create an account; ``password`` None makes one without a login (set it with reset_password)."""
        with store.transaction(self.engine) as s:
            return _user_info(user_q.add_user(s, name, role=str(role), password=password))

    def list_users(self) -> list[UserInfo]:
        """Every person's account, by name (system users such as 'import' left out)."""
        with store.transaction(self.engine) as s:
            return [_user_info(u) for u in user_q.list_users(s)]

    def get_user(self, name: str) -> UserInfo:
        with store.transaction(self.engine) as s:
            return _user_info(user_q.get_user(s, name))

    def set_role(self, name: str, role: str) -> UserInfo:
        """Give ``name`` the role ``role``; a change ends their open logins at their next request (they
        log in again under the new role), in every process.

        Raises:
            ValidationError: ``name`` is the last admin and ``role`` is not admin (nobody could
                manage accounts then); every face (UI, CLI, API) gets this refusal.
        """
        with store.transaction(self.engine) as s:
            user = user_q.get_user(s, name)
            if user.role == Role.admin.value and str(role) != Role.admin.value and user_q.count_role(s, "admin") <= 1:
                raise ValidationError(
                    f"{name!r} is the last admin.", expected="at least one admin account", got=f"{name} → {role}",
                    fix="make another account admin first, then change this one",
                )
            return _user_info(user_q.set_role(s, name, str(role)))

    def reset_password(self, name: str, password: str) -> UserInfo:
        """A new password for ``name``; their open logins end at their next request, in every process."""
        with store.transaction(self.engine) as s:
            return _user_info(user_q.set_password(s, name, password))

    def session_version(self, name: str) -> int | None:
        """The session version of account ``name`` (None: no such account). It grows with each password
        reset and role change; a login made under a smaller value is no longer valid. One indexed
        lookup: the app asks it for each request (behind a short cache)."""
        with store.transaction(self.engine) as s:
            return user_q.session_version(s, name)

    def authenticate(self, name: str, password: str) -> UserInfo:
        """The account when ``password`` is right.

        Raises:
            AuthenticationError: unknown user, no password set, or a wrong password (one message
                for all three, so the answer does not tell which names exist).
        """
        with store.transaction(self.engine) as s:
            user = user_q.verify_password(s, name, password)
            if user is None:
                raise AuthenticationError(
                    f"Login refused for {name!r}.", expected="an existing user name and its password",
                    got="an unknown name, a user without a password, or a wrong password",
                    fix="check name and password; an admin can set one: python -m annotator user reset-password NAME",
                )
            return _user_info(user)

    @staticmethod
    def require_role(user: UserInfo, *roles: str) -> UserInfo:
        """``user`` if their role is one of ``roles``, else PermissionDeniedError."""
        allowed = [str(r) for r in roles]
        if str(user.role) not in allowed:
            raise PermissionDeniedError(
                f"User {user.name!r} ({user.role}) may not do this.", expected=f"role {' or '.join(allowed)}",
                got=str(user.role), fix="ask an admin: python -m annotator user set-role "
                f"{user.name} {allowed[0] if allowed else 'ROLE'}",
            )
        return user

    def auth_required(self) -> bool:
        """Whether the app must ask for a login: ``settings.auth_required``, or any account has a
        password. False is single-user mode: no login, the local user acts as admin."""
        if self.settings.auth_required:
            return True
        with store.transaction(self.engine) as s:
            return user_q.any_password(s)

    @property
    def login_throttle(self) -> LoginThrottle:
        """The failed-login throttle per name, its counts in the database (shared by every process and
        kept across restarts; tests replace it to inject a clock)."""
        throttle = self._login_throttle
        if throttle is None:
            throttle = self._login_throttle = LoginThrottle(
                base_delay_s=self.settings.login_delay_s, lock_after=self.settings.login_lock_after,
                lock_s=self.settings.login_lock_s, state=DbThrottleState(self.engine, "name:"))
        return throttle

    @login_throttle.setter
    def login_throttle(self, throttle: LoginThrottle) -> None:
        self._login_throttle = throttle

    @property
    def address_throttle(self) -> LoginThrottle:
        """The failed-login throttle per client address: guessing across many names from one address
        slows down too, and ``login_address_lock_after`` failures lock the address (counts in the
        database, like ``login_throttle``)."""
        throttle = self._address_throttle
        if throttle is None:
            throttle = self._address_throttle = LoginThrottle(
                base_delay_s=self.settings.login_delay_s, lock_after=self.settings.login_address_lock_after,
                lock_s=self.settings.login_lock_s, state=DbThrottleState(self.engine, "address:"))
        return throttle

    @address_throttle.setter
    def address_throttle(self, throttle: LoginThrottle) -> None:
        self._address_throttle = throttle

    def login(self, name: str, password: str, address: str | None = None) -> UserInfo:
        """``authenticate`` behind the throttles: the account when the password is right.

        ``address``: the client's address, when the caller knows it; failures count per name and
        per address (an address is never cleared by a success: one good account must not reset a
        guesser's count).

        Raises:
            LoginRefusedError: a wrong password (``delay_s``: how long to wait before answering;
                it doubles with each failure in a row), or a name or address locked after too many
                failures (``locked_s``; refused without checking the password).
        """
        throttle, by_address = self.login_throttle, self.address_throttle
        locked = by_address.locked_for(address) if address else 0.0
        if locked > 0:
            raise LoginRefusedError(
                f"Login refused from {address}: too many failed logins from this address.",
                delay_s=by_address.base_delay_s, locked_s=locked,
                expected=f"at most {by_address.lock_after - 1} wrong passwords in a row from one address",
                got=f"{by_address.failures(address)} in a row", fix=f"wait {locked:.0f} s",
            )
        locked = throttle.locked_for(name)
        if locked > 0:
            raise LoginRefusedError(
                f"Login refused for {name!r}: too many failed logins.", delay_s=throttle.base_delay_s,
                locked_s=locked, expected=f"at most {throttle.lock_after - 1} wrong passwords in a row",
                got=f"{throttle.failures(name)} in a row", fix=f"wait {locked:.0f} s, or ask an admin to "
                f"reset the password: python -m annotator user reset-password {name}",
            )
        try:
            user = self.authenticate(name, password)
        except AuthenticationError as e:
            delay = throttle.record_failure(name)
            if address:
                delay = max(delay, by_address.record_failure(address))
            raise LoginRefusedError(e.what, delay_s=delay, locked_s=throttle.locked_for(name), expected=e.expected,
                                    got=e.got, fix=e.fix) from e
        throttle.record_success(name)
        return user



def _user_info(user: store.User) -> UserInfo:
    return UserInfo(id=user.id, name=user.name, role=user.role, has_password=user.password_hash is not None,
                    is_system=user.is_system, created_at=user.created_at)
