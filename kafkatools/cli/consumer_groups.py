"""`kafka-consumer-groups`: list, describe, delete consumer groups and reset or delete their offsets.

Flags and output follow Kafka 3.9's ``ConsumerGroupCommand``: ``--describe`` tables start every row
(header included) with ``\\n`` and end without a newline; widths are max(15, longest value); ``-``
stands for a missing value.  Where 3.8-3.9's Java port prints ``--reset-offsets`` and
``--delete-offsets`` rows run together on one line (a bug fixed upstream), we print the 3.7 Scala
layout: a blank line, the header, then one newline-terminated row per partition.

Deviation by design: a group that refuses a reset (it still has members) is an error -- one line on
stderr, exit 1 -- where Kafka prints ``Error: ...`` on stdout and exits 0.  ``--output json`` prints
one JSON object per row instead of Kafka's text.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kafkatools import errors
from kafkatools.cli._common import (
    OutputFormat,
    OutputOption,
    UsageError,
    VersionOption,
    current_env,
    load_client_config,
    make_app,
    parse_bootstrap,
    run_app,
    run_async,
)

if TYPE_CHECKING:
    from kafkatools.client.cluster import KafkaClient
    from kafkatools.client.groups import GroupDescription, GroupsAdmin

app = make_app("List all consumer groups, describe a consumer group, delete consumer group info, or reset offsets.")
Row = dict[str, object]
MISSING = "-"
SCENARIOS = ("--to-offset", "--to-earliest", "--to-latest", "--to-current", "--shift-by", "--to-datetime",
             "--by-duration", "--from-file")
DRY_RUN_WARNING = (
    "WARN: No action will be performed as the --execute option is missing."
    "In a future major release, the default behavior of this command will be to prompt the user before "
    "executing the reset rather than doing a dry run. You should add the --dry-run option explicitly "
    "if you are scripting this command and want to keep the current default behavior without prompting.")


@dataclass(frozen=True, slots=True)
class Options:
    bootstrap: list[tuple[str, int]]
    config: dict[str, str]
    action: str  # list | describe | delete | delete-offsets | reset-offsets
    groups: tuple[str, ...]
    all_groups: bool
    topics: tuple[str, ...]
    all_topics: bool
    describe_mode: str  # offsets | members | state
    verbose: bool
    states: tuple[str, ...] | None  # --list --state [csv]: None = not given
    scenario: str | None
    scenario_value: str | None
    execute: bool
    export: bool
    timeout_ms: int
    output: OutputFormat


# -- rendering (pure) -------------------------------------------------------------------------------
def _cell(value: object) -> str:
    return MISSING if value is None else str(value)


def render_list(rows: list[tuple[str, str]], with_state: bool) -> str:
    if not with_state:
        return "".join(f"{g}\n" for g, _ in rows)
    width = max((max(15, len(g)) for g, _ in rows), default=15) + 10
    return "".join(f"{g:<{width}} {s:<20}\n" for g, s in [("GROUP", "STATE"), *rows])


OFFSET_COLUMNS = ("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
                  "CLIENT-ID")


def render_offsets(rows: list[Row]) -> str:
    """Kafka 3.9's offsets table: every row starts with a newline, no newline at the end."""
    cells = [[_cell(r[c]) for c in OFFSET_COLUMNS] for r in rows]
    g, t, c, h = (max([15, *(len(r[i]) for r in cells)]) for i in (0, 1, 6, 7))
    widths = (g, t, 10, 15, 15, 15, c, h)
    return "".join("\n" + " ".join(f"{v:<{w}}" for v, w in zip(r, widths, strict=False)) + " " + r[8]
                   for r in [list(OFFSET_COLUMNS), *cells])


def render_members(group: str, members: list[Row], verbose: bool) -> str:
    with_instance = any(m["group_instance_id"] for m in members)
    cols = ["group", "consumer_id", *(["group_instance_id"] if with_instance else []), "host", "client_id"]
    header = ["GROUP", "CONSUMER-ID", *(["GROUP-INSTANCE-ID"] if with_instance else []), "HOST", "CLIENT-ID"]
    widths = [max([17 if col == "group_instance_id" else 15, *(len(str(m[col] or "")) for m in members)])
              for col in cols]

    def line(values: list[str], partitions: str, assignment: str) -> str:
        return "".join(f"{v:<{w}} " for v, w in zip(values, widths, strict=True)) + f"{partitions:<15} " + assignment

    out = "\n" + line(header, "#PARTITIONS", "ASSIGNMENT" if verbose else "") + "\n"
    for m in members:
        assignment = ""
        if verbose:
            per: dict[str, list[int]] = {}
            for t, p in m["assignment"]:  # type: ignore[attr-defined]
                per.setdefault(t, []).append(p)
            assignment = ", ".join(sorted("(" + ",".join(sorted(str(p) for p in ps)) + ")" for ps in per.values()))
            assignment = assignment or MISSING
        out += line([str(m[c] or "") for c in cols], str(m["partitions"]), assignment) + "\n"
    return out


def render_state(row: Row) -> str:
    coord = str(row["coordinator"])
    w = max(25, len(coord))
    fmt = "\n{:<" + str(w) + "} {:<25} {:<20} {:<15} {}"
    return (fmt.format("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
            + fmt.format(row["group"], coord, row["assignment_strategy"], row["state"], row["members"]) + "\n")


def render_reset(plan: dict[str, dict[tuple[str, int], int]]) -> str:
    """The 3.7 Scala layout: blank line, header, one row per line."""
    fmt = "{:<30} {:<30} {:<10} {:<15}\n"
    out = "\n" + fmt.format("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET") if plan else ""
    for group, offsets in plan.items():
        for (t, p), o in sorted(offsets.items()):
            out += fmt.format(group, t, p, o)
    return out


def export_csv(plan: dict[str, dict[tuple[str, int], int]], with_group: bool) -> str:
    return "".join((f"{g}," if with_group else "") + f"{t},{p},{o}\n"
                   for g, offsets in plan.items() for (t, p), o in sorted(offsets.items()))


def parse_reset_csv(text: str, groups: tuple[str, ...]) -> dict[str, dict[tuple[str, int], int]]:
    plan: dict[str, dict[tuple[str, int], int]] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        fields = [f.strip() for f in raw.split(",")]
        if len(fields) == 3 and len(groups) == 1:
            fields = [groups[0], *fields]
        if len(fields) != 4 or not fields[2].lstrip("-").isdigit() or not fields[3].lstrip("-").isdigit():
            raise UsageError(f"Invalid reset plan line {n}: '{raw}' (expected [group,]topic,partition,offset)")
        plan.setdefault(fields[0], {})[(fields[1], int(fields[2]))] = int(fields[3])
    return plan


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)


def parse_duration_ms(text: str) -> int:
    """``PnDTnHnMnS`` (java.time.Duration's format, days at most) -> milliseconds."""
    m = _DURATION.match(text.strip())
    if m is None or text.strip().upper() in ("P", "PT"):
        raise UsageError(f"Error parsing duration '{text}': expected the ISO-8601 format PnDTnHnMnS")
    d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return int(((d * 24 + h) * 60 + mi) * 60_000 + s * 1000)


def parse_datetime_ms(text: str) -> int:
    """``YYYY-MM-DDTHH:mm:SS.sss`` with an optional zone (``Z``, ``+01:00``); local time when none."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"Error parsing timestamp '{text}': expected YYYY-MM-DDTHH:mm:SS.sss") from None
    if value.tzinfo is None:
        value = value.astimezone()
    return int(value.timestamp() * 1000)


# -- option checks ----------------------------------------------------------------------------------
def _opts(**kw: object) -> Options:
    return Options(**kw)  # type: ignore[arg-type]


def validate(actions: dict[str, bool], groups: list[str] | None, all_groups: bool, topics: list[str] | None,
             all_topics: bool, scenarios: dict[str, object], dry_run: bool, execute: bool,
             modes: dict[str, bool]) -> str:
    """Kafka's ``checkArgs`` rules; the chosen action."""
    chosen = [a for a, on in actions.items() if on]
    if len(chosen) != 1:
        raise UsageError("Command must include exactly one action: --list, --describe, --delete, --reset-offsets, "
                         "--delete-offsets")
    action = chosen[0]
    if action in ("describe", "delete", "reset-offsets") and not groups and not all_groups:
        raise UsageError(f'Option "[{action}]" takes one of these options: [all-groups], [group]')
    if groups and all_groups:
        raise UsageError('Option "[all-groups]" can\'t be used with option "[group]"')
    if action == "describe" and sum(modes.values()) > 1:
        raise UsageError('Option "[describe]" takes at most one of these options: [members], [offsets], [state]')
    if action == "delete" and topics:
        raise UsageError('Option "[delete]" can\'t be used with option "[topic]"')
    if action == "delete-offsets" and (not groups or len(groups) != 1 or not topics):
        raise UsageError('Option "[delete-offsets]" takes the following options: [group], [topic]')
    if action == "reset-offsets":
        if dry_run and execute:
            raise UsageError('Option "[reset-offsets]" only accepts one of [execute] and [dry-run]')
        given = [s for s, v in scenarios.items() if v not in (None, False)]
        if len(given) != 1:
            raise UsageError('Option "[reset-offsets]" takes one of these options: ' + ", ".join(
                f"[{s.lstrip('-')}]" for s in SCENARIOS))
        if given[0] != "--from-file" and not topics and not all_topics:
            raise UsageError('Option "[reset-offsets]" takes one of these options: [all-topics], [topic]')
        if topics and all_topics:
            raise UsageError('Option "[all-topics]" can\'t be used with option "[topic]"')
    return action


# -- running (network) -------------------------------------------------------------------------------
def _emit_json(rows: list[Row]) -> None:
    import json

    out = current_env().stdout
    for r in rows:
        out.write(json.dumps(r, separators=(",", ":"), default=str) + "\n")


async def _group_ids(admin: GroupsAdmin, opts: Options) -> list[str]:
    if opts.all_groups:
        return [g.group_id for g in await admin.list_groups()]
    return list(opts.groups)


def _exists(d: GroupDescription) -> bool:
    return d.state not in ("Dead", "")


def _state_notice(d: GroupDescription, rows: int) -> bool:
    """Kafka's ``shouldPrintMemberState``: notices for empty/rebalancing/missing groups; print the table?"""
    env = current_env()
    if not _exists(d):
        env.stdout.write(f"\nError: Consumer group '{d.group_id}' does not exist.\n")
        return False
    if d.state == "Empty":
        env.stderr.write(f"\nConsumer group '{d.group_id}' has no active members.\n")
    elif d.state in ("PreparingRebalance", "CompletingRebalance"):
        env.stderr.write(f"\nWarning: Consumer group '{d.group_id}' is rebalancing.\n")
    return rows > 0


async def _log_offsets(client: KafkaClient, partitions: list[tuple[str, int]], spec: int) -> dict[tuple[str, int], int]:
    from kafkatools.client.admin import list_offsets

    if not partitions:
        return {}
    await client.refresh_metadata(sorted({t for t, _ in partitions}))
    found = await list_offsets(client, partitions, spec)
    return {tp: off for tp, (code, off, _) in found.items() if code == 0 and off >= 0}


async def offset_rows(client: KafkaClient, admin: GroupsAdmin, d: GroupDescription) -> list[Row]:
    committed = {tp: c.offset for tp, c in (await admin.fetch_offsets(d.group_id)).items()}
    owners: list[tuple[tuple[str, int], str, str, str]] = []
    for m in sorted((m for m in d.members if m.assignment), key=lambda m: -len(m.assignment)):
        for tp in sorted(m.assignment, key=lambda tp: tp[1]):
            owners.append((tp, m.member_id, m.host, m.client_id))
    assigned = {tp for tp, *_ in owners}
    owners += [(tp, MISSING, MISSING, MISSING) for tp in sorted(committed, key=lambda tp: tp[1]) if tp not in assigned]
    ends = await _log_offsets(client, [tp for tp, *_ in owners], -1)
    rows: list[Row] = []
    for (t, p), cid, host, client_id in owners:
        cur, end = committed.get((t, p)), ends.get((t, p))
        lag = end - cur if cur is not None and end is not None else None
        rows.append({"GROUP": d.group_id, "TOPIC": t, "PARTITION": p, "CURRENT-OFFSET": cur, "LOG-END-OFFSET": end,
                     "LAG": lag, "CONSUMER-ID": cid, "HOST": host, "CLIENT-ID": client_id})
    return rows


async def _describe(client: KafkaClient, admin: GroupsAdmin, opts: Options) -> None:
    out = current_env().stdout
    for gid in sorted(await _group_ids(admin, opts)):
        d = await admin.describe_group(gid)
        if opts.describe_mode == "state":
            row: Row = {"group": gid, "coordinator": f"{d.coordinator.host}:{d.coordinator.port}  "
                        f"({d.coordinator.node_id})", "assignment_strategy": d.protocol, "state": d.state,
                        "members": len(d.members)}
            if _state_notice(d, 1):
                out.write(render_state(row)) if opts.output is OutputFormat.TEXT else _emit_json([row])
        elif opts.describe_mode == "members":
            mrows: list[Row] = [{"group": gid, "consumer_id": m.member_id, "group_instance_id": m.group_instance_id,
                                 "host": m.host, "client_id": m.client_id, "partitions": len(m.assignment),
                                 "assignment": list(m.assignment)} for m in d.members]
            if _state_notice(d, len(mrows)):
                out.write(render_members(gid, mrows, opts.verbose)) if opts.output is OutputFormat.TEXT \
                    else _emit_json(mrows)
        else:
            rows = await offset_rows(client, admin, d) if _exists(d) else []
            if _state_notice(d, len(rows)):
                out.write(render_offsets(rows)) if opts.output is OutputFormat.TEXT else _emit_json(rows)


async def _scope(client: KafkaClient, admin: GroupsAdmin, gid: str, opts: Options) -> list[tuple[str, int]]:
    if opts.all_topics:
        return sorted(await admin.fetch_offsets(gid))
    named = [t.partition(":") for t in opts.topics]
    await client.refresh_metadata(sorted({t for t, _, _ in named}))
    out: list[tuple[str, int]] = []
    for t, sep, parts in named:
        if sep:
            out += [(t, int(p)) for p in parts.split(",") if p.strip()]
        else:
            meta = client.topics.get(t)
            if meta is None:
                raise errors.KafkaError(errors.UNKNOWN_TOPIC_OR_PARTITION, f"Topic '{t}' does not exist")
            out += [(t, p.partition_index) for p in meta.partitions]
    return sorted(set(out))


async def _plan(client: KafkaClient, admin: GroupsAdmin, gid: str, opts: Options) -> dict[tuple[str, int], int]:
    parts = await _scope(client, admin, gid, opts)
    earliest, latest = await _log_offsets(client, parts, -2), await _log_offsets(client, parts, -1)

    def clamp(tp: tuple[str, int], off: int) -> int:
        return max(earliest.get(tp, 0), min(off, latest.get(tp, off)))

    scenario, value = opts.scenario, opts.scenario_value
    committed = {tp: c.offset for tp, c in (await admin.fetch_offsets(gid, parts)).items()}
    if scenario == "--to-earliest":
        return {tp: earliest[tp] for tp in parts if tp in earliest}
    if scenario == "--to-latest":
        return {tp: latest[tp] for tp in parts if tp in latest}
    if scenario == "--to-offset":
        return {tp: clamp(tp, int(value or 0)) for tp in parts}
    if scenario == "--to-current":
        return {tp: committed.get(tp, latest.get(tp, 0)) for tp in parts}
    if scenario == "--shift-by":
        missing = [tp for tp in parts if tp not in committed]
        if missing:
            t, p = missing[0]
            raise errors.KafkatoolsError(f"Cannot shift offset for partition {t}-{p} since there is no current "
                                         "committed offset")
        return {tp: clamp(tp, committed[tp] + int(value or 0)) for tp in parts}
    stamp = parse_datetime_ms(value or "") if scenario == "--to-datetime" else \
        int(time.time() * 1000) - parse_duration_ms(value or "")
    from kafkatools.client.admin import list_offsets

    found = await list_offsets(client, parts, stamp)
    return {tp: off if code == 0 and off >= 0 else latest.get(tp, 0) for tp, (code, off, _) in found.items()}


async def _reset(client: KafkaClient, admin: GroupsAdmin, opts: Options) -> None:
    gids = await _group_ids(admin, opts)
    file_plan = None
    if opts.scenario == "--from-file":
        file_plan = parse_reset_csv(Path(opts.scenario_value or "").read_text(), tuple(gids))
    plan: dict[str, dict[tuple[str, int], int]] = {}
    for gid in gids:
        d = await admin.describe_group(gid)
        if d.state not in ("Empty", "Dead"):
            raise errors.KafkatoolsError(f"Assignments can only be reset if the group '{gid}' is inactive, but the "
                                         f"current state is {d.state}.")
        plan[gid] = (file_plan or {}).get(gid, {}) if file_plan is not None else await _plan(client, admin, gid, opts)
        if opts.execute and plan[gid]:
            failed = {tp: e for tp, e in (await admin.commit_offsets(gid, plan[gid])).items() if e.code}
            if failed:
                (t, p), e = next(iter(failed.items()))
                raise errors.KafkaError(e, f"Committing offsets of group '{gid}' failed for {t}-{p}")
    out = current_env().stdout
    if opts.export:
        out.write(export_csv(plan, with_group=len(gids) > 1 or opts.all_groups))
    elif opts.output is OutputFormat.JSON:
        _emit_json([{"group": g, "topic": t, "partition": p, "new_offset": o}
                    for g, offs in plan.items() for (t, p), o in sorted(offs.items())])
    else:
        out.write(render_reset(plan))


async def _delete(admin: GroupsAdmin, opts: Options) -> None:
    gids = await _group_ids(admin, opts)
    results = await admin.delete_groups(gids)
    ok = [g for g in gids if results.get(g) is errors.NONE or getattr(results.get(g), "code", 1) == 0]
    out = current_env().stdout
    quoted = ", ".join(f"'{g}'" for g in ok)
    if len(ok) == len(gids):
        out.write(f"Deletion of requested consumer groups ({quoted}) was successful.\n")
        return
    out.write("Deletion of some consumer groups failed:\n")
    for g in gids:
        if g not in ok:
            out.write(f"* Group '{g}' could not be deleted due to: {results.get(g)}\n")
    if ok:
        out.write(f"\nThese consumer groups were deleted successfully: {quoted}\n")
    raise errors.KafkatoolsError("Some consumer groups could not be deleted")


async def _delete_offsets(client: KafkaClient, admin: GroupsAdmin, opts: Options) -> None:
    gid = opts.groups[0]
    parts = await _scope(client, admin, gid, opts)
    top, per = await admin.delete_offsets(gid, parts)
    out = current_env().stdout
    messages = {"INVALID_GROUP_ID": f"'{gid}' is not valid.", "GROUP_ID_NOT_FOUND": f"'{gid}' does not exist.",
                "NON_EMPTY_GROUP": f"Deleting offsets of a consumer group '{gid}' is forbidden if the group is not "
                                   "empty.",
                "GROUP_SUBSCRIBED_TO_TOPIC": "Encounter some partition level error, see the follow-up details:"}
    if top.code == 0 and all(e.code == 0 for e in per.values()):
        out.write(f"Request succeed for deleting offsets with topic {', '.join(opts.topics)} group {gid}\n")
    else:
        bad = top if top.code else next(e for e in per.values() if e.code)
        out.write("\nError: " + messages.get(bad.name, f"Encounter some unknown error: {bad.name}") + "\n")
    fmt = "{:<30} {:<15} {:<15}\n"
    out.write("\n" + fmt.format("TOPIC", "PARTITION", "STATUS"))
    for (t, p), e in sorted(per.items(), key=lambda kv: kv[0][0] + str(kv[0][1])):
        out.write(fmt.format(t, p, "Successful" if e.code == 0 else f"Error: :{e.name}"))
    if top.code or any(e.code for e in per.values()):
        raise errors.KafkaError(top if top.code else bad, f"Deleting offsets of group '{gid}' failed")


async def execute_options(opts: Options) -> None:
    from kafkatools.client.cluster import KafkaClient
    from kafkatools.client.groups import GroupsAdmin

    async with KafkaClient(opts.bootstrap, client_id=opts.config.get("client.id", "kafka-consumer-groups"),
                           request_timeout=max(opts.timeout_ms, 1000) / 1000) as client:
        admin = GroupsAdmin(client)
        if opts.action == "list":
            listed = await admin.list_groups(list(opts.states) if opts.states else None)
            if opts.output is OutputFormat.JSON:
                _emit_json([{"group": g.group_id, "state": g.state} for g in listed])
            else:
                current_env().stdout.write(render_list([(g.group_id, g.state) for g in listed],
                                                       opts.states is not None))
        elif opts.action == "describe":
            await _describe(client, admin, opts)
        elif opts.action == "reset-offsets":
            await _reset(client, admin, opts)
        elif opts.action == "delete":
            await _delete(admin, opts)
        else:
            await _delete_offsets(client, admin, opts)


@app.command()
def consumer_groups(
    bootstrap_server: Annotated[str | None, typer.Option("--bootstrap-server", help="REQUIRED: host:port.")] = None,
    command_config: Annotated[Path | None, typer.Option("--command-config", help="Admin client config file.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List all consumer groups.")] = False,
    describe: Annotated[bool, typer.Option("--describe", help="Describe consumer group(s).")] = False,
    delete: Annotated[bool, typer.Option("--delete", help="Delete consumer group(s) (must be empty).")] = False,
    delete_offsets: Annotated[bool, typer.Option("--delete-offsets", help="Delete a group's offsets.")] = False,
    reset_offsets: Annotated[bool, typer.Option("--reset-offsets", help="Reset a group's offsets.")] = False,
    group: Annotated[list[str] | None, typer.Option("--group", help="The consumer group (repeatable).")] = None,
    all_groups: Annotated[bool, typer.Option("--all-groups", help="Apply to all consumer groups.")] = False,
    topic: Annotated[list[str] | None, typer.Option("--topic", help="Topic, or topic:0,1,2 (repeatable).")] = None,
    all_topics: Annotated[bool, typer.Option("--all-topics", help="Reset scope: every topic with offsets.")] = False,
    to_offset: Annotated[int | None, typer.Option("--to-offset", help="Reset to this offset.")] = None,
    to_earliest: Annotated[bool, typer.Option("--to-earliest", help="Reset to the earliest offset.")] = False,
    to_latest: Annotated[bool, typer.Option("--to-latest", help="Reset to the latest offset.")] = False,
    to_current: Annotated[bool, typer.Option("--to-current", help="Reset to the current offset.")] = False,
    shift_by: Annotated[int | None, typer.Option("--shift-by", help="Shift the current offset by N (+/-).")] = None,
    to_datetime: Annotated[str | None, typer.Option("--to-datetime", help="YYYY-MM-DDTHH:mm:SS.sss")] = None,
    by_duration: Annotated[str | None, typer.Option("--by-duration", help="PnDTnHnMnS before now.")] = None,
    from_file: Annotated[Path | None, typer.Option("--from-file", help="Reset to the offsets in a CSV.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the result (default).")] = False,
    execute: Annotated[bool, typer.Option("--execute", help="Execute the reset.")] = False,
    export: Annotated[bool, typer.Option("--export", help="Print the reset plan as CSV.")] = False,
    members: Annotated[bool, typer.Option("--members", help="Describe members.")] = False,
    offsets: Annotated[bool, typer.Option("--offsets", help="Describe offsets and lag (default).")] = False,
    state: Annotated[str | None, typer.Option("--state",
                                              help="Describe the state; with --list: filter by states (csv).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="With --members: show assignments.")] = False,
    timeout: Annotated[int, typer.Option("--timeout", help="Request timeout in ms.")] = 5000,
    output: OutputOption = OutputFormat.TEXT,
    version: VersionOption = False,
) -> None:
    """List all consumer groups, describe a consumer group, delete consumer group info, or reset offsets."""
    if not bootstrap_server:
        raise UsageError('Missing required argument "[bootstrap-server]"')
    scenarios: dict[str, object] = dict(zip(SCENARIOS, (to_offset, to_earliest, to_latest, to_current, shift_by,
                                                         to_datetime, by_duration, from_file), strict=True))
    action = validate({"list": list_, "describe": describe, "delete": delete, "delete-offsets": delete_offsets,
                       "reset-offsets": reset_offsets}, group, all_groups, topic, all_topics, scenarios, dry_run,
                      execute, {"members": members, "offsets": offsets, "state": state is not None})
    given = next(((s, v) for s, v in scenarios.items() if v not in (None, False)), (None, None))
    if action == "reset-offsets" and not dry_run and not execute:
        current_env().stderr.write(DRY_RUN_WARNING + "\n")
    opts = _opts(
        bootstrap=parse_bootstrap(bootstrap_server), config=load_client_config(str(command_config or "") or None),
        action=action, groups=tuple(group or ()), all_groups=all_groups, topics=tuple(topic or ()),
        all_topics=all_topics, describe_mode="members" if members else "state" if state is not None else "offsets",
        verbose=verbose, states=None if state is None else tuple(s.strip() for s in state.split(",") if s.strip()),
        scenario=given[0], scenario_value=None if given[1] is None else str(given[1]), execute=execute,
        export=export, timeout_ms=timeout, output=output)
    run_async(execute_options(opts))


def normalize_argv(argv: list[str]) -> list[str]:
    """Give a bare ``--state`` its empty value: Kafka's ``--state`` takes an optional argument, which
    typer's parser cannot express, so ``--state`` followed by nothing or by another option becomes
    ``--state ""`` before parsing."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        out.append(arg)
        if arg == "--state" and (i + 1 == len(argv) or argv[i + 1].startswith("--")):
            out.append("")
    return out


def run(argv: list[str] | None = None) -> int:
    """Run the tool on ``argv`` (default ``sys.argv[1:]``); the exit status."""
    import sys

    return run_app(app, "kafka-consumer-groups", normalize_argv(list(sys.argv[1:] if argv is None else argv)))


def main() -> None:
    """Entry point of kafka-consumer-groups."""
    raise SystemExit(run())
