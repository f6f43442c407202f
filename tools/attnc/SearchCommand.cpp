//===- SearchCommand.cpp - `attnc search` ---------------------------------===//
// (being written)
#include "tools/attnc/SearchCommand.h"
#include <iostream>
int attn::driver::runSearchCommand(const std::vector<std::string> &,
                                   const char *) {
  std::cerr << "attnc search: error: not built yet\n";
  return 1;
}
int attn::driver::runEvaluateCommand(const std::vector<std::string> &,
                                     const char *) {
  std::cerr << "attnc evaluate: error: not built yet\n";
  return 1;
}
