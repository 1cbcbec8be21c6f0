//! Runs the fuzz checks on the committed seeds and on deterministic random mutations of them,
//! so they run without nightly: `cargo test --manifest-path tests/fuzz/Cargo.toml`.

use std::path::Path;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.map(|e| e.path()).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .collect()
}

fn mutations(seeds: &[Vec<u8>], rounds: usize, check: fn(&[u8])) {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in seeds {
        check(seed);
    }
    for round in 0..rounds {
        let mut data = seeds[round % seeds.len()].clone();
        for _ in 0..=(next() % 8) {
            let at = (next() as usize) % (data.len() + 1);
            match next() % 5 {
                0 if !data.is_empty() => {
                    data.remove(at.min(data.len() - 1));
                }
                1 => data.insert(at, next() as u8),
                2 => data.insert(at, b"\"\\{}[]:,.\n\r\xff\x00 "[(next() % 14) as usize]),
                3 => {
                    let other = &seeds[(next() as usize) % seeds.len()];
                    let from = (next() as usize) % (other.len() + 1);
                    let piece = &other[from..other.len().min(from + 40)];
                    data.splice(at..at, piece.iter().copied());
                }
                _ => data.truncate(at),
            }
        }
        check(&data);
    }
}

#[test]
fn jsonl_reader_seeds_and_mutations() {
    mutations(&seeds("jsonl_reader"), 2000, syndup_fuzz::jsonl_reader);
}

#[test]
fn text_reader_seeds_and_mutations() {
    mutations(&seeds("text_reader"), 1000, syndup_fuzz::text_reader);
}

#[test]
fn segment_seeds_and_mutations() {
    mutations(&seeds("segment"), 5000, syndup_fuzz::segment);
}
