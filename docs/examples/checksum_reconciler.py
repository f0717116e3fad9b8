"""Example reconciler (docs/plugins.md): keep an ``example.com/checksum`` annotation on every ConfigMap.

Watches ConfigMaps cluster-wide and owns nothing; reads through the runtime's shared informer cache
(``ctx.cache``), so it opens no watch another reconciler already has (namespaces, for instance), and
its reads of ConfigMaps and Namespaces send no request once the informers are synced. Skips
namespaces labelled ``example.com/skip=true``. Register it from a plugin module::

    [project.entry-points.nautilus]
    checksum = "checksum_reconciler"
"""

from __future__ import annotations

import hashlib
import json

from nautilus_core import BaseReconciler, Outcome, Request, Watch, hookimpl

ANNOTATION = "example.com/checksum"


class ChecksumReconciler(BaseReconciler):
    name = "configmap-checksum"

    def sources(self):
        # key = "namespace/name" of the ConfigMap that changed
        def to_keys(event, obj):
            meta = obj["metadata"]
            return [f"{meta['namespace']}/{meta['name']}"]

        return [Watch("v1", "configmaps", to_keys), Watch("v1", "namespaces", lambda event, obj: ())]

    def keys(self):
        return [f"{c['metadata']['namespace']}/{c['metadata']['name']}" for c in self.ctx.cache.cached("v1", "configmaps")]

    def reconcile(self, request: Request) -> Outcome:
        namespace, name = request.key.split("/", 1)
        ns = self.ctx.cache.get("v1", "namespaces", namespace)
        if ns is None or (ns["metadata"].get("labels") or {}).get("example.com/skip") == "true":
            return Outcome.done()
        cm = self.ctx.cache.get("v1", "configmaps", name, namespace)
        if cm is None:
            return Outcome.done()  # deleted: nothing to do, we own nothing
        digest = hashlib.sha256(json.dumps(cm.get("data") or {}, sort_keys=True).encode()).hexdigest()[:16]
        if (cm["metadata"].get("annotations") or {}).get(ANNOTATION) == digest:
            return Outcome.done()
        patched = self.ctx.kube.patch("v1", "configmaps", name, {"metadata": {"annotations": {ANNOTATION: digest}}},
                                      namespace=namespace)
        self.ctx.cache.put("v1", "configmaps", patched)  # write-through: the next read sees our change
        self.ctx.log.info("checksum_annotated", key=request.key, checksum=digest)
        return Outcome.done()


@hookimpl
def nautilus_register_reconcilers(register):
    register(ChecksumReconciler.name, ChecksumReconciler)
