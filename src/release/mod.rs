//! The release engineer's workflow: cut a new release into the matrix ([`cut`]), release notes
//! between two releases ([`notes`]), and the version feed other tools consume ([`feed`]).

pub mod cut;
pub mod feed;
pub mod notes;
