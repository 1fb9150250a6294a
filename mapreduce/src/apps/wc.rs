//! `wc`: word count. Map emits `(word, "1")` for every word; Reduce counts the values.

use std::io;

use super::{words, App};

pub struct WordCount;

impl App for WordCount {
    fn map(
        &self,
        _filename: &str,
        contents: &str,
        emit: &mut dyn FnMut(&str, &str),
    ) -> io::Result<()> {
        for word in words(contents) {
            emit(word, "1");
        }
        Ok(())
    }

    fn reduce(&self, _key: &str, values: &[&str]) -> io::Result<String> {
        Ok(values.len().to_string())
    }
}
