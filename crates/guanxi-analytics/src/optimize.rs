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

/// Nelder–Mead from `x0`, restarted with a small fresh simplex around the optimum until a
/// restart stops improving (at most three): a simplex can stall on a ridge, a new one confirms.
pub fn simplex_with_restarts(f: impl Fn(&[f64]) -> f64, x0: &[f64]) -> Minimum {
    let mut best = nelder_mead(&f, x0, 1.0, 1e-12, 20_000);
    for _ in 0..3 {
        let again = nelder_mead(&f, &best.x, 0.1, 1e-12, 20_000);
        let improved = again.value < best.value - 1e-9;
        best = again;
        if !improved {
            break;
        }
    }
    best
}

/// BFGS with a backtracking (Armijo) line search, for smooth objectives with an analytic
/// gradient: a few dozen evaluations where Nelder–Mead needs hundreds. `fg` returns the value
/// and writes the gradient. Converges when the gradient's largest component is below
/// `gtol · (1 + |f|)`: a likelihood summed over thousands of customers cannot have a gradient
/// smaller than its rounding noise, which grows with its size.
/// No step moves a coordinate by more than 1 (the objectives here are in log-parameters).
#[allow(clippy::needless_range_loop)] // the inverse-Hessian update reads best with indices
pub fn bfgs(
    mut fg: impl FnMut(&[f64], &mut [f64]) -> f64,
    x0: &[f64],
    gtol: f64,
    max_iter: usize,
) -> Minimum {
    let max_step = 1.0;
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut f = fg(&x, &mut g);
    let mut h: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    let mut g_new = vec![0.0; n];
    // Value ten iterations ago: on a flat ridge (a maximum at infinity) the gradient never
    // vanishes in relative terms but the value stops changing; stop there (not converged, so
    // the caller decides what a ridge means for its model).
    let mut history: std::collections::VecDeque<f64> = std::collections::VecDeque::new();
    for it in 1..=max_iter {
        if !f.is_finite() {
            break;
        }
        history.push_back(f);
        if history.len() > 10 {
            let old = history.pop_front().unwrap_or(f);
            if (old - f).abs() <= 1e-10 * (1.0 + f.abs()) {
                return Minimum {
                    x,
                    value: f,
                    iterations: it,
                    converged: false,
                };
            }
        }
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < gtol * (1.0 + f.abs()) {
            return Minimum {
                x,
                value: f,
                iterations: it,
                converged: true,
            };
        }
        let mut p: Vec<f64> = (0..n)
            .map(|i| -(0..n).map(|j| h[i][j] * g[j]).sum::<f64>())
            .collect();
        let mut slope: f64 = p.iter().zip(&g).map(|(a, b)| a * b).sum();
        if slope >= 0.0 {
            // Not a descent direction: reset to steepest descent.
            for i in 0..n {
                h[i].iter_mut()
                    .enumerate()
                    .for_each(|(j, v)| *v = if i == j { 1.0 } else { 0.0 });
            }
            p = g.iter().map(|v| -v).collect();
            slope = -g.iter().map(|v| v * v).sum::<f64>();
        }
        // Cap the step: in log-parameter space one unit is a factor of e. Unbounded first steps
        // can land where the likelihood is pure rounding noise (lnΓ of 1e67 minus lnΓ of 1e67).
        let longest = p.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut step = if longest > max_step {
            max_step / longest
        } else {
            1.0
        };
        let mut x_new = vec![0.0; n];
        let mut f_new;
        loop {
            for i in 0..n {
                x_new[i] = x[i] + step * p[i];
            }
            f_new = fg(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= f + 1e-4 * step * slope {
                break;
            }
            step *= 0.5;
            if step < 1e-12 {
                return Minimum {
                    x,
                    value: f,
                    iterations: it,
                    converged: false,
                };
            }
        }
        let s: Vec<f64> = (0..n).map(|i| x_new[i] - x[i]).collect();
        let y: Vec<f64> = (0..n).map(|i| g_new[i] - g[i]).collect();
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        if sy > 1e-12 {
            let hy: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| h[i][j] * y[j]).sum())
                .collect();
            let yhy: f64 = y.iter().zip(&hy).map(|(a, b)| a * b).sum();
            for i in 0..n {
                for j in 0..n {
                    h[i][j] +=
                        (sy + yhy) * s[i] * s[j] / (sy * sy) - (hy[i] * s[j] + s[i] * hy[j]) / sy;
                }
            }
        }
        x = x_new.clone();
        f = f_new;
        g.copy_from_slice(&g_new);
    }
    Minimum {
        x,
        value: f,
        iterations: max_iter,
        converged: false,
    }
}

#[cfg(test)]
mod bfgs_tests {
    use super::*;

    #[test]
    fn rosenbrock_with_gradient() {
        let m = bfgs(
            |p, g| {
                g[0] = -2.0 * (1.0 - p[0]) - 400.0 * p[0] * (p[1] - p[0] * p[0]);
                g[1] = 200.0 * (p[1] - p[0] * p[0]);
                (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2)
            },
            &[-1.2, 1.0],
            1e-9,
            1000,
        );
        assert!(m.converged, "{m:?}");
        assert!((m.x[0] - 1.0).abs() < 1e-6 && (m.x[1] - 1.0).abs() < 1e-6);
    }
}
