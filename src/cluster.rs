//! Stage 8: clustering. Verified pairs in, clusters out.
//!
//! Takes verified pairs of paragraph indexes and gives the connected groups (union-find), with
//! deterministic ids and member order: members sorted by index, clusters ordered by their first
//! member, ids counting from 0 in that order. Similarity does not chain, so a cluster keeps the
//! verified pairs that connect it: when a~b and b~c are verified, a~c is only claimed if it was
//! verified too.
//!
//! ```
//! use syndup::cluster::clusters;
//! let groups = clusters(6, &[(4, 5), (0, 2), (2, 3)]);
//! assert_eq!(groups, vec![vec![0, 2, 3], vec![4, 5]]);
//! ```

use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

/// Union-find over `0..n` with path halving and union by size.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    /// The representative of `x`'s group.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Joins the groups of `a` and `b`.
    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
    }
}

/// Groups of two or more of `0..n` connected by `pairs` (of two different paragraphs each),
/// each sorted, ordered by first member. The result depends only on the set of pairs.
pub fn clusters(n: usize, pairs: &[(u32, u32)]) -> Vec<Vec<u32>> {
    components(n, pairs).1
}

/// [`clusters`], with each paragraph's group index (`u32::MAX` for a paragraph in no pair).
///
/// The unions run in parallel (rayon) on a lock-free union-find that always links the larger
/// root under the smaller one, so each group's root is its smallest member whatever the order
/// the threads take the pairs in; a group's id is then given at its root while the
/// paragraphs are visited in order, and its members, filled in increasing order, are copied
/// into their vectors in parallel. Serial unions and a vector allocated at a time took 0.11 s
/// of a 2.9 s `--preset near` scan of 500 MB on 2 threads.
///
/// ```
/// let (of, groups) = syndup::cluster::components(5, &[(3, 1), (4, 1)]);
/// assert_eq!(groups, vec![vec![1, 3, 4]]);
/// assert_eq!(of, vec![u32::MAX, 0, u32::MAX, 0, 0]);
/// ```
pub fn components(n: usize, pairs: &[(u32, u32)]) -> (Vec<u32>, Vec<Vec<u32>>) {
    let root = roots(n, pairs);
    let mut size = vec![0u32; n];
    for &r in &root {
        size[r as usize] += 1;
    }
    // The sizes become each root's group id (u32::MAX: a paragraph alone), and where its
    // members start in one flat list.
    let mut starts: Vec<usize> = vec![0];
    for (x, s) in size.iter_mut().enumerate() {
        if root[x] as usize == x && *s >= 2 {
            let at = starts[starts.len() - 1];
            starts.push(at + *s as usize);
            *s = starts.len() as u32 - 2;
        } else {
            *s = u32::MAX;
        }
    }
    let id = size;
    let group_of: Vec<u32> = root.par_iter().map(|&r| id[r as usize]).collect();
    let mut next = starts.clone();
    let mut members = vec![0u32; starts[starts.len() - 1]];
    for (x, &g) in group_of.iter().enumerate() {
        if g != u32::MAX {
            members[next[g as usize]] = x as u32;
            next[g as usize] += 1;
        }
    }
    let groups = starts
        .par_windows(2)
        .map(|w| members[w[0]..w[1]].to_vec())
        .collect();
    (group_of, groups)
}

/// Each of `0..n`'s root (the smallest member of its group) after the unions of `pairs`.
fn roots(n: usize, pairs: &[(u32, u32)]) -> Vec<u32> {
    let parent: Vec<AtomicU32> = (0..n as u32).into_par_iter().map(AtomicU32::new).collect();
    pairs
        .par_iter()
        .with_min_len(4096)
        .for_each(|&(a, b)| unite(&parent, a, b));
    let mut root: Vec<u32> = parent.into_iter().map(AtomicU32::into_inner).collect();
    // A parent is never larger than its child, so in increasing order each parent's root is
    // final when its child is reached.
    for x in 0..n {
        root[x] = root[root[x] as usize];
    }
    root
}

/// The root of `x`'s group, halving the path on the way (each node passed is pointed at its
/// grandparent, which is still an ancestor of it: parents only ever move up their tree).
fn find(parent: &[AtomicU32], mut x: u32) -> u32 {
    loop {
        let p = parent[x as usize].load(Ordering::Relaxed);
        if p == x {
            return x;
        }
        let g = parent[p as usize].load(Ordering::Relaxed);
        if g != p {
            // Only a node that is not a root is changed here: a root's parent is itself.
            let _ = parent[x as usize].compare_exchange(p, g, Ordering::Relaxed, Ordering::Relaxed);
        }
        x = g;
    }
}

/// Joins the groups of `a` and `b`: the larger root is linked under the smaller, when it is
/// still a root (another thread may have linked it meanwhile: then both are found again).
fn unite(parent: &[AtomicU32], a: u32, b: u32) {
    let (mut a, mut b) = (a, b);
    loop {
        (a, b) = (find(parent, a), find(parent, b));
        if a == b {
            return;
        }
        let (low, high) = (a.min(b), a.max(b));
        let linked =
            parent[high as usize].compare_exchange(high, low, Ordering::AcqRel, Ordering::Acquire);
        if linked.is_ok() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_are_canonical_whatever_the_pair_order() {
        let a = clusters(10, &[(7, 9), (1, 3), (3, 8), (0, 5)]);
        let b = clusters(10, &[(3, 8), (0, 5), (1, 3), (7, 9)]);
        assert_eq!(a, b);
        assert_eq!(a, vec![vec![0, 5], vec![1, 3, 8], vec![7, 9]]);
        assert!(clusters(3, &[]).is_empty());
    }

    /// Unions taken by four threads at once give the groups that serial union-find gives,
    /// on a graph large enough to be split among them (400,000 pairs over 300,000 paragraphs,
    /// with long chains and a few large groups).
    #[test]
    fn parallel_unions_give_the_serial_groups() {
        let n = 300_000u32;
        let mut next = 0x9e37_79b9_7f4a_7c15u64;
        let mut draw = |m: u32| {
            next ^= next << 13;
            next ^= next >> 7;
            next ^= next << 17;
            (next % u64::from(m)) as u32
        };
        let mut pairs: Vec<(u32, u32)> = (0..400_000)
            .map(|i| {
                let a = draw(n);
                // Some pairs close together (chains), some anywhere, a few into a hub.
                let b = match i % 3 {
                    0 => (a + 1 + draw(3)) % n,
                    1 => draw(n),
                    _ => draw(50),
                };
                (a, b)
            })
            .filter(|&(a, b)| a != b)
            .collect();
        let mut uf = UnionFind::new(n as usize);
        for &(a, b) in &pairs {
            uf.union(a, b);
        }
        let mut want: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
        for x in 0..n {
            want.entry(uf.find(x)).or_default().push(x);
        }
        let want: Vec<Vec<u32>> = {
            let mut v: Vec<Vec<u32>> = want.into_values().filter(|g| g.len() > 1).collect();
            v.sort();
            v
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        for round in 0..3 {
            let (of, groups) = pool.install(|| components(n as usize, &pairs));
            assert_eq!(groups, want, "round {round}");
            for (id, g) in groups.iter().enumerate() {
                assert!(g.iter().all(|&m| of[m as usize] == id as u32));
            }
            pairs.reverse();
        }
    }

    proptest::proptest! {
        /// The groups are those a plain search of the graph finds, in the documented order,
        /// over random graphs (repeated pairs included).
        #[test]
        fn clusters_are_the_connected_components(
            n in 1usize..60,
            raw in proptest::collection::vec((0u32..60, 0u32..60), 0..80),
        ) {
            let pairs: Vec<(u32, u32)> = raw
                .iter()
                .map(|&(a, b)| (a % n as u32, b % n as u32))
                .filter(|&(a, b)| a != b)
                .collect();
            let mut adjacent = vec![Vec::new(); n];
            for &(a, b) in &pairs {
                adjacent[a as usize].push(b as usize);
                adjacent[b as usize].push(a as usize);
            }
            let mut seen = vec![false; n];
            let mut want: Vec<Vec<u32>> = Vec::new();
            for start in 0..n {
                if seen[start] || adjacent[start].is_empty() {
                    continue;
                }
                let (mut group, mut stack) = (Vec::new(), vec![start]);
                seen[start] = true;
                while let Some(x) = stack.pop() {
                    group.push(x as u32);
                    for &y in &adjacent[x] {
                        if !seen[y] {
                            seen[y] = true;
                            stack.push(y);
                        }
                    }
                }
                group.sort_unstable();
                want.push(group);
            }
            want.sort();
            proptest::prop_assert_eq!(clusters(n, &pairs), want);
        }
    }
}
