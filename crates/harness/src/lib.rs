//! Shared test harness (not yet built).
