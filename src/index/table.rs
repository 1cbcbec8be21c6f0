//! The index's compact building blocks: 6-bit signatures and fingerprinted id tables.
//!
//! * A stored signature keeps the low [`SIG_BITS`] bits of each MinHash value, packed
//!   little-endian bit by bit (value `i` at bits `6i..6i+6`). The share of equal values,
//!   corrected for chance agreement (`2^-6`), estimates the Jaccard similarity.
//! * A band's key is a 64-bit hash of its rows' 6-bit values, so a table can be rebuilt from the
//!   stored signatures alone, and a band match can be checked against them.
//! * A [`Table`] is a multimap from 64-bit hashes to entry ids: `SUBS` independent sub-tables
//!   with linear probing over `u32` slots. A slot holds `fingerprint | (local id + 1)`: the top
//!   `32 - idbits` bits are the top bits of the hash, the low `idbits` bits the entry's id
//!   relative to a base (`0` is an empty slot, all ones a tombstone). Most non-matching slots are
//!   rejected on the fingerprint without touching the entry. Every run of occupied slots is
//!   kept in descending fingerprint order along each entry's probe path (ordered hashing, after
//!   Amble and Knuth): an insert moves smaller fingerprints one step along, so a probe stops at
//!   the first smaller fingerprint instead of at the end of the run. At 80–90 % load a probe for
//!   a key that is not there then reads a few slots rather than dozens. A sub-table grows (by rehashing only
//!   itself) when it is 90 % full, to 66–74 % (depending on the sub-table, so that they do not
//!   all grow at once), so growth never stalls the whole index.

/// Bits kept of each MinHash value.
pub(crate) const SIG_BITS: u32 = 6;

/// Sub-tables per table (a power of two).
pub(crate) const SUBS: usize = 64;

/// Slots compared per step of a probe.
const PROBE_CHUNK: usize = 8;

/// Smallest sub-table.
const MIN_SUB: usize = 4;

/// Bytes of a packed signature of `k` values.
pub(crate) fn sig_bytes(k: usize) -> usize {
    (k * SIG_BITS as usize).div_ceil(8)
}

/// Packs the low 6 bits of each value into `out` (`sig_bytes(values.len())` bytes).
pub(crate) fn pack(values: &[u32], out: &mut [u8]) {
    out.fill(0);
    for (i, &v) in values.iter().enumerate() {
        let w = ((v & 63) as u16) << ((i * 6) % 8);
        let b = i * 6 / 8;
        if let Some(x) = out.get_mut(b) {
            *x |= w as u8;
        }
        if let Some(x) = out.get_mut(b + 1) {
            *x |= (w >> 8) as u8;
        }
    }
}

/// Value `i` of a packed signature (0 past its end).
#[inline]
pub(crate) fn value(sig: &[u8], i: usize) -> u32 {
    let off = i * 6;
    let b = off / 8;
    let lo = sig.get(b).copied().unwrap_or(0) as u16;
    let hi = sig.get(b + 1).copied().unwrap_or(0) as u16;
    u32::from(((hi << 8 | lo) >> (off % 8)) & 63)
}

/// Lowest bit of each of the eight 6-bit lanes of a 48-bit word.
const LANE_LOW: u64 = 0x0410_4104_1041;

fn word48(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w[..6].copy_from_slice(&bytes[..6]);
    u64::from_le_bytes(w)
}

/// How many of the first `k` values of two packed signatures are equal.
pub(crate) fn equal_values(a: &[u8], b: &[u8], k: usize) -> usize {
    let groups = (k / 8).min(a.len() / 6).min(b.len() / 6);
    let mut differ = 0u32;
    for g in 0..groups {
        let x = word48(&a[g * 6..]) ^ word48(&b[g * 6..]);
        let t = (x | x >> 1 | x >> 2 | x >> 3 | x >> 4 | x >> 5) & LANE_LOW;
        differ += t.count_ones();
    }
    let mut equal = groups * 8 - differ as usize;
    for i in groups * 8..k {
        equal += usize::from(value(a, i) == value(b, i));
    }
    equal
}

/// The Jaccard estimate of two packed signatures of `k` values: the share `m` of equal values,
/// corrected for the `c = 2^-6` chance that two different values agree in their low bits:
/// `(m - c) / (1 - c)`, clamped to `[0, 1]`.
pub(crate) fn estimate(a: &[u8], b: &[u8], k: usize) -> f64 {
    if k == 0 {
        return 0.0;
    }
    let m = equal_values(a, b, k) as f64 / k as f64;
    let c = 1.0 / f64::from(1u32 << SIG_BITS);
    ((m - c) / (1.0 - c)).clamp(0.0, 1.0)
}

/// The murmur3 64-bit finalizer.
#[inline]
pub(crate) fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// The key of band `band` (`rows` values from `band * rows`), from a value getter.
#[inline]
pub(crate) fn band_hash(get: impl Fn(usize) -> u32, band: usize, rows: usize, seed: u64) -> u64 {
    let mut h = seed;
    let mut acc = 0u64;
    let mut n = 0;
    for j in 0..rows {
        acc = acc << 6 | u64::from(get(band * rows + j) & 63);
        n += 1;
        if n == 10 {
            h = fmix64(h ^ acc);
            acc = 0;
            n = 0;
        }
    }
    fmix64(h ^ acc)
}

/// Slot encoding shared by the tables of one index: ids are `local = seq - base` in `idbits`
/// bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Codec {
    pub(crate) idbits: u32,
}

impl Codec {
    /// Smallest id width.
    pub(crate) const MIN_BITS: u32 = 16;
    /// Largest id width (fingerprints keep at least 2 bits).
    pub(crate) const MAX_BITS: u32 = 30;

    #[inline]
    pub(crate) fn mask(self) -> u32 {
        (1u32 << self.idbits) - 1
    }

    /// The tombstone id field.
    #[inline]
    pub(crate) fn tomb(self) -> u32 {
        self.mask()
    }

    /// Largest local id that can be stored.
    #[inline]
    pub(crate) fn max_local(self) -> u64 {
        u64::from(self.mask()) - 2
    }

    #[inline]
    fn fp(self, hash: u64) -> u32 {
        ((hash >> 32) as u32) & !self.mask()
    }

    #[inline]
    fn encode(self, hash: u64, local: u64) -> u32 {
        self.fp(hash) | (local as u32 + 1)
    }

    /// The local id of a slot, if it holds one (not empty, not a tombstone).
    #[inline]
    pub(crate) fn local(self, slot: u32) -> Option<u64> {
        let id = slot & self.mask();
        (id != 0 && id != self.tomb()).then(|| u64::from(id - 1))
    }
}

/// Where a hash lives: sub-table and home position.
#[inline]
fn home(hash: u64, len: usize) -> (usize, usize) {
    let sub = (hash as usize) & (SUBS - 1);
    let pos = (((hash >> 8) & 0xFF_FFFF) as usize * len) >> 24;
    (sub, pos)
}

/// A multimap from 64-bit hashes to local ids (see the module doc).
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub(crate) subs: Vec<Sub>,
}

/// One sub-table.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sub {
    pub(crate) slots: Vec<u32>,
    /// Non-empty slots (live, dead and tombstones).
    pub(crate) occupied: usize,
}

/// What an insert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placed {
    /// Stored.
    Yes,
    /// Not stored: the bucket already holds `max_bucket` entries.
    Capped,
}

impl Table {
    pub(crate) fn new() -> Table {
        Table {
            subs: vec![Sub::default(); SUBS],
        }
    }

    /// Calls `visit` with every live local id whose slot fingerprint matches `hash`.
    #[inline]
    pub(crate) fn probe(
        &self,
        codec: Codec,
        hash: u64,
        is_live: impl Fn(u64) -> bool,
        mut visit: impl FnMut(u64),
    ) {
        let Some(sub) = self.subs.get((hash as usize) & (SUBS - 1)) else {
            return;
        };
        let n = sub.slots.len();
        if n == 0 {
            return;
        }
        let (_, mut i) = home(hash, n);
        let fp = codec.fp(hash);
        let notfp = codec.mask();
        let mut check = |s: u32| {
            if let Some(local) = codec.local(s) {
                if is_live(local) {
                    visit(local);
                }
            }
        };
        let mut seen = 0;
        while seen < n {
            // Eight slots at a time where they do not wrap: one branch per chunk instead of
            // two per slot. A probe ends at an empty slot or at a smaller fingerprint (runs are
            // in descending fingerprint order, see the module doc).
            // (Never past `n` slots in all, so no slot is visited twice.)
            let chunk = (seen + PROBE_CHUNK <= n)
                .then(|| sub.slots.get(i..i + PROBE_CHUNK))
                .flatten();
            if let Some(chunk) = chunk {
                let (mut stop, mut hit) = (0u32, 0u32);
                for (k, &s) in chunk.iter().enumerate() {
                    stop |= u32::from(s == 0 || s & !notfp < fp) << k;
                    hit |= u32::from(s & !notfp == fp) << k;
                }
                let before_stop = (1u32 << stop.trailing_zeros().min(PROBE_CHUNK as u32)) - 1;
                let mut hit = hit & before_stop;
                while hit != 0 {
                    check(chunk[hit.trailing_zeros() as usize]);
                    hit &= hit - 1;
                }
                if stop != 0 {
                    return;
                }
                i += PROBE_CHUNK;
                seen += PROBE_CHUNK;
            } else {
                let s = sub.slots[i];
                if s == 0 || s & !notfp < fp {
                    return;
                }
                if s & !notfp == fp {
                    check(s);
                }
                i += 1;
                seen += 1;
            }
            if i == n {
                i = 0;
            }
        }
    }

    /// Inserts `local` under `hash`, unless `max_bucket` live entries with a matching
    /// fingerprint (`same` confirms the key) are already there. Dead slots on the way are reused.
    /// `rehash` gives the hash of a live local id when the sub-table must grow.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert(
        &mut self,
        codec: Codec,
        hash: u64,
        local: u64,
        max_bucket: usize,
        is_live: impl Fn(u64) -> bool,
        same: impl Fn(u64) -> bool,
        rehash: impl Fn(u64) -> u64,
    ) -> Placed {
        let s = (hash as usize) & (SUBS - 1);
        if self.subs[s].slots.is_empty() {
            self.grow(s, codec, 0, &is_live, &rehash);
        }
        if self.subs[s].occupied >= self.subs[s].slots.len() {
            // Cannot happen while the 90 % load limit holds; grow rather than loop.
            self.grow(s, codec, 1, &is_live, &rehash);
        }
        let sub = &mut self.subs[s];
        let n = sub.slots.len();
        let (_, mut i) = home(hash, n);
        let fp = codec.fp(hash);
        let mask = codec.mask();
        // Past the larger fingerprints, through the equal ones (counting the bucket and
        // noting a dead slot to reuse), to the first smaller fingerprint or empty slot.
        let mut reuse = None;
        let mut count = 0;
        for _ in 0..n {
            let slot = sub.slots[i];
            if slot == 0 || slot & !mask < fp {
                break;
            }
            if slot & !mask == fp {
                match codec.local(slot) {
                    Some(l) if is_live(l) => {
                        if same(l) {
                            count += 1;
                        }
                    }
                    _ => {
                        if reuse.is_none() {
                            reuse = Some(i);
                        }
                    }
                }
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
        if count >= max_bucket {
            return Placed::Capped;
        }
        let mut carry = codec.encode(hash, local);
        if let Some(r) = reuse {
            // A dead entry with the same fingerprint: the order stays as it is.
            sub.slots[r] = carry;
            return Placed::Yes;
        }
        // Take this slot and move the rest of the run along: each displaced entry goes on to
        // the next slot holding a smaller fingerprint, the last one to the empty slot that ends
        // the run (there is one: the table is below 90 % load).
        for _ in 0..n {
            let slot = sub.slots[i];
            if slot == 0 {
                sub.slots[i] = carry;
                sub.occupied += 1;
                break;
            }
            if slot & !mask < carry & !mask {
                sub.slots[i] = carry;
                carry = slot;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
        if sub.occupied * 10 > sub.slots.len() * 9 {
            self.grow(s, codec, 0, &is_live, &rehash);
        }
        Placed::Yes
    }

    /// Rebuilds sub-table `s` with its live entries only, sized for 66–74 % load (plus `extra`).
    fn grow(
        &mut self,
        s: usize,
        codec: Codec,
        extra: usize,
        is_live: &impl Fn(u64) -> bool,
        rehash: &impl Fn(u64) -> u64,
    ) {
        let live = self.subs[s]
            .slots
            .iter()
            .filter(|&&slot| codec.local(slot).is_some_and(is_live))
            .count();
        // Sub-tables regrow to between 66 % and 74 % load, depending on their number, so that
        // they do not all grow at the same moment and the load over a table stays near 80 %.
        let target = 66 + s % 8;
        let len = ((live + extra + 1) * 100 / target + 1).max(MIN_SUB);
        self.rebuild(s, codec, len, is_live, rehash);
    }

    /// Re-lays out sub-table `s` in `len` slots with its live entries only, placed in
    /// descending fingerprint order, which gives every run the order probes rely on.
    fn rebuild(
        &mut self,
        s: usize,
        codec: Codec,
        len: usize,
        is_live: &impl Fn(u64) -> bool,
        rehash: &impl Fn(u64) -> u64,
    ) {
        let old = std::mem::take(&mut self.subs[s].slots);
        let live: Vec<u64> = old
            .iter()
            .filter_map(|&slot| codec.local(slot))
            .filter(|&l| is_live(l))
            .collect();
        // All hashes first: their signature reads are independent, so the CPU overlaps the
        // cache misses instead of taking them one by one between placements.
        let mut entries: Vec<(u32, u64, u64)> = live
            .iter()
            .map(|&l| {
                let h = rehash(l);
                (codec.fp(h), l, h)
            })
            .collect();
        entries.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        self.subs[s] = Sub::with_len(len.max(live.len() + 1).max(MIN_SUB));
        for &(_, l, h) in &entries {
            self.place(s, codec, h, l);
        }
    }

    /// Re-lays out every sub-table (same sizes, dead entries dropped) in descending fingerprint
    /// order: for tables read from a format-1 file, whose runs are in insertion order.
    pub(crate) fn reorder(
        &mut self,
        codec: Codec,
        is_live: impl Fn(u64) -> bool,
        rehash: impl Fn(u64) -> u64,
    ) {
        for s in 0..SUBS {
            let len = self.subs[s].slots.len();
            if len > 0 {
                self.rebuild(s, codec, len, &is_live, &rehash);
            }
        }
    }

    /// The slot at the home position of `hash` (0 if there is none): reading it for every band
    /// before probing any lets the CPU fetch the tables' cache lines in parallel.
    #[inline]
    pub(crate) fn home_slot(&self, hash: u64) -> u32 {
        match self.subs.get((hash as usize) & (SUBS - 1)) {
            Some(sub) if !sub.slots.is_empty() => sub.slots[home(hash, sub.slots.len()).1],
            _ => 0,
        }
    }

    /// Places without checks (rebuilds).
    fn place(&mut self, s: usize, codec: Codec, hash: u64, local: u64) {
        let sub = &mut self.subs[s];
        let n = sub.slots.len();
        let (_, mut i) = home(hash, n);
        for _ in 0..n {
            if sub.slots[i] == 0 {
                sub.slots[i] = codec.encode(hash, local);
                sub.occupied += 1;
                return;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }

    /// Makes sure every sub-table holds `entries / SUBS` entries below 70 % load.
    pub(crate) fn presize(
        &mut self,
        codec: Codec,
        entries: usize,
        is_live: impl Fn(u64) -> bool,
        rehash: impl Fn(u64) -> u64,
    ) {
        let want = (entries / SUBS + 1) * 10 / 7 + 1;
        for s in 0..SUBS {
            if self.subs[s].slots.len() < want {
                let extra = (entries / SUBS + 1).saturating_sub(self.subs[s].occupied);
                self.grow(s, codec, extra, &is_live, &rehash);
            }
        }
    }

    /// Re-encodes every slot for a new codec and base: live ids move by `shift`
    /// (`new local = old local - shift`); dead ones become tombstones.
    pub(crate) fn recode(
        &mut self,
        old: Codec,
        new: Codec,
        shift: u64,
        is_live: impl Fn(u64) -> bool,
    ) {
        for sub in &mut self.subs {
            for slot in &mut sub.slots {
                if *slot == 0 {
                    continue;
                }
                let fp = *slot & !new.mask();
                *slot = match old.local(*slot) {
                    Some(l) if is_live(l) => fp | ((l - shift) as u32 + 1),
                    _ => fp | new.tomb(),
                };
            }
        }
    }

    /// Slots, non-empty slots, and the longest run of non-empty slots.
    pub(crate) fn shape(&self) -> (usize, usize, usize) {
        let mut slots = 0;
        let mut occupied = 0;
        let mut longest = 0;
        for sub in &self.subs {
            slots += sub.slots.len();
            occupied += sub.occupied;
            let mut run = 0;
            for &s in sub.slots.iter().chain(sub.slots.iter()) {
                if s == 0 {
                    run = 0;
                } else {
                    run += 1;
                    longest = longest.max(run.min(sub.slots.len()));
                }
            }
        }
        (slots, occupied, longest)
    }

    /// Heap bytes.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.subs
            .iter()
            .map(|s| s.slots.capacity() * 4)
            .sum::<usize>()
            + self.subs.capacity() * std::mem::size_of::<Sub>()
    }
}

impl Sub {
    pub(crate) fn with_len(len: usize) -> Sub {
        Sub {
            slots: vec![0; len],
            occupied: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips_and_counts_equal_values() {
        for k in [1usize, 7, 8, 9, 64, 125, 128, 130] {
            let a: Vec<u32> = (0..k as u32)
                .map(|i| i.wrapping_mul(2_654_435_761))
                .collect();
            let mut b = a.clone();
            for i in (0..k).step_by(3) {
                b[i] ^= 1 << (i % 6);
            }
            let (mut pa, mut pb) = (vec![0u8; sig_bytes(k)], vec![0u8; sig_bytes(k)]);
            pack(&a, &mut pa);
            pack(&b, &mut pb);
            for (i, &v) in a.iter().enumerate() {
                assert_eq!(value(&pa, i), v & 63, "k={k} i={i}");
            }
            let want = (0..k).filter(|&i| (a[i] & 63) == (b[i] & 63)).count();
            assert_eq!(equal_values(&pa, &pb, k), want, "k={k}");
            assert_eq!(equal_values(&pa, &pa, k), k);
            assert_eq!(estimate(&pa, &pa, k), 1.0);
        }
    }

    /// The chunked probe finds exactly what a slot-by-slot scan finds, in tables filled up to
    /// their growth limit with home positions crowded at the end (so runs wrap around).
    #[test]
    fn chunked_probe_matches_slot_by_slot_scan() {
        let codec = Codec { idbits: 16 };
        let scan = |t: &Table, hash: u64| -> Vec<u64> {
            let sub = &t.subs[(hash as usize) & (SUBS - 1)];
            let n = sub.slots.len();
            let mut out = Vec::new();
            if n == 0 {
                return out;
            }
            let mut i = home(hash, n).1;
            for _ in 0..n {
                let s = sub.slots[i];
                if s == 0 {
                    break;
                }
                if s & !codec.mask() == codec.fp(hash) {
                    out.extend(codec.local(s));
                }
                i = (i + 1) % n;
            }
            out
        };
        for crowd in [0u64, 0xF0_0000, 0xFF_FF00] {
            // Hash bits 8..32 give the home position; `crowd` pushes them towards the end.
            let hash = |l: u64| {
                let h = fmix64(l % 700);
                (h & !0xFFFF_FF00) | ((((h >> 8) & 0xFF_FFFF) | crowd) << 8)
            };
            let mut t = Table::new();
            for l in 0..3000u64 {
                t.insert(codec, hash(l), l, usize::MAX, |_| true, |_| false, hash);
            }
            for probe in 0..1000u64 {
                let h = hash(probe);
                let mut got = Vec::new();
                t.probe(codec, h, |_| true, |l| got.push(l));
                assert_eq!(got, scan(&t, h), "crowd={crowd:x} probe={probe}");
            }
        }
    }

    /// Ordered probes miss nothing: after inserts with growth, crowded home positions, dead
    /// entries being reused and a recode, every live entry stored under a hash is found by a
    /// probe for that hash.
    #[test]
    fn ordered_probes_find_every_live_entry_of_a_hash() {
        let mut codec = Codec { idbits: 16 };
        for crowd in [0u64, 0xFF_FF00] {
            let hash = |l: u64| {
                let h = fmix64(l % 997);
                (h & !0xFFFF_FF00) | ((((h >> 8) & 0xFF_FFFF) | crowd) << 8)
            };
            let mut t = Table::new();
            let dead_below = std::cell::Cell::new(0u64);
            let live = |l: u64| l >= dead_below.get();
            for l in 0..20_000u64 {
                if l == 12_000 {
                    // The oldest third dies; later inserts reuse or pass their slots.
                    dead_below.set(4000);
                }
                t.insert(codec, hash(l), l, usize::MAX, live, |_| false, hash);
            }
            if crowd == 0 {
                // Wider ids: fingerprints lose bits, ids move down by 4000.
                let wide = Codec { idbits: 18 };
                t.recode(codec, wide, 4000, live);
                codec = wide;
                dead_below.set(0);
            }
            let shift = if crowd == 0 { 4000 } else { 0 };
            for key in 0..997u64 {
                let mut got = Vec::new();
                t.probe(codec, hash(key), |_| true, |l| got.push(l));
                got.sort_unstable();
                let want: Vec<u64> = (4000..20_000u64)
                    .filter(|l| l % 997 == key)
                    .map(|l| l - shift)
                    .collect();
                for w in &want {
                    assert!(
                        got.binary_search(w).is_ok(),
                        "crowd={crowd:x} key={key} missing {w}"
                    );
                }
            }
            codec = Codec { idbits: 16 };
        }
    }

    #[test]
    fn table_finds_inserted_ids_skips_dead_and_caps_buckets() {
        let codec = Codec { idbits: 16 };
        let mut t = Table::new();
        let hash = |l: u64| fmix64(l % 1000);
        for l in 0..5000u64 {
            let p = t.insert(
                codec,
                hash(l),
                l,
                3,
                |_| true,
                |x| x % 1000 == l % 1000,
                hash,
            );
            assert_eq!(p == Placed::Yes, l < 3000, "l={l}");
        }
        let mut got = Vec::new();
        t.probe(codec, hash(7), |_| true, |l| got.push(l));
        got.sort_unstable();
        assert_eq!(got, vec![7, 1007, 2007]);
        got.clear();
        t.probe(codec, hash(7), |l| l >= 1000, |l| got.push(l));
        got.sort_unstable();
        assert_eq!(got, vec![1007, 2007]);
        // Recoding drops dead ids and shifts live ones.
        let wide = Codec { idbits: 18 };
        t.recode(codec, wide, 1000, |l| l >= 1000);
        got.clear();
        t.probe(wide, hash(7), |_| true, |l| got.push(l));
        got.sort_unstable();
        assert_eq!(got, vec![7, 1007]);
        let (slots, occupied, longest) = t.shape();
        assert!(occupied * 10 <= slots * 9 && longest < slots);
    }
}
