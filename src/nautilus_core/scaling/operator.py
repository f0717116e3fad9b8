"""The ``intelligent-scaling`` operator (a reconciler): IntelligentScaling objects -> replicas of their Deployments.

Keys are ``group/namespace/name`` of IntelligentScaling objects (``nautilus.io`` and the seed's
``nimbusguard.io``). Each reconcile, at most once per ``polling_interval`` unless the object changed:
parse the spec (a bad one is a ``Ready=False`` condition naming the field, nothing scaled); find the
Deployments in ``spec.namespace`` matching ``target_labels`` through the shared cache; refuse targets
also selected by another IntelligentScaling or a HorizontalPodAutoscaler (a condition naming them);
query every metric (identical queries of one cycle sent once, across objects); ask the named scaling
engine from the plugin registry; clamp; change the scale subresource of each target whose replicas
differ (never in ``dry_run``); record the decision in status (history kept there, so a restart
remembers the stabilization window and scale events) and in a Kubernetes Event. Prometheus down or
without a value: hold (or the ``fallback`` replicas after N failures), never scale to zero by it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog

from nautilus_core.errors import ConfigError, InvalidObjectError, NautilusError
from nautilus_core.kube import KubeApiError, NotFound
from nautilus_core.kube.selectors import Selector
from nautilus_core.scaling.metrics import ScalingMetrics
from nautilus_core.scaling.model import (
    GROUPS,
    PLURAL,
    VERSION,
    IntelligentScalingSpec,
    ScalingSettings,
    crds,
    parse_spec,
)
from nautilus_core.scaling.prometheus import Auth, PrometheusClient, PrometheusUnavailable, PromQLError, QueryCache
from nautilus_core.types import (
    BaseReconciler,
    ControllerContext,
    MetricSample,
    Outcome,
    Request,
    ScalingInput,
    Source,
    Watch,
)

log = structlog.get_logger(__name__)
NAME = "intelligent-scaling"
HISTORY_SECONDS = 3600  # recommendations and scale events kept in status (longest window + policy period)
MAX_HISTORY = 200
BEHAVIOR_ENGINES = ("hpa", "predictive")  # the engines that take the HPA v2 ``behavior`` option


def now_iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    group = str(obj.get("apiVersion") or "").split("/", 1)[0]
    return f"{group}/{meta.get('namespace', '')}/{meta.get('name', '')}"


class IntelligentScalingReconciler(BaseReconciler):
    name = NAME

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.cache, self.kube = ctx.cache, ctx.kube
        self.metrics = ScalingMetrics(ctx.metrics.registry if ctx.metrics is not None else None)
        self._clients: dict[tuple[str, str], PrometheusClient] = {}
        self._cycles: dict[int, QueryCache] = {}
        self._lock = threading.Lock()
        self.clock = time.time
        self.groups = served_groups(ctx.kube)
        if not self.groups and ctx.plugins is not None and ctx.settings_section(ScalingSettings).install_crd:
            self.groups = install_crds(ctx.kube)
        if not self.groups:
            names = " or ".join(f"{PLURAL}.{g}" for g in GROUPS)
            raise ConfigError(f"{NAME}: the CustomResourceDefinition {names} is not installed; "
                              "install it with `nautilus scaling install-crd` (or let the operator do it: "
                              "NAUTILUS_SCALING_INSTALL_CRD=true)")

    # ------------------------------------------------------------------ sources

    def sources(self) -> Iterable[Source]:
        def scaler_keys(event: str, obj: Mapping[str, Any]) -> list[str]:
            return [_key(obj)]

        def target_keys(event: str, obj: Mapping[str, Any]) -> list[str]:
            namespace = (obj.get("metadata") or {}).get("namespace")
            return [k for k, scaler in self._scalers() if (scaler.get("spec") or {}).get("namespace") == namespace]

        out: list[Source] = [Watch(f"{group}/{VERSION}", PLURAL, scaler_keys) for group in self.groups]
        out.append(Watch("apps/v1", "deployments", target_keys))
        out.append(Watch("autoscaling/v2", "horizontalpodautoscalers", target_keys))
        return out

    def _scalers(self) -> list[tuple[str, dict[str, Any]]]:
        return [(_key(obj), obj) for group in self.groups for obj in self.cache.cached(f"{group}/{VERSION}", PLURAL)]

    def keys(self) -> Iterable[str]:
        return [k for k, _obj in self._scalers()]

    # ------------------------------------------------------------------ reconcile

    def reconcile(self, request: Request) -> Outcome:
        group, namespace, name = request.key.split("/", 2)
        obj = self.cache.get(f"{group}/{VERSION}", PLURAL, name, namespace)
        if obj is None:
            return Outcome.done()
        status = dict(obj.get("status") or {})
        now = self.clock()
        try:
            spec = parse_spec(obj)
        except InvalidObjectError as exc:
            self._write_status(group, obj, status, now, error=str(exc), conditions=[
                ("Ready", False, "InvalidSpec", str(exc)), ("ScalingActive", False, "InvalidSpec", str(exc))])
            return Outcome.done()
        due = status.get("observedGeneration") != (obj.get("metadata") or {}).get("generation")
        last = status.get("lastDecisionUnix")
        if not due and isinstance(last, int | float) and now - last < spec.polling_interval:
            return Outcome.requeue(spec.polling_interval - (now - last))
        self._decide(group, obj, spec, status, now)
        return Outcome.requeue(spec.polling_interval)

    def _targets(self, spec: IntelligentScalingSpec, me: str) -> tuple[list[dict[str, Any]], list[str]]:
        selector = Selector.parse(",".join(f"{k}={v}" for k, v in sorted(spec.target_labels.items())))
        deployments = [d for d in self.cache.list("apps/v1", "deployments", spec.namespace)
                       if selector.matches((d.get("metadata") or {}).get("labels") or {})]
        conflicts: list[str] = []
        others = [(k, o) for k, o in self._scalers() if k != me]
        hpas = self.cache.list("autoscaling/v2", "horizontalpodautoscalers", spec.namespace)
        usable = []
        for dep in deployments:
            dname = dep["metadata"]["name"]
            fighting = [f"IntelligentScaling {k}" for k, o in others if _selects(o, spec.namespace, dep)]
            fighting += [f"HorizontalPodAutoscaler {spec.namespace}/{h['metadata']['name']}" for h in hpas
                         if ((h.get("spec") or {}).get("scaleTargetRef") or {}).get("name") == dname
                         and ((h.get("spec") or {}).get("scaleTargetRef") or {}).get("kind") == "Deployment"]
            if fighting:
                conflicts.append(f"Deployment {spec.namespace}/{dname} is also scaled by {', '.join(fighting)}")
            else:
                usable.append(dep)
        return usable, conflicts

    def _client(self, spec: IntelligentScalingSpec, namespace: str) -> PrometheusClient:
        auth = self._auth(spec, namespace)
        key = (spec.metrics_config.prometheus_url, repr(auth.headers()))
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = PrometheusClient(spec.metrics_config.prometheus_url, auth=auth,
                                                               timeout=spec.metrics_config.timeout_seconds)
            return client

    def _auth(self, spec: IntelligentScalingSpec, namespace: str) -> Auth:
        cfg = spec.metrics_config.auth
        if cfg is None:
            return Auth()

        def secret(ref: Any) -> str | None:
            if ref is None:
                return None
            obj = self.cache.get("v1", "secrets", ref.name, namespace)
            raw = ((obj or {}).get("data") or {}).get(ref.key)
            if raw is None:
                raise InvalidObjectError(f"Secret {namespace}/{ref.name}", f"data.{ref.key}", "is missing")
            import base64
            return base64.b64decode(raw).decode()

        return Auth(token=secret(cfg.bearer_token), username=secret(cfg.basic_username),
                    password=secret(cfg.basic_password), ca_pem=secret(cfg.ca),
                    insecure_skip_verify=cfg.insecure_skip_verify)

    def _cycle(self, interval: int, now: float) -> QueryCache:
        """The query cache shared by every object polled in the same interval bucket."""
        bucket = int(now // max(1, interval)) * 100000 + interval
        with self._lock:
            for old in [b for b in self._cycles if b != bucket and b % 100000 == interval]:
                del self._cycles[old]
            return self._cycles.setdefault(bucket, QueryCache())

    def _decide(self, group: str, obj: dict[str, Any], spec: IntelligentScalingSpec, status: dict[str, Any],
                now: float) -> None:
        key = _key(obj)
        try:
            targets, conflicts = self._targets(spec, key)
        except NautilusError as exc:
            self._write_status(group, obj, status, now, error=str(exc),
                               conditions=[("Ready", False, "TargetsUnknown", str(exc))])
            return
        if not targets:
            reason = "; ".join(conflicts) or (f"no Deployment in namespace {spec.namespace} matches "
                                              f"{spec.target_labels}")
            self._write_status(group, obj, status, now, error=reason, targets=0, conditions=[
                ("Ready", True, "Reconciled", "watching for targets"),
                ("AbleToScale", False, "Conflict" if conflicts else "NoTargets", reason),
                ("ScalingActive", False, "NoTargets", reason)])
            return
        # metrics
        samples, failures, values = [], [], {}
        cycle = self._cycle(spec.polling_interval, now)
        try:
            client = self._client(spec, spec.namespace)
        except InvalidObjectError as exc:
            self._write_status(group, obj, status, now, error=str(exc), conditions=[
                ("Ready", False, "InvalidAuth", str(exc)), ("ScalingActive", False, "InvalidAuth", str(exc))])
            return
        bad_query = None
        for i, metric in enumerate(spec.metrics_config.metrics):
            label = metric.name or f"metric-{i}"
            try:
                value = cycle.query(client, metric.query)
            except PromQLError as exc:
                bad_query, value = str(exc), None
            except PrometheusUnavailable as exc:
                failures.append(str(exc))
                value = None
            values[label] = value
            samples.append(MetricSample(label, value, metric.threshold, metric.condition))
        self.metrics.health("prometheus", not failures and bad_query is None)
        self.metrics.health("kubernetes", True)
        if bad_query is not None:
            self._write_status(group, obj, status, now, error=bad_query, targets=len(targets), conditions=[
                ("Ready", False, "InvalidMetric", bad_query), ("ScalingActive", False, "InvalidMetric", bad_query)])
            return
        current = sum(int((d.get("spec") or {}).get("replicas") or 0) for d in targets) // len(targets)
        failed_in_a_row = int(status.get("metricFailures") or 0) + 1 if failures or all(
            v is None for v in values.values()) else 0
        history = [(float(t), int(r)) for t, r in status.get("recommendations") or [] if now - float(t) <= 600]
        events = [(float(t), int(c)) for t, c in status.get("scaleEvents") or [] if now - float(t) <= HISTORY_SECONDS]
        engine_name = spec.engine
        try:
            engine = self.ctx.plugins.scaling_engines()[engine_name].obj
        except (KeyError, AttributeError):
            message = f"spec.engine: unknown scaling engine {engine_name!r}"
            self._write_status(group, obj, status, now, error=message, targets=len(targets), conditions=[
                ("Ready", False, "InvalidSpec", message), ("ScalingActive", False, "UnknownEngine", message)])
            self.metrics.health("decision_engine", False)
            return
        fallback = spec.fallback
        wanted: int | None = None  # what the engine asked for before any bound
        if fallback and failed_in_a_row >= fallback.failure_threshold:
            desired, reason = fallback.replicas, (f"{failed_in_a_row} metric failures in a row: holding the "
                                                  f"fallback of {fallback.replicas} replicas")
        elif failures or all(v is None for v in values.values()):
            desired = current  # hold: never scale on missing data (and never to zero by accident)
            reason = "no metric value" + (f" ({failures[0]})" if failures else "") + f": holding {current} replicas"
        else:
            options: dict[str, Any] = {}
            if spec.behavior is not None and engine_name in BEHAVIOR_ENGINES:
                options["behavior"] = spec.behavior.model_dump(exclude_none=True)
            data = ScalingInput(spec.namespace, obj["metadata"]["name"], current, spec.min_replicas,
                                spec.max_replicas, tuple(samples), tuple(history), options, now,
                                scale_events=tuple(events) if engine_name in BEHAVIOR_ENGINES else ())
            try:
                decision = engine.decide(data)
                self.metrics.health("decision_engine", True)
            except Exception as exc:  # an engine's bug must not stop the operator
                self.metrics.health("decision_engine", False)
                message = f"engine {engine_name}: {type(exc).__name__}: {exc}"
                self._write_status(group, obj, status, now, error=message, targets=len(targets),
                                   conditions=[("ScalingActive", False, "EngineFailed", message)])
                return
            desired, reason = int(decision.replicas), decision.reason
            recommendation = decision.details.get("recommendation", desired)
            history.append((now, int(recommendation)))
            if isinstance(recommendation, int) and not isinstance(recommendation, bool):
                wanted = recommendation
        limited = min(max(desired, spec.min_replicas), spec.max_replicas)
        asked = desired if wanted is None else wanted
        if limited != desired:
            reason += f" (limited to {limited} by min/max {spec.min_replicas}..{spec.max_replicas})"
        changed, per_target = [], []
        for dep in targets:
            dname, have = dep["metadata"]["name"], int((dep.get("spec") or {}).get("replicas") or 0)
            ready = int((dep.get("status") or {}).get("readyReplicas") or 0)
            per_target.append({"name": dname, "currentReplicas": have, "readyReplicas": ready,
                               "desiredReplicas": limited})
            self.metrics.current(spec.namespace, dname, have)
            if have == limited or spec.dry_run:
                continue
            try:
                self.kube.patch("apps/v1", "deployments", dname, {"spec": {"replicas": limited}},
                                namespace=spec.namespace, subresource="scale")
                changed.append(dname)
                self.metrics.operation("scale_up" if limited > have else "scale_down", spec.namespace)
            except NotFound:
                self.cache.evict("apps/v1", "deployments", dname, spec.namespace)
            except KubeApiError as exc:
                self.metrics.health("kubernetes", False)
                conflicts.append(f"Deployment {spec.namespace}/{dname}: {exc}")
        action = "hold" if limited == current else ("scale_up" if limited > current else "scale_down")
        self.metrics.decision(action)
        if changed:
            events.append((now, limited - current))
        sentence = (f"{'dry run: would scale' if spec.dry_run and limited != current else 'scaled'} "
                    f"{len(targets)} Deployment(s) from {current} to {limited}: {reason}"
                    if limited != current else f"holding {current} replicas: {reason}")
        previous = (status.get("lastDecision") or {}).get("reason")
        if limited != current or previous != reason:  # like the HPA: no Event for an unchanged hold
            self._event(obj, sentence, "ScalingDecision" if limited == current or spec.dry_run else "Scaled")
        self._write_status(group, obj, status, now, targets=len(targets), current=current, desired=limited,
                           error="; ".join(conflicts + failures) or None, failures=failed_in_a_row,
                           decision={"engine": engine_name, "reason": reason, "metrics": values,
                                     "time": now_iso(now), "dryRun": spec.dry_run},
                           history=history, events=events, per_target=per_target, conditions=[
                               ("Ready", True, "Reconciled", "decisions are being made"),
                               ("AbleToScale", not conflicts, "Conflict" if conflicts else "SucceededRescale",
                                "; ".join(conflicts) or "the scale subresource answered"),
                               ("ScalingActive", not failures, "MetricsUnavailable" if failures else "ValidMetrics",
                                failures[0] if failures else "every metric has a value"),
                               ("ScalingLimited", asked != limited, "TooFewReplicas" if asked < limited else
                                "TooManyReplicas" if asked > limited else "DesiredWithinRange", reason)])

    # ------------------------------------------------------------------ writes

    def _event(self, obj: dict[str, Any], message: str, reason: str) -> None:
        meta = obj["metadata"]
        event = {"apiVersion": "v1", "kind": "Event",
                 "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
                 "involvedObject": {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
                                    "name": meta["name"], "namespace": meta["namespace"], "uid": meta.get("uid")},
                 "reason": reason, "message": message[:1024], "type": "Normal",
                 "source": {"component": "nautilus-intelligent-scaling"}, "count": 1,
                 "firstTimestamp": now_iso(self.clock()), "lastTimestamp": now_iso(self.clock())}
        try:
            self.kube.create("v1", "events", event, namespace=meta["namespace"])
        except KubeApiError as exc:
            log.warning("event_not_recorded", object=_key(obj), error=str(exc))

    def _write_status(self, group: str, obj: dict[str, Any], old: Mapping[str, Any], now: float, *,
                      error: str | None = None, targets: int | None = None, current: int | None = None,
                      desired: int | None = None, failures: int | None = None, decision: dict[str, Any] | None = None,
                      history: list[tuple[float, int]] | None = None, events: list[tuple[float, int]] | None = None,
                      per_target: list[dict[str, Any]] | None = None,
                      conditions: Sequence[tuple[str, bool, str, str]] = ()) -> None:
        meta = obj["metadata"]
        status: dict[str, Any] = dict(old)
        status["observedGeneration"] = meta.get("generation")
        status["lastDecisionUnix"] = now
        status["lastDecisionTime"] = now_iso(now)
        status["lastError"] = error
        for field, value in (("targets", targets), ("currentReplicas", current), ("desiredReplicas", desired),
                             ("metricFailures", failures), ("lastDecision", decision)):
            if value is not None:
                status[field] = value
        if per_target is not None:
            status["targetReplicas"] = per_target
        if history is not None:
            status["recommendations"] = [[t, r] for t, r in history[-MAX_HISTORY:]]
        if events is not None:
            status["scaleEvents"] = [[t, c] for t, c in events[-MAX_HISTORY:]]
        known = {c.get("type"): c for c in old.get("conditions") or [] if isinstance(c, dict)}
        for ctype, ok, reason, message in conditions:
            before = known.get(ctype) or {}
            state = "True" if ok else "False"
            known[ctype] = {"type": ctype, "status": state, "reason": reason, "message": message[:1024],
                            "lastTransitionTime": before.get("lastTransitionTime") if before.get("status") == state
                            else now_iso(now)}
        status["conditions"] = list(known.values())
        try:
            answer = self.kube.patch(f"{group}/{VERSION}", PLURAL, meta["name"], {"status": status},
                                     namespace=meta["namespace"], subresource="status")
            self.cache.put(f"{group}/{VERSION}", PLURAL, answer)
        except NotFound:
            return  # deleted meanwhile


def install_crds(kube: Any, timeout: float = 30.0) -> tuple[str, ...]:
    """Server-side apply both CRDs and wait until the API server serves them; the served groups."""
    for crd in crds():
        kube.apply("apiextensions.k8s.io/v1", "customresourcedefinitions", crd)
    deadline = time.monotonic() + timeout
    while len(served := served_groups(kube)) < len(GROUPS) and time.monotonic() < deadline:
        time.sleep(0.2)
    log.info("crds_installed", groups=list(served))
    return served


def served_groups(kube: Any) -> tuple[str, ...]:
    """The groups among ``GROUPS`` whose IntelligentScaling resource the API server serves (discovery)."""
    served = []
    for group in GROUPS:
        try:
            doc = kube.request_json("GET", f"/apis/{group}/{VERSION}")
        except NotFound:
            continue
        if any(r.get("name") == PLURAL for r in (doc or {}).get("resources") or ()):
            served.append(group)
    return tuple(served)


def _selects(other: Mapping[str, Any], namespace: str, deployment: Mapping[str, Any]) -> bool:
    spec = other.get("spec") or {}
    labels = spec.get("target_labels")
    if spec.get("namespace") != namespace or not isinstance(labels, dict) or not labels:
        return False
    have = (deployment.get("metadata") or {}).get("labels") or {}
    return all(have.get(k) == v for k, v in labels.items())


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
