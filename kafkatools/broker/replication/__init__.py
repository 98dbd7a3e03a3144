"""Replication: leaders track their followers, followers fetch from their leaders.

The controller (static in tests, ZooKeeper-backed later) tells each broker the state of every
partition it hosts through ``ReplicaManager.apply``; leaders report ISR changes back through an
``IsrChannel``.  A standalone broker never leaves the single-replica fast path.
"""
