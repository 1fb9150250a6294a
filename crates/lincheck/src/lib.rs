//! Linearizability checker (not yet built).
