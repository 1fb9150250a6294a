//! `indexer`: an inverted index. Map emits `(word, document)` once for each distinct word of a
//! document; Reduce outputs `"N doc1,doc2,..."` with the documents sorted.

use std::collections::HashSet;
use std::io;

use super::{words, App};
use crate::hash::FnvBuildHasher;

pub struct Indexer;

impl App for Indexer {
    fn map(
        &self,
        document: &str,
        contents: &str,
        emit: &mut dyn FnMut(&str, &str),
    ) -> io::Result<()> {
        let distinct: HashSet<&str, FnvBuildHasher> = words(contents).collect();
        for word in distinct {
            emit(word, document);
        }
        Ok(())
    }

    fn reduce(&self, _key: &str, documents: &[&str]) -> io::Result<String> {
        let mut documents = documents.to_vec();
        documents.sort_unstable();
        Ok(format!("{} {}", documents.len(), documents.join(",")))
    }
}
