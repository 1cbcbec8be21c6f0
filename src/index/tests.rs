//! Unit tests of the index: matching, eviction, the file format and its failure modes.

use super::*;
use crate::error::Error;
use crate::input::Corpus;
use crate::minhash::Scheme;
use crate::params::Preset;
use crate::Detector;

/// A deterministic paragraph of `n` words drawn from a 4000-word vocabulary.
pub(crate) fn words(seed: u64, n: usize) -> String {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = String::new();
    for i in 0..n {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("w{}", s % 4000));
    }
    out
}

/// `text` with every `every`-th word replaced.
fn edit(text: &str, every: usize, salt: u64) -> String {
    text.split(' ')
        .enumerate()
        .map(|(i, w)| {
            if i % every == every / 2 {
                format!("x{salt}y{i}")
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn small_index() -> Index {
    let index = Index::new(Params::default()).unwrap();
    for i in 0..4u64 {
        index.insert(
            Origin::new(&format!("doc{i}")).at(i + 1, i * 100),
            &words(i, 40),
        );
    }
    index.insert("short", "Read more");
    index
}

fn save_bytes(index: &Index) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.syndup");
    index.save(&path).unwrap();
    std::fs::read(&path).unwrap()
}

fn decode_bytes(bytes: &[u8]) -> Result<Index> {
    format::decode(Path::new("test.syndup"), bytes)
}

use std::path::Path;

#[test]
fn index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Index>();
    assert_send_sync::<Match>();
    assert_send_sync::<Seen>();
}

#[test]
fn observe_new_duplicate_empty_short_too_long() {
    let params = Params {
        max_paragraph_bytes: 2000,
        ..Params::default()
    };
    let index = Index::new(params).unwrap();
    let a = words(1, 60);
    let Seen::New(id) = index.observe("a", &a) else {
        panic!("first sight is new")
    };
    assert_eq!(id, EntryId(0));
    match index.observe("b", &edit(&a, 20, 1)) {
        Seen::Duplicate { of, similarity } => {
            assert_eq!(of, id);
            assert!(similarity > 0.55 && similarity < 1.0, "{similarity}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(index.len(), 1, "duplicates are not stored");
    assert!(index.observe("c", &words(2, 60)).is_new());
    assert_eq!(index.observe("d", " ... — !"), Seen::Empty);
    assert_eq!(index.observe("e", &words(3, 1000)), Seen::TooLong);
    // Short paragraphs match by identical normalized text only.
    assert!(index.observe("f", "Read more").is_new());
    assert_eq!(
        index.observe("g", "READ   more!"),
        Seen::Duplicate {
            of: EntryId(2),
            similarity: 1.0
        }
    );
    assert!(index.observe("h", "Read more here").is_new());
    assert_eq!(index.len(), 4);
    let e = index.entry(EntryId(2)).unwrap();
    assert_eq!((e.key.as_str(), e.short), ("f", true));
}

/// The fewest hash values an index takes (see `index_refuses_too_few_hash_values`).
#[test]
fn few_hash_functions_still_match_short_paragraphs() {
    let params = Params {
        num_hashes: 10,
        bands: Some(5),
        rows: Some(2),
        ..Params::default()
    };
    let index = Index::new(params).unwrap();
    assert!(index.observe("a", "Photo: AFP").is_new());
    assert_eq!(
        index.observe("b", "photo  afp"),
        Seen::Duplicate {
            of: EntryId(0),
            similarity: 1.0
        }
    );
    let back = decode_bytes(&save_bytes(&index)).unwrap();
    assert_eq!(back.query("PHOTO: AFP").len(), 1);
}

#[test]
fn query_is_sorted_by_similarity_then_id_and_read_only() {
    let index = Index::new(Params::default()).unwrap();
    let a = words(7, 80);
    let far = edit(&a, 16, 1);
    let near = edit(&a, 30, 2);
    index.insert("far", &far);
    index.insert("near", &near);
    index.insert("same1", &a);
    index.insert("same2", &a);
    index.insert("other", &words(8, 80));
    let got = index.query(&a);
    let ids: Vec<u64> = got.iter().map(|m| m.id.0).collect();
    assert_eq!(ids, vec![2, 3, 1, 0], "{got:?}");
    assert_eq!(got[0].similarity, 1.0);
    assert!(got.windows(2).all(|w| w[0].similarity >= w[1].similarity));
    assert!(got.iter().all(|m| m.kind == MatchKind::Estimated));
    assert_eq!(index.len(), 5);
    assert!(index.query(&words(9, 80)).is_empty());
    assert!(index.query("").is_empty());
}

/// A document is split into paragraphs with their line numbers, whether its lines end in `\n`
/// or in `\r` alone (classic Mac OS, read as `scan` reads such a file), and each paragraph is
/// answered on its own.
#[test]
fn documents_are_split_and_answered_per_paragraph() {
    for eol in ["\n", "\r"] {
        let index = Index::new(Params::default()).unwrap();
        let (p1, p2) = (words(1, 30), words(2, 30));
        let page = format!("{p1}{eol}{eol}{p2}{eol}{p1}{eol}");
        let seen = index.observe_document("page", &page);
        let lines: Vec<u64> = seen.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![1, 3, 4], "{eol:?}");
        assert!(seen[0].seen.is_new() && seen[1].seen.is_new());
        assert_eq!(
            seen[2].seen,
            Seen::Duplicate {
                of: EntryId(0),
                similarity: 1.0
            }
        );
        assert_eq!(&page[seen[1].span.range()], p2);
        let e = index.entry(EntryId(1)).unwrap();
        assert_eq!((e.line, e.byte), (3, p1.len() as u64 + 2), "{eol:?}");
        let q = index.query_document(&format!("{p2}{eol}nothing like it at all here{eol}"));
        assert_eq!(q.len(), 2, "{eol:?}");
        assert_eq!(q[0].matches[0].id, EntryId(1));
        assert!(q[1].matches.is_empty());
        let ins = index.insert_document("again", &page);
        assert!(ins.iter().all(|p| p.seen.is_new()));
        assert_eq!(index.len(), 5);
    }
}

#[test]
fn batch_calls_equal_single_calls() {
    let texts: Vec<String> = (0..50).map(|i| words(i % 20, 40)).collect();
    let one = Index::new(Params::default()).unwrap();
    let single: Vec<Option<EntryId>> = texts.iter().map(|t| one.insert("k", t)).collect();
    let many = Index::new(Params::default()).unwrap();
    let items: Vec<(Origin, &str)> = texts
        .iter()
        .map(|t| (Origin::new("k"), t.as_str()))
        .collect();
    assert_eq!(many.insert_many(&items), single);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let q1: Vec<Vec<Match>> = refs.iter().map(|t| one.query(t)).collect();
    assert_eq!(many.query_many(&refs), q1);
    assert_eq!(
        q1[0].len(),
        3,
        "three copies of each of 20 paragraphs (0..10)"
    );
}

/// Index decisions agree with the batch pipeline's exact Jaccard away from the threshold: every
/// pair `scan` verifies at J ≥ threshold + 0.15 is found, and everything found has an exact
/// J ≥ threshold − 0.15.
#[test]
fn matches_agree_with_exact_jaccard_on_the_corpus() {
    let params = Params::preset(Preset::Near);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let corpus = Corpus::open(&[root], &params);
    assert!(corpus.paragraphs.len() > 100);
    let found = Detector::new(params.clone()).unwrap().detect(&corpus);
    let index = Index::new(params.clone()).unwrap();
    let texts: Vec<&str> = corpus.paragraphs.iter().map(|p| corpus.text(p)).collect();
    // Stored id → paragraph number (paragraphs without a word are not stored).
    let mut para_of: HashMap<u64, usize> = HashMap::new();
    for (i, t) in texts.iter().enumerate() {
        if let Some(id) = index.insert("c", t) {
            para_of.insert(id.0, i);
        }
    }
    let id_of: HashMap<usize, u64> = para_of.iter().map(|(&id, &i)| (i, id)).collect();
    let shingler = Shingler::new(params.shingle_words, params.seed);
    let set = |t: &str| {
        let mut w = Words::default();
        w.normalize(t);
        let mut v = Vec::new();
        shingler.hash_into(&w, &mut v);
        v.sort_unstable();
        v.dedup();
        (w.len(), v)
    };
    let mut checked = 0;
    for pair in &found.pairs {
        if pair.jaccard < params.threshold + 0.15 {
            continue;
        }
        let got = index.query(texts[pair.b as usize]);
        assert!(
            got.iter()
                .any(|m| Some(&m.id.0) == id_of.get(&(pair.a as usize))),
            "scan pair {}~{} (J {:.3}) not found: {got:?}",
            pair.a,
            pair.b,
            pair.jaccard
        );
        checked += 1;
    }
    assert!(checked > 20, "{checked}");
    for (i, t) in texts.iter().enumerate() {
        let (n, si) = set(t);
        for m in index.query(t) {
            let (nj, sj) = set(texts[para_of[&m.id.0]]);
            let exact = crate::verify::jaccard(&si, &sj);
            if n < params.min_words || nj < params.min_words {
                assert_eq!(m.kind, MatchKind::Identical);
                continue;
            }
            assert!(
                exact >= params.threshold - 0.15,
                "{i}~{}: estimate {:.3}, exact {exact:.3}",
                m.id,
                m.similarity
            );
            assert!((m.similarity - exact).abs() < 0.2, "{i}~{}", m.id);
        }
    }
}

#[test]
fn capacity_evicts_the_oldest_and_keeps_working_across_recodes() {
    let index = Index::new(Params::default()).unwrap().with_capacity(1000);
    // 70k inserts: an id recode, array compactions and key collections.
    for i in 0..70_000u64 {
        let text = if i % 5 == 0 {
            format!("short {}", i % 7)
        } else {
            words(i, 12)
        };
        index.insert(Origin::new(&format!("key{i}")).at(i, i), &text);
    }
    let stats = index.stats();
    assert_eq!(stats.entries, 1000);
    assert_eq!(stats.evicted, 69_000);
    assert!(stats.keys < 6000, "keys are collected: {}", stats.keys);
    assert!(index.entry(EntryId(68_999)).is_none());
    let e = index.entry(EntryId(69_001)).unwrap();
    assert_eq!(
        (e.key.as_str(), e.line, e.byte),
        ("key69001", 69_001, 69_001)
    );
    let got = index.query(&words(69_001, 12));
    assert_eq!(got[0].id, EntryId(69_001));
    assert!(index.query(&words(68_001, 12)).is_empty(), "evicted");
    let short = index.query("short 3");
    assert!(!short.is_empty() && short.iter().all(|m| m.id.0 >= 69_000));
    assert!(stats.load_factor <= 0.9);
    // The same after a round trip.
    let back = decode_bytes(&save_bytes(&index)).unwrap();
    assert_eq!(back.stats().entries, 1000);
    assert_eq!(back.capacity(), Some(1000));
    assert_eq!(back.query(&words(69_001, 12)), got);
    back.insert("more", &words(1, 12));
    assert_eq!(back.len(), 1000);
}

#[test]
fn save_open_query_give_identical_results() {
    let index = Index::new(Params::default()).unwrap();
    let base: Vec<String> = (0..300).map(|i| words(i, 50)).collect();
    for (i, t) in base.iter().enumerate() {
        index.insert(Origin::new(&format!("src{}", i % 7)).at(i as u64 + 1, 0), t);
        if i % 3 == 0 {
            index.insert("copies", &edit(t, 10, i as u64));
        }
    }
    index.insert("short", "Photo: Reuters");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.syndup");
    index.save(&path).unwrap();
    let back = Index::open(&path).unwrap();
    assert_eq!(back.params(), index.params());
    let (s1, s2) = (back.stats(), index.stats());
    assert_eq!(
        (
            s1.entries,
            s1.keys,
            s1.next_id,
            s1.table_slots,
            s1.table_occupied
        ),
        (
            s2.entries,
            s2.keys,
            s2.next_id,
            s2.table_slots,
            s2.table_occupied
        )
    );
    for t in base
        .iter()
        .chain(std::iter::once(&"photo reuters".to_string()))
    {
        assert_eq!(back.query(t), index.query(t));
    }
    for id in 0..index.stats().next_id {
        assert_eq!(back.entry(EntryId(id)), index.entry(EntryId(id)));
    }
    // Both continue identically.
    for t in &base[..20] {
        assert_eq!(
            back.observe("new", &edit(t, 4, 9)),
            index.observe("new", &edit(t, 4, 9))
        );
    }
    assert_eq!(save_bytes(&back), save_bytes(&index));
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = save_bytes(&small_index());
    assert!(decode_bytes(&bytes).is_ok());
    for len in 0..bytes.len() {
        match decode_bytes(&bytes[..len]) {
            Err(Error::NotAnIndex { .. }) => assert!(len < 8, "len {len}"),
            Err(Error::IndexCorrupt { .. }) => assert!(len >= 8, "len {len}"),
            Err(e) => panic!("len {len}: unexpected {e}"),
            Ok(_) => panic!("a file truncated to {len} of {} bytes loaded", bytes.len()),
        }
    }
}

#[test]
fn every_flipped_byte_is_an_error() {
    let bytes = save_bytes(&small_index());
    let mut copy = bytes.clone();
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            copy[i] ^= bit;
            let got = decode_bytes(&copy);
            copy[i] ^= bit;
            match got {
                Err(Error::NotAnIndex { .. }) => assert!(i < 8),
                Err(Error::IndexVersion { got, .. }) => assert!((8..12).contains(&i), "{got}"),
                Err(Error::IndexCorrupt { .. }) => {}
                Err(e) => panic!("byte {i}: unexpected {e}"),
                Ok(_) => panic!("byte {i} flipped ({bit:#x}) still loads"),
            }
        }
    }
}

/// Rewrites the checksum after changing `bytes`, as a buggy or hostile writer would.
fn reseal(bytes: &mut [u8]) {
    let body = bytes.len() - 16;
    let sum = xxhash_rust::xxh3::xxh3_64(&bytes[..body]);
    bytes[body + 8..].copy_from_slice(&sum.to_le_bytes());
}

fn find(bytes: &[u8], tag: &[u8]) -> usize {
    bytes.windows(tag.len()).position(|w| w == tag).unwrap()
}

#[test]
fn inconsistent_contents_with_a_valid_checksum_are_errors() {
    let good = save_bytes(&small_index());
    type Damage = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: Vec<(&str, Damage)> = vec![
        (
            "key number out of range",
            Box::new(|b: &mut Vec<u8>| {
                let at = find(b, b"SRCS") + 12;
                b[at..at + 4].copy_from_slice(&77u32.to_le_bytes());
            }),
        ),
        (
            "slot id past the end",
            Box::new(|b: &mut Vec<u8>| {
                // The first non-zero slot of the tables gets id field 0xFFFE (past `next`).
                let start = find(b, b"TABL") + 12 + 4 + 4 + 16;
                let mut at = start;
                while b[at..at + 4] == [0, 0, 0, 0] {
                    at += 4;
                }
                b[at] = 0xFE;
                b[at + 1] = 0xFF;
            }),
        ),
        ("params not JSON", Box::new(|b: &mut Vec<u8>| b[16] = b'!')),
        (
            "section tag",
            Box::new(|b: &mut Vec<u8>| {
                let at = find(b, b"LINE");
                b[at] = b'X';
            }),
        ),
        (
            "key bytes not UTF-8",
            Box::new(|b: &mut Vec<u8>| {
                let at = find(b, b"doc0");
                b[at] = 0xFF;
            }),
        ),
        (
            // Checksum-valid ids next to u64::MAX opened, and the next insert overflowed.
            "ids next to u64::MAX",
            Box::new(|b: &mut Vec<u8>| {
                let at = find(b, b"META") + 12 + 24;
                for field in 0..3 {
                    let f = at + 8 * field;
                    let mut v = [0u8; 8];
                    v.copy_from_slice(&b[f..f + 8]);
                    let id = u64::from_le_bytes(v).wrapping_add(u64::MAX - 100);
                    b[f..f + 8].copy_from_slice(&id.to_le_bytes());
                }
            }),
        ),
        (
            "num_hashes differs from the params",
            Box::new(|b: &mut Vec<u8>| {
                let at = find(b, b"META") + 12 + 4;
                b[at] ^= 1;
            }),
        ),
    ];
    for (what, damage) in cases {
        let mut bytes = good.clone();
        damage(&mut bytes);
        reseal(&mut bytes);
        match decode_bytes(&bytes) {
            Err(Error::IndexCorrupt { reason, .. }) => eprintln!("{what}: {reason}"),
            Err(e) => panic!("{what}: unexpected {e}"),
            Ok(_) => panic!("{what}: loaded"),
        }
    }
}

#[test]
fn foreign_files_version_and_params_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = dir.path().join("photo.jpg");
    std::fs::write(&jpeg, b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00").unwrap();
    let e = Index::open(&jpeg).unwrap_err();
    assert!(matches!(e, Error::NotAnIndex { .. }), "{e}");
    assert!(e.to_string().starts_with(&jpeg.display().to_string()));
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(Index::open(&empty), Err(Error::NotAnIndex { .. })));
    assert!(matches!(
        Index::open(dir.path().join("missing")),
        Err(Error::Read { .. })
    ));

    let path = dir.path().join("v.syndup");
    small_index().save(&path).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    // A future version and version 0 are refused by number.
    for v in [FORMAT_VERSION + 1, 0] {
        bytes[8..12].copy_from_slice(&v.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let e = Index::open(&path).unwrap_err();
        assert!(
            matches!(
                e,
                Error::IndexVersion {
                    expected: FORMAT_VERSION,
                    got,
                    ..
                } if got == v
            ),
            "{e}"
        );
        assert!(e.to_string().contains("syndup index build"), "{e}");
    }

    small_index().save(&path).unwrap();
    let other = Params {
        threshold: 0.8,
        seed: 1,
        ..Params::default()
    };
    let e = Index::open_or_create(&path, other).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::ParamsMismatch { .. }), "{msg}");
    assert!(msg.contains("threshold: index 0.5, given 0.8"), "{msg}");
    assert!(msg.contains("seed: index"), "{msg}");
    assert!(
        msg.contains("bands x rows: index 25x5, given 9x13"),
        "{msg}"
    );
    // Same matching parameters under another preset label and sentence level: accepted.
    let relabeled = Params {
        preset: Preset::Near,
        sentence_threshold: None,
        ..Params::default()
    };
    assert_eq!(Index::open_or_create(&path, relabeled).unwrap().len(), 5);
    // An index keeps its signature scheme: one built with `independent` signatures opens with
    // the default (`folded`), keeps `independent`, and still answers. (That its queries are
    // signed with the stored scheme is what the v1 and v2 fixture tests check: those files
    // were written by older code, so a query signed any other way finds nothing there.)
    let independent = Params {
        signature: Scheme::Independent,
        ..Params::default()
    };
    let old_path = dir.path().join("independent.syndup");
    let old = Index::new(independent).unwrap();
    let text = "The river rose two metres overnight and the old town was cut off by noon, \
        so the fire brigade carried elderly residents to the sports hall on the hill, where \
        volunteers served soup and the mayor promised that the damage would be paid for \
        before the end of the month";
    assert!(matches!(old.observe("a", text), Seen::New(_)));
    old.save(&old_path).unwrap();
    let reopened = Index::open_or_create(&old_path, Params::default()).unwrap();
    assert_eq!(reopened.params().signature, Scheme::Independent);
    // An edited copy (last word changed) is found through the band keys.
    let edited = text.replace("month", "week");
    let found = reopened.query(&edited);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, MatchKind::Estimated);
    let fresh = Index::open_or_create(dir.path().join("new.syndup"), Params::default()).unwrap();
    assert!(fresh.is_empty());
}

#[test]
fn a_save_that_fails_midway_leaves_the_previous_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seen.syndup");
    let old = small_index();
    old.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    let newer = small_index();
    for i in 0..50 {
        newer.insert("more", &words(100 + i, 40));
    }
    let size = encode_len(&newer);
    for fail_after in [0, 1, 9, 100, size / 2, size - 1, size] {
        let e = newer.save_inner(&path, Some(fail_after)).unwrap_err();
        assert!(matches!(e, Error::IndexWrite { .. }), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "after {fail_after}");
        assert_eq!(Index::open(&path).unwrap().len(), 5);
    }
    // A temporary path that cannot be created: the error names the file, the old one stays.
    let e = newer
        .save(dir.path().join("no/such/dir/seen.syndup"))
        .unwrap_err();
    assert!(matches!(e, Error::IndexWrite { .. }), "{e}");
    // Leftover temporary files from the "killed" saves do not stop the next save.
    newer.save(&path).unwrap();
    assert_eq!(Index::open(&path).unwrap().len(), 55);
}

/// A save removes the temporary files that saves killed before their rename left beside the
/// index (they stayed forever), but not those of a process still running (a save in progress
/// elsewhere) nor any other file.
#[cfg(unix)]
#[test]
fn a_save_removes_what_killed_saves_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seen.syndup");
    let index = small_index();
    // A process id above any the kernel hands out (pid_max is at most 2^22): not running.
    let dead = ".seen.syndup.99999999.0.tmp";
    // Process 1 always runs.
    let running = ".seen.syndup.1.3.tmp";
    let others = [
        ".seen.syndup.tmp",
        ".seen.syndup.x.0.tmp",
        ".other.syndup.99999999.0.tmp",
    ];
    for name in std::iter::once(dead).chain([running]).chain(others) {
        std::fs::write(dir.path().join(name), b"partial").unwrap();
    }
    index.save(&path).unwrap();
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let mut want: Vec<String> = std::iter::once("seen.syndup")
        .chain([running])
        .chain(others)
        .map(String::from)
        .collect();
    want.sort();
    assert_eq!(left, want);
    assert_eq!(Index::open(&path).unwrap().len(), index.len());
}

fn encode_len(index: &Index) -> usize {
    format::encode(&index.params, &index.shape, &index.read()).len()
}

#[test]
fn bucket_sizes_and_caps() {
    let params = Params {
        max_bucket: 4,
        ..Params::default()
    };
    let index = Index::new(params).unwrap();
    let t = words(5, 30);
    for _ in 0..10 {
        index.insert("boilerplate", &t);
    }
    index.insert("other", &words(6, 30));
    let b = index.bucket_sizes();
    assert_eq!(b.largest, 10);
    assert_eq!(b.buckets, 50);
    assert_eq!(b.histogram[0], 25);
    let s = index.stats();
    assert_eq!(s.capped_postings, 25 * 6);
    // A query of the boilerplate finds the first max_bucket copies of each band.
    assert_eq!(index.query(&t).len(), 4);
}

/// Copies of one short paragraph are capped as a band's bucket is: "Read more" on every
/// page neither walks an ever longer bucket at each insert nor answers with every copy.
/// (They were not capped: 80,000 copies took 10 s to insert, and a query listed them all.)
#[test]
fn short_paragraph_copies_are_capped() {
    let params = Params {
        max_bucket: 4,
        ..Params::default()
    };
    let index = Index::new(params).unwrap();
    for i in 0..10 {
        index.insert(format!("page/{i}").as_str(), "Read more");
    }
    index.insert("page/x", "Share this");
    assert_eq!(index.len(), 11);
    let hits = index.query("read  MORE");
    assert_eq!(hits.len(), 4, "{hits:?}");
    assert!(hits.iter().all(|m| m.kind == MatchKind::Identical));
    assert_eq!(index.stats().capped_postings, 6);
    assert_eq!(index.query("Share this").len(), 1);
    // Once the stored copies are evicted, new ones take their place.
    index.set_capacity(Some(5));
    for i in 0..5 {
        index.insert(format!("late/{i}").as_str(), "Read more");
    }
    let hits = index.query("Read more");
    assert_eq!(hits.len(), 4, "{hits:?}");
    for m in hits {
        let e = index.entry(m.id).expect("live");
        assert!(e.key.starts_with("late/"), "{e:?}");
    }
}

/// A saved index keeps only the keys its paragraphs use once it is opened again: with a
/// capacity, a CLI `index add` or a crawler restarted every day evicts fewer paragraphs per
/// process than a compaction waits for, and the keys of every page ever seen were kept (6,000
/// keys for 100 entries after 30 `add` runs).
#[test]
fn reopened_index_drops_unused_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seen.syndup");
    let index = Index::new(Params::default()).unwrap().with_capacity(100);
    index.save(&path).unwrap();
    for batch in 0..20u64 {
        let index = Index::open(&path).unwrap();
        for i in 0..50 {
            let key = format!("https://example.com/{batch}/{i}");
            index.insert(key.as_str(), &words(batch * 1000 + i, 20));
        }
        index.save(&path).unwrap();
    }
    let index = Index::open(&path).unwrap();
    let s = index.stats();
    assert_eq!(s.entries, 100);
    assert_eq!(s.keys, 100, "{s:?}");
    // The entries and their keys are the newest ones.
    let newest = words(19 * 1000 + 49, 20);
    let m = index.query(&newest);
    let e = index.entry(m[0].id).expect("live");
    assert_eq!(e.key, "https://example.com/19/49");
}

/// An index needs at least 10 hash values: a short paragraph's 64-bit text hash is kept in a
/// signature's bytes, and fewer cut it, so that different short texts matched as identical.
#[test]
fn index_refuses_too_few_hash_values() {
    let with = |k| {
        Index::new(Params {
            num_hashes: k,
            bands: Some(k / 2),
            rows: Some(2),
            ..Params::default()
        })
    };
    let e = with(9).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Param {
                name: "num_hashes",
                ..
            }
        ),
        "{e}"
    );
    let index = with(10).unwrap();
    for i in 0..3000 {
        index.insert("a", &format!("alpha beta {i}"));
    }
    let false_hits = (0..3000)
        .filter(|i| !index.query(&format!("gamma delta {i}")).is_empty())
        .count();
    assert_eq!(false_hits, 0);
}

/// A save through a symbolic link replaces the file the link points to and keeps the link (a
/// rename over the link replaced the link, and the target kept the old index); a save onto
/// something that is not a regular file (a FIFO here; `/dev/null` was replaced by a regular
/// file when run as root) is refused and leaves it alone.
#[cfg(unix)]
#[test]
fn save_writes_through_links_and_never_over_special_files() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("2024-06-01.syndup");
    let link = dir.path().join("current.syndup");
    let index = small_index();
    index.save(&target).unwrap();
    std::os::unix::fs::symlink("2024-06-01.syndup", &link).unwrap();
    index.insert("doc9", &words(9, 40));
    index.save(&link).unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(Index::open(&target).unwrap().len(), index.len());
    // A dangling link is written through too: its target is created.
    let dangling = dir.path().join("next.syndup");
    std::os::unix::fs::symlink("made-by-save.syndup", &dangling).unwrap();
    index.save(&dangling).unwrap();
    assert_eq!(
        Index::open(dir.path().join("made-by-save.syndup"))
            .unwrap()
            .len(),
        index.len()
    );
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path it is given and nothing else.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    match index.save(&fifo) {
        Err(Error::IndexWrite { source, .. }) => {
            assert!(
                source.to_string().contains("not a regular file"),
                "{source}"
            )
        }
        other => panic!("{other:?}"),
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 5, "no temporary file is left: {names:?}");
}

/// A save's temporary file is a new file: a symbolic link planted at the names the next saves
/// would use is neither followed (its target was overwritten with the index, and the index
/// became a link to it) nor reused. The saved file keeps the mode of the file it replaces.
#[cfg(unix)]
#[test]
fn save_makes_a_new_temporary_file_with_the_index_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.syndup");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let index = small_index();
    index.save(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let next = format::SAVES.load(std::sync::atomic::Ordering::Relaxed);
    for k in next..next + 50 {
        let name = format!(".i.syndup.{}.{k}.tmp", std::process::id());
        std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
    }
    index.insert("doc9", &words(9, 40));
    index.save(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(Index::open(&path).unwrap().len(), index.len());
}

/// `open` refuses what is not a regular file at once (a FIFO made it wait for a writer
/// forever), and a file that does not start as an index before reading the rest.
#[cfg(unix)]
#[test]
fn open_refuses_special_files_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path it is given and nothing else.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    match Index::open(&fifo) {
        Err(Error::Read { source, .. }) => {
            assert!(
                source.to_string().contains("not a regular file"),
                "{source}"
            )
        }
        other => panic!("{other:?}"),
    }
    match Index::open(dir.path()) {
        Err(Error::Read { .. }) => {}
        other => panic!("{other:?}"),
    }
    let foreign = dir.path().join("big.bin");
    std::fs::File::create(&foreign)
        .unwrap()
        .set_len(1 << 33)
        .unwrap();
    assert!(matches!(
        Index::open(&foreign),
        Err(Error::NotAnIndex { .. })
    ));
}

/// Two saves to one path, the second after an insert, leave the second's copy: saves are
/// ordered from copy to rename. (In about 4 % of such races, the first save's rename came
/// last and put back the copy without the insert.)
#[test]
fn racing_saves_leave_the_later_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("i.syndup");
    let index = Index::new(Params::default()).unwrap();
    for i in 0..3000 {
        index.insert("d", &words(i + 100, 40));
    }
    for round in 0..60u64 {
        std::thread::scope(|s| {
            s.spawn(|| index.save(&path).unwrap());
            std::thread::sleep(std::time::Duration::from_micros(round % 7 * 150));
            index.insert("late", &words(10_000 + round, 40));
            index.save(&path).unwrap();
        });
        assert_eq!(
            Index::open(&path).unwrap().len(),
            index.len(),
            "round {round}"
        );
    }
}
