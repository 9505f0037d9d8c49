"""Projects: create, list, describe and configure projects."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from annotator import store
from annotator.active.strategies import get_strategy
from annotator.core.errors import (
    ValidationError,
)
from annotator.core.schema import (
    LabelSpec,
    ProjectSettings,
    ProjectSummary,
    TaskType,
    validate_label_name,
)
from annotator.service.common import _required_answers
from annotator.service.part import ServicePart, project_settings
from annotator.store import projects as project_q
from annotator.tasks import (
    default_labels,
    is_posttraining,
)

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class ProjectsService(ServicePart):
    """Projects (``svc.projects``): create one with its labels and task type, read its summary and
    settings, change its settings."""

    def create_project(
        self, name: str, labels: Sequence[str | LabelSpec | dict[str, Any]], *,
        task_type: TaskType | str = TaskType.single_label, guidelines: str = "",
        settings: ProjectSettings | dict[str, Any] | None = None,
    ) -> ProjectSummary:
        name = name.strip()
        if not name:
            raise ValidationError("A project needs a name.", fix="pass a non-empty NAME")
        if not labels and is_posttraining(str(task_type)):  # post-training tasks come with default labels
            labels = default_labels(str(task_type))
        specs = parse_labels(labels)
        project_settings = ProjectSettings.model_validate(settings or {})
        get_strategy(project_settings.strategy)
        with store.transaction(self.engine) as s:
            project = project_q.create_project(
                s, name=name, task_type=str(TaskType(task_type)), labels=[sp.model_dump() for sp in specs],
                guidelines=guidelines, settings=project_settings.model_dump(),
            )
            return self._summary(s, project)

    def list_projects(self) -> list[ProjectSummary]:
        with store.transaction(self.engine) as s:
            return [self._summary(s, p) for p in project_q.list_projects(s)]

    def project(self, name: str) -> ProjectSummary:
        with store.transaction(self.engine) as s:
            return self._summary(s, project_q.get_project(s, name))

    def project_details(self, name: str) -> tuple[ProjectSummary, str, ProjectSettings]:
        """Summary, guidelines (markdown) and settings."""
        with store.transaction(self.engine) as s:
            p = project_q.get_project(s, name)
            return self._summary(s, p), p.guidelines, project_settings(p)

    def update_project_settings(self, name: str, **changes: Any) -> ProjectSettings:
        with store.transaction(self.engine) as s:
            p = project_q.get_project(s, name)
            before = project_settings(p)
            merged = ProjectSettings.model_validate({**p.settings, **changes})
            get_strategy(merged.strategy)
            project_q.update_project(s, p, settings=merged.model_dump())
            pid = p.id
        if (pool := self._svc.queue.pools.get(pid)) is not None:
            pool.strategy = merged.strategy
            pool.explore_fraction = merged.random_share  # e.g. a dataset target set: a larger random slice
            if (before.overlap_fraction, before.overlap_k, before.seed) != (
                    merged.overlap_fraction, merged.overlap_k, merged.seed):
                pool.set_required(_required_answers(pool.item_ids, merged))  # teams: overlap settings
            pool.rerank()
        return merged

    def _summary(self, s, project) -> ProjectSummary:  # noqa: ANN001
        counts = project_q.project_counts(s, project.id)
        return ProjectSummary(
            id=project.id, name=project.name, task_type=TaskType(project.task_type),
            labels=[LabelSpec(**lab) for lab in project.labels], items=counts["items"], labelled=counts["labelled"],
        )


def parse_labels(labels: Sequence[str | LabelSpec | dict[str, Any]]) -> list[LabelSpec]:
    """Label names or specs → specs with default hotkeys 1..9; rejects duplicates and names that
    ``validate_label_name`` refuses (checked before the spec is built, so the message is ours)."""
    specs: list[LabelSpec] = []
    for i, label in enumerate(labels):
        if isinstance(label, LabelSpec):
            spec = label.model_copy(update={"name": validate_label_name(label.name)})
        elif isinstance(label, dict):
            spec = LabelSpec(**{**label, "name": validate_label_name(label.get("name", ""))})
        else:
            spec = LabelSpec(name=validate_label_name(str(label)))
        if spec.hotkey is None and i < 9:
            spec = spec.model_copy(update={"hotkey": str(i + 1)})
        specs.append(spec)
    names = [s.name for s in specs]
    if len(set(names)) != len(names) or not names:
        raise ValidationError(
            "A project needs at least one label, each named once.",
            got=", ".join(names) or "(none)", fix="pass distinct names, e.g. --labels positive,negative",
        )
    return specs
