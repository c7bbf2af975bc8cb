#include "diffvi/vi/guides/register.h"

#include <string>

#include "diffvi/vi/guides/advi.h"
#include "diffvi/vi/guides/flows.h"
#include "diffvi/vi/infer/registry.h"

namespace diffvi::vi {

namespace {

void validate_advi(const AdviOptions& o) {
  if (!(o.init_scale > 0)) {
    throw ValueError("AdviOptions.init_scale must be > 0, got " + std::to_string(o.init_scale));
  }
}

// FitOptions::dtype wins over the flow's own.
FlowOptions with_dtype(FlowOptions f, const FitSettings& s) {
  f.dtype = s.dtype.value_or(f.dtype);
  return f;
}

void validate_flow(const FlowOptions& o) {
  if (o.num_layers <= 0) {
    throw ValueError("FlowOptions.num_layers must be > 0, got " + std::to_string(o.num_layers));
  }
  for (int64_t h : o.hidden) {
    if (h <= 0) throw ValueError("FlowOptions.hidden widths must be > 0, got " + std::to_string(h));
  }
}

}  // namespace

void register_guides() {
  register_method<AdviOptions>(
      "advi", FitSettings{}, validate_advi,
      [](int64_t d, const FitSettings& s, const AdviOptions& o, Generator&) {
        return std::make_shared<MeanFieldNormal>(d, o.init_scale, s.dtype.value_or(DType::f64));
      });
  register_method<AdviOptions>(
      "advi-fullrank", FitSettings{}, validate_advi,
      [](int64_t d, const FitSettings& s, const AdviOptions& o, Generator&) {
        return std::make_shared<FullRankNormal>(d, o.init_scale, s.dtype.value_or(DType::f64));
      });
  register_method<FlowOptions>(
      "maf", FitSettings{}, validate_flow,
      [](int64_t d, const FitSettings& s, const FlowOptions& o, Generator& g) {
        return std::make_shared<AutoregressiveFlow>(d, false, with_dtype(o, s), g);
      });
  register_method<FlowOptions>(
      "iaf", FitSettings{}, validate_flow,
      [](int64_t d, const FitSettings& s, const FlowOptions& o, Generator& g) {
        return std::make_shared<AutoregressiveFlow>(d, true, with_dtype(o, s), g);
      });
  register_method<FlowOptions>(
      "realnvp", FitSettings{}, validate_flow,
      [](int64_t d, const FitSettings& s, const FlowOptions& o, Generator& g) {
        return std::make_shared<RealNvp>(d, with_dtype(o, s), g);
      });
}

}  // namespace diffvi::vi
