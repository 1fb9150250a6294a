//! The `service!` macro: declare a service's methods once, get a typed client and dispatcher.
//!
//! ```
//! # use serde::{Deserialize, Serialize};
//! #[derive(Serialize, Deserialize)]
//! pub struct VoteArgs { pub term: u64 }
//! #[derive(Serialize, Deserialize)]
//! pub struct VoteReply { pub granted: bool }
//!
//! labrpc::service! {
//!     /// Raft's peer-to-peer calls.
//!     pub mod raft_rpc("Raft") {
//!         fn request_vote(VoteArgs) -> VoteReply;
//!     }
//! }
//!
//! struct Peer;
//! impl raft_rpc::Handler for Peer {
//!     async fn request_vote(&self, args: VoteArgs) -> VoteReply {
//!         VoteReply { granted: args.term > 0 }
//!     }
//! }
//! # fn main() {}
//! ```
//!
//! The macro expands to a module `raft_rpc` holding:
//! - `trait Handler`, one async method per RPC, which the server implements;
//! - `struct Client`, wrapping a [`ClientEnd`](crate::ClientEnd), with one typed async method
//!   per RPC returning `Result<Reply, RpcError>`;
//! - `fn service(Arc<impl Handler>) -> impl Service`, to add to a [`Server`](crate::Server).
//!
//! Argument and reply types are named as in the enclosing module (the expansion does
//! `use super::*`). The method names on the wire are `"Raft.request_vote"` and so on.

/// Declares an RPC service; see the [module documentation](crate::service).
#[macro_export]
macro_rules! service {
    (
        $(#[$meta:meta])*
        $vis:vis mod $module:ident ($service:literal) {
            $(
                $(#[$method_meta:meta])*
                fn $method:ident($args:ty) -> $reply:ty;
            )*
        }
    ) => {
        $(#[$meta])*
        $vis mod $module {
            #[allow(unused_imports)]
            use super::*;

            /// The service's name on the network.
            pub const NAME: &str = $service;

            /// What a server implements to answer this service's calls.
            pub trait Handler: Send + Sync + 'static {
                $(
                    $(#[$method_meta])*
                    fn $method(&self, args: $args)
                        -> impl ::std::future::Future<Output = $reply> + Send;
                )*
            }

            /// A typed client of this service over one client end.
            #[derive(Clone)]
            pub struct Client {
                end: $crate::ClientEnd,
            }

            impl Client {
                pub fn new(end: $crate::ClientEnd) -> Self {
                    Client { end }
                }

                /// The end this client calls through.
                pub fn end(&self) -> &$crate::ClientEnd {
                    &self.end
                }

                $(
                    $(#[$method_meta])*
                    pub async fn $method(&self, args: &$args)
                        -> ::std::result::Result<$reply, $crate::RpcError>
                    {
                        self.end.call(concat!($service, ".", stringify!($method)), args).await
                    }
                )*
            }

            /// Wraps a handler as a service that a server can hold.
            pub fn service<H: Handler>(handler: ::std::sync::Arc<H>) -> impl $crate::Service {
                Dispatcher(handler)
            }

            struct Dispatcher<H>(::std::sync::Arc<H>);

            impl<H: Handler> $crate::Service for Dispatcher<H> {
                fn name(&self) -> &'static str {
                    $service
                }

                fn dispatch(
                    &self,
                    method: &str,
                    request: ::std::vec::Vec<u8>,
                ) -> $crate::BoxFuture<::std::result::Result<::std::vec::Vec<u8>, $crate::RpcError>> {
                    #[allow(unused_variables)]
                    let handler = self.0.clone();
                    match method {
                        $(
                            stringify!($method) => ::std::boxed::Box::pin(async move {
                                let args: $args = $crate::codec::decode(&request)?;
                                let reply = handler.$method(args).await;
                                $crate::codec::encode(&reply)
                            }),
                        )*
                        other => {
                            let error = $crate::RpcError::UnknownMethod(
                                ::std::format!("{}.{}", $service, other),
                            );
                            ::std::boxed::Box::pin(async move { Err(error) })
                        }
                    }
                }
            }
        }
    };
}
