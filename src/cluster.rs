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
/// each sorted, ordered by first member.
///
/// Linear after the unions, without sorting: the paragraphs that appear in a pair are visited
/// in increasing order, so a group's id is given at its first (smallest) member, and each
/// group's list fills in increasing order. The result depends only on the set of pairs.
pub fn clusters(n: usize, pairs: &[(u32, u32)]) -> Vec<Vec<u32>> {
    let mut uf = UnionFind::new(n);
    let mut paired = vec![false; n];
    for &(a, b) in pairs {
        uf.union(a, b);
        paired[a as usize] = true;
        paired[b as usize] = true;
    }
    // The sizes are no longer needed: the array becomes each root's group id (u32::MAX: none
    // yet), and a group's size is counted again at its root as its members are met.
    let mut id_of_root = std::mem::take(&mut uf.size);
    id_of_root.fill(u32::MAX);
    let mut sizes: Vec<u32> = Vec::new();
    for m in (0..n as u32).filter(|&m| paired[m as usize]) {
        let root = uf.find(m) as usize;
        if id_of_root[root] == u32::MAX {
            id_of_root[root] = sizes.len() as u32;
            sizes.push(0);
        }
        sizes[id_of_root[root] as usize] += 1;
    }
    let mut groups: Vec<Vec<u32>> = sizes
        .iter()
        .map(|&s| Vec::with_capacity(s as usize))
        .collect();
    for m in (0..n as u32).filter(|&m| paired[m as usize]) {
        let root = uf.find(m) as usize;
        groups[id_of_root[root] as usize].push(m);
    }
    groups
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
