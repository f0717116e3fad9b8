"""ODA custom resources for the tests: a v1beta3 and a v1 Component, and ExposedAPIs (plain dicts)."""

from __future__ import annotations

from typing import Any


def v1beta3(name: str = "prodcat", namespace: str = "shop", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "oda.tmforum.org/v1beta3", "kind": "Component",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"oda.tmforum.org/componentName": name, "team": "catalog"}},
            "spec": {"id": "TMFC001", "name": "productcatalog", "version": "1.2.0", "functionalBlock": "CoreCommerce",
                     "publicationDate": "2024-05-01", "status": "specified",
                     "owners": [{"name": "Ann Owner", "email": "ann@example.org"}],
                     "maintainers": [{"name": "Bob"}],
                     "coreFunction": {"exposedAPIs": [
                         {"name": "productcatalogmanagement", "apiType": "openapi", "implementation": f"{name}-pcm",
                          "path": f"/{name}/tmf-api/productCatalogManagement/v4", "port": 8080,
                          "specification": ["https://example.org/TMF620.json"]}]},
                     "managementFunction": {"exposedAPIs": [
                         {"name": "metrics", "apiType": "prometheus", "implementation": f"{name}-sm",
                          "path": "/metrics", "port": 4000}]},
                     "securityFunction": {"canvasSystemRole": "Admin", "exposedAPIs": [
                         {"name": "partyrole", "apiType": "openapi", "implementation": f"{name}-pr",
                          "path": "/partyRole/v4", "port": 8080, "specification": ["https://example.org/TMF669.json"]}]}}
            | spec}


def v1(name: str = "party", namespace: str = "shop") -> dict[str, Any]:
    return {"apiVersion": "oda.tmforum.org/v1", "kind": "Component",
            "metadata": {"name": name, "namespace": namespace, "labels": {"oda.tmforum.org/componentName": name}},
            "spec": {"componentMetadata": {"id": "TMFC028", "name": "partymanagement", "version": "2.0.1",
                                           "functionalBlock": "PartyManagement",
                                           "owners": [{"name": "Cy", "email": "cy@example.org"}]},
                     "coreFunction": {"exposedAPIs": [
                         {"name": "partymanagement", "apiType": "openapi", "implementation": f"{name}-pm",
                          "path": "/party/v5", "port": 8080,
                          "specification": [{"url": "https://example.org/TMF632-v5.json", "version": "v5.0.0"},
                                            {"url": "https://example.org/TMF632-v4.json", "version": "v4.0.0"}]}]}}}


def exposed(component: str, api: str, *, url: str | None = None, ready: bool | None = None,
            namespace: str = "shop", labelled: bool = True) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if url is not None:
        status["apiStatus"] = {"url": url, "developerUI": f"{url}/docs"}
    if ready is not None:
        status["implementation"] = {"ready": ready}
    meta: dict[str, Any] = {"name": f"{component}-{api}", "namespace": namespace}
    if labelled:
        meta["labels"] = {"oda.tmforum.org/componentName": component}
    return {"apiVersion": "oda.tmforum.org/v1beta3", "kind": "ExposedAPI", "metadata": meta,
            "spec": {"name": api, "apiType": "openapi", "implementation": "svc", "path": "/x", "port": 8080},
            "status": status}
