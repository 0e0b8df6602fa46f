"""The root command and the one table that maps errors to exit codes."""

from __future__ import annotations

import sys
import traceback

import click
import typer
from sqlalchemy.exc import SQLAlchemyError
from typer.exceptions import TyperException

from changegate.cli import (
    audits,
    changes,
    configuration,
    demo,
    ledger,
    pipeline,
    policy,
    serve,
    tokens,
    users,
    waivers,
    worker,
)
from changegate.cli.output import error
from changegate.domain.errors import BadInput, Conflict, DomainError, Forbidden, Refused
from changegate.integrations.ports import IntegrationError

OK, REFUSED, BAD = 0, 1, 2

EXIT_CODES: dict[type[DomainError], int] = {
    Refused: REFUSED,
    Forbidden: REFUSED,
    BadInput: BAD,
    Conflict: BAD,
}

app = typer.Typer(
    name="changegate",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Change management that is enforced where it can be and evidenced always.",
)
users.register(app)
app.add_typer(changes.app, name="change")
app.add_typer(changes.pir_app, name="pir")
app.add_typer(ledger.app, name="ledger")
app.add_typer(policy.app, name="policy")
demo.register(app)
app.add_typer(tokens.app, name="token")
app.add_typer(pipeline.test_app, name="test")
app.add_typer(pipeline.gate_app, name="gate")
app.add_typer(pipeline.deploy_app, name="deploy")
app.add_typer(configuration.baseline_app, name="baseline")
app.add_typer(configuration.config_app, name="config")
app.add_typer(configuration.drift_app, name="drift")
app.add_typer(audits.audit_app, name="audit")
app.add_typer(audits.finding_app, name="finding")
app.add_typer(audits.review_app, name="review")
app.add_typer(waivers.app, name="waiver")
app.command("serve", help="Serve the REST API (OpenAPI at /docs).")(serve.serve)
worker.register(app)


def exit_code(exc: DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in EXIT_CODES:
            return EXIT_CODES[kind]
    return BAD


def run(argv: list[str]) -> int:
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="changegate", standalone_mode=False)
    except (click.exceptions.Exit, typer.Exit) as exc:
        return int(exc.exit_code)
    # Typer ships its own copy of click: its usage errors are not click's classes.
    except (click.ClickException, TyperException) as exc:
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        error(message.removeprefix("Value error, "))
        return BAD
    except (click.exceptions.Abort, typer.Abort):
        error("aborted")
        return BAD
    except DomainError as exc:
        error(exc.message)
        return exit_code(exc)
    except IntegrationError as exc:
        error(str(exc))
        return BAD
    except SQLAlchemyError as exc:
        error(f"database error: {str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}")
        return BAD
    except Exception as exc:  # the last line of defence: no traceback reaches a user
        if "--debug" in argv:
            traceback.print_exc()
        error(f"internal error ({type(exc).__name__}): {exc}")
        return BAD
    return result if isinstance(result, int) else OK


def main() -> None:
    sys.exit(run(sys.argv[1:]))
