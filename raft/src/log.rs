// BEGIN SOLUTION 2
//! The replicated log: entries after the last snapshot, addressed by their Raft index.
//!
//! Index 0 is a sentinel ("before everything", term 0). After a snapshot the log starts right
//! after the snapshot's last included entry, whose index and term the log keeps so that
//! AppendEntries consistency checks still work at the boundary.
//!
//! The log also remembers the first index it changed since its last save. Raft must save
//! its log before answering any request that changed it, and logs reach thousands of entries
//! in the churn tests (and hundreds of thousands when a service never compacts): a save that
//! wrote the whole log would make saving quadratic. So a save writes only the entries from
//! that index on (`storage::update`), and the persister keeps the ones before it.

use crate::messages::Entry;

#[derive(Debug, Default)]
pub struct Log {
    /// The last index and term the snapshot covers (0 and 0 without a snapshot).
    snapshot_index: u64,
    snapshot_term: u64,
    /// `entries[i]` has index `snapshot_index + 1 + i`.
    entries: Vec<Entry>,
    /// The entries before this index are saved as they are now; those from it on may not
    /// be. Anything at or below `snapshot_index + 1` means the whole log must be saved.
    unsaved_from: u64,
}

impl Log {
    /// An empty log, as a fresh peer has.
    pub fn new() -> Log {
        Log::default()
    }

    /// A log restored from persisted state. Its first save writes it whole (what the
    /// persister holds may have been saved as one opaque byte string, not entry by entry),
    /// unless the caller knows better and calls [`Log::mark_saved`].
    pub fn restore(snapshot_index: u64, snapshot_term: u64, entries: Vec<Entry>) -> Log {
        Log {
            snapshot_index,
            snapshot_term,
            entries,
            unsaved_from: 0,
        }
    }

    pub fn snapshot_index(&self) -> u64 {
        self.snapshot_index
    }

    pub fn snapshot_term(&self) -> u64 {
        self.snapshot_term
    }

    pub fn last_index(&self) -> u64 {
        self.snapshot_index + self.entries.len() as u64
    }

    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.snapshot_term, |e| e.term)
    }

    /// The term of the entry at `index`, if the log still knows it: the snapshot's last
    /// entry or a retained entry. `None` below the snapshot or past the end.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.snapshot_index {
            Some(self.snapshot_term)
        } else {
            self.position(index).map(|i| self.entries[i].term)
        }
    }

    /// The entry at `index`, if retained.
    pub fn get(&self, index: u64) -> Option<&Entry> {
        self.position(index).map(|i| &self.entries[i])
    }

    /// Copies of the entries from `index` on, stopping once about `max_bytes` of commands
    /// are taken (always at least one entry if there is one).
    pub fn entries_from(&self, index: u64, max_bytes: usize) -> Vec<Entry> {
        let Some(start) = self.position(index) else {
            return Vec::new();
        };
        let mut bytes = 0;
        let mut out = Vec::new();
        for entry in &self.entries[start..] {
            if !out.is_empty() && bytes + entry.command.len() > max_bytes {
                break;
            }
            bytes += entry.command.len();
            out.push(entry.clone());
        }
        out
    }

    /// Appends an entry; returns its index.
    pub fn append(&mut self, entry: Entry) -> u64 {
        self.entries.push(entry);
        let index = self.last_index();
        self.unsaved_from = self.unsaved_from.min(index);
        index
    }

    /// Drops the entries at `index` and after (a follower's conflicting suffix).
    pub fn truncate_from(&mut self, index: u64) {
        assert!(
            index > self.snapshot_index,
            "truncating into the snapshot (index {index}, snapshot {})",
            self.snapshot_index
        );
        let keep = (index - self.snapshot_index - 1) as usize;
        if keep < self.entries.len() {
            self.entries.truncate(keep);
            self.unsaved_from = self.unsaved_from.min(index);
        }
    }

    /// Discards the entries through `index`, which a snapshot now covers; `index` must be in
    /// the log.
    pub fn compact_through(&mut self, index: u64) {
        let term = self
            .term_at(index)
            .unwrap_or_else(|| panic!("compacting through index {index}, not in the log"));
        let drop = (index - self.snapshot_index) as usize;
        // The persister drops the same prefix when it saves the new snapshot boundary.
        self.entries.drain(..drop);
        self.snapshot_index = index;
        self.snapshot_term = term;
    }

    /// Discards every entry: the log now starts right after (`index`, `term`), a snapshot
    /// installed from the leader that the log does not extend.
    pub fn reset(&mut self, index: u64, term: u64) {
        self.entries.clear();
        // Saved entries past `index` (a conflicting suffix) must go too.
        self.unsaved_from = self.unsaved_from.min(index + 1);
        self.snapshot_index = index;
        self.snapshot_term = term;
    }

    /// The first index of the run of entries with `term` (terms never decrease along the log),
    /// no lower than the first retained index.
    pub fn first_index_of_term(&self, term: u64) -> u64 {
        let run_start = self.entries.partition_point(|e| e.term < term);
        self.snapshot_index + 1 + run_start as u64
    }

    /// The last index holding an entry of `term`, if the log has one.
    pub fn last_index_of_term(&self, term: u64) -> Option<u64> {
        let after = self.entries.partition_point(|e| e.term <= term);
        if after > 0 && self.entries[after - 1].term == term {
            Some(self.snapshot_index + after as u64)
        } else if after == 0 && self.snapshot_index > 0 && self.snapshot_term == term {
            Some(self.snapshot_index)
        } else {
            None
        }
    }

    /// The first index whose entry may differ from the saved one (or past the end: none).
    /// Never above `last_index() + 1`; at or below the first retained index when the whole
    /// log must be saved.
    pub fn unsaved_from(&self) -> u64 {
        self.unsaved_from
    }

    /// The persister now holds the log as it is.
    pub fn mark_saved(&mut self) {
        self.unsaved_from = self.last_index() + 1;
    }

    fn position(&self, index: u64) -> Option<usize> {
        if index > self.snapshot_index && index <= self.last_index() {
            Some((index - self.snapshot_index - 1) as usize)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(term: u64, command: u8) -> Entry {
        Entry {
            term,
            command: vec![command],
        }
    }

    fn log_with_terms(terms: &[u64]) -> Log {
        let mut log = Log::new();
        for (i, &t) in terms.iter().enumerate() {
            log.append(entry(t, i as u8));
        }
        log
    }

    #[test]
    fn indexes_and_terms() {
        let log = log_with_terms(&[1, 1, 2]);
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.last_term(), 2);
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.term_at(3), Some(2));
        assert_eq!(log.term_at(4), None);
    }

    #[test]
    fn truncate_keeps_the_prefix() {
        let mut log = log_with_terms(&[1, 1, 2, 2]);
        log.truncate_from(3);
        assert_eq!(log.last_index(), 2);
        assert_eq!(log.last_term(), 1);
        log.append(entry(3, 9));
        assert_eq!(log.term_at(3), Some(3));
    }

    #[test]
    fn compaction_trims_and_keeps_the_boundary_term() {
        let mut log = log_with_terms(&[1, 1, 2, 2, 3]);
        log.compact_through(3);
        assert_eq!(log.snapshot_index(), 3);
        assert_eq!(log.snapshot_term(), 2);
        assert_eq!(log.term_at(3), Some(2));
        assert_eq!(log.term_at(2), None);
        assert_eq!(log.get(4).unwrap().command, vec![3]);
        assert_eq!(log.last_index(), 5);
        log.truncate_from(5);
        assert_eq!(log.last_index(), 4);
    }

    #[test]
    fn reset_discards_everything() {
        let mut log = log_with_terms(&[1, 2]);
        log.reset(10, 4);
        assert_eq!(log.last_index(), 10);
        assert_eq!(log.last_term(), 4);
        assert_eq!(log.term_at(10), Some(4));
        assert!(log.unsaved_from() <= 11);
    }

    #[test]
    fn remembers_the_first_change_since_the_last_save() {
        let mut log = log_with_terms(&[1, 1, 2, 2]);
        assert_eq!(log.unsaved_from(), 0, "a new log is saved whole");
        log.mark_saved();
        assert_eq!(log.unsaved_from(), 5);
        log.append(entry(2, 5));
        log.append(entry(2, 6));
        assert_eq!(log.unsaved_from(), 5);
        log.mark_saved();
        log.truncate_from(4);
        log.append(entry(3, 7));
        assert_eq!(log.unsaved_from(), 4);
        log.mark_saved();
        // Compaction changes no entry: the save drops the prefix by the new boundary.
        log.compact_through(3);
        assert_eq!(log.unsaved_from(), 5);
        // A snapshot the log does not extend discards the saved suffix too.
        log.reset(3, 2);
        assert_eq!(log.unsaved_from(), 4);
        log.mark_saved();
        log.reset(9, 3);
        assert_eq!(log.unsaved_from(), 4);
        let restored = Log::restore(2, 1, vec![entry(1, 1)]);
        assert!(
            restored.unsaved_from() <= 3,
            "a restored log is saved whole"
        );
    }

    #[test]
    fn term_runs_for_fast_backtracking() {
        let log = log_with_terms(&[1, 1, 4, 4, 4, 5]);
        assert_eq!(log.first_index_of_term(4), 3);
        assert_eq!(log.last_index_of_term(4), Some(5));
        assert_eq!(log.last_index_of_term(2), None);
        assert_eq!(log.last_index_of_term(5), Some(6));
    }

    #[test]
    fn entries_from_respects_the_byte_budget() {
        let mut log = Log::new();
        for i in 0..10 {
            log.append(Entry {
                term: 1,
                command: vec![i; 100],
            });
        }
        assert_eq!(log.entries_from(3, 250).len(), 2);
        assert_eq!(log.entries_from(3, 10).len(), 1);
        assert_eq!(log.entries_from(11, 1000).len(), 0);
        assert_eq!(log.entries_from(1, usize::MAX).len(), 10);
    }
}
// END SOLUTION
