// Trains an MLP classifier (784 → 512 → 256 → 10, ReLU) on Fashion-MNIST with AdamW (lr
// decayed by a half cosine over --lr-decay-epochs, biases exempt from weight decay) and reports
// the test accuracy. Checkpoints (model, optimizer, step, data-order generator) are written
// atomically at the end of every epoch with --save and resumed with --load, bit-exactly: the
// shuffling generator's state is part of the checkpoint.
//
//   example-fashion-mlp --epochs 3 --json out.json
//   example-fashion-mlp --epochs 1 --save ck.safetensors && \
//     example-fashion-mlp --epochs 3 --load ck.safetensors
//
// Exit codes: 0 success, 1 an error (message on stderr: missing data set, unreadable or corrupt
// checkpoint, ...), 2 bad command line.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "diffvi/data/data_loader.h"
#include "diffvi/data/fashion_mnist.h"
#include "diffvi/diffvi.h"
#include "diffvi/nn/checkpoint.h"
#include "diffvi/nn/nn.h"
#include "progress_bar.h"

namespace {

using namespace diffvi;

struct Flags {
  int epochs = 3;
  int lr_decay_epochs = 3;  // the cosine's horizon; independent of --epochs so resuming is exact
  int64_t batch = 128;
  double lr = 2e-3;
  double weight_decay = 1e-4;
  uint64_t seed = 0;
  int threads = 2;
  int64_t limit = 0;  // train on the first N examples only (0: all)
  std::string data_dir = data::kFashionMnistDefaultDir;
  std::string save, load, json;
};

// Fashion-MNIST's pixel mean and standard deviation (training set).
constexpr double kPixelMean = 0.2860, kPixelStd = 0.3530;

Tensor flatten_normalized(const Tensor& images) {
  NoGradGuard no_grad;
  return contiguous(div(sub(reshape(images, {images.size(0), 28 * 28}), kPixelMean), kPixelStd));
}

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  return neg(mean(gather(log_softmax(logits, 1), 1, unsqueeze(labels, 1))));
}

// Fraction of rows whose largest logit is at the label.
double accuracy(nn::Module& model, const Tensor& x, const Tensor& labels) {
  NoGradGuard no_grad;
  const int64_t n = x.size(0), chunk = 1000;
  const std::vector<int64_t> y = labels.to_vector<int64_t>();
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t len = std::min(chunk, n - start);
    const std::vector<float> logits = model(narrow(x, 0, start, len)).to_vector<float>();
    for (int64_t i = 0; i < len; ++i) {
      int64_t best = 0;
      for (int64_t k = 1; k < 10; ++k) {
        if (logits[i * 10 + k] > logits[i * 10 + best]) best = k;
      }
      correct += best == y[start + i];
    }
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

int run(const Flags& flags) {
  set_num_threads(flags.threads);
  Generator init_gen(flags.seed), data_gen(flags.seed + 1);
  nn::MLP model(nn::MLPOptions({28 * 28, 512, 256, 10}).set_activation(Activation::relu), init_gen);
  nn::AdamW optimizer(nn::split_decay_groups(model.named_parameters()),
                      nn::AdamWOptions(flags.lr).set_weight_decay(flags.weight_decay));

  // The checkpoint first: a bad --load path fails before the data set is read.
  int start_epoch = 0;
  if (!flags.load.empty()) {
    const nn::Checkpoint ck = nn::Checkpoint::load(flags.load);
    model.load_state_dict(ck.require_group("model"));
    optimizer.load_state_dict(ck.require_group("optim"));
    ck.restore_generator("data", data_gen);
    const auto it = ck.metadata().find("epochs_done");
    if (it == ck.metadata().end()) {
      throw IOError("checkpoint '" + flags.load + "' has no 'epochs_done' metadata");
    }
    start_epoch = std::stoi(it->second);
    std::fprintf(stderr, "resumed from %s after epoch %d (step %lld)\n", flags.load.c_str(),
                 start_epoch, static_cast<long long>(ck.step()));
  }

  data::Dataset train = data::load_fashion_mnist(data::Split::train, flags.data_dir);
  const data::Dataset test = data::load_fashion_mnist(data::Split::test, flags.data_dir);
  if (flags.limit > 0 && flags.limit < train.size()) {
    train.images = narrow(train.images, 0, 0, flags.limit);
    train.labels = narrow(train.labels, 0, 0, flags.limit);
  }
  const Tensor train_x = flatten_normalized(train.images), test_x = flatten_normalized(test.images);
  data::DataLoader loader(train_x, train.labels,
                          data::DataLoaderOptions{.batch_size = flags.batch, .shuffle = true},
                          data_gen);

  // The schedule reads the optimizer's (restored) step count, and its horizon does not depend on
  // --epochs, so "1 epoch, save, resume to 2" follows the same curve as "2 epochs".
  const nn::CosineLR cosine(std::max<int64_t>(1, flags.lr_decay_epochs * loader.num_batches()));
  const nn::ConstantLR constant;
  const nn::LRSchedule& schedule =
      flags.lr_decay_epochs > 0 ? static_cast<const nn::LRSchedule&>(cosine) : constant;
  if (flags.lr_decay_epochs > 0 && flags.epochs > flags.lr_decay_epochs) {
    std::fprintf(stderr, "note: the lr reaches 0 after --lr-decay-epochs %d\n",
                 flags.lr_decay_epochs);
  }
  double train_seconds = 0, last_loss = 0;
  for (int epoch = start_epoch; epoch < flags.epochs; ++epoch) {
    model.train();
    loader.start_epoch();
    ProgressBar bar(loader.num_batches(),
                    "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(flags.epochs));
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0;
    for (int64_t i = 0; i < loader.num_batches(); ++i) {
      const data::Batch b = loader.batch(i);
      Tensor loss = cross_entropy(model(b.inputs), b.targets);
      optimizer.zero_grad();
      backward(loss);
      schedule.apply(optimizer);
      optimizer.step();
      last_loss = loss.item();
      loss_sum += last_loss;
      char suffix[48];
      std::snprintf(suffix, sizeof suffix, "loss %.4f", loss_sum / static_cast<double>(i + 1));
      bar.update(i + 1, suffix);
    }
    bar.finish();
    train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!flags.save.empty()) {
      nn::Checkpoint ck;
      ck.add_group("model", model.state_dict());
      ck.add_group("optim", optimizer.state_dict());
      ck.set_step(optimizer.step_count());
      ck.set_generator("data", data_gen);
      ck.metadata()["epochs_done"] = std::to_string(epoch + 1);
      ck.save(flags.save);
    }
  }

  model.eval();
  const double test_accuracy = accuracy(model, test_x, test.labels);
  std::printf("test_accuracy %.4f  train_seconds %.2f  epochs %d  steps %lld\n", test_accuracy,
              train_seconds, flags.epochs, static_cast<long long>(optimizer.step_count()));
  if (!flags.json.empty()) {
    const nlohmann::json out = {{"test_accuracy", test_accuracy},
                                {"train_seconds", train_seconds},
                                {"epochs", flags.epochs},
                                {"start_epoch", start_epoch},
                                {"steps", optimizer.step_count()},
                                {"final_train_loss", last_loss},
                                {"batch", flags.batch},
                                {"lr", flags.lr},
                                {"lr_decay_epochs", flags.lr_decay_epochs},
                                {"seed", flags.seed},
                                {"threads", flags.threads},
                                {"train_examples", train.size()},
                                {"test_examples", test.size()}};
    std::ofstream f(flags.json);
    f << out.dump(2) << "\n";
    if (!f) throw IOError("could not write '" + flags.json + "'");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"Train an MLP classifier on Fashion-MNIST with AdamW and report test accuracy."};
  app.add_option("--epochs", flags.epochs, "total epochs (a resumed run continues up to this)")
      ->check(CLI::Range(0, 100000));
  app.add_option("--batch", flags.batch, "mini-batch size")->check(CLI::Range(1, 1 << 20));
  app.add_option("--lr", flags.lr, "peak AdamW learning rate")->check(CLI::Range(1e-12, 1e3));
  app.add_option("--lr-decay-epochs", flags.lr_decay_epochs,
                 "cosine-decay the lr to 0 over this many epochs (0: constant lr)")
      ->check(CLI::Range(0, 100000));
  app.add_option("--weight-decay", flags.weight_decay, "AdamW decoupled weight decay");
  app.add_option("--seed", flags.seed, "seed of the initialisation and of the data order");
  app.add_option("--threads", flags.threads, "threads for every pool")->check(CLI::Range(1, 1024));
  app.add_option("--limit", flags.limit, "train on the first N examples only (0: all)")
      ->check(CLI::Range(0, 1000000000));
  app.add_option("--data-dir", flags.data_dir, "directory of the Fashion-MNIST .gz files");
  app.add_option("--save", flags.save, "write a checkpoint here (atomically) after every epoch");
  app.add_option("--load", flags.load, "resume from this checkpoint");
  app.add_option("--json", flags.json, "write results as JSON here");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the error
    return code == 0 ? 0 : 2;
  }
  try {
    return run(flags);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example-fashion-mlp: error: %s\n", e.what());
    return 1;
  }
}
