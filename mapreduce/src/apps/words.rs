//! Splitting text into words, as the course's `wc` and `indexer` do with
//! `strings.FieldsFunc(contents, func(r rune) bool { return !unicode.IsLetter(r) })`.

/// The maximal runs of letters (`char::is_alphabetic`) in `text`, in order.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|word| !word.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_anything_but_letters() {
        let found: Vec<&str> = words("  It's 2023: Ça-va?\nyes").collect();
        assert_eq!(found, ["It", "s", "Ça", "va", "yes"]);
        assert_eq!(words("123 !!").count(), 0);
    }
}
