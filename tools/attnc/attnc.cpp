//===- attnc.cpp - the attnc compiler driver ------------------------------===//
//
// `attnc [compile] FILE [-emit=ast|mlir|kernels|halide-cpp|obj|so] [-o OUT]
//        [--target T] [--dim N=V]... [--config C] [-v] [-verify-diagnostics]`
//
// Stages: parse (.attn) or read (.mlir) -> attn dialect -> apply config,
// decompose, form kernels -> kernel descriptions -> Halide -> one object ->
// one shared library + manifest.  Every stage can be printed.
//
//===----------------------------------------------------------------------===//

#include "dialect/InitAttn.h"
#include "dialect/Passes.h"
#include "frontend/Frontend.h"
#include "lowering/KernelDescBuilder.h"
#include "lowering/Manifest.h"
#include "lowering/halide/HalideBackend.h"
#include "tools/attnc/Link.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {

enum class Emit { Ast, Mlir, Kernels, HalideCpp, Obj, So };

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input .attn|.mlir>"),
                               cl::Required);
cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                cl::value_desc("path"), cl::init(""));
cl::opt<Emit> emit(
    "emit", cl::desc("What to produce"), cl::init(Emit::So),
    cl::values(clEnumValN(Emit::Ast, "ast", "the parsed AST"),
               clEnumValN(Emit::Mlir, "mlir", "the attn dialect, as parsed"),
               clEnumValN(Emit::Kernels, "kernels",
                          "the attn dialect after decomposition and kernel "
                          "formation"),
               clEnumValN(Emit::HalideCpp, "halide-cpp",
                          "each kernel's Halide algorithm and schedule"),
               clEnumValN(Emit::Obj, "obj", "one object file"),
               clEnumValN(Emit::So, "so",
                          "a shared library and its manifest (default)")));
cl::opt<std::string> target("target",
                            cl::desc("host (default), x86-64-avx2, "
                                     "x86-64-avx512, arm-64-linux, or a "
                                     "Halide target string"),
                            cl::init("host"));
cl::list<std::string> dims("dim", cl::desc("Set a dim: --dim N=4096"),
                           cl::value_desc("NAME=VALUE"));
cl::opt<std::string> config("config",
                            cl::desc("Pin choices: name=value,..."),
                            cl::init(""));
cl::opt<bool> verbose("v", cl::desc("Say what each stage does"),
                      cl::init(false));
cl::opt<bool> verifyDiagnostics(
    "verify-diagnostics",
    cl::desc("Check diagnostics against expected-* comments in the input"),
    cl::init(false));

/// Prints a progress line with -v.
void say(const llvm::Twine &msg) {
  if (verbose)
    llvm::errs() << "attnc: " << msg << "\n";
}

/// Writes `text` to -o (or stdout).
bool writeOutput(llvm::StringRef text, llvm::StringRef path) {
  std::string err;
  auto out = openOutputFile(path.empty() ? "-" : path, &err);
  if (!out) {
    llvm::errs() << "attnc: error: " << err << "\n";
    return false;
  }
  out->os() << text;
  out->keep();
  return true;
}

/// Parses --dim flags.
bool parseDims(::attn::frontend::FrontendOptions &options) {
  for (const std::string &d : dims) {
    auto [name, value] = llvm::StringRef(d).split('=');
    int64_t v;
    if (name.empty() || value.getAsInteger(10, v)) {
      llvm::errs() << "attnc: error: malformed --dim '" << d
                   << "': expected NAME=INTEGER\n";
      return false;
    }
    options.dimOverrides[name.str()] = v;
  }
  return true;
}

/// Runs the configuration, decomposition and kernel formation passes.
LogicalResult lowerToKernels(ModuleOp module) {
  PassManager pm(module.getContext());
  if (!config.empty()) {
    mlir::attn::AttnApplyConfigPassOptions opts;
    opts.config = config;
    pm.addPass(mlir::attn::createAttnApplyConfigPass(opts));
  }
  pm.addPass(mlir::attn::createAttnDecomposePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(mlir::attn::createAttnFormKernelsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createSymbolDCEPass());
  return pm.run(module);
}

/// Location of the function that defines kernel `name`, for diagnostics.
Location kernelLoc(ModuleOp module, llvm::StringRef name) {
  if (auto fn = module.lookupSymbol(name))
    return fn->getLoc();
  return module.getLoc();
}

int compileModule(ModuleOp module, llvm::StringRef sourceText) {
  if (emit == Emit::Mlir) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os);
    return writeOutput(os.str(), outputFile) ? 0 : 1;
  }
  say("decomposing variants and forming kernels");
  if (failed(lowerToKernels(module)))
    return 1;
  if (emit == Emit::Kernels) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os);
    return writeOutput(os.str(), outputFile) ? 0 : 1;
  }

  auto descs = ::attn::buildKernelDescs(module);
  if (failed(descs))
    return 1;
  if (descs->empty()) {
    emitError(module.getLoc()) << "nothing to compile: the source defines no "
                               << "kernel";
    return 1;
  }
  ::attn::halide::TargetInfo targetInfo;
  if (std::string err = ::attn::halide::resolveTarget(target, targetInfo);
      !err.empty()) {
    llvm::errs() << "attnc: error: " << err << "\n";
    return 1;
  }
  say("target " + targetInfo.halideTarget);

  std::vector<std::map<std::string, int64_t>> knobs(descs->size());
  for (size_t n = 0; n < descs->size(); ++n) {
    const auto &d = (*descs)[n];
    if (std::string err =
            ::attn::halide::resolveSchedule(d, targetInfo, knobs[n]);
        !err.empty()) {
      emitError(kernelLoc(module, d.name)) << err;
      return 1;
    }
    std::string line = "kernel " + d.name + ": schedule from the default "
                       "heuristic:";
    for (auto &[k, v] : knobs[n])
      line += " " + k + "=" + std::to_string(v);
    say(line);
  }

  if (emit == Emit::HalideCpp) {
    std::string all;
    for (const auto &d : *descs) {
      std::string text;
      if (std::string err = ::attn::halide::printHalide(d, targetInfo, text);
          !err.empty()) {
        emitError(kernelLoc(module, d.name)) << err;
        return 1;
      }
      all += text + "\n";
    }
    return writeOutput(all, outputFile) ? 0 : 1;
  }

  // Objects and libraries need a path.
  std::string out = outputFile;
  if (out.empty()) {
    llvm::SmallString<128> p(llvm::sys::path::stem(inputFile));
    p += emit == Emit::Obj ? ".o" : ".so";
    out = p.str().str();
  }
  llvm::SmallString<128> tmpDir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("attnc", tmpDir)) {
    llvm::errs() << "attnc: error: cannot create a temporary directory: "
                 << ec.message() << "\n";
    return 1;
  }
  auto cleanup = llvm::make_scope_exit(
      [&] { llvm::sys::fs::remove_directories(tmpDir); });

  std::string kernelsObj =
      emit == Emit::Obj ? out : (tmpDir + "/kernels.o").str();
  say("compiling " + std::to_string(descs->size()) + " kernel(s) with Halide");
  if (std::string err =
          ::attn::halide::compileObject(*descs, targetInfo, kernelsObj);
      !err.empty()) {
    emitError(kernelLoc(module, (*descs)[0].name)) << err;
    return 1;
  }
  if (emit == Emit::Obj)
    return 0;
  if (!targetInfo.isNative) {
    llvm::SmallString<128> objOut(out);
    llvm::sys::path::replace_extension(objOut, ".o");
    llvm::sys::fs::copy_file(kernelsObj, objOut);
    llvm::errs() << "attnc: note: target " << targetInfo.halideTarget
                 << " is not this machine's; wrote the object " << objOut
                 << " and skipped the link step (no cross linker is used)\n";
    return 0;
  }

  ::attn::ManifestInfo info;
  info.compiler = std::string("attnc ") + ATTNC_VERSION;
  info.source = inputFile;
  info.sourceHash = ::attn::sourceHash(sourceText.str());
  info.target = targetInfo.halideTarget;
  info.library = llvm::sys::path::filename(out).str();
  info.knobs = knobs;
  info.scheduleSource.assign(descs->size(), "heuristic");

  std::string hashObj;
  if (std::string err =
          ::attn::driver::compileHashObject(info.sourceHash, tmpDir.str().str(),
                                          hashObj);
      !err.empty()) {
    llvm::errs() << "attnc: error: " << err << "\n";
    return 1;
  }
  say("linking " + out);
  if (std::string err = ::attn::driver::linkShared({kernelsObj, hashObj}, out);
      !err.empty()) {
    llvm::errs() << "attnc: error: " << err << "\n";
    return 1;
  }
  llvm::SmallString<128> manifestPath(out);
  llvm::sys::path::replace_extension(manifestPath, ".manifest.json");
  say("writing " + manifestPath);
  return writeOutput(::attn::renderManifest(*descs, info), manifestPath) ? 0
                                                                       : 1;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // `attnc compile FILE ...` is the same as `attnc FILE ...`.
  std::vector<char *> args(argv, argv + argc);
  if (args.size() > 1 && llvm::StringRef(args[1]) == "compile")
    args.erase(args.begin() + 1);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::ParseCommandLineOptions(int(args.size()), args.data(),
                              "attnc: attention architectures to fused "
                              "kernels\n");

  DialectRegistry registry;
  mlir::attn::registerAttnDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // Diagnostics name the op's source location; printing the op as well
  // would only repeat what the user wrote (and confuse the verifier).
  context.printOpOnDiagnostic(false);

  auto file = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (!file) {
    llvm::errs() << "attnc: error: cannot read '" << inputFile
                 << "': " << file.getError().message() << "\n";
    return 1;
  }
  std::string sourceText = (*file)->getBuffer().str();
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());

  std::unique_ptr<SourceMgrDiagnosticHandler> handler;
  std::unique_ptr<SourceMgrDiagnosticVerifierHandler> verifier;
  if (verifyDiagnostics)
    verifier = std::make_unique<SourceMgrDiagnosticVerifierHandler>(
        sourceMgr, &context);
  else
    handler =
        std::make_unique<SourceMgrDiagnosticHandler>(sourceMgr, &context);

  int rc = 0;
  bool isMlir = llvm::StringRef(inputFile).ends_with(".mlir");
  if (isMlir) {
    if (emit == Emit::Ast) {
      llvm::errs() << "attnc: error: -emit=ast needs an .attn input\n";
      return 1;
    }
    OwningOpRef<ModuleOp> module =
        parseSourceFile<ModuleOp>(sourceMgr, &context);
    rc = module ? compileModule(*module, sourceText) : 1;
  } else {
    ::attn::frontend::FrontendOptions options;
    if (!parseDims(options))
      return 1;
    auto ast = ::attn::frontend::parseSource(sourceMgr, context);
    if (!ast) {
      rc = 1;
    } else if (emit == Emit::Ast) {
      std::string text;
      llvm::raw_string_ostream os(text);
      ::attn::frontend::dumpAST(*ast, os);
      rc = writeOutput(os.str(), outputFile) ? 0 : 1;
    } else {
      OwningOpRef<ModuleOp> module =
          ::attn::frontend::generateMLIR(*ast, context, options);
      if (!module || failed(verify(*module)))
        rc = 1;
      else
        rc = compileModule(*module, sourceText);
    }
  }
  if (verifier)
    return failed(verifier->verify()) ? 1 : 0;
  return rc;
}
