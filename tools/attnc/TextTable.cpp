//===- TextTable.cpp - columns of text for attnc's listings ---------------===//

#include "tools/attnc/TextTable.h"

#include <algorithm>

std::vector<std::string>
attn::driver::formatTable(const std::vector<std::vector<std::string>> &rows,
                          const std::vector<bool> &right) {
  std::vector<size_t> width;
  for (const auto &row : rows)
    for (size_t c = 0; c < row.size(); ++c) {
      if (width.size() <= c)
        width.push_back(0);
      width[c] = std::max(width[c], row[c].size());
    }
  std::vector<std::string> lines;
  for (const auto &row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      bool last = c + 1 == row.size();
      std::string pad(width[c] - row[c].size(), ' ');
      if (c)
        line += "  ";
      if (c < right.size() && right[c])
        line += pad + row[c];
      else
        line += last ? row[c] : row[c] + pad;
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    lines.push_back(line);
  }
  return lines;
}
