//===- SearchSupport.cpp - what `attnc search` and `evaluate` share -------===//

#include "tools/attnc/SearchSupport.h"

#include "runtime/ArchStats.h"
#include "runtime/Manifest.h"
#include "search/Subprocess.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <sys/file.h>
#include <unistd.h>

using namespace attn;
using namespace attn::driver;

std::string attn::driver::shellQuote(const std::string &text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

FileLock::FileLock(const std::string &path, bool exclusive) {
  fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    failure = "cannot open lock " + path + ": " + std::strerror(errno);
    return;
  }
  while (::flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
    if (errno == EINTR)
      continue;
    failure = "cannot lock " + path + ": " + std::strerror(errno);
    ::close(fd);
    fd = -1;
    return;
  }
}

FileLock::~FileLock() {
  if (fd >= 0)
    ::close(fd); // Releases the flock.
}

search::Candidate CandidatePlan::candidate() const {
  search::Candidate c;
  for (const PlannedKernel &k : kernels)
    c.kernels.push_back({k.modelKey(), k.form, k.flopsPerCall, k.calls});
  return c;
}

/// The canonical JSON of a schedule point (the tuning database's config).
static std::string canonicalSchedule(const std::map<std::string, int64_t> &k) {
  std::string text = "{";
  for (const auto &[name, value] : k)
    text += (text.size() > 1 ? "," : "") + ("\"" + name + "\":") +
            std::to_string(value);
  return text + "}";
}

std::string attn::driver::planFromManifest(const std::string &manifestText,
                                           const std::string &archName,
                                           CandidatePlan &plan) {
  rt::Result<rt::Manifest> manifest =
      rt::parseManifest(manifestText, "manifest");
  if (!manifest)
    return manifest.message();
  if (manifest->archs.empty())
    return "the source defines no architecture";
  const rt::ArchSpec *arch = archName.empty() ? &manifest->archs.front()
                                              : manifest->findArch(archName);
  if (!arch)
    return "no architecture named '" + archName + "'";
  rt::Result<rt::ArchStats> stats = rt::archStats(*manifest, *arch);
  if (!stats)
    return stats.message();
  plan = CandidatePlan();
  plan.arch = arch->name;
  plan.calls = int64_t(arch->calls.size());
  plan.params = stats->params;
  plan.flops = stats->flops;
  plan.memoryBytes = stats->memoryBytes;
  std::map<std::string, size_t> index;
  for (size_t c = 0; c < arch->calls.size(); ++c) {
    const std::string &kernel = arch->calls[c].kernel;
    auto [it, inserted] = index.try_emplace(kernel, plan.kernels.size());
    if (inserted) {
      // archStats has checked that every call names a kernel.
      const rt::KernelSpec *spec = manifest->findKernel(kernel);
      PlannedKernel k;
      k.name = kernel;
      k.tuningKey = spec->tuningKey;
      k.schedule = canonicalSchedule(spec->scheduleKnobs);
      k.form = spec->form;
      if (k.tuningKey.empty())
        return "manifest: kernel '" + kernel + "' has no tuning_key";
      k.flopsPerCall = stats->callFlops[c];
      plan.kernels.push_back(k);
    }
    plan.kernels[it->second].calls += 1;
  }
  return "";
}

std::string
attn::driver::planCandidate(const std::string &attnc,
                            const std::vector<std::string> &compileArgs,
                            const std::string &arch, double timeoutSeconds,
                            CandidatePlan &plan, bool *timedOut) {
  llvm::SmallString<128> tmp;
  if (auto ec = llvm::sys::fs::createTemporaryFile("attnc-plan", "json", tmp))
    return "cannot create a temporary file: " + ec.message();
  std::string path = tmp.str().str();
  std::vector<std::string> argv{attnc, "compile"};
  argv.insert(argv.end(), compileArgs.begin(), compileArgs.end());
  argv.insert(argv.end(), {"-emit=manifest", "-o", path});
  ProcessResult run = runWithTimeout(argv, timeoutSeconds);
  if (timedOut)
    *timedOut = run.timedOut;
  auto text = llvm::MemoryBuffer::getFile(path);
  llvm::sys::fs::remove(path);
  if (!run.succeeded())
    return run.exitCode == 1 && run.signal == 0 && !run.timedOut
               ? lastLines(run.output, 6)
               : "attnc -emit=manifest: " + run.describe() + ": " +
                     lastLines(run.output, 6);
  if (!text)
    return "cannot read the manifest: " + text.getError().message();
  return planFromManifest((*text)->getBuffer().str(), arch, plan);
}

std::string attn::driver::lastLines(const std::string &text, int maxLines) {
  std::vector<std::string> lines;
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(text).split(parts, '\n');
  for (llvm::StringRef p : parts)
    if (!p.trim().empty())
      lines.push_back(p.rtrim().str());
  std::string out;
  size_t first = lines.size() > size_t(maxLines) ? lines.size() - maxLines : 0;
  for (size_t i = first; i < lines.size(); ++i)
    out += (out.empty() ? "" : "\n") + lines[i];
  return out;
}
