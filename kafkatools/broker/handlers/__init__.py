"""One module per Kafka API.  Each opens with the same header (versions, behaviour, notes) and
defines ``API_KEY``, ``MIN_VERSION``, ``MAX_VERSION`` and ``async def handle(ctx, request)``; the
dispatch table (``broker/dispatch.py``) is built from this list."""

from kafkatools.broker.handlers import (
    alter_configs,
    api_versions,
    create_partitions,
    create_topics,
    delete_records,
    delete_topics,
    describe_cluster,
    describe_configs,
    describe_log_dirs,
    fetch,
    incremental_alter_configs,
    init_producer_id,
    list_offsets,
    metadata,
    offset_for_leader_epoch,
    produce,
)

HANDLER_MODULES = [
    create_topics,
    describe_configs,
    alter_configs,
    incremental_alter_configs,
    produce,
    fetch,
    list_offsets,
    metadata,
    api_versions,
    create_partitions,
    delete_records,
    delete_topics,
    describe_cluster,
    describe_log_dirs,
    init_producer_id,
    offset_for_leader_epoch,
]
