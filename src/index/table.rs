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
//!   rejected on the fingerprint without touching the entry. A sub-table grows (by rehashing only
//!   itself) when it is 90 % full, to 66–74 % (depending on the sub-table, so that they do not
//!   all grow at once), so growth never stalls the whole index.

/// Bits kept of each MinHash value.
pub(crate) const SIG_BITS: u32 = 6;

/// Sub-tables per table (a power of two).
pub(crate) const SUBS: usize = 64;

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
        for _ in 0..n {
            let s = sub.slots[i];
            if s == 0 {
                return;
            }
            if s & !notfp == fp {
                if let Some(local) = codec.local(s) {
                    if is_live(local) {
                        visit(local);
                    }
                }
            }
            i += 1;
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
        let sub = &mut self.subs[s];
        let n = sub.slots.len();
        let (_, mut i) = home(hash, n);
        let fp = codec.fp(hash);
        let mask = codec.mask();
        let mut reuse = None;
        let mut count = 0;
        let mut empty = None;
        for _ in 0..n {
            let slot = sub.slots[i];
            if slot == 0 {
                empty = Some(i);
                break;
            }
            match codec.local(slot) {
                Some(l) if is_live(l) => {
                    if slot & !mask == fp && same(l) {
                        count += 1;
                    }
                }
                _ => {
                    if reuse.is_none() {
                        reuse = Some(i);
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
        let at = match (reuse, empty) {
            (Some(r), _) => r,
            (None, Some(e)) => {
                sub.occupied += 1;
                e
            }
            // Cannot happen while the 90 % load limit holds; grow and retry rather than loop.
            (None, None) => {
                self.grow(s, codec, 1, &is_live, &rehash);
                return self.insert(codec, hash, local, max_bucket, is_live, same, rehash);
            }
        };
        sub.slots[at] = codec.encode(hash, local);
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
        let old = std::mem::take(&mut self.subs[s].slots);
        let live: Vec<u64> = old
            .iter()
            .filter_map(|&slot| codec.local(slot))
            .filter(|&l| is_live(l))
            .collect();
        // All hashes first: their signature reads are independent, so the CPU overlaps the
        // cache misses instead of taking them one by one between placements.
        let hashes: Vec<u64> = live.iter().map(|&l| rehash(l)).collect();
        // Sub-tables regrow to between 66 % and 74 % load, depending on their number, so that
        // they do not all grow at the same moment and the load over a table stays near 80 %.
        let target = 66 + s % 8;
        let len = ((live.len() + extra + 1) * 100 / target + 1).max(MIN_SUB);
        self.subs[s] = Sub::with_len(len);
        for (&l, &h) in live.iter().zip(&hashes) {
            self.place(s, codec, h, l);
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
