//! The rules a release follows: the semantic-versioning release policy ([`release`]) and the
//! maintenance lifecycle ([`lifecycle`]).

pub mod lifecycle;
pub mod release;
