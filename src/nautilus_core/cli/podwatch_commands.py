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


# ---------------------------------------------------------------------- serve (the web part)


@podwatch_group.command("serve")
@click.option("--host", default=None, metavar="ADDRESS",
              help="Listen on this address (env PODWATCH_HOST, default 127.0.0.1; else needs PODWATCH_TOKEN).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Listen on this port (env PODWATCH_PORT / CONTAINER_PORT, default 8000; 0: any free port).")
@click.option("--collect", is_flag=True,
              help="Also run the collector in this process, every PODWATCH_COLLECT_EVERY (or --every).")
@click.option("--every", type=Duration(), default=None, metavar="DURATION",
              help="With --collect: collect every DURATION (default PODWATCH_COLLECT_EVERY, 30s).")
@click.option("--namespace", "-n", "namespaces", multiple=True, metavar="NAME",
              help="With --collect: collect this namespace (repeatable; default TARGET_NAMESPACE).")
@click.option("--all-namespaces", "-A", is_flag=True, help="With --collect: collect every namespace.")
@click.option("--provider", "providers", multiple=True, metavar="NAME",
              help="With --collect: clusters of this provider (repeatable).")
@click.option("--context", "contexts", multiple=True, metavar="NAME",
              help="With --collect: only the cluster with this name / kubeconfig context (repeatable).")
@click.option("--pods-refresh", type=Duration(), default=30.0, show_default="30s", metavar="DURATION",
              help="How often the page reloads the pod list.")
@click.option("--logs-refresh", type=Duration(), default=10.0, show_default="10s", metavar="DURATION",
              help="How often the page reloads the open pod's logs.")
@click.option("--cache-ttl", type=Duration(), default=1.0, show_default="1s", metavar="DURATION",
              help="Reuse an API answer for identical requests this long (0: query every time).")
@click.option("--insecure", is_flag=True,
              help="Allow a non-loopback --host without PODWATCH_TOKEN (only behind an authenticating proxy).")
@pass_state
def serve_command(state, host, port, collect, every, namespaces, all_namespaces, providers, contexts,
                  pods_refresh, logs_refresh, cache_ttl, insecure) -> None:
    """Serve the pod triage dashboard (HTTP API + browser UI) from the database until interrupted.

    Reads the podwatch tables only; with --collect the collector runs in the same process. Set
    PODWATCH_TOKEN to require `Authorization: Bearer <token>` (API) or a sign-in (browser). The API
    is described at /openapi.json; /healthz answers without the token.

    \b
    Examples:
      nautilus podwatch serve                       # http://127.0.0.1:8000
      PODWATCH_TOKEN=s3cret nautilus podwatch serve --host 0.0.0.0
      TARGET_NAMESPACE=shop nautilus podwatch serve --collect --every 1m
    """
    from nautilus_core.podwatch.settings import PodwatchSettings
    from nautilus_core.web import WebOptions, serve

    if all_namespaces and namespaces:
        raise click.UsageError("--namespace and --all-namespaces are exclusive")
    if not collect and (every or namespaces or all_namespaces or providers or contexts):
        raise click.UsageError("--every, --namespace, --all-namespaces, --provider and --context need --collect")
    app = state.app
    section = app.settings_section(PodwatchSettings)
    token = section.token.get_secret_value() if section.token else None
    options = WebOptions(token=token or None, pods_refresh=pods_refresh, logs_refresh=logs_refresh,
                         cache_ttl=cache_ttl, allow_unauthenticated=insecure)
    also = []
    if collect:
        app.upgrade_database()
        scope = ["*"] if all_namespaces else list(namespaces) or None
        collector = app.podwatch_collector(providers=providers, contexts=contexts, namespaces=scope)
        also.append(collector.runnable(every or section.collect_every))
    else:
        app.require_schema()

    def ready(web) -> None:
        click.echo(f"Serving the pod triage dashboard on {web.url}" + (" (token required)" if token else ""))

    serve(app.engine, options, host=host or section.host, port=section.port if port is None else port,
          plugins=app.plugins, also=also, on_ready=ready)
