//! Shell: the HTTP layer arrives with the API issue.

fn main() {}
