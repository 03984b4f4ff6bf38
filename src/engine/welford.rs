//! Online sample variance (Welford's algorithm) with removal, for values
//! that change: a minute's count grows when a later file adds to it, which
//! is a removal of the old count and an insertion of the new one.

use serde::{Deserialize, Serialize};

/// Running count, mean and sum of squared deviations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value.
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Removes a value that was added before.
    pub fn remove(&mut self, x: f64) {
        match self.n {
            0 => {}
            1 => *self = Self::default(),
            n => {
                let rest = (n - 1) as f64;
                let mean = (self.mean * n as f64 - x) / rest;
                self.m2 -= (x - self.mean) * (x - mean);
                self.mean = mean;
                self.n -= 1;
                // rounding can take a sum of squares a hair below zero
                self.m2 = self.m2.max(0.0);
            }
        }
    }

    /// Replaces a value added before by another.
    pub fn replace(&mut self, old: f64, new: f64) {
        self.remove(old);
        self.add(new);
    }

    /// How many values it holds.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// True when it holds no value.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The sample variance (n - 1); `None` below two values.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| self.m2 / (self.n - 1) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(xs: &[f64]) -> f64 {
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len() - 1) as f64
    }

    #[test]
    fn adds_and_removes_like_recomputing() {
        let mut w = Welford::new();
        for x in [1.0, 2.0, 3.0, 4.0] {
            w.add(x);
        }
        assert!((w.variance().unwrap() - 5.0 / 3.0).abs() < 1e-12);
        w.replace(2.0, 10.0);
        assert!((w.variance().unwrap() - exact(&[1.0, 10.0, 3.0, 4.0])).abs() < 1e-12);
        w.remove(10.0);
        w.remove(1.0);
        assert!((w.variance().unwrap() - 0.5).abs() < 1e-12);
        w.remove(3.0);
        assert_eq!((w.len(), w.variance()), (1, None));
        w.remove(4.0);
        assert!(w.is_empty());
    }
}
