#include "proof/field/prime_field.h"

#include <cstdlib>

namespace rustorium::proof::field_detail {

#if RUSTORIUM_FIELD_ADX
bool DetectAdx() {
  const char* portable = std::getenv("RUSTORIUM_FIELD_PORTABLE");
  if (portable != nullptr && *portable != '\0') return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx");
}
#endif

}  // namespace rustorium::proof::field_detail
