//! Allow-lists: paragraphs that may repeat (boilerplate such as "Share this" or bylines).
//!
//! An [`AllowList`] is a set of regular expressions (the [`regex`] crate's syntax) searched in
//! each paragraph's text as it appears in the input (not normalized), unanchored: `^` and `$`
//! anchor at the paragraph's start and end, `(?i)` makes a pattern case-insensitive. A pair of
//! paragraphs of which either matches is never a finding.
//!
//! ```
//! use syndup::check::AllowList;
//! let allow = AllowList::new(&["^Share this", r"(?i)^by [a-z]+ [a-z]+$"])?;
//! assert!(allow.is_match("Share this story on social media"));
//! assert!(allow.is_match("By Jane Doe"));
//! assert!(!allow.is_match("The minister said: share this burden."));
//! assert!(AllowList::new(&["("]).is_err());
//! // A pattern that matches any paragraph would turn the check off.
//! for everything in ["", "^", ".*", "(?s).", "x*"] {
//!     assert!(AllowList::new(&[everything]).is_err(), "{everything:?}");
//! }
//! assert!(AllowList::new(&["^(By .*)?$"]).is_ok());
//! # Ok::<(), syndup::Error>(())
//! ```

use regex::RegexSet;

use crate::error::{Error, Result};

/// Texts that only a pattern matching anything matches (see [`AllowList::new`]).
const ANY_TEXT: [&str; 2] = ["\u{1}syndup probe\u{1}", "7"];

/// Patterns of paragraphs that are never findings.
#[derive(Clone, Debug, Default)]
pub struct AllowList {
    patterns: Vec<String>,
    set: Option<RegexSet>,
}

impl AllowList {
    /// Compiles the patterns; the first invalid one, or one that matches any text (it would
    /// allow every pair), is an [`Error::Allow`].
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<AllowList> {
        let patterns: Vec<String> = patterns.iter().map(|p| p.as_ref().to_string()).collect();
        // Compile one by one first, so that the error names the pattern at fault.
        for p in &patterns {
            let re = regex::Regex::new(p).map_err(|e| Error::Allow {
                pattern: p.clone(),
                reason: e.to_string(),
            })?;
            // A pattern that matches any text (the empty pattern of an unset CI variable,
            // `^`, `.*`) would allow every pair and turn the check off: a gate fails closed.
            // Probed with text no real pattern is written for.
            if ANY_TEXT.iter().all(|probe| re.is_match(probe)) {
                return Err(Error::Allow {
                    pattern: p.clone(),
                    reason: "it matches any paragraph, so it would allow every pair".into(),
                });
            }
        }
        let set = if patterns.is_empty() {
            None
        } else {
            Some(RegexSet::new(&patterns).map_err(|e| Error::Allow {
                pattern: patterns.join(" | "),
                reason: e.to_string(),
            })?)
        };
        Ok(AllowList { patterns, set })
    }

    /// Whether some pattern matches `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.set.as_ref().is_some_and(|s| s.is_match(text))
    }

    /// Whether there is no pattern.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns, as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}
