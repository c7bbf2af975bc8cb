// The vi layer in one include: distributions, bijectors, the model API, guides (ADVI, flows),
// NUTS with its diagnostics, and fit().
#pragma once

#include "diffvi/vi/distributions/categorical.h"
#include "diffvi/vi/distributions/distribution.h"
#include "diffvi/vi/distributions/gamma.h"
#include "diffvi/vi/distributions/half.h"
#include "diffvi/vi/distributions/mixture.h"
#include "diffvi/vi/distributions/multivariate_normal.h"
#include "diffvi/vi/distributions/normal.h"
#include "diffvi/vi/distributions/special.h"
#include "diffvi/vi/distributions/uniform.h"
#include "diffvi/vi/guides/advi.h"
#include "diffvi/vi/guides/flows.h"
#include "diffvi/vi/infer/fit.h"
#include "diffvi/vi/infer/guide.h"
#include "diffvi/vi/mcmc/diagnostics.h"
#include "diffvi/vi/mcmc/nuts.h"
#include "diffvi/vi/methods/dmvi/dmvi.h"
#include "diffvi/vi/model/model.h"
#include "diffvi/vi/transforms/bijector.h"
