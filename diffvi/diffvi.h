// The umbrella header: the tensor API, autograd and threading.
#pragma once

#include "diffvi/autograd/engine.h"
#include "diffvi/autograd/gradcheck.h"
#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/errors.h"
#include "diffvi/tensor/generator.h"
#include "diffvi/tensor/profiler.h"
#include "diffvi/tensor/tensor.h"
#include "diffvi/tensor/threads.h"
