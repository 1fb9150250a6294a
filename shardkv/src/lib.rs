//! Lab 4: the shard controller and the sharded key/value service (not yet built).
