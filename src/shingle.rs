//! Stage 4: shingling. Normalized words in, 64-bit shingle and term hashes out.
//!
//! Takes the normalized [`Words`] of a paragraph and gives the xxh3 hashes (seeded) of its word
//! k-grams, appended to a caller-owned `Vec<u64>`, or folded to 32 bits into a `Vec<u32>`
//! ([`Shingler::hash_folded_into`], the form the detectors keep). After normalization a k-gram
//! is one contiguous slice of the word buffer, so it is hashed in place: nothing is allocated
//! per shingle. A text shorter than k words gives one shingle of all its words.
//!
//! [`TermHasher`] gives the hashes of single words for sentence-level comparison, stemmed by
//! the Snowball stemmer of the document's language when there is one.
//!
//! ```
//! use syndup::{normalize::Words, shingle::Shingler};
//! let mut words = Words::default();
//! words.normalize("the quick brown fox");
//! let mut out = Vec::new();
//! Shingler::new(3, 0).hash_into(&words, &mut out);
//! assert_eq!(out.len(), 2);
//! ```

use rust_stemmers::{Algorithm, Stemmer};

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::normalize::Words;

/// Hashes word k-grams.
#[derive(Clone, Copy, Debug)]
pub struct Shingler {
    k: usize,
    seed: u64,
}

impl Shingler {
    /// A shingler of `k`-word shingles (`k` ≥ 1) with a hash seed.
    pub fn new(k: usize, seed: u64) -> Shingler {
        Shingler { k: k.max(1), seed }
    }

    /// Appends the hash of every k-gram of `words` to `out` (one hash of all words when there
    /// are fewer than k; nothing when there is no word).
    pub fn hash_into(&self, words: &Words, out: &mut Vec<u64>) {
        self.hash_with(words, out, |h| h);
    }

    /// [`Shingler::hash_into`] with each hash folded to 32 bits (its two halves XORed), the
    /// form the folded signature scheme reads ([`crate::minhash::MinHasher::sign_values`]):
    /// half the memory for a set, and faster to sort and compare. Two of a paragraph's
    /// distinct shingles fold alike with probability about one in 2^32 per pair of them,
    /// which verification can afford.
    ///
    /// ```
    /// use syndup::{normalize::Words, shingle::Shingler};
    /// let mut words = Words::default();
    /// words.normalize("the quick brown fox jumps");
    /// let s = Shingler::new(3, 9);
    /// let (mut wide, mut folded) = (Vec::new(), Vec::new());
    /// s.hash_into(&words, &mut wide);
    /// s.hash_folded_into(&words, &mut folded);
    /// let want: Vec<u32> = wide.iter().map(|&h| (h ^ (h >> 32)) as u32).collect();
    /// assert_eq!(folded, want);
    /// ```
    pub fn hash_folded_into(&self, words: &Words, out: &mut Vec<u32>) {
        self.hash_with(words, out, crate::minhash::fold);
    }

    /// Appends `form(h)` of each k-gram's hash `h` to `out` (see [`Shingler::hash_into`]).
    fn hash_with<T>(&self, words: &Words, out: &mut Vec<T>, form: impl Fn(u64) -> T) {
        let n = words.len();
        if n == 0 {
            return;
        }
        if n < self.k {
            out.push(form(xxh3_64_with_seed(words.text_bytes(), self.seed)));
            return;
        }
        out.extend((0..=n - self.k).map(|i| {
            form(xxh3_64_with_seed(
                words.span_bytes(i, i + self.k),
                self.seed,
            ))
        }));
    }
}

/// Hashes single words, stemmed in the document's language.
pub struct TermHasher {
    stemmer: Option<Stemmer>,
    /// The stemmer is English's, whose ASCII words take the allocation-free port
    /// ([`crate::porter2`]).
    english: bool,
    seed: u64,
    /// Tells term hashers of different languages (or seeds) apart in a [`TermCache`].
    salt: u64,
}

impl TermHasher {
    /// A term hasher for a language (`None`: no stemming).
    pub fn new(language: Option<Language>, seed: u64) -> TermHasher {
        let name = language.map_or("", Language::name);
        TermHasher {
            stemmer: language.map(|l| Stemmer::create(l.algorithm())),
            english: language.is_some_and(|l| l.algorithm() == Algorithm::English),
            seed,
            salt: xxh3_64_with_seed(name.as_bytes(), seed),
        }
    }

    /// The hash of one normalized word after stemming.
    pub fn hash(&self, word: &str) -> u64 {
        self.hash_bytes(word.as_bytes())
    }

    /// [`TermHasher::hash`] of a word given as bytes, checked as UTF-8 only when the Snowball
    /// stemmer needs it as text (the English port takes bytes, and unstemmed words are hashed
    /// as they are); bytes that are not UTF-8 are hashed unstemmed. The check had cost as
    /// much as the English stemming of the generated corpus's many one-off words.
    ///
    /// ```
    /// use syndup::shingle::{Language, TermHasher};
    /// let en = TermHasher::new(Language::detect("The police said on Monday that four men had been arrested in the capital overnight."), 7);
    /// assert_eq!(en.hash_bytes(b"arrested"), en.hash("arrest"));
    /// let text = "Die Polizei sagte am Montag, dass vier Männer in der Hauptstadt festgenommen wurden.";
    /// let de = TermHasher::new(Language::detect(text), 7);
    /// assert_eq!(Language::detect(text).map(Language::name), Some("german"));
    /// let plain = TermHasher::new(None, 7);
    /// // Stemmed (Snowball) as text...
    /// assert_eq!(de.hash_bytes("festgenommen".as_bytes()), de.hash("festgenomm"));
    /// assert_ne!(de.hash_bytes("festgenommen".as_bytes()), plain.hash("festgenommen"));
    /// // ...but bytes that are not UTF-8 are hashed as they are.
    /// assert_eq!(de.hash_bytes(b"m\xe4nner"), plain.hash_bytes(b"m\xe4nner"));
    /// ```
    pub fn hash_bytes(&self, word: &[u8]) -> u64 {
        if self.english {
            let mut buf = [0u8; crate::porter2::MAX_LEN];
            if let Some(stem) = crate::porter2::stem_english(word, &mut buf) {
                return xxh3_64_with_seed(stem, self.seed);
            }
        }
        // The UTF-8 check only where a Snowball stemmer is to read the word.
        let stemmed = self
            .stemmer
            .as_ref()
            .and_then(|s| Some(s.stem(std::str::from_utf8(word).ok()?)));
        match stemmed {
            Some(stem) => xxh3_64_with_seed(stem.as_bytes(), self.seed),
            None => xxh3_64_with_seed(word, self.seed),
        }
    }
}

/// Remembers the term hash of each word seen (stemming is the costly part of a term), in a
/// direct-mapped table: a word's slot is picked by a 64-bit hash of the word salted with the
/// term hasher's language, and the slot keeps that hash and the term hash. A word whose slot
/// holds another word's hash is stemmed and takes the slot over, so the table never grows
/// beyond its `limit` slots (16 bytes each) and never needs clearing. News repeats its words,
/// so most are stemmed once rather than at every occurrence.
///
/// A hit is trusted on the 64-bit word hash alone: two distinct words share one with
/// probability about 2^-64 per pair, the same odds at which two distinct terms share a term
/// hash, which every later stage already takes as the term's identity.
///
/// ```
/// use syndup::shingle::{Language, TermCache, TermHasher};
/// let text = "The police said on Monday that four men had been arrested in the capital overnight.";
/// let en = TermHasher::new(Language::detect(text), 7);
/// let mut cache = TermCache::new(1 << 16);
/// assert_eq!(cache.hash(&en, "arrested"), en.hash("arrested"));
/// assert_eq!(cache.hash(&en, "arrested"), en.hash("arrest"));
/// ```
pub struct TermCache {
    /// (word hash, term hash); a word hash of 0 marks an empty slot. Allocated on first use.
    slots: Vec<(u64, u64)>,
    /// Number of slots, a power of two.
    size: usize,
}

impl Default for TermCache {
    /// A cache of 65,536 slots (1 MiB).
    fn default() -> TermCache {
        TermCache::new(1 << 16)
    }
}

impl TermCache {
    /// An empty cache of `limit` slots (rounded up to a power of two), 16 bytes each.
    pub fn new(limit: usize) -> TermCache {
        TermCache {
            slots: Vec::new(),
            size: limit.clamp(1, 1 << 30).next_power_of_two(),
        }
    }

    /// Forgets every word.
    pub fn clear(&mut self) {
        self.slots.clear();
    }

    /// [`TermHasher::hash`] of `word`, computed once per distinct word and term hasher (while
    /// the word keeps its slot).
    pub fn hash(&mut self, hasher: &TermHasher, word: &str) -> u64 {
        self.hash_bytes(hasher, word.as_bytes())
    }

    /// [`TermCache::hash`] of a word given as UTF-8 bytes (such as
    /// [`Words::word_bytes`]), as [`TermHasher::hash_bytes`] makes it.
    pub fn hash_bytes(&mut self, hasher: &TermHasher, word: &[u8]) -> u64 {
        let key = self.key(hasher, word);
        self.resolve(hasher, word, key)
    }

    /// The word hash that picks `word`'s slot, which is asked to be loaded into the cache
    /// meanwhile: [`TermCache::resolve`] with this key a few words later finds it there. A
    /// sentence's words are keyed first and resolved after, so that their slots' cache misses
    /// overlap rather than follow one another.
    pub(crate) fn key(&mut self, hasher: &TermHasher, word: &[u8]) -> u64 {
        // 0 marks an empty slot, so no word hash is 0.
        let key = xxh3_64_with_seed(word, hasher.salt).max(1);
        if self.slots.is_empty() {
            self.slots = vec![(0, 0); self.size];
        }
        crate::detect::prefetch(&self.slots, self.slot_of(key));
        key
    }

    fn slot_of(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & (self.size - 1)
    }

    /// [`TermCache::hash_bytes`] of `word`, whose [`TermCache::key`] is `key`.
    pub(crate) fn resolve(&mut self, hasher: &TermHasher, word: &[u8], key: u64) -> u64 {
        if self.slots.is_empty() {
            self.slots = vec![(0, 0); self.size];
        }
        let at = self.slot_of(key);
        let slot = &mut self.slots[at];
        if slot.0 == key {
            return slot.1;
        }
        let h = hasher.hash_bytes(word);
        *slot = (key, h);
        h
    }
}

/// The languages syndup stems, as whatlang names them, with their stemmers.
const STEMMED: [(whatlang::Lang, Algorithm); 18] = {
    use whatlang::Lang::*;
    [
        (Eng, Algorithm::English),
        (Deu, Algorithm::German),
        (Fra, Algorithm::French),
        (Ita, Algorithm::Italian),
        (Rus, Algorithm::Russian),
        (Spa, Algorithm::Spanish),
        (Por, Algorithm::Portuguese),
        (Nld, Algorithm::Dutch),
        (Swe, Algorithm::Swedish),
        (Nob, Algorithm::Norwegian),
        (Dan, Algorithm::Danish),
        (Fin, Algorithm::Finnish),
        (Hun, Algorithm::Hungarian),
        (Ron, Algorithm::Romanian),
        (Tur, Algorithm::Turkish),
        (Ara, Algorithm::Arabic),
        (Ell, Algorithm::Greek),
        (Tam, Algorithm::Tamil),
    ]
};

/// A language with a Snowball stemmer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Language(Algorithm);

impl Language {
    fn algorithm(self) -> Algorithm {
        self.0
    }

    /// Detects the language of a text (a document, or its first few kilobytes) with `whatlang`.
    /// Returns `None` when detection is unreliable or the language has no stemmer, in which
    /// case words are compared unstemmed: a wrong stemmer would do more harm than none.
    ///
    /// ```
    /// use syndup::shingle::Language;
    /// let de = "Die Polizei hat am Montag vier Männer festgenommen, die einen Anschlag geplant haben sollen.";
    /// assert_eq!(Language::detect(de).map(|l| l.name()), Some("german"));
    /// ```
    pub fn detect(text: &str) -> Option<Language> {
        Language::of_info(whatlang::detect(text)?)
    }

    /// A fast guess at the language of `text` (a record's first few hundred bytes): whichlang's
    /// linear model over character n-grams, which tells 16 languages apart in about 3 µs for
    /// 256 bytes (whatlang, [`Language::detect`], takes about 140 µs). It always answers and
    /// says nothing of reliability, so it only confirms a language already detected: `None`
    /// when its answer has no stemmer here (Chinese, Japanese, Korean, Hindi, Vietnamese).
    pub(crate) fn guess(text: &str) -> Option<Language> {
        use whichlang::Lang::*;
        let alg = match whichlang::detect_language(text) {
            Eng => Algorithm::English,
            Deu => Algorithm::German,
            Fra => Algorithm::French,
            Ita => Algorithm::Italian,
            Rus => Algorithm::Russian,
            Spa => Algorithm::Spanish,
            Por => Algorithm::Portuguese,
            Nld => Algorithm::Dutch,
            Swe => Algorithm::Swedish,
            Tur => Algorithm::Turkish,
            Ara => Algorithm::Arabic,
            Cmn | Hin | Jpn | Kor | Vie => return None,
        };
        Some(Language(alg))
    }

    fn of_info(info: whatlang::Info) -> Option<Language> {
        if !info.is_reliable() {
            return None;
        }
        STEMMED
            .iter()
            .find(|(l, _)| *l == info.lang())
            .map(|&(_, a)| Language(a))
    }

    /// Whether a capital letter inside a sentence marks a name in this language. True for the
    /// cased languages syndup stems, except German, which capitalizes every noun; false for
    /// scripts without case.
    pub fn marks_names_by_case(self) -> bool {
        !matches!(
            self.0,
            Algorithm::German | Algorithm::Arabic | Algorithm::Tamil
        )
    }

    /// The language's name in lowercase English.
    pub fn name(self) -> &'static str {
        match self.0 {
            Algorithm::English => "english",
            Algorithm::German => "german",
            Algorithm::French => "french",
            Algorithm::Italian => "italian",
            Algorithm::Russian => "russian",
            Algorithm::Spanish => "spanish",
            Algorithm::Portuguese => "portuguese",
            Algorithm::Dutch => "dutch",
            Algorithm::Swedish => "swedish",
            Algorithm::Norwegian => "norwegian",
            Algorithm::Danish => "danish",
            Algorithm::Finnish => "finnish",
            Algorithm::Hungarian => "hungarian",
            Algorithm::Romanian => "romanian",
            Algorithm::Turkish => "turkish",
            Algorithm::Arabic => "arabic",
            Algorithm::Greek => "greek",
            Algorithm::Tamil => "tamil",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache answers what the hasher answers, keeps languages apart, and evicts words when
    /// full without changing any answer.
    #[test]
    fn term_cache_is_transparent() {
        let en = TermHasher::new(Some(Language(Algorithm::English)), 3);
        let de = TermHasher::new(Some(Language(Algorithm::German)), 3);
        let raw = TermHasher::new(None, 3);
        let mut cache = TermCache::new(4);
        let words = [
            "running", "runs", "häuser", "hausern", "the", "running", "x", "runs",
        ];
        for _ in 0..3 {
            for w in words {
                for th in [&en, &de, &raw] {
                    assert_eq!(cache.hash(th, w), th.hash(w), "{w}");
                }
            }
            assert!(cache.slots.len() <= 4);
        }
        assert_ne!(cache.hash(&en, "running"), cache.hash(&raw, "running"));
        assert_eq!(cache.hash(&en, "running"), cache.hash(&en, "run"));
        cache.clear();
        assert_eq!(cache.hash(&de, "häuser"), de.hash("häuser"));

        // Keyed in a batch, then resolved: the same answers, also when later words of the
        // batch evict the slots of earlier ones (4 slots, 8 words).
        for th in [&en, &de, &raw] {
            let keys: Vec<u64> = words.iter().map(|w| cache.key(th, w.as_bytes())).collect();
            for (w, key) in words.iter().zip(keys) {
                assert_eq!(cache.resolve(th, w.as_bytes(), key), th.hash(w), "{w}");
            }
        }
    }

    #[test]
    fn shingles_are_seeded_and_positional() {
        let mut w = Words::default();
        w.normalize("a b c d");
        let mut x = Vec::new();
        Shingler::new(2, 1).hash_into(&w, &mut x);
        let mut y = Vec::new();
        Shingler::new(2, 2).hash_into(&w, &mut y);
        assert_eq!(x.len(), 3);
        assert_ne!(x, y);
        w.normalize("A, b!");
        let mut z = Vec::new();
        Shingler::new(2, 1).hash_into(&w, &mut z);
        assert_eq!(z[0], x[0]);
    }

    #[test]
    fn short_texts_give_one_shingle_and_empty_none() {
        let mut w = Words::default();
        let mut out = Vec::new();
        w.normalize("two words");
        Shingler::new(3, 0).hash_into(&w, &mut out);
        assert_eq!(out.len(), 1);
        w.normalize("...");
        Shingler::new(3, 0).hash_into(&w, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn languages_are_detected_and_stemmed() {
        let cases = [
            ("Les enquêteurs ont interrogé quatre hommes soupçonnés d'avoir préparé un attentat contre le militant.", "french"),
            ("Четверо мужчин задержаны во Франции по подозрению в подготовке убийства правозащитника.", "russian"),
            ("La policía detuvo a cuatro hombres sospechosos de planear el asesinato del activista ruso.", "spanish"),
            ("La polizia ha arrestato quattro uomini sospettati di aver pianificato l'omicidio dell'attivista.", "italian"),
        ];
        for (text, want) in cases {
            assert_eq!(
                Language::detect(text).map(Language::name),
                Some(want),
                "{text}"
            );
        }
        let english = Language::detect(
            "The police said on Monday that the four men were being held in detention after \
             questioning, and that the prosecutor would decide on charges later this week.",
        );
        assert_eq!(english.map(Language::name), Some("english"));
        let en = TermHasher::new(english, 0);
        assert_eq!(en.hash("detained"), en.hash("detain"));
        assert_eq!(en.hash("charges"), en.hash("charge"));
        let none = TermHasher::new(None, 0);
        assert_ne!(none.hash("detained"), none.hash("detain"));
    }
}
