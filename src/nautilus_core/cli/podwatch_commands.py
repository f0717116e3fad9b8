"""``nautilus podwatch``: pod triage — ``collect`` pods, Events and logs into the database, ``render``
the deploy manifests; ``serve`` (the dashboard) is added at the end of this file by the web part.

Thin commands over ``Nautilus.podwatch_collector`` (``podwatch.collect``) and ``podwatch.render``.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from nautilus_core.cli.output import Duration, pass_state
from nautilus_core.errors import ConfigError, NautilusError
from nautilus_core.logs import redact_text


@click.group("podwatch")
def podwatch_group() -> None:
    """Pod triage: which pods are failing, which container holds the problem, which log lines explain it.

    \b
    Examples:
      TARGET_NAMESPACE=shop nautilus podwatch collect
      nautilus podwatch collect --all-namespaces --provider kubeconfig --every 30s
      nautilus podwatch render --env-file podwatch.env | kubectl apply -f -
    """


@podwatch_group.command("collect")
@click.option("--namespace", "-n", "namespaces", multiple=True, metavar="NAME",
              help="Collect this namespace (repeatable; default: TARGET_NAMESPACE, comma-separated, '*' for all).")
@click.option("--all-namespaces", "-A", is_flag=True, help="Collect every namespace.")
@click.option("--provider", "providers", multiple=True, metavar="NAME",
              help="Clusters of this provider (repeatable; default: NAUTILUS_PROVIDERS or every registered one).")
@click.option("--context", "contexts", multiple=True, metavar="NAME",
              help="Only the cluster with this name / kubeconfig context (repeatable).")
@click.option("--every", type=Duration(), default=None, metavar="DURATION",
              help="Collect again every DURATION (30s, 5m) until interrupted; default: once (CronJob).")
@pass_state
def collect_command(state, namespaces, all_namespaces, providers, contexts, every) -> None:
    """Read pods, Events and recent logs; write the triage tables. Exit 1 when a namespace or cluster failed.

    Prints one line per namespace: `Sync complete namespace=<ns> pods=<n> containers=<n> logs=<n>`
    (with `cluster=<key>` when several clusters are collected).

    \b
    Examples:
      TARGET_NAMESPACE=shop LOG_TAIL_LINES=200 nautilus podwatch collect
      nautilus podwatch collect -n shop -n payments --context prod-eu
      nautilus podwatch collect -A --every 30s
    """
    if all_namespaces and namespaces:
        raise click.UsageError("--namespace and --all-namespaces are exclusive")
    scope = ["*"] if all_namespaces else list(namespaces) or None
    collector = state.app.podwatch_collector(providers=providers, contexts=contexts, namespaces=scope)
    stop = threading.Event()
    if every:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    code = 0
    while True:
        try:
            report = collector.run_once()
        except NautilusError as exc:
            if not every or isinstance(exc, ConfigError):
                raise
            click.echo(f"collect failed: {redact_text(str(exc))}", err=True)  # the loop survives a bad run
            code = 1
            if stop.wait(every):
                break
            continue
        for line in report.lines():
            click.echo(line)
        for failure in report.failures:
            click.echo(f"Sync failed {failure.where()}: {redact_text(failure.error or '')}", err=True)
        code = 1 if report.failures else 0
        if not every or stop.wait(every):
            break
    if code:
        raise click.exceptions.Exit(code)


@podwatch_group.command("render")
@click.option("--env-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Read the variables from this file (KEY=VALUE lines); the environment wins over it.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Write the manifests to this file instead of stdout.")
def render_command(env_file, output) -> None:
    """Print the Deployment, Service, CronJob, ServiceAccount and RBAC with the seed's variables filled in.

    Required: APP_NAMESPACE, APP_NAME, APP_VERSION, APP_IMAGE, TARGET_NAMESPACE, DB_HOST, DB_NAME,
    DB_USER. Optional: APP_REPLICAS (1), CONTAINER_PORT (8000), SERVICE_PORT (80), SERVICE_TYPE
    (ClusterIP), COLLECT_SCHEDULE (*/5 * * * *), LOG_TAIL_LINES (100), DB_PORT (5432), DB_SSL (true).
    The password is never rendered: the pods read DB_PASSWORD from the Secret <APP_NAME>-db.

    \b
    Examples:
      nautilus podwatch render --env-file podwatch.env | kubectl apply -f -
      kubectl -n shop create secret generic podwatch-db --from-literal=DB_PASSWORD=...
    """
    import os

    from nautilus_core.podwatch.render import read_env_file, render

    values = dict(read_env_file(env_file)) if env_file else {}
    values.update({k: v for k, v in os.environ.items() if k in _render_names()})
    text = render(values)
    if output:
        output.write_text(text)
    else:
        click.echo(text, nl=False)


def _render_names() -> frozenset[str]:
    from nautilus_core.podwatch.render import VARIABLES

    return frozenset(VARIABLES)
