//===- SpaceCommand.cpp - `attnc space FILE` ------------------------------===//
// (being written)
#include "tools/attnc/SpaceCommand.h"
#include <iostream>
int attn::driver::runSpaceCommand(const std::vector<std::string> &) {
  std::cerr << "attnc space: error: not built yet\n";
  return 1;
}
