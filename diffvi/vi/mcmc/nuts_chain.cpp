// One NUTS chain (Stan's base_nuts transition, with the recursion unrolled into a stack of
// finished subtrees so the chain can suspend at every leapfrog step) and its warmup adaptation.
#include "diffvi/vi/mcmc/nuts_chain.h"

#include <cmath>
#include <limits>

#include "diffvi/tensor/errors.h"
#include "diffvi/vi/mcmc/adaptation.h"

namespace diffvi::vi::detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMaxDeltaH = 1000;

struct Point {
  std::vector<double> q, grad;
  double logp = -kInf;
};

// A finished subtree: its multinomial proposal, log total weight, momentum sum and the momenta
// at its two ends (beg: the end nearest the trajectory's start, end: the far end).
struct Subtree {
  Point propose;
  double log_weight = -kInf;
  std::vector<double> rho, p_beg, sharp_beg, p_end, sharp_end;
  int64_t size = 0;
};

double log_sum_exp(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  const double m = std::max(a, b);
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

std::vector<double> plus(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r(a.size());
  for (size_t i = 0; i < a.size(); ++i) r[i] = a[i] + b[i];
  return r;
}

// The generalised no-U-turn criterion for momenta sum rho between two ends.
bool no_u_turn(const std::vector<double>& sharp_minus, const std::vector<double>& sharp_plus,
               const std::vector<double>& rho) {
  return dot(sharp_plus, rho) > 0 && dot(sharp_minus, rho) > 0;
}

// Merges subtree b (built after a, further from the start) into a: uniform progressive
// sampling of the proposal and the three U-turn checks of Stan's build_tree. Returns whether the
// merged tree is still free of U-turns.
bool merge_subtrees(Subtree& a, Subtree&& b, Chain& c) {
  const double log_weight = log_sum_exp(a.log_weight, b.log_weight);
  if (b.log_weight > log_weight || c.uniform() < std::exp(b.log_weight - log_weight)) {
    a.propose = std::move(b.propose);
  }
  const std::vector<double> rho = plus(a.rho, b.rho);
  bool persist = no_u_turn(a.sharp_beg, b.sharp_end, rho);
  persist = persist && no_u_turn(a.sharp_beg, b.sharp_beg, plus(a.rho, b.p_beg));
  persist = persist && no_u_turn(a.sharp_end, b.sharp_end, plus(b.rho, a.p_end));
  a.log_weight = log_weight;
  a.rho = rho;
  a.p_end = std::move(b.p_end);
  a.sharp_end = std::move(b.sharp_end);
  a.size += b.size;
  return persist;
}

double kinetic(const std::vector<double>& p, const std::vector<double>& inv_metric) {
  double k = 0;
  for (size_t i = 0; i < p.size(); ++i) k += p[i] * p[i] * inv_metric[i];
  return 0.5 * k;
}

void sample_momentum(Chain& c, std::vector<double>& p) {
  for (int64_t i = 0; i < c.d; ++i) p[i] = c.normal() / std::sqrt(c.inv_metric[i]);
}

// First half of a leapfrog step: p_half and the new position (to be evaluated).
void leapfrog_begin(const Point& z, std::vector<double>& p, double eps,
                    const std::vector<double>& inv_metric, std::vector<double>& q_new) {
  for (size_t i = 0; i < p.size(); ++i) {
    p[i] += 0.5 * eps * z.grad[i];
    q_new[i] = z.q[i] + eps * inv_metric[i] * p[i];
  }
}

void leapfrog_end(const std::vector<double>& grad, std::vector<double>& p, double eps) {
  for (size_t i = 0; i < p.size(); ++i) p[i] += 0.5 * eps * grad[i];
}

// Suspends until the driver has evaluated `point`; then result_logp / result_grad hold it.
#define DIFFVI_NUTS_EVALUATE(chain, point) \
  do {                                     \
    (chain).request = (point);             \
    (chain).waiting = true;                \
    co_await std::suspend_always{};        \
  } while (0)

}  // namespace

ChainTask run_chain(Chain& c, const NutsOptions& o) {
  const int64_t d = c.d;
  const int64_t total_iters = o.num_warmup + o.num_samples;
  Point cur;
  cur.q.assign(d, 0.0);
  // --- a finite starting point ---
  for (int attempt = 0;; ++attempt) {
    if (attempt == 100) {
      throw ValueError(
          "nuts: no finite log density and gradient at 100 random starting points "
          "in [-init_radius, init_radius]^d");
    }
    for (auto& v : cur.q) v = (2 * c.uniform() - 1) * o.init_radius;
    DIFFVI_NUTS_EVALUATE(c, cur.q);
    bool finite = std::isfinite(c.result_logp);
    for (double g : c.result_grad) finite = finite && std::isfinite(g);
    if (finite) break;
  }
  cur.logp = c.result_logp;
  cur.grad = c.result_grad;
  c.inv_metric.assign(d, 1.0);
  double eps = o.init_step_size;
  std::vector<double> p(d), q_new(d);

  DualAveragingConfig da_config;
  da_config.target_accept = o.target_accept;
  DualAveraging da(da_config);
  WindowedAdaptation windows(o.num_warmup, d);
  bool retune = true;  // run the step-size heuristic before the next transition

  std::vector<Subtree> stack;
  for (int64_t iter = 0; iter < total_iters; ++iter) {
    if (retune) {
      // Stan's init_stepsize: from the current point, double or halve ε until one leapfrog
      // step's acceptance probability crosses 0.8; then restart dual averaging around it. Runs
      // at the start and after every metric update.
      retune = false;
      int direction = 0;
      while (true) {
        sample_momentum(c, p);
        const double h0 = -cur.logp + kinetic(p, c.inv_metric);
        leapfrog_begin(cur, p, eps, c.inv_metric, q_new);
        DIFFVI_NUTS_EVALUATE(c, q_new);
        leapfrog_end(c.result_grad, p, eps);
        double h = -c.result_logp + kinetic(p, c.inv_metric);
        if (std::isnan(h)) h = kInf;
        const double delta_h = h0 - h;
        if (direction == 0) {
          direction = delta_h > std::log(0.8) ? 1 : -1;
          continue;
        }
        if (direction == 1 && !(delta_h > std::log(0.8))) break;
        if (direction == -1 && !(delta_h < std::log(0.8))) break;
        eps = direction == 1 ? 2 * eps : 0.5 * eps;
        if (eps > 1e7)
          throw ValueError("nuts: step size diverged to > 1e7; is the posterior proper?");
        if (eps == 0)
          throw ValueError("nuts: step size underflowed to 0; no finite gradient nearby");
      }
      da.restart(eps);
    }
    // ===================== one NUTS transition =====================
    sample_momentum(c, p);
    const double h0 = -cur.logp + kinetic(p, c.inv_metric);
    std::vector<double> sharp(d);
    for (int64_t i = 0; i < d; ++i) sharp[i] = c.inv_metric[i] * p[i];
    // The trajectory so far: its two end states and momenta, and the momentum sum.
    Point end_bck = cur, end_fwd = cur;
    std::vector<double> p_bck_end = p, p_fwd_end = p;  // momenta at the far ends
    std::vector<double> sharp_bck = sharp, sharp_fwd = sharp;
    std::vector<double> rho = p;
    double log_weight = 0;
    Point sample = cur;
    int64_t n_leapfrog = 0, depth = 0;
    double sum_metro = 0;
    bool divergent = false;

    while (depth < o.max_tree_depth) {
      const bool forward = c.uniform() > 0.5;
      const double step = forward ? eps : -eps;
      Point& end = forward ? end_fwd : end_bck;
      std::vector<double>& p_end = forward ? p_fwd_end : p_bck_end;
      // Build a subtree of 2^depth leaves outward from `end`, merging equal-size neighbours
      // as they complete (the post-order of Stan's recursion).
      stack.clear();
      bool valid = true;
      std::vector<double> pm = p_end;
      for (int64_t leaf = 0; leaf < (int64_t{1} << depth); ++leaf) {
        leapfrog_begin(end, pm, step, c.inv_metric, q_new);
        DIFFVI_NUTS_EVALUATE(c, q_new);
        ++n_leapfrog;
        end.q = q_new;
        end.logp = c.result_logp;
        end.grad = c.result_grad;
        leapfrog_end(end.grad, pm, step);
        double h = -end.logp + kinetic(pm, c.inv_metric);
        if (std::isnan(h)) h = kInf;
        const double w = h0 - h;
        sum_metro += w > 0 ? 1 : std::exp(w);
        if (h - h0 > kMaxDeltaH) {
          divergent = true;
          valid = false;
          break;
        }
        Subtree t;
        t.propose = end;
        t.log_weight = w;
        t.rho = pm;
        t.p_beg = pm;
        t.p_end = pm;
        t.sharp_beg.resize(d);
        for (int64_t i = 0; i < d; ++i) t.sharp_beg[i] = c.inv_metric[i] * pm[i];
        t.sharp_end = t.sharp_beg;
        t.size = 1;
        stack.push_back(std::move(t));
        while (stack.size() >= 2 && stack[stack.size() - 1].size == stack[stack.size() - 2].size) {
          Subtree b = std::move(stack.back());
          stack.pop_back();
          if (!merge_subtrees(stack.back(), std::move(b), c)) {
            valid = false;
            break;
          }
        }
        if (!valid) break;
      }
      if (!valid) break;
      ++depth;
      Subtree& sub = stack.front();
      // Biased progressive sampling between the old trajectory and the new subtree.
      if (sub.log_weight > log_weight || c.uniform() < std::exp(sub.log_weight - log_weight)) {
        sample = sub.propose;
      }
      log_weight = log_sum_exp(log_weight, sub.log_weight);
      // U-turn checks across the whole trajectory and across the boundary between the old
      // trajectory (rho, its ends' momenta) and the new subtree, as in Stan's transition().
      std::vector<double> rho_new = plus(rho, sub.rho);
      bool persist;
      if (forward) {  // backward half = old trajectory, forward half = sub
        persist = no_u_turn(sharp_bck, sub.sharp_end, rho_new) &&
                  no_u_turn(sharp_bck, sub.sharp_beg, plus(rho, sub.p_beg)) &&
                  no_u_turn(sharp_fwd, sub.sharp_end, plus(sub.rho, p_fwd_end));
        sharp_fwd = sub.sharp_end;
      } else {  // backward half = sub, forward half = old trajectory
        persist = no_u_turn(sub.sharp_end, sharp_fwd, rho_new) &&
                  no_u_turn(sub.sharp_end, sharp_bck, plus(sub.rho, p_bck_end)) &&
                  no_u_turn(sub.sharp_beg, sharp_fwd, plus(rho, sub.p_beg));
        sharp_bck = sub.sharp_end;
      }
      p_end = pm;
      rho = std::move(rho_new);
      if (!persist) break;
    }
    const double accept_stat = n_leapfrog > 0 ? sum_metro / n_leapfrog : 0;
    cur = std::move(sample);
    // ===================== adaptation and bookkeeping =====================
    if (iter < o.num_warmup) {
      eps = da.update(accept_stat);
      // A closed window updates the metric; the step size is then re-tuned (before the next
      // transition, from the same point, as Stan does right after the update).
      if (o.adapt_mass_matrix && windows.update(cur.q, c.inv_metric)) {
        retune = iter < o.num_warmup - 1;
      }
      if (iter == o.num_warmup - 1) {
        eps = da.final_step_size();
        c.warmup_done = true;
      }
    } else {
      if (o.num_warmup == 0) c.warmup_done = true;
      c.draws.insert(c.draws.end(), cur.q.begin(), cur.q.end());
      c.lps.push_back(cur.logp);
      c.accept_sum += accept_stat;
      c.depth_sum += depth;
      c.divergences += divergent ? 1 : 0;
    }
  }
  c.step_size = eps;
}

#undef DIFFVI_NUTS_EVALUATE

}  // namespace diffvi::vi::detail
