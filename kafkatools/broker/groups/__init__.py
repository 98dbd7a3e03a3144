"""Kafka's classic group coordinator: membership, rebalances, committed offsets."""
