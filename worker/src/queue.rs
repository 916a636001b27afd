//! The reliable queue (being written).
