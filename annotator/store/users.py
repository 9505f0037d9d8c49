"""Accounts: users, roles and argon2id password hashes.

A password is never stored, only its argon2id hash (argon2-cffi's defaults: salted, memory-hard);
``verify_password`` checks in constant time and spends the same work for an unknown user, so a
wrong name and a wrong password take as long. Query functions take a session and never commit.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from annotator.core.errors import ConflictError, NotFoundError, ValidationError
from annotator.core.schema import check_role
from annotator.store.tables import User

MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verified against when the user is unknown or has no password, so timing does not tell which.
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")




def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (at least MIN_PASSWORD_LENGTH characters)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            "The password is too short.", expected=f"at least {MIN_PASSWORD_LENGTH} characters",
            got=f"{len(password)} characters", fix="choose a longer password (a passphrase of a few words works)",
        )
    return _hasher.hash(password)


def get_user(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        names = session.exec(select(User.name).where(User.is_system == False).order_by(User.name)).all()  # noqa: E712
        raise NotFoundError(
            f"User {name!r} not found.", expected="the name of an existing user",
            got=f"{name!r}; users: {', '.join(names) or 'none yet'}",
            fix=f"check the spelling, or create it: python -m annotator user add {name} --role annotator",
        )
    return user


def list_users(session: Session, *, include_system: bool = False) -> list[User]:
    query = select(User).order_by(User.name)
    if not include_system:
        query = query.where(User.is_system == False)  # noqa: E712 - SQL comparison
    return list(session.exec(query).all())


def add_user(session: Session, name: str, *, role: str = "annotator", password: str | None = None) -> User:
    """Create a user; ``password`` None leaves it without a login (set one with set_password)."""
    check_role(role)
    name = name.strip()
    if not name:
        raise ValidationError("A user needs a name.", expected="a non-empty name", got="''",
                              fix="pass a name, e.g. python -m annotator user add ana --role annotator")
    if session.exec(select(User.id).where(User.name == name)).first() is not None:
        raise ConflictError(f"User {name!r} already exists.", expected="a new user name", got=repr(name),
                            fix=f"pick another name, or change its role: python -m annotator user set-role {name} ROLE")
    user = User(name=name, role=role, password_hash=hash_password(password) if password is not None else None)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as e:  # a concurrent add of the same name
        raise ConflictError(f"User {name!r} already exists.", got=repr(name), fix="pick another name") from e
    return user


def set_role(session: Session, name: str, role: str) -> User:
    """Give ``name`` the role ``role``; a change ends their open logins (``session_version``)."""
    check_role(role)
    user = get_user(session, name)
    if user.role != role:
        user.role = role
        _bump_session_version(user)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    """A new password for ``name``; ends their open logins (``session_version``), so whoever knew
    the old one is logged out, in every process."""
    user = get_user(session, name)
    user.password_hash = hash_password(password)
    _bump_session_version(user)
    session.add(user)
    session.flush()
    return user


def _bump_session_version(user: User) -> None:
    # An UPDATE … SET session_version = session_version + 1 in SQL: two concurrent bumps both count.
    user.session_version = User.session_version + 1  # type: ignore[assignment]


def session_version(session: Session, name: str) -> int | None:
    """The session version of account ``name`` (one lookup on the unique name index); None when the
    account does not exist. A login made under a smaller value is no longer valid."""
    return session.exec(select(User.session_version).where(User.name == name)).first()


def verify_password(session: Session, name: str, password: str) -> User | None:
    """The user if ``password`` is theirs, else None (unknown user, no password, or wrong password).

    Rehashes on success when argon2's parameters have changed since the hash was made.
    """
    user = session.exec(select(User).where(User.name == name)).first()
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if stored is None or user is None:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
        session.add(user)
        session.flush()
    return user


def any_password(session: Session) -> bool:
    """Whether any (non-system) account has a password, i.e. whether the app needs a login."""
    query = select(User.id).where(User.password_hash.is_not(None), User.is_system == False).limit(1)  # noqa: E712
    return session.exec(query).first() is not None


def count_role(session: Session, role: str) -> int:
    """How many (non-system) accounts have ``role``."""
    from sqlalchemy import func

    query = select(func.count()).select_from(User).where(User.role == role, User.is_system == False)  # noqa: E712
    return int(session.exec(query).one())
