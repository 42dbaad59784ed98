//! A Fleet section made of each source's own list, shared with the source's report
//! rather than copied: publishing a Fleet after one source's poll costs a
//! reference count for every other source's alerts and groups, not a clone of
//! each item (100,000 alerts would otherwise be copied on every poll of any source).

use std::ops::Index;
use std::sync::Arc;

/// The concatenation of shared lists, read as one list.
#[derive(Debug, Clone, PartialEq)]
pub struct Parts<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Default for Parts<T> {
    fn default() -> Self {
        Parts { chunks: Vec::new(), len: 0 }
    }
}

impl<T> Parts<T> {
    /// Append a shared list (a reference, not a copy).
    pub fn extend_shared(&mut self, chunk: &Arc<Vec<T>>) {
        if !chunk.is_empty() {
            self.len += chunk.len();
            self.chunks.push(chunk.clone());
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, mut i: usize) -> Option<&T> {
        for c in &self.chunks {
            if i < c.len() {
                return c.get(i);
            }
            i -= c.len();
        }
        None
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + Clone {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    pub fn first(&self) -> Option<&T> {
        self.get(0)
    }

    /// The shared lists themselves (for a reader that wants to know what changed).
    pub fn chunks(&self) -> &[Arc<Vec<T>>] {
        &self.chunks
    }
}

impl<T: Clone> Parts<T> {
    /// Add one item (tests and hand-built fleets); copies the last list only if shared.
    pub fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(last) => Arc::make_mut(last).push(item),
            None => self.chunks.push(Arc::new(vec![item])),
        }
        self.len += 1;
    }

    /// Change one item (tests, and fleets filtered by hand); copies its list only if shared.
    pub fn get_mut(&mut self, mut i: usize) -> Option<&mut T> {
        for c in &mut self.chunks {
            if i < c.len() {
                return Arc::make_mut(c).get_mut(i);
            }
            i -= c.len();
        }
        None
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.chunks.iter_mut().flat_map(|c| Arc::make_mut(c).iter_mut())
    }

    pub fn to_vec(&self) -> Vec<T> {
        self.iter().cloned().collect()
    }
}

impl<T> Index<usize> for Parts<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        match self.get(i) {
            Some(item) => item,
            None => panic!("index {i} out of range for a list of {}", self.len),
        }
    }
}

impl<T: Clone> std::ops::IndexMut<usize> for Parts<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        let len = self.len;
        match self.get_mut(i) {
            Some(item) => item,
            None => panic!("index {i} out of range for a list of {len}"),
        }
    }
}

impl<T> From<Vec<T>> for Parts<T> {
    fn from(v: Vec<T>) -> Self {
        let mut p = Parts::default();
        p.extend_shared(&Arc::new(v));
        p
    }
}

impl<T> FromIterator<T> for Parts<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Parts::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<'a, T> IntoIterator for &'a Parts<T> {
    type Item = &'a T;
    type IntoIter = Box<dyn Iterator<Item = &'a T> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<T: serde::Serialize> serde::Serialize for Parts<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_one_list_across_its_parts_and_shares_them() {
        let a = Arc::new(vec![1, 2, 3]);
        let b = Arc::new(vec![4]);
        let mut p = Parts::default();
        p.extend_shared(&a);
        p.extend_shared(&Arc::new(Vec::new()));
        p.extend_shared(&b);
        assert_eq!(p.len(), 4);
        assert_eq!(p.iter().copied().collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        assert_eq!((p[0], p[2], p[3]), (1, 3, 4));
        assert_eq!(p.get(4), None);
        assert_eq!(p.iter().next_back(), Some(&4));
        // Shared, not copied: the report's list and the fleet's are one allocation.
        assert!(Arc::ptr_eq(&p.chunks()[0], &a));
        assert_eq!(Arc::strong_count(&a), 2);
    }

    #[test]
    fn pushing_copies_a_shared_part_and_leaves_the_original_alone() {
        let a = Arc::new(vec![1]);
        let mut p = Parts::default();
        p.extend_shared(&a);
        p.push(2);
        assert_eq!(p.to_vec(), vec![1, 2]);
        assert_eq!(*a, vec![1]);
        p[0] = 5;
        for x in p.iter_mut() {
            *x += 1;
        }
        assert_eq!((p.to_vec(), a.to_vec()), (vec![6, 3], vec![1]));
        let q: Parts<i32> = (0..3).collect();
        assert_eq!(q.len(), 3);
        assert_eq!(serde_json::to_string(&q).expect("json"), "[0,1,2]");
    }
}
