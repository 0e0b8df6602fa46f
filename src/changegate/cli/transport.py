"""Where a command runs: in-process on the configured database, or against a server.

With `CHANGEGATE_URL` (and `CHANGEGATE_TOKEN`) set, every command the API serves goes to the
API and the token is the identity, so `--as` is refused there; commands that exist only
locally say so. Without it, commands act on `CHANGEGATE_DATABASE_URL`, writes as the `--as`
user. Either way the command gets the same read model back, so it prints the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from changegate.cli import credentials, runtime
from changegate.config import Settings
from changegate.domain.errors import BadInput
from changegate.domain.users import normalise_email
from changegate.services.context import Context

if TYPE_CHECKING:
    from changegate.cli.remote import Remote

M = TypeVar("M")
Local = Callable[[Context], M]
RemoteCall = Callable[["Remote"], Any]


def remote_settings() -> Settings | None:
    """The server to act through: CHANGEGATE_URL, or the one `changegate login` stored."""
    settings = credentials.settings()
    return settings if settings.server_url else None


def _remote(
    settings: Settings, shape: Any, call: RemoteCall | None, as_: str | None, command: str
) -> Any:
    if as_:
        raise BadInput(
            "--as does not apply when acting through a server (CHANGEGATE_URL or "
            "`changegate login`): the token is the identity (set CHANGEGATE_DATABASE_URL "
            "to act on a local database)"
        )
    if call is None:
        raise BadInput(f"`changegate {command}` works on the local database only; {_to_local()}")
    assert settings.server_url is not None
    from changegate.cli.remote import Remote  # noqa: PLC0415  (httpx only when remote)

    answer = call(Remote(settings.server_url, settings.token))
    try:
        return TypeAdapter(shape).validate_python(answer)
    except ValidationError:
        raise BadInput(
            f"the server at {settings.server_url} answered in a shape this "
            "changegate does not understand (a different version?)"
        ) from None


def write(
    command: str,
    as_: str | None,
    shape: type[M] | Any,
    local: Local[M],
    remote: RemoteCall | None = None,
) -> M:
    """A use case that changes something, as the `--as` user or the token's principal."""
    settings = remote_settings()
    if settings is not None:
        result: M = _remote(settings, shape, remote, as_, command)
        return result
    if not as_:
        raise BadInput(
            "give --as EMAIL (who is acting), or set CHANGEGATE_URL and "
            "CHANGEGATE_TOKEN to act through a server"
        )
    actor = normalise_email(as_)
    with runtime.app() as cg:
        return cg.run(local, actor=actor)


def read(
    command: str,
    as_: str | None,
    shape: type[M] | Any,
    local: Local[M],
    remote: RemoteCall | None = None,
    reader: str | None = None,
) -> M:
    """A query. `reader`: why the query needs to know who reads (then --as is required)."""
    settings = remote_settings()
    if settings is not None:
        result: M = _remote(settings, shape, remote, as_, command)
        return result
    if reader and not as_:
        raise BadInput(f"give --as EMAIL: {reader}")
    actor = normalise_email(as_) if as_ else None
    with runtime.app() as cg:
        return cg.read(lambda ctx: local(ctx.acting_as(actor) if actor else ctx))


def fetch(command: str, as_: str | None, shape: type[M] | Any, remote: RemoteCall) -> M:
    """A query that, in remote mode, only the server can answer (the caller runs it locally
    otherwise, its own way)."""
    settings = remote_settings()
    assert settings is not None
    result: M = _remote(settings, shape, remote, as_, command)
    return result


def local_only(command: str) -> None:
    """Local administration acts on the database itself, never through a server."""
    if remote_settings() is not None:
        raise BadInput(
            f"`changegate {command}` is local administration: it acts on "
            f"CHANGEGATE_DATABASE_URL, not through a server; {_to_local()}"
        )


def _to_local() -> str:
    """How to act on a database instead: the server came from the environment or a login."""
    if Settings.from_env().server_url:
        return "unset CHANGEGATE_URL to run it"
    return "set CHANGEGATE_DATABASE_URL to run it (`changegate login` made this a server's CLI)"
