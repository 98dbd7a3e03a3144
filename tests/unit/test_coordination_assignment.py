"""Rack-unaware replica assignment (Kafka's AdminZkClient placement): exact layouts and invariants."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kafkatools.coordination.assignment import assign_replicas, validate_assignment
from kafkatools.errors import KafkaError


def test_fixed_start_layout_for_five_brokers() -> None:
    # start index 0 and shift 0: leaders walk the ring; after a lap the follower shift grows by one.
    got = assign_replicas(10, 3, [0, 1, 2, 3, 4], fixed_start_index=0)
    assert got == {
        0: [0, 1, 2], 1: [1, 2, 3], 2: [2, 3, 4], 3: [3, 4, 0], 4: [4, 0, 1],
        5: [0, 2, 3], 6: [1, 3, 4], 7: [2, 4, 0], 8: [3, 0, 1], 9: [4, 1, 2],
    }


def test_broker_ids_are_used_sorted_not_as_given() -> None:
    assert assign_replicas(3, 2, [3, 1, 2], fixed_start_index=0) == {0: [1, 2], 1: [2, 3], 2: [3, 1]}


def test_start_partition_continues_a_topic() -> None:
    whole = assign_replicas(8, 2, [1, 2, 3], fixed_start_index=1)
    tail = assign_replicas(3, 2, [1, 2, 3], fixed_start_index=1, start_partition=5)
    # Leaders continue the ring; the follower shift restarts (Kafka counts laps only within one call).
    assert {p: r[0] for p, r in tail.items()} == {p: whole[p][0] for p in (5, 6, 7)}
    assert tail == {5: [1, 3], 6: [2, 3], 7: [3, 1]}


def test_randomness_is_injectable_and_used() -> None:
    a = assign_replicas(6, 2, range(5), rng=random.Random(42))
    assert a == assign_replicas(6, 2, range(5), rng=random.Random(42))
    firsts = {assign_replicas(1, 1, range(5), rng=random.Random(seed))[0][0] for seed in range(40)}
    assert len(firsts) > 1


@given(
    brokers=st.sets(st.integers(0, 50), min_size=1, max_size=8),
    partitions=st.integers(1, 40),
    seed=st.integers(0, 2**32),
    data=st.data(),
)
def test_invariants(brokers: set[int], partitions: int, seed: int, data: st.DataObject) -> None:
    rf = data.draw(st.integers(1, len(brokers)))
    got = assign_replicas(partitions, rf, brokers, rng=random.Random(seed))
    assert sorted(got) == list(range(partitions))
    for replicas in got.values():
        assert len(replicas) == rf and len(set(replicas)) == rf and set(replicas) <= brokers
    leaders = Counter(r[0] for r in got.values())
    assert max(leaders.values()) - min(leaders.get(b, 0) for b in brokers) <= 1  # leaders spread evenly
    validate_assignment(got, brokers)


@pytest.mark.parametrize(
    ("partitions", "rf", "brokers", "message"),
    [
        (0, 1, [1], "Number of partitions must be larger than 0."),
        (1, 0, [1], "Replication factor must be larger than 0."),
        (1, 3, [1], "Replication factor: 3 larger than available brokers: 1."),
    ],
)
def test_refusals(partitions: int, rf: int, brokers: list[int], message: str) -> None:
    with pytest.raises(KafkaError) as info:
        assign_replicas(partitions, rf, brokers)
    assert info.value.message == message


@pytest.mark.parametrize(
    ("assignment", "words"),
    [
        ({1: [1]}, "consecutive"),
        ({0: [1], 1: [1, 2]}, "same number"),
        ({0: [1, 1]}, "Duplicate"),
        ({0: [9]}, "Unknown broker"),
    ],
)
def test_validate_assignment(assignment: dict[int, list[int]], words: str) -> None:
    with pytest.raises(KafkaError, match=words):
        validate_assignment(assignment, [1, 2])
