// The twelve Fq coefficients of an Fq12 element as decimal strings, for comparing with
// ffjavascript (the pairing test's known value and the interop test).
#pragma once

#include <string>
#include <vector>

#include "proof/curve/fq_tower.h"

namespace rustorium::proof::testing {

// In tower order (c0.c0.c0, c0.c0.c1, c0.c1.c0, ..., c1.c2.c1), the order of ffjavascript's
// F12.toObject.
inline std::vector<std::string> Fq12Decimals(const Fq12& x) {
  std::vector<std::string> out;
  for (const Fq6* six : {&x.c0, &x.c1}) {
    for (const Fq2* two : {&six->c0, &six->c1, &six->c2}) {
      out.push_back(two->c0.ToDecimal());
      out.push_back(two->c1.ToDecimal());
    }
  }
  return out;
}

}  // namespace rustorium::proof::testing
