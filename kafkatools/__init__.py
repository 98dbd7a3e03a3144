"""kafkatools: Apache Kafka's script suite and a Kafka-compatible broker, in Python."""

__version__ = "0.1.0"
__all__ = ["__version__"]
