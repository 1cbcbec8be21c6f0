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

/// Groups of two or more of `0..n` connected by `pairs`, each sorted, ordered by first member.
///
/// The sorts run in parallel (rayon, in the caller's pool); their keys are distinct, so the
/// result does not depend on the thread count.
pub fn clusters(n: usize, pairs: &[(u32, u32)]) -> Vec<Vec<u32>> {
    use rayon::prelude::*;
    let mut uf = UnionFind::new(n);
    for &(a, b) in pairs {
        uf.union(a, b);
    }
    let mut members: Vec<u32> = pairs.par_iter().flat_map_iter(|&(a, b)| [a, b]).collect();
    members.par_sort_unstable();
    members.dedup();
    let mut keyed: Vec<(u32, u32)> = members.iter().map(|&m| (uf.find(m), m)).collect();
    drop(members);
    keyed.par_sort_unstable();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut last = None;
    for (root, m) in keyed {
        if last != Some(root) {
            groups.push(Vec::new());
            last = Some(root);
        }
        if let Some(g) = groups.last_mut() {
            g.push(m);
        }
    }
    groups.par_sort_unstable_by_key(|g| g[0]);
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
}
