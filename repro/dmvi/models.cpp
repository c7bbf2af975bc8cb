// The paper's models: mean (conjugate), mixture and hierarchical 1–5.
#include "models.h"

#include <cmath>
#include <map>
#include <random>

#include "diffvi/autograd/ops.h"
#include "exact.h"

namespace diffvi::repro::dmvi {

namespace {

const TensorOptions kF64(DType::f64);

struct Rng {
  std::mt19937_64 eng;
  explicit Rng(uint64_t seed) : eng(seed * 7919 + 17) {}
  double normal(double m = 0, double s = 1) { return std::normal_distribution<double>(m, s)(eng); }
  double half_normal() { return std::abs(normal()); }
};

Tensor row(const std::vector<double>& v, const Shape& shape) {
  Shape s{1};
  s.insert(s.end(), shape.begin(), shape.end());
  return from_vector(v, s, kF64);
}

// --- mean ---------------------------------------------------------------------------------------
Problem mean_problem(int64_t n, uint64_t seed) {
  constexpr int kD = 5;
  Rng rng(seed);
  std::vector<double> loc(kD), y(n * kD);
  for (double& l : loc) l = rng.normal();
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < kD; ++j) y[i * kD + j] = rng.normal(loc[j]);
  }
  Problem p;
  p.data = from_vector(y, {n, kD}, kF64);
  Tensor data = p.data;
  p.model = std::make_unique<vi::Model>([data](vi::Trace& t) {
    Tensor l = t.sample("loc", vi::Normal(0, 1), {kD});
    t.observe("y", vi::Normal(unsqueeze(l, 1), 1.0), t.data(data));
  });
  p.truth = loc;
  for (int j = 0; j < kD; ++j) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; ++i) s += y[i * kD + j], s2 += y[i * kD + j] * y[i * kD + j];
    p.exact_mean.push_back(s / (n + 1.0));
    p.exact_sd.push_back(1 / std::sqrt(n + 1.0));
    p.exact_log_evidence +=
        -0.5 * n * std::log(2 * M_PI) - 0.5 * std::log(1.0 + n) - 0.5 * (s2 - s * s / (1.0 + n));
  }
  return p;
}

// --- mixture: K = 3 components in 2-D, equal weights --------------------------------------------
Problem mixture_problem(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> loc(6), scale(6), y(n * 2);
  for (int k = 0; k < 3; ++k) {
    for (int j = 0; j < 2; ++j) loc[k * 2 + j] = rng.normal(k - 1.0);
  }
  for (double& s : scale) s = rng.half_normal();
  std::uniform_int_distribution<int> pick(0, 2);
  for (int64_t i = 0; i < n; ++i) {
    const int k = pick(rng.eng);
    for (int j = 0; j < 2; ++j) y[i * 2 + j] = rng.normal(loc[k * 2 + j], scale[k * 2 + j]);
  }
  Problem p;
  p.data = from_vector(y, {n, 2}, kF64);
  Tensor data = reshape(p.data, {n, 1, 2});
  Tensor prior_loc = from_vector(std::vector<double>{-1, -1, 0, 0, 1, 1}, {3, 2}, kF64);
  p.model = std::make_unique<vi::Model>([data, prior_loc](vi::Trace& t) {
    Tensor l = t.sample("loc", vi::Normal(t.data(prior_loc), 1.0), {3, 2});  // [S, 3, 2]
    Tensor s = t.sample("scale", vi::HalfNormal(1.0), {3, 2});
    Tensor lp = vi::Normal(unsqueeze(l, 1), unsqueeze(s, 1)).log_prob(t.data(data));
    Tensor per_point = sub(logsumexp(sum(lp, {-1}), {-1}), std::log(3.0));  // [S, N]
    t.factor("y", sum(per_point, {-1}));
  });
  std::map<std::string, Tensor> v{{"loc", row(loc, {3, 2})}, {"scale", row(scale, {3, 2})}};
  p.truth = p.model->unconstrain(v).to_vector<double>();
  return p;
}

// --- hierarchical 1–5 ---------------------------------------------------------------------------

HierSpec hier_spec(int which) {
  switch (which) {
    case 1:
      return {2, 5, false, false, false, true};
    case 2:
      return {2, 5, true, false, false, true};
    case 3:
      return {2, 5, true, true, false, true};
    case 4:
      return {2, 5, true, true, true, false};
    default:
      return {5, 2, true, true, true, false};
  }
}

Problem hierarchical_problem(int which, int64_t n, uint64_t seed) {
  const HierSpec h = hier_spec(which);
  const int G = h.groups, J = h.per_group, K = G * J;
  Rng rng(seed);
  // Truth from the prior, in the order the model visits its sites.
  std::map<std::string, Tensor> v;
  double sg = 1, mg = 0, sb = 1, sy = 1;
  if (h.sigma_gamma) sg = rng.half_normal(), v["sigma_gamma"] = row({sg}, {1});
  if (h.mu_gamma) mg = rng.normal(), v["mu_gamma"] = row({mg}, {1});
  std::vector<double> gamma(G), beta(K), y(n * K);
  for (double& g : gamma) g = rng.normal(mg, sg);
  v["gamma"] = row(gamma, {G});
  if (h.sigma_beta) sb = rng.half_normal(), v["sigma_beta"] = row({sb}, {1});
  for (int i = 0; i < G; ++i) {
    for (int j = 0; j < J; ++j) beta[i * J + j] = rng.normal(gamma[i], sb);
  }
  v["beta"] = row(beta, {G, J});
  if (h.sigma_y) sy = rng.half_normal(), v["sigma"] = row({sy}, {1});
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < K; ++k) y[i * K + k] = rng.normal(beta[k], sy);
  }
  Problem p;
  p.data = from_vector(y, {n, K}, kF64);
  Tensor data = p.data;
  p.model = std::make_unique<vi::Model>([h, G, J, K, data](vi::Trace& t) {
    const int64_t S = t.num_particles();
    Tensor sg_t, mg_t, sb_t, sy_t;
    if (h.sigma_gamma) sg_t = t.sample("sigma_gamma", vi::HalfNormal(1.0));  // [S, 1]
    if (h.mu_gamma) mg_t = t.sample("mu_gamma", vi::Normal(0, 1));
    Tensor gamma_t =
        h.mu_gamma
            ? t.sample(
                  "gamma",
                  vi::Normal(mg_t, h.sigma_gamma ? sg_t : full({1}, 1.0, TensorOptions(t.dtype()))),
                  {G})
            : t.sample("gamma", vi::Normal(0, 1), {G});  // [S, G]
    if (h.sigma_beta) sb_t = t.sample("sigma_beta", vi::HalfNormal(1.0));
    Tensor beta_scale =
        h.sigma_beta ? unsqueeze(sb_t, 2) : full({1}, 1.0, TensorOptions(t.dtype()));
    Tensor beta = t.sample("beta", vi::Normal(unsqueeze(gamma_t, 2), beta_scale), {G, J});
    Tensor y_scale = full({1}, 1.0, TensorOptions(t.dtype()));
    if (h.sigma_y) sy_t = t.sample("sigma", vi::HalfNormal(1.0)), y_scale = unsqueeze(sy_t, 1);
    Tensor mean = reshape(beta, {S, 1, K});
    t.observe("y", vi::Normal(mean, y_scale), t.data(data));
  });
  p.truth = p.model->unconstrain(v).to_vector<double>();
  // Gaussian given the scales: the exact posterior by quadrature is the gold standard here.
  ExactPosterior exact = hierarchical_exact(h, y, n);
  p.exact_mean = std::move(exact.mean);
  p.exact_sd = std::move(exact.sd);
  p.exact_log_evidence = exact.log_evidence;
  return p;
}

}  // namespace

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names{"mean",          "mixture",       "hierarchical1",
                                              "hierarchical2", "hierarchical3", "hierarchical4",
                                              "hierarchical5"};
  return names;
}

Problem make_problem(const std::string& name, int64_t n, uint64_t seed) {
  Problem p;
  if (name == "mean") {
    p = mean_problem(n, seed);
  } else if (name == "mixture") {
    p = mixture_problem(n, seed);
  } else if (name.rfind("hierarchical", 0) == 0 && name.size() == 13 && name[12] >= '1' &&
             name[12] <= '5') {
    p = hierarchical_problem(name[12] - '0', n, seed);
  } else {
    throw ValueError("unknown model '" + name + "' (mean, mixture, hierarchical1..5)");
  }
  p.name = name;
  p.n = n;
  return p;
}

}  // namespace diffvi::repro::dmvi
