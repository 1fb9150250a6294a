//! Lab 2: Raft (not yet built).
