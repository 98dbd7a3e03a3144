"""Client-side assignors through the broker's group coordinator (issue 5).

The broker only relays: members name the protocols they support, the coordinator picks one all
share, the leader computes the assignment and SyncGroup hands it out.  Each strategy librdkafka
offers must therefore work unchanged — eager (range, roundrobin) and incremental
(cooperative-sticky, which needs a second rebalance after revoking partitions).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.integration.broker_process import BrokerProcess

PARTITIONS = 6
RECORDS = 1200


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("assignors"),
                      overrides={"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "3"})
    b.start()
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    for f in admin.create_topics([NewTopic("assign", PARTITIONS, 1)]).values():
        f.result(20)
    p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 5})
    for i in range(RECORDS):
        p.produce("assign", key=str(i).encode(), value=b"v")
    assert p.flush(20) == 0
    yield b
    b.kill()


@pytest.mark.parametrize("strategy", ["range", "roundrobin", "cooperative-sticky"])
def test_strategy_spreads_partitions_and_consumes_everything(srv: BrokerProcess, strategy: str) -> None:
    seen: list[int] = []
    assigned: dict[int, list[int]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []

    def member(idx: int) -> None:
        time.sleep(1.5 * idx)  # join one after another: every join is a rebalance
        c = Consumer({"bootstrap.servers": srv.bootstrap, "group.id": f"assign-{strategy}",
                      "auto.offset.reset": "earliest", "partition.assignment.strategy": strategy,
                      "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
        c.subscribe(["assign"])
        try:
            while not stop.is_set():
                for m in c.consume(200, 0.2):
                    if m.error():
                        errors.append(str(m.error()))
                        continue
                    with lock:
                        seen.append(int(m.key()))
                assigned[idx] = sorted(tp.partition for tp in c.assignment())
        finally:
            c.close()

    threads = [threading.Thread(target=member, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 45
    try:
        while time.monotonic() < deadline:
            spread = len(assigned) == 3 and sorted(p for ps in assigned.values() for p in ps) == list(range(6))
            if spread and all(len(ps) == 2 for ps in assigned.values()) and len(set(seen)) == RECORDS:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(20)
    assert not errors, errors[:3]
    assert len(set(seen)) == RECORDS, f"{strategy}: consumed {len(set(seen))} of {RECORDS}"
    assert sorted(p for ps in assigned.values() for p in ps) == list(range(PARTITIONS)), assigned
    assert all(len(ps) == 2 for ps in assigned.values()), f"{strategy}: uneven assignment {assigned}"
