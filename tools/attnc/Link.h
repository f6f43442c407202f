//===- Link.h - turning objects into the shipped library --------*- C++ -*-===//
//
// Private to attnc: the host tools (C compiler, linker) that package Halide
// objects into one shared library.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNC_LINK_H
#define ATTN_TOOLS_ATTNC_LINK_H

#include <string>
#include <vector>

namespace attn::driver {

/// Runs `argv` (argv[0] is looked up on PATH); returns "" or an error that
/// includes the command's output.
std::string runProgram(const std::vector<std::string> &argv);

/// Compiles the C object every library links: `attnc_source_hash()` and
/// the caching tile allocator of LibrarySupport.c.
std::string compileHashObject(const std::string &hash,
                              const std::string &dir, std::string &objPath);

/// Compiles tools/attnc/FftSupport.c (the FFTW Toeplitz product of the
/// fft_toeplitz form) into `dir`; the library must then link -lfftw3.
std::string compileFftSupportObject(const std::string &dir,
                                    std::string &objPath);

/// Links objects into a shared library, with extra `-l` libraries.
std::string linkShared(const std::vector<std::string> &objects,
                       const std::string &output,
                       const std::vector<std::string> &libraries = {});

/// Combines objects into one relocatable object (`ld -r`).
std::string linkRelocatable(const std::vector<std::string> &objects,
                            const std::string &output);

/// The C compiler to use: $CC or cc.
std::string cCompiler();

} // namespace attn::driver

#endif // ATTN_TOOLS_ATTNC_LINK_H
