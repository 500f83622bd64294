//! Shell: the adapters arrive with the persistence issue.
