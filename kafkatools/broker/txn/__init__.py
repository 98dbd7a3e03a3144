"""Transactions (exactly-once): the transaction coordinator and the partition-side marker helpers.

``markers`` is imported by the producer-state table (no coordinator dependencies); ``coordinator``
is the state machine behind InitProducerId/AddPartitionsToTxn/AddOffsetsToTxn/EndTxn/TxnOffsetCommit.
"""
