// Internal to nuts.cpp / nuts_chain.cpp: one NUTS chain as a coroutine that suspends whenever
// it needs log p and its gradient at a new point (Chain::request), so a driver can evaluate every
// waiting chain in one batched call.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <limits>
#include <utility>
#include <vector>

#include "diffvi/tensor/generator.h"
#include "diffvi/vi/mcmc/nuts.h"

namespace diffvi::vi::detail {

// The coroutine handle of one chain; suspended whenever it waits for an evaluation.
struct ChainTask {
  struct promise_type {
    std::exception_ptr error;
    ChainTask get_return_object() {
      return ChainTask{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { error = std::current_exception(); }
  };
  explicit ChainTask(std::coroutine_handle<promise_type> h) : handle(h) {}
  ChainTask(ChainTask&& o) noexcept : handle(std::exchange(o.handle, {})) {}
  ChainTask(const ChainTask&) = delete;
  ~ChainTask() {
    if (handle) handle.destroy();
  }
  std::coroutine_handle<promise_type> handle;
};

// One chain's state, its mailbox with the driver, and its statistics.
struct Chain {
  int64_t d = 0;
  // The library's Philox stream (one counter per scalar draw), so a chain's draws are the same
  // with every standard library, unlike std::normal_distribution's.
  Generator rng;
  std::vector<double> request;  // the point waiting for evaluation
  bool waiting = false;
  double result_logp = 0;
  std::vector<double> result_grad;
  bool warmup_done = false;
  // Statistics after warmup.
  std::vector<double> draws, lps;
  int64_t divergences = 0, gradient_evals = 0;
  double accept_sum = 0, depth_sum = 0;
  double step_size = 0;
  std::vector<double> inv_metric;

  double uniform() { return philox_uniform(rng.seed(), rng.advance(1), 0); }  // U(0, 1)
  double normal() { return philox_normal(rng.seed(), rng.advance(1), 0); }    // N(0, 1)
};

// Runs o.num_warmup + o.num_samples transitions of chain c (which must outlive the task).
ChainTask run_chain(Chain& c, const NutsOptions& o);

}  // namespace diffvi::vi::detail
