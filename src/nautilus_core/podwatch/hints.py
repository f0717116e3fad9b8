"""What a pod's problem means: the severity of each well-known reason and a one-line hint for it.

Owns :func:`severity` (how urgent a reason is, within a health bucket; bigger is sooner) and :func:`hint`
(one line telling a person where to look) for the reasons kubelet, the scheduler and kubectl report:
container waiting reasons (ImagePullBackOff, ErrImagePull, CrashLoopBackOff, CreateContainerConfigError,
InvalidImageName, ...), termination reasons and exit codes (OOMKilled, Error with 1/126/127/137/139/143),
pod reasons (Evicted, NodeLost), the states triage adds (NotReady, Terminating, ContainerCreating stuck)
and the reasons of Warning Events (FailedScheduling, FailedMount, Unhealthy, BackOff, Failed).
``Init:`` prefixes are looked through. Called by :mod:`nautilus_core.podwatch.triage`.
"""

from __future__ import annotations

__all__ = ["SEVERITY", "exit_code_hint", "hint", "severity"]

#: reason -> severity (0..99). Ranks problems inside one health bucket; the bucket ranks first.
SEVERITY: dict[str, int] = {
    "OOMKilled": 92,
    "CrashLoopBackOff": 88,
    "CreateContainerConfigError": 86,
    "InvalidImageName": 85,
    "CreateContainerError": 84,
    "RunContainerError": 84,
    "StartError": 84,
    "ContainerCannotRun": 84,
    "ErrImageNeverPull": 83,
    "ImagePullBackOff": 82,
    "ErrImagePull": 82,
    "ImageInspectError": 80,
    "PostStartHookError": 80,
    "PreStartHookError": 80,
    "Evicted": 78,
    "NodeLost": 78,
    "Unknown": 76,
    "ContainerStatusUnknown": 76,
    "Error": 74,
    "DeadlineExceeded": 70,
    "Shutdown": 66,
    "Terminated": 66,
    "UnexpectedAdmissionError": 66,
    "FailedScheduling": 62,
    "Unschedulable": 62,
    "FailedMount": 58,
    "FailedAttachVolume": 58,
    "FailedCreatePodSandBox": 56,
    "BackOff": 52,
    "Failed": 52,
    "Unhealthy": 48,
    "NotReady": 44,
    "Restarted": 42,
    "Terminating": 36,
    "SchedulingGated": 30,
    "ContainerCreating": 24,
    "PodInitializing": 22,
    "Initializing": 22,
    "Pending": 20,
}

_HINTS: dict[str, str] = {
    "ImagePullBackOff": "The image could not be pulled and kubelet is backing off: check the image name and "
    "tag, that it exists in the registry, and the pull secret (imagePullSecrets).",
    "ErrImagePull": "Pulling the image failed: the message says why (not found, unauthorized, timeout); check "
    "the repository, the tag and the registry credentials.",
    "ErrImageNeverPull": "imagePullPolicy is Never and the image is not on the node: load it there or allow "
    "pulls.",
    "InvalidImageName": "The image reference cannot be parsed: fix the container's image (lower-case "
    "registry/repository:tag or @sha256 digest).",
    "CrashLoopBackOff": "The container keeps exiting and kubelet waits longer before each restart: read the "
    "previous instance's logs (kubectl logs --previous) and its exit code.",
    "OOMKilled": "The container went over its memory limit and was killed (exit 137): raise "
    "resources.limits.memory or cut the process's memory use.",
    "CreateContainerConfigError": "The container refers to something missing, usually a ConfigMap or Secret "
    "(or a key in one) used by env/envFrom: create it or fix the reference.",
    "CreateContainerError": "The runtime could not create the container: the message names the cause (a "
    "name conflict, a missing mount source, a bad command).",
    "RunContainerError": "The runtime could not start the process: check command/args, the entrypoint and "
    "the volumes it needs.",
    "StartError": "The process could not be started: check command/args and that the binary exists and is "
    "executable in the image.",
    "ContainerCannotRun": "The process could not be started: check command/args and the image's entrypoint.",
    "PostStartHookError": "The postStart hook failed, so kubelet killed the container: check the hook's "
    "command.",
    "FailedScheduling": "No node can take the pod: the scheduler's message says why (requested CPU/memory, "
    "node selectors or affinity, taints, volume zones).",
    "Unschedulable": "No node can take the pod: the scheduler's message says why (requested CPU/memory, node "
    "selectors or affinity, taints, volume zones).",
    "FailedMount": "A volume cannot be mounted: check that the ConfigMap, Secret or PersistentVolumeClaim "
    "exists in the namespace and that the volume can attach on this node.",
    "FailedAttachVolume": "The volume cannot attach to the node: it may still be attached elsewhere or be in "
    "another zone.",
    "FailedCreatePodSandBox": "The pod's sandbox (network namespace) could not be created: usually the CNI "
    "plugin on the node; see the node's kubelet log.",
    "NotReady": "The readiness probe fails, so the pod gets no Service traffic: check the probe's path and "
    "port and the app's health endpoint.",
    "Unhealthy": "A probe fails: a failing readiness probe keeps traffic away, a failing liveness probe "
    "restarts the container; check the probe's settings and the endpoint.",
    "Evicted": "The kubelet evicted the pod under node pressure (memory, disk or PIDs): the message names the "
    "resource; set requests closer to real use.",
    "NodeLost": "The node stopped reporting, so the pod's state is unknown: check the node "
    "(kubectl describe node).",
    "Unknown": "The node stopped reporting, so the pod's state is unknown: check the node "
    "(kubectl describe node).",
    "ContainerStatusUnknown": "The container's state was lost (its node went away or was restarted): the pod "
    "will be replaced if a controller owns it.",
    "DeadlineExceeded": "The pod ran longer than activeDeadlineSeconds and was stopped.",
    "Terminating": "Deletion takes longer than the grace period: a finalizer, an unreachable kubelet or a "
    "process ignoring SIGTERM; check metadata.finalizers and the node.",
    "ContainerCreating": "Containers are still being created: usually a volume mount or an image pull that "
    "hangs; see the pod's events.",
    "PodInitializing": "Init containers finished but the containers have not started: see the pod's events.",
    "Initializing": "An init container has not finished: read its logs (kubectl logs -c <init container>).",
    "Pending": "The pod has not started: see its events for the scheduler's and kubelet's reasons.",
    "SchedulingGated": "The pod waits for its schedulingGates to be removed by the controller that set them.",
    "BackOff": "Kubelet is backing off: restarting a crashing container or pulling an image; see the "
    "container's state and logs.",
    "Restarted": "The container restarted recently: read the previous instance's logs "
    "(kubectl logs --previous).",
}

_EXIT_CODES: dict[int, str] = {
    1: "exit 1, a generic failure of the program: its logs say why",
    2: "exit 2, often bad command-line usage",
    126: "exit 126, the command is not executable",
    127: "exit 127, command not found: check command/args and the image's entrypoint",
    134: "exit 134 (SIGABRT), the program aborted",
    137: "exit 137 (SIGKILL): memory limit, a failed liveness probe or a forced stop",
    139: "exit 139 (SIGSEGV), a segmentation fault",
    143: "exit 143 (SIGTERM), it was asked to stop",
}


def _base(reason: str) -> str:
    if reason.startswith("Init:"):
        reason = reason[5:]
    if reason.startswith(("ExitCode:", "Signal:")):
        return "Error"
    return reason


def severity(reason: str) -> int:
    """How urgent ``reason`` is (0..99); an unknown reason gets 50."""
    return SEVERITY.get(_base(reason), 50)


def exit_code_hint(code: int | None) -> str | None:
    return None if code is None else _EXIT_CODES.get(code)


def hint(reason: str, exit_code: int | None = None, message: str | None = None) -> str | None:
    """One line for a person about ``reason`` (what ``exit_code`` means for an Error or CrashLoopBackOff; an
    Event's ``message`` tells a readiness from a liveness probe, an image pull from a crash), or None."""
    base = _base(reason)
    code = exit_code_hint(exit_code)
    if base == "Error":
        if code is not None:
            return f"The container exited with an error ({code})."
        return f"The container exited with an error (exit {exit_code}): read its logs." if exit_code is not None \
            else "The container exited with an error: read its logs."
    text = message.lower() if message else ""
    if base == "Unhealthy" and text.startswith("readiness"):
        base = "NotReady"
    elif base == "Unhealthy" and text.startswith("liveness"):
        return "The liveness probe fails, so kubelet restarts the container: check the probe's timing and the " \
            "endpoint (a slow start needs a startupProbe)."
    elif base in ("BackOff", "Failed") and ("pull" in text or "image" in text):
        base = "ImagePullBackOff" if "back-off" in text or "backoff" in text else "ErrImagePull"
    elif base == "BackOff" and "restarting failed container" in text:
        base = "CrashLoopBackOff"
    found = _HINTS.get(base)
    if found is not None and code is not None and base == "CrashLoopBackOff":
        found = f"{found} Last exit: {code}."
    return found
