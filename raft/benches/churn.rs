// Placeholder so the workspace parses until this benchmark lands.
fn main() {}
