// Placeholder so the workspace parses until the MapReduce benchmark lands.
fn main() {}
