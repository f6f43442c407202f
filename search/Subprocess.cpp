//===- Subprocess.cpp - run a command with a time limit -------------------===//

#include "search/Subprocess.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

using namespace attn::driver;

std::string ProcessResult::describe() const {
  if (!startError.empty())
    return "could not start: " + startError;
  if (timedOut)
    return "timed out";
  if (signal)
    return "killed by signal " + std::to_string(signal) + " (" +
           strsignal(signal) + ")";
  return "exit " + std::to_string(exitCode);
}

ProcessResult attn::driver::runWithTimeout(const std::vector<std::string> &argv,
                                           double timeoutSeconds,
                                           const std::vector<std::string> &env) {
  ProcessResult result;
  int fds[2];
  // Close-on-exec: a job started while this one runs (the executor runs
  // several) must not inherit this job's pipe, or its output stays open
  // until that other job exits.  dup2 onto 1 and 2 clears the flag.
  if (pipe2(fds, O_CLOEXEC) != 0) {
    result.startError = std::strerror(errno);
    return result;
  }
  std::vector<std::string> envStrings;
  for (char **e = environ; *e; ++e)
    envStrings.push_back(*e);
  envStrings.insert(envStrings.end(), env.begin(), env.end());
  std::vector<char *> cargv, cenv;
  for (const std::string &a : argv)
    cargv.push_back(const_cast<char *>(a.c_str()));
  cargv.push_back(nullptr);
  for (const std::string &e : envStrings)
    cenv.push_back(const_cast<char *>(e.c_str()));
  cenv.push_back(nullptr);
  // Built before fork: the child of a multi-threaded process must not
  // allocate.
  std::string execFailed = std::string("exec ") + cargv[0] + ": ";

  pid_t pid = fork();
  if (pid < 0) {
    result.startError = std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return result;
  }
  if (pid == 0) {
    setpgid(0, 0); // own process group, so a timeout kills its children too
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
      dup2(devnull, 0);
      if (devnull != 0)
        close(devnull);
    }
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execve(cargv[0], cargv.data(), cenv.data());
    const char *why = std::strerror(errno);
    if (write(2, execFailed.data(), execFailed.size()) < 0 ||
        write(2, why, std::strlen(why)) < 0 || write(2, "\n", 1) < 0) {
    }
    _exit(127);
  }
  setpgid(pid, pid);
  close(fds[1]);

  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration<double>(timeoutSeconds);
  char buf[4096];
  bool open = true;
  while (open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      result.timedOut = true;
      kill(-pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = poll(&p, 1, int(std::min<long long>(left, 1000)));
    if (r < 0 && errno == EINTR)
      continue;
    if (r > 0) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n > 0)
        result.output.append(buf, size_t(n));
      else
        open = false;
    }
  }
  close(fds[0]);
  int status = 0;
  if (result.timedOut) {
    waitpid(pid, &status, 0);
    return result;
  }
  // The output closed; wait for the exit, still within the limit.
  while (true) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid)
      break;
    if (std::chrono::steady_clock::now() > deadline) {
      result.timedOut = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return result;
    }
    usleep(2000);
  }
  if (WIFEXITED(status))
    result.exitCode = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.signal = WTERMSIG(status);
  return result;
}
