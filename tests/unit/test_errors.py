from kafkatools import errors


def test_table_has_unique_codes_and_names() -> None:
    codes = [e.code for e in errors.BY_CODE.values()]
    names = [e.name for e in errors.BY_CODE.values()]
    assert len(codes) == len(set(codes))
    assert len(names) == len(set(names))
    # Kafka 3.9 defines -1 and 0..127 without gaps.
    assert sorted(codes) == list(range(-1, 128))


def test_known_rows() -> None:
    assert errors.error_for(35).name == "UNSUPPORTED_VERSION"
    assert errors.error_for(6) is errors.NOT_LEADER_OR_FOLLOWER
    assert errors.NOT_LEADER_OR_FOLLOWER.retriable
    assert not errors.TOPIC_ALREADY_EXISTS.retriable
    assert errors.error_for(9999).name == "UNKNOWN_ERROR_CODE_9999"


def test_exceptions_carry_codes() -> None:
    e = errors.KafkaError(errors.MESSAGE_TOO_LARGE, "batch of 2 MB")
    assert e.code == 10 and "MESSAGE_TOO_LARGE" in str(e)
    c = errors.CorruptRecordError("bad crc")
    assert c.code == 2 and isinstance(c, errors.KafkaError)
    p = errors.ProtocolError("Produce", 9, "topic_data[0].name", "truncated")
    assert "Produce v9" in str(p) and "topic_data[0].name" in str(p)
