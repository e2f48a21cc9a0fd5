"""The ``ecgscope`` command: a Typer app assembled from one module per command.

Every module in :mod:`ecgscope.cli` other than this one and ``_common``
defines ``register(app: typer.Typer) -> None``; adding a command is adding a
file. Errors derived from :class:`~ecgscope.errors.ECGScopeError` print one
line and exit with status 2, never a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click
import typer
from rich.text import Text

from .. import __version__
from ..errors import ECGScopeError
from ._common import err_console

app = typer.Typer(
    name="ecgscope",
    help="Open ECG arrhythmia analysis: read, detect, classify, measure, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ecgscope {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Open ECG arrhythmia analysis."""


def _register_commands() -> None:
    package = sys.modules[__package__]
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name in ("app", "_common") or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit status."""
    try:
        status = app(args=argv, prog_name="ecgscope", standalone_mode=False)
    except ECGScopeError as exc:
        err_console.print(Text.assemble(("error: ", "bold red"), str(exc)), highlight=False, soft_wrap=True)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    return status if isinstance(status, int) else 0


def run() -> None:
    """Entry point used by the console script."""
    sys.exit(main())
