//===- ExecutorTest.cpp - The local process pool --------------------------===//
//
// Jobs that succeed, fail, crash and time out; more jobs than workers; the
// bound on and the fact of parallelism; every outcome exactly once; and a
// pool destroyed with jobs running or queued kills them, without hanging.
// Time limits here are generous: only the 1 s job limit is meant to hit.
//
//===----------------------------------------------------------------------===//

#include "search/Executor.h"

#include "SearchTestUtil.h"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

using namespace attn::search;
using namespace attn::search::test;

namespace {

Job shell(int64_t id, const std::string &script, double timeout = 60,
          std::vector<std::string> env = {}) {
  return Job{id, {"/bin/sh", "-c", script}, timeout, std::move(env)};
}

/// All outcomes until none is pending, by id (each id must come once).
std::map<int64_t, JobOutcome> drain(Executor &executor) {
  std::map<int64_t, JobOutcome> outcomes;
  while (std::optional<JobOutcome> o = executor.next()) {
    EXPECT_FALSE(outcomes.count(o->id)) << "outcome " << o->id << " twice";
    outcomes[o->id] = *o;
  }
  EXPECT_EQ(executor.pending(), 0u);
  return outcomes;
}

/// True when process `pid` is gone (or a zombie nobody reaped yet).
bool processGone(pid_t pid) {
  std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty())
    return true;
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() &&
         stat[paren + 2] == 'Z';
}

/// Waits (up to `seconds`) until `path` holds a pid; 0 when it never does.
pid_t waitForPid(const std::string &path, double seconds = 30) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = readFile(path);
    if (!text.empty() && text.back() == '\n')
      return pid_t(std::stol(text));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

bool waitUntilGone(pid_t pid, double seconds = 30) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (processGone(pid))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(ExecutorTest, SucceedsFailsAndCrashes) {
  LocalProcessPool pool(2);
  EXPECT_EQ(pool.workers(), 2);
  EXPECT_FALSE(pool.next().has_value()); // nothing pending: no wait
  pool.submit(shell(10, "echo hello $FOO", 60, {"FOO=bar"}));
  pool.submit(shell(11, "echo failing >&2; exit 3"));
  pool.submit(shell(12, "kill -SEGV $$"));
  pool.submit(Job{13, {"/no/such/program"}, 60, {}});
  EXPECT_EQ(pool.pending(), 4u);
  std::map<int64_t, JobOutcome> out = drain(pool);
  ASSERT_EQ(out.size(), 4u);

  EXPECT_TRUE(out[10].result.succeeded());
  EXPECT_EQ(out[10].result.output, "hello bar\n");
  EXPECT_GE(out[10].seconds, 0);

  EXPECT_FALSE(out[11].result.succeeded());
  EXPECT_EQ(out[11].result.exitCode, 3);
  EXPECT_EQ(out[11].result.output, "failing\n");

  EXPECT_EQ(out[12].result.signal, SIGSEGV);
  EXPECT_FALSE(out[12].result.timedOut);
  EXPECT_FALSE(out[12].result.succeeded());

  EXPECT_FALSE(out[13].result.succeeded());
  EXPECT_EQ(out[13].result.exitCode, 127);
}

TEST(ExecutorTest, TimeoutIsKilledAndThePoolGoesOn) {
  TempDir dir;
  LocalProcessPool pool(1);
  // The job's child would write the file after 3 s unless killed with it.
  pool.submit(shell(
      1, "(sleep 3; echo late > " + dir.file("late") + ") & sleep 30", 1));
  pool.submit(shell(2, "echo after"));
  std::map<int64_t, JobOutcome> out = drain(pool);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[1].result.timedOut);
  EXPECT_FALSE(out[1].result.succeeded());
  EXPECT_GE(out[1].seconds, 0.9);
  EXPECT_LT(out[1].seconds, 25); // killed, not run to the end
  EXPECT_TRUE(out[2].result.succeeded());
  EXPECT_EQ(out[2].result.output, "after\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  EXPECT_EQ(readFile(dir.file("late")), "") << "the job's child survived";
}

TEST(ExecutorTest, MoreJobsThanWorkersEachOutcomeOnce) {
  TempDir dir;
  const int workers = 2, jobs = 12;
  LocalProcessPool pool(workers);
  // Each job marks itself running, counts the running jobs, and unmarks.
  std::string script = "mkdir " + dir.path() + "/running.$ID; ls " +
                       dir.path() + " | grep -c running; sleep 0.05; rmdir " +
                       dir.path() + "/running.$ID; echo id=$ID";
  for (int i = 0; i < jobs; ++i)
    pool.submit(shell(100 + i, script, 60, {"ID=" + std::to_string(i)}));
  // Take a few before submitting the rest.
  std::map<int64_t, JobOutcome> out;
  for (int k = 0; k < 3; ++k) {
    std::optional<JobOutcome> o = pool.next();
    ASSERT_TRUE(o.has_value());
    out[o->id] = *o;
  }
  pool.submit(shell(200, "echo id=last"));
  EXPECT_EQ(pool.pending(), size_t(jobs + 1 - 3));
  for (auto &[id, o] : drain(pool)) {
    EXPECT_FALSE(out.count(id)) << "outcome " << id << " twice";
    out[id] = o;
  }
  ASSERT_EQ(out.size(), size_t(jobs + 1));
  for (int i = 0; i < jobs; ++i) {
    const JobOutcome &o = out[100 + i];
    ASSERT_TRUE(o.result.succeeded()) << o.result.describe() << o.result.output;
    int runningNow = std::stoi(o.result.output);
    EXPECT_GE(runningNow, 1);
    EXPECT_LE(runningNow, workers) << "more jobs at once than workers";
    EXPECT_NE(o.result.output.find("id=" + std::to_string(i) + "\n"),
              std::string::npos);
  }
  EXPECT_EQ(out[200].result.output, "id=last\n");
  EXPECT_FALSE(pool.next().has_value());
}

TEST(ExecutorTest, WorkersRunJobsInParallel) {
  // Each of two jobs waits for the other's file: they can only both
  // succeed when they run at the same time.
  TempDir dir;
  LocalProcessPool pool(2);
  auto waiter = [&](const std::string &mine, const std::string &theirs) {
    return "touch " + dir.file(mine) + "; i=0; while [ ! -e " +
           dir.file(theirs) +
           " ]; do i=$((i+1)); [ $i -gt 2000 ] && exit 1; sleep 0.01; done";
  };
  pool.submit(shell(1, waiter("a", "b")));
  pool.submit(shell(2, waiter("b", "a")));
  std::map<int64_t, JobOutcome> out = drain(pool);
  EXPECT_TRUE(out[1].result.succeeded()) << out[1].result.describe();
  EXPECT_TRUE(out[2].result.succeeded()) << out[2].result.describe();
}

/// Where the open descriptors of this process point ("pipe:[123]", ...).
std::set<std::string> ownDescriptors() {
  std::set<std::string> targets;
  std::error_code ec;
  for (const auto &entry :
       std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    std::error_code linkError;
    std::filesystem::path target =
        std::filesystem::read_symlink(entry.path(), linkError);
    if (!linkError)
      targets.insert(target.string());
  }
  return targets;
}

TEST(ExecutorTest, JobsDoNotInheritEachOthersPipes) {
  // A job must hold no end of another job's output pipe: one that holds a
  // write end keeps that job's output open after it exits, so a quick job
  // beside a long one would wait for the long one and be reported as timed
  // out.  Each job lists its descriptors while a long job runs; the only
  // pipe it may see (beyond those of this process) is its own output.
  std::set<std::string> inherited = ownDescriptors();
  LocalProcessPool pool(4);
  pool.submit(shell(0, "sleep 2"));
  for (int i = 1; i <= 12; ++i)
    pool.submit(shell(i, "for f in /proc/$$/fd/*; do readlink $f; done; true"));
  std::map<int64_t, JobOutcome> out = drain(pool);
  ASSERT_EQ(out.size(), 13u);
  EXPECT_TRUE(out[0].result.succeeded()) << out[0].result.describe();
  for (int i = 1; i <= 12; ++i) {
    ASSERT_TRUE(out[i].result.succeeded()) << out[i].result.describe();
    std::istringstream lines(out[i].result.output);
    std::set<std::string> pipes;
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("pipe:", 0) == 0 && !inherited.count(line))
        pipes.insert(line);
    EXPECT_EQ(pipes.size(), 1u) << "job " << i << " holds these descriptors:\n"
                                << out[i].result.output;
  }
}

TEST(ExecutorTest, DestructionKillsRunningAndDropsQueuedJobs) {
  TempDir dir;
  std::vector<pid_t> pids;
  auto start = std::chrono::steady_clock::now();
  {
    LocalProcessPool pool(2);
    for (int i = 0; i < 4; ++i)
      pool.submit(shell(
          i,
          "sleep 100 & echo $! > " + dir.file("bg." + std::to_string(i)) +
              "; echo $$ > " + dir.file("pid." + std::to_string(i)) + "; wait",
          200));
    // The two running jobs (each a shell and its background sleep).
    for (int i : {0, 1}) {
      pid_t pid = waitForPid(dir.file("pid." + std::to_string(i)));
      pid_t bg = waitForPid(dir.file("bg." + std::to_string(i)));
      ASSERT_NE(pid, 0) << "job " << i << " did not start";
      ASSERT_NE(bg, 0);
      pids.push_back(pid);
      pids.push_back(bg);
    }
    EXPECT_EQ(pool.pending(), 4u);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_LT(seconds, 60) << "destruction waited for the jobs to end";
  for (pid_t pid : pids)
    EXPECT_TRUE(waitUntilGone(pid)) << "process " << pid << " survived";
  // The queued jobs never started.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(readFile(dir.file("pid.2")), "");
  EXPECT_EQ(readFile(dir.file("pid.3")), "");
}

TEST(ExecutorTest, DestructionFindsProcessesThatLeftTheJobsGroup) {
  // A process in a session of its own is out of reach of the job's process
  // group; the pool's environment marker finds it.  (It holds the job's
  // output open, so the pool cannot finish before it is gone.)
  TempDir dir;
  pid_t escaped = 0;
  auto start = std::chrono::steady_clock::now();
  {
    LocalProcessPool pool(1);
    pool.submit(shell(1,
                      "setsid sh -c 'echo $$ > " + dir.file("escaped") +
                          "; exec sleep 100' & wait",
                      200));
    escaped = waitForPid(dir.file("escaped"));
    ASSERT_NE(escaped, 0);
    EXPECT_NE(getpgid(escaped), -1);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_LT(seconds, 60) << "destruction waited for the escaped process";
  EXPECT_TRUE(waitUntilGone(escaped)) << "process " << escaped << " survived";
}

TEST(ExecutorTest, WorksThroughTheInterface) {
  std::unique_ptr<Executor> executor = std::make_unique<LocalProcessPool>(0);
  EXPECT_EQ(static_cast<LocalProcessPool &>(*executor).workers(), 1);
  executor->submit(shell(
      5, "echo $" + static_cast<LocalProcessPool &>(*executor).marker().substr(
                        0, 18)));
  std::optional<JobOutcome> o = executor->next();
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->id, 5);
  // The job sees the pool's marker.
  std::string marker = static_cast<LocalProcessPool &>(*executor).marker();
  EXPECT_EQ(o->result.output, marker.substr(marker.find('=') + 1) + "\n");
  EXPECT_FALSE(executor->next().has_value());
}

} // namespace
