//! The simulated network's table of calls waiting on a handler.
//!
//! A call whose handler has to wait enters the table with its task's waker, and leaves it
//! however the call ends. The table serves two purposes:
//! - when the topology changes, the network wakes every call in it, so that each re-checks
//!   at once whether it still reaches its server;
//! - the hang report lists them, since a handler that never returns is the one way a call
//!   can hang.
//!
//! It is a slab (a vector of slots and a list of free ones) rather than an ordered map,
//! because every call that waits enters and leaves it: a slot is found and freed without a
//! search. Calls are numbered as they enter, so that wakes and the report still go in the
//! order the calls began waiting, whatever slots they landed in.

use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

/// A call waiting on its handler.
pub(crate) struct PendingCall {
    pub from: Arc<str>,
    pub to: Arc<str>,
    pub method: &'static str,
    pub since: Duration,
    /// Wakes the calling task.
    pub waker: Waker,
}

#[derive(Default)]
pub(crate) struct PendingTable {
    /// `(number, call)` by slot; `None` for a free slot.
    slots: Vec<Option<(u64, PendingCall)>>,
    free: Vec<usize>,
    entered: u64,
}

impl PendingTable {
    fn insert(&mut self, call: PendingCall) -> usize {
        self.entered += 1;
        let entry = Some((self.entered, call));
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = entry;
                slot
            }
            None => {
                self.slots.push(entry);
                self.slots.len() - 1
            }
        }
    }

    fn remove(&mut self, slot: usize) {
        if self.slots[slot].take().is_some() {
            self.free.push(slot);
        }
    }

    /// How many calls are in the table: every slot not on the free list.
    fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// The calls in the order they entered.
    fn in_order(&self) -> Vec<&PendingCall> {
        let mut calls: Vec<_> = self.slots.iter().flatten().collect();
        calls.sort_unstable_by_key(|(number, _)| *number);
        calls.into_iter().map(|(_, call)| call).collect()
    }

    /// Wakes every call, in the order they entered (the topology changed).
    pub fn wake_all(&self) {
        for call in self.in_order() {
            call.waker.wake_by_ref();
        }
    }

    /// The calls still waiting, oldest first, for the hang report.
    pub fn report(&self) -> String {
        let len = self.len();
        if len == 0 {
            return "  network: no call is waiting on a handler\n".into();
        }
        let mut out = format!("  network: {len} calls waiting on a handler:\n");
        for call in self.in_order().into_iter().take(20) {
            out.push_str(&format!(
                "    {} -> {} {} since t={:.3} s\n",
                call.from,
                call.to,
                call.method,
                call.since.as_secs_f64()
            ));
        }
        if len > 20 {
            out.push_str(&format!("    … and {} more\n", len - 20));
        }
        out
    }
}

/// A call's place in the table, once its handler has had to wait: removed however the call
/// ends (even if it is dropped).
pub(crate) struct PendingGuard<'a> {
    table: &'a Mutex<PendingTable>,
    /// The call's slot and the waker the table holds for it, once it is in the table.
    entered: Option<(usize, Waker)>,
}

impl<'a> PendingGuard<'a> {
    pub fn new(table: &'a Mutex<PendingTable>) -> PendingGuard<'a> {
        PendingGuard {
            table,
            entered: None,
        }
    }

    /// Makes sure the table holds the call, with `waker` to wake it: a call enters only
    /// once its handler has had to wait, and its entry changes only if its task's waker did.
    pub fn register(&mut self, waker: &Waker, call: impl FnOnce(Waker) -> PendingCall) {
        match &mut self.entered {
            Some((_, registered)) if registered.will_wake(waker) => {}
            Some((slot, registered)) => {
                let mut table = self.table.lock().unwrap();
                if let Some((_, entry)) = &mut table.slots[*slot] {
                    entry.waker = waker.clone();
                }
                *registered = waker.clone();
            }
            None => {
                let slot = self.table.lock().unwrap().insert(call(waker.clone()));
                self.entered = Some((slot, waker.clone()));
            }
        }
    }
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if let Some((slot, _)) = self.entered {
            self.table.lock().unwrap().remove(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(from: &str) -> impl FnOnce(Waker) -> PendingCall + '_ {
        move |waker| PendingCall {
            from: from.into(),
            to: "server".into(),
            method: "Svc.m",
            since: Duration::ZERO,
            waker,
        }
    }

    #[test]
    fn calls_leave_however_they_end_and_are_listed_in_the_order_they_entered() {
        let table = Mutex::new(PendingTable::default());
        let waker = Waker::noop();
        let mut a = PendingGuard::new(&table);
        a.register(waker, call("a"));
        let mut b = PendingGuard::new(&table);
        b.register(waker, call("b"));
        b.register(waker, call("not entered twice"));
        drop(a);
        // c reuses a's slot, but entered after b.
        let mut c = PendingGuard::new(&table);
        c.register(waker, call("c"));
        let report = table.lock().unwrap().report();
        assert!(report.contains("2 calls"), "{report}");
        let (b_at, c_at) = (report.find("b ->").unwrap(), report.find("c ->").unwrap());
        assert!(b_at < c_at, "{report}");
        drop((b, c));
        assert!(table.lock().unwrap().report().contains("no call"));
        // A guard that never entered leaves nothing to remove.
        drop(PendingGuard::new(&table));
    }
}
