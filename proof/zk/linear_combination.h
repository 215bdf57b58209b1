// LinearCombination: Σ c_i·x_i over the variables of a ConstraintSystem, the operand of every
// R1CS constraint. Variable 0 is the constant 1, so a constant is a combination of variable 0
// alone. Terms are kept sorted by variable with no zero coefficients, so combinations merge
// in linear time and stay as short as the circuit needs (Poseidon's linear layers would
// otherwise grow them without bound).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "proof/field/fr.h"

namespace rustorium::proof::zk {

using Variable = uint32_t;
inline constexpr Variable kOneVariable = 0;

struct Term {
  Variable variable;
  Fr coefficient;
};

class LinearCombination {
 public:
  LinearCombination() = default;  // zero
  // The single variable v with coefficient 1.
  static LinearCombination Of(Variable v) { return Of(v, Fr::One()); }
  static LinearCombination Of(Variable v, const Fr& c) {
    LinearCombination lc;
    if (!c.IsZero()) lc.terms_.push_back({v, c});
    return lc;
  }
  static LinearCombination Constant(const Fr& c) { return Of(kOneVariable, c); }

  const std::vector<Term>& terms() const { return terms_; }
  // No term other than the constant one.
  bool IsConstant() const {
    return terms_.empty() || (terms_.size() == 1 && terms_[0].variable == kOneVariable);
  }
  // The constant term (zero when absent).
  Fr ConstantTerm() const {
    return !terms_.empty() && terms_[0].variable == kOneVariable ? terms_[0].coefficient
                                                                 : Fr::Zero();
  }

  LinearCombination operator+(const LinearCombination& o) const { return Combine(o, Fr::One()); }
  LinearCombination operator-(const LinearCombination& o) const { return Combine(o, -Fr::One()); }
  LinearCombination operator*(const Fr& c) const {
    if (c.IsZero()) return {};
    LinearCombination out = *this;
    for (Term& t : out.terms_) t.coefficient *= c;
    return out;
  }
  LinearCombination operator-() const { return *this * -Fr::One(); }
  LinearCombination& operator+=(const LinearCombination& o) { return *this = *this + o; }
  LinearCombination& operator-=(const LinearCombination& o) { return *this = *this - o; }
  LinearCombination operator+(const Fr& c) const { return *this + Constant(c); }
  LinearCombination operator-(const Fr& c) const { return *this - Constant(c); }

  // this + scale·o, merging the sorted term lists.
  LinearCombination Combine(const LinearCombination& o, const Fr& scale) const {
    LinearCombination out;
    out.terms_.reserve(terms_.size() + o.terms_.size());
    std::size_t i = 0, j = 0;
    while (i < terms_.size() || j < o.terms_.size()) {
      if (j == o.terms_.size() ||
          (i < terms_.size() && terms_[i].variable < o.terms_[j].variable)) {
        out.terms_.push_back(terms_[i++]);
      } else if (i == terms_.size() || o.terms_[j].variable < terms_[i].variable) {
        out.Push(o.terms_[j].variable, o.terms_[j].coefficient * scale);
        ++j;
      } else {
        out.Push(terms_[i].variable, terms_[i].coefficient + o.terms_[j].coefficient * scale);
        ++i;
        ++j;
      }
    }
    return out;
  }

 private:
  void Push(Variable v, const Fr& c) {
    if (!c.IsZero()) terms_.push_back({v, c});
  }

  std::vector<Term> terms_;  // sorted by variable, coefficients nonzero
};

}  // namespace rustorium::proof::zk
