"""A small asyncio Kafka client on our own codec, used by the command-line tools."""
