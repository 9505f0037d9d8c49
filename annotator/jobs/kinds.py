"""The job kinds: what each one does and how a restart treats it.

The service binds each kind to its body (``service.jobs``); this registry holds the policy that
the runner, the recovery after a restart, the CLI's help and the Jobs tab read.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotator.core.errors import ValidationError


@dataclass(frozen=True)
class JobKind:
    """One kind of background job.

    Attributes:
        name: the kind as submitted and stored (``jobs run NAME``).
        summary: what the job does, in a few words (help texts).
        restartable: a job of this kind interrupted by a dead process is queued again once: its
            results are applied atomically at the end, so a rerun starts from a clean state.
        version_kind: the model-version kind whose folders the job writes (half-written ones are
            removed after a crash), or None.
    """

    name: str
    summary: str
    restartable: bool = False
    version_kind: str | None = None


JOB_KINDS: dict[str, JobKind] = {kind.name: kind for kind in (
    JobKind("embed", "embed every item into the cache"),
    JobKind("refit", "refit the fast classifier on the human labels (a new version)", version_kind="classifier"),
    JobKind("run_ai", "score, calibrate and route the unlabelled items"),
    JobKind("finetune", "fine-tune the transformer classifier (promoted if it beats the current one)",
            restartable=True, version_kind="finetune"),
    JobKind("export", "export the project (payload out=DIR, fmt=FORMAT)"),
    JobKind("judge", "train the preference judge on the people's verdicts (promoted if it beats the current one)",
            restartable=True, version_kind="bt-judge"),
)}

#: Kinds a restart queues again once (see ``JobKind.restartable``).
RESTART_KINDS: tuple[str, ...] = tuple(k.name for k in JOB_KINDS.values() if k.restartable)
#: Model-version kinds kept as folders on disk (cleaned up after a crash).
VERSION_FOLDER_KINDS: tuple[str, ...] = tuple(k.version_kind for k in JOB_KINDS.values() if k.version_kind)


def job_kind(name: str) -> JobKind:
    """The registered kind ``name``, or a ValidationError listing the kinds there are."""
    try:
        return JOB_KINDS[name]
    except KeyError:
        raise ValidationError(f"Unknown job kind {name!r}.", expected=" | ".join(JOB_KINDS),
                              fix="pick one of those kinds") from None


def kinds_help() -> str:
    """``embed | refit | …`` for help texts."""
    return " | ".join(JOB_KINDS)
