// A small time-conditioned U-Net for denoising diffusion on small images (1×28×28 by default),
// in the style of DDPM's: a sinusoidal time embedding and an MLP; per resolution level a stack
// of ResNet blocks (GroupNorm → SiLU → 3×3 conv, the time embedding added between the two
// convs, a 1×1 conv on the residual path when channels change); 2×2 average pooling down,
// nearest 2× upsampling up, and the skip of each level concatenated on the way up.
//
// Parameter names: "time_mlp.{0,1}.*", "conv_in.*", "down.<level>.<block>.*", "mid.<block>.*",
// "up.<level>.<block>.*", "norm_out.*", "conv_out.*"; inside a block "norm1", "conv1",
// "time_proj", "norm2", "conv2" and (when channels change) "skip".
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "diffvi/nn/conv.h"
#include "diffvi/nn/embedding.h"
#include "diffvi/nn/linear.h"
#include "diffvi/nn/norm.h"

namespace diffvi::nn {

struct UNetOptions {
  int64_t in_channels = 1;
  int64_t out_channels = 1;
  int64_t base_channels = 32;
  // One resolution level per entry (channels = base · mult); 28 → 14 → 7 for the default.
  std::vector<int64_t> channel_mults = {1, 2, 2};
  int64_t num_res_blocks = 1;  // per level on the way down (and up), and 2 in the middle
  int64_t time_embed_dim = 0;  // 0: 4 · base_channels
  int64_t norm_groups = 8;     // GroupNorm groups; must divide every block's channel count
  double time_scale = 1.0;     // t is multiplied by this before the sinusoidal embedding

  UNetOptions& set_in_channels(int64_t c) {
    in_channels = c;
    return *this;
  }
  UNetOptions& set_out_channels(int64_t c) {
    out_channels = c;
    return *this;
  }
  UNetOptions& set_base_channels(int64_t c) {
    base_channels = c;
    return *this;
  }
  UNetOptions& set_channel_mults(std::vector<int64_t> m) {
    channel_mults = std::move(m);
    return *this;
  }
  UNetOptions& set_num_res_blocks(int64_t n) {
    num_res_blocks = n;
    return *this;
  }
  UNetOptions& set_time_embed_dim(int64_t d) {
    time_embed_dim = d;
    return *this;
  }
  UNetOptions& set_norm_groups(int64_t g) {
    norm_groups = g;
    return *this;
  }
  UNetOptions& set_time_scale(double s) {
    time_scale = s;
    return *this;
  }
};

// skip(x) + block(x, temb), block = GroupNorm → SiLU → conv3×3 → + Linear(SiLU(temb)) →
// GroupNorm → SiLU → conv3×3; skip is a 1×1 conv when channels change, else the identity.
class ResBlock : public Module {
 public:
  ResBlock(int64_t in_channels, int64_t out_channels, int64_t time_dim, int64_t groups,
           Generator& gen);
  // x [B, in, H, W], temb [B, time_dim] -> [B, out, H, W].
  Tensor forward(const Tensor& x, const Tensor& temb);
  // forward inside this block's error context.
  Tensor operator()(const Tensor& x, const Tensor& temb) {
    return call([&] { return forward(x, temb); });
  }
  std::string extra_repr() const override;

  std::shared_ptr<GroupNorm> norm1, norm2;
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<Linear> time_proj;
  std::shared_ptr<Conv2d> skip;  // null when in == out

 private:
  int64_t in_, out_;
};

class UNet : public Module {
 public:
  // ValueError for empty or non-positive channel settings, or norm_groups not dividing a
  // block's channel count (the message names the block).
  explicit UNet(const UNetOptions& options = {}, Generator& gen = default_generator());

  // x [B, in_channels, H, W] and t [B] (or a scalar, shared by the batch) -> [B, out_channels,
  // H, W]. H and W must be divisible by 2^(levels − 1); ShapeError otherwise.
  Tensor forward(const Tensor& x, const Tensor& t);
  Tensor operator()(const Tensor& x, const Tensor& t) {
    return call([&] { return forward(x, t); });
  }
  std::string extra_repr() const override;
  const UNetOptions& options() const { return options_; }

 private:
  UNetOptions options_;
  std::shared_ptr<SinusoidalTimeEmbedding> time_embed_;
  std::vector<std::vector<std::shared_ptr<ResBlock>>> down_, up_;
  std::vector<std::shared_ptr<ResBlock>> mid_;
  std::shared_ptr<Linear> time_in_, time_out_;
  std::shared_ptr<Conv2d> conv_in_, conv_out_;
  std::shared_ptr<GroupNorm> norm_out_;
};

}  // namespace diffvi::nn
