//! Operations on sorted postings lists (ascending series references).

use super::SeriesRef;

/// The series present in every list. An empty input gives an empty result.
pub fn intersect(lists: &[Vec<SeriesRef>]) -> Vec<SeriesRef> {
    let mut sorted: Vec<&Vec<SeriesRef>> = lists.iter().collect();
    sorted.sort_by_key(|l| l.len());
    let Some((first, rest)) = sorted.split_first() else {
        return Vec::new();
    };
    let mut out: Vec<SeriesRef> = (*first).clone();
    for l in rest {
        let mut j = 0;
        out.retain(|&x| {
            // Galloping would be faster for skewed sizes; a linear merge is enough here.
            while j < l.len() && l.get(j).is_some_and(|&y| y < x) {
                j += 1;
            }
            l.get(j) == Some(&x)
        });
        if out.is_empty() {
            break;
        }
    }
    out
}

/// The series present in any list, sorted and deduplicated.
pub fn merge(lists: &[Vec<SeriesRef>]) -> Vec<SeriesRef> {
    let mut out: Vec<SeriesRef> = match lists {
        [] => return Vec::new(),
        [one] => return one.clone(),
        _ => lists.iter().flatten().copied().collect(),
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// The series of `a` that are not in `b`.
pub fn without(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let mut j = 0;
    a.iter()
        .copied()
        .filter(|&x| {
            while j < b.len() && b.get(j).is_some_and(|&y| y < x) {
                j += 1;
            }
            b.get(j) != Some(&x)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let a = vec![1, 3, 5, 7, 9];
        let b = vec![3, 4, 5, 9, 10];
        let c = vec![5, 9, 11];
        assert_eq!(intersect(&[a.clone(), b.clone(), c.clone()]), vec![5, 9]);
        assert_eq!(intersect(std::slice::from_ref(&a)), a);
        assert_eq!(intersect(&[a.clone(), vec![]]), Vec::<u32>::new());
        assert!(intersect(&[]).is_empty());
        assert_eq!(
            merge(&[a.clone(), b.clone(), c]),
            vec![1, 3, 4, 5, 7, 9, 10, 11]
        );
        assert_eq!(without(&a, &b), vec![1, 7]);
        assert_eq!(without(&a, &[]), a);
    }
}
