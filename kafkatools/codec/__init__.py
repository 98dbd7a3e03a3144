"""Kafka wire protocol: messages generated from Kafka's JSON definitions, headers, framing.  Pure, sans-IO."""
