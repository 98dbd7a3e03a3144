"""ZooKeeper layout and the one module that talks to ZooKeeper (kazoo), with an in-memory twin."""
