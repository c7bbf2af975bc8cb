// "primitives": a test backend that implements only the primitives of the contract, forwarding
// each to the reference backend, so every fused kernel (linear, softmax, layer norm, conv2d,
// AdamW) runs as the default built from primitives (tensor/fused_defaults.cpp,
// conv_defaults.cpp). Linked into test_ops and test_backends, where registering it enrols it in
// every parity check (testutil::ParityBackends), exactly as a new backend would be.
#include "diffvi/tensor/backend.h"

namespace diffvi::testing {
namespace {

class PrimitivesOnlyBackend final : public Backend {
 public:
  const char* name() const override { return "primitives"; }
  DeviceType device_type() const override { return DeviceType::cpu; }
  bool supports(DType dtype) const override { return inner().supports(dtype); }
  Allocator& allocator() override { return inner().allocator(); }

#define DIFFVI_FORWARD(kernel, params, args) \
  void kernel params override { inner().kernel args; }
  DIFFVI_PRIMITIVE_KERNELS(DIFFVI_FORWARD)
#undef DIFFVI_FORWARD

 private:
  // Looked up on first use: the library's backends register before this executable's statics
  // run, but nothing orders this file's registration against them.
  static Backend& inner() {
    static Backend* reference = find_backend("reference");
    return *reference;
  }
};

const bool registered = [] {
  static PrimitivesOnlyBackend instance;
  register_backend(&instance, /*make_default=*/false);
  return true;
}();

}  // namespace
}  // namespace diffvi::testing
