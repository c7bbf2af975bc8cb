// Special functions the distributions need that the core op set lacks: lgamma, digamma and
// trigamma, on the host (double) and as differentiable elementwise ops (CPU tensors, f32/f64).
// d lgamma = digamma, d digamma = trigamma; trigamma itself carries no gradient (third
// derivatives are never needed by VI objectives).
#pragma once

#include "diffvi/tensor/tensor.h"

namespace diffvi::vi {

// Host versions (x > 0 for digamma / trigamma; lgamma is log|Γ(x)|).
double lgamma_host(double x);
double digamma_host(double x);
double trigamma_host(double x);

// Elementwise, differentiable (see above).
Tensor lgamma(const Tensor& x);
Tensor digamma(const Tensor& x);
Tensor trigamma(const Tensor& x);
// log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), broadcasting.
Tensor log_beta(const Tensor& a, const Tensor& b);

}  // namespace diffvi::vi
