//===- Executor.cpp - Running candidate evaluations as jobs ---------------===//

#include "search/Executor.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <sstream>
#include <sys/syscall.h>
#include <unistd.h>

using namespace attn::search;

Executor::~Executor() = default;

namespace {

/// Distinguishes the pools of one process.
std::atomic<uint64_t> poolCounter{0};

/// The text of /proc/PID/FILE ("" when unreadable).
std::string readProcFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::string();
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

void killProcessAndGroup(pid_t pid) {
  if (pid <= 1 || pid == getpid())
    return;
  // runWithTimeout makes each job the leader of its own process group.
  if (getpgid(pid) == pid)
    kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
}

} // namespace

LocalProcessPool::LocalProcessPool(int workers) {
  if (workers < 1)
    workers = 1;
  envMarker = "ATTN_EXECUTOR_POOL=" + std::to_string(getpid()) + "-" +
              std::to_string(poolCounter++);
  workerTids.assign(size_t(workers), 0);
  for (int w = 0; w < workers; ++w)
    threads.emplace_back([this, w] { work(size_t(w)); });
}

LocalProcessPool::~LocalProcessPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
    queue.clear();
  }
  wake.notify_all();
  // A running job ends when its process does; kill them until none is
  // left (a job between fork and exec is caught on a later round).
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (running == 0)
        break;
    }
    killRunning();
    std::unique_lock<std::mutex> lock(mutex);
    finished.wait_for(lock, std::chrono::milliseconds(20),
                      [&] { return running == 0; });
  }
  for (std::thread &t : threads)
    t.join();
}

void LocalProcessPool::submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    queue.push_back(std::move(job));
  }
  wake.notify_one();
}

std::optional<JobOutcome> LocalProcessPool::next() {
  std::unique_lock<std::mutex> lock(mutex);
  if (queue.empty() && running == 0 && outcomes.empty())
    return std::nullopt;
  finished.wait(lock, [&] { return !outcomes.empty(); });
  JobOutcome outcome = std::move(outcomes.front());
  outcomes.pop_front();
  return outcome;
}

size_t LocalProcessPool::pending() const {
  std::lock_guard<std::mutex> lock(mutex);
  return queue.size() + running + outcomes.size();
}

void LocalProcessPool::work(size_t worker) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    workerTids[worker] = long(syscall(SYS_gettid));
  }
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [&] { return stopping || !queue.empty(); });
      if (stopping)
        return;
      job = std::move(queue.front());
      queue.pop_front();
      ++running;
    }
    std::vector<std::string> env = job.env;
    env.push_back(envMarker);
    auto start = std::chrono::steady_clock::now();
    attn::driver::ProcessResult result =
        attn::driver::runWithTimeout(job.argv, job.timeoutSeconds, env);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    {
      std::lock_guard<std::mutex> lock(mutex);
      --running;
      if (!stopping)
        outcomes.push_back(JobOutcome{job.id, std::move(result), seconds});
    }
    finished.notify_all();
  }
}

void LocalProcessPool::killRunning() {
  std::vector<long> tids;
  {
    std::lock_guard<std::mutex> lock(mutex);
    tids = workerTids;
  }
  // The workers' direct children (each a job, whatever it did to its
  // environment).
  for (long tid : tids) {
    if (tid <= 0)
      continue;
    std::istringstream children(
        readProcFile("/proc/self/task/" + std::to_string(tid) + "/children"));
    long pid;
    while (children >> pid)
      killProcessAndGroup(pid_t(pid));
  }
  // Every process that carries the marker: jobs, and descendants that left
  // the job's process group.
  DIR *proc = opendir("/proc");
  if (!proc)
    return;
  std::string needle = envMarker;
  needle.push_back('\0');
  while (dirent *entry = readdir(proc)) {
    char *end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (!end || *end != '\0' || pid <= 1 || pid == getpid())
      continue;
    std::string environ =
        readProcFile(std::string("/proc/") + entry->d_name + "/environ");
    environ.push_back('\0');
    size_t at = environ.find(needle);
    if (at != std::string::npos && (at == 0 || environ[at - 1] == '\0'))
      killProcessAndGroup(pid_t(pid));
  }
  closedir(proc);
}
