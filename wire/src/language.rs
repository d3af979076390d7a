//! The language a person reads a message in: families and agents read Bahasa Indonesia.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Language {
    English,
    Indonesian,
}

/// A message in both languages, for answers that a family or an agent reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Words {
    pub id: String,
    pub en: String,
}

impl Words {
    pub fn new(indonesian: &str, english: &str) -> Self {
        Self { id: indonesian.to_owned(), en: english.to_owned() }
    }
}
