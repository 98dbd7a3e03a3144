"""The files and lines of ``kafka-reassign-partitions``: Kafka 3.9's JSON formats, checks and status text.

Pure text in, text out (no network): the reassignment and topics-to-move JSON files with Kafka's
validation messages, the proposed assignment of ``--generate``, and the lines ``--execute``,
``--verify`` and ``--list`` print (reference §c.7).  JSON is compact, partitions sorted::

    {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[2,3],"log_dirs":["any","any"]}]}
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kafkatools.cli._common import UsageError
from kafkatools.errors import KafkatoolsError

if TYPE_CHECKING:
    from kafkatools.client.admin import Reassignment

Partition = tuple[str, int]


class ReassignError(KafkatoolsError):
    """A failure Kafka reports as a one-line TerseException / AdminCommandFailedException."""


def tp_text(tp: Partition) -> str:
    return f"{tp[0]}-{tp[1]}"


def format_json(assignment: dict[Partition, list[int]]) -> str:
    parts = [{"topic": t, "partition": p, "replicas": list(r), "log_dirs": ["any"] * len(r)}
             for (t, p), r in sorted(assignment.items())]
    return json.dumps({"version": 1, "partitions": parts}, separators=(",", ":"), ensure_ascii=False)


def _load(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ReassignError(f"The input string is not a valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ReassignError("The input string is not a JSON object")
    version = data.get("version", 1)
    if version != 1:
        raise ReassignError(f"Not supported version field value {version}")
    return data


def parse_topics(text: str) -> list[str]:
    """``{"version":1,"topics":[{"topic":"foo"}]}`` -> topic names (duplicates refused)."""
    items = _load(text).get("topics", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("topic"), str)
                                              for i in items):
        raise ReassignError('Field "topics" must be a list of {"topic": name} objects')
    topics = [i["topic"] for i in items]
    dupes = sorted({t for t in topics if topics.count(t) > 1})
    if dupes:
        raise ReassignError(f"List of topics to reassign contains duplicate entries: {', '.join(dupes)}")
    return topics


def _int_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in value)


def parse_reassignment(text: str) -> list[tuple[Partition, list[int]]]:
    """The partitions of a reassignment file, in file order, without Kafka's --execute checks."""
    items = _load(text).get("partitions", [])
    if not isinstance(items, list):
        raise ReassignError('Field "partitions" must be a list')
    out: list[tuple[Partition, list[int]]] = []
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("topic"), str) and isinstance(item.get("partition"), int)
                and _int_list(item.get("replicas"))):
            raise ReassignError(f"Invalid partition entry {json.dumps(item)}: needs topic, partition and replicas")
        tp: Partition = (item["topic"], item["partition"])
        replicas: list[int] = item["replicas"]
        dirs = item.get("log_dirs", ["any"] * len(replicas))
        if not isinstance(dirs, list) or len(dirs) != len(replicas):
            raise ReassignError(f"Size of replicas list {replicas} is different from size of log dirs list {dirs} "
                                f"for partition {tp_text(tp)}")
        if any(d != "any" for d in dirs):
            raise ReassignError(f"Moving replicas between log directories is not supported (partition "
                                f"{tp_text(tp)}): use \"any\" in log_dirs")
        out.append((tp, list(replicas)))
    return out


def check_execute(parts: list[tuple[Partition, list[int]]]) -> dict[Partition, list[int]]:
    """parseExecuteAssignmentArgs' checks: not empty, no empty lists, no duplicate partitions or replicas."""
    if not parts:
        raise ReassignError("Partition reassignment list cannot be empty")
    if any(not r for _, r in parts):
        raise ReassignError("Partition replica list cannot be empty")
    keys = [tp for tp, _ in parts]
    dupes = sorted({tp for tp in keys if keys.count(tp) > 1})
    if dupes:
        raise ReassignError("Partition reassignment contains duplicate topic partitions: "
                            + ",".join(map(tp_text, dupes)))
    repeated = [(tp, sorted({b for b in r if r.count(b) > 1})) for tp, r in parts if len(set(r)) != len(r)]
    if repeated:
        detail = ". ".join(f"{tp_text(tp)} contains multiple entries for {','.join(map(str, bs))}"
                           for tp, bs in repeated)
        raise ReassignError(f"Partition replica lists may not contain duplicate entries: {detail}")
    return dict(parts)


def current_block(current: dict[Partition, list[int]]) -> str:
    return (f"Current partition replica assignment\n\n{format_json(current)}\n\n"
            "Save this to use as the --reassignment-json-file option during rollback")


def started_line(parts: list[Partition]) -> str:
    s = "" if len(parts) == 1 else "s"
    return f"Successfully started partition reassignment{s} for {','.join(map(tp_text, sorted(parts)))}"


def status_lines(targets: dict[Partition, list[int]], current: dict[Partition, list[int]],
                 moving: set[Partition]) -> list[str]:
    lines = ["Status of partition reassignment:"]
    for tp, target in sorted(targets.items()):
        if tp in moving:
            lines.append(f"Reassignment of partition {tp_text(tp)} is still in progress.")
        elif current.get(tp, []) == target:
            lines.append(f"Reassignment of partition {tp_text(tp)} is completed.")
        else:
            lines.append(f"There is no active reassignment of partition {tp_text(tp)}, but replica set is "
                         f"{','.join(map(str, current.get(tp, [])))} rather than {','.join(map(str, target))}.")
    return lines


def throttle_lines(brokers: set[int], topics: set[str]) -> list[str]:
    b = "" if len(brokers) == 1 else "s"
    t = "" if len(topics) == 1 else "s"
    return [f"Clearing broker-level throttles on broker{b} {','.join(map(str, sorted(brokers)))}",
            f"Clearing topic-level throttles on topic{t} {','.join(sorted(topics))}"]


def list_lines(moves: dict[Partition, Reassignment]) -> list[str]:
    if not moves:
        return ["No partition reassignments found."]
    lines = ["Current partition reassignments:"]
    for tp, m in sorted(moves.items()):
        adding = f" adding: {','.join(map(str, m.adding))}." if m.adding else ""
        removing = f" removing: {','.join(map(str, m.removing))}." if m.removing else ""
        lines.append(f"{tp_text(tp)}: replicas: {','.join(map(str, m.replicas))}.{adding}{removing}")
    return lines


def propose(current: dict[Partition, list[int]], brokers: list[int]) -> dict[Partition, list[int]]:
    """--generate: Kafka's rack-unaware placement of each topic over ``brokers``, keeping its replication factor."""
    from kafkatools.coordination.assignment import assign_replicas

    out: dict[Partition, list[int]] = {}
    for topic in sorted({t for t, _ in current}):
        parts = sorted(p for t, p in current if t == topic)
        rf = len(current[(topic, parts[0])])
        for p, replicas in assign_replicas(len(parts), rf, brokers).items():
            out[(topic, p)] = replicas
    return out


def parse_broker_list(text: str | None) -> tuple[int, ...]:
    try:
        brokers = [int(b) for b in (text or "").split(",") if b.strip()]
    except ValueError:
        raise UsageError(f"--broker-list must be comma-separated broker ids, not '{text}'") from None
    dupes = sorted({b for b in brokers if brokers.count(b) > 1})
    if dupes:
        raise ReassignError(f"Broker list contains duplicate entries: [{', '.join(map(str, dupes))}]")
    return tuple(brokers)
