"""The ``nautilus`` command line: one click group, thin commands over :class:`nautilus_core.api.Nautilus`.

Exit codes: 0 ok, 1 operational failure, 2 usage/config error, 3 plugin error. Errors become
one line on stderr (a traceback only with ``--debug``). Plugins add commands through
``nautilus_register_commands``; they are loaded the first time a command is looked up, after the
group's own options (``--strict``) are parsed. Heavy modules are imported lazily.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

import click

from nautilus_core.errors import NautilusError, PluginError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class State:
    """Per-invocation state handed to commands as ``ctx.obj``."""

    def __init__(self, *, strict: bool, debug: bool, log_level: str | None, log_format: str | None) -> None:
        self.strict, self.debug = strict, debug
        self.log_level, self.log_format = log_level, log_format
        self._app: Any = None
        self._plugins: Any = None
        self._settings: Any = None

    @property
    def settings(self) -> Any:
        """The validated :class:`~nautilus_core.config.Settings` (raises ``ConfigError``, exit 2)."""
        if self._settings is None:
            from nautilus_core.config import load_settings

            self._settings = load_settings(log_level=self.log_level, log_format=self.log_format)
        return self._settings

    @property
    def plugins(self) -> Any:
        if self._plugins is None:
            from nautilus_core.plugins import build_plugin_manager

            self._plugins = build_plugin_manager(strict=self.strict)
        return self._plugins

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None

    @property
    def app(self) -> Any:
        if self._app is None:
            from nautilus_core.api import Nautilus

            self._app = Nautilus(self.settings, plugins=self.plugins, strict=self.strict)
        return self._app


def _configure_logs(state: State) -> None:
    """Validate every setting (once, at start-up: a bad one exits 2 naming it) and configure logging."""
    from nautilus_core.logs import configure_logging

    settings = state.settings
    configure_logging("DEBUG" if state.debug else settings.log_level, settings.log_format)


def _configure_logs_leniently(state: State) -> None:
    """For ``--help`` and command lookup: a bad setting is reported by the group callback, not here."""
    try:
        _configure_logs(state)
    except NautilusError:
        from nautilus_core.logs import configure_logging

        configure_logging("DEBUG" if state.debug else "INFO", None)


class NautilusGroup(click.Group):
    """The top-level group: adds plugin commands on first lookup."""

    _plugins_loaded = False

    def _load_plugins(self, ctx: click.Context) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        state = ctx.find_object(State) or _state_from_params(ctx)
        ctx.obj = state
        _configure_logs_leniently(state)
        state.plugins.register_commands(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self._load_plugins(ctx)
        elif not self._plugins_loaded and ctx.params.get("strict"):
            self._load_plugins(ctx)  # --strict must see every plugin fail or load
        return super().get_command(ctx, cmd_name)


def _state_from_params(ctx: click.Context) -> State:
    p = ctx.params
    return State(strict=bool(p.get("strict")), debug=bool(p.get("debug")),
                 log_level=p.get("log_level"), log_format=p.get("log_format"))


def _version() -> str:
    from nautilus_core.plugins import _core_version

    return _core_version()


@click.group(cls=NautilusGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(None, "--version", "-V", package_name="nautilus-core", message="nautilus %(version)s")
@click.option("--strict", is_flag=True, envvar="NAUTILUS_STRICT",
              help="Fail (exit 3) when a plugin cannot be loaded instead of skipping it.")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                                               case_sensitive=False),
              help="Log level (env LOG_LEVEL, default INFO).")
@click.option("--log-format", type=click.Choice(["json", "text"]),
              help="Log format on stderr (env LOG_FORMAT; default text on a TTY, JSON otherwise).")
@click.pass_context
def cli(ctx: click.Context, strict: bool, debug: bool, log_level: str | None, log_format: str | None) -> None:
    """Operate Kubernetes fleets from a SQL database.

    \b
    Examples:
      nautilus demo                      # emulated fleet -> SQLite, print the fleet
      nautilus inventory sync            # discover and sync every provider
      nautilus plugins --json            # installed plugins and their hooks
      nautilus db upgrade                # create or upgrade the schema
    """
    if not isinstance(ctx.obj, State):
        ctx.obj = State(strict=strict, debug=debug, log_level=log_level, log_format=log_format)
    ctx.call_on_close(ctx.obj.close)
    _configure_logs(ctx.obj)  # every command starts with validated settings
    ctx.obj.plugins.validate_settings()  # ... the plugins' sections too (nautilus_register_settings)


def _register_builtin_commands() -> None:
    from nautilus_core.cli import core_commands

    for command in core_commands.COMMANDS:
        cli.add_command(command)


_register_builtin_commands()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        # standalone_mode=False: click returns ctx.exit()'s code instead of exiting
        result = cli.main(args=args, prog_name="nautilus", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except NautilusError as exc:
        if debug:
            _print_traceback(exc)
        kind = "plugin error" if isinstance(exc, PluginError) else "error"
        from nautilus_core.logs import redact_text

        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        click.echo(f"nautilus: {kind}: {redact_text(lines[0] if not debug else chr(10).join(lines))}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug or an unexpected failure: one line, traceback with --debug
        if debug:
            _print_traceback(exc)
        from nautilus_core.logs import redact_text

        # the first line only: database errors append the SQL and its parameters
        text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        click.echo(f"nautilus: unexpected error: {redact_text(text)} (run with --debug for the traceback)", err=True)
        return 1
    return result if isinstance(result, int) else 0


def _print_traceback(exc: BaseException) -> None:
    """The ``--debug`` traceback on stderr, with URL passwords, tokens and secrets masked."""
    from nautilus_core.logs import redact_text

    sys.stderr.write(redact_text("".join(traceback.format_exception(exc))))
    sys.stderr.flush()


def run() -> None:  # pragma: no cover - console script shim
    sys.exit(main())
