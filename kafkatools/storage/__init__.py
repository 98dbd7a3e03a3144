"""The partition log in Kafka's exact on-disk format: segments, indexes, checkpoints, recovery.

Pure and synchronous: no sockets, no asyncio."""
