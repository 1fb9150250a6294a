//! The search's working list: every call and return event of one partition, sorted by time,
//! as a doubly linked list from which an operation's two events can be removed and restored.
//!
//! Ordering rule (porcupine's): events sort by time, and at equal times calls come before
//! returns, so two operations whose intervals merely touch count as concurrent. Unknown returns
//! are infinitely late and sort after everything. Remaining ties are broken by operation id, so
//! the order (and therefore the whole search) is deterministic.
//!
//! The search walks the list from the head. Linearizing an operation *lifts* its call and return
//! out of the list; backtracking *unlifts* them back in. Lifts and unlifts happen in strict LIFO
//! order, so restoring a node only needs the prev/next pointers it still holds ("dancing links").

/// Index of a node in the list; `HEAD` is the sentinel before the first event.
pub type NodeId = u32;

/// The sentinel node.
pub const HEAD: NodeId = 0;
/// "No node": the end of the list.
pub const NIL: NodeId = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Node {
    prev: NodeId,
    next: NodeId,
    /// The operation (partition-local id) this event belongs to.
    op: u32,
    /// For a call event, the node of its return event; `NIL` for return events.
    ret: NodeId,
}

/// Sorted call/return events of one partition, linked for O(1) lift and unlift.
pub struct EventList {
    nodes: Vec<Node>,
    /// Position (1-based, in sorted order) of each operation's call event.
    call_pos: Vec<u32>,
    /// Position (1-based, in sorted order) of each operation's return event.
    ret_pos: Vec<u32>,
}

/// Sort key of an event: (infinitely late?, time, return?, operation id).
type EventKey = (bool, u64, bool, u32);

impl EventList {
    /// Builds the list from each operation's `(call time, return time or None)`. Node ids are
    /// `u32`, which limits a partition to 2^31 operations (far beyond what fits in memory).
    pub fn new(intervals: &[(u64, Option<u64>)]) -> Self {
        let mut events: Vec<EventKey> = Vec::with_capacity(intervals.len() * 2);
        for (op, &(call, ret)) in intervals.iter().enumerate() {
            let op = op as u32;
            events.push((false, call, false, op));
            match ret {
                // A return can't precede its call (History::return_time clamps, but be safe).
                Some(ret) => events.push((false, ret.max(call), true, op)),
                None => events.push((true, u64::MAX, true, op)),
            }
        }
        events.sort_unstable(); // keys are unique, so unstable sorting is deterministic

        let n = intervals.len();
        let mut call_pos = vec![0; n];
        let mut ret_pos = vec![0; n];
        for (i, &(_, _, is_return, op)) in events.iter().enumerate() {
            let pos = i as u32 + 1;
            if is_return {
                ret_pos[op as usize] = pos;
            } else {
                call_pos[op as usize] = pos;
            }
        }

        let len = events.len() as u32;
        let mut nodes = Vec::with_capacity(events.len() + 1);
        nodes.push(Node {
            prev: NIL,
            next: if len == 0 { NIL } else { 1 },
            op: u32::MAX,
            ret: NIL,
        });
        for (i, &(_, _, is_return, op)) in events.iter().enumerate() {
            let pos = i as u32 + 1;
            nodes.push(Node {
                prev: pos - 1,
                next: if pos == len { NIL } else { pos + 1 },
                op,
                ret: if is_return { NIL } else { ret_pos[op as usize] },
            });
        }
        EventList {
            nodes,
            call_pos,
            ret_pos,
        }
    }

    /// The first event still in the list, or `NIL` if every operation has been lifted.
    pub fn first(&self) -> NodeId {
        self.nodes[HEAD as usize].next
    }

    /// The event after `node`, or `NIL`.
    pub fn next(&self, node: NodeId) -> NodeId {
        self.nodes[node as usize].next
    }

    /// The operation an event belongs to.
    pub fn op(&self, node: NodeId) -> usize {
        self.nodes[node as usize].op as usize
    }

    /// Whether `node` is a call event (as opposed to a return).
    pub fn is_call(&self, node: NodeId) -> bool {
        self.nodes[node as usize].ret != NIL
    }

    /// Removes a call event and its return event from the list.
    pub fn lift(&mut self, call: NodeId) {
        let ret = self.nodes[call as usize].ret;
        self.unlink(call);
        self.unlink(ret);
    }

    /// Undoes the most recent `lift` of `call` (lifts must be undone in reverse order).
    pub fn unlift(&mut self, call: NodeId) {
        let ret = self.nodes[call as usize].ret;
        self.relink(ret);
        self.relink(call);
    }

    /// The sorted position (1-based) of each operation's call and return events, for explaining
    /// failures after the search.
    pub fn positions(&self, op: usize) -> (u32, u32) {
        (self.call_pos[op], self.ret_pos[op])
    }

    fn unlink(&mut self, node: NodeId) {
        let Node { prev, next, .. } = self.nodes[node as usize];
        self.nodes[prev as usize].next = next;
        if next != NIL {
            self.nodes[next as usize].prev = prev;
        }
    }

    fn relink(&mut self, node: NodeId) {
        let Node { prev, next, .. } = self.nodes[node as usize];
        self.nodes[prev as usize].next = node;
        if next != NIL {
            self.nodes[next as usize].prev = node;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(list: &EventList) -> Vec<(usize, bool)> {
        let mut out = Vec::new();
        let mut node = list.first();
        while node != NIL {
            out.push((list.op(node), list.is_call(node)));
            node = list.next(node);
        }
        out
    }

    #[test]
    fn sorts_calls_before_returns_at_equal_times_and_unknown_returns_last() {
        // op 0: [0, 5], op 1: [5, 7], op 2: [1, unknown]
        let list = EventList::new(&[(0, Some(5)), (5, Some(7)), (1, None)]);
        assert_eq!(
            walk(&list),
            vec![
                (0, true),
                (2, true),
                (1, true),
                (0, false),
                (1, false),
                (2, false)
            ]
        );
        assert_eq!(list.positions(1), (3, 5));
    }

    #[test]
    fn lift_and_unlift_restore_the_list() {
        let mut list = EventList::new(&[(0, Some(3)), (1, Some(2)), (4, Some(6))]);
        let before = walk(&list);
        let first = list.first(); // op 0's call
        list.lift(first);
        assert_eq!(
            walk(&list),
            vec![(1, true), (1, false), (2, true), (2, false)]
        );
        let second = list.first(); // op 1's call, adjacent to its return
        list.lift(second);
        assert_eq!(walk(&list), vec![(2, true), (2, false)]);
        list.unlift(second);
        list.unlift(first);
        assert_eq!(walk(&list), before);
    }
}
