// MAF, IAF and RealNVP.
#include "diffvi/vi/guides/flows.h"

#include <cmath>

#include "diffvi/autograd/ops.h"
#include "diffvi/nn/init.h"
#include "diffvi/nn/linear.h"
#include "diffvi/nn/sequential.h"

namespace diffvi::vi {

namespace {
constexpr double kLog2Pi = 1.8378770664093454836;

Tensor std_normal_log_prob(const Tensor& u) {
  return sub(mul(sum(square(u), {-1}), -0.5), 0.5 * u.size(-1) * kLog2Pi);
}
}  // namespace

// --- MAF / IAF -----------------------------------------------------------------------------------
AutoregressiveFlow::AutoregressiveFlow(int64_t dim, bool iaf, const FlowOptions& o, Generator& gen)
    : Guide(iaf ? "IAF" : "MAF", dim, o.dtype), iaf_(iaf) {
  if (o.num_layers <= 0) throw ValueError(type_name() + ": num_layers must be positive");
  for (int64_t l = 0; l < o.num_layers; ++l) {
    made_.push_back(
        register_module("made" + std::to_string(l),
                        std::make_shared<Made>(dim, o.hidden, o.activation, gen, o.dtype)));
  }
  std::vector<int64_t> rev(dim);
  for (int64_t i = 0; i < dim; ++i) rev[i] = dim - 1 - i;
  reverse_ = from_vector(rev, {dim});
}

std::pair<Tensor, Tensor> AutoregressiveFlow::layer_forward(size_t l, const Tensor& u) {
  Made& made = *made_[l];
  if (iaf_) {  // one pass, conditioned on u
    auto [shift, log_scale] = made.shift_and_log_scale(u);
    return {add(mul(u, exp(log_scale)), shift), sum(log_scale, {-1})};
  }
  // MAF: x = u exp(α(x)) + μ(x) is a fixed point reached after d passes (coordinate i is exact
  // once x_<i is), and the last pass's α is α(x).
  Tensor x = u, log_scale;
  for (int64_t i = 0; i < dim(); ++i) {
    auto [shift, ls] = made.shift_and_log_scale(x);
    x = add(mul(u, exp(ls)), shift);
    log_scale = ls;
  }
  return {x, sum(log_scale, {-1})};
}

std::pair<Tensor, Tensor> AutoregressiveFlow::layer_inverse(size_t l, const Tensor& x) {
  Made& made = *made_[l];
  if (!iaf_) {  // one pass, conditioned on x
    auto [shift, log_scale] = made.shift_and_log_scale(x);
    return {mul(sub(x, shift), exp(neg(log_scale))), sum(log_scale, {-1})};
  }
  Tensor u = x, log_scale;
  for (int64_t i = 0; i < dim(); ++i) {
    auto [shift, ls] = made.shift_and_log_scale(u);
    u = mul(sub(x, shift), exp(neg(ls)));
    log_scale = ls;
  }
  return {u, sum(log_scale, {-1})};
}

std::pair<Tensor, Tensor> AutoregressiveFlow::rsample_and_log_prob(int64_t n, Generator& gen) {
  Tensor u = randn({n, dim()}, gen, TensorOptions(dtype()));
  Tensor lq = std_normal_log_prob(u);
  Tensor x = u;
  for (size_t l = 0; l < made_.size(); ++l) {
    if (l > 0) x = index_select(x, 1, reverse_);
    auto [y, log_det] = layer_forward(l, x);
    x = y;
    lq = sub(lq, log_det);
  }
  return {x, lq};
}

Tensor AutoregressiveFlow::log_prob(const Tensor& z) {
  Tensor x = z.dtype() == dtype() ? z : diffvi::to(z, dtype());
  Tensor log_det_total;
  for (size_t l = made_.size(); l-- > 0;) {
    auto [u, log_det] = layer_inverse(l, x);
    log_det_total = log_det_total.defined() ? add(log_det_total, log_det) : log_det;
    x = l > 0 ? index_select(u, 1, reverse_) : u;
  }
  return sub(std_normal_log_prob(x), log_det_total);
}

// --- RealNVP -------------------------------------------------------------------------------------
RealNvp::RealNvp(int64_t dim, const FlowOptions& o, Generator& gen)
    : Guide("RealNVP", dim, o.dtype) {
  if (o.num_layers <= 0) throw ValueError("RealNVP: num_layers must be positive");
  for (int64_t l = 0; l < o.num_layers; ++l) {
    auto net = std::make_shared<nn::Sequential>();
    int64_t in = dim;
    for (int64_t h : o.hidden) {
      net->push_back(std::make_shared<nn::Linear>(
          in, h, nn::LinearOptions().set_activation(o.activation).set_dtype(o.dtype), gen));
      in = h;
    }
    auto out =
        std::make_shared<nn::Linear>(in, 2 * dim, nn::LinearOptions().set_dtype(o.dtype), gen);
    nn::init::zeros_(out->weight);
    nn::init::zeros_(out->bias);
    net->push_back(out);
    nets_.push_back(register_module("coupling" + std::to_string(l), net));
    // Alternate halves: even layers keep the first ceil(d/2) coordinates, odd layers the rest.
    // With d = 1 the single coordinate is transformed by every layer from a constant input.
    std::vector<double> m(dim);
    for (int64_t i = 0; i < dim; ++i) {
      const bool first_half = i < (dim + 1) / 2;
      m[i] = dim == 1 ? 0.0 : ((l % 2 == 0) == first_half ? 1.0 : 0.0);
    }
    masks_.push_back(
        register_buffer("mask" + std::to_string(l), from_vector(m, {dim}, TensorOptions(o.dtype))));
  }
}

std::pair<Tensor, Tensor> RealNvp::conditioner(size_t l, const Tensor& x_masked) {
  Tensor out = (*nets_[l])(x_masked);
  Tensor free = rsub(1.0, masks_[l]);
  // The log-scale goes through tanh to keep early steps stable; both act on free coordinates.
  Tensor log_scale = mul(tanh(narrow(out, -1, dim(), dim())), free);
  Tensor shift = mul(narrow(out, -1, 0, dim()), free);
  return {shift, log_scale};
}

std::pair<Tensor, Tensor> RealNvp::rsample_and_log_prob(int64_t n, Generator& gen) {
  Tensor x = randn({n, dim()}, gen, TensorOptions(dtype()));
  Tensor lq = std_normal_log_prob(x);
  for (size_t l = 0; l < nets_.size(); ++l) {
    auto [shift, log_scale] = conditioner(l, mul(x, masks_[l]));
    x = add(mul(x, exp(log_scale)), shift);  // masked coordinates: scale 1, shift 0
    lq = sub(lq, sum(log_scale, {-1}));
  }
  return {x, lq};
}

Tensor RealNvp::log_prob(const Tensor& z) {
  Tensor y = z.dtype() == dtype() ? z : diffvi::to(z, dtype());
  Tensor log_det_total;
  for (size_t l = nets_.size(); l-- > 0;) {
    auto [shift, log_scale] = conditioner(l, mul(y, masks_[l]));
    y = mul(sub(y, shift), exp(neg(log_scale)));
    Tensor ld = sum(log_scale, {-1});
    log_det_total = log_det_total.defined() ? add(log_det_total, ld) : ld;
  }
  return sub(std_normal_log_prob(y), log_det_total);
}

}  // namespace diffvi::vi
