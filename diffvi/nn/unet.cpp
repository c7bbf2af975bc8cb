#include "diffvi/nn/unet.h"

#include <sstream>
#include <string>

#include "diffvi/autograd/ops.h"

namespace diffvi::nn {
namespace {

Conv2dOptions same_padding(int64_t k) { return Conv2dOptions().set_padding(k / 2); }

// A container that only names its children ("0", "1", ...), like torch.nn.ModuleList.
class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
};

}  // namespace

ResBlock::ResBlock(int64_t in_channels, int64_t out_channels, int64_t time_dim, int64_t groups,
                   Generator& gen)
    : Module("ResBlock"), in_(in_channels), out_(out_channels) {
  for (int64_t c : {in_channels, out_channels}) {
    if (c <= 0 || groups <= 0 || c % groups != 0) {
      throw ValueError("ResBlock: " + std::to_string(c) + " channels are not divisible by " +
                       std::to_string(groups) + " norm groups (in=" + std::to_string(in_channels) +
                       ", out=" + std::to_string(out_channels) + ")");
    }
  }
  norm1 = register_module("norm1", std::make_shared<GroupNorm>(groups, in_channels));
  conv1 = register_module(
      "conv1", std::make_shared<Conv2d>(in_channels, out_channels, 3, same_padding(3), gen));
  time_proj = register_module(
      "time_proj", std::make_shared<Linear>(time_dim, out_channels, LinearOptions(), gen));
  norm2 = register_module("norm2", std::make_shared<GroupNorm>(groups, out_channels));
  conv2 = register_module(
      "conv2", std::make_shared<Conv2d>(out_channels, out_channels, 3, same_padding(3), gen));
  if (in_channels != out_channels) {
    skip = register_module(
        "skip", std::make_shared<Conv2d>(in_channels, out_channels, 1, Conv2dOptions(), gen));
  }
}

Tensor ResBlock::forward(const Tensor& x, const Tensor& temb) {
  Tensor h = (*conv1)(silu((*norm1)(x)));
  const Tensor tproj = (*time_proj)(silu(temb));  // [B, out]
  h = add(h, reshape(tproj, {tproj.size(0), out_, 1, 1}));
  h = (*conv2)(silu((*norm2)(h)));
  return add(h, skip ? (*skip)(x) : x);
}

std::string ResBlock::extra_repr() const {
  return "in=" + std::to_string(in_) + ", out=" + std::to_string(out_);
}

UNet::UNet(const UNetOptions& options, Generator& gen) : Module("UNet"), options_(options) {
  const UNetOptions& o = options_;
  if (o.channel_mults.empty() || o.in_channels <= 0 || o.out_channels <= 0 ||
      o.base_channels <= 0 || o.num_res_blocks <= 0 || o.time_embed_dim < 0) {
    throw ValueError("UNet: channel_mults must be non-empty and channel/block counts positive");
  }
  for (int64_t m : o.channel_mults) {
    if (m <= 0) throw ValueError("UNet: channel multipliers must be positive");
  }
  const int64_t base = o.base_channels;
  const int64_t tdim = o.time_embed_dim > 0 ? o.time_embed_dim : 4 * base;
  const int64_t groups = o.norm_groups;
  time_embed_ = std::make_shared<SinusoidalTimeEmbedding>(base);
  auto time_mlp = register_module("time_mlp", std::make_shared<ModuleList>());
  time_in_ = time_mlp->register_module(
      "0",
      std::make_shared<Linear>(base, tdim, LinearOptions().set_activation(Activation::silu), gen));
  time_out_ =
      time_mlp->register_module("1", std::make_shared<Linear>(tdim, tdim, LinearOptions(), gen));
  conv_in_ = register_module(
      "conv_in", std::make_shared<Conv2d>(o.in_channels, base, 3, same_padding(3), gen));

  const size_t levels = o.channel_mults.size();
  std::vector<int64_t> level_channels;
  auto down = register_module("down", std::make_shared<ModuleList>());
  int64_t ch = base;
  for (size_t i = 0; i < levels; ++i) {
    auto level = down->register_module(std::to_string(i), std::make_shared<ModuleList>());
    const int64_t out = base * o.channel_mults[i];
    down_.emplace_back();
    for (int64_t b = 0; b < o.num_res_blocks; ++b) {
      down_.back().push_back(level->register_module(
          std::to_string(b), std::make_shared<ResBlock>(ch, out, tdim, groups, gen)));
      ch = out;
    }
    level_channels.push_back(ch);
  }
  auto mid = register_module("mid", std::make_shared<ModuleList>());
  for (int b = 0; b < 2; ++b) {
    mid_.push_back(mid->register_module(std::to_string(b),
                                        std::make_shared<ResBlock>(ch, ch, tdim, groups, gen)));
  }
  // up.<i> mirrors down.<i>: its first block takes the concatenated skip of level i.
  auto up = register_module("up", std::make_shared<ModuleList>());
  up_.resize(levels);
  std::vector<std::shared_ptr<ModuleList>> up_lists(levels);
  for (size_t i = 0; i < levels; ++i) {
    up_lists[i] = up->register_module(std::to_string(i), std::make_shared<ModuleList>());
  }
  for (size_t i = levels; i-- > 0;) {
    for (int64_t b = 0; b < o.num_res_blocks; ++b) {
      const int64_t in = b == 0 ? ch + level_channels[i] : level_channels[i];
      up_[i].push_back(up_lists[i]->register_module(
          std::to_string(b), std::make_shared<ResBlock>(in, level_channels[i], tdim, groups, gen)));
      ch = level_channels[i];
    }
  }
  norm_out_ = register_module("norm_out", std::make_shared<GroupNorm>(groups, ch));
  conv_out_ = register_module(
      "conv_out", std::make_shared<Conv2d>(ch, o.out_channels, 3, same_padding(3), gen));
}

Tensor UNet::forward(const Tensor& x, const Tensor& t) {
  const int64_t levels = static_cast<int64_t>(options_.channel_mults.size());
  const int64_t multiple = int64_t{1} << (levels - 1);
  if (x.dim() != 4 || x.size(1) != options_.in_channels || x.size(2) % multiple != 0 ||
      x.size(3) % multiple != 0) {
    throw ShapeError("unet: input " + describe(x) + " must be [B, " +
                     std::to_string(options_.in_channels) + ", H, W] with H and W divisible by " +
                     std::to_string(multiple));
  }
  const int64_t batch = x.size(0);
  Tensor tt = t.dim() == 0 ? expand(reshape(t, {1}), {batch}) : reshape(t, {-1});
  if (tt.size(0) != batch) {
    throw ShapeError("unet: t " + describe(t) + " must be a scalar or hold one time per image of " +
                     describe(x));
  }
  if (options_.time_scale != 1.0) tt = mul(tt, options_.time_scale);
  const Tensor temb = (*time_out_)((*time_in_)((*time_embed_)(tt)));

  Tensor h = (*conv_in_)(x);
  std::vector<Tensor> skips;
  for (int64_t i = 0; i < levels; ++i) {
    for (auto& block : down_[i]) h = (*block)(h, temb);
    skips.push_back(h);
    if (i + 1 < levels) h = avg_pool2d(h, 2);
  }
  for (auto& block : mid_) h = (*block)(h, temb);
  for (int64_t i = levels; i-- > 0;) {
    h = cat({h, skips[i]}, 1);
    for (auto& block : up_[i]) h = (*block)(h, temb);
    if (i > 0) h = upsample_nearest2d(h, 2);
  }
  return (*conv_out_)(silu((*norm_out_)(h)));
}

std::string UNet::extra_repr() const {
  std::ostringstream os;
  os << "in=" << options_.in_channels << ", out=" << options_.out_channels
     << ", base=" << options_.base_channels << ", mults=[";
  for (size_t i = 0; i < options_.channel_mults.size(); ++i) {
    os << (i ? ", " : "") << options_.channel_mults[i];
  }
  os << "], res_blocks=" << options_.num_res_blocks;
  return os.str();
}

}  // namespace diffvi::nn
