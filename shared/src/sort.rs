//! One stable sort for every list the page sorts, so its wasm holds one copy of the sort.
//!
//! `slice::sort_by` is compiled anew for every element type and comparison (a few KB of wasm
//! each); [`sort_by`] sorts positions with one comparison behind a `dyn`, then moves the items
//! into that order: the same result as `items.sort_by(compare)`.

use std::cmp::Ordering;

/// `items.sort_by(compare)`: stable, the same order.
pub fn sort_by<T>(items: &mut Vec<T>, compare: impl Fn(&T, &T) -> Ordering) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    sort_positions(&mut order, &|a, b| compare(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// The one instance of the sort.
fn sort_positions(order: &mut [usize], compare: &dyn Fn(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| compare(a, b));
}

#[cfg(test)]
mod tests {
    use super::sort_by;

    #[test]
    fn sorts_as_the_standard_stable_sort_does() {
        let mut seed = 7u64;
        let items: Vec<(u8, u32)> = (0..500u32)
            .map(|i| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((seed >> 60) as u8, i)
            })
            .collect();
        let mut ours = items.clone();
        sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
        let mut std = items;
        std.sort_by_key(|a| a.0);
        assert_eq!(ours, std);
        let mut empty: Vec<u8> = vec![];
        sort_by(&mut empty, u8::cmp);
        assert!(empty.is_empty());
    }
}
