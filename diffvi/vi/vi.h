// The vi layer in one include: distributions, bijectors, the model API, guides (ADVI, flows),
// NUTS with its diagnostics, and fit().
#pragma once

#include "diffvi/vi/advi.h"
#include "diffvi/vi/bijector.h"
#include "diffvi/vi/categorical.h"
#include "diffvi/vi/diagnostics.h"
#include "diffvi/vi/distribution.h"
#include "diffvi/vi/dmvi.h"
#include "diffvi/vi/fit.h"
#include "diffvi/vi/flows.h"
#include "diffvi/vi/gamma.h"
#include "diffvi/vi/guide.h"
#include "diffvi/vi/half.h"
#include "diffvi/vi/mixture.h"
#include "diffvi/vi/model.h"
#include "diffvi/vi/multivariate_normal.h"
#include "diffvi/vi/normal.h"
#include "diffvi/vi/nuts.h"
#include "diffvi/vi/special.h"
#include "diffvi/vi/uniform.h"
