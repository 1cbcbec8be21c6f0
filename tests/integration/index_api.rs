//! `syndup::Index` used the way a crawler uses it: many threads observing at once, saving and
//! reopening; and the committed format-v1 fixture, which every later version must still read.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Barrier;

use syndup::index::{EntryId, Index, MatchKind, Origin, Seen};
use syndup::Params;

/// A deterministic 60-word paragraph from a 5000-word vocabulary.
fn paragraph(seed: u64) -> Vec<String> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..60)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            format!("word{}", s % 5000)
        })
        .collect()
}

/// Copy `t` of group `g`: the group's paragraph with one of its last three words replaced (so
/// any two copies share at least 90 % of their shingles), or, for every fifth group, a short
/// caption shared verbatim.
fn copy(g: u64, t: u64) -> String {
    if g % 5 == 4 {
        return format!("Photo: agency {g}");
    }
    let mut words = paragraph(g);
    let at = 57 + (t % 3) as usize;
    words[at] = format!("edit{g}x{t}");
    words.join(" ")
}

const THREADS: u64 = 8;
const GROUPS: u64 = 150;

/// Eight threads each observe one copy of every group, all threads on the same group at the
/// same moment: exactly one of them gets `New`, the others `Duplicate` of that one.
#[test]
fn concurrent_observe_gives_exactly_one_new_per_duplicate_group() {
    let index = Index::new(Params::default()).unwrap();
    let barrier = Barrier::new(THREADS as usize);
    let answers: Vec<Vec<(u64, Seen)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (index, barrier) = (&index, &barrier);
                s.spawn(move || {
                    let mut out = Vec::new();
                    for g in 0..GROUPS {
                        let text = copy(g, t);
                        if g % 10 == 0 {
                            barrier.wait();
                        }
                        let key = format!("group{g}/copy{t}");
                        out.push((g, index.observe(key.as_str(), &text)));
                        // Pages also carry paragraphs with no word, which never count.
                        assert_eq!(index.observe(key.as_str(), "— * —"), Seen::Empty);
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut new_of: HashMap<u64, Vec<EntryId>> = HashMap::new();
    for (g, seen) in answers.iter().flatten() {
        if let Seen::New(id) = seen {
            new_of.entry(*g).or_default().push(*id);
        }
    }
    for g in 0..GROUPS {
        let news = new_of.get(&g).cloned().unwrap_or_default();
        assert_eq!(news.len(), 1, "group {g}: {news:?}");
    }
    for (g, seen) in answers.iter().flatten() {
        match seen {
            Seen::New(_) => {}
            Seen::Duplicate { of, similarity } => {
                assert_eq!(*of, new_of[g][0], "group {g}");
                // Two copies share at least 90 % of their shingles; the 6-bit estimate of 128
                // values has a standard error of about 0.03 there, so 0.75 is five errors off.
                assert!(*similarity >= 0.75, "group {g}: {similarity}");
            }
            other => panic!("group {g}: {other:?}"),
        }
    }
    assert_eq!(index.len() as u64, GROUPS);
    let stats = index.stats();
    assert_eq!(stats.short_entries, GROUPS / 5);
    assert_eq!(stats.keys, GROUPS, "one key per stored paragraph");
}

/// A crawl in two runs: threads observe pages, the index is saved and reopened, and the second
/// run sees the first run's paragraphs as duplicates, exactly as one uninterrupted run would.
#[test]
fn saved_and_reopened_index_continues_the_crawl() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seen.syndup");
    let pages: Vec<String> = (0..40)
        .map(|p| {
            (0..4)
                .map(|k| copy((p * 4 + k) % 60, p))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let run = |index: &Index, range: std::ops::Range<usize>| -> Vec<Vec<Seen>> {
        range
            .map(|p| {
                index
                    .observe_document(&format!("page{p}"), &pages[p])
                    .into_iter()
                    .map(|s| s.seen)
                    .collect()
            })
            .collect()
    };
    let whole = Index::new(Params::default()).unwrap();
    let expected = run(&whole, 0..40);

    let first = Index::open_or_create(&path, Params::default()).unwrap();
    let mut got = run(&first, 0..20);
    first.save(&path).unwrap();
    drop(first);
    let second = Index::open_or_create(&path, Params::default()).unwrap();
    got.extend(run(&second, 20..40));
    assert_eq!(got, expected);
    assert_eq!(second.len(), whole.len());
    let new = expected.iter().flatten().filter(|s| s.is_new()).count();
    assert_eq!(new, 60, "one new per distinct paragraph");
}

fn fixture() -> PathBuf {
    fixture_of(1)
}

/// The committed file of format `version`.
fn fixture_of(version: u32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/index-v{version}.syndup"))
}

/// What the fixture holds: three stories (the second stored twice, once edited), a caption, a
/// paragraph without words (not stored) and two sources with lines and bytes.
fn fixture_index() -> Index {
    fixture_index_with(Params::default())
}

fn fixture_index_with(params: Params) -> Index {
    let index = Index::new(params).unwrap();
    let doc = format!(
        "{}\n\n{}\nPhoto: Reuters\n***\n{}\n",
        paragraph(1).join(" "),
        paragraph(2).join(" "),
        paragraph(3).join(" ")
    );
    index.insert_document("wire/2024-05-01.txt", &doc);
    index.insert(Origin::new("site/copy.html").at(7, 1234), &copy(2, 1));
    index
}

/// Writes `tests/fixtures/index-v1.syndup`. Run once when format v1 was introduced
/// (`cargo test --test integration -- --ignored write_index_v1_fixture`); never regenerate it
/// for a later format: the fixture is what old files look like.
#[test]
#[ignore]
fn write_index_v1_fixture() {
    let path = fixture();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    fixture_index().save(&path).unwrap();
}

/// Writes `tests/fixtures/index-v2.syndup`, the same calls as the v1 fixture in format 2 (run
/// once when format 2 was introduced: `cargo test --test integration -- --ignored
/// write_index_v2_fixture`; never regenerate it for a later format).
#[test]
#[ignore]
fn write_index_v2_fixture() {
    assert_eq!(syndup::index::FORMAT_VERSION, 2);
    fixture_index().save(fixture_of(2)).unwrap();
}

#[test]
fn index_v1_fixture_still_loads_and_answers() {
    fixture_loads_and_answers(&fixture());
}

#[test]
fn index_v2_fixture_still_loads_and_answers() {
    let bytes = std::fs::read(fixture_of(2)).unwrap();
    assert_eq!(&bytes[8..12], &2u32.to_le_bytes(), "a format-2 file");
    fixture_loads_and_answers(&fixture_of(2));
}

/// What the fixture files hold, asked through today's code.
fn fixture_loads_and_answers(path: &std::path::Path) {
    let index = Index::open(path).unwrap();
    // Today's defaults still fit the file: only the sentence-level defaults, which an index
    // does not use, have moved since v1.
    Index::open_or_create(path, Params::default()).unwrap();
    assert_eq!(index.len(), 5);
    let e = index.entry(EntryId(1)).unwrap();
    let byte = paragraph(1).join(" ").len() as u64 + 2;
    assert_eq!(
        (e.key.as_str(), e.line, e.byte, e.short),
        ("wire/2024-05-01.txt", 3, byte, false)
    );
    assert!(index.entry(EntryId(2)).unwrap().short);
    assert!(index.entry(EntryId(5)).is_none());
    let caption = index.query("PHOTO: reuters");
    assert_eq!(caption.len(), 1);
    assert_eq!(
        (caption[0].id, caption[0].kind, caption[0].similarity),
        (EntryId(2), MatchKind::Identical, 1.0)
    );
    let story = index.query(&paragraph(2).join(" "));
    let ids: Vec<u64> = story.iter().map(|m| m.id.0).collect();
    assert_eq!(ids, vec![1, 4]);
    assert_eq!(story[0].similarity, 1.0);
    assert!(story[1].similarity > 0.85 && story[1].similarity < 1.0);
    let copy_entry = index.entry(EntryId(4)).unwrap();
    assert_eq!(
        (copy_entry.key.as_str(), copy_entry.line, copy_entry.byte),
        ("site/copy.html", 7, 1234)
    );
    assert!(index.query(&paragraph(9).join(" ")).is_empty());
    // What this version builds from the same calls answers like the fixture. (Bytes may differ:
    // parameters added since v1 are stored too, and take their defaults when a v1 file is read.)
    let now = fixture_index_with(index.params().clone());
    for i in 0..10 {
        let text = paragraph(i).join(" ");
        let key = |ms: Vec<syndup::index::Match>| -> Vec<(u64, String)> {
            ms.iter()
                .map(|m| (m.id.0, format!("{:.4}", m.similarity)))
                .collect()
        };
        assert_eq!(
            key(now.query(&text)),
            key(index.query(&text)),
            "paragraph {i}"
        );
    }
}
