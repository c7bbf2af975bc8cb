// Tensor: a refcounted handle to (storage, shape, strides, offset, dtype, device) plus the
// autograd state the layer above fills in. Copying a Tensor copies the handle, not the data.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/device.h"
#include "diffvi/tensor/dtype.h"
#include "diffvi/tensor/errors.h"
#include "diffvi/tensor/shape.h"
#include "diffvi/tensor/storage.h"

namespace diffvi {

// The autograd layer's graph node; the tensor layer only stores it.
struct GradNode {
  virtual ~GradNode() = default;
  virtual const char* name() const = 0;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::f32;
  Device device;
  // Autograd state.
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<GradNode> grad_fn;
};

struct TensorOptions {
  DType dtype = DType::f32;
  Device device = Device::cpu();
  bool requires_grad = false;

  TensorOptions() = default;
  TensorOptions(DType d) : dtype(d) {}  // NOLINT: lets `f64` stand for options
  TensorOptions& set_dtype(DType d) {
    dtype = d;
    return *this;
  }
  TensorOptions& set_device(Device d) {
    device = d;
    return *this;
  }
  TensorOptions& set_requires_grad(bool r) {
    requires_grad = r;
    return *this;
  }
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked().shape; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  const Strides& strides() const { return checked().strides; }
  int64_t offset() const { return checked().offset; }
  int64_t numel() const { return diffvi::numel(shape()); }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().device; }
  bool is_contiguous() const;

  // Raw memory at this view's first element.
  void* data_ptr() const;
  // Host pointer of type T; DTypeError / DeviceError if the tensor is not T on the CPU.
  template <class T>
  T* data() const;
  Buf buf() const;  // the kernel-contract view

  // Autograd state (the autograd layer gives it meaning).
  bool requires_grad() const { return checked().requires_grad; }
  // Marks a leaf as a parameter to differentiate; ValueError for a non-floating dtype or a
  // non-leaf.
  Tensor& set_requires_grad(bool value);
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  Tensor grad() const;  // undefined if none accumulated
  // Sets (or, with an undefined g, clears) .grad; Shape/DType/DeviceError naming both tensors
  // unless g matches this tensor's shape, dtype and device.
  void set_grad(const Tensor& g);
  const std::shared_ptr<GradNode>& grad_fn() const { return checked().grad_fn; }
  // Keep .grad for this non-leaf during backward.
  void retain_grad() { checked().retains_grad = true; }

  // Host access (copies from the device when needed).
  double item() const;  // ValueError unless exactly one element
  template <class T>
  std::vector<T> to_vector() const;  // row-major values converted to T

  std::string str() const;  // shape, dtype, device and values (summarised when large)

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  TensorImpl& checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::string describe(const Tensor& t);  // "[2, 3] f32 cpu" for error messages

// --- creation --------------------------------------------------------------------------------
class Generator;
Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor scalar_tensor(double value, TensorOptions options = {});  // shape []
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {});
Tensor arange(double end, TensorOptions options = {});
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, TensorOptions options = {});
Tensor rand(const Shape& shape, Generator& gen, TensorOptions options = {});   // U(0, 1)
Tensor randn(const Shape& shape, Generator& gen, TensorOptions options = {});  // N(0, 1)
Tensor rand(const Shape& shape, TensorOptions options = {});                   // default gen
Tensor randn(const Shape& shape, TensorOptions options = {});
Tensor uniform(const Shape& shape, double low, double high, Generator& gen,
               TensorOptions options = {});
Tensor normal(const Shape& shape, double mean, double std, Generator& gen,
              TensorOptions options = {});
// From host values (converted to options.dtype); ShapeError if values.size() != numel(shape).
Tensor from_vector(const std::vector<double>& values, const Shape& shape,
                   TensorOptions options = {});
Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                   TensorOptions options = {});
Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape,
                   TensorOptions options = {DType::i64});
Tensor tensor(std::initializer_list<double> values, TensorOptions options = {});  // 1-D
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor empty_like(const Tensor& t);  // contiguous, same dtype and device
Tensor full_like(const Tensor& t, double value);

}  // namespace diffvi
