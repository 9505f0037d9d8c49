"""Browse: search and filter a project's items, find similar ones, label many at once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from annotator import store
from annotator.core.errors import (
    NotFoundError,
    ValidationError,
)
from annotator.core.schema import (
    ResponseSource,
    Route,
)
from annotator.service.part import ServicePart, project_settings
from annotator.store import browse as browse_q
from annotator.store import projects as project_q
from annotator.store import responses as response_q

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class BrowseService(ServicePart):
    """Browsing (``svc.browse``): pages of items by text, label, route, metadata or uncertainty,
    nearest neighbours of one item, and bulk labelling of a selection."""

    def browse(
        self, project: str, *, query: str = "", label: str | None = None, status: str | None = None,
        route: str | None = None, annotator: str | None = None, metadata: str | dict[str, str] | None = None,
        order: str = "id", page: int = 0, page_size: int = 50, own_answers_of: str | None = None,
    ):  # noqa: ANN201 - returns store.browse.BrowsePage
        """One page (0-based ``page``) of the project's items matching the filters.

        Args:
            metadata: exact matches, a dict or text like ``"channel=email, product=app"``.
            own_answers_of: a person's name (an annotator's page in a team): only the items they
                answered, each with *their own* newest answer, never anyone else's.
            order: "id", "newest", "suggestion score" (least confident AI suggestion first) or
                "uncertainty" (the current model's smallest margin first; id order while cold).
        """

        if status and status not in browse_q.STATUSES:
            raise ValidationError(f"Unknown status filter {status!r}.", expected=" | ".join(browse_q.STATUSES))
        if order not in (*browse_q.ORDERS, "uncertainty"):
            raise ValidationError(f"Unknown order {order!r}.", expected=" | ".join((*browse_q.ORDERS, "uncertainty")))
        page_size = max(1, min(int(page_size), 500))
        page = max(0, int(page))
        filters = browse_q.BrowseFilters(
            query=(query or "").strip(), label=label or None, status=status or None, route=route or None,
            annotator=annotator or None, metadata=self.parse_metadata_filter(metadata), own=own_answers_of or None,
        )
        if order == "uncertainty":
            return self._browse_by_uncertainty(project, filters, page, page_size)
        with store.transaction(self.engine) as s:
            pid = project_q.get_project(s, project).id
            ids, total, exact = browse_q.page_item_ids(s, pid, filters, offset=page * page_size, limit=page_size,
                                                       order=order)
            rows = browse_q.rows_for_ids(s, ids, own=filters.own)
        return browse_q.BrowsePage(rows=rows, total=total, exact=exact, page=page, page_size=page_size)

    def _browse_by_uncertainty(self, project: str, filters, page: int, page_size: int):  # noqa: ANN001, ANN202

        pool = self._svc.queue.pool(project)
        proba = pool.predict()
        if proba is None:
            with store.transaction(self.engine) as s:
                pid = project_q.get_project(s, project).id
                ids, total, exact = browse_q.page_item_ids(s, pid, filters, offset=page * page_size, limit=page_size)
                rows = browse_q.rows_for_ids(s, ids, own=filters.own)
            return browse_q.BrowsePage(rows=rows, total=total, exact=exact, page=page, page_size=page_size,
                                       note="No model yet (too few labels per class): shown in id order.")
        if pool.multi_label:
            margin = np.abs(proba - 0.5).min(axis=1) * 2  # the least decided label of each item
        elif proba.shape[1] > 1:
            top2 = np.partition(proba, -2, axis=1)[:, -2:]
            margin = top2[:, 1] - top2[:, 0]
        else:
            margin = np.zeros(len(proba))
        order = np.argsort(margin, kind="stable")  # (n,) rows, smallest margin first
        ids = pool.item_ids[order]
        margins = margin[order]
        if not filters.empty:
            with store.transaction(self.engine) as s:
                pid = project_q.get_project(s, project).id
                keep = np.isin(ids, np.asarray(browse_q.matching_ids(s, pid, filters), dtype=np.int64))
            ids, margins = ids[keep], margins[keep]
        start = page * page_size
        page_ids = [int(i) for i in ids[start:start + page_size]]
        with store.transaction(self.engine) as s:
            rows = browse_q.rows_for_ids(s, page_ids, own=filters.own)
        by_id = dict(zip(page_ids, margins[start:start + page_size].tolist(), strict=True))
        for row in rows:
            row["uncertainty"] = round(1.0 - by_id[row["item_id"]], 4)
        return browse_q.BrowsePage(rows=rows, total=len(ids), page=page, page_size=page_size,
                                   note=f"Ordered by model v{pool.model_version}: least certain first.")

    @staticmethod
    def parse_metadata_filter(metadata: str | dict[str, str] | None) -> dict[str, str]:
        if not metadata:
            return {}
        if isinstance(metadata, dict):
            return {str(k): str(v) for k, v in metadata.items()}
        out: dict[str, str] = {}
        for part in metadata.replace("\n", ",").replace(";", ",").split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise ValidationError(
                    f"Cannot read the metadata filter {part.strip()!r}.", expected="key=value, e.g. channel=email",
                    fix="write one or more key=value pairs separated by commas",
                )
            out[key.strip()] = value.strip()
        return out

    def similar_items(self, project: str, item_id: int, k: int = 20):  # noqa: ANN201 - store.browse.BrowsePage
        """The ``k`` items nearest to ``item_id`` by dot product of the (L2-normalised) pool
        embeddings, most similar first; each row carries ``similarity`` in [-1, 1]."""

        pool = self._svc.queue.pool(project)
        try:
            row = pool.row_of(int(item_id))
        except KeyError as e:
            raise NotFoundError(f"No item {item_id} in project {project!r}.",
                                fix="use an item id from the browse table") from e
        sims = pool.embeddings @ pool.embeddings[row]  # (n,)
        sims[row] = -np.inf
        k = max(0, min(int(k), len(sims) - 1))
        if k == 0:
            return browse_q.BrowsePage(rows=[], total=0, page_size=max(k, 1))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        ids = [int(i) for i in pool.item_ids[top]]
        with store.transaction(self.engine) as s:
            rows = browse_q.rows_for_ids(s, ids)
        by_id = dict(zip(ids, sims[top].tolist(), strict=True))
        for r in rows:
            r["similarity"] = round(float(by_id[r["item_id"]]), 4)
        return browse_q.BrowsePage(rows=rows, total=len(rows), page_size=k,
                                   note=f"The {len(rows)} items most similar to item {item_id}.")

    def bulk_label(self, project: str, user: str | None, item_ids: Sequence[int], value: Sequence[str]) -> int:
        """Give every item in ``item_ids`` the label ``value`` in one transaction, recorded as a bulk
        action (response source "bulk"); replaces the person's earlier answers. Returns the count."""

        user = user or self.settings.default_user
        ids = list(dict.fromkeys(int(i) for i in item_ids))
        if not ids:
            raise ValidationError("No items selected for bulk labelling.",
                                  fix="tick rows in the table or type item ids, e.g. 12, 15, 40")
        if len(ids) > 10_000:
            raise ValidationError(f"{len(ids)} items selected; bulk labelling takes at most 10,000 at once.",
                                  fix="narrow the filter or label in several steps")
        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            value = self._svc.queue.validate_value(proj, value)
            owners = browse_q.item_projects(s, ids)
            missing = [i for i in ids if owners.get(i) != proj.id]
            if missing:
                raise ValidationError(f"{len(missing)} selected ids are not items of project {project!r}.",
                                      got=", ".join(map(str, missing[:10])), fix="use ids from the browse table")
            person = project_q.get_or_create_user(s, user)
            for item_id in ids:
                response_q.discard_responses(s, item_id, person.id)
                response_q.add_response(s, item_id=item_id, user_id=person.id, value=list(value),
                                        source=ResponseSource.bulk.value, route=Route.manual.value)
            refit_every = project_settings(proj).refit_every
            pid = proj.id
        pool = self._svc.queue.pools.get(pid)
        if pool is not None:
            for item_id in ids:
                pool.set_label(item_id, value)
            if pool.labels_since_refit >= refit_every:
                self._svc.queue.schedule_refit(project)
        return len(ids)

    def browse_options(self, project: str, *, own_answers_of: str | None = None) -> dict[str, list[str]]:
        """Choices for the browse page's filters: labels, statuses, routes, annotators, orders.
        ``own_answers_of``: a person's name (an annotator's page): the annotators are them alone."""

        with store.transaction(self.engine) as s:
            proj = project_q.get_project(s, project)
            annotators = [own_answers_of] if own_answers_of else browse_q.project_annotators(s, proj.id)
            labels = [lab["name"] for lab in proj.labels]
        return {
            "labels": labels, "statuses": list(browse_q.STATUSES), "annotators": annotators,
            "routes": [r.value for r in Route], "orders": [*browse_q.ORDERS, "uncertainty"],
        }
