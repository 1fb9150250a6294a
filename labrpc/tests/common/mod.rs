//! The course's JunkServer: a handful of handlers that labrpc's own tests call.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use labrpc::{ClientEnd, Network, Server};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Default)]
pub struct JunkArgs {
    pub x: i64,
}

#[derive(Serialize, Deserialize, Default)]
pub struct JunkReply {
    pub x: String,
}

labrpc::service! {
    /// The JunkServer of the course's labrpc tests.
    pub mod junk("JunkServer") {
        fn handler1(String) -> i64;
        fn handler2(i64) -> String;
        fn handler3(i64) -> i64;
        fn handler4(JunkArgs) -> JunkReply;
        fn handler6(String) -> i64;
        fn handler7(i64) -> String;
        fn never_returns(i64) -> i64;
        fn slow_log(i64) -> i64;
    }
}

/// Records what reached it, as the Go JunkServer's log1/log2 do.
#[derive(Default)]
pub struct JunkServer {
    pub log1: Mutex<Vec<String>>,
    pub log2: Mutex<Vec<i64>>,
}

impl junk::Handler for JunkServer {
    async fn handler1(&self, args: String) -> i64 {
        self.log1.lock().unwrap().push(args.clone());
        args.parse().unwrap_or(0)
    }

    async fn handler2(&self, args: i64) -> String {
        self.log2.lock().unwrap().push(args);
        format!("handler2-{args}")
    }

    async fn handler3(&self, args: i64) -> i64 {
        tokio::time::sleep(Duration::from_secs(20)).await;
        -args
    }

    async fn never_returns(&self, _args: i64) -> i64 {
        // Waits on a channel nobody will ever send on (the sender stays alive).
        let (_tx, mut rx) = tokio::sync::mpsc::channel::<i64>(1);
        rx.recv().await.unwrap_or(0)
    }

    async fn handler4(&self, _args: JunkArgs) -> JunkReply {
        JunkReply {
            x: "pointer".into(),
        }
    }

    async fn handler6(&self, args: String) -> i64 {
        self.log2.lock().unwrap().push(args.len() as i64);
        args.len() as i64
    }

    /// Waits a second, then logs its argument in `log2`: shows whether a handler ran on to
    /// the end after its caller stopped waiting.
    async fn slow_log(&self, args: i64) -> i64 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.log2.lock().unwrap().push(args);
        args
    }

    async fn handler7(&self, args: i64) -> String {
        self.log2.lock().unwrap().push(args);
        "y".repeat(args as usize)
    }
}

/// A network with one JunkServer named "server99" and one connected, enabled end.
pub fn setup() -> (Network, Arc<JunkServer>, junk::Client) {
    let net = Network::new();
    let junk_server = Arc::new(JunkServer::default());
    let mut server = Server::new();
    server.add_service(junk::service(junk_server.clone()));
    net.add_server("server99", server);
    let end = connected_end(&net, "end1-99");
    (net, junk_server, junk::Client::new(end))
}

/// A new end to "server99", enabled.
pub fn connected_end(net: &Network, name: &str) -> ClientEnd {
    let end = net.make_end(name);
    net.connect(name, "server99");
    net.enable(name, true);
    end
}
