#include "diffvi/tensor/tensor.h"

#include <cmath>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "diffvi/tensor/generator.h"
#include "diffvi/tensor/ops.h"

namespace diffvi {

TensorImpl& Tensor::checked() const {
  if (!impl_) throw ValueError("use of an undefined (default-constructed) Tensor");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const {
  // normalize_dim lets dim 0 / -1 name a scalar (for reductions); a scalar still has no size.
  if (dim() == 0) {
    throw IndexError("size: dim " + std::to_string(d) + " of " + describe(*this) +
                     ", a scalar, which has no dims");
  }
  return shape()[normalize_dim(d, dim(), "size")];
}

bool Tensor::is_contiguous() const {
  const TensorImpl& t = checked();
  int64_t expected = 1;
  for (size_t i = t.shape.size(); i-- > 0;) {
    if (t.shape[i] == 1) continue;
    if (t.strides[i] != expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

void* Tensor::data_ptr() const {
  const TensorImpl& t = checked();
  if (!t.storage || !t.storage->data) return nullptr;
  return static_cast<char*>(t.storage->data) + t.offset * dtype_size(t.dtype);
}

template <class T>
T* Tensor::data() const {
  if (dtype() != dtype_of<T>()) {
    throw DTypeError(std::string("data<") + dtype_name(dtype_of<T>()) + ">() of a " +
                     dtype_name(dtype()) + " tensor");
  }
  if (device().type != DeviceType::cpu) {
    throw DeviceError("data<T>() needs a cpu tensor, got one on " + device().str());
  }
  return static_cast<T*>(data_ptr());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int64_t* Tensor::data<int64_t>() const;

Buf Tensor::buf() const {
  const TensorImpl& t = checked();
  return Buf{data_ptr(), t.dtype, t.shape, t.strides};
}

Tensor& Tensor::set_requires_grad(bool value) {
  TensorImpl& t = checked();
  if (value && !is_floating(t.dtype)) {
    throw ValueError(
        std::string("set_requires_grad: only floating tensors can require grad, got ") +
        dtype_name(t.dtype));
  }
  if (!value && t.grad_fn) {
    throw ValueError("set_requires_grad(false) on a non-leaf tensor; use detach() instead");
  }
  t.requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const {
  const TensorImpl& t = checked();
  return t.grad ? Tensor(t.grad) : Tensor();
}

void Tensor::set_grad(const Tensor& g) {
  // Checked here, where the mistake is made; otherwise it surfaces steps later in an optimizer.
  if (g.defined()) {
    if (g.shape() != shape()) {
      throw ShapeError("set_grad: gradient " + describe(g) + " does not match the shape of " +
                       describe(*this));
    }
    if (g.dtype() != dtype()) {
      throw DTypeError("set_grad: gradient " + describe(g) + " does not match the dtype of " +
                       describe(*this));
    }
    if (g.device() != device()) {
      throw DeviceError("set_grad: gradient " + describe(g) + " is not on the device of " +
                        describe(*this));
    }
  }
  checked().grad = g.impl_ptr();
}

double Tensor::item() const {
  if (numel() != 1) {
    throw ValueError("item(): expected a tensor with one element, got shape " + shape_str(shape()));
  }
  return to_vector<double>()[0];
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  // Copy into a contiguous host tensor of type T (converting), then read it out.
  Tensor host = raw::to(raw::to(*this, Device::cpu()), dtype_of<T>());
  host = raw::contiguous(host);
  const T* p = host.data<T>();
  return std::vector<T>(p, p + host.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined";
  return shape_str(t.shape()) + " " + dtype_name(t.dtype()) + " " + t.device().str();
}

namespace {

void print_values(std::ostream& os, const std::vector<double>& v, const Shape& shape, size_t dim,
                  int64_t& index, int indent, bool is_int) {
  constexpr int64_t kEdge = 3;  // items shown at each end of a long dimension
  if (dim == shape.size()) {
    if (is_int) {
      os << static_cast<int64_t>(v[index]);
    } else {
      os << std::setw(10) << std::setprecision(4) << v[index];
    }
    ++index;
    return;
  }
  const int64_t n = shape[dim];
  int64_t inner = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (n > 2 * kEdge && i == kEdge) {
      os << (dim + 1 == shape.size() ? " ..." : "...");
      index += (n - 2 * kEdge) * inner;
      i = n - kEdge - 1;
      continue;
    }
    if (i > 0) {
      os << ',';
      if (dim + 1 < shape.size()) os << '\n' << std::string(indent + 1, ' ');
    }
    print_values(os, v, shape, dim + 1, index, indent + 1, is_int);
  }
  os << ']';
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  os << "Tensor(shape=" << shape_str(shape()) << ", dtype=" << dtype_name(dtype())
     << ", device=" << device().str();
  if (requires_grad()) os << ", requires_grad";
  if (grad_fn()) os << ", grad_fn=" << grad_fn()->name();
  os << ")\n";
  const std::vector<double> v = to_vector<double>();
  int64_t index = 0;
  print_values(os, v, shape(), 0, index, 0, dtype() == DType::i64);
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

// --- creation --------------------------------------------------------------------------------

Tensor empty(const Shape& shape, TensorOptions options) {
  for (int64_t s : shape) {
    if (s < 0) throw ShapeError("empty: negative dimension in shape " + shape_str(shape));
  }
  Backend& backend = backend_for(options.device.type);
  if (!backend.supports(options.dtype)) {
    throw DTypeError(std::string("backend '") + backend.name() + "' does not support dtype " +
                     dtype_name(options.dtype));
  }
  // Sizes first: a request too large to describe fails here, before anything is allocated.
  const size_t bytes = storage_bytes(shape, dtype_size(options.dtype), "empty");
  Strides strides = contiguous_strides(shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(bytes, options.device, backend.allocator());
  impl->shape = shape;
  impl->strides = std::move(strides);
  impl->dtype = options.dtype;
  impl->device = options.device;
  Tensor t(std::move(impl));
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

Tensor full(const Shape& shape, double value, TensorOptions options) {
  const bool rg = options.requires_grad;
  Tensor t = empty(shape, options.set_requires_grad(false));
  raw::fill_(t, value);
  if (rg) t.set_requires_grad(true);
  return t;
}
Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0.0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1.0, options); }
Tensor scalar_tensor(double value, TensorOptions options) { return full({}, value, options); }

Tensor arange(double start, double end, double step, TensorOptions options) {
  if (step == 0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step)) {
    throw ValueError("arange: need finite start/end and a non-zero step");
  }
  // The count is checked in double before the cast: casting a value beyond int64 is undefined
  // (arange(0, 1e19) came back as an empty tensor), and end - start may overflow to infinity.
  const double count = std::ceil((end - start) / step);
  if (!(count < 0x1p63)) {
    std::ostringstream msg;
    msg << "arange: [" << start << ", " << end << ") with step " << step << " has " << count
        << " elements, more than int64 holds";
    throw ValueError(msg.str());
  }
  const int64_t n = std::max<int64_t>(0, static_cast<int64_t>(count));
  Tensor t = empty({n}, options.set_requires_grad(false));
  backend_for(t.device().type).arange(t.buf(), start, step);
  return t;
}
Tensor arange(double end, TensorOptions options) { return arange(0, end, 1, options); }

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  if (steps < 0) throw ValueError("linspace: steps must be >= 0, got " + std::to_string(steps));
  Tensor t = empty({steps}, options.set_requires_grad(false));
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  backend_for(t.device().type).arange(t.buf(), start, step);
  return t;
}

Tensor eye(int64_t n, TensorOptions options) {
  Tensor t = zeros({n, n}, options.set_requires_grad(false));
  if (n > 0) raw::fill_(raw::as_strided(t, {n}, {n + 1}, 0), 1.0);
  return t;
}

Tensor uniform(const Shape& shape, double low, double high, Generator& gen, TensorOptions options) {
  const bool rg = options.requires_grad;
  Tensor t = empty(shape, options.set_requires_grad(false));
  raw::random_(t, Distribution::uniform, low, high, gen);
  if (rg) t.set_requires_grad(true);
  return t;
}
Tensor normal(const Shape& shape, double mean, double std, Generator& gen, TensorOptions options) {
  const bool rg = options.requires_grad;
  Tensor t = empty(shape, options.set_requires_grad(false));
  raw::random_(t, Distribution::normal, mean, std, gen);
  if (rg) t.set_requires_grad(true);
  return t;
}
Tensor rand(const Shape& shape, Generator& gen, TensorOptions o) {
  return uniform(shape, 0, 1, gen, o);
}
Tensor randn(const Shape& shape, Generator& gen, TensorOptions o) {
  return normal(shape, 0, 1, gen, o);
}
Tensor rand(const Shape& shape, TensorOptions o) { return rand(shape, default_generator(), o); }
Tensor randn(const Shape& shape, TensorOptions o) { return randn(shape, default_generator(), o); }

namespace {
template <class T>
Tensor from_host(const std::vector<T>& values, const Shape& shape, TensorOptions options) {
  if (static_cast<int64_t>(values.size()) != numel(shape)) {
    throw ShapeError("from_vector: " + std::to_string(values.size()) +
                     " values do not fill shape " + shape_str(shape) + " (" +
                     std::to_string(numel(shape)) + " elements)");
  }
  const bool rg = options.requires_grad;
  // Stage on the host in T, then convert/copy to the requested dtype and device.
  Tensor staged = empty(shape, TensorOptions(dtype_of<T>()));
  if (!values.empty()) std::memcpy(staged.data_ptr(), values.data(), values.size() * sizeof(T));
  Tensor t = raw::to(raw::to(staged, options.dtype), options.device);
  if (rg) t.set_requires_grad(true);
  return t;
}
}  // namespace

Tensor from_vector(const std::vector<double>& v, const Shape& s, TensorOptions o) {
  return from_host(v, s, o);
}
Tensor from_vector(const std::vector<float>& v, const Shape& s, TensorOptions o) {
  return from_host(v, s, o);
}
Tensor from_vector(const std::vector<int64_t>& v, const Shape& s, TensorOptions o) {
  return from_host(v, s, o);
}
Tensor tensor(std::initializer_list<double> values, TensorOptions options) {
  return from_vector(std::vector<double>(values), {static_cast<int64_t>(values.size())}, options);
}

Tensor empty_like(const Tensor& t) {
  return empty(t.shape(), TensorOptions(t.dtype()).set_device(t.device()));
}
Tensor zeros_like(const Tensor& t) {
  return zeros(t.shape(), TensorOptions(t.dtype()).set_device(t.device()));
}
Tensor ones_like(const Tensor& t) {
  return ones(t.shape(), TensorOptions(t.dtype()).set_device(t.device()));
}
Tensor full_like(const Tensor& t, double value) {
  return full(t.shape(), value, TensorOptions(t.dtype()).set_device(t.device()));
}

}  // namespace diffvi
