"""Malformed group requests through our own BrokerConnection get Kafka's error codes, and the group
stays usable: afterwards a real client (kafka-python) consumes as that group."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from kafkatools import errors
from kafkatools.client.cluster import KafkaClient
from kafkatools.client.connection import BrokerConnection
from kafkatools.client.groups import GroupsAdmin, encode_subscription
from kafkatools.codec import messages
from tests.integration.broker_process import BrokerProcess

E = errors.BY_NAME
J, S = messages.JoinGroupRequest, messages.SyncGroupRequest
GROUP, TOPIC = "strict", "events"


def join(member_id: str = "", group: str = GROUP, session: int = 6000) -> messages.JoinGroupRequest:
    return J(group_id=group, session_timeout_ms=session, rebalance_timeout_ms=6000, member_id=member_id,
             protocol_type="consumer",
             protocols=[J.JoinGroupRequestProtocol(name="range", metadata=encode_subscription([TOPIC]))])


async def join_member(conn: BrokerConnection) -> messages.JoinGroupResponse:
    first: messages.JoinGroupResponse = await conn.request(join())
    assert first.error_code == E["MEMBER_ID_REQUIRED"].code
    resp: messages.JoinGroupResponse = await conn.request(join(first.member_id))
    assert resp.error_code == 0
    return resp


def commit(member: str, generation: int, metadata: str = "") -> messages.OffsetCommitRequest:
    R = messages.OffsetCommitRequest
    return R(group_id=GROUP, generation_id_or_member_epoch=generation, member_id=member, topics=[
        R.OffsetCommitRequestTopic(name=TOPIC, partitions=[
            R.OffsetCommitRequestPartition(partition_index=0, committed_offset=1, committed_metadata=metadata)])])


def code_of(resp: messages.OffsetCommitResponse) -> int:
    return resp.topics[0].partitions[0].error_code


async def misbehave(bootstrap: str) -> None:
    async with KafkaClient(bootstrap) as client:
        node = await GroupsAdmin(client).find_coordinator(GROUP)
        a, b = (BrokerConnection(node.host, node.port, request_timeout=30) for _ in range(2))
        await a.connect()
        await b.connect()
        try:
            bad_session = await a.request(join(session=10))
            assert bad_session.error_code == E["INVALID_SESSION_TIMEOUT"].code
            empty = await a.request(join(group=""))
            assert empty.error_code == E["INVALID_GROUP_ID"].code
            unknown = await a.request(join(member_id="made-up"))
            assert unknown.error_code == E["UNKNOWN_MEMBER_ID"].code

            first = await join_member(a)
            me, gen = first.member_id, first.generation_id
            wrong_protocol = await a.request(S(group_id=GROUP, generation_id=gen, member_id=me,
                                               protocol_type="consumer", protocol_name="roundrobin"))
            assert wrong_protocol.error_code == E["INCONSISTENT_GROUP_PROTOCOL"].code
            wrong_gen = await a.request(S(group_id=GROUP, generation_id=gen + 7, member_id=me))
            assert wrong_gen.error_code == E["ILLEGAL_GENERATION"].code
            stranger = await a.request(S(group_id=GROUP, generation_id=gen, member_id="stranger"))
            assert stranger.error_code == E["UNKNOWN_MEMBER_ID"].code
            ok = await a.request(S(group_id=GROUP, generation_id=gen, member_id=me, assignments=[]))
            assert ok.error_code == 0

            assert code_of(await a.request(commit(me, gen, "x" * 5000))) == E["OFFSET_METADATA_TOO_LARGE"].code
            assert code_of(await a.request(commit(me, gen + 1))) == E["ILLEGAL_GENERATION"].code
            assert code_of(await a.request(commit("stranger", gen))) == E["UNKNOWN_MEMBER_ID"].code
            hb = await a.request(messages.HeartbeatRequest(group_id=GROUP, generation_id=gen - 1, member_id=me))
            assert hb.error_code == E["ILLEGAL_GENERATION"].code

            # a second member joins: the first must rejoin; until then it is stale
            b_first: messages.JoinGroupResponse = await b.request(join())
            b_join = asyncio.ensure_future(b.request(join(b_first.member_id)))
            await asyncio.sleep(0.2)
            hb = await a.request(messages.HeartbeatRequest(group_id=GROUP, generation_id=gen, member_id=me))
            assert hb.error_code == E["REBALANCE_IN_PROGRESS"].code
            again: messages.JoinGroupResponse = await a.request(join(me))
            assert (await b_join).generation_id == again.generation_id == gen + 1
            stale = await a.request(messages.HeartbeatRequest(group_id=GROUP, generation_id=gen, member_id=me))
            assert stale.error_code == E["ILLEGAL_GENERATION"].code
            assert code_of(await a.request(commit(me, gen))) in (E["ILLEGAL_GENERATION"].code,
                                                                  E["REBALANCE_IN_PROGRESS"].code)
            L = messages.LeaveGroupRequest
            for conn, member in ((a, me), (b, b_first.member_id)):
                left = await conn.request(L(group_id=GROUP, member_id=member,
                                            members=[L.MemberIdentity(member_id=member)]))
                assert left.error_code == 0
            gone = await a.request(messages.HeartbeatRequest(group_id=GROUP, generation_id=gen + 1, member_id=me))
            assert gone.error_code == E["UNKNOWN_MEMBER_ID"].code
        finally:
            await a.close()
            await b.close()


def test_malformed_group_requests_get_kafka_errors_and_the_group_still_works(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path / "broker", overrides={"offsets.topic.num.partitions": "5"}).start()
    try:
        KafkaAdminClient(bootstrap_servers=broker.bootstrap).create_topics([NewTopic(TOPIC, 2, 1)])
        asyncio.run(misbehave(broker.bootstrap))
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
        for i in range(10):
            producer.send(TOPIC, value=b"%d" % i, partition=i % 2)
        producer.flush()
        consumer = KafkaConsumer(TOPIC, group_id=GROUP, bootstrap_servers=broker.bootstrap,
                                 auto_offset_reset="earliest", consumer_timeout_ms=15000)
        values = set()
        for record in consumer:
            values.add(record.value)
            if len(values) == 10:
                break
        consumer.commit()
        consumer.close()
        assert values == {b"%d" % i for i in range(10)}
    finally:
        broker.kill()
