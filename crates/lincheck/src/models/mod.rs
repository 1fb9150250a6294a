//! Ready-made models: the course's key/value service and Jepsen's etcd register.

pub mod kv;
mod kv_order;
mod kv_state;
pub mod register;
