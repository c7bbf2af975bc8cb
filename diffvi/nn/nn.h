// The nn umbrella header: modules, layers, initialisers, optimizers, schedules, EMA.
#pragma once

#include "diffvi/nn/activation.h"
#include "diffvi/nn/adam.h"
#include "diffvi/nn/clip_grad.h"
#include "diffvi/nn/dropout.h"
#include "diffvi/nn/ema.h"
#include "diffvi/nn/embedding.h"
#include "diffvi/nn/init.h"
#include "diffvi/nn/linear.h"
#include "diffvi/nn/lr_schedule.h"
#include "diffvi/nn/mlp.h"
#include "diffvi/nn/module.h"
#include "diffvi/nn/norm.h"
#include "diffvi/nn/optimizer.h"
#include "diffvi/nn/sequential.h"
#include "diffvi/nn/sgd.h"
#include "diffvi/nn/tensor_dict.h"
