"""PostgreSQL users: single-user (the user changes its own password) and alternating users
(a master secret creates/updates ``<user>_clone``; the secret alternates between the two).

Secret JSON (the RDS secret format, plus ``kind``)::

    {"kind": "postgres", "engine": "postgres", "host": "db.internal", "port": 5432,
     "dbname": "app", "username": "app", "password": "...",
     "ssl": true, "ssl_ca_bundle": "/opt/python/certs/global-bundle.pem",
     "password_length": 32, "exclude_characters": ":/@\\"'\\\\"}

``postgres-alternating`` also needs ``"masterarn"``: the ARN of a secret (same JSON shape) whose
user may create roles and change passwords.
"""

from dataclasses import dataclass, field
from typing import Protocol

from opswire.core.errors import (
    DatabaseAuthenticationError,
    RotationConfigurationError,
    RotationError,
    RotationTestFailedError,
)
from opswire.rotation.generic import PasswordGenerator, password_settings
from opswire.rotation.model import CURRENT, RotationContext, SecretValue

# AWS's own PostgreSQL rotation functions exclude these: they break connection strings.
DEFAULT_EXCLUDE = ":/@\"'\\"
CLONE_SUFFIX = "_clone"


@dataclass(frozen=True)
class DbLogin:
    """Where and as whom to log in. The password is kept out of ``repr``."""

    host: str
    port: int
    dbname: str
    username: str
    password: str = field(repr=False)
    ssl: bool = False
    ssl_ca_bundle: str | None = None


class Database(Protocol):
    """PostgreSQL, as the strategies need it (``opswire.rotation.aws.postgres_database``)."""

    def current_user(self, login: DbLogin) -> str:
        """Log in, return ``current_user``; ``DatabaseAuthenticationError`` if refused."""
        ...

    def set_password(self, login: DbLogin, role: str, password: str) -> None:
        """As ``login``, set ``role``'s password."""
        ...

    def role_exists(self, login: DbLogin, role: str) -> bool: ...

    def create_login_role(self, login: DbLogin, role: str, password: str, member_of: str) -> None:
        """As ``login``, create ``role`` (LOGIN, password) and grant it ``member_of``."""
        ...


class SecretReader(Protocol):
    def get_value(
        self, secret_id: str, stage: str, version_id: str | None = None
    ) -> str | None: ...


def db_login(value: SecretValue, what: str) -> DbLogin:
    port = value.get("port", 5432)
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise RotationConfigurationError(f"{what}: 'port' must be a TCP port")
    ssl = value.get("ssl", False)
    if not isinstance(ssl, bool):
        raise RotationConfigurationError(f"{what}: 'ssl' must be true or false")
    bundle = value.get("ssl_ca_bundle")
    if bundle is not None and not isinstance(bundle, str):
        raise RotationConfigurationError(f"{what}: 'ssl_ca_bundle' must be a file path")
    dbname = value.get("dbname", "postgres")
    if not isinstance(dbname, str) or not dbname:
        raise RotationConfigurationError(f"{what}: 'dbname' must be a string")
    return DbLogin(
        host=value.text("host", what),
        port=port,
        dbname=dbname,
        username=value.text("username", what),
        password=value.text("password", what),
        ssl=ssl,
        ssl_ca_bundle=bundle,
    )


class _PostgresBase:
    def __init__(self, database: Database, passwords: PasswordGenerator) -> None:
        self._db = database
        self._passwords = passwords

    def _new_password(self, current: SecretValue, what: str) -> str:
        length, exclude, punctuation = password_settings(
            current, what, "password_length", DEFAULT_EXCLUDE
        )
        return self._passwords.random_password(length, exclude, punctuation)

    def test(self, ctx: RotationContext) -> str:
        login = db_login(ctx.require_pending(), f"{ctx.secret} AWSPENDING")
        try:
            user = self._db.current_user(login)
        except DatabaseAuthenticationError as exc:
            raise RotationTestFailedError(
                f"{ctx.secret}: {login.username} cannot log in with the new password"
            ) from exc
        if user != login.username:
            raise RotationTestFailedError(
                f"{ctx.secret}: logged in as {user!r}, expected {login.username!r}"
            )
        tls = " over TLS" if login.ssl else ""
        return f"{login.username} logged in with the new password{tls}"

    def after_promotion(self, ctx: RotationContext) -> str:
        return ""

    def discard(self, ctx: RotationContext, value: SecretValue) -> None:
        return None  # nothing outside the secret was changed by create


class PostgresSingleUserStrategy(_PostgresBase):
    """``postgres``: the user changes its own password (logged in with the current password,
    or the previous one if a rotation was interrupted)."""

    def create(self, ctx: RotationContext) -> SecretValue:
        db_login(ctx.current, f"{ctx.secret} {CURRENT}")  # validate before generating
        return ctx.current.with_changes(password=self._new_password(ctx.current, ctx.secret))

    def set(self, ctx: RotationContext) -> str:
        pending = db_login(ctx.require_pending(), f"{ctx.secret} AWSPENDING")
        if self._logs_in(pending):
            return f"{pending.username} already logs in with the new password"
        candidates = [("AWSCURRENT", ctx.current)]
        if ctx.previous is not None:
            candidates.append(("AWSPREVIOUS", ctx.previous))
        for label, value in candidates:
            login = db_login(value, f"{ctx.secret} {label}")
            if login.username != pending.username:
                continue
            try:
                self._db.set_password(login, pending.username, pending.password)
            except DatabaseAuthenticationError:
                continue
            return f"{pending.username} changed its password (logged in with the {label} one)"
        raise RotationError(
            f"{ctx.secret}: {pending.username} can log in with neither the AWSCURRENT nor the "
            "AWSPREVIOUS password"
        )

    def _logs_in(self, login: DbLogin) -> bool:
        try:
            self._db.current_user(login)
        except DatabaseAuthenticationError:
            return False
        return True


class PostgresAlternatingStrategy(_PostgresBase):
    """``postgres-alternating``: the secret alternates between ``<user>`` and ``<user>_clone``;
    the master secret (``masterarn``) creates the clone (member of ``<user>``) or sets the
    password of whichever is next. The other user keeps working until the next rotation."""

    def __init__(
        self, database: Database, passwords: PasswordGenerator, secrets: SecretReader
    ) -> None:
        super().__init__(database, passwords)
        self._secrets = secrets

    def create(self, ctx: RotationContext) -> SecretValue:
        login = db_login(ctx.current, f"{ctx.secret} {CURRENT}")
        ctx.current.text("masterarn", ctx.secret)
        base = login.username.removesuffix(CLONE_SUFFIX)
        other = base if login.username.endswith(CLONE_SUFFIX) else base + CLONE_SUFFIX
        if len(other) > 63:
            raise RotationConfigurationError(
                f"{ctx.secret}: {other!r} is longer than PostgreSQL's 63-character names"
            )
        return ctx.current.with_changes(
            username=other, password=self._new_password(ctx.current, ctx.secret)
        )

    def set(self, ctx: RotationContext) -> str:
        pending = db_login(ctx.require_pending(), f"{ctx.secret} AWSPENDING")
        try:
            if self._db.current_user(pending) == pending.username:
                return f"{pending.username} already logs in with the new password"
        except DatabaseAuthenticationError:
            pass
        master = self._master_login(ctx, pending)
        base = pending.username.removesuffix(CLONE_SUFFIX)
        if self._db.role_exists(master, pending.username):
            self._db.set_password(master, pending.username, pending.password)
            return f"master set the password of {pending.username}"
        self._db.create_login_role(master, pending.username, pending.password, member_of=base)
        return f"master created {pending.username} (member of {base})"

    def _master_login(self, ctx: RotationContext, pending: DbLogin) -> DbLogin:
        arn = ctx.current.text("masterarn", ctx.secret)
        text = self._secrets.get_value(arn, CURRENT)
        if text is None:
            raise RotationConfigurationError(f"{ctx.secret}: the master secret has no value")
        master = SecretValue.parse(text, f"{ctx.secret} master secret")
        # The master secret may omit the endpoint: then it is the rotated secret's.
        merged = SecretValue(
            {
                "host": pending.host,
                "port": pending.port,
                "dbname": pending.dbname,
                "ssl": pending.ssl,
                **({"ssl_ca_bundle": pending.ssl_ca_bundle} if pending.ssl_ca_bundle else {}),
                **dict(master),
            }
        )
        return db_login(merged, f"{ctx.secret} master secret")
