//! The heartbeat task (being written).
