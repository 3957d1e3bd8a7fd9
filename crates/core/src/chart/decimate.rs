//! Fewer points for a line than there are readings, without losing what matters: a year of
//! 15-minute readings is 35,000 points for under a thousand pixels.

/// The indices of the samples to draw, in time order: the first and the last, and in each of
/// `columns` equal columns of x (from the first sample's x to the last's) the lowest and the
/// highest value. A spike of a single sample survives, and so does the bottom of an exhaustion.
///
/// At most `2 * columns + 2` indices come back; with fewer samples than that, all of them.
/// `xs` must be sorted; `ys` has the same length.
pub fn decimate(xs: &[f64], ys: &[f64], columns: usize) -> Vec<usize> {
    let n = xs.len().min(ys.len());
    let columns = columns.max(1);
    if n <= 2 * columns + 2 {
        return (0..n).collect();
    }
    let x0 = xs[0];
    let width = (xs[n - 1] - x0) / columns as f64;
    let column_of = |x: f64| -> usize {
        if width > 0.0 && width.is_finite() {
            (((x - x0) / width).max(0.0) as usize).min(columns - 1)
        } else {
            0
        }
    };
    let mut kept = Vec::with_capacity(2 * columns + 2);
    kept.push(0);
    fn keep(kept: &mut Vec<usize>, low: usize, high: usize) {
        let (a, b) = (low.min(high), low.max(high));
        if kept.last() != Some(&a) {
            kept.push(a);
        }
        if b != a {
            kept.push(b);
        }
    }
    let (mut column, mut low, mut high) = (column_of(xs[0]), 0, 0);
    for i in 1..n {
        let c = column_of(xs[i]);
        if c != column {
            keep(&mut kept, low, high);
            (column, low, high) = (c, i, i);
        } else {
            if ys[i] < ys[low] {
                low = i;
            }
            if ys[i] > ys[high] {
                high = i;
            }
        }
    }
    keep(&mut kept, low, high);
    if kept.last() != Some(&(n - 1)) {
        kept.push(n - 1);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(x: f64, x0: f64, x1: f64, columns: usize) -> usize {
        let width = (x1 - x0) / columns as f64;
        (((x - x0) / width) as usize).min(columns - 1)
    }

    #[test]
    fn keeps_the_lowest_and_highest_of_every_column_and_both_ends() {
        let mut rng = fastrand::Rng::with_seed(7);
        let n = 35_040;
        let xs: Vec<f64> = (0..n).map(|i| i as f64 * 900.0).collect();
        let ys: Vec<f64> = (0..n).map(|_| rng.f64() * 100.0).collect();
        let columns = 431;
        let kept = decimate(&xs, &ys, columns);
        assert!(kept.len() <= 2 * columns + 2, "{} kept", kept.len());
        assert_eq!(kept.first(), Some(&0));
        assert_eq!(kept.last(), Some(&(n - 1)));
        assert!(
            kept.windows(2).all(|w| w[0] < w[1]),
            "in time order, once each"
        );
        let (x0, x1) = (xs[0], xs[n - 1]);
        let mut lows = vec![f64::MAX; columns];
        let mut highs = vec![f64::MIN; columns];
        for i in 0..n {
            let c = column(xs[i], x0, x1, columns);
            lows[c] = lows[c].min(ys[i]);
            highs[c] = highs[c].max(ys[i]);
        }
        for c in 0..columns {
            let in_column: Vec<f64> = kept
                .iter()
                .filter(|&&i| column(xs[i], x0, x1, columns) == c)
                .map(|&i| ys[i])
                .collect();
            assert!(in_column.contains(&lows[c]), "column {c} lost its minimum");
            assert!(in_column.contains(&highs[c]), "column {c} lost its maximum");
        }
    }

    #[test]
    fn a_single_sample_spike_and_dip_survive() {
        let n = 10_000;
        let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let mut ys = vec![50.0; n];
        ys[4_321] = 1_000.0;
        ys[7_777] = 0.0;
        let kept = decimate(&xs, &ys, 100);
        assert!(kept.contains(&4_321), "the spike is kept");
        assert!(kept.contains(&7_777), "the exhaustion is kept");
        assert!(kept.len() <= 202);
    }

    #[test]
    fn few_samples_are_all_kept() {
        let xs = [0.0, 1.0, 2.0];
        let ys = [3.0, 2.0, 1.0];
        assert_eq!(decimate(&xs, &ys, 10), vec![0, 1, 2]);
        assert!(decimate(&[], &[], 10).is_empty());
        let same_time = vec![5.0; 100];
        let ys: Vec<f64> = (0..100).map(f64::from).collect();
        assert_eq!(decimate(&same_time, &ys, 10), vec![0, 99]);
    }
}
