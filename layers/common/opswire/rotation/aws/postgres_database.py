"""PostgreSQL through pg8000 (pure Python: the arm64 layer needs no native wheel).

Passwords never travel in SQL text: ``ALTER ROLE ... PASSWORD`` receives a SCRAM-SHA-256
verifier computed here, so neither the server log (``log_statement``) nor an error message can
show the password. Identifiers are quoted with pg8000's ``identifier``. ``DbLogin.ssl`` requires
TLS with certificate and host name verification (``ssl_ca_bundle``, else the default trust
store); without it TLS is used unverified when the server offers it (like libpq's
``prefer``). pg8000 is imported on first use, not with this module.
"""

import base64
import hashlib
import hmac
import secrets
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from opswire.core.errors import (
    DatabaseAuthenticationError,
    DatabaseError,
    DatabaseUnavailableError,
    RotationConfigurationError,
)
from opswire.rotation.postgres import DbLogin

if TYPE_CHECKING:
    from pg8000.native import Connection

SCRAM_ITERATIONS = 4096
# SQLSTATEs whose server message names only users, roles and databases (safe to show).
_SAFE_MESSAGE_CLASSES = ("28", "3D", "42501", "42704")
_AUTH_STATES = ("28P01", "28000")


def scram_sha256_verifier(password: str, iterations: int = SCRAM_ITERATIONS) -> str:
    """The ``SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`` string PostgreSQL stores
    (RFC 5802/7677). PostgreSQL SASLprep-normalizes passwords; for ASCII that is the identity,
    so only ASCII passwords (what GetRandomPassword makes) are accepted here."""
    if not password.isascii():
        raise RotationConfigurationError("only ASCII passwords can be set by opswire")
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


class PostgresDatabase:
    """``Database`` of ``opswire.rotation.postgres``."""

    def __init__(self, timeout_seconds: int = 10) -> None:
        self._timeout = timeout_seconds

    def current_user(self, login: DbLogin) -> str:
        with self._connect(login) as connection:
            rows = self._run(connection, login, "SELECT current_user")
        return str(rows[0][0])

    def set_password(self, login: DbLogin, role: str, password: str) -> None:
        from pg8000.native import identifier, literal

        verifier = literal(scram_sha256_verifier(password))
        statement = f"ALTER ROLE {identifier(role)} WITH PASSWORD {verifier}"
        with self._connect(login) as connection:
            self._run(connection, login, statement)

    def role_exists(self, login: DbLogin, role: str) -> bool:
        with self._connect(login) as connection:
            rows = self._run(
                connection, login, "SELECT 1 FROM pg_roles WHERE rolname = :role", role=role
            )
        return bool(rows)

    def create_login_role(self, login: DbLogin, role: str, password: str, member_of: str) -> None:
        from pg8000.native import identifier, literal

        verifier = literal(scram_sha256_verifier(password))
        with self._connect(login) as connection:
            self._run(connection, login, "START TRANSACTION")
            self._run(
                connection, login, f"CREATE ROLE {identifier(role)} WITH LOGIN PASSWORD {verifier}"
            )
            self._run(connection, login, f"GRANT {identifier(member_of)} TO {identifier(role)}")
            self._run(connection, login, "COMMIT")

    # ---- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _connect(self, login: DbLogin) -> Iterator["Connection"]:
        import pg8000.exceptions
        from pg8000.native import Connection

        # ssl true: TLS required, certificate and host name verified. ssl false: pg8000's
        # default (None), TLS if the server offers it, unverified - libpq's sslmode=prefer.
        context = None
        if login.ssl:
            context = ssl.create_default_context(cafile=login.ssl_ca_bundle)
        where = f"{login.username}@{login.host}:{login.port}/{login.dbname}"
        try:
            connection = Connection(
                user=login.username,
                password=login.password,
                host=login.host,
                port=login.port,
                database=login.dbname,
                ssl_context=context,
                timeout=self._timeout,
                application_name="opswire-rotation",
            )
        except pg8000.exceptions.DatabaseError as exc:
            raise _database_error(exc, f"login as {where}") from exc
        except (pg8000.exceptions.InterfaceError, OSError) as exc:
            raise DatabaseUnavailableError(
                f"cannot reach PostgreSQL for {where}: {type(exc).__name__}"
                + (" (TLS)" if login.ssl else "")
            ) from exc
        try:
            yield connection
        finally:
            with suppress(pg8000.exceptions.InterfaceError, OSError):
                connection.close()

    def _run(self, connection: "Connection", login: DbLogin, sql: str, **params: Any) -> Any:
        import pg8000.exceptions

        try:
            return connection.run(sql, **params)
        except pg8000.exceptions.DatabaseError as exc:
            verb = sql.split(" ", 2)[:2]
            raise _database_error(exc, f"{' '.join(verb)} as {login.username}") from exc
        except (pg8000.exceptions.InterfaceError, OSError) as exc:
            raise DatabaseUnavailableError(
                f"PostgreSQL connection lost as {login.username}: {type(exc).__name__}"
            ) from exc


def _database_error(exc: Exception, doing: str) -> DatabaseError:
    fields = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    code = str(fields.get("C", "?????"))
    message = f"PostgreSQL refused {doing}: SQLSTATE {code}"
    if code.startswith(_SAFE_MESSAGE_CLASSES) and fields.get("M"):
        message += f" ({fields['M']})"
    if code in _AUTH_STATES:
        return DatabaseAuthenticationError(message)
    return DatabaseError(message)
