//===- Executor.h - Running candidate evaluations as jobs -------*- C++ -*-===//
//
// A candidate evaluation is an independent job, a command line whose only
// shared state is the kernel cache and the tuning database, so the search
// runs them through one interface (docs/Search.md §6): submit jobs, then
// take the outcomes as they finish.  Locally that is a pool of processes
// with time limits; cluster back ends (Slurm job arrays, Ray tasks)
// implement the same interface.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SEARCH_EXECUTOR_H
#define ATTN_SEARCH_EXECUTOR_H

#include "search/Subprocess.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace attn::search {

struct Job {
  /// The caller's name for the job, given back with its outcome.
  int64_t id = 0;
  /// The command (argv[0] a path).
  std::vector<std::string> argv;
  double timeoutSeconds = 300;
  /// Extra environment, "NAME=VALUE".
  std::vector<std::string> env;
};

struct JobOutcome {
  int64_t id = 0;
  attn::driver::ProcessResult result;
  /// Wall time of the job.
  double seconds = 0;
};

/// Runs independent jobs (docs/Search.md §6); local pools and cluster back
/// ends implement it.  Used from one thread.
class Executor {
public:
  virtual ~Executor();
  virtual void submit(Job job) = 0;
  /// Blocks until a submitted job finishes; nullopt when none is pending.
  /// Every submitted job's outcome is returned exactly once.
  virtual std::optional<JobOutcome> next() = 0;
  /// Jobs submitted whose outcome next() has not returned yet.
  virtual size_t pending() const = 0;
};

/// `workers` jobs at a time, each a process with a time limit
/// (runWithTimeout on worker threads), in submission order.  Destroying the
/// pool drops the jobs not started and kills the running ones (their
/// process groups, and every process that still carries the pool's
/// environment marker), waiting until they are gone.
class LocalProcessPool : public Executor {
public:
  explicit LocalProcessPool(int workers);
  ~LocalProcessPool() override;
  LocalProcessPool(const LocalProcessPool &) = delete;
  LocalProcessPool &operator=(const LocalProcessPool &) = delete;

  void submit(Job job) override;
  std::optional<JobOutcome> next() override;
  size_t pending() const override;

  int workers() const { return int(threads.size()); }
  /// The "NAME=VALUE" every job of this pool gets in its environment.
  const std::string &marker() const { return envMarker; }

private:
  void work(size_t worker);
  /// Sends SIGKILL to the processes of the jobs still running.
  void killRunning();

  mutable std::mutex mutex;
  std::condition_variable wake;     // a job was queued, or stopping
  std::condition_variable finished; // an outcome arrived, or one ended
  std::deque<Job> queue;
  std::deque<JobOutcome> outcomes;
  size_t running = 0;
  bool stopping = false;
  /// Kernel thread id of each worker (for /proc/self/task/TID/children).
  std::vector<long> workerTids;
  std::vector<std::thread> threads;
  std::string envMarker;
};

} // namespace attn::search

#endif // ATTN_SEARCH_EXECUTOR_H
