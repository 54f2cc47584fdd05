//! Nelder–Mead simplex minimisation. The CLV likelihoods have four (BG/NBD) or three
//! (Gamma-Gamma) parameters and are smooth; a derivative-free simplex in log-parameter space is
//! what the `lifetimes` reference effectively does and converges to the same optimum.

/// Result of a minimisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// Argmin.
    pub x: Vec<f64>,
    /// Function value there.
    pub value: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Whether the simplex shrank below the tolerance.
    pub converged: bool,
}

/// Minimises `f` from `x0` (standard coefficients: reflection 1, expansion 2, contraction ½,
/// shrink ½). Stops when the simplex's value spread is below `tol` relative to the value
/// (log-likelihoods are in the thousands; an absolute tolerance would never be met) and its
/// size below √tol.
pub fn nelder_mead(
    f: impl Fn(&[f64]) -> f64,
    x0: &[f64],
    step: f64,
    tol: f64,
    max_iter: usize,
) -> Minimum {
    let n = x0.len();
    let mut simplex: Vec<Vec<f64>> = vec![x0.to_vec()];
    for i in 0..n {
        let mut p = x0.to_vec();
        p[i] += step;
        simplex.push(p);
    }
    let eval = |p: &[f64]| {
        let v = f(p);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    };
    let mut values: Vec<f64> = simplex.iter().map(|p| eval(p)).collect();
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iter {
        iterations += 1;
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        simplex = order.iter().map(|&i| simplex[i].clone()).collect();
        values = order.iter().map(|&i| values[i]).collect();
        let spread = (values[n] - values[0]).abs();
        let size = simplex
            .iter()
            .skip(1)
            .map(|p| {
                p.iter()
                    .zip(&simplex[0])
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max);
        if spread < tol * (1.0 + values[0].abs()) && size < tol.sqrt() {
            converged = true;
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|p| p[j]).sum::<f64>() / n as f64)
            .collect();
        let towards = |coef: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&simplex[n])
                .map(|(c, w)| c + coef * (w - c))
                .collect()
        };
        let reflected = towards(-1.0);
        let fr = eval(&reflected);
        if fr < values[0] {
            let expanded = towards(-2.0);
            let fe = eval(&expanded);
            if fe < fr {
                simplex[n] = expanded;
                values[n] = fe;
            } else {
                simplex[n] = reflected;
                values[n] = fr;
            }
        } else if fr < values[n - 1] {
            simplex[n] = reflected;
            values[n] = fr;
        } else {
            let (contracted, fc) = if fr < values[n] {
                let c = towards(-0.5);
                let v = eval(&c);
                (c, v)
            } else {
                let c = towards(0.5);
                let v = eval(&c);
                (c, v)
            };
            if fc < values[n].min(fr) {
                simplex[n] = contracted;
                values[n] = fc;
            } else {
                let best = simplex[0].clone();
                for i in 1..=n {
                    simplex[i] = simplex[i]
                        .iter()
                        .zip(&best)
                        .map(|(p, b)| b + 0.5 * (p - b))
                        .collect();
                    values[i] = eval(&simplex[i]);
                }
            }
        }
    }
    let best = (0..=n)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    Minimum {
        x: simplex[best].clone(),
        value: values[best],
        iterations,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rosenbrock() {
        let m = nelder_mead(
            |p| (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2),
            &[-1.2, 1.0],
            0.5,
            1e-14,
            10_000,
        );
        assert!(m.converged);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5,
            "{m:?}"
        );
    }
}
