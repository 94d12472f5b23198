"""SQL for lineage: one recursive query walks the graph that links experiments, trials, pipeline runs,
tasks, artifacts, model versions, revisions and deployments.

Part of `tuner.store.sql.SqlStore`; see `StoreReader.lineage` for the contract. The graph is not stored
as such: its edges are read from the tables that already hold the links (trials.experiment_id,
pipeline_runs.trial_id, tasks.run_id, events, model_versions, revisions), as a UNION ALL whose arms each
match on one indexed column. A `WITH RECURSIVE` query (portable SQL: SQLite and PostgreSQL run the same
text) follows them from the start node up to `max_depth` edges; UNION (not UNION ALL) in the recursion
and the depth bound keep it finite on any graph. Labels are then fetched with one query per node kind.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select, text

from tuner.errors import NotFoundError, StoreValueError
from tuner.store._sql_pipelines import AR, TK, R
from tuner.store._sql_registry import DP, MV, RM, RV
from tuner.store._sql_tuning import E, T
from tuner.store._sqlbase import SqlBase
from tuner.store.records import LineageDirection, LineageEdge, LineageGraph, LineageNode, NodeKind, NodeRef

# Each arm: (source kind, source id column, target kind, target id column, relation, table, condition).
_ARMS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("experiment", "experiment_id", "trial", "id", "contains", "trials", ""),
    ("trial", "trial_id", "pipeline_run", "id", "launched", "pipeline_runs", "trial_id IS NOT NULL"),
    ("pipeline_run", "run_id", "task", "id", "contains", "tasks", ""),
    (
        "artifact",
        "artifact_id",
        "task",
        "task_id",
        "input",
        "events",
        "direction = 'INPUT' AND task_id IS NOT NULL",
    ),
    (
        "artifact",
        "artifact_id",
        "trial",
        "trial_id",
        "input",
        "events",
        "direction = 'INPUT' AND trial_id IS NOT NULL",
    ),
    (
        "task",
        "task_id",
        "artifact",
        "artifact_id",
        "output",
        "events",
        "direction = 'OUTPUT' AND task_id IS NOT NULL",
    ),
    (
        "trial",
        "trial_id",
        "artifact",
        "artifact_id",
        "output",
        "events",
        "direction = 'OUTPUT' AND trial_id IS NOT NULL",
    ),
    (
        "artifact",
        "artifact_id",
        "model_version",
        "id",
        "registered_as",
        "model_versions",
        "artifact_id IS NOT NULL",
    ),
    (
        "trial",
        "source_trial_id",
        "model_version",
        "id",
        "source_of",
        "model_versions",
        "source_trial_id IS NOT NULL",
    ),
    (
        "task",
        "source_task_id",
        "model_version",
        "id",
        "source_of",
        "model_versions",
        "source_task_id IS NOT NULL",
    ),
    ("model_version", "model_version_id", "revision", "id", "deployed_as", "revisions", ""),
    ("revision", "id", "deployment", "deployment_id", "revision_of", "revisions", ""),
)


def _edges_sql() -> str:
    arms = []
    for src_kind, src_id, dst_kind, dst_id, relation, table_name, condition in _ARMS:
        where = f" WHERE {condition}" if condition else ""
        arms.append(
            f"SELECT '{src_kind}' AS src_kind, {src_id} AS src_id, '{dst_kind}' AS dst_kind, "
            f"{dst_id} AS dst_id, '{relation}' AS relation FROM {table_name}{where}"
        )
    return "\n    UNION ALL ".join(arms)


def _walk_sql(direction: LineageDirection) -> str:
    near, far = ("src", "dst") if direction == LineageDirection.DOWNSTREAM else ("dst", "src")
    edges = _edges_sql()
    columns = "e.src_kind, e.src_id, e.dst_kind, e.dst_id, e.relation"
    return f"""
WITH RECURSIVE walk(src_kind, src_id, dst_kind, dst_id, relation, depth) AS (
  SELECT {columns}, 1 FROM (
    {edges}
  ) AS e WHERE e.{near}_kind = :kind AND e.{near}_id = :id
  UNION
  SELECT {columns}, w.depth + 1 FROM (
    {edges}
  ) AS e JOIN walk AS w ON e.{near}_kind = w.{far}_kind AND e.{near}_id = w.{far}_id
  WHERE w.depth < :max_depth
)
SELECT src_kind, src_id, dst_kind, dst_id, relation, MIN(depth) AS depth
FROM walk GROUP BY src_kind, src_id, dst_kind, dst_id, relation
"""


_WALK = {direction: text(_walk_sql(direction)) for direction in LineageDirection}


def _labels(connection: Connection, kind: NodeKind, ids: Iterable[int]) -> dict[int, str]:
    """Readable labels for nodes of one kind, in one query."""
    wanted = sorted(set(ids))
    if kind == NodeKind.EXPERIMENT:
        rows = connection.execute(select(E.c.id, E.c.namespace + "/" + E.c.name).where(E.c.id.in_(wanted)))
    elif kind == NodeKind.TRIAL:
        rows = connection.execute(select(T.c.id, T.c.name).where(T.c.id.in_(wanted)))
    elif kind == NodeKind.PIPELINE_RUN:
        rows = connection.execute(select(R.c.id, R.c.name).where(R.c.id.in_(wanted)))
    elif kind == NodeKind.TASK:
        rows = connection.execute(select(TK.c.id, TK.c.name).where(TK.c.id.in_(wanted)))
    elif kind == NodeKind.ARTIFACT:
        rows = connection.execute(select(AR.c.id, AR.c.name, AR.c.uri).where(AR.c.id.in_(wanted)))
        return {row.id: row.name or row.uri for row in rows}
    elif kind == NodeKind.MODEL_VERSION:
        rows = connection.execute(
            select(MV.c.id, RM.c.name, MV.c.version)
            .join(RM, RM.c.id == MV.c.model_id)
            .where(MV.c.id.in_(wanted))
        )
        return {row.id: f"{row.name} v{row.version}" for row in rows}
    elif kind == NodeKind.REVISION:
        rows = connection.execute(
            select(RV.c.id, DP.c.name, RV.c.number)
            .join(DP, DP.c.id == RV.c.deployment_id)
            .where(RV.c.id.in_(wanted))
        )
        return {row.id: f"{row.name} r{row.number}" for row in rows}
    else:
        rows = connection.execute(
            select(DP.c.id, DP.c.namespace + "/" + DP.c.name).where(DP.c.id.in_(wanted))
        )
    return {row[0]: str(row[1]) for row in rows}


class LineageSql(SqlBase):
    """Upstream and downstream walks of the lineage graph."""

    def lineage(self, start: NodeRef, direction: LineageDirection, max_depth: int = 100) -> LineageGraph:
        start = NodeRef(NodeKind(start.kind), start.id)
        direction = LineageDirection(direction)
        if max_depth < 0:
            raise StoreValueError(f"max_depth must be 0 or more, got {max_depth}")
        with self._read() as connection:
            if not _labels(connection, start.kind, [start.id]):
                raise NotFoundError(f"{start.kind.value.replace('_', ' ')} {start.id} does not exist")
            rows = (
                connection.execute(
                    _WALK[direction], {"kind": start.kind.value, "id": start.id, "max_depth": max_depth}
                ).all()
                if max_depth > 0
                else []
            )
            depth: dict[NodeRef, int] = {start: 0}
            edges = []
            for row in rows:
                source = NodeRef(NodeKind(row.src_kind), row.src_id)
                target = NodeRef(NodeKind(row.dst_kind), row.dst_id)
                edges.append(LineageEdge(source, target, row.relation))
                reached = target if direction == LineageDirection.DOWNSTREAM else source
                if reached != start:
                    depth[reached] = min(depth.get(reached, row.depth), row.depth)
            by_kind: dict[NodeKind, list[int]] = {}
            for node in depth:
                by_kind.setdefault(node.kind, []).append(node.id)
            labels = {kind: _labels(connection, kind, ids) for kind, ids in by_kind.items()}
        nodes = sorted(
            (LineageNode(n.kind, n.id, labels[n.kind].get(n.id, ""), d) for n, d in depth.items()),
            key=lambda n: (n.depth, n.kind.value, n.id),
        )
        edges.sort(key=lambda e: (e.source.kind.value, e.source.id, e.target.kind.value, e.target.id))
        return LineageGraph(start, direction, tuple(nodes), tuple(edges))
