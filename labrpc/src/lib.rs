//! The simulated network (not yet built).
