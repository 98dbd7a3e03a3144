"""Byte-level formats shared by the codec, storage and broker: record batches, legacy message
sets, compression, CRCs.  Pure: no sockets, no asyncio."""
