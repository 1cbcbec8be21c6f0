//! `syndup.toml`: detection parameters and check settings kept with the content.
//!
//! `syndup check` reads the file named with `--config`, or else the first `syndup.toml` found
//! in the working directory or one of its parents ([`Config::find`]). Settings are layered:
//! built-in defaults, then the file, then flags ([`Config::merged`]); the preset is chosen first
//! (flag, else file, else `paraphrase`) and every field set explicitly, in the file or by a
//! flag, overrides the preset's value. Allow patterns add up: those of the file and those of
//! `--allow` all apply. Unknown keys are errors, so a typo does not pass silently.
//!
//! ```toml
//! [detect]                      # any field of syndup::Params; omitted ones come from the preset
//! preset = "paraphrase"         # exact | near | paraphrase
//! threshold = 0.5               # paragraph-level shingle Jaccard
//! sentence_threshold = 0.3      # 0 turns the sentence level off
//! split = "line"                # line | blank
//!
//! [check]
//! fail_on = "any"               # any | budget | never
//! max_duplicate_ratio = 0.02    # share of checked paragraphs in new findings
//! max_clusters = 5              # clusters formed by new findings
//! baseline = "syndup-baseline.json"   # relative to this file's directory
//! allow = ['^Share this', '(?i)^by [a-z]+ [a-z]+$']
//! ```
//!
//! ```
//! use syndup::check::Config;
//! use std::path::Path;
//! let file = Config::parse("[detect]\npreset = \"near\"\n[check]\nmax_clusters = 2\nallow = ['^By ']\n", Path::new("syndup.toml"))?;
//! let flags = Config::parse("[detect]\nthreshold = 0.7\n[check]\nallow = ['^Share']\n", Path::new("<flags>"))?;
//! let c = file.merged(flags);
//! let p = c.params();
//! assert_eq!((p.preset.name(), p.threshold), ("near", 0.7));
//! assert_eq!(c.budget().max_clusters, Some(2));
//! assert_eq!(c.check.allow, ["^By ", "^Share"]);
//! assert!(Config::parse("[check]\nmax_cluster = 2\n", Path::new("syndup.toml")).is_err());
//! # Ok::<(), syndup::Error>(())
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Budget, FailOn};
use crate::error::{Error, Result};
use crate::params::{Params, Preset, SplitMode, StemMode};

/// The file name looked up by [`Config::find`].
pub const FILE_NAME: &str = "syndup.toml";

/// The contents of `syndup.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Detection parameters (`[detect]`).
    pub detect: DetectConfig,
    /// Budgets, baseline and allow-list (`[check]`).
    pub check: CheckConfig,
}

/// `[detect]`: a preset and overrides of [`Params`] fields; see [`Params`] for what each
/// trades. An omitted field keeps the preset's value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// The preset the other values override (default `paraphrase`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// See [`Params::threshold`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Sentence-level threshold; 0 turns the sentence level off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentence_threshold: Option<f64>,
    /// See [`Params::shingle_words`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shingle_words: Option<usize>,
    /// See [`Params::num_hashes`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_hashes: Option<usize>,
    /// See [`Params::signature`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::minhash::Scheme>,
    /// See [`Params::bands`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bands: Option<usize>,
    /// See [`Params::rows`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
    /// See [`Params::min_shared_words`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_shared_words: Option<usize>,
    /// See [`Params::min_words`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_words: Option<usize>,
    /// See [`Params::min_sentence_words`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_sentence_words: Option<usize>,
    /// See [`Params::name_weight`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_weight: Option<f64>,
    /// See [`Params::stem`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stem: Option<StemMode>,
    /// See [`Params::seed`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// See [`Params::max_bucket`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bucket: Option<usize>,
    /// See [`Params::max_sentence_bucket`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_sentence_bucket: Option<usize>,
    /// See [`Params::split`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitMode>,
    /// See [`Params::max_paragraph_bytes`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_paragraph_bytes: Option<usize>,
}

/// `[check]`: when to fail, what was accepted, what may repeat.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckConfig {
    /// See [`Budget::fail_on`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<FailOn>,
    /// See [`Budget::max_duplicate_ratio`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_duplicate_ratio: Option<f64>,
    /// See [`Budget::max_clusters`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_clusters: Option<usize>,
    /// Baseline file; in a config file, relative to the file's directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<PathBuf>,
    /// Allow patterns (see [`super::AllowList`]).
    pub allow: Vec<String>,
}

impl DetectConfig {
    /// Every field of `p`, set (the sentence threshold as 0 when off; derived bands and rows
    /// left out).
    pub fn from_params(p: &Params) -> DetectConfig {
        DetectConfig {
            preset: Some(p.preset),
            threshold: Some(p.threshold),
            sentence_threshold: Some(p.sentence_threshold.unwrap_or(0.0)),
            shingle_words: Some(p.shingle_words),
            num_hashes: Some(p.num_hashes),
            signature: Some(p.signature),
            bands: p.bands,
            rows: p.rows,
            min_shared_words: Some(p.min_shared_words),
            min_words: Some(p.min_words),
            min_sentence_words: Some(p.min_sentence_words),
            name_weight: Some(p.name_weight),
            stem: Some(p.stem),
            seed: Some(p.seed),
            max_bucket: Some(p.max_bucket),
            max_sentence_bucket: Some(p.max_sentence_bucket),
            split: Some(p.split),
            max_paragraph_bytes: Some(p.max_paragraph_bytes),
        }
    }

    /// Overwrites the fields of `p` that are set here (all but the preset).
    pub fn apply(&self, p: &mut Params) {
        macro_rules! set {
            ($($f:ident),*) => {$(if let Some(v) = self.$f { p.$f = v; })*};
        }
        set!(
            threshold,
            shingle_words,
            num_hashes,
            signature,
            min_shared_words,
            min_words,
            min_sentence_words,
            name_weight,
            stem,
            seed,
            max_bucket,
            max_sentence_bucket,
            split,
            max_paragraph_bytes
        );
        if let Some(v) = self.sentence_threshold {
            p.sentence_threshold = (v != 0.0).then_some(v);
        }
        if self.bands.is_some() {
            p.bands = self.bands;
        }
        if self.rows.is_some() {
            p.rows = self.rows;
        }
    }

    /// `self`, with every field set in `over` replaced.
    fn merged(self, over: DetectConfig) -> DetectConfig {
        macro_rules! pick {
            ($($f:ident),*) => {DetectConfig { $($f: over.$f.or(self.$f)),* }};
        }
        pick!(
            preset,
            threshold,
            sentence_threshold,
            shingle_words,
            num_hashes,
            signature,
            bands,
            rows,
            min_shared_words,
            min_words,
            min_sentence_words,
            name_weight,
            stem,
            seed,
            max_bucket,
            max_sentence_bucket,
            split,
            max_paragraph_bytes
        )
    }
}

impl Config {
    /// Parses the text of a config file; `path` names it in errors, and relative paths in it
    /// are taken as they are (see [`Config::load`]).
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            reason: e.to_string().trim_end().to_string(),
        })
    }

    /// Reads a config file; a relative `baseline` is resolved against the file's directory.
    pub fn load(path: &Path) -> Result<Config> {
        let text = crate::error::read_text(path)?;
        let mut config = Config::parse(&text, path)?;
        if let Some(b) = &config.check.baseline {
            let dir = path.parent().unwrap_or(Path::new(""));
            config.check.baseline = Some(dir.join(b));
        }
        Ok(config)
    }

    /// The nearest `syndup.toml` in `dir` or its parents, spelled relative to `dir` (`dir`
    /// itself, then `dir/..`, `dir/../..`, …), up to the root of the repository `dir` is in
    /// (the first directory holding `.git`): a `syndup.toml` above it, in a shared directory
    /// such as `/tmp` or a home directory, is not the project's. Only a regular file counts.
    pub fn find(dir: &Path) -> Option<PathBuf> {
        let start = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let absolute = std::fs::canonicalize(start).ok()?;
        let mut rel = dir.to_path_buf();
        for ancestor in absolute.ancestors() {
            if ancestor.join(FILE_NAME).is_file() {
                return Some(rel.join(FILE_NAME));
            }
            if ancestor.join(".git").exists() {
                return None;
            }
            rel.push("..");
        }
        None
    }

    /// `self` overridden by `over`: every value set in `over` wins; allow patterns add up
    /// (`self`'s first).
    pub fn merged(self, over: Config) -> Config {
        let mut allow = self.check.allow;
        allow.extend(over.check.allow);
        Config {
            detect: self.detect.merged(over.detect),
            check: CheckConfig {
                fail_on: over.check.fail_on.or(self.check.fail_on),
                max_duplicate_ratio: over
                    .check
                    .max_duplicate_ratio
                    .or(self.check.max_duplicate_ratio),
                max_clusters: over.check.max_clusters.or(self.check.max_clusters),
                baseline: over.check.baseline.or(self.check.baseline),
                allow,
            },
        }
    }

    /// The detection parameters: the preset, then every field set.
    pub fn params(&self) -> Params {
        let mut p = Params::preset(self.detect.preset.unwrap_or_default());
        self.detect.apply(&mut p);
        p
    }

    /// The budget.
    pub fn budget(&self) -> Budget {
        Budget {
            fail_on: self.check.fail_on,
            max_duplicate_ratio: self.check.max_duplicate_ratio,
            max_clusters: self.check.max_clusters,
        }
    }

    /// The same settings with every value spelled out: all parameters and the effective
    /// `fail_on`. Parsing its [`Config::to_toml`] gives the same parameters and decisions.
    pub fn effective(&self) -> Config {
        let budget = self.budget();
        Config {
            detect: DetectConfig::from_params(&self.params()),
            check: CheckConfig {
                fail_on: Some(budget.fail_on()),
                ..self.check.clone()
            },
        }
    }

    /// The settings as `syndup.toml` text.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::Config {
            path: PathBuf::from("<effective settings>"),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_settings_round_trip() {
        let c = Config::parse(
            "[detect]\npreset = 'exact'\nsentence_threshold = 0\nsplit = 'blank'\n\
             [check]\nmax_duplicate_ratio = 0.25\nbaseline = 'b.json'\nallow = ['^x']\n",
            Path::new("t"),
        )
        .unwrap();
        let text = c.effective().to_toml().unwrap();
        let back = Config::parse(&text, Path::new("t")).unwrap();
        assert_eq!(back.params(), c.params(), "{text}");
        assert_eq!(back.budget().fail_on(), c.budget().fail_on());
        assert_eq!(back.check.allow, c.check.allow);
        assert_eq!(back.check.baseline, c.check.baseline);
        assert!(
            text.contains("[detect]") && text.contains("[check]"),
            "{text}"
        );
    }

    #[test]
    fn bad_values_are_errors_with_the_file_name() {
        for text in [
            "[detect]\nthreshold = 'high'\n",
            "[check]\nmax_clusters = -1\n",
            "[check]\nfail_on = 'sometimes'\n",
            "[oops]\n",
            "not toml at all",
        ] {
            let e = Config::parse(text, Path::new("dir/syndup.toml")).unwrap_err();
            assert!(e.to_string().starts_with("dir/syndup.toml: "), "{e}");
        }
    }

    /// The search for `syndup.toml` stops at the repository's root: one above it (in `/tmp`,
    /// a home directory) was taken for the project's.
    #[test]
    fn config_search_stops_at_the_repository_root() {
        let dir = tempfile::tempdir().unwrap();
        let outer = dir.path();
        let repo = outer.join("repo");
        let sub = repo.join("content/news");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            outer.join(FILE_NAME),
            "[check]
allow = ['.']
",
        )
        .unwrap();
        // Above a directory that is no repository, the outer file is found.
        assert_eq!(
            Config::find(&sub).and_then(|p| p.canonicalize().ok()),
            outer.join(FILE_NAME).canonicalize().ok()
        );
        std::fs::create_dir(repo.join(".git")).unwrap();
        assert_eq!(Config::find(&sub), None);
        // The repository's own file is found, from below and at its root.
        std::fs::write(repo.join(FILE_NAME), "").unwrap();
        assert_eq!(
            Config::find(&sub),
            Some(sub.join("..").join("..").join(FILE_NAME))
        );
        assert_eq!(Config::find(&repo), Some(repo.join(FILE_NAME)));
    }
}
