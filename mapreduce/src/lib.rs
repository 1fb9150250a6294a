//! Lab 1: MapReduce (not yet built).
