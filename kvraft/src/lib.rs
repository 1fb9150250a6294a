//! Lab 3: the key/value service on Raft (not yet built).
